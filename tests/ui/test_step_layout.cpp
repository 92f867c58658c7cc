// The Step by step view gives the lesson the screen: every step's matrices fill their pane (at a
// small and a large size, normal and presentation fonts), the result is the largest matrix, the
// step names are never cut, the texts say only what is true, and the exported figure carries no
// counter and no focus frame.

#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QAbstractButton>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QRegion>
#include <QTest>
#include <cmath>
#include <filesystem>

#include "attn/open_model.h"
#include "session/session.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"
#include "window/main_window.h"

namespace attn::ui {
namespace {

namespace fs = std::filesystem;

// The shared models folder next to the source tree, or the machine's.
QString storiesPath() {
    for (const fs::path& dir : {fs::path(ATTN_SHARED_DIR), fs::path("/work/shared")}) {
        const fs::path p = dir / "models" / "stories260K" / "stories260K.bin";
        if (fs::exists(p)) return QString::fromStdString(p.string());
    }
    return {};
}

void settle() {
    // Replots are queued, and a repaint may refit once the real label margins are known.
    for (int i = 0; i < 8; ++i) {
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QTest::qWait(2);
    }
}

int stepOf(const Session& s, StepKind kind, bool cross = false) {
    const auto& steps = s.trace()->steps;
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (steps[i].kind == kind && steps[i].cross == cross) return static_cast<int>(i);
    return -1;
}

double cellsArea(const HeatmapView* m) {
    const QRect r = m->cellsRect();
    return double(r.width()) * r.height();
}

/// What one step's figure covers of its pane.
struct Coverage {
    double figure = 0;  // cells, their labels, title and colour scale (the plots), 0..1
    double cells = 0;   // the cells alone, 0..1
    double smallestCell = 0;
    int heatmaps = 0;
};

Coverage coverage(const StepView& view) {
    Coverage c;
    const QWidget* pane = view.matrixPane();
    const double paneArea = double(pane->width()) * pane->height();
    QRegion figure;
    double cells = 0;
    c.smallestCell = 1e9;
    for (const HeatmapView* m : view.visibleHeatmaps()) {
        // The plot is the cells plus what labels them; mapped into the pane.
        const QRect plot = m->plot()->geometry().translated(m->mapTo(pane, QPoint(0, 0)));
        figure += plot.intersected(pane->rect());
        cells += cellsArea(m);
        c.smallestCell = std::min(c.smallestCell, m->cellSizePx());
        ++c.heatmaps;
    }
    double covered = 0;
    for (const QRect& r : figure) covered += double(r.width()) * r.height();
    c.figure = paneArea > 0 ? covered / paneArea : 0;
    c.cells = paneArea > 0 ? cells / paneArea : 0;
    return c;
}

void saveShot(QWidget& w, const QString& name) {
    const QByteArray dir = qgetenv("ATTN_UI_SHOTS");
    if (dir.isEmpty()) return;
    w.grab().save(QDir(QString::fromLocal8Bit(dir)).filePath(name + QStringLiteral(".png")));
}

// Every step at one size: no figure leaves more than half of its pane empty.
void expectEveryStepFillsItsPane(Session& s, StepView& view, QSize size, const QString& tag) {
    view.resize(size);
    view.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    const int n = static_cast<int>(s.trace()->steps.size());
    double worst = 1;
    for (int i = 0; i < n; ++i) {
        s.setStep(i);
        settle();
        const Step& step = s.trace()->steps[static_cast<std::size_t>(i)];
        saveShot(view, QStringLiteral("%1-%2x%3-step%4")
                           .arg(tag)
                           .arg(size.width())
                           .arg(size.height())
                           .arg(i + 1, 2, 10, QLatin1Char('0')));
        if (step.kind == StepKind::Tokens) continue;  // chips, no matrix
        const Coverage c = coverage(view);
        ASSERT_GT(c.heatmaps, 0) << step.id;
        worst = std::min(worst, c.figure);
        EXPECT_GE(c.figure, 0.5) << tag.toStdString() << " " << size.width() << "×" << size.height()
                                 << " step " << i + 1 << " (" << step.id << ", "
                                 << view.arrangement().toStdString() << "): the figure covers "
                                 << c.figure * 100 << "% of its pane (" << c.cells * 100
                                 << "% cells)";
        // Rows stay tall enough to carry a label and a colour.
        for (const HeatmapView* m : view.visibleHeatmaps()) {
            const double rowH =
                m->cellsRect().height() / double(std::max<Eigen::Index>(1, m->matrix().rows()));
            EXPECT_GE(rowH, 4.0) << step.id << " " << m->title().toStdString();
        }
    }
    std::cout << "[ layout  ] " << tag.toStdString() << " " << size.width() << "x" << size.height()
              << ": worst figure coverage " << worst * 100 << "%\n";
}

class StepLayoutTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_view.setTransitions(false);  // grabs right after a step see it whole
        auto model = attn::openModel("builtin:english");
        ASSERT_TRUE(model.ok()) << model.error().message;
        m_session.setModel(model.value());
        run("The black cat drank the milk");
    }
    void run(const char* text) {
        m_session.setText(QString::fromUtf8(text));
        m_session.runNow();
        m_session.waitForIdle();
        ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
    }
    void goTo(StepKind kind) {
        const int i = stepOf(m_session, kind);
        ASSERT_GE(i, 0);
        m_session.setStep(i);
        settle();
    }
    void showAt(QSize size) {
        m_view.resize(size);
        m_view.show();
        ASSERT_TRUE(QTest::qWaitForWindowExposed(&m_view));
        settle();
    }
    Session m_session;
    StepView m_view{&m_session};
};

}  // namespace

