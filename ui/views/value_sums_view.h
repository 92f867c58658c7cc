#pragma once
// "Weighted value sums": for one query token i of the focused head, the weights α_ij as bars
// beside ‖α_ij·v_j‖, each value vector scaled by its weight (rows = key tokens, columns = value
// dimensions) and their sum z_i, the head's output row. The terms come from attn::valueTerms.

#include <Eigen/Dense>
#include <QWidget>

#include "common/labelled_matrix.h"
#include "views/session_view.h"

class QComboBox;
class QCustomPlot;
class QLabel;

namespace attn::ui {

class HeatmapView;
class Session;

class ValueSumsView : public SessionView {
    Q_OBJECT
public:
    explicit ValueSumsView(Session* session, QWidget* parent = nullptr);

    /// (T_k + 1, d_v): row j = α_ij·v_j, last row = z_i from the trace. Empty without a trace.
    const Eigen::MatrixXf& contributions() const { return m_contrib; }
    /// (T_k): α_ij of the shown query.
    const Eigen::VectorXf& weights() const { return m_weights; }
    /// (T_k): ‖α_ij·v_j‖ from attn::valueTerms.
    const Eigen::VectorXf& norms() const { return m_norms; }
    int query() const { return m_query; }

    QWidget* exportTarget() const { return m_content; }
    /// The contributions with key tokens (and "z") as rows, value dimensions as columns.
    LabelledMatrix exportMatrix() const;
    HeatmapView* heatmap() const { return m_heatmap; }
    QString summaryText() const;

private:
    void refresh(int parts) override;

    QComboBox* m_queryPicker = nullptr;
    QLabel* m_headLabel = nullptr;
    QWidget* m_content = nullptr;
    QLabel* m_heading = nullptr;
    QCustomPlot* m_bars = nullptr;
    HeatmapView* m_heatmap = nullptr;
    QLabel* m_summary = nullptr;
    Eigen::MatrixXf m_contrib;
    Eigen::VectorXf m_weights;
    Eigen::VectorXf m_norms;
    QStringList m_rowLabels;
    int m_query = -1;
};

}  // namespace attn::ui
