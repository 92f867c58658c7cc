#include "views/value_sums_view.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextDocument>
#include <QVBoxLayout>
#include <algorithm>

#include "attn/value_terms.h"
#include "session/session.h"
#include "views/heads_common.h"
#include "widgets/analysis_view_util.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

using viewutil::formatNumber;

ValueSumsView::ValueSumsView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
                  parent) {
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    m_headLabel = new QLabel(this);
    controls->addWidget(m_headLabel);
    controls->addStretch(1);
    m_queryPicker = viewutil::addTokenPicker(controls, this, tr("Query:"),
                                             tr("The token whose output z is built"));
    layout->addLayout(controls);

    QVBoxLayout* contentLayout = nullptr;
    m_content = viewutil::makeFigure(this, &contentLayout, &m_heading);
    auto* row = new QHBoxLayout;
    m_bars = new QCustomPlot(m_content);
    m_bars->setMinimumSize(260, 220);
    viewutil::stylePlot(m_bars);
    followFontScale(m_bars, m_session);
    row->addWidget(m_bars, 2);
    m_heatmap = new HeatmapView(m_content);
    m_heatmap->setColorMap(ColorMapKind::Diverging);
    m_heatmap->setSymmetricRange(true);
    m_heatmap->setAxisTitles(tr("α·v of key"), tr("value dimension"));
    row->addWidget(m_heatmap, 3);
    contentLayout->addLayout(row, 1);
    m_summary = viewutil::makeNote(m_content);
    contentLayout->addWidget(m_summary);
    layout->addWidget(m_content, 1);

    // α on the left axis (0..1), ‖α·v‖ on the right axis: different units, side by side.
    m_bars->yAxis2->setVisible(true);
    m_bars->yAxis->setLabel(tr("weight α"));
    m_bars->yAxis2->setLabel(tr("‖α·v‖"));
    m_bars->xAxis->setLabel(tr("key token j"));
    viewutil::legendAbove(m_bars);

    connect(m_queryPicker, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0) m_session->setQuery(i);
    });
    refreshNow();
}

