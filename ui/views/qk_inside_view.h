#pragma once
// "Query · key inside": for the focused (query, key) pair of the focused head, the vectors q and
// k, their element-wise product q∘k and its sum as bars, with the raw score, the scaled score
// and the softmax weight printed, so one sees which dimensions make a score large.
//
// Reads Session::trace() / focusedHead(); the numbers come from attn::scoreBreakdown and
// attn::readScale (attn/score_breakdown.h), which read them off the trace.

#include <Eigen/Dense>
#include <QWidget>

#include "attn/attention.h"
#include "attn/score_breakdown.h"
#include "common/labelled_matrix.h"
#include "views/session_view.h"

class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QLabel;

namespace attn::ui {

class Session;

class QkInsideView : public SessionView {
    Q_OBJECT
public:
    /// What the view shows for one (query, key) pair: the engine's breakdown and the block's
    /// settings that name it.
    struct Breakdown : attn::ScoreBreakdown {
        bool valid = false;
        ScoreFunction scoreFunction = ScoreFunction::ScaledDot;  ///< the block's score function
        bool scaleOn = true;
        float temperature = 1.0f;
    };

    explicit QkInsideView(Session* session, QWidget* parent = nullptr);

    const Breakdown& breakdown() const { return m_b; }
    /// The plain text of the printed explanation.
    QString summaryText() const;
    /// The part worth exporting (plot and text, without the pickers).
    QWidget* exportTarget() const { return m_content; }
    /// Rows q, k, q∘k; columns the d_k dimensions.
    LabelledMatrix exportMatrix() const;
    QCustomPlot* plot() const { return m_plot; }

private:
    void refresh(int parts) override;

    QComboBox* m_queryPicker = nullptr;
    QComboBox* m_keyPicker = nullptr;
    QLabel* m_headLabel = nullptr;
    QWidget* m_content = nullptr;
    QLabel* m_heading = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPAxisRect* m_sumRect = nullptr;
    QLabel* m_summary = nullptr;
    Breakdown m_b;
};

}  // namespace attn::ui
