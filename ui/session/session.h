#pragma once
// Layer rule (ui/session/): the document, no widgets or views. May include: common, engine, qt.
// The one document of the window (Tiled's Document pattern): owns the current model, text,
// trace and focus; runs the engine off the GUI thread; emits traceChanged / focusChanged.
// Widgets read it and never compute attention themselves.

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <atomic>
#include <memory>

#include "attn/model.h"
#include "attn/trace.h"
#include "common/colormaps.h"

namespace attn::ui {

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
    /// Token labels on the query side / key side of the focused block.
    QStringList queryLabels() const;
    QStringList keyLabels() const;
    /// Token texts of the source (target = false) or the target side.
    QStringList tokenLabels(bool target) const;
    /// The attention block in focus (self or cross of focus().layer), or nullptr.
    const attn::AttentionTrace* focusedBlock() const;
    /// The block of any layer/stack, or nullptr when the trace has no such block.
    const attn::AttentionTrace* block(int layer, bool decoder, bool cross) const;
    /// Number of layers of a stack in the current trace.
    int layerCount(bool decoder) const;

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
    void appearanceChanged();
    void traceChanged();
    void focusChanged();
    void busyChanged(bool busy);
    void progress(double fraction);
    void errorOccurred(const QString& message);  ///< empty when the last run succeeded
    void modelChanged();

private:
    void scheduleRun();
    void startRun();
    void finishRun(attn::Result<attn::TracePtr> result);
    void clampFocus();
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
    mutable std::unique_ptr<attn::HeadTrace> m_focusCache;
    mutable int m_focusCacheKey[4] = {-1, -1, -1, -1};
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
};

}  // namespace attn::ui
