// All heads at once: the model view (every layer × head, BertViz's model view) on stories260K
// (5 × 8) and on an untrained 12 × 12 model, the heads dock that fits any layers × heads, and
// Lines with several heads in their own colours (BertViz's head view). Sizes are measured from
// widget geometry.

#include <gtest/gtest.h>

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QTest>
#include <QToolButton>
#include <filesystem>

#include "attn/open_model.h"
#include "session/session.h"
#include "views/compare_view.h"
#include "views/head_grid.h"
#include "views/head_summary_view.h"
#include "views/lines_view.h"
#include "views/model_view.h"
#include "views/qk_inside_view.h"
#include "views/rollout_view.h"
#include "views/value_sums_view.h"

namespace attn::ui {
namespace {

namespace fs = std::filesystem;

bool onCi() { return qgetenv("CI") == "true"; }

// ATTN_SHARED_DIR in the environment overrides the build's (a git worktree lies elsewhere).
const QString kStories =
    QString::fromStdString((fs::path(qEnvironmentVariableIsEmpty("ATTN_SHARED_DIR")
                                         ? std::string(ATTN_SHARED_DIR)
                                         : qEnvironmentVariable("ATTN_SHARED_DIR").toStdString()) /
                            "models" / "stories260K" / "stories260K.bin")
                               .string());

#define REQUIRE_STORIES()                                                            \
    do {                                                                             \
        if (!QFile::exists(kStories)) {                                              \
            if (onCi()) FAIL() << "stories260K missing: " << kStories.toStdString(); \
            GTEST_SKIP() << "stories260K not found at " << kStories.toStdString()    \
                         << " — this check did NOT run";                             \
        }                                                                            \
    } while (0)

void runText(Session& s, const char* text) {
    s.setText(QString::fromUtf8(text));
    s.runNow();
    s.waitForIdle();
}

void openStories(Session& s) {
    auto m = openModel(kStories.toStdString());
    ASSERT_TRUE(m) << m.message();
    s.setModel(std::move(m).value());
    runText(s, "Once upon a time there was a little girl");
    ASSERT_TRUE(s.trace()) << s.lastError().toStdString();
}

void openUntrained(Session& s, int layers, int heads) {
    ModelConfig c = s.config();
    c.n_layers = layers;
    c.n_heads = heads;
    c.d_model = 4 * heads;
    c.d_ff = 0;
    s.setConfig(c);
    runText(s, "the cat sat on the mat");
    ASSERT_TRUE(s.trace()) << s.lastError().toStdString();
}

void showAt(QWidget& w, QSize size, const char* shot = nullptr) {
    w.resize(size);
    w.show();
    EXPECT_TRUE(QTest::qWaitForWindowExposed(&w));
    for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
    if (const QByteArray dir = qgetenv("ATTN_UI_SHOTS"); shot && !dir.isEmpty())
        w.grab().save(QDir(QString::fromLocal8Bit(dir)).filePath(QString::fromUtf8(shot) + ".png"));
}

// Every thumbnail at least the canvas' minimum, all the same size, the same gap between
// neighbours (no gaps), and none outside the canvas.
void expectEvenGrid(const ModelCanvas& c, int layers, int heads, const char* where) {
    ASSERT_EQ(c.layers(), layers) << where;
    ASSERT_EQ(c.heads(), heads) << where;
    EXPECT_GE(c.cellEdge(), c.minimumEdge()) << where;
    EXPECT_GE(c.cellWidth(), c.cellEdge()) << where;
    EXPECT_LE(c.cellWidth(), c.cellEdge() * 8 / 5) << where;
    const QRect first = c.cellRect(0, 0);
    const int dx = heads > 1 ? c.cellRect(0, 1).left() - first.left() : 0;
    const int dy = layers > 1 ? c.cellRect(1, 0).top() - first.top() : 0;
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) {
            const QRect r = c.cellRect(l, h);
            EXPECT_EQ(r.size(), QSize(c.cellWidth(), c.cellEdge())) << where;
            EXPECT_EQ(r.left(), first.left() + h * dx) << where << " L" << l + 1 << " H" << h + 1;
            EXPECT_EQ(r.top(), first.top() + l * dy) << where << " L" << l + 1 << " H" << h + 1;
            EXPECT_TRUE(c.rect().contains(r)) << where << " L" << l + 1 << " H" << h + 1;
            EXPECT_LE(c.labelRect(l, h).bottom(), r.top()) << "the label sits above";
        }
    // Neighbours are close: the gap is well under a cell (what "no gaps" means to the eye).
    if (heads > 1) {
        EXPECT_LT(dx - c.cellWidth(), c.cellEdge() / 3) << where;
    }
    if (layers > 1) {
        EXPECT_LT(dy - c.cellEdge(), c.cellEdge() / 2) << where;
    }
    EXPECT_EQ(c.cellLabel(0, 0), QStringLiteral("L1 H1"));
    EXPECT_EQ(c.cellLabel(layers - 1, heads - 1), QStringLiteral("L%1 H%2").arg(layers).arg(heads));
}

// The grid fills the pane: it spans most of the visible area in one direction and covers more
// than half of it.
void expectFills(const ModelView& v, const char* where) {
    const ModelCanvas& c = *v.canvas();
    const QRect grid = c.cellRect(0, 0).united(c.cellRect(c.layers() - 1, c.heads() - 1));
    const QSize pane = v.scrollArea()->viewport()->size();
    const double fw = double(grid.width()) / pane.width();
    const double fh = double(std::min(grid.height(), pane.height())) / pane.height();
    EXPECT_GT(std::max(fw, fh), 0.8)
        << where << ": the grid uses " << fw << " of the width and " << fh << " of the height";
    EXPECT_GT(fw * fh, 0.5) << where << ": more than half of the pane is empty";
    EXPECT_FALSE(v.scrollArea()->horizontalScrollBar()->isVisible()) << where;
}

TEST(ModelViewTest, Stories260KShowsFiveByEightHeadsThatFillThePane) {
    REQUIRE_STORIES();
    Session s;
    openStories(s);
    ModelView v(&s);
    for (const auto& [size, name] : {std::pair{QSize(760, 600), "model_view_stories_small"},
                                     std::pair{QSize(1600, 950), "model_view_stories_large"}}) {
        showAt(v, size, name);
        expectEvenGrid(*v.canvas(), 5, 8, name);
        expectFills(v, name);
        EXPECT_FALSE(v.scrollArea()->verticalScrollBar()->isVisible())
            << name << ": 5 × 8 heads fit without scrolling";
    }
    const int small = v.canvas()->cellEdge();
    s.setFontScale(1.5);
    QCoreApplication::processEvents();
    EXPECT_GE(v.canvas()->cellEdge(), 64) << "presentation mode at 1600 × 950";
    EXPECT_GE(v.canvas()->minimumEdge(), 64);
    (void)small;
}

TEST(ModelViewTest, TwelveByTwelveUntrainedScrollsRatherThanShrinks) {
    Session s;
    openUntrained(s, 12, 12);
    ModelView v(&s);
    showAt(v, {760, 600}, "model_view_12x12_small");
    expectEvenGrid(*v.canvas(), 12, 12, "760 × 600");
    expectFills(v, "760 × 600");
    EXPECT_TRUE(v.scrollArea()->verticalScrollBar()->isVisible())
        << "12 layers of readable thumbnails do not fit 600 px: the grid scrolls down";
    showAt(v, {1800, 1000}, "model_view_12x12_large");
    expectEvenGrid(*v.canvas(), 12, 12, "1800 × 1000");
    expectFills(v, "1800 × 1000");
    // Lines: each thumbnail in its head's colour, and still every head.
    v.setStyle(ModelCanvas::Style::Lines);
    EXPECT_EQ(v.canvas()->style(), ModelCanvas::Style::Lines);
    showAt(v, {1800, 1000}, "model_view_12x12_lines");
    const QImage img = v.canvas()->grab().toImage();
    const QRect r = v.canvas()->cellRect(0, 1);
    QSet<QRgb> colours;
    for (int y = r.top(); y < r.bottom(); ++y)
        for (int x = r.left(); x < r.right(); ++x) colours.insert(img.pixel(x, y));
    EXPECT_GT(colours.size(), 5) << "lines drawn in L1 H2";
}

TEST(ModelViewTest, ClickingAThumbnailFocusesThatHead) {
    Session s;
    openUntrained(s, 3, 4);
    ModelView v(&s);
    showAt(v, {900, 600});
    const QPoint at = v.canvas()->cellRect(2, 3).center();
    QTest::mouseClick(v.canvas(), Qt::LeftButton, {}, at);
    EXPECT_EQ(s.focus().layer, 2);
    EXPECT_EQ(s.focus().head, 3);
    QTest::mouseClick(v.canvas(), Qt::LeftButton, {}, v.canvas()->labelRect(1, 0).center());
    EXPECT_EQ(s.focus().layer, 1) << "the label belongs to its thumbnail";
    EXPECT_EQ(s.focus().head, 0);
}

TEST(ModelViewTest, SaysTheModelIsAlteredWhenAHeadIsOff) {
    Session s;
    openUntrained(s, 2, 4);
    ModelView v(&s);
    LinesView lines(&s);
    HeadGrid grid(&s);
    showAt(v, {900, 600});
    showAt(lines, {900, 600});
    showAt(grid, {320, 300});
    EXPECT_FALSE(v.alteredNoticeShown());
    EXPECT_FALSE(lines.alteredNoticeShown());
    s.setDisabledHeads({{1, 2}});
    s.waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_TRUE(v.alteredNoticeShown());
    EXPECT_TRUE(lines.alteredNoticeShown());
    const auto* info = grid.findChild<QLabel*>(QStringLiteral("headGridInfo"));
    ASSERT_NE(info, nullptr);
    EXPECT_TRUE(info->text().contains(QStringLiteral("altered"))) << info->text().toStdString();
    EXPECT_TRUE(info->text().contains(QStringLiteral("L2 H3"))) << info->text().toStdString();
}

// Some label of the view says "Model altered".
bool saysAltered(const QWidget& w) {
    for (const QLabel* l : w.findChildren<QLabel*>())
        if (l->isVisibleTo(&w) && l->text().contains(QStringLiteral("Model altered"))) return true;
    return false;
}

TEST(ModelViewTest, EveryViewOfHeadsSaysTheModelIsAltered) {
    Session s;
    openUntrained(s, 2, 4);
    CompareView compare(&s);
    RolloutView rollout(&s);
    HeadSummaryView table(&s);
    QkInsideView qk(&s);
    ValueSumsView values(&s);
    const std::vector<std::pair<QWidget*, const char*>> views = {{&compare, "Compare"},
                                                                 {&rollout, "Rollout"},
                                                                 {&table, "Head table"},
                                                                 {&qk, "q·k"},
                                                                 {&values, "Values"}};
    for (auto [w, name] : views) showAt(*w, {900, 600});
    for (auto [w, name] : views) EXPECT_FALSE(saysAltered(*w)) << name;
    s.setDisabledHeads({{0, 1}});
    s.waitForIdle();
    QCoreApplication::processEvents();
    for (auto [w, name] : views) EXPECT_TRUE(saysAltered(*w)) << name;
}

// --- the heads dock --------------------------------------------------------------------------

// Every thumbnail inside the viewport, one stride apart, no scroll bar.
void expectDockFits(HeadGrid& g, int layers, int heads, const char* where) {
    ASSERT_EQ(g.thumbs().size(), layers * heads) << where;
    EXPECT_FALSE(g.scrollArea()->verticalScrollBar()->isVisible()) << where;
    EXPECT_FALSE(g.scrollArea()->horizontalScrollBar()->isVisible()) << where;
    QWidget* vp = g.scrollArea()->viewport();
    const QPoint o = g.thumb(0, 0)->mapTo(vp, QPoint(0, 0));
    const int sx = g.thumb(0, 1)->mapTo(vp, QPoint(0, 0)).x() - o.x();
    const int sy = g.thumb(1, 0)->mapTo(vp, QPoint(0, 0)).y() - o.y();
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) {
            HeadThumb* t = g.thumb(l, h);
            EXPECT_TRUE(t->isVisible()) << where;
            const QRect r(t->mapTo(vp, QPoint(0, 0)), t->size());
            EXPECT_TRUE(vp->rect().contains(r)) << where << " L" << l + 1 << " H" << h + 1;
            EXPECT_EQ(r.left(), o.x() + h * sx) << where;
            EXPECT_EQ(r.top(), o.y() + l * sy) << where;
        }
    EXPECT_LE(sx - g.thumb(0, 0)->width(), 4) << where << ": no gaps between heads";
    EXPECT_LE(sy - g.thumb(0, 0)->height(), 6) << where << ": no gaps between layers";
}

