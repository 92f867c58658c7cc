#include "views/scaling_view.h"

#include <qcustomplot.h>

#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "session/session.h"
#include "views/heads_common.h"
#include "widgets/analysis_view_util.h"

namespace attn::ui {

using viewutil::formatNumber;

namespace {

const QColor kUnscaled = viewutil::seriesColor(5);  // vermilion
const QColor kScaled = viewutil::seriesColor(0);    // blue
const QColor kReference(120, 120, 120);

void setupLogX(QCPAxis* x, const std::vector<ScalingPoint>& points, double fontScale) {
    x->setScaleType(QCPAxis::stLogarithmic);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    // Fewer ticks with presentation-sized numbers, so that "128" and "512" never touch.
    const int step = fontScale > 1.2 ? 8 : 4;
    for (int d = 2; d <= 4096; d *= step) ticker->addTick(d, QString::number(d));
    x->setTicker(ticker);
    x->setSubTicks(false);
    const double lo = points.empty() ? 2 : points.front().d_k;
    const double hi = points.empty() ? 512 : points.back().d_k;
    x->setRange(lo / 1.2, hi * 1.2);
    x->setLabel(QObject::tr("d_k (log scale)"));
}

QCPGraph* addLine(QCustomPlot* plot, QCPAxisRect* rect, const QVector<double>& x,
                  const QVector<double>& y, const QColor& color, Qt::PenStyle style, bool markers) {
    QCPGraph* g = plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    QPen pen(color, style == Qt::SolidLine ? 2.0 : 1.5);
    pen.setStyle(style);
    g->setPen(pen);
    if (markers) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 5));
    g->setData(x, y, true);
    return g;
}

}  // namespace

ScalingView::ScalingView(Session* session, QWidget* parent)
    // The study is the view's own; the session only marks the model's d_k.
    : SessionView(session, SessionChange::Trace | SessionChange::Model | SessionChange::Appearance,
                  parent) {
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Random q, k ~ N(0, 1) · keys per softmax:"), this));
    m_keys = new QSpinBox(this);
    m_keys->setRange(2, 1024);
    m_keys->setValue(16);
    controls->addWidget(m_keys);
    controls->addWidget(new QLabel(tr("Seed:"), this));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1'000'000);
    m_seed->setValue(1);
    controls->addWidget(m_seed);
    controls->addStretch(1);
    layout->addLayout(controls);

    QVBoxLayout* contentLayout = nullptr;
    m_content = viewutil::makeFigure(this, &contentLayout, &m_heading);
    m_heading->setText(
        tr("Why divide by √d_k? Scores q·k of random vectors spread like √d_k; "
           "without scaling the softmax turns one-hot"));
    m_plot = new QCustomPlot(m_content);
    m_plot->setMinimumSize(420, 260);
    viewutil::stylePlot(m_plot);
    followFontScale(m_plot, m_session);
    contentLayout->addWidget(m_plot, 1);
    m_note = viewutil::makeNote(m_content);
    contentLayout->addWidget(m_note);
    layout->addWidget(m_content, 1);

    // Three panels side by side with titles above, one legend below.
    m_plot->plotLayout()->clear();
    auto* grid = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(0, 0, grid);
    QFont titleFont = font();
    titleFont.setBold(true);
    // Two lines each: three titles side by side must fit a narrow pane at presentation size.
    const QString titles[3] = {tr("Spread:\nstd of scores"), tr("Sharpness:\nsoftmax entropy"),
                               tr("Largest weight\nper row")};
    for (int c = 0; c < 3; ++c)
        grid->addElement(0, c, new QCPTextElement(m_plot, titles[c], titleFont));
    m_stdRect = new QCPAxisRect(m_plot);
    m_entropyRect = new QCPAxisRect(m_plot);
    m_maxRect = new QCPAxisRect(m_plot);
    grid->addElement(1, 0, m_stdRect);
    grid->addElement(1, 1, m_entropyRect);
    grid->addElement(1, 2, m_maxRect);
    grid->setRowStretchFactors({0.01, 1.0});
    auto* legend = new QCPLegend;
    m_plot->plotLayout()->addElement(1, 0, legend);
    m_plot->plotLayout()->setRowStretchFactors({1.0, 0.01});
    legend->setLayer(QStringLiteral("legend"));
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setWrap(2);  // two by two: four entries in one line are cut in a narrow pane
    legend->setBorderPen(Qt::NoPen);
    legend->setFont(font());
    m_plot->legend = legend;

    connect(m_keys, &QSpinBox::valueChanged, this, [this] { runStudy(); });
    connect(m_seed, &QSpinBox::valueChanged, this, [this] { runStudy(); });
    refreshNow();
}

