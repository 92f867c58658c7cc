#include "window/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QResizeEvent>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "common/colormaps.h"
#include "session/session.h"
#include "session/session_pair.h"
#include "views/compare_view.h"
#include "views/diff_view.h"
#include "views/head_grid.h"
#include "views/lines_view.h"
#include "views/model_view.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"
#include "widgets/overflow_tab_widget.h"
#include "window/compare_pane.h"
#include "window/controls_panel.h"

// Views and services written beside the window; each is used once both its files exist.
#include "export/export.h"
#include "export/export_dialog.h"
#include "views/head_summary_view.h"
#include "views/learn_view.h"
#include "views/positional_view.h"
#include "views/prediction_view.h"
#include "views/qk_inside_view.h"
#include "views/rollout_view.h"
#include "views/scaling_view.h"
#include "views/translate_view.h"
#include "views/value_sums_view.h"
#include "window/model_actions.h"

namespace attn::ui {

namespace {

const char* kDefaultText = "The black cat drank the milk";

QSettings settings() {
    return QSettings(QStringLiteral("AttentionLab"), QStringLiteral("Attention Lab"));
}

attn::ModelConfig defaultConfig() {
    attn::ModelConfig c;
    c.d_model = 8;
    c.n_heads = 2;
    c.n_layers = 2;
    c.n_decoder_layers = 2;
    return c;
}

// Model config and attention knobs ↔ settings, by name so a reordered enum cannot scramble saved
// values. The knobs stay in the "config" group where earlier versions kept them.
void writeConfig(QSettings& s, const attn::ModelConfig& c, const attn::AttentionKnobs& k) {
    s.beginGroup(QStringLiteral("config"));
    s.setValue(QStringLiteral("architecture"), static_cast<int>(c.architecture));
    s.setValue(QStringLiteral("d_model"), c.d_model);
    s.setValue(QStringLiteral("heads"), c.n_heads);
    s.setValue(QStringLiteral("layers"), c.n_layers);
    s.setValue(QStringLiteral("seed"), static_cast<qulonglong>(c.seed));
    s.setValue(QStringLiteral("projection"), QString::fromStdString(attn::toString(k.projection)));
    s.setValue(QStringLiteral("score"), QString::fromStdString(attn::toString(k.score)));
    s.setValue(QStringLiteral("scale"), k.scale);
    s.setValue(QStringLiteral("mask"), QString::fromStdString(attn::toString(k.mask)));
    s.setValue(QStringLiteral("positional"), QString::fromStdString(attn::toString(c.positional)));
    s.setValue(QStringLiteral("temperature"), static_cast<double>(k.temperature));
    s.endGroup();
}

attn::ModelConfig readConfig(QSettings& s, attn::AttentionKnobs* knobs) {
    attn::AttentionKnobs& k = *knobs;
    attn::ModelConfig c = defaultConfig();
    s.beginGroup(QStringLiteral("config"));
    const int arch = s.value(QStringLiteral("architecture"), 0).toInt();
    if (arch >= 0 && arch <= 2) c.architecture = static_cast<attn::Architecture>(arch);
    c.d_model = s.value(QStringLiteral("d_model"), c.d_model).toInt();
    c.n_heads = s.value(QStringLiteral("heads"), c.n_heads).toInt();
    c.n_layers = s.value(QStringLiteral("layers"), c.n_layers).toInt();
    c.n_decoder_layers = c.n_layers;
    c.seed = s.value(QStringLiteral("seed"), 1).toULongLong();
    attn::parseProjectionMode(s.value(QStringLiteral("projection")).toString().toStdString(),
                              &k.projection);
    attn::parseScoreFunction(s.value(QStringLiteral("score")).toString().toStdString(), &k.score);
    k.scale = s.value(QStringLiteral("scale"), true).toBool();
    attn::parseMaskKind(s.value(QStringLiteral("mask")).toString().toStdString(), &k.mask);
    attn::parsePositionalKind(s.value(QStringLiteral("positional")).toString().toStdString(),
                              &c.positional);
    k.temperature = static_cast<float>(s.value(QStringLiteral("temperature"), 1.0).toDouble());
    s.endGroup();
    return c;
}

// High contrast for projectors: pure black on white, a strong selection colour, and disabled
// controls that still look disabled (grey text on a lighter face).
QPalette presentationPalette(QPalette p) {
    p.setColor(QPalette::Window, Qt::white);
    p.setColor(QPalette::WindowText, Qt::black);
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xee, 0xee, 0xee));
    p.setColor(QPalette::Text, Qt::black);
    p.setColor(QPalette::Button, QColor(0xe6, 0xe6, 0xe6));
    p.setColor(QPalette::ButtonText, Qt::black);
    p.setColor(QPalette::Highlight, QColor(0x00, 0x33, 0xaa));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x33, 0x33, 0x33));
    p.setColor(QPalette::Mid, QColor(0x44, 0x44, 0x44));
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xe8));
    p.setColor(QPalette::ToolTipText, Qt::black);
    const QColor greyText(0x8c, 0x8c, 0x8c);
    for (QPalette::ColorRole r :
         {QPalette::WindowText, QPalette::Text, QPalette::ButtonText, QPalette::PlaceholderText})
        p.setColor(QPalette::Disabled, r, greyText);
    p.setColor(QPalette::Disabled, QPalette::Button, QColor(0xf3, 0xf3, 0xf3));
    p.setColor(QPalette::Disabled, QPalette::Base, QColor(0xf3, 0xf3, 0xf3));
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x99, 0x99, 0x99));
    p.setColor(QPalette::Disabled, QPalette::Mid, QColor(0xbb, 0xbb, 0xbb));
    return p;
}

