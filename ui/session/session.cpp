#include "session/session.h"

#include <QCoreApplication>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>

namespace attn::ui {

namespace {

using RunResult = attn::Result<attn::TracePtr>;

bool isBlockStep(attn::StepKind k) {
    switch (k) {
        case attn::StepKind::Projections:
        case attn::StepKind::Scores:
        case attn::StepKind::Scaled:
        case attn::StepKind::Masked:
        case attn::StepKind::Weights:
        case attn::StepKind::WeightedSum:
        case attn::StepKind::Concat:
        case attn::StepKind::OutputProjection:
        case attn::StepKind::AddNorm:
            return true;
        default:
            return false;
    }
}

QStringList labelsOf(const std::vector<attn::Token>& tokens) {
    QStringList out;
    out.reserve(static_cast<int>(tokens.size()));
    for (const attn::Token& t : tokens) out << QString::fromStdString(t.text);
    return out;
}

}  // namespace

Session::Session(QObject* parent) : QObject(parent) {
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(150);
    connect(&m_debounce, &QTimer::timeout, this, &Session::startRun);
    m_runOptions.attention = attn::AttentionKnobs{};
    auto model = attn::makeUntrainedModel(m_config);
    if (model)
        m_model = std::move(model.value());
    else
        m_configError = QString::fromStdString(model.message());
}

Session::~Session() {
    m_debounce.stop();
    if (m_cancel) m_cancel->store(true);
    for (auto* w : m_inflight) {
        w->disconnect(this);
        w->waitForFinished();
    }
}

// --- input ---------------------------------------------------------------------------------

void Session::setText(const QString& text) {
    m_text = text;
    scheduleRun();
}

void Session::setTargetText(const QString& text) {
    m_targetText = text;
    scheduleRun();
}

const attn::ModelConfig& Session::config() const { return m_config; }

bool Session::isSeq2Seq() const {
    const attn::ModelConfig& c = m_model ? m_model->config : m_config;
    return c.architecture == attn::Architecture::EncoderDecoder;
}

void Session::setConfig(const attn::ModelConfig& config) {
    m_config = config;
    m_debounce.stop();
    attn::Status valid = attn::validate(config);
    if (!valid) {
        m_model.reset();
        m_configError = QString::fromStdString(valid.message());
        setError(m_configError);
        emit modelChanged();
        return;
    }
    auto model = attn::makeUntrainedModel(config);
    if (!model) {
        m_model.reset();
        m_configError = QString::fromStdString(model.message());
        setError(m_configError);
        emit modelChanged();
        return;
    }
    m_configError.clear();
    m_model = std::move(model.value());
    emit modelChanged();
    runNow();
}

void Session::setModel(std::shared_ptr<const attn::Model> model) {
    m_debounce.stop();
    if (!model) {
        m_model.reset();
        m_configError = tr("No model is loaded.");
        setError(m_configError);
        emit modelChanged();
        return;
    }
    m_config = model->config;
    m_runOptions.attention = model->trained_attention;
    m_model = std::move(model);
    m_configError.clear();
    emit modelChanged();
    runNow();
}

void Session::setAttention(const attn::AttentionKnobs& knobs) {
    m_runOptions.attention = knobs;
    runNow();
}

void Session::setDisabledHeads(std::vector<std::pair<int, int>> heads) {
    m_runOptions.disabled_heads = std::move(heads);
    runNow();
}

void Session::setRunOptions(const attn::RunOptions& options) {
    m_runOptions.attention = options.attention
                                 ? *options.attention
                                 : (m_model ? m_model->trained_attention : attn::AttentionKnobs{});
    m_runOptions.disabled_heads = options.disabled_heads;
    m_runOptions.detail_limit_bytes = options.detail_limit_bytes;
    m_runOptions.compute_logits = options.compute_logits;
    runNow();
}

attn::RunOptions Session::runOptions() const {
    attn::RunOptions opt = m_runOptions;
    opt.focus_layer = m_focus.layer;
    opt.focus_head = m_focus.head;
    return opt;
}

// --- running -------------------------------------------------------------------------------

void Session::scheduleRun() { m_debounce.start(); }

void Session::runNow() {
    m_debounce.stop();
    startRun();
}

void Session::startRun() {
    // Whatever is still running is superseded: ask it to stop and drop its result.
    if (m_cancel) m_cancel->store(true);
    m_cancel.reset();
    const quint64 gen = ++m_generation;
    m_watcher = nullptr;

    if (!m_model) {
        setError(m_configError.isEmpty() ? tr("No model is loaded.") : m_configError);
        updateBusy();
        return;
    }
    std::shared_ptr<const attn::Model> model = m_model;
    const bool seq2seq = isSeq2Seq();
    std::string text = m_text.toStdString();
    std::string target = m_targetText.toStdString();

    attn::RunOptions opt = runOptions();

    // Counting tokens is cheap next to a run; it decides whether the GUI thread may do it.
    std::size_t tokens = 0;
    if (model->tokenizer) tokens = model->tokenizer->encode(text).size();
    if (seq2seq && model->target_tokenizer)
        tokens = std::max(tokens, model->target_tokenizer->encode(target).size());

    m_runClock.start();
    if (static_cast<int>(tokens) < m_syncLimit) {
        RunResult result =
            seq2seq ? attn::runSeq2Seq(model, text, target, opt) : attn::run(model, text, opt);
        m_lastRunMs = m_runClock.nsecsElapsed() / 1e6;
        finishRun(std::move(result));
        updateBusy();
        return;
    }

    auto cancel = std::make_shared<std::atomic<bool>>(false);
    m_cancel = cancel;
    opt.cancel = cancel.get();
    QPointer<Session> self(this);
    opt.progress = [self, gen](double f) {
        // Called on the worker thread; hop to the session's thread.
        QMetaObject::invokeMethod(
            self.data(),
            [self, gen, f] {
                if (self && gen == self->m_generation) emit self->progress(f);
            },
            Qt::QueuedConnection);
    };
    auto* watcher = new QFutureWatcher<RunResult>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, gen] {
        m_inflight.removeOne(watcher);
        if (watcher == m_watcher) m_watcher = nullptr;
        watcher->deleteLater();
        if (gen == m_generation) {
            m_lastRunMs = m_runClock.nsecsElapsed() / 1e6;
            m_cancel.reset();
            finishRun(watcher->result());
        }
        updateBusy();
    });
    m_inflight.append(watcher);
    m_watcher = watcher;
    watcher->setFuture(QtConcurrent::run([model, seq2seq, text = std::move(text),
                                          target = std::move(target), opt, cancel]() {
        return seq2seq ? attn::runSeq2Seq(model, text, target, opt) : attn::run(model, text, opt);
    }));
    updateBusy();
    emit progress(0.0);
}

