#pragma once
// Layer rule (ui/session/): the document, no widgets or views. May include: common, engine, qt.
// The one document of the window (Tiled's Document pattern): owns the current model, text,
// trace and focus; runs the engine off the GUI thread; caches what several views derive from a
// trace (head detail, head summaries, rollout) once per trace; and says once per user action
// what changed (changed(SessionChange), like Tiled's ChangeEvent). Views read it and never
// compute attention themselves.

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QTimer>
#include <atomic>
#include <memory>
#include <optional>
#include <tuple>

#include "attn/analysis.h"
#include "attn/generate.h"
#include "attn/model.h"
#include "attn/trace.h"
#include "common/colormaps.h"
#include "common/token_labels.h"

namespace attn::ui {

/// What changed in the session: one event per user action, parts OR-ed together. A run that
/// brings a new trace and clamps the focus says Trace | Focus in one event; a model that is
/// replaced and run at once says Model | Trace (| Focus).
struct SessionChange {
    enum Part {
        Trace = 1,       ///< a new trace, or none: every number may differ
        Focus = 2,       ///< step, layer, head, stack, query or key in focus
        Appearance = 4,  ///< colour map, font scale, numbers in cells
        Model = 8,       ///< another model or config
        Derived = 16,    ///< derived data computed in the background is ready (rollout)
        Generation = 32  ///< a generation started, finished or was dropped with its trace
    };
    static constexpr int All = Trace | Focus | Appearance | Model | Derived | Generation;
    int parts = 0;
    bool has(int part) const { return (parts & part) != 0; }
};

class Session : public QObject {
    Q_OBJECT
public:
    /// What the user looks at. layer/head index the stack given by decoder/cross.
    struct Focus {
        int step = 0;  ///< index into trace()->steps
        int layer = 0;
        int head = 0;
        bool decoder = false;  ///< the decoder stack of an encoder–decoder model
        bool cross = false;    ///< cross-attention block of that decoder layer
        int query = 0;         ///< query token (row)
        int key = 0;           ///< key token (column)
    };

    explicit Session(QObject* parent = nullptr);
    ~Session() override;

    // --- input -------------------------------------------------------------------------
    /// Sets the text (the source in encoder–decoder mode). Re-runs after a short debounce.
    void setText(const QString& text);
    QString text() const { return m_text; }
    /// Target sentence for encoder–decoder mode (empty = encoder or decoder only).
    void setTargetText(const QString& text);
    QString targetText() const { return m_targetText; }
    /// Replaces the untrained model's shape and builds a fresh untrained model from it; the run
    /// options stay as they are. Re-runs at once.
    void setConfig(const attn::ModelConfig& config);
    /// Uses a given model (trained, loaded from disk, shared and never copied); the attention
    /// knobs start from its trained_attention. Re-runs at once.
    void setModel(std::shared_ptr<const attn::Model> model);
    std::shared_ptr<const attn::Model> model() const { return m_model; }
    const attn::ModelConfig& config() const;

    // --- run options (never touch the model) ---------------------------------------------
    /// Score function, scaling, mask, temperature and projection of the next runs; re-runs at
    /// once with the same model object (a choice its weights cannot run shows the engine's
    /// message as the error).
    void setAttention(const attn::AttentionKnobs& knobs);
    const attn::AttentionKnobs& attention() const { return *m_runOptions.attention; }
    /// Heads switched off (output zeroed), as (block, head), block as attn::headBlockIndex.
    void setDisabledHeads(std::vector<std::pair<int, int>> heads);
    const std::vector<std::pair<int, int>>& disabledHeads() const {
        return m_runOptions.disabled_heads;
    }
    /// Takes attention (when set; else the model's trained_attention), disabled_heads,
    /// detail_limit_bytes and compute_logits from options; re-runs at once. Focus, cancel and
    /// progress are the session's own.
    void setRunOptions(const attn::RunOptions& options);
    /// The options the next run uses (attention always set; no cancel flag or progress).
    attn::RunOptions runOptions() const;