// The key of the n-th tab (0-based): the number row 1…9, 0, -, =, then Ctrl+Alt+1… .
QKeySequence tabShortcut(int n) {
    static const Qt::Key row[] = {Qt::Key_1, Qt::Key_2, Qt::Key_3,     Qt::Key_4,
                                  Qt::Key_5, Qt::Key_6, Qt::Key_7,     Qt::Key_8,
                                  Qt::Key_9, Qt::Key_0, Qt::Key_Minus, Qt::Key_Equal};
    constexpr int kRow = static_cast<int>(std::size(row));
    if (n < kRow) return QKeySequence(Qt::ALT | row[n]);
    return QKeySequence(Qt::CTRL | Qt::ALT | row[(n - kRow) % kRow]);
}

LabelledMatrix fromHeatmap(const HeatmapView* h) {
    LabelledMatrix m;
    if (!h) return m;
    m.values = h->matrix();
    m.rows = h->rowLabels();
    m.cols = h->colLabels();
    m.name = h->title().simplified();
    return m;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent, bool persistent)
    : QMainWindow(parent), m_persistent(persistent) {
    setWindowTitle(tr("Attention Lab"));
    setObjectName(QStringLiteral("mainWindow"));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    m_session = new Session(this);
    m_session->setConfig(defaultConfig());

    m_controls = new ControlsPanel(m_session, this);
    auto* scroll = new QScrollArea(this);
    m_controlsScroll = scroll;
    scroll->setWidget(m_controls);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // The panel never scrolls sideways, so the dock is at least as wide as the controls need.
    scroll->setMinimumWidth(m_controls->minimumSizeHint().width() +
                            scroll->verticalScrollBar()->sizeHint().width());
    // The panel scrolls: a low screen (a 1024×768 projector) shares the height between the
    // controls and the head grid instead of pushing the status bar off the screen.
    scroll->setMinimumHeight(120);
    m_controlsDock = new QDockWidget(tr("Input and controls"), this);
    m_controlsDock->setObjectName(QStringLiteral("controlsDock"));
    m_controlsDock->setWidget(scroll);
    m_controlsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                                QDockWidget::DockWidgetClosable);
    addDockWidget(Qt::LeftDockWidgetArea, m_controlsDock);

    m_headGrid = new HeadGrid(m_session, this);
    m_headsDock = new QDockWidget(tr("Heads"), this);
    m_headsDock->setObjectName(QStringLiteral("headsDock"));
    m_headsDock->setWidget(m_headGrid);
    // Under the controls: the centre keeps the whole width for the matrices.
    addDockWidget(Qt::LeftDockWidgetArea, m_headsDock);
    splitDockWidget(m_controlsDock, m_headsDock, Qt::Vertical);
    resizeDocks({m_controlsDock, m_headsDock}, {640, 220}, Qt::Vertical);

    buildTabs();
    // The centre holds run A's tabs alone, or beside run B and the difference when comparing.
    m_centre = new QSplitter(Qt::Horizontal, this);
    m_centre->setObjectName(QStringLiteral("centreSplitter"));
    m_centre->setChildrenCollapsible(false);
    m_centre->addWidget(m_tabs);
    setCentralWidget(m_centre);

    m_modelActions = new ModelActions(m_session, this);
    m_modelActions->setUntrainedConfig(defaultConfig());
    connect(m_modelActions, &ModelActions::errorOccurred, this,
            [this](const QString& m) { statusBar()->showMessage(m, 8000); });
    connect(m_modelActions, &ModelActions::modelLoaded, this, [this](const QString& spec) {
        m_modelSpec = spec;
        statusBar()->showMessage(tr("Loaded %1.").arg(ModelActions::displayName(spec)), 4000);
    });
    // Opening a large model takes seconds: a bar with Cancel in the status bar says how far
    // it is; the window stays usable on the model it had.
    m_loadBox = new QWidget(this);
    m_loadBox->setObjectName(QStringLiteral("loadProgressBox"));
    {
        auto* row = new QHBoxLayout(m_loadBox);
        row->setContentsMargins(0, 0, 0, 0);
        m_loadBar = new QProgressBar(m_loadBox);
        m_loadBar->setObjectName(QStringLiteral("loadProgress"));
        m_loadBar->setRange(0, 100);
        m_loadBar->setFormat(tr("Opening… %p%"));
        m_loadBar->setMinimumWidth(120);
        m_loadBar->setMaximumWidth(220);
        auto* cancel = new QPushButton(tr("Cancel"), m_loadBox);
        cancel->setObjectName(QStringLiteral("cancelLoad"));
        cancel->setToolTip(tr("Stop opening the model and keep the one shown"));
        connect(cancel, &QPushButton::clicked, m_modelActions, &ModelActions::cancelLoad);
        row->addWidget(m_loadBar);
        row->addWidget(cancel);
    }
    m_loadBox->hide();
    statusBar()->addPermanentWidget(m_loadBox);
    connect(m_modelActions, &ModelActions::loadProgress, this, [this](double f) {
        m_loadBar->setValue(static_cast<int>(std::lround(std::clamp(f, 0.0, 1.0) * 100)));
    });
    connect(m_modelActions, &ModelActions::loadingChanged, this, [this](bool loading) {
        m_loadBar->setValue(0);
        m_loadBox->setVisible(loading);
        if (loading)
            statusBar()->showMessage(tr("Opening the model…"));
        else if (statusBar()->currentMessage() == tr("Opening the model…"))
            statusBar()->clearMessage();  // cancelled: nothing else will replace it
    });
    connect(m_controls, &ControlsPanel::modelRequested, this, &MainWindow::openExampleModel);
    buildMenus();

    // Permanent widgets (a temporary message does not hide them); each may shrink below its
    // text so that a long token never widens the window past a projector's 1024 pixels.
    m_statusAltered = new QLabel(this);
    m_statusAltered->setObjectName(QStringLiteral("alteredBanner"));
    m_statusAltered->setStyleSheet(
        QStringLiteral("QLabel { color: #7a1200; background: #ffe2c6; border: 1px solid #e0a070; "
                       "border-radius: 3px; padding: 1px 6px; font-weight: bold; }"));
    m_statusAltered->setMinimumWidth(1);
    m_statusAltered->hide();
    statusBar()->addPermanentWidget(m_statusAltered);
    m_statusStep = new QLabel(this);
    m_statusStep->setObjectName(QStringLiteral("statusStep"));
    m_statusStep->setTextFormat(Qt::PlainText);  // tokens such as "<s>" are not markup
    m_statusStep->setMinimumWidth(1);
    statusBar()->addPermanentWidget(m_statusStep);
    auto* compareButton = new QToolButton(this);
    compareButton->setObjectName(QStringLiteral("compareButton"));
    compareButton->setDefaultAction(m_compareAction);
    compareButton->setAutoRaise(true);
    statusBar()->addPermanentWidget(compareButton);
    connect(m_session, &Session::changed, this, [this](const SessionChange& change) {
        if (change.has(SessionChange::Trace | SessionChange::Focus)) updateStatus();
        // After the controls have re-laid themselves out for the new model.
        if (change.has(SessionChange::Model))
            QTimer::singleShot(0, this, [this] { fitControlsWidth(false); });
    });
    connect(m_session, &Session::errorOccurred, this, [this](const QString& m) {
        if (m.isEmpty())
            statusBar()->clearMessage();
        else
            statusBar()->showMessage(m);
    });

    resize(1400, 900);
    restoreSettings();
}

