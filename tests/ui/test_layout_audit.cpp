// The layout audit (screenshots as tests): each kind of problem is caught on a layout made to
// have it, a good layout passes, and a sweep over the main window's views and steps at
// 1024×768 and 1920×1080, normal and presentation, with the English model finds nothing.

#include <gtest/gtest.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>
#include <iostream>
#include <map>

#include "session/session.h"
#include "widgets/heatmap_view.h"
#include "window/layout_audit.h"
#include "window/main_window.h"

namespace attn::ui {
namespace {

Eigen::MatrixXf ramp(int rows, int cols) {
    Eigen::MatrixXf m(rows, cols);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) m(r, c) = static_cast<float>(r * cols + c) / (rows * cols);
    return m;
}

QStringList tokens(int n, const QString& stem = QStringLiteral("token")) {
    QStringList out;
    for (int i = 0; i < n; ++i) out << QStringLiteral("%1%2").arg(stem).arg(i + 1);
    return out;
}

void showAndSettle(QWidget& w) {
    w.show();
    settleEvents();
}

std::vector<LayoutFinding> findingsOf(const LayoutAudit& a, LayoutFinding::Kind kind) {
    std::vector<LayoutFinding> out;
    for (const LayoutFinding& f : a.findings)
        if (f.kind == kind) out.push_back(f);
    return out;
}

TEST(LayoutAudit, AClippedLabelIsCaught) {
    QWidget root;
    auto* layout = new QVBoxLayout(&root);
    auto* clipped = new QLabel(QStringLiteral("Softmax → weights, row by row"), &root);
    clipped->setObjectName(QStringLiteral("narrow"));
    clipped->setFixedWidth(60);
    auto* fine = new QLabel(QStringLiteral("ok"), &root);
    fine->setObjectName(QStringLiteral("wide"));
    layout->addWidget(clipped);
    layout->addWidget(fine);
    root.resize(400, 200);
    showAndSettle(root);
    const LayoutAudit a = auditLayout(&root);
    const auto found = findingsOf(a, LayoutFinding::Kind::ClippedText);
    ASSERT_EQ(found.size(), 1u) << a.text().toStdString();
    EXPECT_EQ(found[0].widget, QStringLiteral("narrow"));
    EXPECT_TRUE(found[0].detail.contains(QStringLiteral("has 60")))
        << found[0].detail.toStdString();

    // Widened, it passes.
    clipped->setFixedWidth(380);
    settleEvents();
    EXPECT_EQ(auditLayout(&root).count(LayoutFinding::Kind::ClippedText), 0)
        << auditLayout(&root).text().toStdString();
}

TEST(LayoutAudit, AnElidedLabelAndACutTabAreCaught) {
    QWidget root;
    auto* layout = new QVBoxLayout(&root);
    auto* elided = new QLabel(QStringLiteral("Softmax → weig…"), &root);
    elided->setToolTip(QStringLiteral("Softmax → weights"));
    layout->addWidget(elided);
    auto* tabs = new QTabWidget(&root);
    for (const QString& t : tokens(14, QStringLiteral("A long tab title ")))
        tabs->addTab(new QWidget, t);
    layout->addWidget(tabs);
    root.resize(300, 200);
    showAndSettle(root);
    const LayoutAudit a = auditLayout(&root);
    const QString text = a.text();
    EXPECT_TRUE(text.contains(QStringLiteral("is elided"))) << text.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("tab “A long tab title"))) << text.toStdString();
}

TEST(LayoutAudit, AThinnedHeatmapWithoutNoticeIsCaught) {
    QWidget root;
    auto* layout = new QVBoxLayout(&root);
    auto* map = new HeatmapView(&root);
    map->setObjectName(QStringLiteral("big"));
    map->setMatrix(ramp(64, 64), tokens(64), tokens(64));
    layout->addWidget(map);
    root.resize(260, 260);
    showAndSettle(root);
    ASSERT_LT(map->shownRowLabels(), 64) << "64 labels cannot all fit in 260 px";
    const LayoutAudit a = auditLayout(&root);
    const auto found = findingsOf(a, LayoutFinding::Kind::DroppedLabels);
    if (map->thinningNoticeShown()) {
        // The widget says so on screen: that is allowed.
        EXPECT_TRUE(found.empty()) << a.text().toStdString();
    } else {
        ASSERT_EQ(found.size(), 1u) << a.text().toStdString();
        EXPECT_EQ(found[0].widget, QStringLiteral("big"));
        EXPECT_TRUE(found[0].detail.contains(QStringLiteral("of 64 row")))
            << found[0].detail.toStdString();
    }
    ASSERT_EQ(a.figures.size(), 1u);
    EXPECT_EQ(a.figures[0].rows, 64);
    EXPECT_EQ(a.figures[0].shownRows, map->shownRowLabels());
    EXPECT_NEAR(a.smallestCellPx(), map->cellSizePx(), 1e-9);
}

