#pragma once
// The third panel of a comparison: B − A of the focused head's matrix on a diverging map centred
// on 0, the largest changes (cell, A, B, Δ) and, for weights, each query row's change in entropy
// and in the key it attends to most. It reads SessionPair::focusedDiff and does no math.

#include <QWidget>

class QBoxLayout;
class QComboBox;
class QLabel;
class QTableWidget;
class QTabWidget;

namespace attn::ui {

class HeatmapView;
class SessionPair;

class DiffView : public QWidget {
    Q_OBJECT
public:
    explicit DiffView(SessionPair* pair, QWidget* parent = nullptr);

    HeatmapView* heatmap() const { return m_map; }
    QTableWidget* changesTable() const { return m_changes; }
    QTableWidget* rowsTable() const { return m_rows; }
    QLabel* noteLabel() const { return m_note; }
    QComboBox* matrixCombo() const { return m_what; }
    /// Whether the runs share the focused matrix in shape (else the panel says why).
    bool pairValid() const;
    /// Refreshes now (tests, and a view that was hidden when the pair changed).
    void refresh();

protected:
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void onPairChanged();

    SessionPair* m_pair;
    bool m_dirty = true;
    QComboBox* m_what = nullptr;
    QLabel* m_note = nullptr;
    HeatmapView* m_map = nullptr;
    QBoxLayout* m_body = nullptr;
    QTabWidget* m_lists = nullptr;
    QTableWidget* m_changes = nullptr;
    QTableWidget* m_rows = nullptr;
};

}  // namespace attn::ui