void MainWindow::updateStatus() {
    const int off = static_cast<int>(m_session->disabledHeads().size());
    m_statusAltered->setText(off == 1
                                 ? tr("1 head switched off — the model is altered")
                                 : tr("%1 heads switched off — the model is altered").arg(off));
    m_statusAltered->setVisible(off > 0);
    setWindowTitle(off > 0 ? tr("Attention Lab — altered model") : tr("Attention Lab"));

    const Step* s = m_session->currentStep();
    const TracePtr t = m_session->trace();
    if (!s || !t) {
        m_statusStep->clear();
        return;
    }
    const Session::Focus& f = m_session->focus();
    const QStringList q = m_session->queryLabels();
    m_statusStep->setText(tr("step %1 of %2 · %3 · head %4 · query “%5”")
                              .arg(f.step + 1)
                              .arg(t->steps.size())
                              .arg(layerName(f.layer, f.decoder, f.cross))
                              .arg(f.head + 1)
                              .arg(f.query < q.size() ? q[f.query] : QString()));
}

QString MainWindow::layerName(int layer, bool decoder, bool cross) const {
    // Encoder and decoder layers are numbered apart: say which stack (and which attention).
    if (!m_session->isSeq2Seq()) return tr("layer %1").arg(layer + 1);
    if (!decoder) return tr("encoder layer %1").arg(layer + 1);
    return cross ? tr("decoder layer %1 (cross-attention)").arg(layer + 1)
                 : tr("decoder layer %1 (self-attention)").arg(layer + 1);
}

QString MainWindow::statusText() const { return m_statusStep->text(); }
QString MainWindow::alteredText() const {
    return m_statusAltered->isVisibleTo(const_cast<MainWindow*>(this)) ? m_statusAltered->text()
                                                                       : QString();
}

void MainWindow::openExampleModel(const QString& spec) {
    const bool untrained = usingUntrainedModel();
    if (spec == QLatin1String("untrained")) {
        if (!untrained) m_modelActions->useUntrained();
        return;
    }
    if (!untrained && spec == m_modelSpec) return;  // already open
    m_modelActions->load(spec);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildTabs() {
    // Thirteen tabs must not widen the window, nor hide behind scroll arrows on a 1024×768
    // projector: the ones that do not fit are listed under "N more" at the bar's end.
    m_tabs = new OverflowTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("viewTabs"));
    m_tabs->setDocumentMode(true);
    auto add = [this](const QString& title, std::function<QWidget*()> make, const QString& tip) {
        // Each view sits in a scroll area: a view that needs more than a 1024×768 projector
        // leaves scroll bars instead of pushing the window (and the status bar) off the screen.
        auto* host = new QScrollArea(m_tabs);
        host->setWidgetResizable(true);
        host->setFrameShape(QFrame::NoFrame);
        const int i = m_tabs->addTab(host, title);
        m_tabs->setTabToolTip(i, tip);
        m_factories << std::move(make);
        m_views << nullptr;
    };
    m_stepView = new StepView(m_session);
    StepView* step = m_stepView;
    add(
        tr("Step by step"), [step] { return step; }, tr("Every step of attention, one at a time"));
    add(
        tr("Lines"), [this] { return new LinesView(m_session); },
        tr("The focused head as lines from queries to keys"));
    add(
        tr("Model view"), [this] { return new ModelView(m_session); }, tr("All heads at once"));
    add(
        tr("Compare"), [this] { return new CompareView(m_session); }, tr("Two heads side by side"));
    add(
        tr("q·k"), [this] { return new QkInsideView(m_session); },
        tr("Which dimensions make one score large"));
    add(
        tr("Values"), [this] { return new ValueSumsView(m_session); },
        tr("What each key adds to a token's output"));
    add(
        tr("Positions"), [this] { return new PositionalView(m_session); },
        tr("Positional encoding waves and similarities"));
    add(
        tr("Scaling"), [this] { return new ScalingView(m_session); },
        tr("Why scores are divided by √d_k"));
    add(
        tr("Head table"), [this] { return new HeadSummaryView(m_session); },
        tr("What each head mostly does; sort, filter, switch heads off"));
    add(
        tr("Rollout"), [this] { return new RolloutView(m_session); },
        tr("How much each token draws from each input token through the layers"));
    add(
        tr("Predict"),
        [this] {
            auto* v = new PredictionView(m_session);
            // The chosen token joins the sentence in the box, so every view shows its attention.
            connect(v, &PredictionView::appendRequested, this,
                    [this](const QString& piece, bool target) {
                        if (target)
                            m_controls->setTargetText(m_session->targetText() + piece);
                        else
                            m_controls->setSourceText(m_session->text() + piece);
                        m_session->runNow();
                    });
            return v;
        },
        tr("What the model would write next, or the hidden word it would fill in"));
    add(
        tr("Translate"), [this] { return new TranslateView(m_session); },
        tr("The sentence in English → Spanish with our encoder–decoder, and its hidden words"));
    add(
        tr("Learn"), [this] { return new LearnView(m_session); },
        tr("Watch a small model learn, live"));
    ensureTabView(0);
    // Views are built the first time their tab is shown: a faster start, and hidden views do
    // not recompute while one types.
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::ensureTabView);
}