TEST_F(StepLayoutTest, EveryStepFillsItsPaneAtTwoSizes) {
    expectEveryStepFillsItsPane(m_session, m_view, {700, 600}, QStringLiteral("english"));
    expectEveryStepFillsItsPane(m_session, m_view, {1500, 900}, QStringLiteral("english"));
}

TEST_F(StepLayoutTest, EveryStepFillsItsPaneInPresentationMode) {
    m_session.setFontScale(1.5);
    expectEveryStepFillsItsPane(m_session, m_view, {700, 600}, QStringLiteral("english-pres"));
    expectEveryStepFillsItsPane(m_session, m_view, {1500, 900}, QStringLiteral("english-pres"));
}

TEST_F(StepLayoutTest, EveryStepFillsItsPaneOnStories260K) {
    const QString stories = storiesPath();
    if (stories.isEmpty()) GTEST_SKIP() << "stories260K not found: this check did NOT run";
    auto model = attn::openModel(stories.toStdString());
    ASSERT_TRUE(model.ok()) << model.error().message;
    m_session.setModel(model.value());
    run("Once upon a time, there was a little girl named Lily.");
    expectEveryStepFillsItsPane(m_session, m_view, {700, 600}, QStringLiteral("stories"));
    expectEveryStepFillsItsPane(m_session, m_view, {1500, 900}, QStringLiteral("stories"));
    m_session.setFontScale(1.5);
    expectEveryStepFillsItsPane(m_session, m_view, {1500, 900}, QStringLiteral("stories-pres"));
}

TEST_F(StepLayoutTest, ScoresAreTheLargestMatrixAndCarryNumbers) {
    showAt({700, 600});
    goTo(StepKind::Scores);
    const QList<HeatmapView*> maps = m_view.visibleHeatmaps();
    ASSERT_EQ(maps.size(), 3);
    const HeatmapView* S = m_view.mainHeatmap();
    EXPECT_TRUE(S->title().startsWith("S = Q"));
    for (const HeatmapView* m : maps) {
        if (m != S) {
            EXPECT_GE(cellsArea(S), cellsArea(m)) << m->title().toStdString();
        }
    }
    EXPECT_TRUE(S->numbersFit()) << "S cells " << S->cellSizePx() << " px ("
                                 << m_view.arrangement().toStdString() << ")";
    // Drawn as a product: Q left of S on its rows, Kᵀ above S on its columns.
    if (m_view.arrangement() == QStringLiteral("product")) {
        const QRect q = maps[0]->geometry(), kt = maps[1]->geometry(), s = S->geometry();
        EXPECT_LT(q.right(), s.left() + 2) << q.x() << "+" << q.width() << " vs " << s.x();
        EXPECT_LT(kt.bottom(), s.top() + 2) << kt.y() << "+" << kt.height() << " vs " << s.y();
    }
}

TEST_F(StepLayoutTest, WeightedSumKeepsTheWeightsReadable) {
    showAt({700, 600});
    goTo(StepKind::WeightedSum);
    const QList<HeatmapView*> maps = m_view.visibleHeatmaps();
    ASSERT_EQ(maps.size(), 3);
    EXPECT_TRUE(maps[0]->title().startsWith("A"));
    EXPECT_GE(maps[0]->cellSizePx(), 14.0)
        << "A's cells (" << m_view.arrangement().toStdString() << ")";
    EXPECT_EQ(maps[0]->shownRowLabels(), 6);
    EXPECT_EQ(maps[0]->shownColLabels(), 6);
}