TEST(HeadGridTest, FiveByEightFitsANarrowDockAndGrowsWithIt) {
    Session s;
    openUntrained(s, 5, 8);
    HeadGrid g(&s);
    showAt(g, {300, 300}, "head_grid_5x8_narrow");
    expectDockFits(g, 5, 8, "300 × 300");
    const int narrow = g.thumbEdge();
    EXPECT_GE(narrow, g.minimumEdge());
    showAt(g, {700, 520}, "head_grid_5x8_wide");
    expectDockFits(g, 5, 8, "700 × 520");
    EXPECT_GT(g.thumbEdge(), narrow) << "the thumbnails grow with the dock";
    s.setFontScale(1.5);
    QCoreApplication::processEvents();
    expectDockFits(g, 5, 8, "700 × 520, presentation");
    EXPECT_GE(g.thumbEdge(), 64) << "a projector needs large thumbnails";
}

TEST(HeadGridTest, TwoByFourFitsALowDock) {
    Session s;
    openUntrained(s, 2, 4);
    HeadGrid g(&s);
    showAt(g, {330, 150}, "head_grid_2x4_low");
    expectDockFits(g, 2, 4, "330 × 150");
    showAt(g, {330, 110}, "head_grid_2x4_lower");
    expectDockFits(g, 2, 4, "330 × 110");
}

