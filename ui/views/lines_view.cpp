#include "views/lines_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QSlider>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "session/session.h"
#include "views/cell_explain.h"
#include "views/heads_common.h"

namespace attn::ui {

namespace {
const QColor kLine(0x2b, 0x5f, 0xd9);
const QColor kHover(0xff, 0x40, 0x81);
constexpr double kMargin = 14;
}  // namespace

// --- LinesCanvas ---------------------------------------------------------------------------

LinesCanvas::LinesCanvas(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    setMouseTracking(true);
    setAutoFillBackground(true);
    setBackgroundRole(QPalette::Base);
}

void LinesCanvas::setWeights(const Mat& weights, const QStringList& queries,
                             const QStringList& keys) {
    std::vector<HeadLines> one;
    if (weights.size() > 0) one.push_back({0, weights, kLine});
    setHeads(std::move(one), queries, keys);
    m_single = true;
}

void LinesCanvas::setHeads(std::vector<HeadLines> heads, const QStringList& queries,
                           const QStringList& keys) {
    m_heads = std::move(heads);
    m_single = m_heads.size() <= 1;
    m_w = m_heads.empty() ? Mat() : m_heads.front().weights;
    m_q = queries;
    m_k = keys;
    if (m_hoverSide == 0 && m_hoverIndex >= m_w.rows()) m_hoverSide = m_hoverIndex = -1;
    if (m_hoverSide == 1 && m_hoverIndex >= m_w.cols()) m_hoverSide = m_hoverIndex = -1;
    update();
}

double LinesCanvas::lineWidthAtOne() const {
    const int n = static_cast<int>(std::max(m_w.rows(), m_w.cols()));
    const double scale = std::clamp(std::sqrt(60.0 / std::max(n, 1)), 0.3, 1.0);
    return (1.0 + 7.0) * scale * m_fontScale;
}

void LinesCanvas::setFontScale(double s) {
    m_fontScale = s;
    update();
}

void LinesCanvas::setHover(int side, int index) {
    if (side == m_hoverSide && index == m_hoverIndex) return;
    m_hoverSide = side;
    m_hoverIndex = index;
    update();
    emit hovered(side, index);
}

double LinesCanvas::rowY(int i, int n) const {
    const double top = kMargin + 18 * m_fontScale, bottom = height() - kMargin;
    if (n <= 1) return (top + bottom) / 2;
    // Few tokens: keep them close together in the middle rather than at the far edges.
    const double span = std::min(bottom - top, (n - 1) * 90.0 * m_fontScale);
    const double start = top + (bottom - top - span) / 2;
    return start + span * i / (n - 1);
}

QRectF LinesCanvas::tokenRect(int side, int i) const {
    const int n = side == 0 ? static_cast<int>(m_w.rows()) : static_cast<int>(m_w.cols());
    const double colW = std::min(width() * 0.28, 200.0 * m_fontScale);
    const double spacing = n > 1 ? (rowY(1, n) - rowY(0, n)) : 30.0;
    const double h = std::max(4.0, std::min(spacing, 30.0 * m_fontScale));
    const double x = side == 0 ? kMargin : width() - kMargin - colW;
    return QRectF(x, rowY(i, n) - h / 2, colW, h);
}

bool LinesCanvas::tokenAt(const QPoint& pos, int* side, int* index) const {
    for (int s = 0; s < 2; ++s) {
        const int n = s == 0 ? static_cast<int>(m_w.rows()) : static_cast<int>(m_w.cols());
        for (int i = 0; i < n; ++i) {
            if (tokenRect(s, i).contains(pos)) {
                *side = s;
                *index = i;
                return true;
            }
        }
    }
    return false;
}

void LinesCanvas::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, true);
    m_drawn = 0;
    const int tq = static_cast<int>(m_w.rows()), tk = static_cast<int>(m_w.cols());
    if (tq == 0 || tk == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("No attention to show."));
        return;
    }
    QFont head = font();
    head.setPointSizeF(font().pointSizeF() * 0.95 * m_fontScale);
    head.setItalic(true);
    p.setFont(head);
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRectF(kMargin, 2, width() / 2.0, 18 * m_fontScale),
               Qt::AlignLeft | Qt::AlignVCenter, tr("queries (looking)"));
    p.drawText(QRectF(width() / 2.0, 2, width() / 2.0 - kMargin, 18 * m_fontScale),
               Qt::AlignRight | Qt::AlignVCenter, tr("keys (looked at)"));

    // Lines, weakest first so strong ones stay on top; several heads interleave by weight.
    struct L {
        int i, j, k;  // query, key, index into m_heads
        float w;
    };
    std::vector<L> lines;
    lines.reserve(static_cast<std::size_t>(tq) * tk / 4 + 8);
    for (int k = 0; k < static_cast<int>(m_heads.size()); ++k) {
        const Mat& w = m_heads[static_cast<std::size_t>(k)].weights;
        if (w.rows() != tq || w.cols() != tk) continue;
        for (int i = 0; i < tq; ++i) {
            if (m_hoverSide == 0 && i != m_hoverIndex) continue;
            for (int j = 0; j < tk; ++j) {
                if (m_hoverSide == 1 && j != m_hoverIndex) continue;
                const float a = w(i, j);
                if (!(a >= m_threshold)) continue;
                lines.push_back({i, j, k, a});
            }
        }
    }
    std::stable_sort(lines.begin(), lines.end(), [](const L& a, const L& b) { return a.w < b.w; });
    const bool hovering = m_hoverSide >= 0;
    const int nHeads = static_cast<int>(m_heads.size());
    m_drawnPerHead.assign(m_heads.size(), 0);
    m_drawnColours.clear();
    // Thick enough for a projector: the thinnest line is a full pixel (1.5 in presentation).
    const double scale = std::clamp(std::sqrt(60.0 / std::max(tq, tk)), 0.3, 1.0);
    for (const L& l : lines) {
        const QRectF a = tokenRect(0, l.i), b = tokenRect(1, l.j);
        // Several heads: each head's lines end a little apart so that their colours show.
        const double spread = nHeads > 1 ? std::min(a.height(), b.height()) * 0.6 : 0.0;
        const double dy = nHeads > 1 ? spread * (l.k / double(nHeads - 1) - 0.5) : 0.0;
        const QPointF from(a.right() + 6, a.center().y() + dy),
            to(b.left() - 6, b.center().y() + dy);
        QColor c =
            m_single ? (hovering ? kHover : kLine) : m_heads[static_cast<std::size_t>(l.k)].colour;
        if (!m_drawnColours.contains(c.rgb())) m_drawnColours << c.rgb();
        const double alpha = m_single ? 0.08 + 0.92 * l.w : 0.15 + 0.85 * l.w;
        c.setAlphaF(static_cast<float>(std::clamp(alpha, 0.0, 1.0)));
        p.setPen(QPen(c, (1.0 + 7.0 * l.w) * scale * m_fontScale, Qt::SolidLine, Qt::RoundCap));
        QPainterPath path(from);
        const double mx = (from.x() + to.x()) / 2;
        path.cubicTo(QPointF(mx, from.y()), QPointF(mx, to.y()), to);
        p.drawPath(path);
        ++m_drawn;
        ++m_drawnPerHead[static_cast<std::size_t>(l.k)];
    }

    // Tokens.
    const double spacing =
        std::max(tq, tk) > 1 ? rowY(1, std::max(tq, tk)) - rowY(0, std::max(tq, tk)) : 30;
    QFont tf = font();
    tf.setPointSizeF(std::clamp(spacing * 0.55, 5.0, 13.0 * m_fontScale));
    p.setFont(tf);
    const QFontMetricsF fm(tf);
    const int focusQ = m_session->focus().query;
    const int labelEvery =
        std::max(1, static_cast<int>(std::ceil(fm.height() * 0.9 / std::max(spacing, 0.1))));
    for (int s = 0; s < 2; ++s) {
        const QStringList& labels = s == 0 ? m_q : m_k;
        const int n = s == 0 ? tq : tk;
        for (int i = 0; i < n; ++i) {
            const bool hot = m_hoverSide == s && m_hoverIndex == i;
            const bool focus = s == 0 && i == focusQ && !hovering;
            if (i % labelEvery != 0 && !hot) continue;
            const QRectF r = tokenRect(s, i);
            if (hot || focus) {
                QColor bg = hot ? kHover : kLine;
                bg.setAlpha(40);
                p.fillRect(r.adjusted(0, 1, 0, -1), bg);
            }
            QFont f = tf;
            f.setBold(hot || focus);
            p.setFont(f);
            p.setPen(palette().color(QPalette::Text));
            const QString text = i < labels.size() ? labels[i] : QString::number(i);
            p.drawText(r.adjusted(4, 0, -4, 0),
                       (s == 0 ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter,
                       fm.elidedText(text, Qt::ElideRight, r.width() - 8));
        }
    }
    // Weights next to the hovered token's lines (one head: with several, numbers would pile up).
    if (hovering && m_single) {
        QFont wf = tf;
        wf.setPointSizeF(std::max(6.0, tf.pointSizeF() * 0.85));
        p.setFont(wf);
        p.setPen(kHover.darker(140));
        for (const L& l : lines) {
            if (l.w < 0.05f && lines.size() > 12) continue;
            const QRectF r = m_hoverSide == 0 ? tokenRect(1, l.j) : tokenRect(0, l.i);
            const QRectF box = m_hoverSide == 0 ? QRectF(r.left() - 52, r.top(), 44, r.height())
                                                : QRectF(r.right() + 8, r.top(), 44, r.height());
            p.drawText(box, (m_hoverSide == 0 ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter,
                       fmtNum(l.w));
        }
    }
}

void LinesCanvas::mouseMoveEvent(QMouseEvent* event) {
    int side = -1, index = -1;
    if (!tokenAt(event->position().toPoint(), &side, &index)) side = index = -1;
    setHover(side, index);
}

void LinesCanvas::mousePressEvent(QMouseEvent* event) {
    int side, index;
    if (event->button() == Qt::LeftButton && tokenAt(event->position().toPoint(), &side, &index)) {
        if (side == 0)
            m_session->setQuery(index);
        else
            m_session->setKey(index);
    }
}

void LinesCanvas::leaveEvent(QEvent*) { setHover(-1, -1); }

// --- LinesView -----------------------------------------------------------------------------

LinesView::LinesView(Session* session, QWidget* parent)
    : SessionView(session,
                  SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance |
                      SessionChange::Model,
                  parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(8, 6, 8, 6);
    auto* top = new QHBoxLayout;
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    top->addWidget(m_header, 1);
    top->addWidget(new QLabel(tr("Hide lines below"), this));
    m_threshold = new QSlider(Qt::Horizontal, this);
    m_threshold->setRange(0, 50);
    m_threshold->setValue(2);
    m_threshold->setFixedWidth(120);
    m_threshold->setToolTip(tr("Weights under this are not drawn"));
    top->addWidget(m_threshold);
    m_thresholdLabel = new QLabel(this);
    m_thresholdLabel->setMinimumWidth(34);
    top->addWidget(m_thresholdLabel);
    v->addLayout(top);
    // BertViz's head view: one colour swatch per head of the layer; click to add or remove it.
    m_swatchRow = new QWidget(this);
    m_swatchLayout = new QHBoxLayout(m_swatchRow);
    m_swatchLayout->setContentsMargins(0, 0, 0, 0);
    m_swatchLayout->setSpacing(4);
    m_swatchLayout->addWidget(new QLabel(tr("Heads:"), m_swatchRow));
    m_all = new QToolButton(m_swatchRow);
    m_all->setObjectName(QStringLiteral("linesAllHeads"));
    m_all->setText(tr("All heads"));
    m_all->setCheckable(true);
    m_all->setToolTip(tr("Draw every head of this layer together, each in its colour"));
    m_swatchLayout->addWidget(m_all);
    m_swatchLayout->addStretch(1);
    v->addWidget(m_swatchRow);
    m_altered = new QLabel(this);
    m_altered->setWordWrap(true);
    m_altered->setVisible(false);
    v->addWidget(m_altered);
    m_canvas = new LinesCanvas(session, this);
    v->addWidget(m_canvas, 1);

    auto setThreshold = [this](int value) {
        m_canvas->setThreshold(value / 100.0);
        m_thresholdLabel->setText(fmtNum(value / 100.0f));
    };
    connect(m_threshold, &QSlider::valueChanged, this, setThreshold);
    setThreshold(m_threshold->value());
    connect(m_all, &QToolButton::clicked, this, [this](bool on) {
        if (on)
            showAllHeads();
        else
            setShownHeads({m_session->focus().head});
    });
}

QList<int> LinesView::shownHeads() const { return m_shown; }

void LinesView::setShownHeads(const QList<int>& heads) {
    QList<int> shown;
    for (int h : heads)
        if (h >= 0 && h < m_swatches.size() && !shown.contains(h)) shown << h;
    std::sort(shown.begin(), shown.end());
    if (shown.isEmpty()) shown << m_session->focus().head;
    m_shown = shown;
    const Session::Focus& f = m_session->focus();
    // One head left: it is the head in focus, as everywhere else in the window.
    if (shown.size() == 1 && shown.front() != f.head)
        m_session->setHead(f.layer, shown.front(), f.decoder, f.cross);
    else
        requestRefresh(SessionChange::Focus);
}

void LinesView::showAllHeads() {
    QList<int> all;
    for (int h = 0; h < m_swatches.size(); ++h) all << h;
    setShownHeads(all);
}

bool LinesView::alteredNoticeShown() const { return !m_altered->isHidden(); }

void LinesView::rebuildSwatches(int heads) {
    qDeleteAll(m_swatches);
    m_swatches.clear();
    for (int h = 0; h < heads; ++h) {
        auto* b = new QToolButton(m_swatchRow);
        b->setObjectName(QStringLiteral("linesHead_%1").arg(h));
        b->setText(QString::number(h + 1));
        b->setCheckable(true);
        b->setToolTip(tr("Head %1: click to draw it too (or to hide it)").arg(h + 1));
        const QString c = headColor(h).name();
        b->setStyleSheet(QStringLiteral("QToolButton { background: %1; color: white; border: 2px "
                                        "solid %1; border-radius: 3px; padding: 1px 6px; "
                                        "font-weight: bold; }"
                                        "QToolButton:!checked { background: white; color: %1; }")
                             .arg(c));
        connect(b, &QToolButton::clicked, this, [this, h] {
            QList<int> shown = m_shown;
            if (shown.contains(h))
                shown.removeAll(h);
            else
                shown << h;
            setShownHeads(shown);
        });
        m_swatchLayout->insertWidget(1 + h, b);
        m_swatches << b;
    }
}

void LinesView::updateSwatches() {
    for (int h = 0; h < m_swatches.size(); ++h) {
        const QSignalBlocker block(m_swatches[h]);
        m_swatches[h]->setChecked(m_shown.contains(h));
    }
    const QSignalBlocker block(m_all);
    m_all->setChecked(!m_swatches.isEmpty() && m_shown.size() == m_swatches.size());
}

void LinesView::refresh(int) {
    m_canvas->setFontScale(m_session->fontScale());
    const QString altered = alteredNotice(*m_session);
    m_altered->setText(altered);
    m_altered->setVisible(!altered.isEmpty());
    const HeadTrace* h = m_session->focusedHead();
    const AttentionTrace* block = m_session->focusedBlock();
    const Session::Focus& f = m_session->focus();
    if (!h || !block) {
        m_header->setText(tr("No head to show."));
        m_canvas->setWeights(Mat(), {}, {});
        rebuildSwatches(0);
        m_swatchRow->setVisible(false);
        return;
    }
    const int heads = static_cast<int>(block->heads.size());
    if (heads != m_swatches.size()) rebuildSwatches(heads);
    m_swatchRow->setVisible(heads > 1);
    // One head follows the focus; a chosen set stays as the focus moves (clamped to the layer).
    if (m_shown.size() <= 1 || f.head != m_lastFocusHead) {
        if (m_shown.size() <= 1) m_shown = {f.head};
    }
    m_shown.removeIf([heads](int x) { return x >= heads; });
    if (m_shown.isEmpty()) m_shown = {f.head};
    m_lastFocusHead = f.head;
    updateSwatches();

    const QString blockName = f.cross     ? tr("cross-attention")
                              : f.decoder ? tr("decoder self-attention")
                                          : tr("self-attention");
    if (m_shown.size() == 1) {
        m_header->setText(
            tr("<b>Layer %1 · head %2</b> (%3). Line strength = attention weight. Hover a "
               "token to see only its lines; add heads with the swatches below.")
                .arg(f.layer + 1)
                .arg(f.head + 1)
                .arg(blockName));
        m_canvas->setWeights(h->weights, m_session->queryLabels(), m_session->keyLabels());
        return;
    }
    std::vector<LinesCanvas::HeadLines> shown;
    QStringList names;
    for (int k : m_shown) {
        const auto w = m_session->headWeights(f.layer, k, f.decoder, f.cross);
        shown.push_back({k, w ? w->weights : Mat(), headColor(k)});
        names << QString::number(k + 1);
    }
    m_header->setText(tr("<b>Layer %1 · heads %2</b> (%3), each in its swatch's colour. Line "
                         "strength = attention weight. Hover a token to see only its lines.")
                          .arg(f.layer + 1)
                          .arg(m_shown.size() == heads ? tr("all %1").arg(heads)
                                                       : names.join(QStringLiteral(", ")))
                          .arg(blockName));
    m_canvas->setHeads(std::move(shown), m_session->queryLabels(), m_session->keyLabels());
}

}  // namespace attn::ui
