#include "views/qk_inside_view.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextDocument>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "session/session.h"
#include "views/heads_common.h"
#include "widgets/analysis_view_util.h"

namespace attn::ui {

using viewutil::formatNumber;

namespace {

QString ordinal(int n) {
    if (n % 100 >= 11 && n % 100 <= 13) return QStringLiteral("%1th").arg(n);
    switch (n % 10) {
        case 1:
            return QStringLiteral("%1st").arg(n);
        case 2:
            return QStringLiteral("%1nd").arg(n);
        case 3:
            return QStringLiteral("%1rd").arg(n);
        default:
            return QStringLiteral("%1th").arg(n);
    }
}

QCPBars* addBars(QCPAxis* key, QCPAxis* value, const QString& name, const QColor& color,
                 const QVector<double>& x, const QVector<double>& y) {
    auto* bars = new QCPBars(key, value);
    bars->setName(name);
    bars->setPen(QPen(color.darker(130)));
    bars->setBrush(color);
    bars->setData(x, y, true);
    return bars;
}

}  // namespace

QkInsideView::QkInsideView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
                  parent) {
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    m_headLabel = new QLabel(this);
    controls->addWidget(m_headLabel);
    controls->addStretch(1);
    m_queryPicker = viewutil::addTokenPicker(
        controls, this, tr("Query:"), tr("The token that asks (row of the attention matrix)"));
    m_keyPicker = viewutil::addTokenPicker(
        controls, this, tr("Key:"),
        tr("The token that is looked at (column of the attention matrix)"));
    layout->addLayout(controls);

    QVBoxLayout* contentLayout = nullptr;
    m_content = viewutil::makeFigure(this, &contentLayout, &m_heading);
    m_plot = new QCustomPlot(m_content);
    m_plot->setMinimumHeight(220);
    viewutil::stylePlot(m_plot);
    followFontScale(m_plot, m_session);
    // Row 0: the legend in one line above the bars; row 1: the bars and, to the right, the sum.
    m_sumRect = new QCPAxisRect(m_plot);
    m_sumRect->setMinimumSize(170, 0);
    viewutil::legendAbove(m_plot);
    m_plot->plotLayout()->addElement(1, 1, m_sumRect);
    m_plot->plotLayout()->setColumnStretchFactors({3.0, 1.0});
    contentLayout->addWidget(m_plot, 1);
    m_summary = viewutil::makeNote(m_content);
    contentLayout->addWidget(m_summary);
    layout->addWidget(m_content, 1);

    connect(m_queryPicker, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0) m_session->setQuery(i);
    });
    connect(m_keyPicker, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0) m_session->setKey(i);
    });
    refreshNow();
}