TEST(HeadGridTest, Stories260KFitsTheDock) {
    REQUIRE_STORIES();
    Session s;
    openStories(s);
    HeadGrid g(&s);
    showAt(g, {330, 280}, "head_grid_stories");
    expectDockFits(g, 5, 8, "stories260K at 330 × 280");
}

TEST(HeadGridTest, ASwitchedOffHeadIsMarked) {
    Session s;
    openUntrained(s, 2, 2);
    HeadGrid g(&s);
    showAt(g, {300, 300});
    const QImage on = g.thumb(1, 0)->grab().toImage();
    s.setDisabledHeads({{1, 0}});
    s.waitForIdle();
    QCoreApplication::processEvents();
    const QImage off = g.thumb(1, 0)->grab().toImage();
    int red = 0;
    for (int y = 0; y < off.height(); ++y)
        for (int x = 0; x < off.width(); ++x) {
            const QColor c = off.pixelColor(x, y);
            if (c.red() > 140 && c.green() < 60 && c.blue() < 60) ++red;
        }
    EXPECT_GT(red, off.width()) << "a red cross and frame";
    EXPECT_NE(on, off);
}

// --- Lines with several heads ----------------------------------------------------------------

TEST(LinesHeadsTest, AllHeadsDrawsOneColourPerHead) {
    Session s;
    openUntrained(s, 2, 4);
    LinesView v(&s);
    showAt(v, {900, 600}, "lines_all_heads");
    ASSERT_EQ(v.swatches().size(), 4);
    v.canvas()->repaint();
    EXPECT_EQ(v.canvas()->headCount(), 1) << "one head by default";
    const int one = v.canvas()->drawnLines();

    v.allHeadsButton()->click();
    showAt(v, {900, 600}, "lines_all_heads_on");
    v.canvas()->repaint();
    EXPECT_EQ(v.shownHeads(), (QList<int>{0, 1, 2, 3}));
    ASSERT_EQ(v.canvas()->headCount(), 4);
    for (int k = 0; k < 4; ++k) EXPECT_GT(v.canvas()->drawnLinesOfHead(k), 0) << "head " << k + 1;
    EXPECT_EQ(v.canvas()->drawnColours().size(), 4) << "one colour per head";
    EXPECT_GT(v.canvas()->drawnLines(), one);

    // A swatch takes its head away; hovering a token keeps only that token's lines of each head.
    v.swatches()[2]->click();
    v.canvas()->repaint();
    EXPECT_EQ(v.shownHeads(), (QList<int>{0, 1, 3}));
    EXPECT_EQ(v.canvas()->drawnColours().size(), 3);
    const int all = v.canvas()->drawnLines();
    v.canvas()->setHover(0, 2);
    v.canvas()->repaint();
    EXPECT_GT(v.canvas()->drawnLines(), 0);
    EXPECT_LE(v.canvas()->drawnLines(), 3 * 6) << "one line per key and head at most";
    EXPECT_LT(v.canvas()->drawnLines(), all);

    // Down to one head: it becomes the head in focus.
    v.swatches()[0]->click();
    v.swatches()[3]->click();
    EXPECT_EQ(s.focus().head, 1);
    v.canvas()->repaint();
    EXPECT_EQ(v.canvas()->headCount(), 1);
}

TEST(LinesHeadsTest, PresentationModeThickensTheLines) {
    Session s;
    openUntrained(s, 1, 2);
    LinesView v(&s);
    showAt(v, {900, 600});
    const double normal = v.canvas()->lineWidthAtOne();
    s.setFontScale(1.5);
    QCoreApplication::processEvents();
    EXPECT_GE(v.canvas()->lineWidthAtOne(), 1.5 * normal - 1e-9);
}

}  // namespace
}  // namespace attn::ui
