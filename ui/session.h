#pragma once
// The one document of the window (Tiled's Document pattern): owns the current model, text,
// trace and focus; runs the engine off the GUI thread; emits traceChanged / focusChanged.
// Widgets read it and never compute attention themselves.

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QTimer>
#include <atomic>
#include <memory>

#include "attn/model.h"
#include "attn/trace.h"

namespace attn::ui {

class Session : public QObject {
    Q_OBJECT
public:
    /// What the user looks at. layer/head index the stack given by decoder/cross.
    struct Focus {
        int step = 0;        ///< index into trace()->steps
        int layer = 0;
        int head = 0;
        bool decoder = false;  ///< the decoder stack of an encoder–decoder model
        bool cross = false;    ///< cross-attention block of that decoder layer
        int query = 0;       ///< query token (row)
        int key = 0;         ///< key token (column)
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
    /// Replaces the model config and builds a fresh untrained model from it; re-runs at once.
    void setConfig(const attn::ModelConfig& config);
    /// Uses a given model (trained, loaded from disk); re-runs at once.
    void setModel(std::shared_ptr<const attn::Model> model);
    std::shared_ptr<const attn::Model> model() const { return m_model; }
    const attn::ModelConfig& config() const;
    /// Heads switched off (output zeroed), as (layer, head).
    void setDisabledHeads(std::vector<std::pair<int, int>> heads);
    const std::vector<std::pair<int, int>>& disabledHeads() const { return m_disabled; }

    /// Runs now on the GUI thread (short inputs) or in the background (long ones).
    void runNow();
    /// Blocks until no run is pending (tests, command line).
    void waitForIdle();
    void cancel();
    bool busy() const;

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

signals:
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

    QString m_text;
    QString m_targetText;
    std::shared_ptr<const attn::Model> m_model;
    std::vector<std::pair<int, int>> m_disabled;
    attn::TracePtr m_trace;
    QString m_error;
    Focus m_focus;
    QTimer m_debounce;
    QFutureWatcher<attn::Result<attn::TracePtr>>* m_watcher = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    bool m_rerunPending = false;
    mutable std::unique_ptr<attn::HeadTrace> m_focusCache;
    mutable int m_focusCacheKey[4] = {-1, -1, -1, -1};
};

}  // namespace attn::ui
