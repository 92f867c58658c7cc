#include "window/model_actions.h"

#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QUrl>
#include <QWidget>
#include <QtConcurrent/QtConcurrentRun>
#include <string>

#include "attn/formats/load.h"
#include "attn/open_model.h"
#include "session/session.h"

namespace attn::ui {

namespace {

constexpr int kMaxRecent = 8;
const char* const kRecentKey = "models/recent";

QSettings settings() {
    return QSettings(QStringLiteral("AttentionLab"), QStringLiteral("Attention Lab"));
}

bool isBuiltin(const QString& spec) { return spec.startsWith(QLatin1String("builtin:")); }

/// The first local file or folder of a drag, or empty.
QString droppedPath(const QMimeData* mime) {
    if (!mime || !mime->hasUrls()) return {};
    for (const QUrl& url : mime->urls()) {
        if (url.isLocalFile()) return url.toLocalFile();
    }
    return {};
}

}  // namespace

ModelActions::ModelActions(Session* session, QWidget* window)
    : QObject(window), m_session(session), m_window(window) {
    m_progressTimer = new QTimer(this);
    m_progressTimer->setInterval(100);
    connect(m_progressTimer, &QTimer::timeout, this, [this] { emit loadProgress(loadFraction()); });
    m_menu = new QMenu(tr("&Model"), window);
    m_menu->setToolTipsVisible(true);

    QAction* english = m_menu->addAction(tr("Trained: English (masked words)"));
    english->setToolTip(
        tr("Our encoder trained to guess hidden words of simple English sentences"));
    connect(english, &QAction::triggered, this,
            [this] { load(QStringLiteral("builtin:english")); });

    QAction* translation = m_menu->addAction(tr("Trained: English → Spanish"));
    translation->setToolTip(tr("Our encoder–decoder trained to translate simple sentences"));
    connect(translation, &QAction::triggered, this,
            [this] { load(QStringLiteral("builtin:translation")); });

    QAction* untrained = m_menu->addAction(tr("Untrained (random)"));
    untrained->setToolTip(tr("Random weights: attention before any learning"));
    connect(untrained, &QAction::triggered, this, &ModelActions::useUntrained);

    m_menu->addSeparator();
    QAction* open = m_menu->addAction(tr("&Open model…"));
    open->setShortcut(QKeySequence::Open);
    open->setToolTip(
        tr("A GGUF file (llama, qwen2, qwen3; quantized too), a llama2.c .bin checkpoint, or "
           "config.json of a Hugging Face folder (Llama, Mistral, Qwen2, Qwen3, GPT-2, BERT)"));
    connect(open, &QAction::triggered, this, &ModelActions::openDialog);

    QAction* openFolder = m_menu->addAction(tr("Open model &folder…"));
    openFolder->setToolTip(
        tr("A Hugging Face model folder (config.json inside) or a folder with "
           "a llama2.c checkpoint or a GGUF file"));
    connect(openFolder, &QAction::triggered, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(m_window, tr("Open model folder"));
        if (!dir.isEmpty()) load(dir);
    });

