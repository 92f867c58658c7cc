#include "widgets/heatmap_view.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "common/colormaps.h"

namespace attn::ui {

namespace {

constexpr int kMaxLabelChars = 14;
const QString kMinus = QStringLiteral("\u2212");

QString elide(const QString& s) {
    if (s.size() <= kMaxLabelChars) return s;
    return s.left(kMaxLabelChars - 1) + QStringLiteral("\u2026");
}

}  // namespace

/// Draws the numbers inside cells, the highlighted cell and the hovered cell on top of the map.
class CellOverlayLayer : public QCPLayerable {
public:
    CellOverlayLayer(QCustomPlot* plot, HeatmapView* view)
        : QCPLayerable(plot, QStringLiteral("overlay")), m_view(view) {}

protected:
    void applyDefaultAntialiasingHint(QCPPainter* painter) const override {
        painter->setRenderHint(QPainter::Antialiasing, false);
        painter->setRenderHint(QPainter::TextAntialiasing, true);
    }
    QRect clipRect() const override { return parentPlot()->axisRect()->rect(); }

    void draw(QCPPainter* painter) override {
        const HeatmapView& v = *m_view;
        const Eigen::MatrixXf& m = v.m_matrix;
        if (m.size() == 0) return;
        QCPAxis* x = parentPlot()->xAxis2;
        QCPAxis* y = parentPlot()->yAxis;
        auto cellRect = [&](int r, int c) {
            const double x0 = x->coordToPixel(c - 0.5), x1 = x->coordToPixel(c + 0.5);
            const double y0 = y->coordToPixel(r - 0.5), y1 = y->coordToPixel(r + 0.5);
            return QRectF(QPointF(std::min(x0, x1), std::min(y0, y1)),
                          QPointF(std::max(x0, x1), std::max(y0, y1)));
        };
        if (v.m_showNumbers && v.numbersFit()) {
            QFont f = v.font();
            f.setPointSizeF(numberPointSize(v));
            painter->setFont(f);
            const double span = v.m_useHi > v.m_useLo ? v.m_useHi - v.m_useLo : 1.0;
            for (int r = 0; r < m.rows(); ++r) {
                for (int c = 0; c < m.cols(); ++c) {
                    const float val = m(r, c);
                    const QColor bg = std::isfinite(val)
                                          ? colorAt(v.m_kind, (val - v.m_useLo) / span)
                                          : maskColor();
                    painter->setPen(textColorOn(bg));
                    painter->drawText(cellRect(r, c), Qt::AlignCenter,
                                      HeatmapView::formatValue(val));
                }
            }
        }
        painter->setBrush(Qt::NoBrush);
        if (v.m_hoverRow >= 0 && v.m_hoverCol >= 0) {
            painter->setPen(QPen(QColor(255, 255, 255, 200), 1.5));
            painter->drawRect(cellRect(v.m_hoverRow, v.m_hoverCol).adjusted(1, 1, -1, -1));
        }
        if (v.m_hlRow >= 0 && v.m_hlRow < m.rows() && v.m_hlCol >= 0 && v.m_hlCol < m.cols()) {
            painter->setPen(QPen(QColor(0xff, 0x40, 0x81), 2.5 * std::max(1.0, v.m_fontScale)));
            painter->drawRect(cellRect(v.m_hlRow, v.m_hlCol).adjusted(1, 1, -1, -1));
        } else if (v.m_hlRow >= 0 && v.m_hlRow < m.rows() && v.m_hlCol < 0) {
            // A whole row (the focused query).
            const QRectF a = cellRect(v.m_hlRow, 0), b = cellRect(v.m_hlRow, int(m.cols()) - 1);
            painter->setPen(QPen(QColor(0xff, 0x40, 0x81), 2.0 * std::max(1.0, v.m_fontScale)));
            painter->drawRect(a.united(b).adjusted(1, 1, -1, -1));
        }
    }

public:
    static double numberPointSize(const HeatmapView& v) { return v.m_numberPt; }

private:
    HeatmapView* m_view;
};

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
    // No layout: layoutPlot() sizes the plot so cells keep a sensible shape.
    m_plot = new QCustomPlot(this);
    m_plot->setMouseTracking(true);
    m_plot->installEventFilter(this);
    m_plot->setBackground(palette().color(QPalette::Base));
    setMinimumSize(160, 140);