void Session::finishRun(attn::Result<attn::TracePtr> result) {
    if (result.ok()) {
        m_trace = std::move(result.value());
        m_focusCache.reset();
        std::fill(std::begin(m_focusCacheKey), std::end(m_focusCacheKey), -1);
        m_error.clear();
        clampFocus();
        emit traceChanged();
        emit focusChanged();
        emit errorOccurred(QString());
        return;
    }
    // Nothing to show for an empty text; for other problems keep the last good picture on
    // screen so typing does not flicker, and say what is wrong.
    const bool empty =
        m_text.trimmed().isEmpty() || (isSeq2Seq() && m_targetText.trimmed().isEmpty());
    if (empty && m_trace) {
        m_trace.reset();
        m_focusCache.reset();
        emit traceChanged();
    }
    setError(QString::fromStdString(result.message()));
}

void Session::setError(const QString& message) {
    m_error = message;
    emit errorOccurred(message);
}

void Session::waitForIdle() {
    if (m_debounce.isActive()) runNow();
    while (!m_inflight.isEmpty()) {
        auto* w = m_inflight.first();
        w->waitForFinished();
        // The watcher reports through a posted event.
        QCoreApplication::sendPostedEvents(w);
        QCoreApplication::processEvents();
    }
    QCoreApplication::sendPostedEvents(this);
}

void Session::cancel() {
    if (m_cancel) m_cancel->store(true);
}

bool Session::busy() const { return m_watcher != nullptr; }

void Session::updateBusy() {
    const bool b = busy();
    if (b == m_lastBusy) return;
    m_lastBusy = b;
    emit busyChanged(b);
}

// --- focus ---------------------------------------------------------------------------------

void Session::clampFocus() {
    if (!m_trace) return;
    Focus& f = m_focus;
    const int nSteps = static_cast<int>(m_trace->steps.size());
    f.step = std::clamp(f.step, 0, std::max(0, nSteps - 1));
    if (m_trace->decoder_layers.empty()) f.decoder = false;
    if (!f.decoder) f.cross = false;
    const int nl = layerCount(f.decoder);
    f.layer = std::clamp(f.layer, 0, std::max(0, nl - 1));
    if (f.cross && !block(f.layer, true, true)) f.cross = false;
    const attn::AttentionTrace* b = block(f.layer, f.decoder, f.cross);
    const int nh = b ? static_cast<int>(b->heads.size()) : 1;
    f.head = std::clamp(f.head, 0, std::max(0, nh - 1));
    const int tq =
        static_cast<int>(f.decoder ? m_trace->target_tokens.size() : m_trace->tokens.size());
    const int tk = static_cast<int>(f.cross ? m_trace->tokens.size() : tq);
    f.query = std::clamp(f.query, 0, std::max(0, tq - 1));
    f.key = std::clamp(f.key, 0, std::max(0, tk - 1));
}

