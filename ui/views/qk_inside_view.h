#pragma once
// "Query · key inside": for the focused (query, key) pair of the focused head, the vectors q and
// k, their element-wise product q∘k and its sum as bars, with the raw score, the scaled score
// and the softmax weight printed, so one sees which dimensions make a score large.
//
// Reads Session::trace() / focusedHead(); the numbers it prints for score, scaled score and
// weight come from the trace, the bars only take q and k apart.

#include <Eigen/Dense>
#include <QWidget>

#include "attn/attention.h"
#include "common/labelled_matrix.h"

class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QLabel;

namespace attn::ui {

class Session;

class QkInsideView : public QWidget {
    Q_OBJECT
public:
    /// What the view shows for one (query, key) pair.
    struct Breakdown {
        bool valid = false;
        int query = 0;
        int key = 0;
        int d_k = 0;
        Eigen::VectorXf q;        // (d_k): the query row of Q
        Eigen::VectorXf k;        // (d_k): the key row of K
        Eigen::VectorXf product;  // (d_k): q∘k
        float sum = 0;            ///< Σ q_i·k_i
        float traceScore = 0;     ///< the trace's raw score for the pair
        float scaled = 0;         ///< the trace's scaled score (÷√d_k, ÷ temperature)
        float weight = 0;         ///< the trace's softmax weight
        bool masked = false;      ///< hidden by the mask
        int rank = 0;             ///< 1 = the key with the largest weight in the row
        ScoreFunction score = ScoreFunction::ScaledDot;
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
    void rebuild();

    Session* m_session;
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
