// HeatmapView as a person meets it: every token labelled up to 64 tokens in a large pane, thinning
// said on screen beyond that and undone by zooming, the same labels on every visit, colour-bar
// ticks that never overlap (also on a strip a few cells high), fonts that grow for a projector,
// and exports without the focus frame. Sizes are measured from the widget's geometry.

#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QApplication>
#include <QImage>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include "widgets/heatmap_view.h"

namespace attn::ui {
namespace {

QStringList words(int n) {
    static const char* kWords[] = {"the", "black", "cat", "drank", "milk", "quietly", "under",
                                   "a",   "warm",  "sun", "and",   "then", "slept"};
    QStringList out;
    for (int i = 0; i < n; ++i)
        out << QStringLiteral("%1%2").arg(QString::fromLatin1(kWords[i % 13])).arg(i + 1);
    return out;
}

Eigen::MatrixXf weights(int rows, int cols) {
    Eigen::MatrixXf m(rows, cols);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) m(r, c) = static_cast<float>(((r * 7 + c * 3) % 10) / 10.0);
    return m;
}

// A shown heatmap of `size` with a (rows, cols) matrix labelled by words.
struct Shown {
    HeatmapView v;
    Shown(int rows, int cols, QSize size) {
        v.setTitle(QStringLiteral("A = softmax(S\u2032)"));
        v.setAxisTitles(QStringLiteral("query"), QStringLiteral("key"));
        v.setRange(0, 1);
        v.setColorBarLabel(QStringLiteral("weight"));
        v.setMatrix(weights(rows, cols), words(rows), words(cols));
        v.resize(size);
        v.show();
        EXPECT_TRUE(QTest::qWaitForWindowExposed(&v));
        QApplication::processEvents();
    }
};

void wheel(QWidget* target, QPoint at, int angle, Qt::KeyboardModifiers mods, bool* accepted) {
    QWheelEvent e(QPointF(at), QPointF(target->mapToGlobal(at)), QPoint(), QPoint(0, angle),
                  Qt::NoButton, mods, Qt::NoScrollPhase, false);
    e.setAccepted(true);
    QApplication::sendEvent(target, &e);
    if (accepted) *accepted = e.isAccepted();
}

void mouse(QWidget* target, QEvent::Type type, QPoint at) {
    QMouseEvent e(type, QPointF(at), QPointF(target->mapToGlobal(at)), Qt::LeftButton,
                  type == QEvent::MouseButtonRelease ? Qt::NoButton : Qt::LeftButton,
                  Qt::NoModifier);
    QApplication::sendEvent(target, &e);
}

// The centre of cell (r, c) in the plot's coordinates.
QPoint cellCentre(const HeatmapView& v, int r, int c) {
    return QPoint(static_cast<int>(v.plot()->xAxis2->coordToPixel(c)),
                  static_cast<int>(v.plot()->yAxis->coordToPixel(r)));
}

TEST(HeatmapTitle, ALongTitleInANarrowPlotShrinksAndBreaksButIsNeverCut) {
    Shown wide(6, 6, QSize(700, 400));
    wide.v.setFontScale(1.5);
    const QString title = QStringLiteral("A = softmax(S\u2032) for layer 2, head 3");
    wide.v.setTitle(title);
    QApplication::processEvents();
    const double full = wide.v.titlePointSize();
    EXPECT_GE(full, 15.0) << "presentation size in a wide plot";
    EXPECT_EQ(wide.v.titleAsDrawn(), title);

    Shown narrow(6, 6, QSize(150, 300));
    narrow.v.setFontScale(1.5);
    narrow.v.setTitle(title);
    QApplication::processEvents();
    EXPECT_TRUE(narrow.v.titleFits());
    EXPECT_LT(narrow.v.titlePointSize(), full);
    EXPECT_GE(narrow.v.titlePointSize(), 6.5);
    QFont f = narrow.v.font();
    f.setBold(true);
    f.setPointSizeF(narrow.v.titlePointSize());
    for (const QString& line : narrow.v.titleAsDrawn().split(QLatin1Char('\n')))
        EXPECT_LE(QFontMetrics(f).horizontalAdvance(line), narrow.v.width()) << line.toStdString();
    EXPECT_EQ(narrow.v.titleAsDrawn().simplified(), title) << "every word is kept";
    EXPECT_EQ(narrow.v.title(), title);
}

TEST(HeatmapLabels, ANoticeInANarrowPlotWrapsInsteadOfEndingInAnEllipsis) {
    Shown s(6, 64, QSize(120, 260));
    ASSERT_TRUE(s.v.thinningNoticeShown());
    EXPECT_FALSE(s.v.noticeText().contains(QChar(0x2026))) << s.v.noticeText().toStdString();
    EXPECT_TRUE(s.v.noticeText().contains(QStringLiteral("labels")))
        << s.v.noticeText().toStdString();
}

TEST(HeatmapLabels, SixtyFourTokensInALargePaneShowEveryLabel) {
    Shown s(64, 64, QSize(850, 850));
    EXPECT_EQ(s.v.shownRowLabels(), 64);
    EXPECT_EQ(s.v.shownColLabels(), 64);
    EXPECT_FALSE(s.v.thinningNoticeShown());
    EXPECT_TRUE(s.v.noticeText().isEmpty());
    // Readable and not on top of each other: the label font fits one cell.
    EXPECT_GE(s.v.labelFontPt(), 6.0);
    QFont f = s.v.font();
    f.setPointSizeF(s.v.labelFontPt());
    EXPECT_LE(QFontMetricsF(f).height(), s.v.cellSizePx() + 1.0);
    // The cells use the pane: more than half of its width.
    EXPECT_GT(s.v.cellsRect().width(), 850 / 2);
}

TEST(HeatmapLabels, TwoHundredTokensThinWithANoticeAndZoomingShowsThemAll) {
    Shown s(200, 200, QSize(420, 420));
    ASSERT_TRUE(s.v.thinningNoticeShown());
    EXPECT_LT(s.v.shownRowLabels(), 200);
    EXPECT_GT(s.v.shownRowLabels(), 10) << "thinned, not dropped";
    EXPECT_TRUE(s.v.noticeText().contains(QStringLiteral("1 of every")) ||
                s.v.noticeText().contains(QStringLiteral("1 in")))
        << s.v.noticeText().toStdString();
    const QPoint centre = s.v.cellsRect().center() - s.v.plot()->pos();
    for (int i = 0; i < 40 && s.v.thinningNoticeShown(); ++i)
        wheel(s.v.plot(), centre, 120, Qt::ControlModifier, nullptr);
    EXPECT_FALSE(s.v.thinningNoticeShown());
    EXPECT_GT(s.v.zoom(), 1.5);
    const QRect vis = s.v.visibleCells();
    EXPECT_LT(vis.height(), 200);
    EXPECT_EQ(s.v.shownRowLabels(), vis.height()) << "every row on screen labelled";
    EXPECT_EQ(s.v.shownColLabels(), vis.width()) << "every column on screen labelled";
    EXPECT_TRUE(s.v.noticeText().startsWith(QStringLiteral("Zoomed")));
    // Zoomed around the pointer: the middle of the matrix stays on screen.
    EXPECT_TRUE(vis.contains(100, 100)) << vis.x() << "," << vis.y() << " " << vis.width();
    // Double-click shows the whole matrix again.
    mouse(s.v.plot(), QEvent::MouseButtonDblClick, centre);
    EXPECT_DOUBLE_EQ(s.v.zoom(), 1.0);
    EXPECT_TRUE(s.v.thinningNoticeShown());
}

TEST(HeatmapLabels, PlainWheelScrollsThePageWhenEverythingIsShown) {
    Shown s(6, 6, QSize(400, 400));
    ASSERT_FALSE(s.v.thinningNoticeShown());
    const QPoint centre = s.v.cellsRect().center() - s.v.plot()->pos();
    bool accepted = true;
    wheel(s.v.plot(), centre, 120, Qt::NoModifier, &accepted);
    EXPECT_FALSE(accepted) << "left to the scroll area around";
    EXPECT_DOUBLE_EQ(s.v.zoom(), 1.0);
    wheel(s.v.plot(), centre, 120, Qt::ControlModifier, &accepted);
    EXPECT_TRUE(accepted);
    EXPECT_GT(s.v.zoom(), 1.0) << "Ctrl+wheel always zooms";
    // Once zoomed, the plain wheel zooms back out.
    wheel(s.v.plot(), centre, -480, Qt::NoModifier, &accepted);
    EXPECT_TRUE(accepted);
    EXPECT_DOUBLE_EQ(s.v.zoom(), 1.0);
}

TEST(HeatmapLabels, AClickSelectsADragPans) {
    Shown s(40, 40, QSize(500, 500));
    QSignalSpy clicks(&s.v, &HeatmapView::cellClicked);
    const QPoint c = cellCentre(s.v, 3, 5);
    mouse(s.v.plot(), QEvent::MouseButtonPress, c);
    mouse(s.v.plot(), QEvent::MouseButtonRelease, c);
    ASSERT_EQ(clicks.count(), 1);
    EXPECT_EQ(clicks.at(0).at(0).toInt(), 3);
    EXPECT_EQ(clicks.at(0).at(1).toInt(), 5);

    s.v.zoomBy(4.0);
    const QRect before = s.v.visibleCells();
    const QPoint from = s.v.cellsRect().center() - s.v.plot()->pos();
    mouse(s.v.plot(), QEvent::MouseButtonPress, from);
    mouse(s.v.plot(), QEvent::MouseMove, from + QPoint(60, 60));
    mouse(s.v.plot(), QEvent::MouseMove, from + QPoint(120, 120));
    mouse(s.v.plot(), QEvent::MouseButtonRelease, from + QPoint(120, 120));
    EXPECT_EQ(clicks.count(), 1) << "a drag is not a click";
    const QRect after = s.v.visibleCells();
    EXPECT_LT(after.left(), before.left()) << "dragging right shows the columns to the left";
    EXPECT_LT(after.top(), before.top());
}

TEST(HeatmapLabels, SameMatrixSameLabelsOnEveryVisit) {
    // The bug: Q showed 2 of 6 tokens while K showed 6, because the labels were chosen from the
    // cell size of the layout before (here: a long text, then a short one).
    HeatmapView fresh;
    fresh.resize(380, 300);
    fresh.setMatrix(weights(6, 16), words(6), {});
    fresh.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&fresh));
    QApplication::processEvents();
    const int rows = fresh.shownRowLabels(), cols = fresh.shownColLabels();
    const QRect cells = fresh.cellsRect();
    EXPECT_EQ(rows, 6);
    EXPECT_EQ(cols, 16);

    HeatmapView reused;
    reused.resize(380, 300);
    reused.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&reused));
    reused.setMatrix(weights(120, 120), words(120), words(120));
    QApplication::processEvents();
    reused.hide();
    reused.setMatrix(weights(6, 16), words(6), {});
    reused.show();
    QApplication::processEvents();
    EXPECT_EQ(reused.shownRowLabels(), rows);
    EXPECT_EQ(reused.shownColLabels(), cols);
    EXPECT_EQ(reused.cellsRect(), cells);
    // Set again and shown again: still the same.
    reused.setMatrix(weights(6, 16), words(6), {});
    reused.hide();
    reused.show();
    QApplication::processEvents();
    EXPECT_EQ(reused.shownRowLabels(), rows);
    EXPECT_EQ(reused.cellsRect(), cells);
}

