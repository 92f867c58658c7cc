#pragma once
// Positional encodings, looked at four ways: the sin/cos waves of chosen dimensions over positions;
// the PE matrix; the similarity PE·PEᵀ of positions; and PE(t+k) = M_k·PE(t), the rotation that
// moves every position k steps. A model with learned positions shows its learned table instead; a
// RoPE model shows its rotation angle per pair and position. All numbers come from
// attn/positional_encoding.h.

#include <Eigen/Dense>
#include <QList>
#include <QWidget>

#include "attn/positional_encoding.h"
#include "common/labelled_matrix.h"
#include "views/session_view.h"

class QCustomPlot;
class QLabel;
class QListWidget;
class QSpinBox;
class QTabWidget;

namespace attn::ui {

class HeatmapView;
class Session;

class PositionalView : public SessionView {
    Q_OBJECT
public:
    enum class Page { Waves, Table, Similarity, Offset, None };

    explicit PositionalView(Session* session, QWidget* parent = nullptr);

    /// The figure of the page in front (without its controls).
    QWidget* exportTarget() const;
    /// The matrix of the page in front: the table, the similarity, the offset vectors, or the
    /// plotted wave columns.
    LabelledMatrix exportMatrix() const;

    /// Shows a page when the model has it; false otherwise.
    bool showPage(Page page);
    Page currentPage() const;
    bool hasPage(Page page) const;
    PositionalKind kind() const { return m_kind; }

    void setPositions(int positions);
    int positions() const;
    /// Dimensions (sinusoidal, learned) or pairs (RoPE) whose waves are drawn.
    void setWaveDimensions(const QList<int>& dims);
    QList<int> waveDimensions() const;
    /// The offset demonstration: start t and shift k.
    void setOffset(int t, int k);
    /// max |M_k·PE(t) − PE(t+k)| of the current offset demonstration.
    double offsetMaxDifference() const { return m_offsetDiff; }

    HeatmapView* tableHeatmap() const { return m_tableMap; }
    HeatmapView* similarityHeatmap() const { return m_simMap; }
    HeatmapView* offsetMatrixHeatmap() const { return m_mkMap; }
    HeatmapView* offsetVectorsHeatmap() const { return m_vecMap; }
    QCustomPlot* wavesPlot() const { return m_waves; }

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void refresh(int parts) override;
    void fitDimensionList();
    void rebuild();
    void rebuildWaves();
    void rebuildTable();
    void rebuildOffset();
    void fillDimensionList();
    int dimCount() const;  ///< d_model, or pairs for RoPE
    QStringList positionLabels(int count) const;

    PositionalKind m_kind = PositionalKind::Sinusoidal;
    int m_dModel = 0;
    int m_dHead = 0;
    float m_base = 10000.0f;
    float m_ropeTheta = 10000.0f;
    Eigen::MatrixXf m_learned;  // (max_len, d_model), learned models only
    int m_tokens = 0;
    QStringList m_tokenLabels;

    QLabel* m_modelLabel = nullptr;
    QSpinBox* m_positions = nullptr;
    QTabWidget* m_tabs = nullptr;
    QWidget* m_pages[5] = {};
    QWidget* m_figures[5] = {};
    // Waves
    QListWidget* m_dimList = nullptr;
    QCustomPlot* m_waves = nullptr;
    QLabel* m_wavesHeading = nullptr;
    Eigen::MatrixXf m_waveData;  // (positions, selected dims)
    QStringList m_waveNames;
    // Table and similarity
    QLabel* m_tableHeading = nullptr;
    HeatmapView* m_tableMap = nullptr;
    QLabel* m_simHeading = nullptr;
    HeatmapView* m_simMap = nullptr;
    // Offset
    QSpinBox* m_t = nullptr;
    QSpinBox* m_k = nullptr;
    QLabel* m_offsetHeading = nullptr;
    HeatmapView* m_mkMap = nullptr;
    HeatmapView* m_vecMap = nullptr;
    QLabel* m_offsetNote = nullptr;
    double m_offsetDiff = 0;
    QLabel* m_noneNote = nullptr;
};

}  // namespace attn::ui
