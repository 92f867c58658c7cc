#include "views/model_view.h"

#include <QComboBox>
#include <QContextMenuEvent>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QScrollBar>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "common/colormaps.h"
#include "session/session.h"
#include "views/heads_common.h"

namespace attn::ui {

namespace {
const QColor kFocus(0xff, 0x40, 0x81);
// Lines of more tokens than this would be a grey blur at thumbnail size (and slow to draw for
// 144 heads): such heads are drawn as heatmaps.
constexpr int kMaxLineTokens = 96;
}  // namespace

// --- ModelCanvas ---------------------------------------------------------------------------

ModelCanvas::ModelCanvas(QWidget* parent) : QWidget(parent) {
    setAutoFillBackground(true);
    setBackgroundRole(QPalette::Base);
    setCursor(Qt::PointingHandCursor);
}

void ModelCanvas::setCells(TracePtr trace, int layers, int heads, std::vector<Cell> cells) {
    m_trace = std::move(trace);
    m_layers = layers;
    m_heads = heads;
    m_cells = std::move(cells);
    update();
}

void ModelCanvas::setFocusHead(int layer, int head) {
    if (layer == m_focusLayer && head == m_focusHead) return;
    m_focusLayer = layer;
    m_focusHead = head;
    update();
}

void ModelCanvas::setStyle(Style style) {
    if (style == m_style) return;
    m_style = style;
    update();
}

void ModelCanvas::setFontScale(double scale) {
    m_fontScale = scale;
    QFont f = font();
    f.setPointSizeF(9.0 * scale);
    f.setBold(true);
    setFont(f);
    update();
}

int ModelCanvas::labelHeight() const { return fontMetrics().height() + 2; }

int ModelCanvas::minimumEdge() const {
    // 48 px shows a dozen tokens' pattern; a projector needs a third more.
    return static_cast<int>(std::lround(48.0 * (1.0 + (m_fontScale - 1.0) * 0.67)));
}

QSize ModelCanvas::layoutFor(const QSize& viewport) {
    m_gap = static_cast<int>(std::lround(8 * m_fontScale));
    if (m_layers <= 0 || m_heads <= 0) {
        m_edge = m_cellW = 0;
        return viewport;
    }
    const int lh = labelHeight();
    auto edgeFor = [&](int w, int h) {
        const int ew = (w - m_gap) / m_heads - m_gap;
        const int eh = (h - m_gap) / m_layers - m_gap - lh;
        return std::pair{ew, eh};
    };
    const auto [ew, eh] = edgeFor(viewport.width(), viewport.height());
    const int minE = minimumEdge();
    const int sb = QWidget::style()->pixelMetric(QStyle::PM_ScrollBarExtent);
    QSize fitted = viewport;
    if (std::min(ew, eh) >= minE) {
        m_edge = std::min(ew, eh);
        m_cellW = std::clamp(ew, m_edge, m_edge * 8 / 5);
    } else if (eh < minE) {
        // Too many layers for the height: scroll down, fill the width the scroll bar leaves,
        // and stay at most twice the minimum so that a few rows remain on screen.
        const int ew2 = edgeFor(viewport.width() - sb, viewport.height()).first;
        m_edge = std::clamp(ew2, minE, 2 * minE);
        m_cellW = std::clamp(ew2, m_edge, m_edge * 8 / 5);
        fitted.setWidth(viewport.width() - sb);
    } else {
        // Too many heads for the width (a narrow pane): scroll sideways.
        m_edge = m_cellW = minE;
        fitted.setHeight(viewport.height() - sb);
    }
    const int totalW = m_gap + m_heads * (m_cellW + m_gap);
    const int totalH = m_gap + m_layers * (lh + m_edge + m_gap);
    fitted = fitted.expandedTo(QSize(totalW, totalH));
    // Centred: the grid sits in the middle of whatever the pane leaves over.
    m_origin = QPoint(m_gap + std::max(0, (fitted.width() - totalW) / 2),
                      m_gap + std::max(0, (fitted.height() - totalH) / 2));
    resize(fitted);
    update();
    return fitted;
}

QRect ModelCanvas::labelRect(int layer, int head) const {
    const int lh = labelHeight();
    return {m_origin.x() + head * (m_cellW + m_gap), m_origin.y() + layer * (lh + m_edge + m_gap),
            m_cellW, lh};
}

QRect ModelCanvas::cellRect(int layer, int head) const {
    const QRect l = labelRect(layer, head);
    return {l.left(), l.bottom() + 1, m_cellW, m_edge};
}

QString ModelCanvas::cellLabel(int layer, int head) const {
    return tr("L%1 H%2").arg(layer + 1).arg(head + 1);
}

bool ModelCanvas::cellAt(const QPoint& pos, int* layer, int* head) const {
    for (int l = 0; l < m_layers; ++l)
        for (int h = 0; h < m_heads; ++h)
            if (cellRect(l, h).united(labelRect(l, h)).contains(pos)) {
                *layer = l;
                *head = h;
                return true;
            }
    return false;
}

void ModelCanvas::paintLines(QPainter& p, const QRect& r, const Mat& w,
                             const QColor& colour) const {
    const int tq = static_cast<int>(w.rows()), tk = static_cast<int>(w.cols());
    const double pad = std::max(4.0, r.height() * 0.06);
    const double x0 = r.left() + r.width() * 0.22, x1 = r.right() - r.width() * 0.22;
    auto y = [&](int i, int n) {
        return n <= 1 ? r.center().y() : r.top() + pad + (r.height() - 2 * pad) * i / (n - 1);
    };
    // Token ticks on both sides, then the lines (weak first so strong ones stay on top).
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    for (int i = 0; i < tq; ++i) p.drawLine(QPointF(x0 - 4, y(i, tq)), QPointF(x0, y(i, tq)));
    for (int j = 0; j < tk; ++j) p.drawLine(QPointF(x1, y(j, tk)), QPointF(x1 + 4, y(j, tk)));
    const double width = std::max(1.0, m_fontScale) * std::clamp(r.width() / 80.0, 0.8, 2.5);
    for (const float floor : {0.05f, 0.4f}) {
        for (int i = 0; i < tq; ++i)
            for (int j = 0; j < tk; ++j) {
                const float a = w(i, j);
                if (!(a >= floor) || (floor < 0.4f && a >= 0.4f)) continue;
                QColor c = colour;
                c.setAlphaF(std::clamp(0.15f + 0.85f * a, 0.0f, 1.0f));
                p.setPen(QPen(c, width * (0.5 + a), Qt::SolidLine, Qt::RoundCap));
                p.drawLine(QPointF(x0, y(i, tq)), QPointF(x1, y(j, tk)));
            }
    }
}

void ModelCanvas::paintEvent(QPaintEvent* event) {
    QPainter p(this);
    if (m_layers <= 0 || m_heads <= 0 || m_edge <= 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("No attention to show yet."));
        return;
    }
    // Labels as large as the font scale asks, smaller when "L12 H12" would not fit a cell.
    QFont labelFont = font();
    const QString longest = cellLabel(m_layers - 1, m_heads - 1) + tr(" off");
    while (labelFont.pointSizeF() > 6.0 &&
           QFontMetrics(labelFont).horizontalAdvance(longest) > m_cellW - 2)
        labelFont.setPointSizeF(labelFont.pointSizeF() - 0.5);
    p.setFont(labelFont);
    const QFontMetrics labelMetrics(labelFont);
    for (int l = 0; l < m_layers; ++l) {
        for (int h = 0; h < m_heads; ++h) {
            const QRect r = cellRect(l, h), lab = labelRect(l, h);
            if (!r.united(lab).adjusted(-4, -4, 4, 4).intersects(event->rect())) continue;
            const Cell& c = m_cells[std::size_t(l) * std::size_t(m_heads) + std::size_t(h)];
            const bool focused = l == m_focusLayer && h == m_focusHead;
            p.setRenderHint(QPainter::Antialiasing, false);
            const bool lines = m_style == Style::Lines && c.weights &&
                               std::max(c.weights->rows(), c.weights->cols()) <= kMaxLineTokens;
            if (lines) {
                p.fillRect(r, palette().color(QPalette::Base));
                p.setRenderHint(QPainter::Antialiasing, true);
                paintLines(p, r, *c.weights, headColor(h));
                p.setRenderHint(QPainter::Antialiasing, false);
            } else if (!c.image.isNull()) {
                p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // one block per cell
                p.drawImage(r, c.image);
            } else {
                p.fillRect(r, palette().color(QPalette::AlternateBase));
            }
            if (c.disabled) {
                p.fillRect(r, QColor(255, 255, 255, 175));
                p.setRenderHint(QPainter::Antialiasing, true);
                p.setPen(QPen(QColor(0xa0, 0x18, 0x18), std::max(2.0, 2.0 * m_fontScale)));
                p.drawLine(r.topLeft(), r.bottomRight());
                p.drawLine(r.topRight(), r.bottomLeft());
                p.setRenderHint(QPainter::Antialiasing, false);
            }
            if (focused) {
                p.setPen(QPen(kFocus, 3 * std::max(1.0, m_fontScale)));
                p.drawRect(QRectF(r).adjusted(-2, -2, 2, 2));
            } else {
                p.setPen(QPen(lines ? headColor(h) : palette().color(QPalette::Mid), 1));
                p.drawRect(r.adjusted(0, 0, -1, -1));
            }
            p.setPen(c.disabled ? QColor(0xa0, 0x18, 0x18)
                     : focused  ? kFocus.darker(130)
                                : palette().color(QPalette::Text));
            const QString text = cellLabel(l, h) + (c.disabled ? tr(" off") : QString());
            p.drawText(lab, Qt::AlignHCenter | Qt::AlignVCenter,
                       labelMetrics.elidedText(text, Qt::ElideRight, lab.width()));
        }
    }
}