void MainWindow::ensureTabView(int index) {
    if (index < 0 || index >= m_views.size() || m_views[index]) return;
    QWidget* v = m_factories[index]();
    m_views[index] = v;
    static_cast<QScrollArea*>(m_tabs->widget(index))->setWidget(v);
    v->show();
}

QWidget* MainWindow::tabView(int index) {
    ensureTabView(index);
    return index >= 0 && index < m_views.size() ? m_views[index].data() : nullptr;
}

int MainWindow::tabIndex(const QString& title) const {
    for (int i = 0; i < m_tabs->count(); ++i)
        if (m_tabs->tabText(i).startsWith(title)) return i;
    return -1;
}

QWidget* MainWindow::currentExportTarget() {
    QWidget* v = tabView(m_tabs->currentIndex());
    if (v == m_stepView) return m_stepView->exportTarget();
    if (auto* l = qobject_cast<LinesView*>(v)) return l->canvas();
    if (auto* q = qobject_cast<QkInsideView*>(v)) return q->exportTarget();
    if (auto* q = qobject_cast<ValueSumsView*>(v)) return q->exportTarget();
    if (auto* q = qobject_cast<PositionalView*>(v)) return q->exportTarget();
    if (auto* q = qobject_cast<ScalingView*>(v)) return q->exportTarget();
    return v;
}

void MainWindow::buildMenus() {
    // --- File ---
    QMenu* file = menuBar()->addMenu(tr("&File"));
    // Opening a model lives in the Model menu only.
    QAction* exp = file->addAction(tr("&Export…"), this, &MainWindow::exportView);
    exp->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_exportCompareAction =
        file->addAction(tr("Export &comparison…"), this, &MainWindow::exportComparison);
    m_exportCompareAction->setToolTip(tr("Runs A and B (and their difference) as one figure"));
    m_exportCompareAction->setEnabled(false);
    QAction* expAll = file->addAction(tr("Export &all heads…"), this, &MainWindow::exportAllHeads);
    expAll->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    // --- Edit ---
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* copy = edit->addAction(tr("&Copy view"), this, &MainWindow::copyView);
    copy->setShortcut(QKeySequence::Copy);
    copy->setToolTip(tr("Copy the view in front as an image"));
    QAction* copyCsv = edit->addAction(tr("Copy &matrix as CSV"), this, [this] {
        HeatmapView* h = m_stepView->mainHeatmap();
        if (m_tabs->currentIndex() == 0 && h)
            QApplication::clipboard()->setText(QString::fromUtf8(matrixToCsv(fromHeatmap(h))));
    });
    copyCsv->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));

    // --- View ---
    QMenu* view = menuBar()->addMenu(tr("&View"));
    m_presentationAction = view->addAction(tr("&Presentation mode"));
    m_presentationAction->setCheckable(true);
    m_presentationAction->setShortcut(QKeySequence(Qt::Key_F11));
    // F11 works wherever the keyboard focus is, a floating dock included.
    m_presentationAction->setShortcutContext(Qt::ApplicationShortcut);
    addAction(m_presentationAction);
    m_presentationAction->setToolTip(tr("Full screen, large fonts, high contrast"));
    connect(m_presentationAction, &QAction::toggled, this, &MainWindow::setPresentationMode);
    QMenu* maps = view->addMenu(tr("&Colour map"));
    m_colorMaps = new QActionGroup(this);
    for (ColorMapKind k : {ColorMapKind::Viridis, ColorMapKind::Cividis, ColorMapKind::Greys}) {
        const QString names[] = {tr("Viridis (colour-blind safe)"),
                                 tr("Cividis (colour-blind safe)"), tr("Diverging"),
                                 tr("Greys (for print)")};
        QAction* a = maps->addAction(names[static_cast<int>(k)]);
        a->setCheckable(true);
        a->setData(static_cast<int>(k));
        a->setChecked(k == m_session->colorMap());
        m_colorMaps->addAction(a);
        connect(a, &QAction::triggered, this, [this, k] { m_session->setColorMap(k); });
    }
    maps->addSeparator();
    QAction* note = maps->addAction(tr("Signed scores always use blue–white–red, centred on 0"));
    note->setEnabled(false);
    QAction* numbers = view->addAction(tr("&Numbers in cells"));
    numbers->setCheckable(true);
    numbers->setChecked(m_session->showNumbers());
    connect(numbers, &QAction::toggled, m_session, &Session::setShowNumbers);
    view->addSeparator();
    view->addAction(m_controlsDock->toggleViewAction());
    view->addAction(m_headsDock->toggleViewAction());
    view->addSeparator();
    // Two runs side by side (issue 16).
    m_compareAction = view->addAction(tr("Compare &with…"), this, &MainWindow::startComparison);
    m_compareAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    m_compareAction->setToolTip(
        tr("Open run B beside this one, as a copy: change one thing and see what it does"));
    m_closeCompareAction =
        view->addAction(tr("C&lose comparison"), this, &MainWindow::closeComparison);
    m_closeCompareAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B));
    m_closeCompareAction->setEnabled(false);
    m_diffAction = view->addAction(tr("&Difference B − A"));
    m_diffAction->setCheckable(true);
    m_diffAction->setChecked(true);
    m_diffAction->setEnabled(false);
    m_diffAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    connect(m_diffAction, &QAction::toggled, this, &MainWindow::setDifferenceShown);
    QMenu* tabsMenu = view->addMenu(tr("&Go to view"));
    QAction* nextTab = tabsMenu->addAction(tr("&Next view"), this, [this] {
        m_tabs->setCurrentIndex((m_tabs->currentIndex() + 1) % m_tabs->count());
    });
    nextTab->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_PageDown), QKeySequence::NextChild});
    QAction* prevTab = tabsMenu->addAction(tr("&Previous view"), this, [this] {
        m_tabs->setCurrentIndex((m_tabs->currentIndex() + m_tabs->count() - 1) % m_tabs->count());
    });
    prevTab->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_PageUp), QKeySequence::PreviousChild});
    tabsMenu->addSeparator();
    // Every tab has its own key, said in its tooltip.
    for (int i = 0; i < m_tabs->count(); ++i) {
        QAction* a = tabsMenu->addAction(m_tabs->tabText(i), this,
                                         [this, i] { m_tabs->setCurrentIndex(i); });
        const QKeySequence key = tabShortcut(i);
        a->setShortcut(key);
        m_tabShortcuts << a;
        m_tabs->setTabToolTip(
            i, tr("%1 (%2)").arg(m_tabs->tabToolTip(i), key.toString(QKeySequence::NativeText)));
    }

    // --- Step ---
    QMenu* step = menuBar()->addMenu(tr("&Step"));
    QAction* prev = step->addAction(tr("&Previous"), m_session, &Session::previousStep);
    prev->setShortcut(QKeySequence(Qt::Key_Left));
    QAction* next = step->addAction(tr("&Next"), m_session, &Session::nextStep);
    next->setShortcut(QKeySequence(Qt::Key_Right));
    QAction* play = step->addAction(tr("Play / &pause"), m_stepView, &StepView::togglePlay);
    play->setShortcut(QKeySequence(Qt::Key_Space));
    QAction* first = step->addAction(tr("&First"), this, [this] { m_session->setStep(0); });
    first->setShortcut(QKeySequence(Qt::Key_Home));
    QAction* last = step->addAction(tr("&Last"), this, [this] {
        if (auto t = m_session->trace()) m_session->setStep(static_cast<int>(t->steps.size()) - 1);
    });
    last->setShortcut(QKeySequence(Qt::Key_End));
    step->addSeparator();
    QAction* nextHead = step->addAction(tr("Next &head"), this, [this] {
        const Session::Focus& f = m_session->focus();
        const AttentionTrace* b = m_session->focusedBlock();
        if (!b) return;
        m_session->setHead(f.layer, (f.head + 1) % static_cast<int>(b->heads.size()), f.decoder,
                           f.cross);
    });
    nextHead->setShortcut(QKeySequence(Qt::Key_H));
    // Arrow keys and space belong to the text boxes while one types: Qt gives a focused editor
    // the key first (ShortcutOverride), so these only act elsewhere.

    menuBar()->insertMenu(menuBar()->actions().at(2), m_modelActions->menu());

    // --- Help ---
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* keys = help->addAction(tr("&Keyboard shortcuts"), this, &MainWindow::showShortcuts);
    keys->setShortcut(QKeySequence::HelpContents);
    help->addAction(tr("&About Attention Lab"), this, &MainWindow::showAbout);
}

