#include "views/positional_view.h"

#include <qcustomplot.h>

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMap>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/token_labels.h"
#include "session/session.h"
#include "views/heads_common.h"
#include "widgets/analysis_view_util.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

constexpr int kPageCount = 5;
int index(PositionalView::Page p) { return static_cast<int>(p); }

QWidget* makeFigure(QWidget* parent) {
    auto* figure = new QWidget(parent);
    figure->setAutoFillBackground(true);
    QPalette pal = figure->palette();
    pal.setColor(QPalette::Window, Qt::white);
    pal.setColor(QPalette::WindowText, Qt::black);
    figure->setPalette(pal);
    return figure;
}

// "M₅", "M₋₂": the offset matrix's name with k as a subscript, short enough for a column label.
QString offsetName(int k) {
    static const QChar digits[] = {u'₀', u'₁', u'₂', u'₃', u'₄', u'₅', u'₆', u'₇', u'₈', u'₉'};
    QString name = QStringLiteral("M");
    if (k < 0) name += QChar(u'₋');
    for (QChar c : QString::number(std::abs(k))) name += digits[c.digitValue()];
    return name;
}

QString sci(double v) {
    if (v == 0) return QStringLiteral("0");
    return QString::number(v, 'e', 1).replace(QLatin1Char('-'), QStringLiteral("−"));
}

}  // namespace

