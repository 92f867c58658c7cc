#include "views/learn_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMutexLocker>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <cmath>

#if __has_include(<omp.h>)
#include <omp.h>
#define ATTN_LEARN_HAS_OMP 1
#endif

#include "attn/corpus.h"
#include "attn/evaluate.h"
#include "session/session.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

const char* const kDefaultProbe = "the black cat drank the milk";

QStringList labelsOf(const std::vector<attn::Token>& tokens) {
    QStringList out;
    for (const attn::Token& t : tokens)
        out << (t.unknown ? QStringLiteral("[UNK]") : QString::fromStdString(t.text));
    return out;
}

/// Which attention block of the probe a combo entry shows.
struct BlockChoice {
    int layer = 0;
    bool decoder = false;
    bool cross = false;
};

QVariant encode(BlockChoice c) {
    return QVariant::fromValue(c.layer * 4 + (c.decoder ? 2 : 0) + (c.cross ? 1 : 0));
}
BlockChoice decode(const QVariant& v) {
    const int x = v.toInt();
    return {x / 4, (x & 2) != 0, (x & 1) != 0};
}

/// The reference translation when the probe is a sentence of our grammar, else empty.
std::string referenceTranslation(const std::string& text) {
    attn::WordTokenizerOptions o;
    o.lowercase = true;
    attn::Words words;
    for (const attn::Token& t : attn::tokenizeWords(text, o)) words.push_back(t.text);
    if (words.empty() || !attn::isGrammatical(words)) return {};
    return attn::joinWords(attn::translateToSpanish(words).target);
}

}  // namespace

// --- worker ----------------------------------------------------------------------------------

TrainingWorker::TrainingWorker(Options options, QObject* parent)
    : QThread(parent), m_options(std::move(options)), m_delayMs(m_options.step_delay_ms) {
    qRegisterMetaType<attn::ui::LearnSnapshot>();
}

TrainingWorker::~TrainingWorker() {
    requestStop();
    wait();
}

void TrainingWorker::setPaused(bool paused) {
    QMutexLocker lock(&m_mutex);
    m_paused = paused;
    m_wake.wakeAll();
}

void TrainingWorker::requestStop() {
    QMutexLocker lock(&m_mutex);
    m_stop = true;
    m_wake.wakeAll();
}

void TrainingWorker::setProbe(const QString& probe) {
    QMutexLocker lock(&m_mutex);
    m_options.probe = probe;
}

LearnSnapshot TrainingWorker::makeSnapshot(const attn::Trainer& trainer) {
    LearnSnapshot s;
    s.step = trainer.stepsDone();
    s.total = trainer.totalSteps();
    s.learning_rate = trainer.learningRate();
    std::shared_ptr<attn::Model> model = trainer.snapshot();
    s.model = model;
    QString probe;
    {
        QMutexLocker lock(&m_mutex);
        probe = m_options.probe;
    }
    const std::string text = probe.trimmed().toStdString();
    if (text.empty()) {
        s.probe_error = tr("Type a probe sentence to see its attention.");
        return s;
    }
    attn::RunOptions ro;
    ro.compute_logits = false;
    attn::Result<attn::TracePtr> r = attn::makeError("");
    if (model->config.architecture == attn::Architecture::EncoderDecoder) {
        // Teacher-force the right translation when the grammar has one, else what the model
        // says now, so the cross-attention rows are Spanish words either way.
        std::string target = referenceTranslation(text);
        if (target.empty()) {
            if (auto t = attn::translate(*model, text)) target = t->text;
        }
        r = attn::runSeq2Seq(model, text, target, ro);
    } else {
        r = attn::run(model, text, ro);
    }
    if (r)
        s.probe = std::move(r.value());
    else
        s.probe_error = QString::fromStdString(r.message());
    return s;
}

