#pragma once
// "Watch it learn": trains a small teaching model live on a worker thread and shows the loss
// curve and the attention of a probe sentence as it changes, step after step.
//
//   TrainingWorker (QThread): Trainer::step() … every N steps snapshot() + run(probe)
//        │ queued signals: lossesReady, snapshotReady, failed, stopped
//   LearnView (GUI thread): loss plot, head heatmaps, progress, "use this model" → Session

#include <QMutex>
#include <QThread>
#include <QVector>
#include <QWaitCondition>
#include <QWidget>
#include <atomic>
#include <memory>

#include "attn/trace.h"
#include "attn/train.h"

class QComboBox;
class QCustomPlot;
class QGridLayout;
class QLabel;
class QLineEdit;
class QCheckBox;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace attn::ui {

class HeatmapView;
class Session;

/// What the worker hands to the GUI every few steps.
struct LearnSnapshot {
    int step = 0;  ///< optimisation steps done
    int total = 0;
    float learning_rate = 0;
    std::shared_ptr<const attn::Model> model;  ///< independent copy of the weights
    attn::TracePtr probe;                      ///< the probe sentence run through model
    QString probe_error;                       ///< why probe is empty
};

/// Trains on its own thread; every public method is called from the GUI thread.
class TrainingWorker : public QThread {
    Q_OBJECT
public:
    struct Options {
        attn::TrainOptions train;
        int snapshot_every = 25;    ///< steps between snapshots (the first and last always come)
        int min_snapshot_ms = 100;  ///< and at least this long between them (the GUI keeps up)
        QString probe;              ///< sentence whose attention is shown
        int step_delay_ms = 0;      ///< pause after each step ("slow motion")
    };
    explicit TrainingWorker(Options options, QObject* parent = nullptr);
    ~TrainingWorker() override;  ///< stops and joins

    void setPaused(bool paused);
    bool isPaused() const { return m_paused.load(); }
    /// Asks the loop to end after the current step; wait() joins.
    void requestStop();
    /// Takes effect at the next snapshot.
    void setProbe(const QString& probe);
    void setStepDelay(int ms) { m_delayMs = ms; }

signals:
    /// Losses of steps since the last report: steps (1-based) and mean cross-entropy (nats).
    void lossesReady(const QVector<double>& steps, const QVector<double>& losses);
    void snapshotReady(const attn::ui::LearnSnapshot& snapshot);
    void failed(const QString& message);
    /// The loop is waiting (paused) after this many steps; every loss so far has been sent.
    void pausedAt(int steps);

protected:
    void run() override;

private:
    LearnSnapshot makeSnapshot(const attn::Trainer& trainer);

    Options m_options;
    std::atomic<bool> m_paused{false};
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_delayMs{0};
    QMutex m_mutex;  // guards m_options.probe and the pause wait
    QWaitCondition m_wake;
};

class LearnView : public QWidget {
    Q_OBJECT
public:
    explicit LearnView(Session* session, QWidget* parent = nullptr);
    ~LearnView() override;  ///< joins the worker (safe mid-training)

    enum class State { Idle, Running, Paused, Finished, Failed };
    State state() const { return m_state; }

    /// Starts from step 0 (Idle / Finished / Failed) or resumes (Paused).
    void start();
    void pause();
    /// Stops training and forgets it: back to Idle with an empty curve.
    void reset();
    /// Hands the latest snapshot to the Session.
    void useModel();

    void setCorpus(attn::CorpusKind corpus);
    attn::CorpusKind corpus() const;
    void setTotalSteps(int steps);
    void setBatchSize(int sentences);
    void setSnapshotEvery(int steps) { m_snapshotEvery = steps; }
    void setProbe(const QString& text);
    /// Slow motion: about 30 steps a second, so each change of the heads can be followed.
    void setSlowMotion(bool on);

    /// Points on the loss curve so far.
    int lossPointCount() const;
    int stepsDone() const { return m_latest.step; }
    /// Steps done when the worker acknowledged the last pause (-1 while running or idle).
    int pausedAtStep() const { return m_pausedAt; }
    const LearnSnapshot& latestSnapshot() const { return m_latest; }
    QCustomPlot* lossPlot() const { return m_plot; }
    /// The heatmaps currently shown (one per head of the chosen layer).
    QList<HeatmapView*> headViews() const { return m_heads; }

signals:
    void stateChanged(attn::ui::LearnView::State state);
    /// After "use this model" gave the session a snapshot.
    void modelUsed(int step);

private:
    void stopWorker();
    void setState(State s);
    void appendLosses(const QVector<double>& steps, const QVector<double>& losses);
    void showSnapshot(const LearnSnapshot& snapshot);
    void refreshHeads();
    void refreshBlockChoices();
    void updateButtons();

    Session* m_session = nullptr;
    TrainingWorker* m_worker = nullptr;
    State m_state = State::Idle;
    LearnSnapshot m_latest;
    int m_snapshotEvery = 25;
    int m_pausedAt = -1;
    double m_ema = 0;

    QComboBox* m_corpus = nullptr;
    QSpinBox* m_steps = nullptr;
    QSpinBox* m_batch = nullptr;
    QLineEdit* m_probe = nullptr;
    QCheckBox* m_slow = nullptr;
    QPushButton* m_startButton = nullptr;
    QPushButton* m_resetButton = nullptr;
    QPushButton* m_useButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QCustomPlot* m_plot = nullptr;
    QComboBox* m_block = nullptr;  // which attention of the probe: encoder layer l / cross …
    bool m_blockForTranslation = false;  // m_block lists the encoder–decoder's blocks
    QLabel* m_headsCaption = nullptr;
    QWidget* m_headsHost = nullptr;
    QGridLayout* m_headsGrid = nullptr;
    QList<HeatmapView*> m_heads;
};

}  // namespace attn::ui

Q_DECLARE_METATYPE(attn::ui::LearnSnapshot)