    /// Runs now on the GUI thread (short inputs) or in the background (long ones).
    void runNow();
    /// Blocks until no run is pending (tests, command line).
    void waitForIdle();
    void cancel();
    bool busy() const;
    /// Inputs with fewer tokens than this run on the GUI thread (snappy typing); longer ones
    /// run in the background. Tests set 0 to force the background path.
    void setSyncTokenLimit(int tokens) { m_syncLimit = tokens; }
    int syncTokenLimit() const { return m_syncLimit; }
    /// Debounce between the last keystroke and the run, in milliseconds (default 150).
    void setDebounceMs(int ms) { m_debounce.setInterval(ms); }
    /// True when the model reads a source and a target (encoder–decoder).
    bool isSeq2Seq() const;
    /// Wall time of the last finished run, in milliseconds.
    double lastRunMs() const { return m_lastRunMs; }

    // --- output ------------------------------------------------------------------------
    attn::TracePtr trace() const { return m_trace; }
    QString lastError() const { return m_error; }

    // --- focus -------------------------------------------------------------------------
    const Focus& focus() const { return m_focus; }
    void setStep(int step);
    void nextStep();
    void previousStep();
    void setHead(int layer, int head, bool decoder = false, bool cross = false);
    void setQuery(int query);
    void setKey(int key);
    const attn::Step* currentStep() const;
    /// The focused head with every intermediate (recomputed if the trace dropped it; cached).
    const attn::HeadTrace* focusedHead() const;
    /// Any head with every intermediate: the trace's own when it kept them, else recomputed
    /// once per trace (Trace::headDetail) and cached. Shared so that a tooltip may keep it;
    /// nullptr when the trace has no such head.
    std::shared_ptr<const attn::HeadTrace> headDetail(int layer, int head, bool decoder,
                                                      bool cross) const;
    /// A head whose weights are there: the trace's own head when it kept them, else the head
    /// recomputed as headDetail does (a trace over its memory budget keeps the weights of the
    /// layers that fit only). nullptr when the trace has no such head.
    std::shared_ptr<const attn::HeadTrace> headWeights(int layer, int head, bool decoder,
                                                       bool cross) const;
    /// attn::summarizeHeads of a stack's self-attention, computed once per trace.
    const std::vector<attn::HeadSummary>& headSummaries(bool decoder = false) const;
    /// attn::attentionRollout of a stack, computed on first request: at once for inputs of at
    /// most rolloutSyncTokens() tokens, in the background for longer ones (T³ per layer). Returns
    /// nullptr while it is being computed (changed(Derived) says when it is ready) and when the
    /// session has no trace.
    std::shared_ptr<const std::vector<attn::Mat>> rollout(bool decoder = false);
    /// Whether a background rollout of that stack is running.
    bool computingRollout(bool decoder = false) const;
    static constexpr int rolloutSyncTokens() { return 160; }
    /// Token labels on the query side / key side of the focused block.
    QStringList queryLabels() const;
    QStringList keyLabels() const;
    /// Token texts of the source (target = false) or the target side.
    QStringList tokenLabels(bool target) const;
    /// The sentence as chips: one per token, one for the tokens that make one character.
    std::vector<TokenChip> tokenChips(bool target) const;
    /// The attention block in focus (self or cross of focus().layer), or nullptr.
    const attn::AttentionTrace* focusedBlock() const;
    /// The block of any layer/stack, or nullptr when the trace has no such block.
    const attn::AttentionTrace* block(int layer, bool decoder, bool cross) const;
    /// Number of layers of a stack in the current trace.
    int layerCount(bool decoder) const;