PositionalView::PositionalView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Model | SessionChange::Appearance,
                  parent) {
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    m_modelLabel = new QLabel(this);
    m_modelLabel->setWordWrap(true);  // the positions box stays in reach at 1024×768
    top->addWidget(m_modelLabel, 1);
    top->addStretch(1);
    top->addWidget(new QLabel(tr("Positions:"), this));
    m_positions = new QSpinBox(this);
    m_positions->setRange(2, 2048);
    m_positions->setValue(48);
    m_positions->setToolTip(tr("How many positions the waves, tables and similarity show"));
    top->addWidget(m_positions);
    layout->addLayout(top);
    m_tabs = new QTabWidget(this);
    layout->addWidget(m_tabs, 1);

    for (int i = 0; i < kPageCount; ++i) {
        m_pages[i] = new QWidget(m_tabs);
        m_figures[i] = makeFigure(m_pages[i]);
    }

    // --- waves: dimension picker beside the plot
    // ---------------------------------------------------
    {
        auto* page = new QHBoxLayout(m_pages[index(Page::Waves)]);
        auto* pick = new QVBoxLayout;
        pick->addWidget(new QLabel(tr("Dimensions:"), m_pages[index(Page::Waves)]));
        m_dimList = new QListWidget(m_pages[index(Page::Waves)]);
        // Wide enough for "dim 38 (sin, ω = 0.004)" at the font in use (see refresh).
        m_dimList->setWordWrap(true);
        m_dimList->setTextElideMode(Qt::ElideNone);
        m_dimList->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        m_dimList->setToolTip(tr("Tick the dimensions whose waves are drawn"));
        pick->addWidget(m_dimList, 1);
        page->addLayout(pick);
        QWidget* fig = m_figures[index(Page::Waves)];
        auto* figLayout = new QVBoxLayout(fig);
        m_wavesHeading = viewutil::makeHeading(fig);
        figLayout->addWidget(m_wavesHeading);
        m_waves = new QCustomPlot(fig);
        m_waves->setMinimumSize(300, 220);
        viewutil::stylePlot(m_waves);
        followFontScale(m_waves, m_session);
        m_waves->xAxis->setLabel(tr("position t"));
        m_waves->yAxis->setLabel(tr("value"));
        viewutil::legendAbove(m_waves);
        figLayout->addWidget(m_waves, 1);
        page->addWidget(fig, 1);
        connect(m_dimList, &QListWidget::itemChanged, this, [this] { rebuildWaves(); });
    }
    // --- table ---------------------------------------------------------------------------------
    {
        auto* page = new QVBoxLayout(m_pages[index(Page::Table)]);
        QWidget* fig = m_figures[index(Page::Table)];
        auto* figLayout = new QVBoxLayout(fig);
        m_tableHeading = viewutil::makeHeading(fig);
        figLayout->addWidget(m_tableHeading);
        m_tableMap = new HeatmapView(fig);
        figLayout->addWidget(m_tableMap, 1);
        page->addWidget(fig, 1);
    }
    // --- similarity ----------------------------------------------------------------------------
    {
        auto* page = new QVBoxLayout(m_pages[index(Page::Similarity)]);
        QWidget* fig = m_figures[index(Page::Similarity)];
        auto* figLayout = new QVBoxLayout(fig);
        m_simHeading = viewutil::makeHeading(fig);
        figLayout->addWidget(m_simHeading);
        m_simMap = new HeatmapView(fig);
        m_simMap->setColorMap(ColorMapKind::Diverging);
        m_simMap->setSymmetricRange(true);
        m_simMap->setAxisTitles(tr("position t"), tr("position s"));
        figLayout->addWidget(m_simMap, 1);
        page->addWidget(fig, 1);
    }
    // --- offset: PE(t+k) = M_k·PE(t)
    // -----------------------------------------------------------------
    {
        auto* page = new QVBoxLayout(m_pages[index(Page::Offset)]);
        auto* controls = new QHBoxLayout;
        controls->addWidget(new QLabel(tr("Start position t:"), m_pages[index(Page::Offset)]));
        m_t = new QSpinBox(m_pages[index(Page::Offset)]);
        m_t->setRange(0, 2047);
        m_t->setValue(3);
        controls->addWidget(m_t);
        controls->addWidget(new QLabel(tr("Shift k:"), m_pages[index(Page::Offset)]));
        m_k = new QSpinBox(m_pages[index(Page::Offset)]);
        m_k->setRange(-3, 2048);
        m_k->setValue(2);
        controls->addWidget(m_k);
        controls->addStretch(1);
        page->addLayout(controls);
        QWidget* fig = m_figures[index(Page::Offset)];
        auto* figLayout = new QVBoxLayout(fig);
        m_offsetHeading = viewutil::makeHeading(fig);
        figLayout->addWidget(m_offsetHeading);
        auto* maps = new QHBoxLayout;
        m_mkMap = new HeatmapView(fig);
        m_mkMap->setColorMap(ColorMapKind::Diverging);
        m_mkMap->setSymmetricRange(true);
        m_mkMap->setAxisTitles(tr("row"), tr("column"));
        maps->addWidget(m_mkMap, 3);
        m_vecMap = new HeatmapView(fig);
        m_vecMap->setColorMap(ColorMapKind::Diverging);
        m_vecMap->setRange(-1, 1);
        m_vecMap->setAxisTitles(tr("dimension"), QString());
        maps->addWidget(m_vecMap, 2);
        figLayout->addLayout(maps, 1);
        m_offsetNote = viewutil::makeNote(fig);
        figLayout->addWidget(m_offsetNote);
        page->addWidget(fig, 1);
        connect(m_t, &QSpinBox::valueChanged, this, [this](int t) {
            const QSignalBlocker block(m_k);
            m_k->setMinimum(-t);  // t + k must be a position
            rebuildOffset();
        });
        connect(m_k, &QSpinBox::valueChanged, this, [this] { rebuildOffset(); });
    }
    // --- none ------------------------------------------------------------------------------------
    {
        auto* page = new QVBoxLayout(m_pages[index(Page::None)]);
        QWidget* fig = m_figures[index(Page::None)];
        auto* figLayout = new QVBoxLayout(fig);
        m_noneNote = viewutil::makeNote(fig);
        m_noneNote->setText(
            tr("<h3>No positional encoding</h3>"
               "<p>This model adds nothing about position to the tokens. Self-attention alone "
               "cannot tell word order: shuffle the tokens and every token's output is shuffled "
               "the same way, unchanged.</p>"
               "<p>Switch the positional encoding to <i>sinusoidal</i>, <i>learned</i> or "
               "<i>RoPE</i> in the model settings to see one.</p>"));
        figLayout->addWidget(m_noneNote);
        figLayout->addStretch(1);
        page->addWidget(fig, 1);
    }

    m_tabs->addTab(m_pages[index(Page::Waves)], tr("Waves"));
    m_tabs->addTab(m_pages[index(Page::Table)], tr("PE matrix"));
    m_tabs->addTab(m_pages[index(Page::Similarity)], tr("Position similarity"));
    m_tabs->addTab(m_pages[index(Page::Offset)], tr("PE(t+k) = M_k·PE(t)"));
    m_tabs->addTab(m_pages[index(Page::None)], tr("No encoding"));

    connect(m_positions, &QSpinBox::valueChanged, this, [this] { rebuild(); });
    refreshNow();
}