void TrainingWorker::run() {
#ifdef ATTN_LEARN_HAS_OMP
    // Eigen and the engine parallelise with OpenMP. For these small matrices extra threads
    // spin against the GUI thread and other work; on a busy 2-core machine one step took 145 ms
    // with them and 7 ms without. This setting is per thread: it leaves the Session's runs alone.
    omp_set_num_threads(1);
#endif
    auto created = attn::Trainer::create(m_options.train);
    if (!created) {
        emit failed(QString::fromStdString(created.message()));
        return;
    }
    attn::Trainer& trainer = *created.value();
    emit snapshotReady(makeSnapshot(trainer));

    QVector<double> steps, losses;
    auto flush = [&] {
        if (steps.isEmpty()) return;
        emit lossesReady(steps, losses);
        steps.clear();
        losses.clear();
    };
    QElapsedTimer sinceReport, sinceSnapshotClock;
    sinceReport.start();
    sinceSnapshotClock.start();
    int sinceSnapshot = 0;
    while (!m_stop.load()) {
        if (m_paused.load()) {
            flush();
            // The exact model at the pause, so "use this model" takes what the curve shows.
            if (sinceSnapshot > 0) emit snapshotReady(makeSnapshot(trainer));
            sinceSnapshot = 0;
            emit pausedAt(trainer.stepsDone());
            QMutexLocker lock(&m_mutex);
            while (m_paused.load() && !m_stop.load()) m_wake.wait(&m_mutex);
            continue;
        }
        if (trainer.stepsDone() >= trainer.totalSteps()) break;
        const float loss = trainer.step();
        steps << trainer.stepsDone();
        losses << loss;
        ++sinceSnapshot;
        const bool last = trainer.stepsDone() >= trainer.totalSteps();
        // About 20 curve updates a second, whatever the step time.
        if (last || sinceReport.elapsed() >= 50) {
            flush();
            sinceReport.restart();
        }
        if (last || (sinceSnapshot >= std::max(1, m_options.snapshot_every) &&
                     sinceSnapshotClock.elapsed() >= m_options.min_snapshot_ms)) {
            emit snapshotReady(makeSnapshot(trainer));
            sinceSnapshot = 0;
            sinceSnapshotClock.restart();
        }
        if (const int delay = m_delayMs.load(); delay > 0 && !last) {
            QMutexLocker lock(&m_mutex);
            if (!m_stop.load()) m_wake.wait(&m_mutex, static_cast<unsigned long>(delay));
        }
    }
    flush();
}

// --- view ------------------------------------------------------------------------------------

