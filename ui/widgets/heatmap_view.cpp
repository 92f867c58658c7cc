#include "widgets/heatmap_view.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QNativeGestureEvent>
#include <QResizeEvent>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "common/colormaps.h"

namespace attn::ui {

namespace {

constexpr int kMaxLabelChars = 14;
const QString kMinus = QStringLiteral("\u2212");
// Below this a label is a smudge: thin instead (scaled by the font scale).
constexpr double kMinLabelPt = 6.0;
// Numbers in cells: the largest of these (× font scale) that fits; none below the last.
constexpr double kNumberPts[] = {9.0, 8.0, 7.0};
// How far the view may zoom in: until a cell is this many pixels (× font scale).
constexpr double kMaxZoomCellPx = 64.0;
constexpr double kSin50 = 0.766;
// Vertical colour-bar ticks: at least this many label heights apart (calm, never touching).
constexpr double kTickSpacing = 2.0;

QString elide(const QString& s) {
    if (s.size() <= kMaxLabelChars) return s;
    return s.left(kMaxLabelChars - 1) + QStringLiteral("\u2026");
}

// The fewest decimals that write `step` exactly (0.25 → 2, 5 → 0).
int decimalsFor(double step) {
    for (int d = 0; d < 6; ++d) {
        const double scaled = step * std::pow(10.0, d);
        if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
    }
    return 6;
}

QString tickText(double v, int decimals) {
    QString s = QString::number(v, 'f', decimals);
    if (s.startsWith(QLatin1Char('-'))) {
        const QString rest = s.mid(1);
        s = rest.count(QLatin1Char('0')) + rest.count(QLatin1Char('.')) == rest.size()
                ? rest
                : kMinus + rest;
    }
    return s;
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
            f.setPointSizeF(v.m_numberPt);
            painter->setFont(f);
            const double span = v.m_useHi > v.m_useLo ? v.m_useHi - v.m_useLo : 1.0;
            // Only the cells on screen (a zoomed 256 × 256 matrix shows a few dozen).
            const QRect vis = v.visibleCells();
            const int r0 = std::max(0, vis.top() - 1),
                      r1 = std::min<int>(m.rows() - 1, vis.bottom() + 1);
            const int c0 = std::max(0, vis.left() - 1),
                      c1 = std::min<int>(m.cols() - 1, vis.right() + 1);
            for (int r = r0; r <= r1; ++r) {
                for (int c = c0; c <= c1; ++c) {
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
        // QCustomPlot::toPainter (every export and the clipboard) draws without its caches:
        // a figure carries no hover frame and, unless asked, no focus frame.
        const bool exporting = painter->modes().testFlag(QCPPainter::pmNoCaching) ||
                               painter->modes().testFlag(QCPPainter::pmVectorized);
        painter->setBrush(Qt::NoBrush);
        if (!exporting && v.m_hoverRow >= 0 && v.m_hoverCol >= 0) {
            painter->setPen(QPen(QColor(255, 255, 255, 200), 1.5));
            painter->drawRect(cellRect(v.m_hoverRow, v.m_hoverCol).adjusted(1, 1, -1, -1));
        }
        if (exporting && !v.m_marksInExport) return;
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

private:
    HeatmapView* m_view;
};

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
    // No layout: relayout() sizes the plot so cells keep a sensible shape.
    m_plot = new QCustomPlot(this);
    m_plot->setMouseTracking(true);
    m_plot->installEventFilter(this);
    m_plot->setBackground(palette().color(QPalette::Base));
    m_plot->setFocusPolicy(Qt::ClickFocus);  // + − 0 zoom once clicked
    setMinimumSize(160, 140);

    // QCustomPlot's own top layer "overlay" has its own paint buffer, so hover and highlight
    // repaint without redrawing the matrix.
    m_plot->layer(QStringLiteral("overlay"))->setMode(QCPLayer::lmBuffered);

    QCPAxisRect* rect = m_plot->axisRect();
    // QCustomPlot keeps axis rects at least 50 × 50: a strip a few cells high would then be
    // squeezed out of the other rows (the colour bar, the notice) instead.
    rect->setMinimumSize(1, 1);
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
    // Ticks chosen here, so that their labels never overlap (planColorBar).
    m_scaleTicker = QSharedPointer<QCPAxisTickerText>::create();
    m_map->setColorScale(m_scale);

    m_titleElement = new QCPTextElement(m_plot, QString());
    m_notice = new QCPTextElement(m_plot, QString());
    m_notice->setVisible(false);

    // The grid: title; cells | vertical colour bar; horizontal colour bar; notice.
    QCPLayoutGrid* grid = m_plot->plotLayout();
    grid->take(rect);
    grid->simplify();
    grid->addElement(0, 0, m_titleElement);
    grid->addElement(1, 0, rect);
    grid->addElement(1, 1, m_scale);
    grid->expandTo(4, 2);
    grid->setRowStretchFactors({0.001, 1.0, 0.001, 0.001});
    grid->setColumnStretchFactors({1.0, 0.001});
    grid->setRowSpacing(0);
    grid->setColumnSpacing(2);

    m_vGroup = new QCPMarginGroup(m_plot);
    m_hGroup = new QCPMarginGroup(m_plot);
    rect->setMarginGroup(QCP::msTop | QCP::msBottom, m_vGroup);
    m_scale->setMarginGroup(QCP::msTop | QCP::msBottom, m_vGroup);

    // A row title too long for a short strip is written across, left of the row labels.
    m_rowTitleItem = new QCPItemText(m_plot);
    m_rowTitleItem->setClipToAxisRect(false);
    m_rowTitleItem->position->setType(QCPItemPosition::ptAbsolute);
    m_rowTitleItem->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_rowTitleItem->setVisible(false);
    m_rowTitleItem->setSelectable(false);

    m_overlay = new CellOverlayLayer(m_plot, this);

    connect(m_plot, &QCustomPlot::beforeReplot, this, [this] {
        // The colour scale reports its current margins to the margin group, so once raised
        // (e.g. by slanted labels) they would never come down again: start from zero.
        m_scale->setMargins(QMargins());
    });
    connect(m_plot, &QCustomPlot::afterReplot, this, [this] {
        m_everPlotted = true;
        emit repainted();
    });
    applyFonts();
    rebuild();
}

QSize HeatmapView::sizeHint() const { return {360, 320}; }

void HeatmapView::setCellSize(double px) {
    if (px == m_cellSize) return;
    m_cellSize = px;
    ++m_cellSizeCalls;
    m_zoomed = false;
    relayout(true);
}

QSize HeatmapView::marginsAroundCells() const {
    if (!m_laidOut) return {110, 90};
    // The most room this content has needed at any cell size since it was set. Views fit the
    // cell size to these margins and the margins follow the cell size (labels turn, the colour
    // bar moves): reporting only ever more room lets that loop settle instead of swinging.
    // Only once a view has asked for a few cell sizes for the same content: until then the
    // room is the true one.
    return m_cellSizeCalls > 3 ? m_extraSeen.expandedTo(m_extra) : m_extra;
}

void HeatmapView::contentChanged() {
    m_extraSeen = QSize();
    m_cellSizeCalls = 0;
}

void HeatmapView::setKeepAspect(bool on) {
    m_keepAspect = on;
    relayout(true);
}

void HeatmapView::setColorBarLabel(const QString& label) {
    if (label == m_colorBarLabel) return;
    m_colorBarLabel = label;
    m_scale->axis()->setLabel(label);
    contentChanged();
    relayout(!m_zoomed);
}

void HeatmapView::setFocusMarksInExport(bool on) { m_marksInExport = on; }

void HeatmapView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    // Cells are fitted to the size at zoom 1; a new size starts from the whole matrix again.
    m_zoomed = false;
    relayout(true);
}

void HeatmapView::applyView() {
    const int rows = std::max<int>(1, static_cast<int>(m_matrix.rows()));
    const int cols = std::max<int>(1, static_cast<int>(m_matrix.cols()));
    if (!m_zoomed) {
        m_viewX0 = -0.5;
        m_viewX1 = cols - 0.5;
        m_viewY0 = -0.5;
        m_viewY1 = rows - 0.5;
    }
    m_plot->xAxis2->setRange(m_viewX0, m_viewX1);
    m_plot->yAxis->setRange(m_viewY0, m_viewY1);
}

void HeatmapView::runPlotLayout() {
    // What QCustomPlot's replot does first, done now so that the axis rect is the one the
    // labels will be drawn around (and the next decision does not read a stale one).
    m_scale->setMargins(QMargins());
    QCPLayoutGrid* grid = m_plot->plotLayout();
    grid->update(QCPLayoutElement::upPreparation);
    grid->update(QCPLayoutElement::upMargins);
    grid->update(QCPLayoutElement::upLayout);
}

void HeatmapView::relayout(bool refit) {
    if (m_inLayout || width() < 20 || height() < 20) return;  // not laid out yet
    m_inLayout = true;
    const int rows = std::max<int>(1, static_cast<int>(m_matrix.rows()));
    const int cols = std::max<int>(1, static_cast<int>(m_matrix.cols()));
    if (refit) m_zoomed = false;
    fitTitle(width() - 8);
    applyView();
    const auto place = [this](const QRect& g) {
        if (m_plot->geometry() != g) m_plot->setGeometry(g);
        // A hidden plot gets its resize event only when shown: give its layout the size now.
        m_plot->setViewport(QRect(QPoint(0, 0), g.size()));
    };
    const auto measured = [this] {
        const QRect ar = m_plot->axisRect()->rect();
        return QSize(m_plot->width() - ar.width(), m_plot->height() - ar.height());
    };
    if (refit) {
        // Always from the same first guess, so the result depends on size and content only.
        QSize extra(110, 90);
        for (int pass = 0; pass < 5; ++pass) {
            double cw = std::max(1.0, double(width() - extra.width())) / cols;
            double ch = std::max(1.0, double(height() - extra.height())) / rows;
            QRect g = rect();
            if (m_keepAspect) {
                if (m_cellSize > 0) {
                    // A size shared with neighbouring matrices, so rows and columns line up.
                    cw = ch = std::min({cw, ch, m_cellSize});
                } else {
                    // Square cells for (T, T) attention; other matrices may stretch up to 3:1.
                    const double ratio = rows == cols ? 1.0 : 3.0;
                    ch = std::min(ch, cw * ratio);
                    cw = std::min(cw, ch * ratio);
                }
                int w = static_cast<int>(std::lround(cw * cols + extra.width()));
                const int h = static_cast<int>(std::lround(ch * rows + extra.height()));
                // The titles are not clipped by a narrow matrix: the plot is as wide as the
                // title at its full size (it shrinks only when the widget is narrower), and the
                // colour bar beside the cells.
                QFont full = m_titleElement->font();
                full.setPointSizeF(std::max(8.0, 10.5 * m_fontScale));
                const QFontMetrics tf(full);
                const int bar =
                    m_scale->layout() && !m_barHorizontal ? m_scale->outerRect().width() : 0;
                const QFontMetrics lf(m_plot->xAxis2->labelFont());
                w = std::max({w, tf.horizontalAdvance(m_title) + 8 + bar,
                              lf.horizontalAdvance(m_colTitle) + extra.width() + 8});
                w = std::clamp(w, 20, width());
                g = QRect((width() - w) / 2, 0, w, std::clamp(h, 20, height()));
            }
            place(g);
            planLabels(cw, ch);
            runPlotLayout();
            const QSize got = measured();
            if (std::abs(got.width() - extra.width()) <= 1 &&
                std::abs(got.height() - extra.height()) <= 1)
                break;
            // From the third pass on the room only grows, so that choices that feed back on
            // each other (labels that turn, a colour bar that moves) cannot swing for ever.
            extra = pass < 2 ? got : got.expandedTo(extra);
        }
    }
    // Labels for the cells as they came out (twice: the margins may move by a pixel).
    for (int pass = 0; pass < 2; ++pass) {
        planLabels(cellWidthPx(), cellHeightPx());
        runPlotLayout();
        // The title has the cells' column: the colour bar beside it takes the rest.
        const bool barBeside = !m_barHorizontal && m_scale->visible() && m_scale->layout();
        const int bar =
            barBeside ? m_scale->outerRect().width() + m_plot->plotLayout()->columnSpacing() : 0;
        if (fitTitle(m_plot->width() - bar - 8)) runPlotLayout();
    }
    m_extra = measured();
    m_extraSeen = m_extraSeen.expandedTo(m_extra);
    m_laidOut = true;
    placeRowTitle();
    m_inLayout = false;
    requestReplot();
}

double HeatmapView::labelFontPt() const { return m_plot->yAxis->tickLabelFont().pointSizeF(); }

double HeatmapView::numberFontPt() const { return numbersFit() ? m_numberPt : 0.0; }

void HeatmapView::planLabels(double cw, double ch) {
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    cw = std::max(cw, 1e-3);
    ch = std::max(ch, 1e-3);
    // Token labels shrink with the cells, down to a readable size, before any are left out.
    QFont tick = m_plot->yAxis->tickLabelFont();
    const double maxPt = labelPointSize();
    const double minPt = std::min(maxPt, kMinLabelPt * std::sqrt(std::max(1.0, m_fontScale)));
    double pt = maxPt;
    const double room = std::min(cw, ch);
    for (;; pt -= 0.5) {
        tick.setPointSizeF(std::max(pt, minPt));
        if (pt <= minPt || QFontMetricsF(tick).height() <= room + 1) break;
    }
    if (tick != m_plot->yAxis->tickLabelFont()) {
        m_plot->yAxis->setTickLabelFont(tick);
        m_plot->xAxis2->setTickLabelFont(tick);
    }
    const QFontMetrics fm(tick);
    const double h = fm.height();
    auto label = [](const QStringList& labels, int i) {
        return i < labels.size() ? elide(labels[i]) : QString::number(i + 1);
    };
    const QRect vis = visibleCells();

    // Rows: one label per row when they fit; else every k-th, with some air between them.
    m_rowStep = h <= ch + 1 ? 1 : static_cast<int>(std::ceil(h * 1.25 / ch));
    auto rowTicker = m_plot->yAxis->ticker().dynamicCast<QCPAxisTickerText>();
    rowTicker->clear();
    m_shownRowLabels = 0;
    // Labels stay on multiples of the step, so they do not jump while panning.
    for (int r = (vis.top() + m_rowStep - 1) / m_rowStep * m_rowStep; r <= vis.bottom() && r < rows;
         r += m_rowStep, ++m_shownRowLabels)
        rowTicker->addTick(r, label(m_rowLabels, r));

    // Columns: across when the widest fits its cell, else slanted, else upright, else thinned.
    int widest = 0;
    for (int c = vis.left(); c <= vis.right() && c < cols; ++c)
        widest = std::max(widest, fm.horizontalAdvance(label(m_colLabels, c)));
    double rotation = 0;
    m_colStep = 1;
    if (widest + 6 > cw) {
        if (cw * kSin50 >= h) {
            rotation = -50;
        } else {
            rotation = -90;
            if (h > cw + 1) m_colStep = static_cast<int>(std::ceil(h * 1.25 / cw));
        }
    }
    m_plot->xAxis2->setTickLabelRotation(rotation);
    auto colTicker = m_plot->xAxis2->ticker().dynamicCast<QCPAxisTickerText>();
    colTicker->clear();
    m_shownColLabels = 0;
    for (int c = (vis.left() + m_colStep - 1) / m_colStep * m_colStep; c <= vis.right() && c < cols;
         c += m_colStep, ++m_shownColLabels)
        colTicker->addTick(c, label(m_colLabels, c));
    m_thinningNotice = m_rowStep > 1 || m_colStep > 1;

    // The row title runs along the rows when they are tall enough, else across, to their left.
    const QFontMetrics lf(m_plot->yAxis->labelFont());
    const double cellsH = ch * (m_viewY1 - m_viewY0);
    const int titleW = lf.horizontalAdvance(m_rowTitle);
    m_rowTitleAcross = !m_rowTitle.isEmpty() && cellsH < titleW + 8;
    m_plot->yAxis->setLabel(m_rowTitleAcross ? QString() : m_rowTitle);
    m_plot->yAxis->setPadding(m_rowTitleAcross ? titleW + 10 : 2);

    // Colour bar: along the cells' right side when at least three ticks (and its label) fit
    // there; a short, wide strip gets it underneath instead.
    const QFontMetrics sf(m_scale->axis()->tickLabelFont());
    const double cellsW = cw * (m_viewX1 - m_viewX0);
    const double labelLen =
        m_colorBarLabel.isEmpty()
            ? 0
            : QFontMetrics(m_scale->axis()->labelFont()).horizontalAdvance(m_colorBarLabel) + 4;
    const bool verticalFits = cellsH >= std::max(3 * sf.height() * kTickSpacing, labelLen);
    // Underneath only when not even its two end values fit beside the cells: a bar underneath
    // costs the strip its height, and a view that fits the strip to the pane would shrink it.
    const bool endsFit = cellsH >= 2 * sf.height() + 2;
    setBarHorizontal(!verticalFits && !endsFit && cellsW > cellsH);
    planColorBar(m_barHorizontal ? cellsW : cellsH);

    // The notice: what is left out, or that the view is zoomed, and how to get back.
    QStringList candidates;
    if (m_thinningNotice) {
        const int k = std::max(m_rowStep, m_colStep);
        candidates
            << tr("Showing 1 of every %1 labels \u2014 Ctrl+wheel or pinch to zoom, drag to pan")
                   .arg(k)
            << tr("1 of every %1 labels shown \u2014 Ctrl+wheel to zoom").arg(k)
            << tr("1 in %1 labels shown").arg(k);
    } else if (m_zoomed) {
        const QString z = QString::number(zoom(), 'f', zoom() < 10 ? 1 : 0);
        candidates << tr("Zoomed %1\u00d7 \u2014 drag to pan, double-click or 0 to see all").arg(z)
                   << tr("Zoomed %1\u00d7 \u2014 double-click: all").arg(z)
                   << tr("%1\u00d7").arg(z);
    }
    QString notice;
    const QFontMetrics nf(m_notice->font());
    // The notice sits in the cells' column of the plot, not under the colour bar: it has the
    // width of the axis rect with its labels (as laid out last; planLabels runs again after).
    const int outer = m_plot->axisRect()->outerRect().width();
    const int noticeRoom = outer > 20 ? std::min(outer, m_plot->width()) : m_plot->width();
    for (const QString& c : candidates) {
        notice = c;
        if (nf.horizontalAdvance(c) + 8 <= noticeRoom) break;
    }
    if (!candidates.isEmpty() && nf.horizontalAdvance(notice) + 8 > noticeRoom) {
        // Even the shortest does not fit on one line: it wraps (it is never cut to "…").
        QStringList lines;
        for (const QString& word : notice.split(QLatin1Char(' '))) {
            if (!lines.isEmpty() &&
                nf.horizontalAdvance(lines.back() + QLatin1Char(' ') + word) + 8 <= noticeRoom)
                lines.back() += QLatin1Char(' ') + word;
            else
                lines << word;
        }
        notice = lines.join(QLatin1Char('\n'));
    }
    m_noticeText = notice;
    QCPLayoutGrid* grid = m_plot->plotLayout();
    const bool inGrid = m_notice->layout() != nullptr;
    if (notice.isEmpty() && inGrid) {
        grid->take(m_notice);
        m_notice->setVisible(false);
    } else if (!notice.isEmpty()) {
        m_notice->setText(notice);
        if (!inGrid) grid->addElement(3, 0, m_notice);
        m_notice->setVisible(true);
    }
}

void HeatmapView::setBarHorizontal(bool on) {
    if (on == m_barHorizontal) return;
    m_barHorizontal = on;
    QCPLayoutGrid* grid = m_plot->plotLayout();
    QCPAxisRect* rect = m_plot->axisRect();
    grid->take(m_scale);
    m_scale->setType(on ? QCPAxis::atBottom : QCPAxis::atRight);
    styleScaleAxis();
    // The bar's gradient image is drawn for one orientation: have it drawn again.
    const QCPColorGradient gradient = m_scale->gradient();
    m_scale->setGradient(QCPColorGradient(QCPColorGradient::gpGrayscale));
    m_scale->setGradient(gradient);
    // Line the bar up with the cells: same top and bottom beside them, same left and right
    // under them.
    const QCP::MarginSides along = on ? QCP::msLeft | QCP::msRight : QCP::msTop | QCP::msBottom;
    const QCP::MarginSides across = on ? QCP::msTop | QCP::msBottom : QCP::msLeft | QCP::msRight;
    QCPMarginGroup* group = on ? m_hGroup : m_vGroup;
    rect->setMarginGroup(QCP::msAll, nullptr);
    m_scale->setMarginGroup(QCP::msAll, nullptr);
    rect->setMarginGroup(along, group);
    m_scale->setMarginGroup(along, group);
    (void)across;
    grid->addElement(on ? 2 : 1, on ? 0 : 1, m_scale);
}

void HeatmapView::planColorBar(double lengthPx) {
    const double lo = m_useLo, hi = m_useHi, span = hi - lo;
    const QFontMetricsF fm(m_scale->axis()->tickLabelFont());
    std::vector<double> best;
    int bestDecimals = 0;
    double widestBest = 0;
    if (span > 0 && lengthPx > 0) {
        const int e0 = static_cast<int>(std::floor(std::log10(span)));
        bool found = false;
        // Steps from fine to coarse: the finest whose labels do not touch wins.
        for (int e = e0 - 2; e <= e0 + 1 && !found; ++e) {
            for (double mant : {1.0, 2.0, 2.5, 5.0}) {
                const double step = mant * std::pow(10.0, e);
                const double k0 = std::ceil(lo / step - 1e-9), k1 = std::floor(hi / step + 1e-9);
                const int n = static_cast<int>(k1 - k0) + 1;
                if (n < 1 || n > 15) continue;
                const int decimals = decimalsFor(step);
                std::vector<double> ticks;
                double widest = 0;
                for (int i = 0; i < n; ++i) {
                    const double v = (k0 + i) * step;
                    ticks.push_back(v);
                    widest = std::max(widest, fm.horizontalAdvance(tickText(v, decimals)));
                }
                best = ticks;
                bestDecimals = decimals;
                widestBest = widest;
                const double need = m_barHorizontal ? widest + 1.5 * fm.averageCharWidth()
                                                    : fm.height() * kTickSpacing;
                if (n == 1 || lengthPx * step / span >= need) {
                    found = true;
                    break;
                }
            }
        }
    }
    m_scaleTicker->clear();
    if (best.size() < 2 && span > 0) {
        // No round step leaves room for two labels (a short bar, a small range): label the two
        // ends with their own values instead, and 0 between them when it fits.
        const QString a = formatValue(static_cast<float>(lo)),
                      b = formatValue(static_cast<float>(hi));
        const double gap =
            m_barHorizontal
                ? (fm.horizontalAdvance(a) + fm.horizontalAdvance(b)) / 2 + fm.averageCharWidth()
                : fm.height() * 1.1;
        if (lengthPx >= gap) {
            m_scaleTicker->addTick(lo, a);
            m_scaleTicker->addTick(hi, b);
            widestBest = std::max(fm.horizontalAdvance(a), fm.horizontalAdvance(b));
            const double zeroAt = lengthPx * (0 - lo) / span;  // from the low end
            const double zeroNeed =
                m_barHorizontal ? widestBest + fm.averageCharWidth() : fm.height() * 1.1;
            if (lo < 0 && hi > 0 && zeroAt >= zeroNeed && lengthPx - zeroAt >= zeroNeed)
                m_scaleTicker->addTick(0, QStringLiteral("0"));
            best.clear();
        }
    }
    for (double v : best) m_scaleTicker->addTick(v, tickText(v, bestDecimals));
    // The end labels stick out half their size past the bar: keep room for them.
    const int half = static_cast<int>(std::ceil((m_barHorizontal ? widestBest : fm.height()) / 2));
    m_plot->axisRect()->setMinimumMargins(m_barHorizontal ? QMargins(half + 2, 0, half + 2, 0)
                                                          : QMargins(0, half + 1, 0, half + 1));
}

QStringList HeatmapView::colorBarTickLabels() const {
    QStringList out;
    const QMap<double, QString>& ticks = m_scaleTicker->ticks();
    for (auto it = ticks.cbegin(); it != ticks.cend(); ++it)
        if (it.key() >= m_useLo - 1e-9 && it.key() <= m_useHi + 1e-9) out << it.value();
    return out;
}

QList<QRect> HeatmapView::colorBarTickLabelRects() const {
    QList<QRect> out;
    QCPAxis* axis = m_scale->axis();
    const QFontMetrics fm(axis->tickLabelFont());
    const QRect bar = axis->axisRect()->rect();
    const QPoint origin = m_plot->mapTo(this, QPoint(0, 0));
    const QMap<double, QString>& ticks = m_scaleTicker->ticks();
    for (auto it = ticks.cbegin(); it != ticks.cend(); ++it) {
        if (it.key() < m_useLo - 1e-9 || it.key() > m_useHi + 1e-9) continue;
        const int w = fm.horizontalAdvance(it.value()), h = fm.height();
        const int p = static_cast<int>(std::lround(axis->coordToPixel(it.key())));
        const QRect r = m_barHorizontal
                            ? QRect(p - w / 2, bar.bottom() + axis->tickLabelPadding(), w, h)
                            : QRect(bar.right() + axis->tickLabelPadding(), p - h / 2, w, h);
        out << r.translated(origin);
    }
    return out;
}

void HeatmapView::placeRowTitle() {
    m_rowTitleItem->setVisible(m_rowTitleAcross);
    if (!m_rowTitleAcross) return;
    const QRect ar = m_plot->axisRect()->rect();
    m_rowTitleItem->setText(m_rowTitle);
    m_rowTitleItem->position->setCoords(4, ar.center().y());
}

double HeatmapView::zoom() const {
    const double cols = std::max<double>(1, static_cast<double>(m_matrix.cols()));
    if (!m_zoomed || m_viewX1 <= m_viewX0) return 1.0;
    return cols / (m_viewX1 - m_viewX0);
}

QRect HeatmapView::visibleCells() const {
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    if (rows == 0 || cols == 0) return {};
    // A cell counts when its centre is on screen.
    const int c0 = std::clamp(static_cast<int>(std::ceil(m_viewX0 - 1e-9)), 0, cols - 1);
    const int c1 = std::clamp(static_cast<int>(std::floor(m_viewX1 + 1e-9)), c0, cols - 1);
    const int r0 = std::clamp(static_cast<int>(std::ceil(m_viewY0 - 1e-9)), 0, rows - 1);
    const int r1 = std::clamp(static_cast<int>(std::floor(m_viewY1 + 1e-9)), r0, rows - 1);
    return QRect(QPoint(c0, r0), QPoint(c1, r1));
}

void HeatmapView::zoomBy(double factor, QPointF at) {
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    if (rows == 0 || cols == 0 || !(factor > 0)) return;
    const double z = zoom();
    const double fullCell = std::max(1e-3, cellSizePx() / z);
    const double maxZoom = std::max(1.0, kMaxZoomCellPx * std::max(1.0, m_fontScale) / fullCell);
    const double nz = std::clamp(z * factor, 1.0, maxZoom);
    if (std::fabs(nz - z) < 1e-9) return;
    if (nz <= 1.0 + 1e-9) {
        resetZoom();
        return;
    }
    // The point under the cursor stays where it is.
    double kx = (m_viewX0 + m_viewX1) / 2, ky = (m_viewY0 + m_viewY1) / 2;
    if (!at.isNull()) {
        const QPointF p = at - QPointF(m_plot->pos());
        kx = std::clamp(m_plot->xAxis2->pixelToCoord(p.x()), m_viewX0, m_viewX1);
        ky = std::clamp(m_plot->yAxis->pixelToCoord(p.y()), m_viewY0, m_viewY1);
    }
    const double w = cols / nz, h = rows / nz;
    const double x0 = kx - (kx - m_viewX0) * w / (m_viewX1 - m_viewX0);
    const double y0 = ky - (ky - m_viewY0) * h / (m_viewY1 - m_viewY0);
    m_viewX0 = std::clamp(x0, -0.5, cols - 0.5 - w);
    m_viewY0 = std::clamp(y0, -0.5, rows - 0.5 - h);
    m_viewX1 = m_viewX0 + w;
    m_viewY1 = m_viewY0 + h;
    m_zoomed = true;
    relayout(false);
}

void HeatmapView::resetZoom() {
    if (!m_zoomed) return;
    m_zoomed = false;
    relayout(true);
}

void HeatmapView::panBy(QPoint deltaPx) {
    if (!m_zoomed) return;
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    const double w = m_viewX1 - m_viewX0, h = m_viewY1 - m_viewY0;
    // The cells follow the mouse.
    m_viewX0 =
        std::clamp(m_viewX0 - deltaPx.x() / std::max(1e-3, cellWidthPx()), -0.5, cols - 0.5 - w);
    m_viewY0 =
        std::clamp(m_viewY0 - deltaPx.y() / std::max(1e-3, cellHeightPx()), -0.5, rows - 0.5 - h);
    m_viewX1 = m_viewX0 + w;
    m_viewY1 = m_viewY0 + h;
    relayout(false);
}

bool HeatmapView::wheelZooms(const QWheelEvent* e) const {
    if (m_matrix.size() == 0) return false;
    // Ctrl+wheel always zooms; the plain wheel only where zooming shows more (labels left
    // out, or already zoomed), so that it scrolls the page over a matrix that shows it all.
    return e->modifiers().testFlag(Qt::ControlModifier) || m_thinningNotice || m_zoomed;
}

void HeatmapView::setMatrix(const Eigen::MatrixXf& m, const QStringList& rowLabels,
                            const QStringList& colLabels) {
    const bool shapeChanged = m.rows() != m_lastShapeRows || m.cols() != m_lastShapeCols;
    // Other tokens: start from the whole matrix; new values of the same tokens keep the zoom.
    if (shapeChanged || rowLabels != m_rowLabels || colLabels != m_colLabels) {
        m_zoomed = false;
        contentChanged();
    }
    m_matrix = m;
    m_rowLabels = rowLabels;
    m_colLabels = colLabels;
    m_lastShapeRows = static_cast<int>(m.rows());
    m_lastShapeCols = static_cast<int>(m.cols());
    if (m_hoverRow >= m.rows() || m_hoverCol >= m.cols()) m_hoverRow = m_hoverCol = -1;
    rebuild();
}

double HeatmapView::titlePointSize() const { return m_titleElement->font().pointSizeF(); }
QString HeatmapView::titleAsDrawn() const { return m_titleElement->text(); }

namespace {
// The widest line of a text.
int textWidth(const QFontMetrics& fm, const QString& text) {
    int widest = 0;
    for (const QString& line : text.split(QLatin1Char('\n')))
        widest = std::max(widest, fm.horizontalAdvance(line));
    return widest;
}
}  // namespace

bool HeatmapView::fitTitle(int room) {
    // A title wider than its plot first shrinks on one line (to 70% of its size), then wraps
    // at spaces as it shrinks further (to 6.5 pt): it is never clipped ("S′ (head 1)" was cut
    // to "S′ (head 1" on a 1024×768 projector).
    QFont f = m_titleElement->font();
    const double full = std::max(8.0, 10.5 * m_fontScale);
    const auto wrapped = [&](const QFontMetrics& fm) {
        QStringList lines;
        for (const QString& word : m_title.split(QLatin1Char(' '))) {
            if (!lines.isEmpty() &&
                fm.horizontalAdvance(lines.back() + QLatin1Char(' ') + word) <= room)
                lines.back() += QLatin1Char(' ') + word;
            else
                lines << word;
        }
        return lines.join(QLatin1Char('\n'));
    };
    QString text = m_title;
    for (double pt = full;; pt = std::max(6.5, pt - 0.5)) {
        f.setPointSizeF(pt);
        const QFontMetrics fm(f);
        text = pt >= 0.7 * full ? m_title : wrapped(fm);
        if (textWidth(fm, text) <= room || pt <= 6.5) break;
    }
    m_titleFits = textWidth(QFontMetrics(f), text) <= room;
    bool changed = false;
    if (f != m_titleElement->font()) {
        m_titleElement->setFont(f);
        changed = true;
    }
    if (text != m_titleElement->text()) {
        m_titleElement->setText(text);
        changed = true;
    }
    return changed;
}

void HeatmapView::setTitle(const QString& title) {
    if (title == m_title) return;
    m_title = title;
    m_titleElement->setText(title);
    contentChanged();
    relayout(!m_zoomed);
}

void HeatmapView::setAxisTitles(const QString& rows, const QString& cols) {
    if (rows == m_rowTitle && cols == m_colTitle) return;
    m_rowTitle = rows;
    m_colTitle = cols;
    contentChanged();
    m_plot->xAxis2->setLabel(cols);
    relayout(!m_zoomed);
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
    if (m_fixedRange && lo == m_lo && hi == m_hi) return;
    m_fixedRange = true;
    m_lo = lo;
    m_hi = hi;
    rebuild();
}

void HeatmapView::clearRange() {
    if (!m_fixedRange) return;
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
    contentChanged();
    applyFonts();
    relayout(!m_zoomed);
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
    // Every text scales with the font scale (presentation mode); token labels may shrink
    // further to fit their cells (planLabels).
    QFont base = font();
    QFont tick = base;
    tick.setPointSizeF(labelPointSize());
    QFont label = base;
    label.setPointSizeF(labelPointSize());
    label.setItalic(true);
    QFont title = base;
    title.setPointSizeF(std::max(8.0, 10.5 * m_fontScale));
    title.setBold(true);
    const QColor text = palette().color(QPalette::Text);
    for (QCPAxis* a : {m_plot->xAxis2, m_plot->yAxis}) {
        a->setTickLabelFont(tick);
        a->setLabelFont(label);
        a->setTickLabelColor(text);
        a->setLabelColor(text);
    }
    styleScaleAxis();
    m_titleElement->setFont(title);
    m_titleElement->setTextColor(text);
    QFont notice = base;
    notice.setPointSizeF(std::max(6.5, 8.0 * m_fontScale));
    notice.setItalic(true);
    m_notice->setFont(notice);
    m_notice->setTextColor(palette().color(QPalette::PlaceholderText));
    m_rowTitleItem->setFont(label);
    m_rowTitleItem->setColor(text);
}

void HeatmapView::styleScaleAxis() {
    // The colour scale's axis is another QCPAxis after each change of side: style it again.
    QCPAxis* axis = m_scale->axis();
    QFont tick = font();
    tick.setPointSizeF(std::max(6.5, 8.0 * m_fontScale));
    QFont label = tick;
    label.setItalic(true);
    const QColor text = palette().color(QPalette::Text);
    axis->setTicker(m_scaleTicker);
    axis->setSubTicks(false);
    axis->setPadding(2);
    axis->setTickLabelFont(tick);
    axis->setLabelFont(label);
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->setLabel(m_colorBarLabel);
    axis->setLabelPadding(static_cast<int>(3 * m_fontScale));
    m_scale->setBarWidth(static_cast<int>(10 * std::max(1.0, m_fontScale)));
}

void HeatmapView::rebuild() {
    const int rows = static_cast<int>(m_matrix.rows()), cols = static_cast<int>(m_matrix.cols());
    // Colour range: finite values only (masked cells are −∞).
    double lo = 0, hi = 1;
    bool any = false, negInf = false, posInf = false;
    for (int c = 0; c < cols; ++c) {
        for (int r = 0; r < rows; ++r) {
            const float v = m_matrix(r, c);
            if (!std::isfinite(v)) {
                negInf |= std::isinf(v) && v < 0;
                posInf |= std::isinf(v) && v > 0;
                continue;
            }
            if (!any) {
                lo = hi = v;
                any = true;
            } else {
                lo = std::min(lo, double(v));
                hi = std::max(hi, double(v));
            }
        }
    }
    // The widest text a cell shows is that of an extreme (formatValue's width grows with the
    // magnitude and the sign), so numbersFit measures only these.
    m_numberSamples.clear();
    if (any)
        m_numberSamples << formatValue(static_cast<float>(lo))
                        << formatValue(static_cast<float>(hi));
    if (negInf) m_numberSamples << formatValue(-std::numeric_limits<float>::infinity());
    if (posInf) m_numberSamples << formatValue(std::numeric_limits<float>::infinity());
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
    // Labels, colour-bar ticks and the plot's size, now (exports draw without a replot).
    relayout(!m_zoomed);
    if (width() < 20 || height() < 20) {
        applyView();
        requestReplot();
    }
}

double HeatmapView::cellWidthPx() const {
    const double span = std::max(1e-3, m_plot->xAxis2->range().size());
    QRect r = m_plot->axisRect()->rect();
    const int w = r.width() > 10 ? r.width() : m_plot->width() - 90;
    return double(w) / span;
}

double HeatmapView::cellHeightPx() const {
    const double span = std::max(1e-3, m_plot->yAxis->range().size());
    QRect r = m_plot->axisRect()->rect();
    const int h = r.height() > 10 ? r.height() : m_plot->height() - 60;
    return double(h) / span;
}

bool HeatmapView::numbersFit() const {
    if (m_matrix.size() == 0) return false;
    const double cw = cellWidthPx(), ch = cellHeightPx();
    // The largest of a few sizes at which the widest number shown fits its cell; never below
    // 7 pt (× the font scale): smaller is not read, only squinted at.
    for (double pt : kNumberPts) {
        QFont f = font();
        f.setPointSizeF(pt * m_fontScale);
        const QFontMetrics fm(f);
        if (ch < fm.height()) continue;
        int widest = 0;
        for (const QString& s : m_numberSamples) widest = std::max(widest, fm.horizontalAdvance(s));
        if (cw >= widest + 4) {
            m_numberPt = f.pointSizeF();
            return true;
        }
    }
    return false;
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
    const QString r = row < m_rowLabels.size() ? m_rowLabels[row] : QString::number(row + 1);
    const QString c = col < m_colLabels.size() ? m_colLabels[col] : QString::number(col + 1);
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
            } else if (m_thinningNotice || m_zoomed) {
                QToolTip::showText(he->globalPos(),
                                   tr("Ctrl+wheel, the wheel or a pinch zooms around the "
                                      "pointer; drag to pan; double-click or 0 shows it all"),
                                   m_plot);
            } else {
                QToolTip::hideText();
                event->ignore();
            }
            return true;
        }
        case QEvent::MouseMove: {
            auto* me = static_cast<QMouseEvent*>(event);
            const QPoint pos = me->position().toPoint();
            if (m_pressed && m_zoomed && !m_dragging &&
                (pos - m_pressPos).manhattanLength() >= QApplication::startDragDistance()) {
                m_dragging = true;
                m_plot->setCursor(Qt::ClosedHandCursor);
            }
            if (m_dragging) {
                panBy(pos - m_lastDragPos);
                m_lastDragPos = pos;
                return true;
            }
            int r = -1, c = -1;
            if (!cellAt(pos, &r, &c)) r = c = -1;
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
            if (me->button() != Qt::LeftButton) break;
            // A click is a press and a release on the same cell without a drag in between.
            m_pressed = true;
            m_dragging = false;
            m_pressPos = m_lastDragPos = me->position().toPoint();
            if (!cellAt(m_pressPos, &m_pressRow, &m_pressCol)) m_pressRow = m_pressCol = -1;
            return true;
        }
        case QEvent::MouseButtonRelease: {
            auto* me = static_cast<QMouseEvent*>(event);
            if (me->button() != Qt::LeftButton || !m_pressed) break;
            const bool dragged = m_dragging;
            m_pressed = m_dragging = false;
            m_plot->setCursor(m_zoomed ? Qt::OpenHandCursor : Qt::ArrowCursor);
            int r, c;
            if (!dragged && m_pressRow >= 0 && cellAt(me->position().toPoint(), &r, &c) &&
                r == m_pressRow && c == m_pressCol)
                emit cellClicked(r, c);
            return true;
        }
        case QEvent::MouseButtonDblClick: {
            auto* me = static_cast<QMouseEvent*>(event);
            if (me->button() != Qt::LeftButton || !m_zoomed) break;
            m_pressed = false;  // the release that follows is not another click
            resetZoom();
            m_plot->setCursor(Qt::ArrowCursor);
            return true;
        }
        case QEvent::Wheel: {
            auto* we = static_cast<QWheelEvent*>(event);
            if (!wheelZooms(we)) {
                we->ignore();  // to the scroll area around
                return true;
            }
            const int delta =
                we->angleDelta().y() != 0 ? we->angleDelta().y() : we->pixelDelta().y();
            if (delta != 0) {
                zoomBy(std::pow(1.25, delta / 120.0), we->position() + QPointF(m_plot->pos()));
                m_plot->setCursor(m_zoomed ? Qt::OpenHandCursor : Qt::ArrowCursor);
            }
            we->accept();
            return true;
        }
        case QEvent::NativeGesture: {
            auto* ge = static_cast<QNativeGestureEvent*>(event);
            if (ge->gestureType() != Qt::ZoomNativeGesture) break;
            zoomBy(1.0 + ge->value(), ge->position() + QPointF(m_plot->pos()));
            ge->accept();
            return true;
        }
        case QEvent::KeyPress: {
            auto* ke = static_cast<QKeyEvent*>(event);
            if (ke->key() == Qt::Key_Plus || ke->key() == Qt::Key_Equal) {
                zoomBy(1.25);
                return true;
            }
            if (ke->key() == Qt::Key_Minus && m_zoomed) {
                zoomBy(0.8);
                return true;
            }
            if (ke->key() == Qt::Key_0 && m_zoomed) {
                resetZoom();
                return true;
            }
            break;
        }
        case QEvent::PaletteChange:
            m_plot->setBackground(palette().color(QPalette::Base));
            applyFonts();
            relayout(!m_zoomed);
            break;
        default:
            break;
    }
    return QWidget::eventFilter(watched, event);
}

}  // namespace attn::ui