void Session::setStep(int step) {
    const int n = m_trace ? static_cast<int>(m_trace->steps.size()) : 1;
    step = std::clamp(step, 0, std::max(0, n - 1));
    if (step == m_focus.step) return;
    m_focus.step = step;
    if (m_trace) {
        const attn::Step& s = m_trace->steps[step];
        if (s.layer >= 0) {
            m_focus.layer = s.layer;
            m_focus.decoder = s.decoder;
            if (isBlockStep(s.kind)) m_focus.cross = s.cross;
        }
    }
    clampFocus();
    emit focusChanged();
}

void Session::nextStep() { setStep(m_focus.step + 1); }
void Session::previousStep() { setStep(m_focus.step - 1); }

void Session::setHead(int layer, int head, bool decoder, bool cross) {
    Focus before = m_focus;
    m_focus.layer = layer;
    m_focus.head = head;
    m_focus.decoder = decoder;
    m_focus.cross = cross;
    clampFocus();
    // Looking at the weights of layer 1 and clicking a head of layer 2 shows layer 2's weights.
    if (m_trace) {
        if (const attn::Step* cur = currentStep(); cur && cur->layer >= 0) {
            const bool blockStep = isBlockStep(cur->kind);
            for (std::size_t i = 0; i < m_trace->steps.size(); ++i) {
                const attn::Step& s = m_trace->steps[i];
                if (s.kind == cur->kind && s.layer == m_focus.layer &&
                    s.decoder == m_focus.decoder && (!blockStep || s.cross == m_focus.cross)) {
                    m_focus.step = static_cast<int>(i);
                    break;
                }
            }
        }
    }
    if (before.layer == m_focus.layer && before.head == m_focus.head &&
        before.decoder == m_focus.decoder && before.cross == m_focus.cross &&
        before.step == m_focus.step)
        return;
    emit focusChanged();
}

void Session::setQuery(int query) {
    const int old = m_focus.query;
    m_focus.query = query;
    clampFocus();
    if (old != m_focus.query) emit focusChanged();
}

void Session::setKey(int key) {
    const int old = m_focus.key;
    m_focus.key = key;
    clampFocus();
    if (old != m_focus.key) emit focusChanged();
}

const attn::Step* Session::currentStep() const {
    if (!m_trace || m_trace->steps.empty()) return nullptr;
    return &m_trace->steps.at(std::clamp<std::size_t>(m_focus.step, 0, m_trace->steps.size() - 1));
}

int Session::layerCount(bool decoder) const {
    if (!m_trace) return 0;
    return static_cast<int>(decoder ? m_trace->decoder_layers.size() : m_trace->layers.size());
}

const attn::AttentionTrace* Session::block(int layer, bool decoder, bool cross) const {
    if (!m_trace || layer < 0 || layer >= layerCount(decoder)) return nullptr;
    const attn::LayerTrace& lt = m_trace->layer(layer, decoder);
    if (cross) return lt.cross_attention ? &*lt.cross_attention : nullptr;
    return &lt.self_attention;
}

const attn::AttentionTrace* Session::focusedBlock() const {
    return block(m_focus.layer, m_focus.decoder, m_focus.cross);
}

const attn::HeadTrace* Session::focusedHead() const {
    const attn::AttentionTrace* b = focusedBlock();
    if (!b || m_focus.head < 0 || m_focus.head >= static_cast<int>(b->heads.size())) return nullptr;
    const attn::HeadTrace& h = b->heads[m_focus.head];
    if (h.detailed) return &h;
    const int key[4] = {m_focus.layer, m_focus.head, m_focus.decoder ? 1 : 0,
                        m_focus.cross ? 1 : 0};
    if (!m_focusCache || !std::equal(std::begin(key), std::end(key), m_focusCacheKey)) {
        m_focusCache = std::make_unique<attn::HeadTrace>(
            m_trace->headDetail(m_focus.layer, m_focus.head, m_focus.decoder, m_focus.cross));
        std::copy(std::begin(key), std::end(key), m_focusCacheKey);
    }
    return m_focusCache.get();
}

void Session::setColorMap(ColorMapKind kind) {
    if (kind == m_colorMap) return;
    m_colorMap = kind;
    emit appearanceChanged();
}

void Session::setFontScale(double scale) {
    if (scale == m_fontScale) return;
    m_fontScale = scale;
    emit appearanceChanged();
}

void Session::setShowNumbers(bool on) {
    if (on == m_showNumbers) return;
    m_showNumbers = on;
    emit appearanceChanged();
}

QStringList Session::tokenLabels(bool target) const {
    if (!m_trace) return {};
    return labelsOf(target ? m_trace->target_tokens : m_trace->tokens);
}

QStringList Session::queryLabels() const { return tokenLabels(m_focus.decoder); }

QStringList Session::keyLabels() const { return tokenLabels(m_focus.decoder && !m_focus.cross); }

}  // namespace attn::ui
