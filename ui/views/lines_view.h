#pragma once
// The focused head as lines: query tokens in a left column, key tokens in a right column, one
// line per (query, key) pair whose strength and opacity are the attention weight. Hovering a
// token shows only its lines (with their weights); clicking a query focuses it.

#include <QWidget>

#include "attn/attention.h"

class QLabel;
class QSlider;

#include "views/session_view.h"

namespace attn::ui {

class Session;

class LinesCanvas : public QWidget {
    Q_OBJECT
public:
    explicit LinesCanvas(Session* session, QWidget* parent = nullptr);
    void setWeights(const Mat& weights, const QStringList& queries, const QStringList& keys);
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
    Mat m_w;  // (T_q, T_k)
    QStringList m_q, m_k;
    double m_threshold = 0.02;
    double m_fontScale = 1.0;
    int m_hoverSide = -1, m_hoverIndex = -1;
    int m_drawn = 0;
};

class LinesView : public SessionView {
    Q_OBJECT
public:
    explicit LinesView(Session* session, QWidget* parent = nullptr);
    LinesCanvas* canvas() const { return m_canvas; }

private:
    void refresh(int parts) override;

    QLabel* m_header = nullptr;
    QSlider* m_threshold = nullptr;
    QLabel* m_thresholdLabel = nullptr;
    LinesCanvas* m_canvas = nullptr;
};

}  // namespace attn::ui
