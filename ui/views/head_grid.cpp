#include "views/head_grid.h"

#include <QComboBox>
#include <QContextMenuEvent>
#include <QGridLayout>
#include <QLabel>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QScrollBar>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "attn/analysis.h"
#include "common/colormaps.h"
#include "session/session.h"
#include "views/heads_common.h"

namespace attn::ui {

namespace {
const QColor kFocus(0xff, 0x40, 0x81);
}  // namespace

// --- HeadThumb -----------------------------------------------------------------------------

HeadThumb::HeadThumb(int layer, int head, QWidget* parent)
    : QWidget(parent), m_layer(layer), m_head(head) {
    setCursor(Qt::PointingHandCursor);
    setAttribute(Qt::WA_OpaquePaintEvent, false);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
}

void HeadThumb::setFocused(bool on) {
    if (on == m_focused) return;
    m_focused = on;
    update();
}

void HeadThumb::setDisabledHead(bool on) {
    if (on == m_disabled) return;
    m_disabled = on;
    update();
}

void HeadThumb::setEdge(int px) {
    if (px == m_edge) return;
    m_edge = px;
    updateGeometry();
    setFixedSize(sizeHint());
    update();
}

// The picture and a 3 px margin for the focus frame; the habit is written inside the picture,
// so that a row costs no more than its pictures (no caption line under each).
QSize HeadThumb::sizeHint() const { return {m_edge + 6, m_edge + 6}; }

void HeadThumb::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QRect img(3, 3, m_edge, m_edge);
    const QColor offColour(0xb0, 0x10, 0x10);
    if (m_image.isNull()) {
        p.fillRect(img, palette().color(QPalette::AlternateBase));
    } else {
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // one block per cell
        p.drawImage(img, m_image);
    }
    if (m_disabled) {
        // Switched off: veiled, crossed and framed in red, "off" written across it.
        p.fillRect(img, QColor(255, 255, 255, 185));
        p.setRenderHint(QPainter::Antialiasing, true);
        p.setPen(QPen(offColour, std::max(2.0, m_edge / 24.0)));
        p.drawLine(img.topLeft(), img.bottomRight());
        p.drawLine(img.topRight(), img.bottomLeft());
        p.setRenderHint(QPainter::Antialiasing, false);
    }
    if (m_focused) {
        p.setPen(QPen(kFocus, 3));
        p.drawRect(QRectF(img).adjusted(-1.5, -1.5, 1.5, 1.5));
    } else if (m_disabled) {
        p.setPen(QPen(offColour, 2));
        p.drawRect(QRectF(img).adjusted(-1, -1, 1, 1));
    } else {
        p.setPen(QPen(palette().color(QPalette::Mid), 1));
        p.drawRect(img.adjusted(0, 0, -1, -1));
    }
    const QString text = m_disabled ? tr("off") : m_caption;
    if (text.isEmpty() || m_edge < 28) return;
    QFont f = font();
    f.setBold(true);
    f.setPixelSize(std::clamp(m_edge / 4, 9, fontInfo().pixelSize() + 2));
    p.setFont(f);
    const QFontMetrics fm(f);
    const QRect band(img.left(), img.bottom() - fm.height(), img.width(), fm.height() + 1);
    if (!m_disabled) p.fillRect(band, QColor(255, 255, 255, 200));  // readable on any colour
    p.setPen(m_disabled ? offColour : m_focused ? kFocus.darker(130) : QColor(Qt::black));
    p.drawText(m_disabled ? img : band, Qt::AlignCenter,
               fm.elidedText(text, Qt::ElideRight, img.width() - 2));
}

void HeadThumb::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) emit clicked(m_layer, m_head);
    QWidget::mousePressEvent(event);
}

void HeadThumb::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    QAction* focus = menu.addAction(tr("Focus this head"));
    QAction* toggle = menu.addAction(m_disabled ? tr("Switch this head back on")
                                                : tr("Switch this head off (zero its output)"));
    QAction* chosen = menu.exec(event->globalPos());
    if (chosen == focus) emit clicked(m_layer, m_head);
    if (chosen == toggle) emit toggleRequested(m_layer, m_head);
}

// --- HeadGrid ------------------------------------------------------------------------------