void expectTicksApart(const HeatmapView& v) {
    const QList<QRect> r = v.colorBarTickLabelRects();
    ASSERT_GE(r.size(), 2) << "a scale needs at least two values";
    for (int i = 0; i < r.size(); ++i) {
        EXPECT_TRUE(v.rect().contains(r[i])) << "tick label " << i << " inside the widget";
        for (int j = i + 1; j < r.size(); ++j)
            EXPECT_FALSE(r[i].intersects(r[j]))
                << v.colorBarTickLabels().value(i).toStdString() << " overlaps "
                << v.colorBarTickLabels().value(j).toStdString();
    }
}

TEST(HeatmapColorBar, TicksNeverOverlapOnAShortStrip) {
    // Tokens × d_model, as a strip 25 px high: E, X, W_O's output.
    HeatmapView v;
    Eigen::MatrixXf m = Eigen::MatrixXf::Random(5, 64) * 1.7f;
    v.setColorMap(ColorMapKind::Diverging);
    v.setColorBarLabel(QStringLiteral("value"));
    v.setAxisTitles(QStringLiteral("position"), QStringLiteral("dimension"));
    v.setMatrix(m, words(5), {});
    v.setCellSize(5);
    v.resize(900, 200);
    v.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
    QApplication::processEvents();
    EXPECT_NEAR(v.cellsRect().height(), 25, 2);
    EXPECT_TRUE(v.colorBarHorizontal()) << "too short for three ticks beside it";
    expectTicksApart(v);
    // The row title does not fit along 25 px: written across, left of the labels, whole.
    EXPECT_TRUE(v.rowTitleAcross());
    QFont f = v.font();
    f.setPointSizeF(v.plot()->yAxis->labelFont().pointSizeF());
    EXPECT_GE(v.cellsRect().left(), QFontMetrics(f).horizontalAdvance(QStringLiteral("position")));

    // Taller strips (up to the height where the bar stands beside the cells).
    for (double cell : {8.0, 10.0, 12.0, 20.0, 40.0}) {
        v.setCellSize(cell);
        QApplication::processEvents();
        SCOPED_TRACE(cell);
        expectTicksApart(v);
    }
}