void PositionalView::resizeEvent(QResizeEvent* event) {
    SessionView::resizeEvent(event);
    fitDimensionList();
}

void PositionalView::fitDimensionList() {
    if (!m_dimList) return;
    // As wide as its longest name, up to 30% of the view: in a narrow pane (a 1024×768
    // projector in presentation mode) the plot keeps the room and the names wrap, never cut.
    const int w =
        m_dimList->fontMetrics().horizontalAdvance(QStringLiteral("☐ dim 888 (sin, ω = 0.0000)")) +
        m_dimList->verticalScrollBar()->sizeHint().width() + 16;
    const int share = std::max(140, width() * 3 / 10);
    m_dimList->setFixedWidth(std::min(w, share));
}

void PositionalView::refresh(int) {
    for (QLabel* h : {m_wavesHeading, m_tableHeading, m_simHeading, m_offsetHeading})
        scaleHeading(h, m_session->fontScale());
    fitDimensionList();
    for (HeatmapView* map : {m_tableMap, m_simMap, m_mkMap, m_vecMap})
        if (map) map->setFontScale(m_session->fontScale());
    rebuild();
}

int PositionalView::dimCount() const {
    return m_kind == PositionalKind::Rope ? m_dHead / 2 : m_dModel;
}

QStringList PositionalView::positionLabels(int count) const {
    QStringList labels;
    for (int t = 0; t < count; ++t)
        labels << (t < m_tokenLabels.size() ? QStringLiteral("%1 %2").arg(t).arg(m_tokenLabels[t])
                                            : QString::number(t));
    return labels;
}

void PositionalView::rebuild() {
    const TracePtr trace = m_session->trace();
    std::shared_ptr<const Model> model = trace && trace->model ? trace->model : m_session->model();
    const ModelConfig cfg = model ? model->config : m_session->config();
    const PositionalKind oldKind = m_kind;
    const int oldDims = dimCount();
    m_kind = cfg.positional;
    m_dModel = cfg.d_model;
    m_dHead = cfg.headDim();
    m_base = cfg.pe_base;
    m_ropeTheta = cfg.rope_theta;
    m_learned = model ? model->weights.position_embedding : Eigen::MatrixXf();
    m_tokenLabels.clear();
    if (trace) m_tokenLabels = tokenLabels(trace->text, trace->tokens);
    m_tokens = static_cast<int>(m_tokenLabels.size());
    {
        const QSignalBlocker block(m_positions);
        m_positions->setMaximum(std::max(2, std::min(2048, cfg.max_len)));
    }

    m_modelLabel->setText(tr("Positional encoding: <b>%1</b> · d_model = %2%3")
                              .arg(QString::fromStdString(toString(m_kind)))
                              .arg(m_dModel)
                              .arg(m_kind == PositionalKind::Rope
                                       ? tr(" · d_head = %1 · θ = %2").arg(m_dHead).arg(m_ropeTheta)
                                   : m_kind == PositionalKind::Sinusoidal
                                       ? tr(" · base = %1").arg(m_base)
                                       : QString()));

    const bool sinus = m_kind == PositionalKind::Sinusoidal;
    const bool learned = m_kind == PositionalKind::Learned;
    const bool rope = m_kind == PositionalKind::Rope;
    const bool none = m_kind == PositionalKind::None;
    m_tabs->setTabVisible(index(Page::Waves), !none);
    m_tabs->setTabVisible(index(Page::Table), !none);
    m_tabs->setTabVisible(index(Page::Similarity), sinus || learned);
    m_tabs->setTabVisible(index(Page::Offset), sinus || rope);
    m_tabs->setTabVisible(index(Page::None), none);
    m_tabs->setTabText(index(Page::Table), learned ? tr("Learned table")
                                           : rope  ? tr("Rotation angles")
                                                   : tr("PE matrix"));
    m_tabs->setTabText(index(Page::Offset),
                       rope ? tr("Rotation by k: M_k") : tr("PE(t+k) = M_k·PE(t)"));
    if (!m_tabs->isTabVisible(m_tabs->currentIndex()))
        m_tabs->setCurrentIndex(none ? index(Page::None) : index(Page::Waves));

    if (oldKind != m_kind || oldDims != dimCount() || m_dimList->count() != dimCount())
        fillDimensionList();
    if (none) return;
    rebuildWaves();
    rebuildTable();
    rebuildOffset();
}

