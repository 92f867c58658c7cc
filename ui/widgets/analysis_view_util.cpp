#include "widgets/analysis_view_util.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QHash>
#include <QLabel>
#include <QResizeEvent>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <cmath>

namespace attn::ui::viewutil {

void fillTokenPicker(QComboBox* picker, const QStringList& labels, int current) {
    const QSignalBlocker block(picker);
    QStringList items;
    for (int i = 0; i < labels.size(); ++i)
        items << QStringLiteral("%1 · %2").arg(i + 1).arg(labels[i]);
    bool same = picker->count() == items.size();
    for (int i = 0; same && i < items.size(); ++i) same = picker->itemText(i) == items[i];
    if (!same) {
        picker->clear();
        picker->addItems(items);
    }
    if (current >= 0 && current < picker->count()) picker->setCurrentIndex(current);
}

QColor seriesColor(int index) {
    static const QColor colors[] = {
        QColor(0, 114, 178),  QColor(230, 159, 0), QColor(0, 158, 115),  QColor(204, 121, 167),
        QColor(86, 180, 233), QColor(213, 94, 0),  QColor(240, 228, 66), QColor(0, 0, 0)};
    return colors[static_cast<std::size_t>(index) % std::size(colors)];
}

QString formatNumber(double value, int decimals) {
    if (std::isinf(value)) return value < 0 ? QStringLiteral("−∞") : QStringLiteral("∞");
    if (std::isnan(value)) return QStringLiteral("NaN");
    QString s = QString::number(value, 'f', decimals);
    if (s.startsWith(QLatin1Char('-'))) {
        // "-0.000" reads as a sign error; show it as 0.
        bool allZero = true;
        for (QChar c : s.mid(1))
            if (c.isDigit() && c != QLatin1Char('0')) allZero = false;
        s = allZero ? s.mid(1) : QStringLiteral("−") + s.mid(1);
    }
    return s;
}

void stylePlot(QCustomPlot* plot) {
    plot->setBackground(Qt::white);
    plot->setInteractions(QCP::Interactions());
    plot->setAntialiasedElements(QCP::aeAll);
    plot->setNoAntialiasingOnDrag(true);
    QFont f = plot->font();
    plot->legend->setFont(f);
    plot->legend->setBrush(QColor(255, 255, 255, 220));
    plot->legend->setBorderPen(QPen(QColor(200, 200, 200)));
}

namespace {

// Wraps the legend above a plot into as many rows as its entries need, so that in a narrow
// plot (a 1024×768 projector) "dim 16" is not squeezed to "dim".
void wrapLegend(QCustomPlot* plot) {
    QCPLegend* legend = plot->legend;
    int widest = 1;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (QCPAbstractLegendItem* item = legend->item(i))
            widest = std::max(widest, item->minimumOuterSizeHint().width());
    const int room = plot->width() - legend->margins().left() - legend->margins().right();
    const int perRow = std::max(
        1, (room + legend->columnSpacing()) / std::max(1, widest + legend->columnSpacing()));
    if (legend->wrap() != perRow) {
        legend->setWrap(perRow);
        legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
    }
}

}  // namespace

void legendAbove(QCustomPlot* plot) {
    QObject::connect(plot, &QCustomPlot::beforeReplot, plot, [plot] { wrapLegend(plot); });
    QCPLegend* legend = plot->legend;
    if (QCPAxisRect* rect = plot->axisRect()) rect->insetLayout()->take(legend);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setMargins(QMargins(4, 2, 4, 2));
}

namespace {

// Tilts text tick labels when they would not fit side by side, and decides again whenever the
// plot is resized (an export lays the plot out at another size before drawing it).
class TickFitter : public QObject {
public:
    static constexpr const char* kName = "attn_tick_fitter";
    explicit TickFitter(QCustomPlot* plot) : QObject(plot), m_plot(plot) {
        setObjectName(QLatin1String(kName));
        plot->installEventFilter(this);
    }
    void track(QCPAxis* axis, const QStringList& labels) {
        m_labels[axis] = labels;
        fit(axis, m_plot->width());
    }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (watched == m_plot && event->type() == QEvent::Resize) {
            const int width = static_cast<QResizeEvent*>(event)->size().width();
            for (auto it = m_labels.cbegin(); it != m_labels.cend(); ++it) fit(it.key(), width);
        }
        return false;
    }

private:
    void fit(QCPAxis* axis, int plotWidth) {
        const QStringList& labels = m_labels[axis];
        const QFontMetrics fm(axis->tickLabelFont());
        int need = 0;
        for (const QString& l : labels) need += fm.horizontalAdvance(l) + 2 * fm.averageCharWidth();
        // The axis rect's share of the plot's width at the last layout (a guess before the first).
        double share = 0.8;
        if (QCPAxisRect* rect = axis->axisRect();
            rect && m_plot->viewport().width() > 0 && rect->outerRect().width() > 0)
            share = static_cast<double>(rect->outerRect().width()) / m_plot->viewport().width();
        const double available = share * plotWidth - 70;  // minus the vertical axes' labels
        axis->setTickLabelRotation(need > available ? -45 : 0);
    }

    QCustomPlot* m_plot;
    QHash<QCPAxis*, QStringList> m_labels;
};

}  // namespace

void setTextTicks(QCPAxis* axis, const QStringList& labels) {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    // With many labels, show every n-th so they do not overlap.
    const int step = labels.size() > 48 ? static_cast<int>((labels.size() + 23) / 24) : 1;
    QStringList shown;
    for (int i = 0; i < labels.size(); i += step) {
        ticker->addTick(i, labels[i]);
        shown << labels[i];
    }
    axis->setTicker(ticker);
    axis->setSubTicks(false);
    axis->setRange(-0.6, std::max<qsizetype>(1, labels.size()) - 0.4);
    if (axis->orientation() != Qt::Horizontal) return;
    QCustomPlot* plot = axis->parentPlot();
    // No Q_OBJECT here (a .cpp-local class), so look it up by name, not by type.
    auto* fitter = dynamic_cast<TickFitter*>(
        plot->findChild<QObject*>(QLatin1String(TickFitter::kName), Qt::FindDirectChildrenOnly));
    if (!fitter) fitter = new TickFitter(plot);
    fitter->track(axis, shown);
}

QLabel* makeHeading(QWidget* parent) {
    auto* label = new QLabel(parent);
    QFont f = label->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.15);
    label->setFont(f);
    label->setWordWrap(true);
    return label;
}

QLabel* makeNote(QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setTextFormat(Qt::RichText);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    return label;
}

QComboBox* addTokenPicker(QHBoxLayout* controls, QWidget* parent, const QString& label,
                          const QString& tooltip) {
    controls->addWidget(new QLabel(label, parent));
    auto* picker = new QComboBox(parent);
    picker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    picker->setToolTip(tooltip);
    controls->addWidget(picker);
    return picker;
}

QWidget* makeFigure(QWidget* parent, QVBoxLayout** layout, QLabel** heading) {
    auto* figure = new QWidget(parent);
    figure->setAutoFillBackground(true);
    QPalette pal = figure->palette();
    pal.setColor(QPalette::Window, Qt::white);
    pal.setColor(QPalette::WindowText, Qt::black);
    figure->setPalette(pal);
    *layout = new QVBoxLayout(figure);
    *heading = makeHeading(figure);
    (*layout)->addWidget(*heading);
    return figure;
}

}  // namespace attn::ui::viewutil