void MainWindow::openModel() { m_modelActions->openDialog(); }

void MainWindow::copyView() {
    QWidget* target = currentExportTarget();
    if (!target) return;
    if (Status s = copyToClipboard(target); !s) {
        statusBar()->showMessage(QString::fromStdString(s.message()), 6000);
        return;
    }
    statusBar()->showMessage(tr("Copied the view to the clipboard."), 3000);
}

void MainWindow::exportView() {
    QWidget* target = currentExportTarget();
    LabelledMatrix matrix;
    QWidget* v = tabView(m_tabs->currentIndex());
    if (v == m_stepView)
        matrix = fromHeatmap(m_stepView->mainHeatmap());
    else if (auto* c = qobject_cast<CompareView*>(v))
        matrix = fromHeatmap(c->left());
    else if (auto* q = qobject_cast<QkInsideView*>(v))
        matrix = q->exportMatrix();
    else if (auto* q = qobject_cast<ValueSumsView*>(v))
        matrix = q->exportMatrix();
    else if (auto* q = qobject_cast<PositionalView*>(v))
        matrix = q->exportMatrix();
    else if (auto* q = qobject_cast<ScalingView*>(v))
        matrix = q->exportMatrix();
    else if (const HeadTrace* h = m_session->focusedHead()) {
        matrix.values = h->weights;
        matrix.rows = m_session->queryLabels();
        matrix.cols = m_session->keyLabels();
        matrix.name = tr("Layer %1 · head %2 · weights")
                          .arg(m_session->focus().layer + 1)
                          .arg(m_session->focus().head + 1);
    }
    ExportDialog dlg(target, matrix, this);
    dlg.setSession(m_session);
    // Step by step names its own step; the other tabs are named by their title.
    if (v != m_stepView)
        dlg.setCaption(captionFromSession(*m_session, m_tabs->tabText(m_tabs->currentIndex())));
    if (dlg.exec() == QDialog::Accepted && !dlg.writtenFiles().isEmpty())
        statusBar()->showMessage(dlg.statusMessage(), 10000);
}

void MainWindow::exportAllHeads() {
    ExportDialog dlg(currentExportTarget(), {}, this);
    dlg.setSession(m_session);
    dlg.setScope(ExportDialog::Scope::ModelHeads);
    if (dlg.exec() == QDialog::Accepted && !dlg.writtenFiles().isEmpty())
        statusBar()->showMessage(dlg.statusMessage(), 10000);
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About Attention Lab"),
        tr("<h3>Attention Lab %1</h3>"
           "<p>See how transformer attention works, step by step: embeddings, positions, "
           "queries, keys and values, scores, the softmax, and what each head looks at.</p>"
           "<p>Colour maps: viridis and cividis (colour-blind safe) for weights; blue–white–red "
           "centred on 0 for signed numbers; grey cells are masked (−∞).</p>")
            .arg(QStringLiteral(ATTN_VERSION)));
}