    // QCustomPlot's own top layer "overlay" has its own paint buffer, so hover and highlight
    // repaint without redrawing the matrix.
    m_plot->layer(QStringLiteral("overlay"))->setMode(QCPLayer::lmBuffered);

    QCPAxisRect* rect = m_plot->axisRect();
    // Keys along the top (xAxis2), queries down the left, first query at the top.
    m_plot->xAxis->setVisible(false);
    m_plot->xAxis2->setVisible(true);
    m_plot->yAxis->setRangeReversed(true);
    for (QCPAxis* a : {m_plot->xAxis2, m_plot->yAxis}) {
        a->setTickLabels(true);
        a->setBasePen(Qt::NoPen);
        a->setTickPen(Qt::NoPen);
        a->setSubTickPen(Qt::NoPen);
        a->grid()->setVisible(false);
        a->setTicker(QSharedPointer<QCPAxisTickerText>::create());
        a->setPadding(2);
        a->setLabelPadding(4);
    }
    m_plot->yAxis2->setVisible(false);

    m_map = new QCPColorMap(m_plot->xAxis2, m_plot->yAxis);
    m_map->setInterpolate(false);  // blending neighbouring cells would invent values
    m_map->setTightBoundary(false);

    m_scale = new QCPColorScale(m_plot);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(10);
    m_scale->axis()->setPadding(2);
    m_plot->plotLayout()->addElement(1, 1, m_scale);
    m_plot->plotLayout()->take(rect);
    m_plot->plotLayout()->addElement(1, 0, rect);
    m_plot->plotLayout()->simplify();
    m_map->setColorScale(m_scale);

    m_titleElement = new QCPTextElement(m_plot, QString());
    m_plot->plotLayout()->insertRow(0);
    m_plot->plotLayout()->addElement(0, 0, m_titleElement);
    m_plot->plotLayout()->setRowStretchFactor(0, 0.001);
    m_plot->plotLayout()->setColumnStretchFactor(1, 0.001);

    auto* group = new QCPMarginGroup(m_plot);
    rect->setMarginGroup(QCP::msTop | QCP::msBottom, group);
    m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, group);

    m_overlay = new CellOverlayLayer(m_plot, this);

    connect(m_plot, &QCustomPlot::beforeReplot, this, [this] {
        updateTicks();
        // The colour scale reports its current margins to the margin group, so once raised
        // (e.g. by slanted labels) they would never come down again: start from zero.
        m_scale->setMargins(QMargins());
    });
    connect(m_plot, &QCustomPlot::afterReplot, this, [this] {
        m_everPlotted = true;
        // Labels may have changed the room around the cells: fit once more if so. Queued,
        // because QCustomPlot ignores a replot asked for while it is still replotting.
        if (m_layoutPasses < 2)
            QMetaObject::invokeMethod(
                this,
                [this] {
                    if (m_layoutPasses < 2 && layoutPlot()) ++m_layoutPasses;
                },
                Qt::QueuedConnection);
        emit repainted();
    });
    applyFonts();
    rebuild();
}

QSize HeatmapView::sizeHint() const { return {360, 320}; }

void HeatmapView::setCellSize(double px) {
    if (px == m_cellSize) return;
    m_cellSize = px;
    m_layoutPasses = 0;
    layoutPlot();
}

QSize HeatmapView::marginsAroundCells() const {
    const QRect ar = m_plot->axisRect()->rect();
    const QSize extra(m_plot->width() - ar.width(), m_plot->height() - ar.height());
    if (!m_everPlotted || ar.width() <= 10 || ar.height() <= 10 || extra.width() < 30 ||
        extra.width() > 260 || extra.height() < 30 || extra.height() > 220)
        return {110, 90};
    return extra;
}

void HeatmapView::setKeepAspect(bool on) {
    m_keepAspect = on;
    m_layoutPasses = 0;
    layoutPlot();
}

void HeatmapView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    m_layoutPasses = 0;
    layoutPlot();
    updateTicks();
    if (m_replotPending) requestReplot();
}

