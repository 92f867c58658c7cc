#pragma once
// The focused head as lines: query tokens in a left column, key tokens in a right column, one
// line per (query, key) pair whose strength and opacity are the attention weight. Hovering a
// token shows only its lines (with their weights); clicking a query focuses it. Like BertViz's
// head view, several heads of the focused layer can be drawn together, each in its own colour
// (a row of head swatches toggles them; "All heads" shows every one).

#include <QList>
#include <QWidget>
#include <vector>

#include "attn/attention.h"

class QHBoxLayout;
class QLabel;
class QSlider;
class QToolButton;

#include "views/session_view.h"

namespace attn::ui {

class Session;

class LinesCanvas : public QWidget {
    Q_OBJECT
public:
    explicit LinesCanvas(Session* session, QWidget* parent = nullptr);
    /// One head's lines, drawn in the single-head blue.
    void setWeights(const Mat& weights, const QStringList& queries, const QStringList& keys);
    /// One head of several drawn together: its weights and its colour.
    struct HeadLines {
        int head = 0;
        Mat weights;  // (T_q, T_k)
        QColor colour;
    };
    /// Several heads at once, each in its colour (all of the same shape).
    void setHeads(std::vector<HeadLines> heads, const QStringList& queries,
                  const QStringList& keys);
    /// Heads drawn (their numbers, 0-based) and how many lines each had at the last paint.
    int headCount() const { return static_cast<int>(m_heads.size()); }
    int drawnLinesOfHead(int index) const {
        return index >= 0 && index < static_cast<int>(m_drawnPerHead.size())
                   ? m_drawnPerHead[static_cast<std::size_t>(index)]
                   : 0;
    }
    /// The distinct line colours of the last paint (without alpha).
    QList<QRgb> drawnColours() const { return m_drawnColours; }
    /// Width in pixels of a line of weight 1 (a projector needs them thick).
    double lineWidthAtOne() const;
    void setThreshold(double t) {
        m_threshold = t;
        update();
    }
    void setFontScale(double s);
    /// -1 = none; otherwise a query (side 0) or key (side 1) token under the mouse.
    void setHover(int side, int index);
    int hoverSide() const { return m_hoverSide; }
    int hoverIndex() const { return m_hoverIndex; }
    /// Lines drawn at the last paint (tests).
    int drawnLines() const { return m_drawn; }
    QSize sizeHint() const override { return {520, 420}; }
    QSize minimumSizeHint() const override { return {200, 120}; }

signals:
    /// The token under the mouse changed (setHover's side and index; -1 = none). Two runs side
    /// by side pass it to each other, so hovering a token lights it in both.
    void hovered(int side, int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    bool tokenAt(const QPoint& pos, int* side, int* index) const;
    double rowY(int i, int n) const;
    QRectF tokenRect(int side, int i) const;

    Session* m_session;
    std::vector<HeadLines> m_heads;  // every head on show, same shape
    Mat m_w;                         // (T_q, T_k) of the first head: the shape and labels
    QStringList m_q, m_k;
    double m_threshold = 0.02;
    double m_fontScale = 1.0;
    int m_hoverSide = -1, m_hoverIndex = -1;
    int m_drawn = 0;
    bool m_single = true;  // one head in the classic blue, hover in pink
    std::vector<int> m_drawnPerHead;
    QList<QRgb> m_drawnColours;
};

class LinesView : public SessionView {
    Q_OBJECT
public:
    explicit LinesView(Session* session, QWidget* parent = nullptr);
    LinesCanvas* canvas() const { return m_canvas; }
    /// Heads of the focused layer on show (0-based, ascending).
    QList<int> shownHeads() const;
    /// Shows exactly these heads (clamped to the layer), or every head.
    void setShownHeads(const QList<int>& heads);
    void showAllHeads();
    /// The head colour swatches (one per head of the focused layer) and the "All heads" button.
    QList<QToolButton*> swatches() const { return m_swatches; }
    QToolButton* allHeadsButton() const { return m_all; }
    bool alteredNoticeShown() const;

private:
    void refresh(int parts) override;
    void rebuildSwatches(int heads);
    void updateSwatches();

    QLabel* m_header = nullptr;
    QSlider* m_threshold = nullptr;
    QLabel* m_thresholdLabel = nullptr;
    LinesCanvas* m_canvas = nullptr;
    QWidget* m_swatchRow = nullptr;
    QHBoxLayout* m_swatchLayout = nullptr;
    QList<QToolButton*> m_swatches;
    QToolButton* m_all = nullptr;
    QLabel* m_altered = nullptr;
    QList<int> m_shown;  // chosen heads; one head follows the focus
    int m_lastFocusHead = -1;
};

}  // namespace attn::ui