HeadGrid::HeadGrid(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
                  parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(4, 4, 4, 4);
    v->setSpacing(4);
    m_stack = new QComboBox(this);
    m_stack->addItem(tr("Encoder self-attention"));
    m_stack->addItem(tr("Decoder self-attention"));
    m_stack->addItem(tr("Decoder cross-attention"));
    m_stack->setVisible(false);
    v->addWidget(m_stack);
    m_info = new QLabel(this);
    m_info->setWordWrap(true);
    m_info->setObjectName(QStringLiteral("headGridInfo"));
    m_info->setText(tr("Click a head to look at it; right-click to switch it off."));
    v->addWidget(m_info);
    m_scroll = new QScrollArea(this);
    // The grid is sized to the viewport by layoutThumbs: never sideways, down only when the
    // pictures would go below a legible size; centred in what it leaves over.
    m_scroll->setWidgetResizable(false);
    m_scroll->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_gridHost = new QWidget(m_scroll);
    m_grid = new QGridLayout(m_gridHost);
    m_grid->setContentsMargins(0, 0, 0, 0);
    m_grid->setHorizontalSpacing(2);
    m_grid->setVerticalSpacing(4);
    m_scroll->setWidget(m_gridHost);
    // Sized from the scroll area's own size (no frame): the viewport shrinks when the scroll
    // bar appears, which would feed back.
    m_scroll->installEventFilter(this);
    v->addWidget(m_scroll, 1);

    connect(m_stack, &QComboBox::activated, this, [this](int i) {
        const int layer =
            std::min(m_session->focus().layer, std::max(0, m_session->layerCount(i > 0) - 1));
        m_session->setHead(layer, m_session->focus().head, i > 0, i == 2);
    });
}

void HeadGrid::refresh(int parts) {
    const Session::Focus& f = m_session->focus();
    const bool otherStack = stackIndex() != (f.cross ? 2 : f.decoder ? 1 : 0);
    // Only the outline moves when the focus moves within the stack on show.
    if (parts & (SessionChange::Trace | SessionChange::Appearance) || otherStack)
        rebuild();
    else
        refreshFocus();
}

int HeadGrid::stackIndex() const { return m_stack->isHidden() ? 0 : m_stack->currentIndex(); }

HeadThumb* HeadGrid::thumb(int layer, int head) const {
    for (HeadThumb* t : m_thumbs)
        if (t->layer() == layer && t->head() == head) return t;
    return nullptr;
}

void HeadGrid::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    layoutThumbs();
}

bool HeadGrid::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_scroll && event->type() == QEvent::Resize) layoutThumbs();
    return QWidget::eventFilter(watched, event);
}

int HeadGrid::minimumEdge() const {
    return static_cast<int>(std::lround(18 * std::max(1.0, m_session->fontScale())));
}

QSize HeadGrid::sizeHint() const {
    // What the grid needs for pictures of 48 px (64 px or more in presentation mode).
    const int edge = static_cast<int>(std::lround(44 * std::max(1.0, m_session->fontScale())));
    const int header = fontMetrics().horizontalAdvance(QStringLiteral("L00")) + 8;
    const int heads = std::max(m_heads, 1), layers = std::max(m_layers, 1);
    return {header + heads * (edge + 6 + m_grid->horizontalSpacing()) + 16,
            m_info->sizeHint().height() + fontMetrics().height() + 16 +
                layers * (edge + 6 + m_grid->verticalSpacing())};
}

void HeadGrid::layoutThumbs() {
    if (m_heads <= 0 || m_layers <= 0) return;
    // As large as both the width and the height allow, so that every head shows at once.
    // Row labels ("L12") on the left, head labels on top.
    const int header = fontMetrics().horizontalAdvance(QStringLiteral("L00")) + 4;
    const int hs = m_grid->horizontalSpacing(), vs = m_grid->verticalSpacing();
    const int W = m_scroll->width(), H = m_scroll->height();
    auto edgeFor = [&](int w) { return (w - header - hs * m_heads) / m_heads - 6; };
    const int edgeW = edgeFor(W);
    const int edgeH = (H - fontMetrics().height() - vs * (m_layers + 1)) / m_layers - 6;
    int edge = std::min(edgeW, edgeH);
    if (edge < minimumEdge()) {
        // Too many layers for the height: scroll down, with the width the scroll bar leaves.
        edge = edgeFor(W - m_scroll->verticalScrollBar()->sizeHint().width());
    }
    edge = std::clamp(edge, std::min(minimumEdge(), std::max(edgeW, 8)), 240);
    m_edge = edge;
    m_grid->setColumnMinimumWidth(0, header);
    for (HeadThumb* t : m_thumbs) t->setEdge(edge);
    m_grid->activate();
    m_gridHost->resize(m_grid->sizeHint());
}