TEST(HeatmapColorBar, ASmallRangeOnAShortBarStillShowsTwoValues) {
    // Q of one head, 6 × 4 cells of 11 px with values within ±0.3: no round step fits twice.
    HeatmapView v;
    Eigen::MatrixXf m = Eigen::MatrixXf::Random(6, 4) * 0.3f;
    m(0, 0) = 0.31f;
    v.setColorMap(ColorMapKind::Diverging);
    v.setMatrix(m, words(6), {});
    v.setCellSize(11);
    v.resize(300, 200);
    v.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
    QApplication::processEvents();
    EXPECT_LE(v.cellsRect().height(), 70);
    expectTicksApart(v);
    // The values shown cover most of the range (not one lonely "0").
    QStringList t = v.colorBarTickLabels();
    ASSERT_GE(t.size(), 2);
    const double first =
        t.first().replace(QStringLiteral("\u2212"), QStringLiteral("-")).toDouble();
    const double last = t.last().replace(QStringLiteral("\u2212"), QStringLiteral("-")).toDouble();
    EXPECT_GE(last - first, 0.3) << v.colorBarTickLabels().join(' ').toStdString();
}

TEST(HeatmapColorBar, VerticalBarOnASquareMatrixWithLabel) {
    Shown s(12, 12, QSize(500, 500));
    EXPECT_FALSE(s.v.colorBarHorizontal());
    EXPECT_EQ(s.v.colorBarLabel(), QStringLiteral("weight"));
    EXPECT_EQ(s.v.plot()->axisRect()->rect().height(), s.v.cellsRect().height());
    expectTicksApart(s.v);
    const QStringList ticks = s.v.colorBarTickLabels();
    ASSERT_FALSE(ticks.isEmpty());
    EXPECT_DOUBLE_EQ(ticks.first().toDouble(), 0.0) << ticks.join(' ').toStdString();
    EXPECT_DOUBLE_EQ(ticks.last().toDouble(), 1.0) << "the scale shows both ends of 0..1";
}