    m_recentMenu = m_menu->addMenu(tr("&Recent models"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &ModelActions::rebuildRecentMenu);
    rebuildRecentMenu();

    m_cacheMenu = new QMenu(tr("On this &computer"), m_menu);
    m_cacheMenu->setToolTipsVisible(true);
    m_cacheMenuAction = m_menu->addMenu(m_cacheMenu);
    // Models may arrive while the window is open: look again each time the menu opens (in the
    // background; the submenu fills when the search ends).
    connect(m_menu, &QMenu::aboutToShow, this, &ModelActions::discover);
    discover();

    if (m_session) {
        if (auto m = m_session->model(); m && m->config.vocab_size == 0) m_untrained = m->config;
        connect(m_session, &Session::changed, this, [this](const SessionChange& change) {
            if (change.has(SessionChange::Model)) onModelChanged();
        });
    }
    if (m_window) {
        m_window->setAcceptDrops(true);
        m_window->installEventFilter(this);
    }
}

ModelActions::~ModelActions() {
    if (m_window) m_window->removeEventFilter(this);
}

std::shared_ptr<const attn::Model> ModelActions::defaultModel() {
    auto trained = attn::openModel("builtin:english");
    if (trained) return std::move(trained.value());
    auto untrained = attn::openModel("untrained");
    if (untrained) return std::move(untrained.value());
    return nullptr;
}

void ModelActions::onModelChanged() {
    // Remember the last hashed (vocabulary-free) configuration the user built, so "Untrained"
    // returns to their d_model / heads / layers rather than the factory default.
    if (!m_session) return;
    if (auto m = m_session->model(); m && m->config.vocab_size == 0 && m->source_path.empty())
        m_untrained = m->config;
}

void ModelActions::useUntrained() {
    if (!m_session) return;
    ++m_generation;  // a load still running must not replace this choice
    attn::ModelConfig c = m_untrained;
    c.vocab_size = 0;
    c.target_vocab_size = 0;
    c.has_lm_head = false;
    c.name = "untrained";
    m_session->setConfig(c);
}

void ModelActions::openDialog() {
    const QString path = QFileDialog::getOpenFileName(
        m_window, tr("Open model"), QString(),
        tr("Models (*.gguf *.bin *.safetensors config.json);;GGUF files (*.gguf);;"
           "llama2.c checkpoints (*.bin);;Hugging Face config (config.json);;All files (*)"));
    if (!path.isEmpty()) load(path);
}

void ModelActions::load(const QString& spec) {
    if (spec.isEmpty()) return;
    const quint64 gen = ++m_generation;
    // The latest request wins: the one it replaces stops reading its file.
    if (m_latest) m_latest->cancel.store(true);
    auto state = std::make_shared<LoadState>();
    m_latest = state;
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this,
            [this, watcher, spec, gen, state] { finishLoad(watcher, spec, gen, state); });
    if (m_inflight++ == 0) {
        emit loadingChanged(true);
        m_progressTimer->start();
    }
    emit loadProgress(0.0);
    const std::string s = spec.toStdString();
    attn::OpenOptions options;
    options.untrained = m_untrained;
    options.load.cancel = &state->cancel;  // the lambda's copy of state keeps it alive
    options.load.progress = [state](double f) { state->fraction.store(f); };
    watcher->setFuture(
        QtConcurrent::run([s, options, state] { return attn::openModel(s, options); }));
}

void ModelActions::cancelLoad() {
    if (m_latest && isLoading()) m_latest->cancel.store(true);
}

double ModelActions::loadFraction() const { return m_latest ? m_latest->fraction.load() : 0.0; }

void ModelActions::finishLoad(QFutureWatcher<LoadResult>* watcher, const QString& spec,
                              quint64 generation, const std::shared_ptr<LoadState>& state) {
    LoadResult result = watcher->result();
    watcher->deleteLater();
    // Cancel pressed after the last layer was read still means "keep the model I had".
    const bool latest = generation == m_generation && !state->cancel.load();
    if (latest) {
        if (!result) {
            switch (result.code()) {
                case attn::ErrorCode::Cancelled:
                    break;  // asked for; nothing to say
                case attn::ErrorCode::NotFound:
                    // A recent file that was moved or deleted should not be offered again.
                    if (!isBuiltin(spec)) removeRecent(spec);
                    [[fallthrough]];
                default:
                    fail(tr("Could not open %1:\n%2")
                             .arg(displayName(spec), QString::fromStdString(result.message())));
                    break;
            }
        } else if (m_session) {
            m_session->setModel(std::move(result.value()));
            if (!isBuiltin(spec) && spec != QLatin1String("untrained")) addRecent(spec);
            emit modelLoaded(spec);
        }
    }
    if (--m_inflight == 0) {
        m_progressTimer->stop();
        emit loadingChanged(false);
    }
}

void ModelActions::waitForIdle() {
    for (auto* w : findChildren<QFutureWatcher<LoadResult>*>()) w->waitForFinished();
    // The finished signals are queued; deliver them.
    while (m_inflight > 0) QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
}

void ModelActions::fail(const QString& message) {
    emit errorOccurred(message);
    if (m_interactive) QMessageBox::warning(m_window, tr("Model not loaded"), message);
}

QString ModelActions::displayName(const QString& spec) {
    if (spec == QLatin1String("builtin:english")) return tr("the trained English model");
    if (spec == QLatin1String("builtin:translation")) return tr("the trained translation model");
    const QFileInfo info(spec);
    const QString name = info.fileName().isEmpty() ? spec : info.fileName();
    const QString dir = QDir::toNativeSeparators(info.absolutePath());
    return dir.isEmpty() ? name : QStringLiteral("%1 (%2)").arg(name, dir);
}

// --- recent models ---------------------------------------------------------------------------

QStringList ModelActions::recentModels() const {
    return settings().value(QLatin1String(kRecentKey)).toStringList();
}

void ModelActions::clearRecentModels() {
    settings().remove(QLatin1String(kRecentKey));
    rebuildRecentMenu();
}

void ModelActions::addRecent(const QString& path) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    QStringList list = recentModels();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > kMaxRecent) list.removeLast();
    settings().setValue(QLatin1String(kRecentKey), list);
    rebuildRecentMenu();
}

