#pragma once
// Layer rule (ui/window/): the window, controls, menus; no argv. May include: ui/*, engine, qt.
// The main window: input and controls on the left, the step-by-step view in the centre with the
// other views as tabs, the head grid on the right; menus, shortcuts, presentation mode, and the
// settings it remembers (QSettings, organisation "AttentionLab").

#include <QMainWindow>
#include <QPalette>
#include <QPointer>
#include <functional>

class QAction;
class QImage;
class QActionGroup;
class QDockWidget;
class QLabel;
class QProgressBar;
class QScrollArea;
class QSplitter;
class QTabWidget;

namespace attn::ui {

class ControlsPanel;
class HeadGrid;
class LinesView;
class CompareView;
class Session;
class StepView;
class ModelActions;
class ComparePane;
class DiffView;
class SessionPair;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    /// persistent = false: neither reads nor writes QSettings (tests, benchmarks).
    explicit MainWindow(QWidget* parent = nullptr, bool persistent = true);
    ~MainWindow() override;

    Session* session() const { return m_session; }
    ControlsPanel* controls() const { return m_controls; }
    StepView* stepView() const { return m_stepView; }
    HeadGrid* headGrid() const { return m_headGrid; }
    QTabWidget* tabs() const { return m_tabs; }
    /// The view of a tab, created when first shown (nullptr for a placeholder).
    QWidget* tabView(int index);
    /// Index of the tab whose title starts with title, or -1.
    int tabIndex(const QString& title) const;
    bool presentationMode() const { return m_presentation; }
    ModelActions* modelActions() const { return m_modelActions; }
    QDockWidget* controlsDock() const { return m_controlsDock; }
    QDockWidget* headsDock() const { return m_headsDock; }
    QScrollArea* controlsScroll() const { return m_controlsScroll; }
    /// The Go to view actions, one per tab, in tab order (each with its shortcut).
    const QList<QAction*>& tabShortcutActions() const { return m_tabShortcuts; }
    /// The status bar's step text ("step 3 of 26 · decoder layer 2 (cross-attention) · …") and
    /// the altered-model banner (empty when every head is on).
    QString statusText() const;
    /// Moves and shrinks a normal window so that its frame lies on the screen's free area
    /// (a window manager's title bar must not push the status bar off a 1024×768 projector).
    void fitToScreen();
    QString alteredText() const;
    /// "layer 2", or with two stacks "encoder layer 2" / "decoder layer 2 (cross-attention)".
    QString layerName(int layer, bool decoder, bool cross) const;

    /// Command-line start: shows text (and target, for encoder–decoder models), opens the model
    /// spec ("untrained", "builtin:…" or a path; empty = as last time) and brings the tab whose
    /// title starts with tab to the front (empty = as last time).
    void applyStartOptions(const QString& modelSpec, const QString& text, const QString& target,
                           const QString& tab);

    /// What File → Export and Edit → Copy act on: the figure of the tab in front.
    QWidget* currentExportTarget();

    // --- comparison of two runs (issue 16) -----------------------------------------------
    /// Whether run B is on show beside run A.
    bool comparing() const { return m_comparing; }
    /// Run B (nullptr until the first comparison), the pair linking it to run A, its pane, the
    /// difference panel and the dock of B's controls.
    Session* sessionB() const { return m_sessionB; }
    SessionPair* sessionPair() const { return m_pair; }
    ComparePane* comparePane() const { return m_comparePane; }
    DiffView* diffView() const { return m_diffView; }
    QDockWidget* controlsDockB() const { return m_controlsDockB; }
    /// The splitter in the centre: run A's tabs, run B's pane, the difference (vertical when
    /// the window is narrower than stackBelowWidth()).
    QSplitter* centreSplitter() const { return m_centre; }
    static constexpr int stackBelowWidth() { return 1300; }
    /// The pair as one figure: run A's figure and run B's side by side (and the difference when
    /// it is on show), under a title that says what B changes. Null when not comparing.
    QImage comparisonImage();
    /// The title of that figure ("Run A · Run B: no ÷√d_k").
    QString comparisonTitle() const;

public slots:
    void setPresentationMode(bool on);
    void copyView();
    void exportView();
    void exportAllHeads();
    void openModel();
    void showAbout();
    void showShortcuts();
    void saveSettings();
    /// Opens the model an example is meant for ("untrained", "builtin:…", a path) unless it is
    /// already open.
    void openExampleModel(const QString& spec);
    /// "Compare with…": opens run B as a copy of run A beside it (again: copies A once more).
    void startComparison();
    void closeComparison();
    void setDifferenceShown(bool on);
    /// File → Export comparison…: writes comparisonImage() as a PNG.
    void exportComparison();

protected:
    void closeEvent(QCloseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void buildTabs();
    void buildMenus();
    void restoreSettings();
    void ensureTabView(int index);
    void showFirstWeights();
    bool usingUntrainedModel() const;
    void updateStatus();
    void fitControlsWidth(bool shrink);
    void fitHeadsHeight();
    void updateCentreOrientation();
    void shareCentre();
    void placeDifference();

    Session* m_session = nullptr;
    ControlsPanel* m_controls = nullptr;
    StepView* m_stepView = nullptr;
    HeadGrid* m_headGrid = nullptr;
    QTabWidget* m_tabs = nullptr;
    QDockWidget* m_controlsDock = nullptr;
    QScrollArea* m_controlsScroll = nullptr;
    QDockWidget* m_headsDock = nullptr;
    QLabel* m_statusStep = nullptr;
    QWidget* m_loadBox = nullptr;  // progress bar and Cancel while a model opens
    QProgressBar* m_loadBar = nullptr;
    QLabel* m_statusAltered = nullptr;
    QList<QAction*> m_tabShortcuts;
    QActionGroup* m_colorMaps = nullptr;
    QAction* m_presentationAction = nullptr;
    ModelActions* m_modelActions = nullptr;
    QString m_modelSpec;  // what the Model menu last loaded ("builtin:english", a path)
    bool m_persistent = true;
    bool m_presentation = false;
    bool m_wasMaximized = false;
    QList<std::function<QWidget*()>> m_factories;  // per tab; empty = built at start
    QList<QPointer<QWidget>> m_views;              // per tab, null until created
    QByteArray m_normalState;
    QFont m_normalFont;
    QPalette m_normalPalette;
    QFont m_normalToolTipFont;
    QPalette m_normalToolTipPalette;
    // Comparison: built on first use, hidden (not destroyed) when closed.
    QSplitter* m_centre = nullptr;
    Session* m_sessionB = nullptr;
    SessionPair* m_pair = nullptr;
    ComparePane* m_comparePane = nullptr;
    DiffView* m_diffView = nullptr;
    QDockWidget* m_controlsDockB = nullptr;
    QAction* m_compareAction = nullptr;
    QAction* m_closeCompareAction = nullptr;
    QAction* m_diffAction = nullptr;
    QAction* m_exportCompareAction = nullptr;
    bool m_comparing = false;
};

}  // namespace attn::ui