void ValueSumsView::refresh(int) {
    scaleHeading(m_heading, m_session->fontScale());
    m_heatmap->setFontScale(m_session->fontScale());
    const Session::Focus& focus = m_session->focus();
    const QStringList queries = m_session->queryLabels();
    const QStringList keys = m_session->keyLabels();
    viewutil::fillTokenPicker(m_queryPicker, queries, focus.query);
    m_bars->clearPlottables();
    m_bars->clearItems();

    const TracePtr trace = m_session->trace();
    const HeadTrace* head = m_session->focusedHead();
    if (!trace || !head || head->weights.rows() == 0 || head->V.rows() == 0) {
        m_contrib.resize(0, 0);
        m_weights.resize(0);
        m_norms.resize(0);
        m_query = -1;
        m_headLabel->clear();
        m_heading->setText(tr("Type a sentence to see how values are mixed."));
        m_summary->clear();
        m_heatmap->setMatrix(Eigen::MatrixXf(), {}, {});
        m_bars->legend->setVisible(false);
        m_bars->replot();
        return;
    }

    const int qi = std::clamp(focus.query, 0, static_cast<int>(head->weights.rows()) - 1);
    const attn::ValueTerms terms = attn::valueTerms(*head, qi);
    const int T_k = static_cast<int>(terms.terms.rows());
    const int d_v = static_cast<int>(terms.terms.cols());
    m_query = qi;
    m_weights = terms.weights;       // (T_k)
    m_norms = terms.norms;           // (T_k)
    m_contrib.resize(T_k + 1, d_v);  // (T_k + 1, d_v)
    m_contrib.topRows(T_k) = terms.terms;
    m_contrib.row(T_k) = head->output.row(qi);  // z_i as the trace has it (zero when off)

    const QString qTok = qi < queries.size() ? queries[qi] : QString::number(qi);
    QStringList keyLabels;
    for (int j = 0; j < T_k; ++j) keyLabels << (j < keys.size() ? keys[j] : QString::number(j));
    m_headLabel->setText(withAlteredNotice(
        tr("Layer %1 · head %2").arg(focus.layer + 1).arg(focus.head + 1), *m_session));
    m_heading->setText(
        tr("Weighted value sums: z for “%1” = Σ<sub>j</sub> α<sub>j</sub>·v<sub>j</sub> "
           "(layer %2, head %3)")
            .arg(qTok)
            .arg(focus.layer + 1)
            .arg(focus.head + 1));

    // --- bars ---------------------------------------------------------------------------------
    QVector<double> x(T_k), alpha(T_k), norm(T_k);
    double maxNorm = 0;
    for (int j = 0; j < T_k; ++j) {
        x[j] = j;
        alpha[j] = m_weights(j);
        norm[j] = m_norms(j);
        maxNorm = std::max(maxNorm, norm[j]);
    }
    auto* group = new QCPBarsGroup(m_bars);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1);
    auto* aBars = new QCPBars(m_bars->xAxis, m_bars->yAxis);
    aBars->setName(tr("α (weight, left axis)"));
    aBars->setBrush(viewutil::seriesColor(0));
    aBars->setPen(QPen(viewutil::seriesColor(0).darker(130)));
    aBars->setData(x, alpha, true);
    auto* nBars = new QCPBars(m_bars->xAxis, m_bars->yAxis2);
    nBars->setName(tr("‖α·v‖ (right axis)"));
    nBars->setBrush(viewutil::seriesColor(5));
    nBars->setPen(QPen(viewutil::seriesColor(5).darker(130)));
    nBars->setData(x, norm, true);
    for (QCPBars* b : {aBars, nBars}) {
        b->setWidth(0.38);
        b->setBarsGroup(group);
    }
    viewutil::setTextTicks(m_bars->xAxis, keyLabels);
    m_bars->yAxis->setRange(0, 1.05);
    m_bars->yAxis2->setRange(0, std::max(1e-6, maxNorm) * 1.05);
    m_bars->legend->setVisible(true);
    m_bars->replot();

    // --- contributions and their sum
    // --------------------------------------------------------------
    m_rowLabels = keyLabels;
    m_rowLabels << tr("z = Σ");
    QStringList dims;
    for (int c = 0; c < d_v; ++c) dims << QString::number(c);
    m_heatmap->setTitle(tr("α·v for each key, and their sum z"));
    m_heatmap->setMatrix(m_contrib, m_rowLabels, dims);
    m_heatmap->setHighlight(T_k, -1);

    // --- explanation ----------------------------------------------------------------------------
    const double total = terms.total_norm;
    const int top = terms.largest_term;
    const int topW = terms.largest_weight;
    QStringList lines;
    lines << tr(
        "z = Σ<sub>j</sub> α<sub>j</sub>·v<sub>j</sub>: each key's value vector, "
        "scaled by its weight, then added (bottom row of the map).");
    if (total > 0) {
        lines << tr("Largest contribution: “%1” with ‖α·v‖ = %2 (%3 % of the total); "
                    "largest weight: “%4” with α = %5.")
                     .arg(keyLabels[top], formatNumber(m_norms(top)))
                     .arg(QString::number(100.0 * m_norms(top) / total, 'f', 0))
                     .arg(keyLabels[topW], formatNumber(m_weights(topW)));
        if (top != topW)
            lines << tr(
                "They differ: a key with a long value vector can outweigh one with a "
                "larger α.");
    } else {
        lines << tr("No key contributes (all weights are 0).");
    }
    if (!head->enabled) lines << tr("<i>This head is switched off: its output z is zeroed.</i>");
    m_summary->setText(lines.join(QStringLiteral("<br>")));
}

LabelledMatrix ValueSumsView::exportMatrix() const {
    LabelledMatrix m;
    m.values = m_contrib;
    m.rows = m_rowLabels;
    for (int c = 0; c < m_contrib.cols(); ++c) m.cols << QString::number(c);
    const Session::Focus& f = m_session->focus();
    m.name =
        QStringLiteral("L%1 H%2 q%3 value sums").arg(f.layer + 1).arg(f.head + 1).arg(m_query + 1);
    if (m.rows.size() != m.values.rows()) m.rows.clear();
    return m;
}

QString ValueSumsView::summaryText() const {
    QTextDocument doc;
    doc.setHtml(m_summary->text());
    return doc.toPlainText();
}

}  // namespace attn::ui