void HeadGrid::rebuild() {
    const TracePtr trace = m_session->trace();
    const bool seq2seq = trace && !trace->decoder_layers.empty();
    m_stack->setVisible(seq2seq);
    if (seq2seq) {
        const Session::Focus& f = m_session->focus();
        const QSignalBlocker block(m_stack);
        m_stack->setCurrentIndex(f.cross ? 2 : f.decoder ? 1 : 0);
    }
    const int si = stackIndex();
    const bool decoder = si > 0, cross = si == 2;
    const int layers = m_session->layerCount(decoder);
    const AttentionTrace* b0 = m_session->block(0, decoder, cross);
    const int heads = b0 ? static_cast<int>(b0->heads.size()) : 0;

    if (layers != m_layers || heads != m_heads) {
        qDeleteAll(m_thumbs);
        qDeleteAll(m_headers);
        m_thumbs.clear();
        m_headers.clear();
        m_layers = layers;
        m_heads = heads;
        for (int h = 0; h < heads; ++h) {
            auto* l = new QLabel(tr("H%1").arg(h + 1), m_gridHost);
            l->setAlignment(Qt::AlignCenter);
            m_grid->addWidget(l, 0, h + 1);
            l->show();  // now, not later: the grid's size is measured from its children
            m_headers << l;
        }
        for (int l = 0; l < layers; ++l) {
            auto* lab = new QLabel(tr("L%1").arg(l + 1), m_gridHost);
            lab->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
            lab->setToolTip(tr("Layer %1").arg(l + 1));
            m_grid->addWidget(lab, l + 1, 0);
            lab->show();
            m_headers << lab;
            for (int h = 0; h < heads; ++h) {
                auto* t = new HeadThumb(l, h, m_gridHost);
                t->setObjectName(QStringLiteral("headThumb_%1_%2").arg(l).arg(h));
                connect(t, &HeadThumb::clicked, this, [this](int layer, int head) {
                    const int s = stackIndex();
                    m_session->setHead(layer, head, s > 0, s == 2);
                });
                connect(t, &HeadThumb::toggleRequested, this, &HeadGrid::toggleHead);
                m_grid->addWidget(t, l + 1, h + 1);
                t->show();
                m_thumbs << t;
            }
        }
        layoutThumbs();
    }
    const QString altered = alteredNotice(*m_session);
    m_info->setText(altered.isEmpty()
                        ? tr("Click a head to look at it; right-click to switch it off.")
                        : altered);
    // Fonts may have changed size (presentation mode): the labels and pictures follow.
    layoutThumbs();
    refreshImages();
    refreshFocus();
}

void HeadGrid::refreshImages() {
    const TracePtr trace = m_session->trace();
    const int si = stackIndex();
    const bool decoder = si > 0, cross = si == 2;
    static const std::vector<HeadSummary> none;
    const std::vector<HeadSummary>& summaries =
        trace && !cross ? m_session->headSummaries(decoder) : none;
    const ColorMapKind kind = m_session->colorMap();
    for (HeadThumb* t : m_thumbs) {
        const AttentionTrace* b = m_session->block(t->layer(), decoder, cross);
        if (!b || t->head() >= static_cast<int>(b->heads.size())) continue;
        const HeadTrace& h = b->heads[t->head()];
        if (h.weights_kept) {
            t->setImage(matrixImage(h.weights, kind, 0.0, 1.0));
        } else if (const auto w = m_session->headWeights(t->layer(), t->head(), decoder, cross)) {
            t->setImage(matrixImage(w->weights, kind, 0.0, 1.0));  // over the memory budget
        }
        bool off = false;
        const int blk = blockOf(t->layer());
        for (auto [l, hh] : m_session->disabledHeads())
            if (l == blk && hh == t->head()) off = true;
        t->setDisabledHead(off);
        QString caption;  // the column header names the head; the caption names its habit
        QString tip = tr("Layer %1, head %2").arg(t->layer() + 1).arg(t->head() + 1);
        for (const HeadSummary& s : summaries) {
            if (s.layer != t->layer() || s.head != t->head()) continue;
            // A hint of what the head does, when one pattern dominates.
            switch (habitOf(s)) {
                case HeadHabit::PreviousToken:
                    caption = tr("prev");
                    break;
                case HeadHabit::Self:
                    caption = tr("self");
                    break;
                case HeadHabit::FirstToken:
                    caption = tr("first");
                    break;
                case HeadHabit::None:
                    break;
            }
            tip += tr("\nmean weight on the previous token %1, on itself %2, on the first token %3"
                      "\nmean row entropy %4 nats")
                       .arg(s.previous_token, 0, 'f', 2)
                       .arg(s.self, 0, 'f', 2)
                       .arg(s.first_token, 0, 'f', 2)
                       .arg(s.entropy, 0, 'f', 2);
        }
        if (off) tip += tr("\nswitched off");
        t->setCaption(caption);
        t->setToolTip(tip);
    }
}

void HeadGrid::refreshFocus() {
    const Session::Focus& f = m_session->focus();
    const int si = stackIndex();
    const bool match = (si == 2) == f.cross && (si > 0) == f.decoder;
    for (HeadThumb* t : m_thumbs)
        t->setFocused(match && t->layer() == f.layer && t->head() == f.head);
}

int HeadGrid::blockOf(int layer) const {
    const int si = stackIndex();
    const auto model = m_session->model();
    return model ? headBlockIndex(model->config, layer, si > 0, si == 2) : layer;
}

void HeadGrid::toggleHead(int layer, int head) {
    layer = blockOf(layer);
    auto off = m_session->disabledHeads();
    auto it = std::find(off.begin(), off.end(), std::make_pair(layer, head));
    if (it != off.end())
        off.erase(it);
    else
        off.emplace_back(layer, head);
    m_session->setDisabledHeads(std::move(off));
}

}  // namespace attn::ui