void ScalingView::refresh(int) {
    scaleHeading(m_heading, m_session->fontScale());
    // The first refresh runs the study (which draws it); later ones only move the d_k marker.
    if (m_study.points.empty() && m_error.isEmpty())
        runStudy();
    else
        redraw();
}

void ScalingView::setStudy(int keys, int seed) {
    {
        const QSignalBlocker b1(m_keys), b2(m_seed);
        m_keys->setValue(keys);
        m_seed->setValue(seed);
    }
    runStudy();
}

void ScalingView::runStudy() {
    ScalingStudyOptions o;
    o.keys = m_keys->value();
    o.seed = static_cast<std::uint64_t>(m_seed->value());
    auto r = scalingStudy(o);
    if (r) {
        m_study = std::move(r).value();
        m_error.clear();
    } else {
        m_study = {};
        m_error = QString::fromStdString(r.message());
    }
    redraw();
}

void ScalingView::redraw() {
    m_plot->clearGraphs();
    m_plot->clearItems();
    m_plot->legend->clearItems();
    const auto& pts = m_study.points;
    if (pts.empty()) {
        m_note->setText(m_error);
        m_plot->replot();
        return;
    }
    QVector<double> d, stdU, stdS, root, hU, hS, mU, mS, hMax, mMin;
    for (const ScalingPoint& p : pts) {
        d << p.d_k;
        stdU << p.std_unscaled;
        stdS << p.std_scaled;
        root << std::sqrt(static_cast<double>(p.d_k));
        hU << p.entropy_unscaled;
        hS << p.entropy_scaled;
        mU << p.max_weight_unscaled;
        mS << p.max_weight_scaled;
        hMax << m_study.max_entropy;
        mMin << 1.0 / m_study.options.keys;
    }
    // Spread.
    QCPGraph* g = addLine(m_plot, m_stdRect, d, stdU, kUnscaled, Qt::SolidLine, true);
    g->setName(tr("unscaled q·k"));
    g = addLine(m_plot, m_stdRect, d, stdS, kScaled, Qt::SolidLine, true);
    g->setName(tr("scaled q·k / √d_k"));
    // The measured spread lies on √d_k, so the reference line would hide under that curve: it
    // is drawn on a layer above every curve, thick and dashed, and labelled at its end.
    g = addLine(m_plot, m_stdRect, d, root, QColor(20, 20, 20), Qt::DashLine, false);
    g->setName(tr("√d_k (dashed, on top)"));
    {
        QPen pen = g->pen();
        pen.setWidthF(2.5);
        pen.setDashPattern({3.0, 2.0});
        g->setPen(pen);
        if (!m_plot->layer(QStringLiteral("reference")))
            m_plot->addLayer(QStringLiteral("reference"), m_plot->layer(QStringLiteral("main")),
                             QCustomPlot::limAbove);
        g->setLayer(QStringLiteral("reference"));
        auto* label = new QCPItemText(m_plot);
        label->setLayer(QStringLiteral("reference"));
        label->setClipAxisRect(m_stdRect);
        label->position->setAxes(m_stdRect->axis(QCPAxis::atBottom),
                                 m_stdRect->axis(QCPAxis::atLeft));
        label->position->setCoords(d.back() / 1.5, root.back());
        label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        label->setColor(QColor(20, 20, 20));
        label->setBrush(QColor(255, 255, 255, 210));
        QFont f = label->font();
        f.setBold(true);
        label->setFont(f);
        label->setText(tr("√d_k"));
    }
    // Sharpness.
    g = addLine(m_plot, m_entropyRect, d, hMax, kReference.lighter(130), Qt::DotLine, false);
    g->setName(tr("uniform weights (ln T_k, 1/T_k)"));
    addLine(m_plot, m_entropyRect, d, hU, kUnscaled, Qt::SolidLine, true)->removeFromLegend();
    addLine(m_plot, m_entropyRect, d, hS, kScaled, Qt::SolidLine, true)->removeFromLegend();
    addLine(m_plot, m_maxRect, d, mMin, kReference.lighter(130), Qt::DotLine, false)
        ->removeFromLegend();
    addLine(m_plot, m_maxRect, d, mU, kUnscaled, Qt::SolidLine, true)->removeFromLegend();
    addLine(m_plot, m_maxRect, d, mS, kScaled, Qt::SolidLine, true)->removeFromLegend();

    // Thicker curves on a projector.
    const double widen = std::max(1.0, m_session->fontScale());
    for (int i = 0; i < m_plot->graphCount(); ++i) {
        QPen pen = m_plot->graph(i)->pen();
        pen.setWidthF(pen.widthF() * widen);
        m_plot->graph(i)->setPen(pen);
    }

    double stdTop = 0;
    for (double v : stdU) stdTop = std::max(stdTop, v);
    for (double v : root) stdTop = std::max(stdTop, v);
    for (QCPAxisRect* r : {m_stdRect, m_entropyRect, m_maxRect})
        setupLogX(r->axis(QCPAxis::atBottom), pts, m_session->fontScale());
    m_stdRect->axis(QCPAxis::atLeft)->setRange(0, stdTop * 1.08);
    m_stdRect->axis(QCPAxis::atLeft)->setLabel(tr("std"));
    m_entropyRect->axis(QCPAxis::atLeft)->setRange(0, m_study.max_entropy * 1.08);
    m_entropyRect->axis(QCPAxis::atLeft)->setLabel(tr("entropy (nats)"));
    m_maxRect->axis(QCPAxis::atLeft)->setRange(0, 1.04);
    m_maxRect->axis(QCPAxis::atLeft)->setLabel(tr("max α"));

    // The current model's d_k.
    int modelDk = 0;
    if (const TracePtr trace = m_session->trace(); trace && trace->model)
        modelDk = trace->model->config.headDim();
    if (modelDk > 0) {
        for (QCPAxisRect* r : {m_stdRect, m_entropyRect, m_maxRect}) {
            auto* line = new QCPItemStraightLine(m_plot);
            line->setClipAxisRect(r);
            for (QCPItemPosition* p : {line->point1, line->point2})
                p->setAxes(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
            line->point1->setCoords(modelDk, 0);
            line->point2->setCoords(modelDk, 1);
            line->setPen(QPen(QColor(0, 158, 115), 1.5, Qt::DashDotLine));
        }
        auto* label = new QCPItemText(m_plot);
        label->setClipAxisRect(m_stdRect);
        label->position->setAxes(m_stdRect->axis(QCPAxis::atBottom),
                                 m_stdRect->axis(QCPAxis::atLeft));
        // Below the labelled end of the √d_k line, which sits at the top.
        label->position->setCoords(modelDk * 1.15, stdTop * 0.6);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        label->setTextAlignment(Qt::AlignLeft);
        label->setColor(QColor(0, 120, 90));
        label->setBrush(QColor(255, 255, 255, 210));  // readable where it crosses a curve
        label->setText(tr("this model\nd_k = %1").arg(modelDk));
    }
    m_plot->replot();

    const ScalingPoint& last = pts.back();
    m_note->setText(
        tr("With q and k drawn from N(0, 1), q·k is a sum of d_k products of variance 1, so its "
           "std is √d_k. At d_k = %1 the unscaled scores have std %2 and the softmax puts "
           "<b>%3</b> of the weight on one key on average (entropy %4 nats): nearly one-hot, "
           "where its gradient vanishes. Divided by √d_k the std stays %5 and the largest weight "
           "<b>%6</b> (entropy %7 of at most %8) at every d_k. %9 keys per softmax, seed %10.")
            .arg(last.d_k)
            .arg(formatNumber(last.std_unscaled, 1))
            .arg(formatNumber(last.max_weight_unscaled, 2))
            .arg(formatNumber(last.entropy_unscaled, 2))
            .arg(formatNumber(last.std_scaled, 2))
            .arg(formatNumber(last.max_weight_scaled, 2))
            .arg(formatNumber(last.entropy_scaled, 2))
            .arg(formatNumber(m_study.max_entropy, 2))
            .arg(m_study.options.keys)
            .arg(m_study.options.seed));
}

LabelledMatrix ScalingView::exportMatrix() const {
    LabelledMatrix m;
    const auto& pts = m_study.points;
    m.values.resize(static_cast<Eigen::Index>(pts.size()), 6);
    for (std::size_t i = 0; i < pts.size(); ++i) {
        const ScalingPoint& p = pts[i];
        const auto r = static_cast<Eigen::Index>(i);
        m.values(r, 0) = static_cast<float>(p.std_unscaled);
        m.values(r, 1) = static_cast<float>(p.std_scaled);
        m.values(r, 2) = static_cast<float>(p.entropy_unscaled);
        m.values(r, 3) = static_cast<float>(p.entropy_scaled);
        m.values(r, 4) = static_cast<float>(p.max_weight_unscaled);
        m.values(r, 5) = static_cast<float>(p.max_weight_scaled);
        m.rows << QString::number(p.d_k);
    }
    m.cols = {"std_unscaled",   "std_scaled",          "entropy_unscaled",
              "entropy_scaled", "max_weight_unscaled", "max_weight_scaled"};
    m.name = QStringLiteral("scaling study");
    return m;
}

}  // namespace attn::ui