void MainWindow::showShortcuts() {
    QMessageBox::information(
        this, tr("Keyboard shortcuts"),
        tr("<table cellspacing='6'>"
           "<tr><td><b>← / →</b></td><td>previous / next step</td></tr>"
           "<tr><td><b>Space</b></td><td>play / pause the steps</td></tr>"
           "<tr><td><b>Home / End</b></td><td>first / last step</td></tr>"
           "<tr><td><b>H</b></td><td>next head</td></tr>"
           "<tr><td><b>Alt+1 … Alt+0, Alt+-, Alt+=</b></td><td>view 1 … 12, Ctrl+Alt+1 … the "
           "views after them (each tab's tooltip says its key)</td></tr>"
           "<tr><td><b>Ctrl+PgDown / Ctrl+PgUp</b></td><td>next / previous view</td></tr>"
           "<tr><td><b>Ctrl+O</b></td><td>open a model</td></tr>"
           "<tr><td><b>F11</b></td><td>presentation mode</td></tr>"
           "<tr><td><b>Ctrl+C</b></td><td>copy the view as an image</td></tr>"
           "<tr><td><b>Ctrl+Shift+C</b></td><td>copy the matrix as CSV</td></tr>"
           "<tr><td><b>Ctrl+E</b></td><td>export…</td></tr>"
           "</table><p>While you type in a text box, the arrow keys and space edit the text.</p>"));
}

void MainWindow::setPresentationMode(bool on) {
    if (on == m_presentation) return;
    m_presentation = on;
    if (on) {
        m_normalFont = QApplication::font();
        m_normalPalette = QApplication::palette();
        m_wasMaximized = isMaximized();
        m_normalToolTipFont = QToolTip::font();
        m_normalToolTipPalette = QToolTip::palette();
        QFont f = m_normalFont;
        f.setPointSizeF(m_normalFont.pointSizeF() * 1.35);
        // The application font reaches every widget without a font of its own (dock titles,
        // menus, the status bar, the controls); tooltips keep their own, so set theirs.
        QApplication::setFont(f);
        QToolTip::setFont(f);
        const QPalette p = presentationPalette(m_normalPalette);
        QApplication::setPalette(p);
        QToolTip::setPalette(p);
        m_session->setFontScale(1.5);
        showFullScreen();
        // Without a window manager nobody honours "full screen": take the screen ourselves.
        QTimer::singleShot(200, this, [this] {
            const QScreen* sc = screen();
            if (m_presentation && isFullScreen() && sc && geometry() != sc->geometry())
                setGeometry(sc->geometry());
        });
    } else {
        QApplication::setFont(m_normalFont);
        QToolTip::setFont(m_normalToolTipFont);
        QApplication::setPalette(m_normalPalette);
        QToolTip::setPalette(m_normalToolTipPalette);
        m_session->setFontScale(1.0);
        if (m_wasMaximized)
            showMaximized();
        else
            showNormal();
        // Started in presentation mode, the window has no normal size of its own yet: the
        // window manager's frame must not push the status bar off a 1024×768 screen.
        QTimer::singleShot(100, this, &MainWindow::fitToScreen);
    }
    const QSignalBlocker block(m_presentationAction);
    m_presentationAction->setChecked(on);
    // Fonts changed size: let the left panel be as wide as its controls now need.
    QTimer::singleShot(0, this, [this] {
        fitControlsWidth(/*shrink=*/true);
        fitHeadsHeight();
    });
    // Some controls follow the new fonts only once their own changes have been handled (the
    // untrained model's size boxes at 1.5×): look again when they have.
    QTimer::singleShot(150, this, [this] { fitControlsWidth(/*shrink=*/false); });
}

void MainWindow::fitToScreen() {
    if (isFullScreen() || isMaximized()) return;
    const QScreen* sc = screen();
    if (!sc) return;
    const QRect avail = sc->availableGeometry();
    const QRect frame = frameGeometry();
    if (avail.contains(frame)) return;
    // The frame (title bar, borders) around the client area, as the window manager draws it.
    const QSize extra = frame.size() - size();
    const QSize fit = size().boundedTo(avail.size() - extra).expandedTo(minimumSize());
    resize(fit);
    const QRect now(frame.topLeft(), fit + extra);
    QPoint at = now.topLeft();
    at.setX(
        std::clamp(at.x(), avail.left(), std::max(avail.left(), avail.right() - now.width() + 1)));
    at.setY(
        std::clamp(at.y(), avail.top(), std::max(avail.top(), avail.bottom() - now.height() + 1)));
    move(at);
}

void MainWindow::fitHeadsHeight() {
    // The heads dock as tall as its pictures want at this font size (64 px or more in
    // presentation mode), up to 45% of the window: the controls above scroll instead.
    if (!m_headsDock->isVisible() || m_headsDock->isFloating()) return;
    const int title = m_headsDock->fontMetrics().height() + 10;
    const int want = std::min(m_headGrid->sizeHint().height() + title, height() * 45 / 100);
    if (want > m_headsDock->height()) resizeDocks({m_headsDock}, {want}, Qt::Vertical);
}

void MainWindow::fitControlsWidth(bool shrink) {
    // The panel never scrolls sideways, so the dock is at least as wide as the controls need
    // (they need more when a loaded model shows its "Untrained" button, or with larger fonts).
    const int w = m_controls->minimumSizeHint().width() +
                  m_controlsScroll->verticalScrollBar()->sizeHint().width();
    m_controlsScroll->setMinimumWidth(w);
    // …and, after a change of fonts, no wider: the centre keeps the rest for the pictures.
    if (shrink) resizeDocks({m_controlsDock}, {w}, Qt::Horizontal);
}

void MainWindow::showFirstWeights() {
    // The lesson starts at its beginning: step 1 (the tokens), not in the middle of layer 1.
    m_session->setStep(0);
}