void PositionalView::fillDimensionList() {
    const QSignalBlocker block(m_dimList);
    m_dimList->clear();
    const int n = dimCount();
    QList<int> defaults;
    if (m_kind == PositionalKind::Rope) {
        defaults = {0, std::max(1, n / 4)};
    } else {
        const int pair = std::max(1, n / 8);
        defaults = {0, 1, 2 * pair, 2 * pair + 1};
    }
    for (int i = 0; i < n; ++i) {
        QString text;
        if (m_kind == PositionalKind::Rope) {
            const double w = ropeAngle(1, i, m_dHead, m_ropeTheta);  // θ_i, radians per position
            text = tr("pair %1 (θ_i = %2)").arg(i).arg(QString::number(w, 'g', 3));
        } else if (m_kind == PositionalKind::Sinusoidal) {
            const double w = sinusoidalFrequency(i, m_dModel, m_base);
            text = tr("dim %1 (%2, ω = %3)")
                       .arg(i)
                       .arg(i % 2 == 0 ? QStringLiteral("sin") : QStringLiteral("cos"))
                       .arg(QString::number(w, 'g', 3));
        } else {
            text = tr("dim %1").arg(i);
        }
        auto* item = new QListWidgetItem(text, m_dimList);
        item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
        item->setCheckState(defaults.contains(i) ? Qt::Checked : Qt::Unchecked);
    }
}