void QkInsideView::refresh(int) {
    scaleHeading(m_heading, m_session->fontScale());
    m_b = {};
    const Session::Focus& focus = m_session->focus();
    const QStringList queries = m_session->queryLabels();
    const QStringList keys = m_session->keyLabels();
    viewutil::fillTokenPicker(m_queryPicker, queries, focus.query);
    viewutil::fillTokenPicker(m_keyPicker, keys, focus.key);

    m_plot->clearPlottables();
    m_plot->clearItems();
    const TracePtr trace = m_session->trace();
    const HeadTrace* head = m_session->focusedHead();
    if (!trace || !head || head->Q.rows() == 0 || head->K.rows() == 0) {
        m_headLabel->clear();
        m_heading->setText(tr("Type a sentence to see how a query meets a key."));
        m_summary->clear();
        m_plot->legend->setVisible(false);
        m_plot->replot();
        return;
    }

    const int qi = std::clamp(focus.query, 0, static_cast<int>(head->Q.rows()) - 1);
    const int kj = std::clamp(focus.key, 0, static_cast<int>(head->K.rows()) - 1);
    const AttentionConfig cfg = trace->attentionConfigOf(focus.decoder, focus.cross);
    Breakdown& b = m_b;
    static_cast<attn::ScoreBreakdown&>(b) = attn::scoreBreakdown(*head, qi, kj);
    b.valid = true;
    b.scoreFunction = cfg.score;
    b.scaleOn = cfg.scale;
    b.temperature = cfg.temperature;

    const QString qTok = qi < queries.size() ? queries[qi] : QString::number(qi);
    const QString kTok = kj < keys.size() ? keys[kj] : QString::number(kj);
    QString block =
        focus.cross ? tr("cross-attention") : (focus.decoder ? tr("decoder") : QString());
    m_headLabel->setText(withAlteredNotice(
        block.isEmpty()
            ? tr("Layer %1 · head %2").arg(focus.layer + 1).arg(focus.head + 1)
            : tr("Layer %1 · head %2 · %3").arg(focus.layer + 1).arg(focus.head + 1).arg(block),
        *m_session));
    m_heading->setText(tr("Query · key inside: why does “%1” attend to “%2”? (layer %3, head %4)")
                           .arg(qTok, kTok)
                           .arg(focus.layer + 1)
                           .arg(focus.head + 1));

    // --- bars: q, k and q∘k per dimension -------------------------------------------------
    QCPAxis* x = m_plot->xAxis;
    QCPAxis* y = m_plot->yAxis;
    QVector<double> dims(b.d_k), qv(b.d_k), kv(b.d_k), pv(b.d_k);
    for (int i = 0; i < b.d_k; ++i) {
        dims[i] = i;
        qv[i] = b.q(i);
        kv[i] = b.k(i);
        pv[i] = b.product(i);
    }
    auto* group = new QCPBarsGroup(m_plot);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1);
    const double width = 0.27;
    QCPBars* bq = addBars(x, y, tr("q (%1)").arg(qTok), viewutil::seriesColor(0), dims, qv);
    QCPBars* bk = addBars(x, y, tr("k (%1)").arg(kTok), viewutil::seriesColor(1), dims, kv);
    QCPBars* bp = addBars(x, y, tr("q∘k"), viewutil::seriesColor(2), dims, pv);
    for (QCPBars* bars : {bq, bk, bp}) {
        bars->setWidth(width);
        bars->setBarsGroup(group);
    }
    if (b.d_k <= 32) {
        QStringList labels;
        for (int i = 0; i < b.d_k; ++i) labels << QString::number(i);
        viewutil::setTextTicks(x, labels);
    } else {
        x->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        x->setTickLabelRotation(0);
        x->setRange(-0.6, b.d_k - 0.4);
    }
    x->setLabel(tr("dimension i of d_k = %1").arg(b.d_k));
    y->setLabel(tr("value"));
    double lo = 0, hi = 0;
    for (const auto* v : {&qv, &kv, &pv})
        for (double d : *v) {
            lo = std::min(lo, d);
            hi = std::max(hi, d);
        }
    const double pad = 0.08 * std::max(1e-6, hi - lo);
    y->setRange(lo - pad, hi + pad);
    m_plot->legend->setVisible(true);

    // --- the sum and the scaled score --------------------------------------------------------
    QCPAxis* sx = m_sumRect->axis(QCPAxis::atBottom);
    QCPAxis* sy = m_sumRect->axis(QCPAxis::atLeft);
    const double scaledShown = std::isfinite(b.scaled) ? b.scaled : 0.0;
    auto* sumBars =
        addBars(sx, sy, QString(), viewutil::seriesColor(2), {0.0}, {static_cast<double>(b.dot)});
    sumBars->setWidth(0.6);
    auto* scaledBars = addBars(sx, sy, QString(), viewutil::seriesColor(4), {1.0}, {scaledShown});
    scaledBars->setWidth(0.6);
    for (QCPBars* bars : {sumBars, scaledBars}) bars->removeFromLegend();
    viewutil::setTextTicks(sx, {tr("Σ q∘k"), tr("scaled")});
    sx->setRange(-0.75, 1.75);  // room for the value labels
    sy->setLabel(tr("score"));
    double slo = std::min({0.0, static_cast<double>(b.dot), scaledShown});
    double shi = std::max({0.0, static_cast<double>(b.dot), scaledShown});
    const double span = std::max(1e-6, shi - slo);
    sy->setRange(slo - 0.18 * span, shi + 0.18 * span);
    for (int i = 0; i < 2; ++i) {
        const double v = i == 0 ? b.dot : scaledShown;
        auto* text = new QCPItemText(m_plot);
        text->setClipAxisRect(m_sumRect);
        text->position->setAxes(sx, sy);
        text->position->setCoords(i, v);
        text->setPositionAlignment(v >= 0 ? (Qt::AlignHCenter | Qt::AlignBottom)
                                          : (Qt::AlignHCenter | Qt::AlignTop));
        text->setPadding(QMargins(0, 2, 0, 2));
        text->setText(formatNumber(v));
    }
    m_plot->replot();

    // --- the explanation ---------------------------------------------------------------------
    QStringList lines;
    const bool dotScore =
        b.scoreFunction == ScoreFunction::Dot || b.scoreFunction == ScoreFunction::ScaledDot;
    lines << tr("q·k = Σ<sub>i</sub> q<sub>i</sub>·k<sub>i</sub> = <b>%1</b>")
                 .arg(formatNumber(b.dot));
    if (dotScore) {
        lines.back() += tr(" — the trace's score for this pair: %1").arg(formatNumber(b.score));
    } else {
        lines << tr("This head scores with <i>%1</i>, so its score is not the plain dot product: "
                    "score = <b>%2</b>.")
                     .arg(QString::fromStdString(toString(b.scoreFunction)), formatNumber(b.score));
    }
    // How the scaled score came from the score: read off the trace, named by the config.
    if (std::isfinite(b.score) && std::isfinite(b.scaled)) {
        const double rootD = std::sqrt(static_cast<double>(b.d_k));
        const attn::ScaleReading r = attn::readScale(b.score, b.scaled, b.d_k, b.temperature);
        QString how;
        switch (r.step) {
            case attn::ScaleStep::Zero:
                how = tr("scaled");
                break;
            case attn::ScaleStep::SqrtDk:
                how = tr("÷ √d_k = ÷ √%1 = ÷ %2").arg(b.d_k).arg(formatNumber(rootD));
                break;
            case attn::ScaleStep::SqrtDkAndTemperature:
                how = tr("÷ √d_k (%1) ÷ temperature %2")
                          .arg(formatNumber(rootD))
                          .arg(formatNumber(b.temperature, 2));
                break;
            case attn::ScaleStep::Unscaled:
                how = tr("not scaled (√d_k switched off)");
                break;
            case attn::ScaleStep::Temperature:
                how = tr("÷ temperature %1").arg(formatNumber(b.temperature, 2));
                break;
            case attn::ScaleStep::Other:
                how = tr("÷ %1").arg(formatNumber(r.divisor));
                break;
        }
        lines << tr("%1 → <b>%2</b>").arg(how, formatNumber(b.scaled));
    }
    const int nKeys = static_cast<int>(head->weights.cols());
    if (b.masked) {
        lines << tr("Hidden by the mask (−∞), so the softmax gives it weight <b>0</b>.");
    } else {
        lines << tr("softmax over the row of “%1” → weight α = <b>%2</b> (%3 of %4 keys)")
                     .arg(qTok, formatNumber(b.weight),
                          b.rank == 1 ? tr("the largest") : ordinal(b.rank))
                     .arg(nKeys);
    }
    // The terms that move the score most.
    const std::vector<int>& order = b.largest_terms;
    QStringList terms;
    for (std::size_t i = 0; i < std::min<std::size_t>(3, order.size()); ++i) {
        const float v = b.product(order[i]);
        terms << tr("dim %1 (%2%3)")
                     .arg(order[i])
                     .arg(v >= 0 ? QStringLiteral("+") : QString())
                     .arg(formatNumber(v));
    }
    lines << tr("Largest terms: %1. Dimensions where q and k share a sign push the score up, "
                "opposite signs pull it down.")
                 .arg(terms.join(QStringLiteral(", ")));
    m_summary->setText(lines.join(QStringLiteral("<br>")));
}

QString QkInsideView::summaryText() const {
    QTextDocument doc;
    doc.setHtml(m_summary->text());
    return doc.toPlainText();
}

LabelledMatrix QkInsideView::exportMatrix() const {
    LabelledMatrix m;
    if (!m_b.valid) return m;
    m.values.resize(3, m_b.d_k);
    m.values.row(0) = m_b.q.transpose();
    m.values.row(1) = m_b.k.transpose();
    m.values.row(2) = m_b.product.transpose();
    m.rows = {QStringLiteral("q"), QStringLiteral("k"), QStringLiteral("q∘k")};
    for (int i = 0; i < m_b.d_k; ++i) m.cols << QString::number(i);
    const Session::Focus& f = m_session->focus();
    m.name = QStringLiteral("L%1 H%2 q%3 k%4 inside")
                 .arg(f.layer + 1)
                 .arg(f.head + 1)
                 .arg(m_b.query)
                 .arg(m_b.key);
    return m;
}

}  // namespace attn::ui