LearnView::LearnView(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    qRegisterMetaType<attn::ui::LearnSnapshot>();

    m_corpus = new QComboBox(this);
    m_corpus->addItem(tr("English (guess the masked word)"),
                      static_cast<int>(attn::CorpusKind::English));
    m_corpus->addItem(tr("English → Spanish (translate)"),
                      static_cast<int>(attn::CorpusKind::Translation));
    m_corpus->setToolTip(tr("What the model learns from: sentences of our small grammar"));

    m_steps = new QSpinBox(this);
    m_steps->setRange(10, 100000);
    m_steps->setSingleStep(100);
    m_steps->setValue(attn::defaultSteps(attn::CorpusKind::English));
    m_steps->setToolTip(
        tr("Optimisation steps; the learning rate warms up, then decays to the end"));

    m_batch = new QSpinBox(this);
    m_batch->setRange(1, 512);
    m_batch->setValue(32);
    m_batch->setSuffix(tr(" sentences"));
    m_batch->setToolTip(tr("Sentences per step"));

    m_slow = new QCheckBox(tr("Slow motion"), this);
    m_slow->setToolTip(
        tr("About 30 steps a second, so each change of the heads can be followed (3000 steps: "
           "about 2 minutes). Untick for full speed."));
    // On by default: at full speed the 3000 steps are over in seconds, before a class has seen
    // a head change.
    m_slow->setChecked(true);

    m_probe = new QLineEdit(QString::fromUtf8(kDefaultProbe), this);
    m_probe->setToolTip(tr("The sentence whose attention is shown while the model learns"));

    m_startButton = new QPushButton(tr("Start"), this);
    m_resetButton = new QPushButton(tr("Reset"), this);
    m_useButton = new QPushButton(tr("Use this model"), this);
    m_useButton->setToolTip(tr("Show the model as it is now in the main views"));
    m_progress = new QProgressBar(this);
    m_progress->setFormat(tr("%v / %m steps"));
    m_progress->setRange(0, m_steps->value());
    m_progress->setValue(0);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // Loss curve: every step (thin) and a running mean (thick).
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(280, 200);
    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_plot->plotLayout()->addElement(0, 0,
                                     new QCPTextElement(m_plot, tr("Training loss"), titleFont));
    // The legend goes in a row under the axes (left to right): a falling curve passes through
    // every corner of the plot at some point of training.
    auto* legendRow = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(2, 0, legendRow);
    legendRow->setMargins(QMargins(5, 0, 5, 5));
    legendRow->addElement(0, 0, m_plot->legend);
    m_plot->legend->setFillOrder(QCPLegend::foColumnsFirst, false);
    m_plot->legend->setBorderPen(Qt::NoPen);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    QCPGraph* raw = m_plot->addGraph();
    raw->setName(tr("each step"));
    raw->setPen(QPen(QColor(120, 150, 200, 140), 1));
    QCPGraph* mean = m_plot->addGraph();
    mean->setName(tr("running mean"));
    mean->setPen(QPen(QColor(20, 70, 160), 2.2));
    QCPGraph* chance = m_plot->addGraph();
    chance->setName(tr("uniform guess"));
    chance->setPen(QPen(QColor(150, 150, 150), 1, Qt::DashLine));
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->yAxis->setLabel(tr("cross-entropy (nats)"));
    m_plot->xAxis->setRange(0, m_steps->value());
    m_plot->yAxis->setRange(0, 5);
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), qMax(7, font().pointSize() - 1)));

    m_block = new QComboBox(this);
    m_block->setToolTip(tr("Which attention of the probe sentence to watch"));
    m_headsCaption = new QLabel(this);
    m_headsCaption->setWordWrap(true);
    m_headsHost = new QWidget(this);
    m_headsGrid = new QGridLayout(m_headsHost);
    m_headsGrid->setContentsMargins(0, 0, 0, 0);
    m_headsGrid->setSpacing(4);

    // Layout: settings on top, buttons and progress, then curve | heads.
    auto* settings = new QHBoxLayout;
    auto* form1 = new QFormLayout;
    form1->addRow(tr("Learn from:"), m_corpus);
    form1->addRow(tr("Probe sentence:"), m_probe);
    auto* form2 = new QFormLayout;
    form2->addRow(tr("Steps:"), m_steps);
    form2->addRow(tr("Batch:"), m_batch);
    form2->addRow(QString(), m_slow);
    settings->addLayout(form1, 3);
    settings->addSpacing(12);
    settings->addLayout(form2, 1);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_resetButton);
    buttons->addWidget(m_useButton);
    buttons->addWidget(m_progress, 1);

    auto* headsPanel = new QWidget(this);
    auto* headsLayout = new QVBoxLayout(headsPanel);
    headsLayout->setContentsMargins(0, 0, 0, 0);
    auto* blockRow = new QHBoxLayout;
    blockRow->addWidget(new QLabel(tr("Attention:"), headsPanel));
    blockRow->addWidget(m_block, 1);
    headsLayout->addLayout(blockRow);
    headsLayout->addWidget(m_headsCaption);
    headsLayout->addWidget(m_headsHost, 1);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_plot);
    split->addWidget(headsPanel);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({400, 600});  // the curve needs room too; QCustomPlot's size hint is tiny
    split->setChildrenCollapsible(false);

    auto* root = new QVBoxLayout(this);
    root->addLayout(settings);
    root->addLayout(buttons);
    root->addWidget(m_status);
    root->addWidget(split, 1);

    connect(m_startButton, &QPushButton::clicked, this, [this] {
        if (m_state == State::Running)
            pause();
        else
            start();
    });
    connect(m_resetButton, &QPushButton::clicked, this, &LearnView::reset);
    connect(m_useButton, &QPushButton::clicked, this, &LearnView::useModel);
    connect(m_corpus, &QComboBox::currentIndexChanged, this, [this] {
        // Another corpus is another model: the old run cannot continue.
        if (m_state != State::Idle) reset();
        m_steps->setValue(attn::defaultSteps(corpus()));
        refreshBlockChoices();
        refreshHeads();
    });
    connect(m_steps, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_state == State::Idle) {
            m_progress->setRange(0, v);
            m_plot->xAxis->setRange(0, v);
            m_plot->replot(QCustomPlot::rpQueuedReplot);
        }
    });
    connect(m_probe, &QLineEdit::textChanged, this, [this](const QString& text) {
        if (m_worker) m_worker->setProbe(text);
    });
    connect(m_block, &QComboBox::currentIndexChanged, this, &LearnView::refreshHeads);
    connect(m_slow, &QCheckBox::toggled, this, &LearnView::setSlowMotion);

    m_status->setText(
        tr("Press Start: a fresh model with random weights learns from example "
           "sentences. Watch the loss fall and the heads find their patterns."));
    refreshBlockChoices();
    refreshHeads();
    updateButtons();
}