TEST_F(StepLayoutTest, LongMatricesGetRowsTallEnoughForTheirLabels) {
    showAt({700, 600});
    const QList<StepKind> kinds{StepKind::Positional, StepKind::OutputProjection, StepKind::AddNorm,
                                StepKind::FeedForward};
    for (StepKind k : kinds) {
        goTo(k);
        for (const HeatmapView* m : m_view.visibleHeatmaps()) {
            const double rowH = m->cellsRect().height() / double(m->matrix().rows());
            // Before: strips of about 20 px for six rows.
            EXPECT_GE(rowH, 10.0) << m->title().toStdString() << " ("
                                  << m_view.arrangement().toStdString() << ")";
            EXPECT_EQ(m->shownRowLabels(), m->matrix().rows()) << m->title().toStdString();
        }
    }
}

TEST_F(StepLayoutTest, OperatorsStandBetweenTheMatricesUncovered) {
    for (const QSize size : {QSize(700, 600), QSize(1500, 900)}) {
        showAt(size);
        goTo(StepKind::Positional);
        EXPECT_EQ(m_view.shownOperators(), (QStringList{"+", "="})) << size.width();
        for (const QLabel* op : m_view.matrixPane()->findChildren<QLabel*>("stepOperator")) {
            if (op->isHidden()) continue;
            EXPECT_TRUE(m_view.matrixPane()->rect().contains(op->geometry()));
            for (const HeatmapView* m : m_view.visibleHeatmaps()) {
                const QRect cells = m->cellsRect().translated(m->pos());
                EXPECT_FALSE(cells.intersects(op->geometry()))
                    << op->text().toStdString() << " over " << m->title().toStdString();
            }
        }
    }
}

TEST_F(StepLayoutTest, ConcatShowsWhereEachHeadBegins) {
    showAt({900, 650});
    goTo(StepKind::Concat);
    const int heads = static_cast<int>(m_session.trace()->layers[0].self_attention.heads.size());
    ASSERT_GT(heads, 1);
    const QList<int> xs = m_view.headBoundaries();
    ASSERT_EQ(xs.size(), heads - 1);
    const HeatmapView* m = m_view.mainHeatmap();
    const QRect cells = m->cellsRect().translated(m->pos());
    const double blockW = double(cells.width()) / heads;
    for (int h = 1; h < heads; ++h)
        EXPECT_NEAR(xs[h - 1], cells.left() + h * blockW, 2.0) << "head " << h + 1;
}

TEST_F(StepLayoutTest, WeightsCanBeShownInTheirSteps) {
    showAt({900, 650});
    goTo(StepKind::Projections);
    const int dModel = m_session.trace()->model->config.d_model;
    const int dk = m_session.trace()->model->config.headDim();
    ASSERT_FALSE(m_view.visibleHeatmaps().first()->title().startsWith("W_Q"));
    m_view.setShowWeights(true);
    settle();
    const HeatmapView* wq = m_view.visibleHeatmaps().first();
    EXPECT_TRUE(wq->title().startsWith("W_Q")) << wq->title().toStdString();
    EXPECT_EQ(wq->matrix().rows(), dModel);
    EXPECT_EQ(wq->matrix().cols(), dk);
    // The focused head's columns of W_Q.
    const Mat& W = m_session.model()->weights.layers[0].self_attention.W_Q;
    const int h = m_session.focus().head;
    EXPECT_FLOAT_EQ(wq->matrix()(3, 1), W(3, h * dk + 1));
    goTo(StepKind::OutputProjection);
    QStringList titles;
    for (const HeatmapView* m : m_view.visibleHeatmaps()) titles << m->title();
    EXPECT_TRUE(titles.contains("W_O")) << titles.join(", ").toStdString();
    goTo(StepKind::FeedForward);
    titles.clear();
    for (const HeatmapView* m : m_view.visibleHeatmaps()) titles << m->title();
    EXPECT_TRUE(titles.contains("W₁") && titles.contains("W₂")) << titles.join(", ").toStdString();
    m_view.setShowWeights(false);
    settle();
    EXPECT_EQ(m_view.visibleHeatmaps().size(), 2);
}

