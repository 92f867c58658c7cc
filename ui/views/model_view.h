#pragma once
// Every layer × head at once (BertViz's model view): one thumbnail per head, as a heatmap of its
// attention weights or as lines from queries to keys in the head's colour, sized to fill the
// pane; below a readable size the grid scrolls instead of shrinking. Click a thumbnail to focus
// that head; right-click switches it off.

#include <QImage>
#include <QRect>
#include <QWidget>
#include <vector>

#include "attn/trace.h"
#include "views/session_view.h"

class QComboBox;
class QLabel;
class QScrollArea;

namespace attn::ui {

/// Paints the grid of thumbnails; its size is set by ModelView from the scroll area's viewport.
class ModelCanvas : public QWidget {
    Q_OBJECT
public:
    enum class Style { Heatmap, Lines };
    struct Cell {
        const Mat* weights = nullptr;  // (T_q, T_k), owned by the trace the canvas keeps
        QImage image;                  // heatmap of weights
        bool disabled = false;
        QString tip;
    };

    explicit ModelCanvas(QWidget* parent = nullptr);
    /// cells: layers × heads, row-major (layer, then head). Keeps trace alive for the weights.
    void setCells(TracePtr trace, int layers, int heads, std::vector<Cell> cells);
    void setFocusHead(int layer, int head);
    void setStyle(Style style);
    void setFontScale(double scale);
    /// Lays the cells out for a viewport of this size; returns the canvas size (≥ the viewport
    /// when the cells would be below minimumEdge()).
    QSize layoutFor(const QSize& viewport);

    int layers() const { return m_layers; }
    int heads() const { return m_heads; }
    Style style() const { return m_style; }
    /// Height of one thumbnail, in pixels (its short side).
    int cellEdge() const { return m_edge; }
    /// Width of one thumbnail: as wide as tall, or up to 1.6 times wider when the pane is wide
    /// and the layers take the height (so that a 12 × 12 grid still fills a wide screen).
    int cellWidth() const { return m_cellW; }
    /// The smallest side a thumbnail is allowed to have before the grid scrolls.
    int minimumEdge() const;
    /// A thumbnail's picture (without its "L1 H1" label), in canvas coordinates.
    QRect cellRect(int layer, int head) const;
    /// The label's rectangle above that picture.
    QRect labelRect(int layer, int head) const;
    QString cellLabel(int layer, int head) const;

signals:
    void clicked(int layer, int head);
    void toggleRequested(int layer, int head);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    bool event(QEvent* event) override;

private:
    bool cellAt(const QPoint& pos, int* layer, int* head) const;
    void paintLines(QPainter& p, const QRect& r, const Mat& w, const QColor& colour) const;
    int labelHeight() const;

    TracePtr m_trace;
    int m_layers = 0, m_heads = 0;
    std::vector<Cell> m_cells;
    int m_focusLayer = -1, m_focusHead = -1;
    Style m_style = Style::Heatmap;
    double m_fontScale = 1.0;
    int m_edge = 0, m_cellW = 0, m_gap = 8;
    QPoint m_origin;  // top left of cell (0, 0)'s label
};

class ModelView : public SessionView {
    Q_OBJECT
public:
    explicit ModelView(Session* session, QWidget* parent = nullptr);

    ModelCanvas* canvas() const { return m_canvas; }
    QScrollArea* scrollArea() const { return m_scroll; }
    /// Heatmap or lines.
    void setStyle(ModelCanvas::Style style);
    /// Which block: 0 = (encoder) self, 1 = decoder self, 2 = decoder cross.
    int stackIndex() const;
    /// The "model altered" line is on screen (heads are switched off).
    bool alteredNoticeShown() const;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refresh(int parts) override;
    void rebuild();
    void relayout();
    void toggleHead(int layer, int head);

    QLabel* m_header = nullptr;
    QLabel* m_altered = nullptr;
    QComboBox* m_styleBox = nullptr;
    QComboBox* m_stack = nullptr;
    QScrollArea* m_scroll = nullptr;
    ModelCanvas* m_canvas = nullptr;
};

}  // namespace attn::ui
