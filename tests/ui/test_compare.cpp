// Two runs side by side (issue 16): "Compare with…" copies run A into run B, B's controls change
// only B, the focus moves on both sides, the difference panel shows B − A, and a narrow window
// stacks the panes.

#include <gtest/gtest.h>

#include <QAction>
#include <QCheckBox>
#include <QDockWidget>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>

#include "session/session.h"
#include "session/session_pair.h"
#include "views/diff_view.h"
#include "views/head_grid.h"
#include "views/lines_view.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"
#include "window/compare_pane.h"
#include "window/controls_panel.h"
#include "window/main_window.h"

using namespace attn::ui;

namespace {

int stepIndex(const Session& s, const std::string& id) {
    const auto& steps = s.trace()->steps;
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (steps[i].id == id) return static_cast<int>(i);
    return -1;
}

attn::Mat weightsOf(const Session& s) {
    const Session::Focus& f = s.focus();
    auto h = s.headWeights(f.layer, f.head, f.decoder, f.cross);
    return h ? h->weights : attn::Mat();
}

class CompareTest : public ::testing::Test {
protected:
    void SetUp() override {
        w = std::make_unique<MainWindow>(nullptr, /*persistent=*/false);
        w->resize(1920, 1080);
        w->show();
        ASSERT_TRUE(QTest::qWaitForWindowExposed(w.get()));
        a = w->session();
        a->waitForIdle();
        ASSERT_TRUE(a->trace()) << a->lastError().toStdString();
        w->startComparison();
        b = w->sessionB();
        ASSERT_NE(b, nullptr);
        b->waitForIdle();
        ASSERT_TRUE(b->trace()) << b->lastError().toStdString();
        QCoreApplication::processEvents();
    }
    void TearDown() override { w.reset(); }

    std::unique_ptr<MainWindow> w;
    Session* a = nullptr;
    Session* b = nullptr;
};

}  // namespace

TEST_F(CompareTest, OpeningTheComparisonCopiesTheRun) {
    EXPECT_TRUE(w->comparing());
    EXPECT_TRUE(w->comparePane()->isVisible());
    EXPECT_TRUE(w->diffView()->isVisible());
    // The same model object: a second run never copies weights.
    EXPECT_EQ(b->model().get(), a->model().get());
    EXPECT_EQ(b->text(), a->text());
    EXPECT_EQ(b->targetText(), a->targetText());
    EXPECT_TRUE(b->attention() == a->attention());
    EXPECT_EQ(b->disabledHeads(), a->disabledHeads());
    EXPECT_NE(b->trace().get(), a->trace().get());
    EXPECT_EQ(w->comparePane()->controls()->sourceEdit()->toPlainText(), a->text());
    const auto& d = w->sessionPair()->focusedDiff();
    ASSERT_TRUE(d.valid) << d.why.toStdString();
    EXPECT_EQ(d.diff.max_abs, 0.0f);
    EXPECT_TRUE(w->sessionPair()->whatDiffers().isEmpty());
}

TEST_F(CompareTest, ChangingBsScalingChangesOnlyB) {
    const attn::TracePtr traceA = a->trace();
    QCheckBox* scale = w->comparePane()->controls()->scaleCheck();
    ASSERT_TRUE(scale->isChecked());
    scale->click();
    b->waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_FALSE(b->attention().scale);
    EXPECT_TRUE(a->attention().scale);
    EXPECT_EQ(a->trace().get(), traceA.get()) << "run A ran again";
    EXPECT_TRUE(w->controls()->scaleCheck()->isChecked());
    // Without ÷√d_k the scores are larger, the softmax sharper: the weights differ.
    a->setStep(stepIndex(*a, "L0.self.weights"));
    EXPECT_GT((weightsOf(*a) - weightsOf(*b)).cwiseAbs().maxCoeff(), 1e-4f);
    EXPECT_TRUE(w->sessionPair()->whatDiffers().contains(QStringLiteral("√d_k")));
    EXPECT_TRUE(w->comparePane()->headerLabel()->text().contains(QStringLiteral("√d_k")));
}

TEST_F(CompareTest, FocusMovesOnBothSides) {
    a->setStep(stepIndex(*a, "L0.self.weights"));
    ASSERT_NE(b->currentStep(), nullptr);
    EXPECT_EQ(b->currentStep()->id, "L0.self.weights");
    a->nextStep();
    EXPECT_EQ(b->currentStep()->id, a->currentStep()->id);
    // From B's side too: a head and a cell chosen in B move A.
    b->setHead(1, 1);
    EXPECT_EQ(a->focus().layer, 1);
    EXPECT_EQ(a->focus().head, 1);
    b->setQuery(3);
    b->setKey(2);
    EXPECT_EQ(a->focus().query, 3);
    EXPECT_EQ(a->focus().key, 2);
    // A click on B's step view heatmap acts on both.
    b->setStep(stepIndex(*b, "L1.self.weights"));
    QCoreApplication::processEvents();
    HeatmapView* hb = w->comparePane()->stepView()->mainHeatmap();
    ASSERT_NE(hb, nullptr);
    emit hb->cellClicked(4, 1);
    EXPECT_EQ(a->focus().query, 4);
    EXPECT_EQ(b->focus().query, 4);
}

