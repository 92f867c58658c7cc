#pragma once
// Run B of a comparison (issue 16): a header saying what B changes against A, B's model menu,
// "Close comparison", and B's own Step by step, Lines, Heads and Values views. B's controls are a
// ControlsPanel of its own, which the window puts in a dock beside A's.

#include <QWidget>

class QLabel;
class QPushButton;
class QScrollArea;
class QTabWidget;
class QToolButton;

namespace attn::ui {

class ControlsPanel;
class HeadGrid;
class LinesView;
class ModelActions;
class Session;
class SessionPair;
class StepView;
class ValueSumsView;

class ComparePane : public QWidget {
    Q_OBJECT
public:
    /// pair->b() is run B; the pane shows it and owns its controls and model menu.
    explicit ComparePane(SessionPair* pair, QWidget* parent = nullptr);

    ControlsPanel* controls() const { return m_controls; }
    /// B's controls in a scroll area under B's buttons (model, copy A, close), for the
    /// window's dock.
    QWidget* controlsBox() const { return m_controlsBox; }
    QScrollArea* controlsScroll() const { return m_controlsScroll; }
    ModelActions* modelActions() const { return m_modelActions; }
    QTabWidget* tabs() const { return m_tabs; }
    StepView* stepView() const { return m_step; }
    LinesView* linesView() const { return m_lines; }
    HeadGrid* headGrid() const { return m_heads; }
    QLabel* headerLabel() const { return m_header; }
    /// Shows the tab titled like the window's tab in front, when B has it ("Step by step",
    /// "Lines", "Values"); else keeps its own.
    void followTab(const QString& title);
    /// In a narrow window the difference is a tab of this pane ("B − A") rather than a third
    /// pane: set (nullptr removes the tab; the caller takes the widget back).
    void setDifferenceTab(QWidget* diff);
    /// The figure of B's tab in front (what an export of the pair shows for run B).
    QWidget* currentFigure() const;

signals:
    void closeRequested();

private:
    void updateHeader();

    SessionPair* m_pair;
    QLabel* m_header = nullptr;
    QToolButton* m_model = nullptr;
    QPushButton* m_reset = nullptr;
    QPushButton* m_close = nullptr;
    QTabWidget* m_tabs = nullptr;
    StepView* m_step = nullptr;
    LinesView* m_lines = nullptr;
    HeadGrid* m_heads = nullptr;
    ValueSumsView* m_values = nullptr;
    QWidget* m_diffTab = nullptr;
    ControlsPanel* m_controls = nullptr;
    QScrollArea* m_controlsScroll = nullptr;
    QWidget* m_controlsBox = nullptr;
    ModelActions* m_modelActions = nullptr;
};

}  // namespace attn::ui
