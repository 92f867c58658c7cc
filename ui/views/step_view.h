#pragma once
// Layer rule (ui/views/): read, do no math. May include: session, widgets, common, engine, qt.
// Step by step: the pipeline as a list (embedding → + PE → Q, K, V → QKᵀ → ÷√d_k → mask →
// softmax → ×V → concat → W_O → add & norm → feed-forward → next layer), the current step's
// formula and plain-words explanation, and its matrices as labelled heatmaps whose tooltips spell
// out the arithmetic. Previous / Play / Next walk the steps.

#include <QList>
#include <QStringList>
#include <QWidget>

#include "views/session_view.h"

class QCheckBox;
class QGraphicsOpacityEffect;
class QHBoxLayout;
class QLabel;
class QListWidget;
class QPropertyAnimation;
class QPushButton;
class QComboBox;
class QTimer;
class QSplitter;

namespace attn::ui {

class HeatmapView;
class Session;

class StepView : public SessionView {
    Q_OBJECT
public:
    explicit StepView(Session* session, QWidget* parent = nullptr);

    /// The heatmaps of the current step, in display order (visible ones only).
    QList<HeatmapView*> visibleHeatmaps() const;
    /// The main matrix of the step (the one the tooltips explain; the right-most one).
    HeatmapView* mainHeatmap() const;
    QListWidget* stepList() const { return m_list; }
    bool playing() const;
    QString titleText() const;
    /// Title, formula and matrices without the buttons: what exports and copies show.
    QWidget* exportTarget() const { return m_figure; }
    /// For exports: hides the "Step 8 / 26" counter and the heatmaps' focus highlight (and
    /// skips the step transition) while on; off restores the window's look.
    void setExportMode(bool on);
    bool exportMode() const { return m_exportMode; }
    /// The short fade when walking to the next or previous step (on by default; tests and
    /// benchmarks that grab right after a step turn it off).
    void setTransitions(bool on);
    bool transitionRunning() const;
    QString formulaText() const;
    QString explainText() const;
    /// The pane the matrices are laid out in (the figure's layout checks measure against it).
    QWidget* matrixPane() const { return m_matrices; }
    /// The operator labels between matrices ("+", "=", …) that are shown now.
    QStringList shownOperators() const;
    /// Show the step's weights (W_Q, W_K, W_V, W_O, W₁, W₂) next to what they produce.
    void setShowWeights(bool on);
    bool showWeights() const { return m_showWeightsOn; }
    /// How the current step's matrices are arranged: "row", "column" or "product" (the inputs
    /// left of and above the result, as a matrix product is drawn by hand).
    QString arrangement() const { return m_arrangement; }
    /// Where each head's columns begin in the concat step (x in matrixPane() coordinates,
    /// one per head after the first); empty in other steps.
    QList<int> headBoundaries() const;
    /// Whether "Show weights" and the head chooser moved to a second row (a narrow pane).
    bool navOnTwoRows() const;
    /// Whether Previous, Play and Next show their names (or only their icons: a narrow pane).
    bool navButtonsNamed() const;
    /// Whether the step list gave way to a step chooser in the buttons' row (a narrow pane).
    bool compact() const { return m_compact; }
    /// Narrow enough for any pane: the view folds its controls (names → icons, two rows, the
    /// list → a chooser) to the width it is given, so the layouts' sum must not hold it wider.
    QSize minimumSizeHint() const override;

    /// Rich text for a pipeline formula: d_k → d<sub>k</sub>, ^(…) → superscript.
    static QString formulaHtml(const QString& formula);

public slots:
    void play(bool on);
    void togglePlay();

signals:
    void playingChanged(bool playing);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void rebuildList();
    void refresh(int parts) override;
    void applyAppearance();
    void alignOperators();
    void fitCells();
    void fitOnce();
    void placeHeadLines();
    void fadeIn();
    void placeNavExtras();
    void updateCompact();

    QSplitter* m_split = nullptr;
    QWidget* m_figure = nullptr;
    double m_basePt = 10.0;  // the font size before any presentation scaling
    QListWidget* m_list = nullptr;
    QLabel* m_counter = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_formula = nullptr;
    QLabel* m_explain = nullptr;
    QLabel* m_tokens = nullptr;  // the Tokens step shows chips instead of a matrix
    static constexpr int kMaxPanels = 4;
    QLabel* m_operators[kMaxPanels - 1] = {nullptr, nullptr, nullptr};
    QWidget* m_matrices = nullptr;
    QWidget* m_headLines = nullptr;  // the concat step's head boundaries, drawn over the matrix
    QList<HeatmapView*> m_maps;
    QPushButton* m_prev = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_play = nullptr;
    QComboBox* m_speed = nullptr;
    QComboBox* m_head = nullptr;
    QCheckBox* m_showWeights = nullptr;
    QComboBox* m_stepChooser = nullptr;  // replaces the list in a narrow pane
    bool m_compact = false;
    QStringList m_buttonNames;       // "Previous", "Play", "Next": shown when they fit
    QWidget* m_navExtras = nullptr;  // "Show weights" and the head chooser
    QWidget* m_navRight = nullptr;   // the pane beside the step list
    QHBoxLayout* m_navRow1 = nullptr;
    QHBoxLayout* m_navRow2 = nullptr;
    QTimer* m_timer = nullptr;
    QGraphicsOpacityEffect* m_fade = nullptr;
    QPropertyAnimation* m_fadeAnim = nullptr;
    bool m_exportMode = false;
    bool m_transitions = true;
    bool m_showWeightsOn = false;
    bool m_productable = false;  // the step is A × B = C with A's rows and B's columns C's
    int m_concatHeads = 0;       // heads side by side in the concat matrix (0: not concat)
    QString m_arrangement;
    int m_shownStep = -1;       // the step on screen (a new one fades in)
    QList<QSize> m_fitMargins;  // label margins the last fitCells assumed, per heatmap
    bool m_inFit = false;       // fitCells is placing the matrices
    bool m_fitAgain = false;    // a fit was asked for meanwhile
    int m_fitPasses = 0;        // refits after a repaint measured other margins
    int m_shownSteps = -1;      // list rebuilt when the step list changes
    const void* m_listTrace = nullptr;
};

}  // namespace attn::ui