LearnView::~LearnView() { stopWorker(); }

attn::CorpusKind LearnView::corpus() const {
    return static_cast<attn::CorpusKind>(m_corpus->currentData().toInt());
}

void LearnView::setCorpus(attn::CorpusKind corpus) {
    m_corpus->setCurrentIndex(m_corpus->findData(static_cast<int>(corpus)));
}

void LearnView::setTotalSteps(int steps) { m_steps->setValue(steps); }
void LearnView::setBatchSize(int sentences) { m_batch->setValue(sentences); }
void LearnView::setProbe(const QString& text) { m_probe->setText(text); }

void LearnView::setSlowMotion(bool on) {
    if (m_slow->isChecked() != on)
        m_slow->setChecked(on);  // re-enters through toggled
    else if (m_worker)
        m_worker->setStepDelay(on ? 33 : 0);
}

int LearnView::lossPointCount() const { return m_plot->graph(0)->dataCount(); }

void LearnView::stopWorker() {
    if (!m_worker) return;
    m_worker->disconnect(this);  // late queued reports of this run must not arrive
    m_worker->requestStop();
    m_worker->wait();
    delete m_worker;
    m_worker = nullptr;
}

void LearnView::start() {
    if (m_state == State::Running) return;
    if (m_state == State::Paused && m_worker) {
        m_worker->setPaused(false);
        setState(State::Running);
        return;
    }
    stopWorker();
    m_plot->graph(0)->data()->clear();
    m_plot->graph(1)->data()->clear();
    m_plot->graph(2)->data()->clear();
    m_ema = 0;
    m_latest = {};

    TrainingWorker::Options o;
    o.train.corpus = corpus();
    o.train.steps = m_steps->value();
    o.train.batch_size = m_batch->value();
    o.snapshot_every = m_snapshotEvery;
    o.probe = m_probe->text();
    o.step_delay_ms = m_slow->isChecked() ? 33 : 0;
    m_progress->setRange(0, o.train.steps);
    m_progress->setValue(0);
    m_plot->xAxis->setRange(0, o.train.steps);

    m_worker = new TrainingWorker(o);
    TrainingWorker* w = m_worker;
    // Queued: the worker emits from its own thread.
    connect(w, &TrainingWorker::lossesReady, this, &LearnView::appendLosses, Qt::QueuedConnection);
    connect(w, &TrainingWorker::snapshotReady, this, &LearnView::showSnapshot,
            Qt::QueuedConnection);
    connect(
        w, &TrainingWorker::failed, this,
        [this](const QString& message) {
            m_status->setText(tr("Training could not start: %1").arg(message));
            setState(State::Failed);
        },
        Qt::QueuedConnection);
    connect(
        w, &TrainingWorker::pausedAt, this,
        [this](int steps) {
            if (m_state != State::Paused) return;  // resumed before this arrived
            m_pausedAt = steps;
            m_status->setText(
                tr("Paused at step %1. Resume to go on, or use the model as it is now.")
                    .arg(steps));
        },
        Qt::QueuedConnection);
    connect(
        w, &QThread::finished, this,
        [this] {
            if (m_state == State::Running || m_state == State::Paused) setState(State::Finished);
        },
        Qt::QueuedConnection);
    setState(State::Running);
    w->start(QThread::LowPriority);
}

void LearnView::pause() {
    if (m_state != State::Running || !m_worker) return;
    m_worker->setPaused(true);
    setState(State::Paused);
}