void PositionalView::rebuildWaves() {
    m_waves->clearGraphs();
    m_waves->clearItems();
    const int P = m_positions->value();
    const QList<int> dims = waveDimensions();
    m_waveNames.clear();
    const bool rope = m_kind == PositionalKind::Rope;
    Eigen::MatrixXf source;  // (P, dims) the columns the waves come from
    if (m_kind == PositionalKind::Sinusoidal) {
        source = sinusoidalEncoding(P, m_dModel, m_base);
        m_wavesHeading->setText(
            tr("Sinusoidal encoding: PE(t, 2i) = sin(t·ω<sub>i</sub>), "
               "PE(t, 2i+1) = cos(t·ω<sub>i</sub>), ω<sub>i</sub> = %1<sup>−2i/d</sup>")
                .arg(m_base));
    } else if (m_kind == PositionalKind::Learned) {
        const int rows = std::min<int>(P, static_cast<int>(m_learned.rows()));
        source = m_learned.topRows(rows);
        m_wavesHeading->setText(rows > 0 ? tr("Learned position embeddings: value of each chosen "
                                              "dimension at each position")
                                         : tr("This model has no learned position table."));
    } else {
        m_wavesHeading->setText(
            tr("RoPE rotates pair i of q and k by angle t·θ<sub>i</sub>: "
               "cos and sin of that angle over positions"));
    }

    const int shown = rope ? P : static_cast<int>(source.rows());
    QVector<double> x(shown);
    for (int t = 0; t < shown; ++t) x[t] = t;
    m_waveData.resize(shown, rope ? 2 * dims.size() : dims.size());
    int column = 0;
    double lo = -1, hi = 1;
    QMap<int, int> pairColour;  // sin/cos pair of a sinusoidal dimension → its own colour
    for (int n = 0; n < dims.size(); ++n) {
        const int d = dims[n];
        if (!pairColour.contains(d / 2)) pairColour.insert(d / 2, int(pairColour.size()));
        const int parts = rope ? 2 : 1;
        for (int part = 0; part < parts; ++part) {
            QVector<double> y(shown);
            for (int t = 0; t < shown; ++t) {
                double v;
                if (rope) {
                    const double a = ropeAngle(t, d, m_dHead, m_ropeTheta);
                    v = part == 0 ? std::cos(a) : std::sin(a);
                } else {
                    v = (d < source.cols()) ? source(t, d) : 0.0;
                }
                y[t] = v;
                m_waveData(t, column) = static_cast<float>(v);
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            const int colourIndex =
                rope ? n : (m_kind == PositionalKind::Sinusoidal ? pairColour.value(d / 2) : n);
            QPen pen(viewutil::seriesColor(colourIndex), 2);
            const bool dashed = rope ? part == 1 : (m_kind == PositionalKind::Sinusoidal && d % 2);
            if (dashed) pen.setStyle(Qt::DashLine);
            // Sinusoidal and RoPE values are samples of a smooth wave at whole positions: draw
            // the wave thin and the samples as dots, so that fast waves do not look jagged.
            const bool smooth = rope || m_kind == PositionalKind::Sinusoidal;
            if (smooth && shown > 1) {
                const double omega = rope ? ropeAngle(1, d, m_dHead, m_ropeTheta)
                                          : sinusoidalFrequency(d, m_dModel, m_base);
                const bool useCos = rope ? part == 0 : d % 2 == 1;
                const int fine = 8 * (shown - 1) + 1;
                QVector<double> fx(fine), fy(fine);
                for (int i = 0; i < fine; ++i) {
                    fx[i] = i / 8.0;
                    fy[i] = useCos ? std::cos(fx[i] * omega) : std::sin(fx[i] * omega);
                }
                QCPGraph* wave = m_waves->addGraph();
                QPen thin = pen;
                thin.setWidthF(1.2);
                wave->setPen(thin);
                wave->setData(fx, fy, true);
                wave->setName(QStringLiteral("wave"));  // renamed below; the legend shows the line
            }
            QCPGraph* g = m_waves->addGraph();
            g->setPen(pen);
            if (smooth) g->setLineStyle(QCPGraph::lsNone);
            g->setScatterStyle(
                QCPScatterStyle(QCPScatterStyle::ssDisc, viewutil::seriesColor(colourIndex), 5));
            g->setData(x, y, true);
            QString name;
            if (rope)
                name = tr("pair %1 %2")
                           .arg(d)
                           .arg(part == 0 ? QStringLiteral("cos") : QStringLiteral("sin"));
            else if (m_kind == PositionalKind::Sinusoidal)
                name = tr("dim %1 (%2)")
                           .arg(d)
                           .arg(d % 2 == 0 ? QStringLiteral("sin") : QStringLiteral("cos"));
            else
                name = tr("dim %1").arg(d);
            g->setName(name);
            if (smooth && shown > 1) {
                // The legend shows the wave (solid sin, dashed cos), not the dots.
                m_waves->graph(m_waves->graphCount() - 2)->setName(name);
                g->removeFromLegend();
            }
            m_waveNames << name;
            ++column;
        }
    }
    // The positions the sentence occupies.
    if (m_tokens > 0 && shown > 0) {
        auto* band = new QCPItemRect(m_waves);
        band->setLayer(QStringLiteral("background"));
        band->topLeft->setCoords(-0.5, hi + 0.5);
        band->bottomRight->setCoords(std::min(m_tokens, shown) - 0.5, lo - 0.5);
        band->setPen(Qt::NoPen);
        band->setBrush(QColor(255, 236, 179, 160));
        auto* label = new QCPItemText(m_waves);
        label->position->setCoords(-0.3, hi + 0.1);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setText(m_tokens == 1 ? tr("your token") : tr("your %1 tokens").arg(m_tokens));
        label->setColor(QColor(120, 90, 0));
    }
    m_waves->xAxis->setRange(-0.5, std::max(1, shown) - 0.5);
    m_waves->yAxis->setRange(lo - 0.1, hi + 0.3);
    m_waves->legend->setVisible(!dims.isEmpty());
    m_waves->replot();
}

void PositionalView::rebuildTable() {
    const int P = m_positions->value();
    const bool rope = m_kind == PositionalKind::Rope;
    Eigen::MatrixXf table;
    QStringList cols;
    if (m_kind == PositionalKind::Sinusoidal) {
        table = sinusoidalEncoding(P, m_dModel, m_base);  // (P, d_model)
        m_tableHeading->setText(
            tr("PE matrix: one row per position, one column per dimension "
               "(fast waves on the left, slow on the right)"));
    } else if (m_kind == PositionalKind::Learned) {
        table = m_learned.topRows(std::min<int>(P, static_cast<int>(m_learned.rows())));
        m_tableHeading->setText(table.rows() > 0
                                    ? tr("Learned position table: the rows the model trained, "
                                         "one per position")
                                    : tr("This model has no learned position table."));
    } else if (rope) {
        table = ropeAngleTable(P, m_dHead, m_ropeTheta);  // (P, d_head/2), wrapped to one turn
        m_tableHeading->setText(
            tr("RoPE rotation angle t·θ<sub>i</sub> mod 2π (radians) of each pair i at "
               "each position t; θ<sub>i</sub> = %1<sup>−2i/d_head</sup>: pair 0 turns fastest")
                .arg(m_ropeTheta));
    }
    for (int c = 0; c < table.cols(); ++c) cols << QString::number(c);
    m_tableMap->setColorMap(rope ? ColorMapKind::Viridis : ColorMapKind::Diverging);
    m_tableMap->setSymmetricRange(!rope);
    if (rope)
        m_tableMap->setRange(0, 2 * std::numbers::pi);
    else
        m_tableMap->clearRange();
    m_tableMap->setAxisTitles(tr("position"), rope ? tr("pair i") : tr("dimension"));
    m_tableMap->setMatrix(table, positionLabels(static_cast<int>(table.rows())), cols);

    if (m_kind == PositionalKind::Sinusoidal || m_kind == PositionalKind::Learned) {
        const Eigen::MatrixXf sim = positionSimilarity(table);  // (P, P)
        const QStringList labels = positionLabels(static_cast<int>(table.rows()));
        m_simMap->setMatrix(sim, labels, labels);
        m_simHeading->setText(
            tr("Position similarity PE·PEᵀ: near positions look alike, and "
               "for sinusoids it depends only on the distance t − s"));
    }
}

void PositionalView::rebuildOffset() {
    if (m_kind != PositionalKind::Sinusoidal && m_kind != PositionalKind::Rope) return;
    const bool rope = m_kind == PositionalKind::Rope;
    const int d = rope ? m_dHead : m_dModel;
    const float base = rope ? m_ropeTheta : m_base;
    const int t = m_t->value();
    const int k = std::max(m_k->value(), -t);
    const OffsetCheck check = sinusoidalOffsetCheck(t, k, d, base);
    const Eigen::MatrixXf& M = check.M;  // (d, d)
    m_offsetDiff = check.max_difference;

    QStringList dims;
    for (int i = 0; i < d; ++i) dims << QString::number(i);
    m_mkMap->setTitle(tr("%1 (%2 × %2): a 2×2 rotation per pair").arg(offsetName(k)).arg(d));
    m_mkMap->setMatrix(M, dims, dims);
    Eigen::MatrixXf vectors(d, 3);  // (d, 3): PE(t), M_k·PE(t), PE(t+k)
    vectors.col(0) = check.pe_t;
    vectors.col(1) = check.moved;
    vectors.col(2) = check.pe_t_k;
    m_vecMap->setTitle(tr("t = %1, k = %2").arg(t).arg(k));
    m_vecMap->setMatrix(
        vectors, dims,
        {tr("PE(%1)").arg(t), tr("%1·PE(%2)").arg(offsetName(k)).arg(t), tr("PE(%1)").arg(t + k)});
    m_offsetHeading->setText(rope ? tr("RoPE's rotation: the angles of position t + k are those of "
                                       "t turned by k·θ<sub>i</sub>, "
                                       "one 2×2 rotation per pair (shown on the phases "
                                       "cos/sin(t·θ<sub>i</sub>), d_head = %1)")
                                        .arg(d)
                                  : tr("Moving k positions is a fixed linear map: PE(t+k) = "
                                       "M<sub>k</sub>·PE(t) for every t, "
                                       "so attention can learn relative offsets"));
    QString note = tr("max |%1·PE(%2) − PE(%3)| = <b>%4</b> (float rounding)")
                       .arg(offsetName(k))
                       .arg(t)
                       .arg(t + k)
                       .arg(sci(m_offsetDiff));
    if (d % 2 == 1)
        note += tr("<br>d = %1 is odd: the last dimension has no partner, so it is not rotated "
                   "exactly.")
                    .arg(d);
    m_offsetNote->setText(note);
}

QWidget* PositionalView::exportTarget() const { return m_figures[index(currentPage())]; }

LabelledMatrix PositionalView::exportMatrix() const {
    LabelledMatrix m;
    switch (currentPage()) {
        case Page::Waves:
            m.values = m_waveData;
            m.rows = positionLabels(static_cast<int>(m_waveData.rows()));
            m.cols = m_waveNames;
            m.name = QStringLiteral("positional waves");
            break;
        case Page::Table:
            m.values = m_tableMap->matrix();
            m.rows = m_tableMap->rowLabels();
            m.cols = m_tableMap->colLabels();
            m.name = m_kind == PositionalKind::Rope ? QStringLiteral("rope angles")
                                                    : QStringLiteral("positional encoding");
            break;
        case Page::Similarity:
            m.values = m_simMap->matrix();
            m.rows = m_simMap->rowLabels();
            m.cols = m_simMap->colLabels();
            m.name = QStringLiteral("position similarity");
            break;
        case Page::Offset:
            m.values = m_vecMap->matrix();
            m.rows = m_vecMap->rowLabels();
            m.cols = m_vecMap->colLabels();
            m.name = QStringLiteral("positional offset");
            break;
        case Page::None:
            break;
    }
    if (m.rows.size() != m.values.rows()) m.rows.clear();
    if (m.cols.size() != m.values.cols()) m.cols.clear();
    return m;
}

bool PositionalView::hasPage(Page page) const { return m_tabs->isTabVisible(index(page)); }

bool PositionalView::showPage(Page page) {
    if (!hasPage(page)) return false;
    m_tabs->setCurrentIndex(index(page));
    return true;
}

PositionalView::Page PositionalView::currentPage() const {
    return static_cast<Page>(std::clamp(m_tabs->currentIndex(), 0, kPageCount - 1));
}

void PositionalView::setPositions(int positions) { m_positions->setValue(positions); }
int PositionalView::positions() const { return m_positions->value(); }

void PositionalView::setWaveDimensions(const QList<int>& dims) {
    {
        const QSignalBlocker block(m_dimList);
        for (int i = 0; i < m_dimList->count(); ++i)
            m_dimList->item(i)->setCheckState(dims.contains(i) ? Qt::Checked : Qt::Unchecked);
    }
    rebuildWaves();
}

QList<int> PositionalView::waveDimensions() const {
    QList<int> dims;
    for (int i = 0; i < m_dimList->count(); ++i)
        if (m_dimList->item(i)->checkState() == Qt::Checked) dims << i;
    return dims;
}

void PositionalView::setOffset(int t, int k) {
    m_t->setValue(t);  // also lowers k's minimum
    m_k->setValue(k);
    rebuildOffset();
}

}  // namespace attn::ui
