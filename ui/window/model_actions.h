#pragma once
// The "Model" menu and drag-and-drop: switches the Session between the untrained model, our two
// trained teaching models and pretrained models from disk (llama2.c, GGUF, Hugging Face folders),
// including those it finds on this computer (Hugging Face cache, Ollama, LM Studio).
// Loading runs off the GUI thread; on failure the Session keeps the model it had.

#include <QFutureWatcher>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <atomic>
#include <memory>
#include <vector>

#include "attn/formats/discover.h"
#include "attn/model.h"
#include "attn/result.h"

class QAction;
class QMenu;
class QWidget;

namespace attn::ui {

class Session;

class ModelActions : public QObject {
    Q_OBJECT
public:
    /// window receives drag and drop of model files and folders and parents dialogs.
    ModelActions(Session* session, QWidget* window);
    ~ModelActions() override;

    /// The "Model" menu (owned by this object): trained / untrained / open… / recent / cache.
    QMenu* menu() const { return m_menu; }

    /// The model the window opens on: the trained English model when it can be loaded,
    /// otherwise the untrained default. Blocks (a few milliseconds; call before showing).
    static std::shared_ptr<const attn::Model> defaultModel();

    /// Opens any spec attn::openModel takes ("builtin:english", "builtin:translation", a file,
    /// a folder, a Hugging Face cache entry) in the background; the menu, drag and drop, recent
    /// files and the cache menu all come here. The latest request wins. Emits loadingChanged,
    /// then modelLoaded or errorOccurred (a recent file that is gone leaves the list).
    void load(const QString& spec);
    /// Back to an untrained model with the last untrained configuration (at once).
    void useUntrained();
    /// Shows the file dialog (a model file; Cancel there offers a folder).
    void openDialog();

    bool isLoading() const { return m_inflight > 0; }
    /// Stops the load in progress (the window's Cancel): the file is released, the Session
    /// keeps its model and nothing is reported as an error.
    void cancelLoad();
    /// How far the latest load has come, 0..1 (GGUF and Hugging Face folders report per
    /// layer; other formats jump from 0 to 1).
    double loadFraction() const;
    /// Blocks until no load is running and its result has been applied (tests).
    void waitForIdle();
    /// Message boxes on errors (on by default; tests switch them off).
    void setInteractive(bool on) { m_interactive = on; }
    /// The configuration "Untrained (random)" goes back to.
    void setUntrainedConfig(const attn::ModelConfig& config) { m_untrained = config; }
    const attn::ModelConfig& untrainedConfig() const { return m_untrained; }

    /// Recently opened paths, newest first (QSettings "AttentionLab").
    QStringList recentModels() const;
    void clearRecentModels();

    /// Text for a spec in menus and messages ("stories260K.bin (…/models/stories260K)").
    static QString displayName(const QString& spec);

    /// Looks for the models on this computer (Hugging Face cache, Ollama, LM Studio, recent
    /// files; attn::discoverModels) in the background; the "On this computer" menu lists them
    /// when it finishes. The Model menu starts one each time it opens.
    void discover();
    /// What the last search found.
    const std::vector<attn::DiscoveredModel>& discoveredModels() const { return m_found; }
    /// Blocks until no search runs and its result is in the menu (tests).
    void waitForDiscovery();
    /// The "On this computer" submenu.
    QMenu* computerMenu() const { return m_cacheMenu; }
    /// One line for a found model: "llama3.2:1b — llama · Q4_K_M · 1.3 GB".
    static QString describe(const attn::DiscoveredModel& model);

signals:
    void loadingChanged(bool loading);
    /// The latest load's fraction done, a few times a second while it runs.
    void loadProgress(double fraction);
    /// A plain-words message; the Session still has its previous model.
    void errorOccurred(const QString& message);
    void modelLoaded(const QString& spec);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    using LoadResult = attn::Result<std::shared_ptr<const attn::Model>>;
    /// Shared with the loading thread: it writes the fraction, the window sets cancel.
    struct LoadState {
        std::atomic<bool> cancel{false};
        std::atomic<double> fraction{0.0};
    };
    void finishLoad(QFutureWatcher<LoadResult>* watcher, const QString& spec, quint64 generation,
                    const std::shared_ptr<LoadState>& state);
    void addRecent(const QString& path);
    void removeRecent(const QString& path);
    void rebuildRecentMenu();
    void rebuildCacheMenu();
    void fail(const QString& message);
    void onModelChanged();

    QPointer<Session> m_session;
    QPointer<QWidget> m_window;
    QMenu* m_menu = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_cacheMenu = nullptr;
    QAction* m_cacheMenuAction = nullptr;
    std::vector<attn::DiscoveredModel> m_found;
    QFutureWatcher<std::vector<attn::DiscoveredModel>>* m_discovery = nullptr;
    bool m_searched = false;
    attn::ModelConfig m_untrained;
    quint64 m_generation = 0;
    int m_inflight = 0;
    std::shared_ptr<LoadState> m_latest;  // the latest load's
    QTimer* m_progressTimer = nullptr;    // polls m_latest->fraction while loading
    bool m_interactive = true;
};

}  // namespace attn::ui