void ModelCanvas::mousePressEvent(QMouseEvent* event) {
    int l = 0, h = 0;
    if (event->button() == Qt::LeftButton && cellAt(event->position().toPoint(), &l, &h))
        emit clicked(l, h);
    QWidget::mousePressEvent(event);
}

void ModelCanvas::contextMenuEvent(QContextMenuEvent* event) {
    int l = 0, h = 0;
    if (!cellAt(event->pos(), &l, &h)) return;
    const bool off = m_cells[std::size_t(l) * std::size_t(m_heads) + std::size_t(h)].disabled;
    QMenu menu(this);
    QAction* focus = menu.addAction(tr("Focus %1").arg(cellLabel(l, h)));
    QAction* toggle = menu.addAction(off ? tr("Switch this head back on")
                                         : tr("Switch this head off (zero its output)"));
    QAction* chosen = menu.exec(event->globalPos());
    if (chosen == focus) emit clicked(l, h);
    if (chosen == toggle) emit toggleRequested(l, h);
}

bool ModelCanvas::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        int l = 0, h = 0;
        if (cellAt(help->pos(), &l, &h))
            QToolTip::showText(help->globalPos(),
                               m_cells[std::size_t(l) * std::size_t(m_heads) + std::size_t(h)].tip,
                               this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

// --- ModelView -----------------------------------------------------------------------------

ModelView::ModelView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
                  parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(8, 6, 8, 6);
    auto* top = new QHBoxLayout;
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    top->addWidget(m_header, 1);
    m_stack = new QComboBox(this);
    m_stack->addItem(tr("Encoder self-attention"));
    m_stack->addItem(tr("Decoder self-attention"));
    m_stack->addItem(tr("Decoder cross-attention"));
    m_stack->setVisible(false);
    top->addWidget(m_stack);
    top->addWidget(new QLabel(tr("Draw as"), this));
    m_styleBox = new QComboBox(this);
    m_styleBox->setObjectName(QStringLiteral("modelViewStyle"));
    m_styleBox->addItem(tr("Heatmaps"));
    m_styleBox->addItem(tr("Lines"));
    top->addWidget(m_styleBox);
    v->addLayout(top);
    m_altered = new QLabel(this);
    m_altered->setObjectName(QStringLiteral("modelViewAltered"));
    m_altered->setWordWrap(true);
    m_altered->setVisible(false);
    v->addWidget(m_altered);
    m_scroll = new QScrollArea(this);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_scroll->setWidgetResizable(false);
    m_scroll->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_canvas = new ModelCanvas(m_scroll);
    m_scroll->setWidget(m_canvas);
    m_scroll->installEventFilter(this);
    v->addWidget(m_scroll, 1);

    connect(m_canvas, &ModelCanvas::clicked, this, [this](int layer, int head) {
        const int s = stackIndex();
        m_session->setHead(layer, head, s > 0, s == 2);
    });
    connect(m_canvas, &ModelCanvas::toggleRequested, this, &ModelView::toggleHead);
    connect(m_styleBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_canvas->setStyle(i == 1 ? ModelCanvas::Style::Lines : ModelCanvas::Style::Heatmap);
    });
    connect(m_stack, &QComboBox::activated, this, [this](int i) {
        const int layer =
            std::min(m_session->focus().layer, std::max(0, m_session->layerCount(i > 0) - 1));
        m_session->setHead(layer, m_session->focus().head, i > 0, i == 2);
    });
}

