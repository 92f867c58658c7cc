#pragma once
// Layer rule (ui/views/): read, do no math. May include: session, widgets, common, engine, qt.
// Step by step: the pipeline as a list (embedding → + PE → Q, K, V → QKᵀ → ÷√d_k → mask →
// softmax → ×V → concat → W_O → add & norm → feed-forward → next layer), the current step's
// formula and plain-words explanation, and its matrices as labelled heatmaps whose tooltips spell
// out the arithmetic. Previous / Play / Next walk the steps.

#include <QList>
#include <QWidget>

#include "views/session_view.h"

class QLabel;
class QListWidget;
class QPushButton;
class QComboBox;
class QTimer;
class QSplitter;
class QHBoxLayout;

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
    QString formulaText() const;

    /// Rich text for a pipeline formula: d_k → d<sub>k</sub>, ^(…) → superscript.
    static QString formulaHtml(const QString& formula);

public slots:
    void play(bool on);
    void togglePlay();

signals:
    void playingChanged(bool playing);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void rebuildList();
    void refresh(int parts) override;
    void applyAppearance();
    void alignOperators();
    void fitCells();
    HeatmapView* heatmap(int i);

    QSplitter* m_split = nullptr;
    QWidget* m_figure = nullptr;
    double m_basePt = 10.0;  // the font size before any presentation scaling
    QListWidget* m_list = nullptr;
    QLabel* m_counter = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_formula = nullptr;
    QLabel* m_explain = nullptr;
    QLabel* m_tokens = nullptr;  // the Tokens step shows chips instead of a matrix
    QLabel* m_operators[2] = {nullptr, nullptr};
    QWidget* m_matrices = nullptr;
    QHBoxLayout* m_matrixLayout = nullptr;
    QList<HeatmapView*> m_maps;
    QPushButton* m_prev = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_play = nullptr;
    QComboBox* m_speed = nullptr;
    QComboBox* m_head = nullptr;
    QTimer* m_timer = nullptr;
    int m_fitExtraW = 0;    // label margins the last fitCells assumed
    int m_shownSteps = -1;  // list rebuilt when the step list changes
    const void* m_listTrace = nullptr;
};

}  // namespace attn::ui