TEST_F(StepLayoutTest, StepNamesAreNeverCut) {
    m_session.setFontScale(1.5);
    // The narrowest step view that keeps its list in presentation mode.
    showAt({980, 560});
    ASSERT_FALSE(m_view.compact());
    QListWidget* list = m_view.stepList();
    ASSERT_GT(list->count(), 10);
    for (int i = 0; i < list->count(); ++i) {
        QListWidgetItem* item = list->item(i);
        const QRect r = list->visualItemRect(item);
        const QFontMetrics fm(item->font());
        const QRect need =
            fm.boundingRect(QRect(0, 0, r.width() - 8, 10000), Qt::TextWordWrap, item->text());
        EXPECT_LE(need.height(), r.height() + 1)
            << item->text().toStdString() << ": " << r.width() << "×" << r.height();
        EXPECT_LE(need.width(), r.width()) << item->text().toStdString();
    }
    // Presentation fonts reach the list.
    EXPECT_GE(list->font().pointSizeF(), 1.4 * QApplication::font().pointSizeF());
}

TEST_F(StepLayoutTest, ANarrowPaneTradesTheListForAStepChooser) {
    // The step view's share of a 1024×768 window in presentation mode.
    m_session.setFontScale(1.5);
    showAt({650, 560});
    ASSERT_TRUE(m_view.compact());
    EXPECT_FALSE(m_view.stepList()->isVisible());
    auto* chooser = m_view.findChild<QComboBox*>(QStringLiteral("stepChooser"));
    ASSERT_NE(chooser, nullptr);
    EXPECT_TRUE(chooser->isVisible());
    // The chooser lists every step (and the section names, which cannot be chosen).
    int steps = 0;
    for (int i = 0; i < chooser->count(); ++i) steps += chooser->itemData(i).isValid() ? 1 : 0;
    EXPECT_EQ(steps, static_cast<int>(m_session.trace()->steps.size()));
    // Choosing in it goes to that step, and the step view follows a step chosen elsewhere.
    const int target = chooser->findData(7);
    ASSERT_GE(target, 0);
    QMetaObject::invokeMethod(chooser, "activated", Q_ARG(int, target));
    settle();
    EXPECT_EQ(m_session.focus().step, 7);
    m_session.setStep(2);
    settle();
    EXPECT_EQ(chooser->currentData().toInt(), 2);
    // Nothing in the buttons' rows is wider than the view: they fold onto two rows.
    EXPECT_TRUE(m_view.navOnTwoRows());
    for (QWidget* w : m_view.findChildren<QWidget*>()) {
        if (!w->isVisible() || !(qobject_cast<QAbstractButton*>(w) || qobject_cast<QComboBox*>(w)))
            continue;
        const QRect r(w->mapTo(&m_view, QPoint(0, 0)), w->size());
        EXPECT_LE(r.right(), m_view.width()) << w->metaObject()->className();
        EXPECT_GE(w->width(), w->sizeHint().width() - 1)
            << w->metaObject()->className() << " squeezed";
    }
    // With room again, the list comes back and the buttons stand on one row with their names.
    showAt({1500, 700});
    EXPECT_FALSE(m_view.compact());
    EXPECT_TRUE(m_view.stepList()->isVisible());
    EXPECT_FALSE(chooser->isVisible());
    EXPECT_FALSE(m_view.navOnTwoRows());
    EXPECT_TRUE(m_view.navButtonsNamed());
}

TEST_F(StepLayoutTest, ScalingSaysDkAndItsRootApart) {
    showAt({900, 650});
    goTo(StepKind::Scaled);
    const QString title = m_view.mainHeatmap()->title();
    EXPECT_EQ(title, "S' = S / √d_k");
    EXPECT_TRUE(m_view.explainText().contains("d_k = 16, so √d_k = 4"))
        << m_view.explainText().toStdString();
    EXPECT_TRUE(m_view.formulaText().contains("= 16, √d<sub>k</sub> = 4)"))
        << m_view.formulaText().toStdString();
    EXPECT_FALSE(m_view.formulaText().contains("√16")) << m_view.formulaText().toStdString();
}

