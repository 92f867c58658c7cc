// The tab bar that never scrolls: tabs that do not fit go under "N more".

#include <gtest/gtest.h>

#include <QApplication>
#include <QLabel>
#include <QMenu>
#include <QTabBar>
#include <QTest>
#include <QToolButton>

#include "widgets/overflow_tab_widget.h"

namespace attn::ui {
namespace {

struct Tabs {
    OverflowTabWidget w;
    explicit Tabs(int width) {
        const char* names[] = {"Step by step", "Lines",     "Model view", "Compare",    "q·k",
                               "Values",       "Positions", "Scaling",    "Head table", "Rollout",
                               "Predict",      "Translate", "Learn"};
        for (const char* n : names)
            w.addTab(new QLabel(QString::fromUtf8(n)), QString::fromUtf8(n));
        w.resize(width, 300);
        w.show();
        EXPECT_TRUE(QTest::qWaitForWindowExposed(&w));
        settle();
    }
    static void settle() {
        for (int i = 0; i < 3; ++i) QApplication::processEvents();
    }
    // Every tab in the bar is whole inside it.
    void expectShownTabsWhole() {
        QTabBar* bar = w.tabBar();
        for (int i = 0; i < w.count(); ++i) {
            if (!w.isTabVisible(i)) continue;
            const QRect r = bar->tabRect(i);
            EXPECT_GE(r.left(), 0) << w.tabText(i).toStdString();
            EXPECT_LE(r.right(), bar->width()) << w.tabText(i).toStdString();
        }
        if (w.moreButton()->isVisible()) {
            const QRect more(w.moreButton()->mapTo(&w, QPoint(0, 0)), w.moreButton()->size());
            const QRect barRect(bar->mapTo(&w, QPoint(0, 0)), bar->size());
            for (int i = 0; i < w.count(); ++i) {
                if (!w.isTabVisible(i)) continue;
                EXPECT_FALSE(more.intersects(bar->tabRect(i).translated(barRect.topLeft())))
                    << "the button covers " << w.tabText(i).toStdString();
            }
        }
    }
};

TEST(OverflowTabs, TabsThatDoNotFitGoUnderMoreInOrder) {
    Tabs t(600);
    const QList<int> hidden = t.w.overflowTabs();
    ASSERT_FALSE(hidden.isEmpty());
    EXPECT_TRUE(t.w.isTabVisible(0));
    // The first tabs stay, the last ones move: the hidden ones are the tail.
    for (int k = 0; k < hidden.size(); ++k) EXPECT_EQ(hidden[k], t.w.count() - hidden.size() + k);
    EXPECT_TRUE(t.w.moreButton()->isVisible());
    EXPECT_EQ(t.w.moreButton()->text(), QStringLiteral("%1 more").arg(hidden.size()));
    t.expectShownTabsWhole();
    // The menu lists exactly the hidden views.
    QMenu* menu = t.w.moreButton()->menu();
    ASSERT_NE(menu, nullptr);
    QMetaObject::invokeMethod(menu, "aboutToShow");
    ASSERT_EQ(menu->actions().size(), hidden.size());
    for (int k = 0; k < hidden.size(); ++k)
        EXPECT_EQ(menu->actions()[k]->text(), t.w.tabText(hidden[k]));
    // The window is not held wide by the tabs it can hide.
    EXPECT_LT(t.w.minimumSizeHint().width(), 300);
}

TEST(OverflowTabs, ChoosingAHiddenViewBringsItIntoTheBar) {
    Tabs t(600);
    const int last = t.w.count() - 1;
    ASSERT_FALSE(t.w.isTabVisible(last));
    QMenu* menu = t.w.moreButton()->menu();
    QMetaObject::invokeMethod(menu, "aboutToShow");
    menu->actions().back()->trigger();  // "Learn"
    Tabs::settle();
    EXPECT_EQ(t.w.currentIndex(), last);
    EXPECT_TRUE(t.w.isTabVisible(last));
    EXPECT_FALSE(t.w.overflowTabs().isEmpty());
    t.expectShownTabsWhole();
    // A shortcut that sets the index directly works the same way.
    t.w.setCurrentIndex(last - 1);
    Tabs::settle();
    EXPECT_TRUE(t.w.isTabVisible(last - 1));
    t.expectShownTabsWhole();
}

TEST(OverflowTabs, AWideBarShowsEveryTabAndNoButton) {
    Tabs t(600);
    ASSERT_FALSE(t.w.overflowTabs().isEmpty());
    t.w.resize(2400, 300);
    Tabs::settle();
    EXPECT_TRUE(t.w.overflowTabs().isEmpty());
    EXPECT_FALSE(t.w.moreButton()->isVisible());
    t.expectShownTabsWhole();
}

TEST(OverflowTabs, LargerFontsMoveMoreTabsUnderTheButton) {
    Tabs t(900);
    const int before = static_cast<int>(t.w.overflowTabs().size());
    QFont f = t.w.font();
    f.setPointSizeF(f.pointSizeF() * 1.5);
    t.w.setFont(f);
    Tabs::settle();
    EXPECT_GT(static_cast<int>(t.w.overflowTabs().size()), before);
    t.expectShownTabsWhole();
}

}  // namespace
}  // namespace attn::ui