TEST_F(CompareTest, FocusIsClampedWhenTheTracesDifferInSize) {
    ControlsPanel* cb = w->comparePane()->controls();
    cb->setSourceText(QStringLiteral("The cat"));
    b->runNow();
    b->waitForIdle();
    QCoreApplication::processEvents();
    const int tb = static_cast<int>(b->trace()->tokens.size());
    const int ta = static_cast<int>(a->trace()->tokens.size());
    ASSERT_LT(tb, ta);
    a->setQuery(ta - 1);
    EXPECT_EQ(a->focus().query, ta - 1) << "A's focus must not shrink to B's sentence";
    EXPECT_EQ(b->focus().query, tb - 1);
    // Another sentence: the weights differ in shape, and the panel says so instead of a Δ.
    const auto& d = w->sessionPair()->focusedDiff();
    EXPECT_FALSE(d.valid);
    EXPECT_TRUE(d.why.contains(QStringLiteral("shape")));
    w->diffView()->refresh();
    EXPECT_FALSE(w->diffView()->noteLabel()->text().isEmpty());
    EXPECT_FALSE(w->diffView()->heatmap()->isVisibleTo(w->diffView()));
}

TEST_F(CompareTest, DifferencePanelShowsBMinusA) {
    a->setStep(stepIndex(*a, "L0.self.weights"));
    a->setHead(0, 1);
    QSlider* temp = w->comparePane()->controls()->temperatureSlider();
    temp->setValue(temp->minimum());
    b->waitForIdle();
    QCoreApplication::processEvents();
    ASSERT_NE(b->attention().temperature, a->attention().temperature);
    const attn::Mat want = weightsOf(*b) - weightsOf(*a);
    ASSERT_GT(want.cwiseAbs().maxCoeff(), 1e-4f);
    DiffView* dv = w->diffView();
    dv->refresh();
    const Eigen::MatrixXf& got = dv->heatmap()->matrix();
    ASSERT_EQ(got.rows(), want.rows());
    ASSERT_EQ(got.cols(), want.cols());
    EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_EQ(dv->heatmap()->colorMap(), ColorMapKind::Diverging);
    EXPECT_TRUE(dv->heatmap()->title().contains(QStringLiteral("head 2")));
    // The largest change listed first, with A, B and Δ as the weights have them.
    QTableWidget* t = dv->changesTable();
    ASSERT_GT(t->rowCount(), 0);
    Eigen::Index r = 0, c = 0;
    want.cwiseAbs().maxCoeff(&r, &c);
    EXPECT_EQ(t->item(0, 3)->text().toDouble(), QString::number(want(r, c), 'f', 3).toDouble());
    EXPECT_EQ(t->item(0, 1)->text(), QString::number(weightsOf(*a)(r, c), 'f', 3));
    // One row per query token, with the entropy of both runs.
    EXPECT_EQ(dv->rowsTable()->rowCount(), static_cast<int>(want.rows()));
}

TEST_F(CompareTest, StepViewOfEachPaneShowsItsOwnRun) {
    w->comparePane()->controls()->scaleCheck()->click();
    b->waitForIdle();
    a->setStep(stepIndex(*a, "L0.self.weights"));
    QCoreApplication::processEvents();
    HeatmapView* ha = w->stepView()->mainHeatmap();
    HeatmapView* hb = w->comparePane()->stepView()->mainHeatmap();
    ASSERT_TRUE(ha && hb);
    EXPECT_LT((ha->matrix() - weightsOf(*a)).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_LT((hb->matrix() - weightsOf(*b)).cwiseAbs().maxCoeff(), 1e-6f);
    // The Lines tab in front on A brings B's Lines to the front too.
    w->tabs()->setCurrentIndex(w->tabIndex(QStringLiteral("Lines")));
    QCoreApplication::processEvents();
    EXPECT_EQ(w->comparePane()->tabs()->tabText(w->comparePane()->tabs()->currentIndex()),
              QStringLiteral("Lines"));
    EXPECT_GT(w->comparePane()->linesView()->canvas()->drawnLines(), 0);
}

TEST_F(CompareTest, NarrowWindowStacksThePanes) {
    EXPECT_EQ(w->centreSplitter()->orientation(), Qt::Horizontal);
    w->resize(1024, 768);
    QCoreApplication::processEvents();
    EXPECT_EQ(w->centreSplitter()->orientation(), Qt::Vertical);
    // A above B, each with room for a picture; the difference is a tab of B's pane.
    EXPECT_LT(w->tabs()->geometry().bottom(), w->comparePane()->geometry().top() + 1);
    EXPECT_GE(w->comparePane()->tabs()->indexOf(w->diffView()), 0);
    EXPECT_LT(w->centreSplitter()->indexOf(w->diffView()), 0);
    EXPECT_GT(w->tabs()->height(), 200);
    EXPECT_GT(w->comparePane()->height(), 200);
    // The difference tab of a wide, low pane puts its lists beside the picture, so the cells
    // keep their height.
    QTabWidget* tb = w->comparePane()->tabs();
    tb->setCurrentIndex(tb->indexOf(w->diffView()));
    QCoreApplication::processEvents();
    a->setStep(stepIndex(*a, "L0.self.weights"));
    w->diffView()->refresh();
    QCoreApplication::processEvents();
    EXPECT_GT(w->diffView()->heatmap()->height(), w->diffView()->height() * 2 / 3);
    w->resize(1920, 1080);
    QCoreApplication::processEvents();
    EXPECT_EQ(w->centreSplitter()->orientation(), Qt::Horizontal);
    EXPECT_LT(w->comparePane()->tabs()->indexOf(w->diffView()), 0);
    EXPECT_EQ(w->centreSplitter()->indexOf(w->diffView()), 2);
    EXPECT_TRUE(w->diffView()->isVisible());
    // Ctrl+Shift+D hides the difference and gives its room to the runs.
    for (QAction* act : w->findChildren<QAction*>())
        if (act->shortcut() == QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D)) act->trigger();
    EXPECT_FALSE(w->diffView()->isVisible());
}