bool HeatmapView::layoutPlot() {
    if (width() < 20 || height() < 20) return false;  // not laid out yet
    const int rows = std::max<int>(1, static_cast<int>(m_matrix.rows()));
    const int cols = std::max<int>(1, static_cast<int>(m_matrix.cols()));
    const QRect ar = m_plot->axisRect()->rect();
    // Room taken by the title, labels and colour scale, as the last layout measured it.
    int extraW = m_plot->width() - ar.width(), extraH = m_plot->height() - ar.height();
    // A stale axis rect (from before a resize) gives nonsense; fall back to a typical margin.
    if (ar.width() <= 10 || ar.height() <= 10 || !m_everPlotted || extraW < 30 || extraW > 260 ||
        extraH < 30 || extraH > 220) {
        extraW = 110;
        extraH = 90;
    }
    QRect g = rect();
    if (m_keepAspect) {
        const double availW = std::max(10, width() - extraW),
                     availH = std::max(10, height() - extraH);
        double cw = availW / cols, ch = availH / rows;
        if (m_cellSize > 0) {
            // A size shared with neighbouring matrices, so their rows and columns line up.
            cw = std::min(cw, m_cellSize);
            ch = std::min(ch, m_cellSize);
            cw = ch = std::min(cw, ch);
        } else {
            // Square cells for (T, T) attention; other matrices may stretch up to 3:1.
            const double ratio = rows == cols ? 1.0 : 3.0;
            if (ch > cw * ratio) ch = cw * ratio;
            if (cw > ch * ratio) cw = ch * ratio;
        }
        const int w = std::min(width(), static_cast<int>(std::lround(cw * cols + extraW)));
        const int h = std::min(height(), static_cast<int>(std::lround(ch * rows + extraH)));
        g = QRect((width() - w) / 2, 0, w, h);  // top-aligned under the formula
    }
    g.setWidth(std::max(g.width(), 20));
    g.setHeight(std::max(g.height(), 20));
    if (std::abs(g.width() - m_plot->width()) <= 2 &&
        std::abs(g.height() - m_plot->height()) <= 2 && std::abs(g.x() - m_plot->x()) <= 2 &&
        std::abs(g.y() - m_plot->y()) <= 2)
        return false;
    m_plot->setGeometry(g);
    return true;
}

void HeatmapView::setMatrix(const Eigen::MatrixXf& m, const QStringList& rowLabels,
                            const QStringList& colLabels) {
    m_matrix = m;
    m_rowLabels = rowLabels;
    m_colLabels = colLabels;
    const bool shapeChanged = m.rows() != m_lastShapeRows || m.cols() != m_lastShapeCols;
    m_lastShapeRows = static_cast<int>(m.rows());
    m_lastShapeCols = static_cast<int>(m.cols());
    if (shapeChanged) {
        m_layoutPasses = 0;
        layoutPlot();
    }
    if (m_hoverRow >= m.rows() || m_hoverCol >= m.cols()) m_hoverRow = m_hoverCol = -1;
    rebuild();
}

void HeatmapView::setTitle(const QString& title) {
    m_title = title;
    m_titleElement->setText(title);
    requestReplot();
}

void HeatmapView::setAxisTitles(const QString& rows, const QString& cols) {
    m_rowTitle = rows;
    m_colTitle = cols;
    m_plot->yAxis->setLabel(rows);
    m_plot->xAxis2->setLabel(cols);
    requestReplot();
}

void HeatmapView::setColorMap(ColorMapKind kind) {
    if (kind == m_kind) return;
    m_kind = kind;
    rebuild();
}

void HeatmapView::setSymmetricRange(bool on) {
    if (on == m_symmetric) return;
    m_symmetric = on;
    rebuild();
}

void HeatmapView::setRange(double lo, double hi) {
    m_fixedRange = true;
    m_lo = lo;
    m_hi = hi;
    rebuild();
}

void HeatmapView::clearRange() {
    m_fixedRange = false;
    rebuild();
}

void HeatmapView::setShowNumbers(bool on) {
    if (on == m_showNumbers) return;
    m_showNumbers = on;
    requestReplot();
}

void HeatmapView::setFontScale(double scale) {
    if (scale == m_fontScale) return;
    m_fontScale = scale;
    applyFonts();
    m_lastTickRows = -1;
    requestReplot();
}