// A splitter page of 900 × 700 with a 3 × 3 matrix of 12 px cells at its top.
TEST(LayoutAudit, ASmallFigureInABigPaneIsCaught) {
    QSplitter split;
    auto* list = new QLabel(QStringLiteral("steps"), &split);
    split.addWidget(list);
    auto* pane = new QWidget(&split);
    pane->setObjectName(QStringLiteral("pane"));
    auto* v = new QVBoxLayout(pane);
    auto* map = new HeatmapView(pane);
    map->setMatrix(ramp(3, 3), tokens(3), tokens(3));
    map->setCellSize(12);
    v->addWidget(map);
    split.addWidget(pane);
    split.resize(1000, 700);
    split.setSizes({100, 900});
    showAndSettle(split);
    ASSERT_GT(pane->width(), 800);
    ASSERT_LT(map->cellsRect().width(), 60) << "setCellSize keeps the cells small";
    const LayoutAudit a = auditLayout(&split);
    const auto found = findingsOf(a, LayoutFinding::Kind::EmptyPane);
    ASSERT_EQ(found.size(), 1u) << a.text().toStdString();
    EXPECT_EQ(found[0].widget, QStringLiteral("pane"));
}

TEST(LayoutAudit, AGoodLayoutPasses) {
    QSplitter split;
    auto* pane = new QWidget(&split);
    auto* v = new QVBoxLayout(pane);
    v->addWidget(new QLabel(QStringLiteral("Softmax → weights"), pane));
    auto* map = new HeatmapView(pane);
    map->setMatrix(ramp(6, 6), tokens(6, QStringLiteral("t")), tokens(6, QStringLiteral("t")));
    map->setTitle(QStringLiteral("A"));
    v->addWidget(map, 1);
    split.addWidget(pane);
    split.resize(520, 520);
    showAndSettle(split);
    const LayoutAudit a = auditLayout(&split, AuditOptions{0.5, QSize(1024, 768), 120});
    EXPECT_TRUE(a.ok()) << a.text().toStdString();
    ASSERT_EQ(a.figures.size(), 1u);
    EXPECT_EQ(a.figures[0].shownRows, 6);
    EXPECT_GT(a.smallestCellPx(), 30);
}

TEST(LayoutAudit, AWindowLargerThanTheScreenIsCaught) {
    QWidget root;
    root.setMinimumSize(1100, 780);
    root.resize(1100, 780);
    showAndSettle(root);
    const LayoutAudit a = auditLayout(&root, AuditOptions{0.5, QSize(1024, 768), 120});
    EXPECT_EQ(a.count(LayoutFinding::Kind::OffScreen), 1) << a.text().toStdString();
}

// Every view and every step of the English model at both sizes and in both modes. It fails
// while any view still has a problem: the message lists them, one line per view or step.
TEST(LayoutAuditSweep, EveryViewAndStepOfTheEnglishModel) {
    MainWindow w(nullptr, /*persistent=*/false);
    w.show();
    w.applyStartOptions(QStringLiteral("builtin:english"),
                        QStringLiteral("The black cat drank the milk"), QString(),
                        QStringLiteral("Step by step"));
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 60000) {
        settleEvents();
        const auto t = w.session()->trace();
        if (t && t->model && t->model->config.name != "untrained" && !w.session()->busy()) break;
    }
    const auto trace = w.session()->trace();
    ASSERT_TRUE(trace && trace->model && trace->model->config.name != "untrained")
        << "the English model did not load";
    const int steps = static_cast<int>(trace->steps.size());
    const int views = w.tabs()->count() - 1;  // Learn is left out: it trains when shown

    std::map<QString, int> failing;  // "1024×768 presentation · Step by step 3" → findings
    QStringList examples;
    int total = 0;
    for (const QSize size : {QSize(1024, 768), QSize(1920, 1080)}) {
        for (const bool presentation : {false, true}) {
            SweepOptions o;
            o.size = size;
            o.presentation = presentation;
            o.skipViews << QStringLiteral("Learn");
            o.each = [&](const SweepShot& s) {
                if (s.audit.ok()) return true;
                const QString where =
                    QStringLiteral("%1×%2 %3 · %4%5")
                        .arg(size.width())
                        .arg(size.height())
                        .arg(presentation ? QStringLiteral("presentation")
                                          : QStringLiteral("normal"),
                             s.view,
                             s.step >= 0 ? QStringLiteral(" step %1").arg(s.step + 1) : QString());
                failing[where] += static_cast<int>(s.audit.findings.size());
                if (examples.size() < 12)
                    examples << where + QStringLiteral(": ") + s.audit.findings.front().detail;
                return true;
            };
            const int shots = sweepMainWindow(w, o);
            EXPECT_EQ(shots, steps + views - 1) << "every step and every view but Learn";
            total += shots;
        }
    }
    EXPECT_EQ(total, 4 * (steps + views - 1));
    // Every shot is clean: no label dropped without its notice, no text cut, no view wider
    // than its pane, no figure leaving most of its pane empty, no window beyond the screen.
    std::cout << "[ layout  ] " << failing.size() << " of " << total
              << " shots have layout problems\n";
    QStringList where;
    for (const auto& [shot, n] : failing) where << QStringLiteral("%1 (%2)").arg(shot).arg(n);
    EXPECT_TRUE(failing.empty()) << failing.size() << " shots have layout problems:\n"
                                 << where.join(QLatin1Char('\n')).toStdString()
                                 << "\nfor example:\n"
                                 << examples.join(QLatin1Char('\n')).toStdString();
}

}  // namespace
}  // namespace attn::ui
