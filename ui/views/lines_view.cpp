#include "views/lines_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QSlider>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "session/session.h"
#include "views/cell_explain.h"

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
    m_w = weights;
    m_q = queries;
    m_k = keys;
    if (m_hoverSide == 0 && m_hoverIndex >= m_w.rows()) m_hoverSide = m_hoverIndex = -1;
    if (m_hoverSide == 1 && m_hoverIndex >= m_w.cols()) m_hoverSide = m_hoverIndex = -1;
    update();
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
}

double LinesCanvas::rowY(int i, int n) const {
    const double top = kMargin + 18 * m_fontScale, bottom = height() - kMargin;
    if (n <= 1) return (top + bottom) / 2;
    // Few tokens: keep them close together in the middle rather than at the far edges.
    const double span = std::min(bottom - top, (n - 1) * 60.0 * m_fontScale);
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

    // Lines, weakest first so strong ones stay on top.
    struct L {
        int i, j;
        float w;
    };
    std::vector<L> lines;
    lines.reserve(static_cast<std::size_t>(tq) * tk / 4 + 8);
    for (int i = 0; i < tq; ++i) {
        if (m_hoverSide == 0 && i != m_hoverIndex) continue;
        for (int j = 0; j < tk; ++j) {
            if (m_hoverSide == 1 && j != m_hoverIndex) continue;
            const float w = m_w(i, j);
            if (!(w >= m_threshold)) continue;
            lines.push_back({i, j, w});
        }
    }
    std::sort(lines.begin(), lines.end(), [](const L& a, const L& b) { return a.w < b.w; });
    const bool hovering = m_hoverSide >= 0;
    const double scale = std::clamp(std::sqrt(60.0 / std::max(tq, tk)), 0.25, 1.0);
    for (const L& l : lines) {
        const QRectF a = tokenRect(0, l.i), b = tokenRect(1, l.j);
        const QPointF from(a.right() + 6, a.center().y()), to(b.left() - 6, b.center().y());
        QColor c = hovering ? kHover : kLine;
        c.setAlphaF(static_cast<float>(std::clamp(0.08 + 0.92 * l.w, 0.0, 1.0)));
        p.setPen(QPen(c, (0.6 + 7.0 * l.w) * scale * m_fontScale, Qt::SolidLine, Qt::RoundCap));
        QPainterPath path(from);
        const double mx = (from.x() + to.x()) / 2;
        path.cubicTo(QPointF(mx, from.y()), QPointF(mx, to.y()), to);
        p.drawPath(path);
        ++m_drawn;
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
    // Weights next to the hovered token's lines.
    if (hovering) {
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
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
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
    m_canvas = new LinesCanvas(session, this);
    v->addWidget(m_canvas, 1);

    auto setThreshold = [this](int value) {
        m_canvas->setThreshold(value / 100.0);
        m_thresholdLabel->setText(fmtNum(value / 100.0f));
    };
    connect(m_threshold, &QSlider::valueChanged, this, setThreshold);
    setThreshold(m_threshold->value());
}

void LinesView::refresh(int) {
    m_canvas->setFontScale(m_session->fontScale());
    const HeadTrace* h = m_session->focusedHead();
    const Session::Focus& f = m_session->focus();
    if (!h) {
        m_header->setText(tr("No head to show."));
        m_canvas->setWeights(Mat(), {}, {});
        return;
    }
    const QString block = f.cross     ? tr("cross-attention")
                          : f.decoder ? tr("decoder self-attention")
                                      : tr("self-attention");
    m_header->setText(
        tr("<b>Layer %1 · head %2</b> (%3). Line strength = attention weight. Hover a "
           "token to see only its lines; pick another head in the head grid.")
            .arg(f.layer + 1)
            .arg(f.head + 1)
            .arg(block));
    m_canvas->setWeights(h->weights, m_session->queryLabels(), m_session->keyLabels());
}

}  // namespace attn::ui