void HeatmapView::setHighlight(int row, int col) {
    if (row == m_hlRow && col == m_hlCol) return;
    m_hlRow = row;
    m_hlCol = col;
    replotOverlay();
}

void HeatmapView::setCellTooltipProvider(std::function<QString(int, int)> provider) {
    m_tooltip = std::move(provider);
}

void HeatmapView::requestReplot() {
    // A hidden or empty plot has no paint buffer to draw into; draw when it is shown.
    if (!isVisible() || m_plot->width() < 2 || m_plot->height() < 2) {
        m_replotPending = true;
        return;
    }
    m_replotPending = false;
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_replotPending) requestReplot();
}

void HeatmapView::replotOverlay() {
    // Before the first full replot the layer has no buffer of its own yet.
    if (m_everPlotted && !m_replotPending)
        m_plot->layer(QStringLiteral("overlay"))->replot();
    else
        requestReplot();
}

QString HeatmapView::formatValue(float v) {
    if (std::isnan(v)) return QString();
    if (std::isinf(v)) return v < 0 ? kMinus + QStringLiteral("\u221e") : QStringLiteral("\u221e");
    const double a = std::fabs(v);
    const int decimals = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    QString s = QString::number(static_cast<double>(v), 'f', decimals);
    if (s.startsWith(QLatin1Char('-'))) {
        s = s.mid(1);
        // "-0.00" reads as a sign error; show it as zero.
        if (s.count(QLatin1Char('0')) + s.count(QLatin1Char('.')) != s.size()) s = kMinus + s;
    }
    return s;
}

void HeatmapView::applyFonts() {
    QFont base = font();
    QFont tick = base;
    tick.setPointSizeF(labelPointSize());
    QFont label = base;
    label.setPointSizeF(labelPointSize());
    label.setItalic(true);
    QFont title = base;
    title.setPointSizeF(std::max(8.0, 10.5 * m_fontScale));
    title.setBold(true);
    for (QCPAxis* a : {m_plot->xAxis2, m_plot->yAxis}) {
        a->setTickLabelFont(tick);
        a->setLabelFont(label);
        a->setTickLabelColor(palette().color(QPalette::Text));
        a->setLabelColor(palette().color(QPalette::Text));
    }
    QFont scaleFont = tick;
    scaleFont.setPointSizeF(std::max(6.5, 8.0 * m_fontScale));
    m_scale->axis()->setTickLabelFont(scaleFont);
    m_scale->setBarWidth(static_cast<int>(10 * std::max(1.0, m_fontScale)));
    m_titleElement->setFont(title);
    m_titleElement->setTextColor(palette().color(QPalette::Text));
}

void HeatmapView::rebuild() {
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    // Colour range: finite values only (masked cells are −∞).
    double lo = 0, hi = 1;
    bool any = false;
    for (int c = 0; c < cols; ++c) {
        for (int r = 0; r < rows; ++r) {
            const float v = m_matrix(r, c);
            if (!std::isfinite(v)) continue;
            if (!any) {
                lo = hi = v;
                any = true;
            } else {
                lo = std::min(lo, double(v));
                hi = std::max(hi, double(v));
            }
        }
    }
    if (m_fixedRange) {
        lo = m_lo;
        hi = m_hi;
    } else if (m_symmetric || m_kind == ColorMapKind::Diverging) {
        const double a = std::max({std::fabs(lo), std::fabs(hi), 1e-6});
        lo = -a;
        hi = a;
    }
    if (hi <= lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    m_useLo = lo;
    m_useHi = hi;

    m_map->setGradient(makeGradient(m_kind));
    QCPColorMapData* data = m_map->data();
    // A dimension of size 1 needs a non-empty range or QCustomPlot draws nothing.
    const QCPRange keyRange = cols > 1 ? QCPRange(0, cols - 1) : QCPRange(-0.5, 0.5);
    const QCPRange valueRange = rows > 1 ? QCPRange(0, rows - 1) : QCPRange(-0.5, 0.5);
    data->setSize(std::max(cols, 1), std::max(rows, 1));
    data->setRange(keyRange, valueRange);
    if (rows == 0 || cols == 0) {
        data->fill(std::nan(""));
        m_map->setVisible(false);
    } else {
        m_map->setVisible(true);
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) {
                const float v = m_matrix(r, c);
                data->setCell(c, r, std::isfinite(v) ? double(v) : std::nan(""));
            }
        }
    }
    m_map->setDataRange(QCPRange(lo, hi));
    m_plot->xAxis2->setRange(-0.5, std::max(cols, 1) - 0.5);
    m_plot->yAxis->setRange(-0.5, std::max(rows, 1) - 0.5);
    m_lastTickRows = -1;  // labels may have changed
    updateTicks();        // also for exports, which draw without a replot
    requestReplot();
}