TEST(HeatmapFonts, EveryFontGrowsWithTheFontScale) {
    Shown s(6, 6, QSize(600, 600));
    auto* title = qobject_cast<QCPTextElement*>(s.v.plot()->plotLayout()->element(0, 0));
    ASSERT_NE(title, nullptr);
    const double label = s.v.labelFontPt(), number = s.v.numberFontPt();
    const double axis = s.v.plot()->yAxis->labelFont().pointSizeF();
    const double titlePt = title->font().pointSizeF();
    auto* scale = qobject_cast<QCPColorScale*>(s.v.plot()->plotLayout()->element(1, 1));
    ASSERT_NE(scale, nullptr);
    const double bar = scale->axis()->tickLabelFont().pointSizeF();
    ASSERT_GT(number, 0) << "numbers fit in 6 × 6 cells of a 600 px pane";
    EXPECT_GE(number, 7.0);
    s.v.setFontScale(1.5);
    QApplication::processEvents();
    EXPECT_GT(s.v.labelFontPt(), label);
    EXPECT_GT(s.v.numberFontPt(), number);
    EXPECT_GT(s.v.plot()->yAxis->labelFont().pointSizeF(), axis);
    EXPECT_GT(title->font().pointSizeF(), titlePt);
    EXPECT_GT(scale->axis()->tickLabelFont().pointSizeF(), bar);
    expectTicksApart(s.v);
}

TEST(HeatmapFonts, NumbersShowWhenTheyFitAndNotBelowSevenPoints) {
    Shown s(64, 64, QSize(850, 850));
    EXPECT_FALSE(s.v.numbersFit()) << "13 px cells hold no readable number";
    s.v.zoomBy(6.0);
    EXPECT_TRUE(s.v.numbersFit()) << "zoomed cells do";
    EXPECT_GE(s.v.numberFontPt(), 7.0);
}

TEST(HeatmapExport, NoFocusFrameInExports) {
    Shown s(4, 4, QSize(400, 400));
    s.v.setHighlight(1, 2);
    QApplication::processEvents();
    const QColor pink(0xff, 0x40, 0x81);
    const auto countPink = [&](const QImage& img) {
        int n = 0;
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x)
                if (QColor(img.pixel(x, y)) == pink) ++n;
        return n;
    };
    s.v.plot()->replot(QCustomPlot::rpImmediateRefresh);
    EXPECT_GT(countPink(s.v.plot()->grab().toImage()), 20) << "on screen the focus shows";
    QImage img(s.v.plot()->size(), QImage::Format_ARGB32);
    img.fill(Qt::white);
    {
        QCPPainter p(&img);
        s.v.plot()->toPainter(&p, img.width(), img.height());
    }
    EXPECT_EQ(countPink(img), 0) << "an export carries no focus frame";
    s.v.setFocusMarksInExport(true);
    img.fill(Qt::white);
    {
        QCPPainter p(&img);
        s.v.plot()->toPainter(&p, img.width(), img.height());
    }
    EXPECT_GT(countPink(img), 20) << "unless asked";
}

}  // namespace
}  // namespace attn::ui
#include "session/session.h"