TEST_F(StepLayoutTest, NoMaskShowsOneMatrixThatPassesUnchanged) {
    showAt({900, 650});
    ASSERT_EQ(m_session.trace()->maskOf(false, false).kind, MaskKind::None);
    goTo(StepKind::Masked);
    ASSERT_EQ(m_view.visibleHeatmaps().size(), 1);
    EXPECT_TRUE(m_view.mainHeatmap()->title().contains("no mask"));
    EXPECT_TRUE(m_view.explainText().contains("passes unchanged"));
    goTo(StepKind::Weights);
    for (const HeatmapView* m : m_view.visibleHeatmaps())
        EXPECT_FALSE(m->title().contains("masked")) << m->title().toStdString();
    // With a causal mask, the step shows before and after.
    AttentionKnobs k = m_session.attention();
    k.mask = MaskKind::Causal;
    m_session.setAttention(k);
    m_session.waitForIdle();
    goTo(StepKind::Masked);
    ASSERT_EQ(m_view.visibleHeatmaps().size(), 2);
    EXPECT_TRUE(m_view.mainHeatmap()->title().contains("masked"));
}

TEST_F(StepLayoutTest, AnEncodersLastStepShowsMaskedWordScoresBestFirst) {
    showAt({900, 650});
    run("The black cat drank the [MASK]");
    ASSERT_EQ(m_session.trace()->model->config.architecture, Architecture::Encoder);
    goTo(StepKind::Logits);
    EXPECT_EQ(m_view.titleText(), "Masked-word scores");
    const HeatmapView* m = m_view.mainHeatmap();
    // One row, the [MASK] (t6), and its words best first.
    ASSERT_EQ(m->matrix().rows(), 1);
    EXPECT_TRUE(m->rowLabels().first().contains("t6")) << m->rowLabels().first().toStdString();
    for (Eigen::Index c = 1; c < m->matrix().cols(); ++c)
        EXPECT_GE(m->matrix()(0, c - 1), m->matrix()(0, c)) << "column " << c;
    EXPECT_FALSE(m->title().contains("next"));
    EXPECT_FALSE(m_view.explainText().contains("next token"));
    // Without a [MASK], each position's scores: still best first, by the column's best row.
    run("The black cat drank the milk");
    goTo(StepKind::Logits);
    m = m_view.mainHeatmap();
    EXPECT_EQ(m->matrix().rows(), 6);
    const Eigen::RowVectorXf best = m->matrix().colwise().maxCoeff();
    for (Eigen::Index c = 1; c < best.size(); ++c) EXPECT_GE(best(c - 1), best(c));
}

TEST_F(StepLayoutTest, TokenChipsCountFromOne) {
    showAt({900, 650});
    goTo(StepKind::Tokens);
    const auto* chips = m_view.findChild<QLabel*>("stepTokens");
    ASSERT_NE(chips, nullptr);
    ASSERT_TRUE(chips->isVisible());
    EXPECT_TRUE(chips->text().contains("'>1</sub>"));
    EXPECT_TRUE(chips->text().contains("'>6</sub>"));
    EXPECT_FALSE(chips->text().contains("'>0</sub>"));
}

TEST_F(StepLayoutTest, ExportModeDropsTheCounterAndTheFocusFrame) {
    showAt({900, 650});
    goTo(StepKind::Weights);
    auto pinkPixels = [](const QImage& img) {
        int n = 0;
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x) {
                const QColor c = img.pixelColor(x, y);
                if (c.red() > 230 && c.green() < 100 && c.blue() > 100 && c.blue() < 160) ++n;
            }
        return n;
    };
    const auto* counter = m_view.findChild<QLabel*>("stepCounter");
    ASSERT_NE(counter, nullptr);
    EXPECT_TRUE(counter->isVisible());
    EXPECT_GT(pinkPixels(m_view.exportTarget()->grab().toImage()), 20) << "the focus frame";
    m_view.setExportMode(true);
    settle();
    EXPECT_FALSE(counter->isVisible());
    EXPECT_EQ(pinkPixels(m_view.exportTarget()->grab().toImage()), 0);
    // The figure holds no buttons.
    EXPECT_TRUE(m_view.exportTarget()->findChildren<QAbstractButton*>().isEmpty());
    m_view.setExportMode(false);
    settle();
    EXPECT_TRUE(counter->isVisible());
    EXPECT_GT(pinkPixels(m_view.exportTarget()->grab().toImage()), 20);
}

TEST_F(StepLayoutTest, WalkingToTheNextStepFadesItIn) {
    showAt({900, 650});
    m_view.setTransitions(true);
    m_session.setStep(4);
    settle();
    m_session.nextStep();
    EXPECT_TRUE(m_view.transitionRunning()) << "next step";
    m_session.setStep(20);  // a jump shows the step at once
    EXPECT_FALSE(m_view.transitionRunning()) << "a jump";
    m_session.setStep(19);
    m_view.setExportMode(true);
    EXPECT_FALSE(m_view.transitionRunning()) << "exports never see a half-faded figure";
}