    // --- generation ----------------------------------------------------------------------
    /// Generates up to tokens tokens after the current trace's tokens (a decoder with an LM
    /// head), with a key/value cache, in the background; the run options (attention knobs,
    /// heads switched off) are the session's. generationProgress while it runs, then
    /// changed(Generation). A new trace drops the generation (its prompt is gone).
    void generate(int tokens, const attn::SamplingOptions& sampling);
    /// Stops after the current token; the tokens so far are kept.
    void cancelGeneration();
    bool generating() const { return m_genWatcher != nullptr; }
    /// The last finished generation of the current trace, or nullptr.
    std::shared_ptr<const attn::Generation> generation() const { return m_gen; }
    /// Why the last generation could not run (empty when it did).
    QString generationError() const { return m_genError; }
    /// Blocks until no generation runs (tests).
    void waitForGeneration();

    // --- appearance (shared by every view) ----------------------------------------------
    /// The sequential map for weights and other non-negative values; signed values always use
    /// the diverging map.
    void setColorMap(ColorMapKind kind);
    ColorMapKind colorMap() const { return m_colorMap; }
    /// Presentation mode scales fonts (1 = normal).
    void setFontScale(double scale);
    double fontScale() const { return m_fontScale; }
    void setShowNumbers(bool on);
    bool showNumbers() const { return m_showNumbers; }

signals:
    /// Once per user action, with everything that action changed.
    void changed(const attn::ui::SessionChange& change);
    void busyChanged(bool busy);
    void progress(double fraction);
    void errorOccurred(const QString& message);  ///< empty when the last run succeeded
    /// While generating: tokens done of tokens asked.
    void generationProgress(int done, int total);

private:
    void scheduleRun();
    void startRun();
    void finishRun(attn::Result<attn::TracePtr> result);
    bool clampFocus();  // true when it moved the focus
    void resetDerived();
    // Emits one change with parts and whatever is pending (Model from setConfig before its run).
    void emitChange(int parts);
    void setError(const QString& message);
    void updateBusy();

    QString m_text;
    QString m_targetText;
    std::shared_ptr<const attn::Model> m_model;
    attn::RunOptions m_runOptions;  // attention always set; focus/cancel/progress set per run
    attn::TracePtr m_trace;
    QString m_error;
    Focus m_focus;
    QTimer m_debounce;
    QFutureWatcher<attn::Result<attn::TracePtr>>* m_watcher = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    bool m_rerunPending = false;
    // Derived data of m_trace, dropped with it.
    using HeadKey = std::tuple<int, int, bool, bool>;  // layer, head, decoder, cross
    // Recomputed heads, oldest first; a few only, as each holds three (T, T) matrices.
    mutable std::vector<std::pair<HeadKey, std::shared_ptr<const attn::HeadTrace>>> m_detail;
    mutable std::optional<std::vector<attn::HeadSummary>> m_summaries[2];  // [decoder]
    std::shared_ptr<const std::vector<attn::Mat>> m_rollout[2];            // [decoder]
    QFutureWatcher<std::vector<attn::Mat>>* m_rolloutWatcher[2] = {nullptr, nullptr};
    QList<QFutureWatcher<std::vector<attn::Mat>>*> m_rolloutInflight;  // incl. stale ones
    int m_pendingParts = 0;
    attn::ModelConfig m_config;
    QString m_configError;     // why the current config cannot be built (empty = fine)
    quint64 m_generation = 0;  // runs older than this are stale; their results are dropped
    QList<QFutureWatcher<attn::Result<attn::TracePtr>>*> m_inflight;  // incl. stale ones
    int m_syncLimit = 64;
    bool m_lastBusy = false;
    QElapsedTimer m_runClock;
    double m_lastRunMs = 0;
    ColorMapKind m_colorMap = ColorMapKind::Viridis;
    double m_fontScale = 1.0;
    bool m_showNumbers = true;
    // Generation of the current trace.
    void dropGeneration();
    std::shared_ptr<const attn::Generation> m_gen;
    QString m_genError;
    QFutureWatcher<attn::Result<attn::Generation>>* m_genWatcher = nullptr;
    std::shared_ptr<std::atomic<bool>> m_genCancel;
};

}  // namespace attn::ui

Q_DECLARE_METATYPE(attn::ui::SessionChange)
