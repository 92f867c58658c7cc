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

bool sameFocus(const Session::Focus& a, const Session::Focus& b) {
    return a.step == b.step && a.layer == b.layer && a.head == b.head && a.decoder == b.decoder &&
           a.cross == b.cross && a.query == b.query && a.key == b.key;
}

// Heads recomputed on demand that a session keeps per trace.
constexpr std::size_t kDetailCacheSize = 4;

}  // namespace

Session::Session(QObject* parent) : QObject(parent) {
    qRegisterMetaType<SessionChange>();
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
    for (auto* w : m_rolloutInflight) {
        w->disconnect(this);
        w->waitForFinished();
    }
    if (m_genWatcher) {
        m_genCancel->store(true);
        m_genWatcher->disconnect(this);
        m_genWatcher->waitForFinished();
    }
}

// --- generation ------------------------------------------------------------------------------

void Session::generate(int tokens, const attn::SamplingOptions& sampling) {
    dropGeneration();
    m_genError.clear();
    if (!m_trace || !m_trace->model) {
        m_genError = tr("There is no trace to continue yet.");
        emitChange(SessionChange::Generation);
        return;
    }
    attn::GenerateOptions opt;
    opt.max_new_tokens = tokens;
    opt.sampling = sampling;
    opt.attention = m_runOptions.attention;
    opt.disabled_heads = m_runOptions.disabled_heads;
    m_genCancel = std::make_shared<std::atomic<bool>>(false);
    opt.cancel = m_genCancel.get();
    // Progress crosses to the GUI thread queued; the session outlives the worker (its
    // destructor cancels and waits), and a QPointer guards the queued call.
    QPointer<Session> self(this);
    opt.on_step = [self](const attn::GenerationStep&, int done, int total) {
        QMetaObject::invokeMethod(
            qApp,
            [self, done, total] {
                if (self) emit self->generationProgress(done, total);
            },
            Qt::QueuedConnection);
    };
    auto* watcher = new QFutureWatcher<attn::Result<attn::Generation>>(this);
    m_genWatcher = watcher;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        watcher->deleteLater();
        if (watcher != m_genWatcher) return;  // dropped with its trace
        m_genWatcher = nullptr;
        attn::Result<attn::Generation> r = watcher->result();
        if (r.ok())
            m_gen = std::make_shared<const attn::Generation>(std::move(r.value()));
        else if (r.code() != attn::ErrorCode::Cancelled)
            m_genError = QString::fromStdString(r.message());
        emitChange(SessionChange::Generation);
    });
    watcher->setFuture(
        QtConcurrent::run([model = m_trace->model, prompt = m_trace->tokens, opt,
                           cancel = m_genCancel] { return attn::generate(model, prompt, opt); }));
    emitChange(SessionChange::Generation);
}

void Session::cancelGeneration() {
    if (m_genCancel) m_genCancel->store(true);
}

void Session::waitForGeneration() {
    while (m_genWatcher) {
        m_genWatcher->waitForFinished();
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
}

void Session::dropGeneration() {
    if (m_genWatcher) {
        // Let it finish in the background; its result is ignored (watcher != m_genWatcher).
        m_genCancel->store(true);
        m_genWatcher = nullptr;
    }
    m_gen.reset();
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
        emitChange(SessionChange::Model);
        return;
    }
    auto model = attn::makeUntrainedModel(config);
    if (!model) {
        m_model.reset();
        m_configError = QString::fromStdString(model.message());
        setError(m_configError);
        emitChange(SessionChange::Model);
        return;
    }
    m_configError.clear();
    m_model = std::move(model.value());
    // A run on the GUI thread says Model with its Trace; a background one says it now.
    m_pendingParts |= SessionChange::Model;
    runNow();
    emitChange(0);
}

