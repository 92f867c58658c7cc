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

#include "attn/analysis.h"
#include "common/colormaps.h"
#include "session/session.h"

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

QSize HeadThumb::sizeHint() const { return {m_edge + 6, m_edge + 6 + fontMetrics().height() + 2}; }

void HeadThumb::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QRect img(3, 3, m_edge, m_edge);
    if (m_image.isNull()) {
        p.fillRect(img, palette().color(QPalette::AlternateBase));
    } else {
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // one block per cell
        p.drawImage(img, m_image);
    }
    if (m_disabled) {
        p.fillRect(img, QColor(255, 255, 255, 170));
        p.setPen(QPen(QColor(0x90, 0x20, 0x20), 2));
        p.drawLine(img.topLeft(), img.bottomRight());
        p.drawLine(img.topRight(), img.bottomLeft());
    }
    if (m_focused) {
        p.setPen(QPen(kFocus, 3));
        p.drawRect(QRectF(img).adjusted(-1.5, -1.5, 1.5, 1.5));
    } else {
        p.setPen(QPen(palette().color(QPalette::Mid), 1));
        p.drawRect(img.adjusted(0, 0, -1, -1));
    }
    QFont f = font();
    f.setBold(m_focused);
    p.setFont(f);
    p.setPen(m_focused ? kFocus.darker(130) : palette().color(QPalette::Text));
    const QRect cap(0, img.bottom() + 3, width(), height() - img.bottom() - 3);
    p.drawText(cap, Qt::AlignHCenter | Qt::AlignTop,
               fontMetrics().elidedText(m_caption, Qt::ElideRight, width()));
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
    m_scroll->setWidgetResizable(true);
    m_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_gridHost = new QWidget(m_scroll);
    m_grid = new QGridLayout(m_gridHost);
    m_grid->setContentsMargins(0, 0, 0, 0);
    m_grid->setHorizontalSpacing(2);
    m_grid->setVerticalSpacing(4);
    m_scroll->setWidget(m_gridHost);
    // The viewport is resized after this widget's resizeEvent: size the pictures from it.
    m_scroll->viewport()->installEventFilter(this);
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
    if (watched == m_scroll->viewport() && event->type() == QEvent::Resize) layoutThumbs();
    return QWidget::eventFilter(watched, event);
}

void HeadGrid::layoutThumbs() {
    if (m_heads <= 0) return;
    // As large as the width allows, between a legible minimum and a sensible maximum.
    // Row labels ("L12") on the left, head labels on top, a caption under each picture.
    const int header = fontMetrics().horizontalAdvance(QStringLiteral("L00")) + 8;
    const int availW =
        m_scroll->viewport()->width() - header - m_grid->horizontalSpacing() * (m_heads + 1);
    const int perRow = fontMetrics().height() + 6 + m_grid->verticalSpacing();
    const int availH =
        m_scroll->viewport()->height() - fontMetrics().height() - 4 - perRow * m_layers;
    int edge = availW / m_heads - 6;
    // Fit the height too, down to a legible minimum; below that the grid scrolls down.
    if (m_layers > 0) edge = std::min(edge, std::max(40, availH / m_layers - 6));
    edge = std::clamp(edge, 40, 150);
    for (HeadThumb* t : m_thumbs) t->setEdge(edge);
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
            m_headers << l;
        }
        for (int l = 0; l < layers; ++l) {
            auto* lab = new QLabel(tr("L%1").arg(l + 1), m_gridHost);
            lab->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
            lab->setToolTip(tr("Layer %1").arg(l + 1));
            m_grid->addWidget(lab, l + 1, 0);
            m_headers << lab;
            for (int h = 0; h < heads; ++h) {
                auto* t = new HeadThumb(l, h, m_gridHost);
                t->setObjectName(QStringLiteral("headThumb_%1_%2").arg(l).arg(h));
                connect(t, &HeadThumb::clicked, this, [this](int layer, int head) {
                    const int s = stackIndex();
                    m_session->setHead(layer, head, s > 0, s == 2);
                });
                connect(t, &HeadThumb::toggleRequested, this, &HeadGrid::toggleHead);
                m_grid->addWidget(t, l + 1, h + 1, Qt::AlignCenter);
                m_thumbs << t;
            }
        }
        m_grid->setRowStretch(layers + 1, 1);
        m_grid->setColumnStretch(heads + 1, 1);
        layoutThumbs();
    }
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
        t->setImage(matrixImage(h.weights, kind, 0.0, 1.0));
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