TEST_F(CompareTest, CloseComparisonReturnsToOnePane) {
    w->closeComparison();
    QCoreApplication::processEvents();
    EXPECT_FALSE(w->comparing());
    EXPECT_FALSE(w->comparePane()->isVisible());
    EXPECT_FALSE(w->diffView()->isVisible());
    EXPECT_FALSE(w->controlsDockB()->isVisible());
    EXPECT_TRUE(w->tabs()->isVisible());
    // Opening again copies A once more: B's old change is gone.
    a->setText(QStringLiteral("A dog sleeps"));
    a->runNow();
    a->waitForIdle();
    w->startComparison();
    EXPECT_EQ(w->sessionB()->text(), QStringLiteral("A dog sleeps"));
    EXPECT_TRUE(w->comparePane()->isVisible());
}

TEST_F(CompareTest, ExportOfThePairIsOneFigureTitledWithWhatDiffers) {
    w->comparePane()->controls()->scaleCheck()->click();
    b->waitForIdle();
    a->setStep(stepIndex(*a, "L0.self.weights"));
    QCoreApplication::processEvents();
    EXPECT_TRUE(w->comparisonTitle().contains(QStringLiteral("no ÷√d_k")))
        << w->comparisonTitle().toStdString();
    const QImage img = w->comparisonImage();
    ASSERT_FALSE(img.isNull());
    const QImage figA = w->stepView()->exportTarget()->grab().toImage();
    const QImage figB = w->comparePane()->stepView()->exportTarget()->grab().toImage();
    // A, B and the difference side by side: wider than the two runs' figures together.
    EXPECT_GT(img.width(), figA.width() + figB.width());
    EXPECT_GE(img.height(), std::max(figA.height(), figB.height()));
    w->closeComparison();
    EXPECT_TRUE(w->comparisonImage().isNull());
}

TEST_F(CompareTest, HoveringATokenInLinesLightsItOnBothSides) {
    w->tabs()->setCurrentIndex(w->tabIndex(QStringLiteral("Lines")));
    QCoreApplication::processEvents();
    auto* la = qobject_cast<LinesView*>(w->tabView(w->tabIndex(QStringLiteral("Lines"))));
    ASSERT_NE(la, nullptr);
    LinesCanvas* cb = w->comparePane()->linesView()->canvas();
    la->canvas()->setHover(0, 2);
    EXPECT_EQ(cb->hoverSide(), 0);
    EXPECT_EQ(cb->hoverIndex(), 2);
    cb->setHover(1, 3);
    EXPECT_EQ(la->canvas()->hoverSide(), 1);
    EXPECT_EQ(la->canvas()->hoverIndex(), 3);
    la->canvas()->setHover(-1, -1);
    EXPECT_EQ(cb->hoverIndex(), -1);
}

TEST_F(CompareTest, AHeadSwitchedOffInBIsOffInBOnly) {
    // B's Heads tab in front: a hidden grid builds its thumbnails when first shown.
    w->comparePane()->followTab(QStringLiteral("Heads"));
    QCoreApplication::processEvents();
    HeadThumb* t = w->comparePane()->headGrid()->thumb(0, 1);
    ASSERT_NE(t, nullptr);
    emit t->toggleRequested(0, 1);
    b->waitForIdle();
    QCoreApplication::processEvents();
    ASSERT_EQ(b->disabledHeads().size(), 1u);
    EXPECT_TRUE(a->disabledHeads().empty());
    EXPECT_TRUE(w->sessionPair()->whatDiffers().contains(QStringLiteral("switched off")))
        << w->sessionPair()->whatDiffers().toStdString();
}