void Session::setModel(std::shared_ptr<const attn::Model> model) {
    m_debounce.stop();
    if (!model) {
        m_model.reset();
        m_configError = tr("No model is loaded.");
        setError(m_configError);
        emitChange(SessionChange::Model);
        return;
    }
    m_config = model->config;
    m_runOptions.attention = model->trained_attention;
    m_model = std::move(model);
    m_configError.clear();
    m_pendingParts |= SessionChange::Model;
    runNow();
    emitChange(0);
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
    const std::string text = m_text.toStdString();
    const std::string target = m_targetText.toStdString();

    attn::RunOptions opt = runOptions();

    // Tokenized once, here: the count decides whether the GUI thread may run it, and the run
    // takes these tokens as they are.
    m_runClock.start();
    attn::Result<attn::RunInput> tokenized = isSeq2Seq()
                                                 ? attn::tokenizeSeq2SeqInput(*model, text, target)
                                                 : attn::tokenizeInput(*model, text);
    if (!tokenized) {
        finishRun(tokenized.error());
        updateBusy();
        return;
    }
    attn::RunInput input = std::move(tokenized.value());
    if (input.tokenCount() < m_syncLimit) {
        RunResult result = attn::runInput(model, std::move(input), opt);
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
    watcher->setFuture(QtConcurrent::run([model, input = std::move(input), opt, cancel]() {
        return attn::runInput(model, input, opt);
    }));
    updateBusy();
    emit progress(0.0);
}

void Session::finishRun(attn::Result<attn::TracePtr> result) {
    if (result.ok()) {
        m_trace = std::move(result.value());
        resetDerived();
        m_error.clear();
        const bool moved = clampFocus();
        emitChange(SessionChange::Trace | (moved ? SessionChange::Focus : 0));
        emit errorOccurred(QString());
        return;
    }
    // Nothing to show for an empty text; for other problems keep the last good picture on
    // screen so typing does not flicker, and say what is wrong.
    const bool empty =
        m_text.trimmed().isEmpty() || (isSeq2Seq() && m_targetText.trimmed().isEmpty());
    if (empty && m_trace) {
        m_trace.reset();
        resetDerived();
        emitChange(SessionChange::Trace);
    }
    setError(QString::fromStdString(result.message()));
}

void Session::emitChange(int parts) {
    parts |= m_pendingParts;
    m_pendingParts = 0;
    if (parts != 0) emit changed(SessionChange{parts});
}

void Session::resetDerived() {
    m_detail.clear();
    dropGeneration();  // its prompt was the old trace's
    for (int d = 0; d < 2; ++d) {
        m_summaries[d].reset();
        m_rollout[d].reset();
        m_rolloutWatcher[d] = nullptr;  // still running for the old trace: dropped when done
    }
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
    while (!m_rolloutInflight.isEmpty()) {
        auto* w = m_rolloutInflight.first();
        w->waitForFinished();
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

bool Session::clampFocus() {
    if (!m_trace) return false;
    const Focus before = m_focus;
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
    return !sameFocus(before, f);
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
    emitChange(SessionChange::Focus);
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
    emitChange(SessionChange::Focus);
}

void Session::setQuery(int query) {
    const int old = m_focus.query;
    m_focus.query = query;
    clampFocus();
    if (old != m_focus.query) emitChange(SessionChange::Focus);
}

void Session::setKey(int key) {
    const int old = m_focus.key;
    m_focus.key = key;
    clampFocus();
    if (old != m_focus.key) emitChange(SessionChange::Focus);
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
    return headDetail(m_focus.layer, m_focus.head, m_focus.decoder, m_focus.cross).get();
}

std::shared_ptr<const attn::HeadTrace> Session::headDetail(int layer, int head, bool decoder,
                                                           bool cross) const {
    const attn::AttentionTrace* b = block(layer, decoder, cross);
    if (!b || head < 0 || head >= static_cast<int>(b->heads.size())) return nullptr;
    const attn::HeadTrace& h = b->heads[head];
    // The trace's own head, sharing the trace's lifetime (aliasing constructor).
    if (h.detailed) return std::shared_ptr<const attn::HeadTrace>(m_trace, &h);
    const HeadKey key{layer, head, decoder, cross};
    for (const auto& [k, detail] : m_detail)
        if (k == key) return detail;
    if (m_detail.size() >= kDetailCacheSize) m_detail.erase(m_detail.begin());
    m_detail.emplace_back(key, std::make_shared<const attn::HeadTrace>(
                                   m_trace->headDetail(layer, head, decoder, cross)));
    return m_detail.back().second;
}

std::shared_ptr<const attn::HeadTrace> Session::headWeights(int layer, int head, bool decoder,
                                                            bool cross) const {
    const attn::AttentionTrace* b = block(layer, decoder, cross);
    if (!b || head < 0 || head >= static_cast<int>(b->heads.size())) return nullptr;
    const attn::HeadTrace& h = b->heads[head];
    if (h.weights_kept) return std::shared_ptr<const attn::HeadTrace>(m_trace, &h);
    return headDetail(layer, head, decoder, cross);
}

const std::vector<attn::HeadSummary>& Session::headSummaries(bool decoder) const {
    static const std::vector<attn::HeadSummary> none;
    if (!m_trace) return none;
    auto& slot = m_summaries[decoder ? 1 : 0];
    if (!slot) slot = attn::summarizeHeads(*m_trace, decoder);
    return *slot;
}

std::shared_ptr<const std::vector<attn::Mat>> Session::rollout(bool decoder) {
    if (!m_trace) return nullptr;
    const int d = decoder ? 1 : 0;
    if (m_rollout[d]) return m_rollout[d];
    if (m_rolloutWatcher[d]) return nullptr;
    const std::size_t T = decoder ? m_trace->target_tokens.size() : m_trace->tokens.size();
    if (T <= static_cast<std::size_t>(rolloutSyncTokens())) {
        m_rollout[d] = std::make_shared<const std::vector<attn::Mat>>(
            attn::attentionRollout(*m_trace, decoder));
        return m_rollout[d];
    }
    auto* watcher = new QFutureWatcher<std::vector<attn::Mat>>(this);
    m_rolloutWatcher[d] = watcher;
    m_rolloutInflight.append(watcher);
    attn::TracePtr trace = m_trace;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, trace, d] {
        m_rolloutInflight.removeOne(watcher);
        watcher->deleteLater();
        if (m_rolloutWatcher[d] == watcher) m_rolloutWatcher[d] = nullptr;
        if (trace != m_trace) return;  // a newer trace came meanwhile
        m_rollout[d] = std::make_shared<const std::vector<attn::Mat>>(watcher->result());
        emitChange(SessionChange::Derived);
    });
    watcher->setFuture(
        QtConcurrent::run([trace, decoder] { return attn::attentionRollout(*trace, decoder); }));
    return nullptr;
}

bool Session::computingRollout(bool decoder) const {
    return m_rolloutWatcher[decoder ? 1 : 0] != nullptr;
}

void Session::setColorMap(ColorMapKind kind) {
    if (kind == m_colorMap) return;
    m_colorMap = kind;
    emitChange(SessionChange::Appearance);
}

void Session::setFontScale(double scale) {
    if (scale == m_fontScale) return;
    m_fontScale = scale;
    emitChange(SessionChange::Appearance);
}

void Session::setShowNumbers(bool on) {
    if (on == m_showNumbers) return;
    m_showNumbers = on;
    emitChange(SessionChange::Appearance);
}

QStringList Session::tokenLabels(bool target) const {
    if (!m_trace) return {};
    return target ? attn::ui::tokenLabels(m_trace->target_text, m_trace->target_tokens)
                  : attn::ui::tokenLabels(m_trace->text, m_trace->tokens);
}

std::vector<TokenChip> Session::tokenChips(bool target) const {
    if (!m_trace) return {};
    return target ? attn::ui::tokenChips(m_trace->target_text, m_trace->target_tokens)
                  : attn::ui::tokenChips(m_trace->text, m_trace->tokens);
}

QStringList Session::queryLabels() const { return tokenLabels(m_focus.decoder); }

QStringList Session::keyLabels() const { return tokenLabels(m_focus.decoder && !m_focus.cross); }

}  // namespace attn::ui