void LearnView::reset() {
    stopWorker();
    m_latest = {};
    m_ema = 0;
    for (int g = 0; g < m_plot->graphCount(); ++g) m_plot->graph(g)->data()->clear();
    m_plot->yAxis->setRange(0, 5);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    m_progress->setRange(0, m_steps->value());
    m_progress->setValue(0);
    m_status->setText(tr("Reset. Press Start to train a fresh model."));
    setState(State::Idle);
    refreshBlockChoices();
    refreshHeads();
}

void LearnView::useModel() {
    if (!m_latest.model || !m_session) return;
    m_session->setModel(m_latest.model);
    emit modelUsed(m_latest.step);
}

void LearnView::setState(State s) {
    if (m_state == s) return;
    m_state = s;
    if (s != State::Paused) m_pausedAt = -1;
    updateButtons();
    emit stateChanged(s);
}

void LearnView::updateButtons() {
    switch (m_state) {
        case State::Running:
            m_startButton->setText(tr("Pause"));
            break;
        case State::Paused:
            m_startButton->setText(tr("Resume"));
            break;
        case State::Finished:
        case State::Failed:
            m_startButton->setText(tr("Start again"));
            break;
        case State::Idle:
            m_startButton->setText(tr("Start"));
            break;
    }
    m_resetButton->setEnabled(m_state != State::Idle);
    m_useButton->setEnabled(m_latest.model != nullptr && m_session != nullptr);
    const bool idle = m_state != State::Running && m_state != State::Paused;
    m_steps->setEnabled(idle);
    m_batch->setEnabled(idle);
}

void LearnView::appendLosses(const QVector<double>& steps, const QVector<double>& losses) {
    QCPGraph* raw = m_plot->graph(0);
    QCPGraph* mean = m_plot->graph(1);
    double top = m_plot->yAxis->range().upper;
    for (int i = 0; i < steps.size(); ++i) {
        // Exponential running mean, started on the first value so it does not rise from 0.
        m_ema = (raw->dataCount() == 0 && i == 0) ? losses[i] : 0.95 * m_ema + 0.05 * losses[i];
        raw->addData(steps[i], losses[i]);
        mean->addData(steps[i], m_ema);
        top = std::max(top, losses[i] * 1.05);
    }
    m_plot->yAxis->setRange(0, top);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    if (!steps.isEmpty()) {
        m_progress->setValue(static_cast<int>(steps.back()));
        m_status->setText(tr("Step %1 of %2 · loss %3 (running mean %4)")
                              .arg(static_cast<int>(steps.back()))
                              .arg(m_progress->maximum())
                              .arg(losses.back(), 0, 'f', 3)
                              .arg(m_ema, 0, 'f', 3));
    }
}

void LearnView::showSnapshot(const LearnSnapshot& snapshot) {
    const bool newShape =
        !m_latest.model || !snapshot.model ||
        m_latest.model->config.architecture != snapshot.model->config.architecture;
    m_latest = snapshot;
    if (snapshot.model && m_plot->graph(2)->dataCount() == 0) {
        // The loss of a model that guesses every word with equal probability: ln(vocabulary).
        const int vocab = snapshot.model->config.architecture == attn::Architecture::EncoderDecoder
                              ? snapshot.model->config.target_vocab_size
                              : snapshot.model->config.vocab_size;
        if (vocab > 1) {
            const double chance = std::log(static_cast<double>(vocab));
            m_plot->graph(2)->setData({0.0, static_cast<double>(snapshot.total)}, {chance, chance});
            m_plot->yAxis->setRange(0, std::max(m_plot->yAxis->range().upper, chance * 1.15));
            m_plot->replot(QCustomPlot::rpQueuedReplot);
        }
    }
    m_progress->setValue(snapshot.step);
    if (newShape) refreshBlockChoices();
    refreshHeads();
    updateButtons();
    if (m_state == State::Finished || snapshot.step == snapshot.total) {
        m_status->setText(tr("Done: %1 steps. Press \"Use this model\" to explore it in the main "
                             "views.")
                              .arg(snapshot.step));
    }
}