void ModelView::setStyle(ModelCanvas::Style style) {
    m_styleBox->setCurrentIndex(style == ModelCanvas::Style::Lines ? 1 : 0);
}

int ModelView::stackIndex() const { return m_stack->isHidden() ? 0 : m_stack->currentIndex(); }

bool ModelView::alteredNoticeShown() const { return !m_altered->isHidden(); }

bool ModelView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_scroll && event->type() == QEvent::Resize) relayout();
    return SessionView::eventFilter(watched, event);
}

void ModelView::relayout() {
    // The scroll area's own size (it has no frame), not its viewport's: the viewport shrinks
    // when a scroll bar appears, which would feed back into the layout.
    m_canvas->layoutFor(m_scroll->size());
}

void ModelView::refresh(int parts) {
    if (parts & (SessionChange::Trace | SessionChange::Appearance)) {
        rebuild();
        return;
    }
    const Session::Focus& f = m_session->focus();
    if (stackIndex() != (f.cross ? 2 : f.decoder ? 1 : 0)) {
        rebuild();
        return;
    }
    m_canvas->setFocusHead(f.layer, f.head);
}

void ModelView::rebuild() {
    m_canvas->setFontScale(m_session->fontScale());
    const TracePtr trace = m_session->trace();
    const bool seq2seq = trace && !trace->decoder_layers.empty();
    const Session::Focus& f = m_session->focus();
    m_stack->setVisible(seq2seq);
    if (seq2seq) {
        const QSignalBlocker block(m_stack);
        m_stack->setCurrentIndex(f.cross ? 2 : f.decoder ? 1 : 0);
    }
    const int si = stackIndex();
    const bool decoder = si > 0, cross = si == 2;
    const int layers = trace ? m_session->layerCount(decoder) : 0;
    const AttentionTrace* b0 = m_session->block(0, decoder, cross);
    const int heads = b0 ? static_cast<int>(b0->heads.size()) : 0;
    const auto model = m_session->model();
    const ColorMapKind kind = m_session->colorMap();
    std::vector<ModelCanvas::Cell> cells(static_cast<std::size_t>(layers * heads));
    int tokens = 0;
    for (int l = 0; l < layers; ++l) {
        const AttentionTrace* b = m_session->block(l, decoder, cross);
        const int blk = model ? headBlockIndex(model->config, l, decoder, cross) : l;
        for (int h = 0; h < heads; ++h) {
            ModelCanvas::Cell& c = cells[std::size_t(l) * std::size_t(heads) + std::size_t(h)];
            c.tip = tr("Layer %1, head %2 — click to focus it, right-click to switch it off")
                        .arg(l + 1)
                        .arg(h + 1);
            if (b && h < static_cast<int>(b->heads.size())) {
                const HeadTrace& stored = b->heads[static_cast<std::size_t>(h)];
                if (stored.weights_kept) {
                    c.weights = &stored.weights;
                    c.image = matrixImage(*c.weights, kind, 0.0, 1.0);
                    tokens = std::max(tokens, static_cast<int>(c.weights->rows()));
                } else if (const auto w = m_session->headWeights(l, h, decoder, cross)) {
                    // Dropped to stay within the memory budget: the picture from the
                    // recomputed head (no lines, which would need the weights kept).
                    c.image = matrixImage(w->weights, kind, 0.0, 1.0);
                    tokens = std::max(tokens, static_cast<int>(w->weights.rows()));
                }
            }
            for (const auto& [ol, oh] : m_session->disabledHeads())
                if (ol == blk && oh == h) c.disabled = true;
            if (c.disabled) c.tip += tr("\nswitched off: its output is zeroed");
        }
    }
    m_canvas->setCells(trace, layers, heads, std::move(cells));
    m_canvas->setFocusHead(f.layer, f.head);
    m_header->setText(
        layers > 0
            ? tr("<b>All %1 layers × %2 heads</b> at once: each picture is one head's attention "
                 "weights (row = query token, column = key token, %3 tokens). Click a head to "
                 "focus it.")
                  .arg(layers)
                  .arg(heads)
                  .arg(tokens)
            : tr("No attention to show yet."));
    const QString altered = alteredNotice(*m_session);
    m_altered->setText(altered);
    m_altered->setVisible(!altered.isEmpty());
    relayout();
}

void ModelView::toggleHead(int layer, int head) {
    const int si = stackIndex();
    const auto model = m_session->model();
    const int blk = model ? headBlockIndex(model->config, layer, si > 0, si == 2) : layer;
    auto off = m_session->disabledHeads();
    auto it = std::find(off.begin(), off.end(), std::make_pair(blk, head));
    if (it != off.end())
        off.erase(it);
    else
        off.emplace_back(blk, head);
    m_session->setDisabledHeads(std::move(off));
}

}  // namespace attn::ui