void ModelActions::removeRecent(const QString& path) {
    QStringList list = recentModels();
    if (list.removeAll(QFileInfo(path).absoluteFilePath()) == 0) return;
    settings().setValue(QLatin1String(kRecentKey), list);
    rebuildRecentMenu();
}

void ModelActions::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList list = recentModels();
    for (const QString& path : list) {
        QAction* a = m_recentMenu->addAction(displayName(path));
        a->setEnabled(QFileInfo::exists(path));
        connect(a, &QAction::triggered, this, [this, path] { load(path); });
    }
    if (list.isEmpty()) {
        m_recentMenu->addAction(tr("(none yet)"))->setEnabled(false);
    } else {
        m_recentMenu->addSeparator();
        connect(m_recentMenu->addAction(tr("Clear list")), &QAction::triggered, this,
                &ModelActions::clearRecentModels);
    }
}

// --- models on this computer ----------------------------------------------------------------

QString ModelActions::describe(const attn::DiscoveredModel& m) {
    QStringList parts;
    if (!m.architecture.empty()) parts << QString::fromStdString(m.architecture);
    if (!m.quantization.empty()) parts << QString::fromStdString(m.quantization);
    if (m.size_bytes > 0)
        parts << QLocale().formattedDataSize(static_cast<qint64>(m.size_bytes), 1,
                                             QLocale::DataSizeSIFormat);
    const QString name = QString::fromStdString(m.name);
    return parts.isEmpty() ? name
                           : QStringLiteral("%1 — %2").arg(name, parts.join(QStringLiteral(" · ")));
}

void ModelActions::discover() {
    if (m_discovery) return;  // one search at a time
    std::vector<std::string> extra;
    for (const QString& r : recentModels()) extra.push_back(r.toStdString());
    auto* watcher = new QFutureWatcher<std::vector<attn::DiscoveredModel>>(this);
    m_discovery = watcher;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        m_found = watcher->result();
        m_searched = true;
        watcher->deleteLater();
        m_discovery = nullptr;
        rebuildCacheMenu();
    });
    watcher->setFuture(QtConcurrent::run([extra = std::move(extra)] {
        return attn::discoverModels(attn::defaultDiscoveryRoots(extra));
    }));
    if (!m_searched) rebuildCacheMenu();  // "Looking…" until the first search ends
}

void ModelActions::waitForDiscovery() {
    while (m_discovery) {
        m_discovery->waitForFinished();
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
}

void ModelActions::rebuildCacheMenu() {
    m_cacheMenu->clear();
    if (!m_searched) {
        m_cacheMenu->addAction(tr("Looking for models…"))->setEnabled(false);
        return;
    }
    if (m_found.empty()) {
        QAction* none = m_cacheMenu->addAction(tr("(no models found)"));
        none->setEnabled(false);
        none->setToolTip(
            tr("Looked in the Hugging Face cache (~/.cache/huggingface/hub or $HF_HOME), "
               "Ollama's models (~/.ollama/models or $OLLAMA_MODELS), LM Studio's models "
               "folders and the recent files."));
        return;
    }
    // One section per place, in discoverModels' order.
    int section = -1;
    for (const attn::DiscoveredModel& m : m_found) {
        if (static_cast<int>(m.source) != section) {
            section = static_cast<int>(m.source);
            m_cacheMenu->addSection(m.source == attn::ModelSource::File
                                        ? tr("Recent files")
                                        : QString::fromStdString(attn::toString(m.source)));
        }
        const QString path = QString::fromStdString(m.path);
        QAction* a = m_cacheMenu->addAction(describe(m));
        if (!m.error.empty()) {
            a->setEnabled(false);
            a->setToolTip(QString::fromStdString(m.error));
            continue;
        }
        a->setToolTip(QDir::toNativeSeparators(path));
        connect(a, &QAction::triggered, this, [this, path] { load(path); });
    }
}

// --- drag and drop ---------------------------------------------------------------------------

bool ModelActions::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_window) {
        if (event->type() == QEvent::DragEnter || event->type() == QEvent::DragMove) {
            auto* e = static_cast<QDragMoveEvent*>(event);
            if (!droppedPath(e->mimeData()).isEmpty()) {
                e->acceptProposedAction();
                return true;
            }
        } else if (event->type() == QEvent::Drop) {
            auto* e = static_cast<QDropEvent*>(event);
            const QString path = droppedPath(e->mimeData());
            if (!path.isEmpty()) {
                e->acceptProposedAction();
                load(path);
                return true;
            }
        }
    }
    return QObject::eventFilter(watched, event);
}

}  // namespace attn::ui