void LearnView::refreshBlockChoices() {
    const bool translation =
        m_latest.model ? m_latest.model->config.architecture == attn::Architecture::EncoderDecoder
                       : corpus() == attn::CorpusKind::Translation;
    const attn::ModelConfig config =
        m_latest.model ? m_latest.model->config : attn::defaultModelConfig(corpus());
    // Keep the user's choice while the kind of model stays the same.
    const bool keep = m_block->count() > 0 && translation == m_blockForTranslation;
    const BlockChoice old = keep ? decode(m_block->currentData()) : BlockChoice{};
    QSignalBlocker block(m_block);
    m_block->clear();
    m_blockForTranslation = translation;
    if (!translation) {
        for (int l = 0; l < config.n_layers; ++l)
            m_block->addItem(tr("Layer %1 self-attention").arg(l + 1), encode({l, false, false}));
    } else {
        for (int l = 0; l < config.n_layers; ++l)
            m_block->addItem(tr("Encoder layer %1 (English ↔ English)").arg(l + 1),
                             encode({l, false, false}));
        for (int l = 0; l < config.n_decoder_layers; ++l) {
            m_block->addItem(tr("Decoder layer %1 (Spanish → earlier Spanish)").arg(l + 1),
                             encode({l, true, false}));
            m_block->addItem(tr("Decoder layer %1 cross (Spanish → English)").arg(l + 1),
                             encode({l, true, true}));
        }
    }
    int index = keep ? m_block->findData(encode(old)) : -1;
    if (index < 0 && translation) {
        // The alignment the translation model learns is the most striking view: last cross.
        index = m_block->findData(encode({config.n_decoder_layers - 1, true, true}));
    }
    m_block->setCurrentIndex(std::max(0, index));
}

void LearnView::refreshHeads() {
    const BlockChoice choice = decode(m_block->currentData());
    const attn::Trace* trace = m_latest.probe.get();
    const attn::AttentionTrace* block = nullptr;
    if (trace) {
        const auto& layers = choice.decoder ? trace->decoder_layers : trace->layers;
        if (choice.layer < static_cast<int>(layers.size())) {
            const attn::LayerTrace& lt = layers[static_cast<std::size_t>(choice.layer)];
            block = choice.cross ? (lt.cross_attention ? &*lt.cross_attention : nullptr)
                                 : &lt.self_attention;
        }
    }
    const int heads = block ? static_cast<int>(block->heads.size())
                            : (m_latest.model ? m_latest.model->config.n_heads
                                              : attn::defaultModelConfig(corpus()).n_heads);
    // One heatmap per head, two columns.
    while (m_heads.size() > heads) delete m_heads.takeLast();
    while (m_heads.size() < heads) {
        auto* v = new HeatmapView(m_headsHost);
        v->setRange(0.0, 1.0);
        v->setMinimumSize(160, 140);
        m_heads << v;
    }
    const int columns = heads <= 1 ? 1 : 2;
    for (int h = 0; h < m_heads.size(); ++h)
        m_headsGrid->addWidget(m_heads[h], h / columns, h % columns);

    const QStringList rows =
        trace ? labelsOf(choice.decoder ? trace->target_tokens : trace->tokens) : QStringList();
    const QStringList cols =
        trace ? labelsOf(choice.decoder && !choice.cross ? trace->target_tokens : trace->tokens)
              : QStringList();
    for (int h = 0; h < m_heads.size(); ++h) {
        HeatmapView* v = m_heads[h];
        v->setTitle(tr("Head %1").arg(h + 1));
        if (block) {
            v->setMatrix(block->heads[static_cast<std::size_t>(h)].weights, rows, cols);
        } else {
            v->setMatrix(Eigen::MatrixXf(), {}, {});
        }
    }
    if (!m_latest.probe_error.isEmpty()) {
        m_headsCaption->setText(m_latest.probe_error);
    } else if (!trace) {
        m_headsCaption->setText(
            tr("The attention weights of the probe sentence appear here once "
               "training starts."));
    } else {
        m_headsCaption->setText(tr("Attention weights at step %1: row = the word that looks, "
                                   "column = the word it looks at.")
                                    .arg(m_latest.step));
    }
}

}  // namespace attn::ui