TEST(StepWindow, OpensAtStepOne) {
    MainWindow w(nullptr, /*persistent=*/false);
    w.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
    w.session()->waitForIdle();
    ASSERT_TRUE(w.session()->trace());
    EXPECT_EQ(w.session()->focus().step, 0);
    EXPECT_TRUE(w.stepView()->titleText().startsWith("Tokens") ||
                w.session()->currentStep()->kind == StepKind::Tokens);
}

// The window as a class sees it: every step at 1024×768 and 1920×1080, normal and presentation,
// fills its pane (and, with ATTN_UI_SHOTS set, is saved there to look at).
void everyStepInTheWindow(const QString& spec, const QString& text, const QString& tag) {
    for (const QSize size : {QSize(1024, 768), QSize(1920, 1080)}) {
        for (const bool presentation : {false, true}) {
            MainWindow w(nullptr, /*persistent=*/false);
            w.resize(size);
            w.show();
            ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
            w.applyStartOptions(spec, text, QString(), QString());
            w.session()->waitForIdle();
            ASSERT_TRUE(w.session()->trace()) << w.session()->lastError().toStdString();
            // Presentation fonts at this window size (the mode itself goes full screen, which
            // offscreen is a screen of its own size).
            if (presentation) w.session()->setFontScale(1.5);
            settle();
            StepView* view = w.stepView();
            view->setTransitions(false);
            const QString name = QStringLiteral("%1-%2x%3%4")
                                     .arg(tag)
                                     .arg(size.width())
                                     .arg(size.height())
                                     .arg(presentation ? QStringLiteral("-pres") : QString());
            const int n = static_cast<int>(w.session()->trace()->steps.size());
            double worst = 1;
            for (int i = 0; i < n; ++i) {
                w.session()->setStep(i);
                settle();
                saveShot(
                    w,
                    QStringLiteral("win-%1-step%2").arg(name).arg(i + 1, 2, 10, QLatin1Char('0')));
                const Step& step = w.session()->trace()->steps[static_cast<std::size_t>(i)];
                if (step.kind == StepKind::Tokens) continue;
                const Coverage c = coverage(*view);
                worst = std::min(worst, c.figure);
                if (qEnvironmentVariableIsSet("ATTN_UI_SHOTS")) {
                    // The measured figures of the issue: coverage, smallest cell, labels shown.
                    int shown = 0, labels = 0;
                    for (const HeatmapView* m : view->visibleHeatmaps()) {
                        shown += m->shownRowLabels() + m->shownColLabels();
                        labels += static_cast<int>(m->matrix().rows() + m->matrix().cols());
                    }
                    std::cout << "[ figure  ] " << name.toStdString() << " step " << i + 1 << " "
                              << step.id << " " << view->arrangement().toStdString() << ": figure "
                              << std::lround(c.figure * 100) << "%, cells "
                              << std::lround(c.cells * 100) << "%, smallest cell "
                              << std::lround(c.smallestCell) << " px, labels " << shown << "/"
                              << labels << "\n";
                }
                EXPECT_GE(c.figure, 0.5)
                    << name.toStdString() << " (window " << w.width() << "×" << w.height()
                    << ", pane " << view->matrixPane()->width() << "×"
                    << view->matrixPane()->height() << ") step " << i + 1 << " " << step.id << ": "
                    << c.figure * 100 << "%";
            }
            std::cout << "[ window  ] " << name.toStdString() << " (window " << w.width() << "x"
                      << w.height() << ", pane " << view->matrixPane()->width() << "x"
                      << view->matrixPane()->height() << "): worst figure coverage " << worst * 100
                      << "%\n";
        }
    }
}

TEST(StepWindow, EveryStepFillsItsPaneInTheWindowEnglish) {
    everyStepInTheWindow(QStringLiteral("builtin:english"),
                         QStringLiteral("The black cat drank the milk"), QStringLiteral("english"));
}

TEST(StepWindow, EveryStepFillsItsPaneInTheWindowStories260K) {
    const QString stories = storiesPath();
    if (stories.isEmpty()) GTEST_SKIP() << "stories260K not found: this check did NOT run";
    everyStepInTheWindow(stories, QStringLiteral("Once upon a time, there was a little girl."),
                         QStringLiteral("stories"));
}

}  // namespace attn::ui