bool MainWindow::usingUntrainedModel() const {
    auto m = m_session->model();
    return !m || (m->source_path.empty() && m->config.name == "untrained");
}

void MainWindow::restoreSettings() {
    QString text = QString::fromUtf8(kDefaultText), target;
    if (!m_persistent) {
        m_controls->setSourceText(text);
        m_session->runNow();
        showFirstWeights();
        return;
    }
    QSettings s = settings();
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    ColorMapKind kind = ColorMapKind::Viridis;
    if (parseColorMap(s.value(QStringLiteral("view/colorMap")).toString(), &kind) &&
        kind != ColorMapKind::Diverging) {
        m_session->setColorMap(kind);
        for (QAction* a : m_colorMaps->actions())
            a->setChecked(a->data().toInt() == static_cast<int>(kind));
    }
    m_session->setShowNumbers(s.value(QStringLiteral("view/showNumbers"), true).toBool());
    text = s.value(QStringLiteral("input/text"), text).toString();
    target = s.value(QStringLiteral("input/target")).toString();
    m_controls->setTargetText(target);
    m_controls->setSourceText(text);

    // The model: the untrained one as the user left it, or a trained / loaded one.
    const QString spec = s.value(QStringLiteral("model/spec")).toString();
    if (s.contains(QStringLiteral("config/d_model"))) {
        attn::AttentionKnobs knobs;
        m_session->setConfig(readConfig(s, &knobs));
        m_session->setAttention(knobs);
    }
    m_modelActions->setUntrainedConfig(m_session->config());
    if (spec.isEmpty()) {
        // First start: the trained English model, when it is there, shows meaningful patterns.
        if (auto m = ModelActions::defaultModel();
            m && !(m->source_path.empty() && m->config.name == "untrained")) {
            m_session->setModel(m);
            m_modelSpec = QStringLiteral("builtin:english");
        }
    } else if (spec != QLatin1String("untrained")) {
        m_modelSpec = spec;
        m_modelActions->load(spec);
    }
    m_controls->syncFromSession();
    m_session->runNow();
    showFirstWeights();
    const int tab = s.value(QStringLiteral("window/tab"), 0).toInt();
    if (tab > 0 && tab < m_tabs->count()) m_tabs->setCurrentIndex(tab);
}

void MainWindow::applyStartOptions(const QString& modelSpec, const QString& text,
                                   const QString& target, const QString& tab) {
    if (!target.isEmpty()) m_controls->setTargetText(target);
    if (!text.isEmpty()) m_controls->setSourceText(text);
    if (modelSpec == QLatin1String("untrained")) {
        m_modelActions->useUntrained();
    } else if (!modelSpec.isEmpty()) {
        m_modelSpec = modelSpec;
        m_modelActions->load(modelSpec);
    }
    m_session->runNow();
    if (!tab.isEmpty()) {
        const int i = tabIndex(tab);
        if (i >= 0) m_tabs->setCurrentIndex(i);
    }
}

void MainWindow::saveSettings() {
    if (!m_persistent) return;
    QSettings s = settings();
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
    s.setValue(QStringLiteral("view/colorMap"), toString(m_session->colorMap()));
    s.setValue(QStringLiteral("view/showNumbers"), m_session->showNumbers());
    s.setValue(QStringLiteral("input/text"), m_session->text());
    s.setValue(QStringLiteral("input/target"), m_session->targetText());
    s.setValue(QStringLiteral("model/spec"), usingUntrainedModel() || m_modelSpec.isEmpty()
                                                 ? QStringLiteral("untrained")
                                                 : m_modelSpec);
    // A loaded model remembers itself (Model menu); the controls remember the untrained one.
    writeConfig(s, m_controls->untrainedConfig(), m_session->attention());
}

void MainWindow::startComparison() {
    if (!m_sessionB) {
        m_sessionB = new Session(this);
        m_pair = new SessionPair(m_session, m_sessionB, this);
        m_pair->copyAToB();
        m_comparePane = new ComparePane(m_pair, m_centre);
        m_diffView = new DiffView(m_pair, m_centre);
        m_centre->addWidget(m_comparePane);
        m_centre->addWidget(m_diffView);
        m_controlsDockB = new QDockWidget(tr("Run B controls"), this);
        m_controlsDockB->setObjectName(QStringLiteral("controlsDockB"));
        m_controlsDockB->setWidget(m_comparePane->controlsBox());
        m_controlsDockB->setFeatures(QDockWidget::DockWidgetMovable |
                                     QDockWidget::DockWidgetFloatable);
        addDockWidget(Qt::LeftDockWidgetArea, m_controlsDockB);
        // Beside A's controls as a second tab: the left column keeps its width.
        tabifyDockWidget(m_controlsDock, m_controlsDockB);
        connect(m_comparePane, &ComparePane::closeRequested, this, &MainWindow::closeComparison);
        connect(m_tabs, &QTabWidget::currentChanged, this, [this](int i) {
            if (m_comparing) m_comparePane->followTab(m_tabs->tabText(i));
        });
        // Hovering a token in Lines lights it on both sides (setHover stops at no change).
        if (auto* la = qobject_cast<LinesView*>(tabView(tabIndex(tr("Lines"))))) {
            LinesCanvas* ca = la->canvas();
            LinesCanvas* cb = m_comparePane->linesView()->canvas();
            connect(ca, &LinesCanvas::hovered, cb, &LinesCanvas::setHover);
            connect(cb, &LinesCanvas::hovered, ca, &LinesCanvas::setHover);
        }
        // The appearance (presentation mode, colour map) is the window's, for both runs.
        connect(m_session, &Session::changed, this, [this](const SessionChange& c) {
            if (!c.has(SessionChange::Appearance) || !m_sessionB) return;
            m_sessionB->setColorMap(m_session->colorMap());
            m_sessionB->setFontScale(m_session->fontScale());
            m_sessionB->setShowNumbers(m_session->showNumbers());
        });
    } else {
        m_pair->copyAToB();
        ControlsPanel* c = m_comparePane->controls();
        c->syncFromSession();
        c->setTargetText(m_sessionB->targetText());
        c->setSourceText(m_sessionB->text());
    }
    m_comparing = true;
    m_controlsDock->setWindowTitle(tr("Run A controls"));
    m_comparePane->show();
    m_controlsDockB->show();
    m_closeCompareAction->setEnabled(true);
    m_exportCompareAction->setEnabled(true);
    m_diffAction->setEnabled(true);
    m_comparePane->followTab(m_tabs->tabText(m_tabs->currentIndex()));
    updateCentreOrientation();
    placeDifference();
    shareCentre();
    // Before the window is shown (a start option) the centre has no size yet: share it again
    // once it has.
    QTimer::singleShot(0, this, &MainWindow::shareCentre);
    statusBar()->showMessage(tr("Run B is a copy of run A: change any of its controls."), 6000);
}