double HeatmapView::cellWidthPx() const {
    const int cols = std::max<int>(1, static_cast<int>(m_matrix.cols()));
    QRect r = m_plot->axisRect()->rect();
    const int w = r.width() > 10 ? r.width() : m_plot->width() - 90;
    return double(w) / cols;
}

double HeatmapView::cellHeightPx() const {
    const int rows = std::max<int>(1, static_cast<int>(m_matrix.rows()));
    QRect r = m_plot->axisRect()->rect();
    const int h = r.height() > 10 ? r.height() : m_plot->height() - 60;
    return double(h) / rows;
}

bool HeatmapView::numbersFit() const {
    if (m_matrix.size() == 0) return false;
    const double cw = cellWidthPx(), ch = cellHeightPx();
    if (cw < 14 || ch < 10) return false;
    // The largest of a few sizes at which the widest number shown fits its cell.
    for (double pt : {9.0, 8.0, 7.0}) {
        QFont f = font();
        f.setPointSizeF(std::max(6.0, pt * m_fontScale));
        const QFontMetrics fm(f);
        if (ch < fm.height()) continue;
        int widest = 0;
        for (Eigen::Index i = 0; i < m_matrix.size(); ++i)
            widest = std::max(widest, fm.horizontalAdvance(formatValue(m_matrix.data()[i])));
        if (cw >= widest + 2) {
            m_numberPt = f.pointSizeF();
            return true;
        }
    }
    return false;
}

void HeatmapView::updateTicks() {
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    const double cw = cellWidthPx(), ch = cellHeightPx();
    // Same matrix and (within 2 %) the same cell size: the ticks stand. The tolerance is relative,
    // so that the cells of a long text (a fraction of a pixel) still count as resized.
    const auto same = [](double a, double b) { return std::fabs(a - b) <= 0.02 * std::max(a, b); };
    if (rows == m_lastTickRows && cols == m_lastTickCols && same(cw, m_lastTickCellW) &&
        same(ch, m_lastTickCellH))
        return;
    m_lastTickRows = rows;
    m_lastTickCols = cols;
    m_lastTickCellW = cw;
    m_lastTickCellH = ch;

    // Token labels shrink with the cells (down to 6 pt) before any are left out: a matrix of
    // a long sentence stays labelled on every row and column for as long as it can.
    QFont tick = m_plot->yAxis->tickLabelFont();
    const double fullPt = labelPointSize();
    tick.setPointSizeF(fullPt);
    const double fullHeight = QFontMetrics(tick).height() + 1;
    if (fullHeight > std::min(cw, ch))
        tick.setPointSizeF(std::max(6.0, fullPt * std::min(cw, ch) / fullHeight));
    if (tick != m_plot->yAxis->tickLabelFont()) {
        m_plot->yAxis->setTickLabelFont(tick);
        m_plot->xAxis2->setTickLabelFont(tick);
    }
    const QFontMetrics fm(tick);
    auto label = [](const QStringList& labels, int i) {
        return i < labels.size() ? elide(labels[i]) : QString::number(i);
    };
    // Rows: one label per row when they fit, else every k-th.
    auto rowTicker = m_plot->yAxis->ticker().dynamicCast<QCPAxisTickerText>();
    rowTicker->clear();
    // When rows must be left out, the ones shown get some air between them.
    int rowStep = std::max(1, int(std::ceil((fm.height() + 1) / std::max(ch, 1e-3))));
    if (rowStep > 1) rowStep = int(std::ceil(fm.height() * 1.6 / std::max(ch, 1e-3)));
    m_shownRowLabels = 0;
    for (int r = 0; r < rows; r += rowStep, ++m_shownRowLabels)
        rowTicker->addTick(r, label(m_rowLabels, r));
    // Columns: horizontal when the widest label fits the cell, else slanted.
    int widest = 0;
    for (int c = 0; c < cols; ++c)
        widest = std::max(widest, fm.horizontalAdvance(label(m_colLabels, c)));
    const bool rotate = widest + 6 > cw;
    m_plot->xAxis2->setTickLabelRotation(rotate ? -50 : 0);
    auto colTicker = m_plot->xAxis2->ticker().dynamicCast<QCPAxisTickerText>();
    colTicker->clear();
    const double need = rotate ? fm.height() * 1.05 : widest + 6;
    int colStep = std::max(1, int(std::ceil(need / std::max(cw, 1e-3))));
    if (colStep > 1) colStep = int(std::ceil(need * 1.6 / std::max(cw, 1e-3)));
    m_shownColLabels = 0;
    for (int c = 0; c < cols; c += colStep, ++m_shownColLabels)
        colTicker->addTick(c, label(m_colLabels, c));
}