void MainWindow::closeComparison() {
    if (!m_comparing) return;
    m_comparing = false;
    m_comparePane->hide();
    placeDifference();
    m_controlsDockB->hide();
    m_controlsDock->setWindowTitle(tr("Input and controls"));
    m_controlsDock->raise();
    m_closeCompareAction->setEnabled(false);
    m_exportCompareAction->setEnabled(false);
    m_diffAction->setEnabled(false);
    // Run B stops listening while hidden: nothing of it runs until the next comparison.
    m_sessionB->cancel();
}

void MainWindow::setDifferenceShown(bool) {
    if (!m_diffView || !m_comparing) return;
    placeDifference();
    shareCentre();
}

void MainWindow::placeDifference() {
    // Wide: a third pane beside the two runs. Narrow (stacked runs): a third pane would leave
    // each picture a strip, so the difference is a tab of run B's pane.
    const bool show = m_comparing && m_diffAction->isChecked();
    const bool narrow = m_centre->orientation() == Qt::Vertical;
    if (narrow && show) {
        m_comparePane->setDifferenceTab(m_diffView);
        m_diffView->show();
        return;
    }
    m_comparePane->setDifferenceTab(nullptr);
    if (m_centre->indexOf(m_diffView) < 0) m_centre->addWidget(m_diffView);
    m_diffView->setVisible(show);
}

void MainWindow::shareCentre() {
    if (!m_comparing) return;
    // Equal room for the two runs; the difference a little less.
    const bool vertical = m_centre->orientation() == Qt::Vertical;
    const int total = vertical ? m_centre->height() : m_centre->width();
    if (m_centre->indexOf(m_diffView) >= 0 && m_diffView->isVisibleTo(this))
        m_centre->setSizes({total * 36 / 100, total * 36 / 100, total * 28 / 100});
    else
        m_centre->setSizes({total / 2, total / 2, 0});
}

QString MainWindow::comparisonTitle() const {
    if (!m_pair) return {};
    const QString d = m_pair->whatDiffers();
    return d.isEmpty() ? tr("Run A · Run B (set up alike)") : tr("Run A · Run B: %1").arg(d);
}

QImage MainWindow::comparisonImage() {
    if (!m_comparing) return {};
    QList<QPair<QString, QImage>> parts;
    parts << qMakePair(tr("A"), currentExportTarget()->grab().toImage());
    parts << qMakePair(tr("B"), m_comparePane->currentFigure()->grab().toImage());
    if (m_diffAction->isChecked() && m_diffView->pairValid())
        parts << qMakePair(tr("B − A"), m_diffView->heatmap()->grab().toImage());
    QFont titleFont = font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3 * m_session->fontScale());
    titleFont.setBold(true);
    const QFontMetrics fm(titleFont);
    const int gap = 12, head = fm.height() * 2 + gap;
    int w = gap, h = 0;
    for (const auto& p : parts) {
        w += p.second.width() + gap;
        h = std::max(h, p.second.height());
    }
    const QString title = comparisonTitle();
    w = std::max(w, fm.horizontalAdvance(title) + 2 * gap);
    QImage img(w, head + h + gap, QImage::Format_ARGB32);
    img.fill(Qt::white);
    QPainter painter(&img);
    painter.setFont(titleFont);
    painter.setPen(Qt::black);
    painter.drawText(QRect(gap, 0, w - 2 * gap, fm.height() + gap / 2), Qt::AlignVCenter, title);
    int x = gap;
    for (const auto& p : parts) {
        painter.drawText(QRect(x, fm.height() + gap / 2, p.second.width(), fm.height()),
                         Qt::AlignLeft | Qt::AlignVCenter, p.first);
        painter.drawImage(x, head, p.second);
        x += p.second.width() + gap;
    }
    return img;
}

void MainWindow::exportComparison() {
    const QImage img = comparisonImage();
    if (img.isNull()) return;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export comparison"), QStringLiteral("comparison.png"), tr("PNG images (*.png)"));
    if (path.isEmpty()) return;
    if (!img.save(path, "PNG")) {
        statusBar()->showMessage(tr("Could not write %1.").arg(path), 8000);
        return;
    }
    statusBar()->showMessage(tr("Wrote %1.").arg(path), 8000);
}

void MainWindow::resizeEvent(QResizeEvent* event) {
    QMainWindow::resizeEvent(event);
    updateCentreOrientation();
}

void MainWindow::updateCentreOrientation() {
    // Two matrices side by side need about 1300 pixels; below that (a 1024×768 projector) the
    // runs are stacked, A above B.
    const Qt::Orientation want = width() < stackBelowWidth() ? Qt::Vertical : Qt::Horizontal;
    if (m_centre && m_centre->orientation() != want) {
        m_centre->setOrientation(want);
        if (m_comparing) placeDifference();
        shareCentre();
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_presentation) setPresentationMode(false);
    saveSettings();
    QMainWindow::closeEvent(event);
}

}  // namespace attn::ui