QRect HeatmapView::cellsRect() const {
    const QRect r = m_plot->axisRect()->rect();
    return r.translated(m_plot->mapTo(this, QPoint(0, 0)));
}

bool HeatmapView::cellAt(const QPoint& pos, int* row, int* col) const {
    if (m_matrix.size() == 0) return false;
    if (!m_plot->axisRect()->rect().contains(pos)) return false;
    const int c = int(std::lround(m_plot->xAxis2->pixelToCoord(pos.x())));
    const int r = int(std::lround(m_plot->yAxis->pixelToCoord(pos.y())));
    if (r < 0 || c < 0 || r >= m_matrix.rows() || c >= m_matrix.cols()) return false;
    *row = r;
    *col = c;
    return true;
}

QString HeatmapView::cellTooltip(int row, int col) const {
    if (row < 0 || col < 0 || row >= m_matrix.rows() || col >= m_matrix.cols()) return {};
    if (m_tooltip) {
        QString s = m_tooltip(row, col);
        if (!s.isEmpty()) return s;
    }
    const QString r = row < m_rowLabels.size() ? m_rowLabels[row] : QString::number(row);
    const QString c = col < m_colLabels.size() ? m_colLabels[col] : QString::number(col);
    return QStringLiteral("%1 \u00d7 %2 = %3").arg(r, c, formatValue(m_matrix(row, col)));
}

bool HeatmapView::eventFilter(QObject* watched, QEvent* event) {
    if (watched != m_plot) return QWidget::eventFilter(watched, event);
    switch (event->type()) {
        case QEvent::ToolTip: {
            auto* he = static_cast<QHelpEvent*>(event);
            int r, c;
            if (cellAt(he->pos(), &r, &c)) {
                QToolTip::showText(he->globalPos(), cellTooltip(r, c), m_plot);
            } else {
                QToolTip::hideText();
                event->ignore();
            }
            return true;
        }
        case QEvent::MouseMove: {
            auto* me = static_cast<QMouseEvent*>(event);
            int r = -1, c = -1;
            if (!cellAt(me->position().toPoint(), &r, &c)) r = c = -1;
            if (r != m_hoverRow || c != m_hoverCol) {
                m_hoverRow = r;
                m_hoverCol = c;
                replotOverlay();
                emit cellHovered(r, c);
            }
            break;
        }
        case QEvent::Leave:
            if (m_hoverRow >= 0) {
                m_hoverRow = m_hoverCol = -1;
                replotOverlay();
                emit cellHovered(-1, -1);
            }
            break;
        case QEvent::MouseButtonPress: {
            auto* me = static_cast<QMouseEvent*>(event);
            int r, c;
            if (me->button() == Qt::LeftButton && cellAt(me->position().toPoint(), &r, &c)) {
                emit cellClicked(r, c);
                return true;
            }
            break;
        }
        case QEvent::PaletteChange:
            m_plot->setBackground(palette().color(QPalette::Base));
            applyFonts();
            break;
        default:
            break;
    }
    return QWidget::eventFilter(watched, event);
}

}  // namespace attn::ui
