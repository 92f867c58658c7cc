// The main window as a person uses it: typing updates the views, the arrow keys walk the steps,
// a click on the head grid focuses a head, and the rendered window shows a labelled heatmap.

#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSet>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTest>

#include "common/colormaps.h"
#include "session/session.h"
#include "views/cell_explain.h"
#include "views/compare_view.h"
#include "views/head_grid.h"
#include "views/lines_view.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"
#include "window/controls_panel.h"
#include "window/main_window.h"

using namespace attn::ui;

namespace {

int distinctColours(const QImage& img, int step = 2) {
    QSet<QRgb> seen;
    for (int y = 0; y < img.height(); y += step)
        for (int x = 0; x < img.width(); x += step) seen.insert(img.pixel(x, y));
    return seen.size();
}

int stepIndex(const Session& s, const std::string& id) {
    const auto& steps = s.trace()->steps;
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (steps[i].id == id) return static_cast<int>(i);
    return -1;
}

class WindowTest : public ::testing::Test {
protected:
    void SetUp() override {
        w = std::make_unique<MainWindow>(nullptr, /*persistent=*/false);
        w->show();
        ASSERT_TRUE(QTest::qWaitForWindowExposed(w.get()));
        s = w->session();
        s->waitForIdle();
        ASSERT_TRUE(s->trace()) << s->lastError().toStdString();
    }
    void TearDown() override { w.reset(); }

    void typeSentence(const QString& text) {
        QPlainTextEdit* e = w->controls()->sourceEdit();
        e->setFocus();
        e->selectAll();
        QTest::keyClick(e, Qt::Key_Delete);
        QTest::keyClicks(e, text);
    }
    void goTo(const std::string& id) {
        const int i = stepIndex(*s, id);
        ASSERT_GE(i, 0) << id;
        s->setStep(i);
        QCoreApplication::processEvents();
    }

    std::unique_ptr<MainWindow> w;
    Session* s = nullptr;
};

}  // namespace

TEST_F(WindowTest, OpensOnTheDefaultSentenceAtTheRequestedSize) {
    EXPECT_EQ(w->size(), QSize(1400, 900));
    EXPECT_EQ(s->trace()->tokenCount(), 6);
    EXPECT_EQ(w->controls()->sourceEdit()->toPlainText(), "The black cat drank the milk");
    EXPECT_GT(w->stepView()->stepList()->count(), 10);
}

TEST_F(WindowTest, TypingUpdatesTheTraceAndTheHeatmapLabels) {
    goTo("L0.self.weights");
    HeatmapView* map = w->stepView()->mainHeatmap();
    EXPECT_TRUE(map->rowLabels().contains("milk"));
    QSignalSpy changed(s, &Session::changed);
    typeSentence("A dog ran home");
    ASSERT_TRUE(changed.wait(2000));
    QTest::qWait(250);  // a further debounce would show up as a second change
    EXPECT_EQ(changed.count(), 1) << "one run per burst of typing";
    EXPECT_EQ(s->trace()->tokenCount(), 4);
    QCoreApplication::processEvents();
    map = w->stepView()->mainHeatmap();
    EXPECT_EQ(map->rowLabels(), (QStringList{"A", "dog", "ran", "home"}));
    EXPECT_EQ(map->colLabels(), (QStringList{"A", "dog", "ran", "home"}));
    EXPECT_EQ(map->matrix().rows(), 4);
    EXPECT_NEAR(map->matrix().row(2).sum(), 1.0f, 1e-5f) << "weights rows sum to 1";
    EXPECT_EQ(w->stepView()->titleText().toStdString(), s->currentStep()->title);
}

TEST_F(WindowTest, ArrowKeysStepForwardAndBack) {
    s->setStep(3);
    w->stepView()->stepList()->setFocus();
    QApplication::setActiveWindow(w.get());
    ASSERT_TRUE(QTest::qWaitForWindowActive(w.get()));
    w->stepView()->setFocus();
    QTest::keyClick(w->stepView(), Qt::Key_Right);
    EXPECT_EQ(s->focus().step, 4);
    QTest::keyClick(w->stepView(), Qt::Key_Right);
    EXPECT_EQ(s->focus().step, 5);
    QTest::keyClick(w->stepView(), Qt::Key_Left);
    EXPECT_EQ(s->focus().step, 4);
    QCoreApplication::processEvents();
    EXPECT_EQ(w->stepView()->titleText().toStdString(), s->trace()->steps[4].title);
    // In the text box the arrows move the cursor instead.
    QPlainTextEdit* e = w->controls()->sourceEdit();
    e->setFocus();
    QTest::keyClick(e, Qt::Key_Left);
    EXPECT_EQ(s->focus().step, 4);
}

TEST_F(WindowTest, SpacePlaysAndPauses) {
    QApplication::setActiveWindow(w.get());
    ASSERT_TRUE(QTest::qWaitForWindowActive(w.get()));
    s->setStep(0);
    w->stepView()->setFocus();
    QTest::keyClick(w->stepView(), Qt::Key_Space);
    EXPECT_TRUE(w->stepView()->playing());
    QTest::keyClick(w->stepView(), Qt::Key_Space);
    EXPECT_FALSE(w->stepView()->playing());
    // The player advances on its own.
    w->stepView()->play(true);
    QTRY_VERIFY_WITH_TIMEOUT(s->focus().step >= 1, 4000);
    w->stepView()->play(false);
}

TEST_F(WindowTest, ClickingTheHeadGridFocusesAHead) {
    goTo("L0.self.weights");
    HeadThumb* t = w->headGrid()->thumb(1, 1);
    ASSERT_NE(t, nullptr);
    EXPECT_FALSE(t->image().isNull());
    EXPECT_EQ(t->image().size(), QSize(6, 6)) << "one pixel per (query, key)";
    QSignalSpy focus(s, &Session::changed);
    QTest::mouseClick(t, Qt::LeftButton, {}, QPoint(t->width() / 2, t->width() / 2));
    EXPECT_GE(focus.count(), 1);
    EXPECT_EQ(s->focus().layer, 1);
    EXPECT_EQ(s->focus().head, 1);
    EXPECT_EQ(s->currentStep()->id, "L1.self.weights");
    EXPECT_TRUE(t->isFocusedHead());
    EXPECT_FALSE(w->headGrid()->thumb(0, 0)->isFocusedHead());
    QCoreApplication::processEvents();
    // The step view shows that head's weights.
    const auto& want = s->trace()->layers[1].self_attention.heads[1].weights;
    EXPECT_TRUE(w->stepView()->mainHeatmap()->matrix().isApprox(want));
}

TEST_F(WindowTest, RenderedWindowIsNotBlankAndShowsTokens) {
    goTo("L0.self.weights");
    QTest::qWait(50);
    const QImage img = w->grab().toImage();
    ASSERT_EQ(img.size(), w->size() * img.devicePixelRatio());
    QWidget blank;
    blank.resize(w->size());
    const QImage empty = blank.grab().toImage();
    EXPECT_LT(distinctColours(empty), 4);
    EXPECT_GT(distinctColours(img), 60) << "heatmaps, text and controls give many colours";
    EXPECT_NE(img, empty);
    // The heatmap itself: coloured cells in viridis, labelled with the tokens.
    HeatmapView* map = w->stepView()->mainHeatmap();
    const QImage heat = map->grab().toImage();
    EXPECT_GT(distinctColours(heat, 1), 12);
    EXPECT_EQ(map->rowLabels(), s->queryLabels());
    EXPECT_TRUE(map->rowLabels().contains("cat"));
    EXPECT_EQ(map->title(), "A = softmax(S')");
}

TEST_F(WindowTest, CellTooltipsSpellOutTheArithmetic) {
    goTo("L0.self.scaled");
    HeatmapView* map = w->stepView()->mainHeatmap();
    const QString tip = map->cellTooltip(5, 2);  // query "milk", key "cat"
    EXPECT_TRUE(tip.contains("milk")) << tip.toStdString();
    EXPECT_TRUE(tip.contains("cat")) << tip.toStdString();
    EXPECT_TRUE(tip.contains("÷ √4")) << tip.toStdString();
    const attn::HeadTrace* h = s->focusedHead();
    ASSERT_NE(h, nullptr);
    EXPECT_TRUE(tip.contains(fmtNum(h->scores(5, 2)))) << "the raw score from the trace";
    EXPECT_TRUE(tip.contains(fmtNum(h->scaled(5, 2)))) << "the scaled score from the trace";
    goTo("L0.self.weights");
    const QString w2 = w->stepView()->mainHeatmap()->cellTooltip(5, 2);
    EXPECT_TRUE(w2.contains("softmax")) << w2.toStdString();
    EXPECT_TRUE(w2.contains(fmtNum(h->weights(5, 2))));
}

TEST_F(WindowTest, SignedScoresUseTheDivergingMapCentredOnZero) {
    goTo("L0.self.scores");
    HeatmapView* map = w->stepView()->mainHeatmap();
    EXPECT_EQ(map->colorMap(), ColorMapKind::Diverging);
    EXPECT_DOUBLE_EQ(map->rangeLow(), -map->rangeHigh());
    goTo("L0.self.weights");
    map = w->stepView()->mainHeatmap();
    EXPECT_EQ(map->colorMap(), ColorMapKind::Viridis);
    EXPECT_DOUBLE_EQ(map->rangeLow(), 0.0);
    EXPECT_DOUBLE_EQ(map->rangeHigh(), 1.0);
    s->setColorMap(ColorMapKind::Cividis);
    QCoreApplication::processEvents();
    EXPECT_EQ(w->stepView()->mainHeatmap()->colorMap(), ColorMapKind::Cividis);
}

TEST_F(WindowTest, InvalidControlsShowTheMessageAndDoNotCrash) {
    QSpinBox* heads = w->controls()->headsSpin();
    heads->setValue(3);  // d_model 8 is not divisible by 3
    QLabel* status = w->controls()->statusLabel();
    EXPECT_FALSE(status->isHidden());
    EXPECT_TRUE(status->text().contains("divisible")) << status->text().toStdString();
    EXPECT_TRUE(s->trace()) << "the last good picture stays";
    heads->setValue(4);
    EXPECT_TRUE(status->isHidden());
    ASSERT_TRUE(s->trace());
    EXPECT_EQ(s->trace()->layers[0].self_attention.heads.size(), 4u);
    QCoreApplication::processEvents();
    EXPECT_EQ(w->headGrid()->thumbs().size(), 2 * 4);
}

TEST_F(WindowTest, TemperatureZeroGivesAHardLookUp) {
    w->controls()->temperatureSlider()->setValue(0);
    ASSERT_TRUE(s->trace());
    const auto& A = s->trace()->layers[0].self_attention.heads[0].weights;
    for (int i = 0; i < A.rows(); ++i) EXPECT_FLOAT_EQ(A.row(i).maxCoeff(), 1.0f);
}

TEST_F(WindowTest, TranslationExampleSwitchesToSourceAndTarget) {
    QComboBox* ex = w->controls()->examplesCombo();
    int idx = -1;
    for (int i = 0; i < ex->count(); ++i)
        if (ex->itemText(i).contains("La bola es azul")) idx = i;
    ASSERT_GE(idx, 0);
    auto example = w->controls()->exampleAt(idx);
    ASSERT_TRUE(example);
    example->model.clear();  // the untrained model switches its kind (the model: below)
    w->controls()->loadExample(*example);
    s->waitForIdle();
    ASSERT_TRUE(s->trace()) << s->lastError().toStdString();
    EXPECT_TRUE(s->isSeq2Seq());
    EXPECT_FALSE(w->controls()->targetEdit()->isHidden());
    EXPECT_EQ(s->tokenLabels(true), (QStringList{"La", "bola", "es", "azul"}));
    goTo("D0.cross.weights");
    HeatmapView* map = w->stepView()->mainHeatmap();
    EXPECT_EQ(map->rowLabels(), (QStringList{"La", "bola", "es", "azul"}));
    EXPECT_EQ(map->colLabels(), (QStringList{"The", "ball", "is", "blue"}));
}

TEST_F(WindowTest, RussianAndChineseTokensAreLabels) {
    w->controls()->setSourceText("Чёрный кот пил молоко");
    s->runNow();
    goTo("L0.self.weights");
    EXPECT_EQ(w->stepView()->mainHeatmap()->rowLabels(),
              (QStringList{"Чёрный", "кот", "пил", "молоко"}));
    w->controls()->setSourceText("黑猫喝牛奶");
    s->runNow();
    QCoreApplication::processEvents();
    EXPECT_EQ(w->stepView()->mainHeatmap()->colLabels(),
              (QStringList{"黑", "猫", "喝", "牛", "奶"}));
}

TEST_F(WindowTest, LinesViewShowsOnlyTheHoveredTokensLines) {
    const int tab = w->tabIndex("Lines");
    ASSERT_GE(tab, 0);
    w->tabs()->setCurrentIndex(tab);
    auto* lines = qobject_cast<LinesView*>(w->tabView(tab));
    ASSERT_NE(lines, nullptr);
    QCoreApplication::processEvents();
    LinesCanvas* c = lines->canvas();
    ASSERT_TRUE(c->isVisible());
    c->repaint();
    const int all = c->drawnLines();
    EXPECT_GT(all, 6);
    c->setHover(0, 2);  // query "cat"
    c->repaint();
    EXPECT_GT(c->drawnLines(), 0);
    EXPECT_LE(c->drawnLines(), 6) << "one line per key at most";
    EXPECT_LT(c->drawnLines(), all);
    const QImage img = c->grab().toImage();
    EXPECT_GT(distinctColours(img), 20);
}

TEST_F(WindowTest, CompareTabShowsTwoHeads) {
    const int tab = w->tabIndex("Compare");
    ASSERT_GE(tab, 0);
    w->tabs()->setCurrentIndex(tab);
    auto* cmp = qobject_cast<CompareView*>(w->tabView(tab));
    ASSERT_NE(cmp, nullptr);
    QCoreApplication::processEvents();
    EXPECT_EQ(cmp->picker(0)->count(), 4);  // 2 layers × 2 heads
    cmp->picker(1)->setCurrentIndex(3);
    EXPECT_TRUE(
        cmp->right()->matrix().isApprox(s->trace()->layers[1].self_attention.heads[1].weights));
    EXPECT_TRUE(
        cmp->left()->matrix().isApprox(s->trace()->layers[0].self_attention.heads[0].weights));
    EXPECT_EQ(cmp->right()->rowLabels(), s->queryLabels());
}

TEST_F(WindowTest, EveryTabBuildsAndPaints) {
    for (int i = 0; i < w->tabs()->count(); ++i) {
        w->tabs()->setCurrentIndex(i);
        QCoreApplication::processEvents();
        QWidget* v = w->tabView(i);
        ASSERT_NE(v, nullptr) << w->tabs()->tabText(i).toStdString();
        const QImage img = w->tabs()->currentWidget()->grab().toImage();
        EXPECT_GT(distinctColours(img), 3) << w->tabs()->tabText(i).toStdString();
    }
}

TEST_F(WindowTest, PresentationModeScalesFontsAndComesBack) {
    const double before = QApplication::font().pointSizeF();
    w->setPresentationMode(true);
    EXPECT_TRUE(w->presentationMode());
    EXPECT_DOUBLE_EQ(s->fontScale(), 1.5);
    EXPECT_GT(QApplication::font().pointSizeF(), before);
    w->setPresentationMode(false);
    EXPECT_DOUBLE_EQ(s->fontScale(), 1.0);
    EXPECT_DOUBLE_EQ(QApplication::font().pointSizeF(), before);
}

TEST(StepView, FormulaHtmlUsesSubAndSuperscripts) {
    EXPECT_EQ(StepView::formulaHtml("S' = S / √d_k"), "S' = S / √d<sub>k</sub>");
    EXPECT_EQ(StepView::formulaHtml("a<b"), "a&lt;b");
    EXPECT_TRUE(StepView::formulaHtml("sin(t/10000^(2i/d))").contains("<sup>2i/d</sup>"));
    EXPECT_TRUE(StepView::formulaHtml("Q = X·W_Q").contains("W<sub>Q</sub>"));
}

TEST(HeatmapView, FormatsValuesForCells) {
    EXPECT_EQ(HeatmapView::formatValue(0.4213f), "0.42");
    EXPECT_EQ(HeatmapView::formatValue(-1.5f), "\u22121.50");
    EXPECT_EQ(HeatmapView::formatValue(-0.001f), "0.00");
    EXPECT_EQ(HeatmapView::formatValue(12.34f), "12.3");
    EXPECT_EQ(HeatmapView::formatValue(-std::numeric_limits<float>::infinity()), "\u2212\u221e");
}

TEST(HeatmapView, MaskedCellsAreGreyAndNumbersFit) {
    HeatmapView v;
    v.resize(500, 400);
    v.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
    Eigen::MatrixXf m(3, 3);
    const float ninf = -std::numeric_limits<float>::infinity();
    m << 1, ninf, ninf, 0.5f, 2, ninf, -1, 0, 3;
    v.setColorMap(ColorMapKind::Diverging);
    v.setMatrix(m, {"a", "b", "c"}, {"a", "b", "c"});
    v.plot()->replot();
    EXPECT_DOUBLE_EQ(v.rangeHigh(), 3.0);
    EXPECT_DOUBLE_EQ(v.rangeLow(), -3.0);
    EXPECT_TRUE(v.numbersFit());
    const QImage img = v.grab().toImage();
    // The top-right cell (row 0 = "a", key "c") is masked: grey.
    const double x = v.plot()->xAxis2->coordToPixel(2), y = v.plot()->yAxis->coordToPixel(0);
    const QColor grey = maskColor();
    bool found = false;
    for (int dx = -12; dx <= 12 && !found; ++dx)
        for (int dy = -12; dy <= 12 && !found; ++dy)
            if (QColor(img.pixel(int(x) + dx, int(y) + dy)) == grey) found = true;
    EXPECT_TRUE(found) << "masked cell drawn in the neutral grey";
    // The first query is on top: row 0 maps above row 2.
    EXPECT_LT(v.plot()->yAxis->coordToPixel(0), v.plot()->yAxis->coordToPixel(2));
    EXPECT_TRUE(v.cellTooltip(0, 1).contains("\u221e"));
}

TEST(WindowSettings, SentenceColourMapAndLayoutAreRemembered) {
    QByteArray state;
    {
        MainWindow w(nullptr, /*persistent=*/true);
        w.show();
        ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
        w.controls()->setSourceText("Remember this sentence");
        w.session()->runNow();
        w.session()->setColorMap(ColorMapKind::Cividis);
        w.tabs()->setCurrentIndex(1);
        state = w.saveState();
        w.close();  // closeEvent saves
    }
    MainWindow again(nullptr, /*persistent=*/true);
    again.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&again));
    again.session()->waitForIdle();
    EXPECT_EQ(again.controls()->sourceEdit()->toPlainText(), "Remember this sentence");
    EXPECT_EQ(again.session()->text(), "Remember this sentence");
    EXPECT_EQ(again.session()->colorMap(), ColorMapKind::Cividis);
    EXPECT_EQ(again.tabs()->currentIndex(), 1);
    EXPECT_EQ(again.saveState(), state);
}

TEST_F(WindowTest, CopyViewPutsAnImageOnTheClipboard) {
    goTo("L0.self.weights");
    QApplication::clipboard()->clear();
    w->copyView();
    const QImage img = QApplication::clipboard()->image();
    ASSERT_FALSE(img.isNull());
    EXPECT_GT(distinctColours(img), 20);
}

#include <QStandardItemModel>

#include "attn/formats/teaching_model.h"
#include "attn/open_model.h"

// Regression: a trained model has no weights for the general or additive score, and choosing
// one crashed the engine; the controls no longer offer them for such a model.
TEST_F(WindowTest, TrainedModelOffersOnlyTheScoresItHasWeightsFor) {
    auto model = attn::openModel("builtin:english");
    if (!model) GTEST_SKIP() << model.message();
    s->setModel(std::move(model.value()));
    ASSERT_TRUE(s->trace()) << s->lastError().toStdString();
    QComboBox* score = nullptr;
    for (QComboBox* c : w->controls()->findChildren<QComboBox*>())
        if (c->findData(static_cast<int>(attn::ScoreFunction::Additive)) >= 0 && c->count() == 5)
            score = c;  // the only combo with five entries, one of them "additive"
    ASSERT_NE(score, nullptr);
    auto* items = qobject_cast<QStandardItemModel*>(score->model());
    ASSERT_NE(items, nullptr);
    EXPECT_FALSE(
        items->item(score->findData(static_cast<int>(attn::ScoreFunction::General)))->isEnabled());
    EXPECT_FALSE(
        items->item(score->findData(static_cast<int>(attn::ScoreFunction::Additive)))->isEnabled());
    EXPECT_TRUE(
        items->item(score->findData(static_cast<int>(attn::ScoreFunction::Dot)))->isEnabled());
    // Behaviour controls still work on the trained weights.
    const attn::Model* before = s->model().get();
    w->controls()->temperatureSlider()->setValue(0);
    ASSERT_TRUE(s->trace());
    EXPECT_EQ(s->attention().temperature, 0.0f);
    EXPECT_EQ(s->trace()->attention.temperature, 0.0f);
    EXPECT_EQ(s->model().get(), before) << "a knob never replaces the model";
    EXPECT_EQ(s->model()->config.d_model, 64);
}

// Issue 9: every attention control of the panel, on a loaded model, runs the same model object
// with the same weight buffers; the trace shows what the control chose.
TEST_F(WindowTest, EveryAttentionControlKeepsTheLoadedModelsWeightBuffers) {
    auto model =
        attn::openModel(std::string(ATTN_SOURCE_DIR) + "/resources/models/english.safetensors");
    if (!model) GTEST_SKIP() << model.message();
    s->setModel(std::move(model.value()));
    ASSERT_TRUE(s->trace()) << s->lastError().toStdString();
    const attn::Model* before = s->model().get();
    const float* wq = before->weights.layers[0].self_attention.W_Q.data();
    auto same = [&](const char* what) {
        s->waitForIdle();
        ASSERT_TRUE(s->trace()) << what;
        EXPECT_TRUE(s->lastError().isEmpty()) << what << ": " << s->lastError().toStdString();
        EXPECT_EQ(s->model().get(), before) << what;
        EXPECT_EQ(s->trace()->model.get(), before) << what;
        EXPECT_EQ(s->model()->weights.layers[0].self_attention.W_Q.data(), wq) << what;
    };
    ControlsPanel* c = w->controls();
    auto choose = [](QComboBox* box, int value) { box->setCurrentIndex(box->findData(value)); };

    c->temperatureSlider()->setValue(10);
    same("temperature");
    EXPECT_FLOAT_EQ(s->trace()->attention.temperature, 0.1f);
    c->temperatureSlider()->setValue(100);
    c->scaleCheck()->setChecked(false);
    same("scale");
    EXPECT_FALSE(s->trace()->attention.scale);
    c->scaleCheck()->setChecked(true);
    choose(c->maskCombo(), static_cast<int>(attn::MaskKind::Causal));
    same("mask");
    EXPECT_EQ(s->trace()->attention.mask, attn::MaskKind::Causal);
    choose(c->scoreCombo(), static_cast<int>(attn::ScoreFunction::Cosine));
    same("score");
    EXPECT_EQ(s->trace()->attention.score, attn::ScoreFunction::Cosine);
    choose(c->projectionCombo(), static_cast<int>(attn::ProjectionMode::QK));
    same("projection");
    EXPECT_EQ(s->trace()->attention.projection, attn::ProjectionMode::QK);
    s->setDisabledHeads({{1, 0}});
    same("disabled heads");
    EXPECT_EQ(s->trace()->layers[1].self_attention.heads[0].output.cwiseAbs().maxCoeff(), 0.0f);
}

// --- issue 10: in front of a class -----------------------------------------------------------

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QDockWidget>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QStatusBar>
#include <QToolTip>
#include <filesystem>

#include "views/learn_view.h"
#include "views/prediction_view.h"
#include "views/translate_view.h"
#include "window/model_actions.h"

namespace {

bool builtinAvailable(const char* name) {
    return static_cast<bool>(attn::openModel(std::string("builtin:") + name));
}

// Every control that does something when used, visible in the panel.
QList<QWidget*> actionControls(QWidget* panel) {
    QList<QWidget*> out;
    for (QWidget* c : panel->findChildren<QWidget*>()) {
        const bool acts = qobject_cast<QAbstractButton*>(c) || qobject_cast<QComboBox*>(c) ||
                          qobject_cast<QAbstractSpinBox*>(c) || qobject_cast<QSlider*>(c) ||
                          qobject_cast<QPlainTextEdit*>(c);
        // Spin boxes' and combos' inner widgets belong to their box.
        if (acts && c->isVisibleTo(panel) && !qobject_cast<QAbstractSpinBox*>(c->parentWidget()))
            out << c;
    }
    return out;
}

// Pixels darker than a mid grey: how much text a widget shows in full strength.
int darkPixels(const QImage& img) {
    int n = 0;
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x) n += qGray(img.pixel(x, y)) < 60;
    return n;
}

}  // namespace

TEST_F(WindowTest, MinimumSizeFitsA1024x768ProjectorInBothModes) {
    for (bool presentation : {false, true}) {
        w->setPresentationMode(presentation);
        QCoreApplication::processEvents();
        QCoreApplication::processEvents();
        const QSize hint = w->minimumSizeHint();
        const QSize min = w->minimumSize();
        std::printf("[ measured ] minimum size hint %s: %d × %d\n",
                    presentation ? "presentation" : "normal", hint.width(), hint.height());
        EXPECT_LE(hint.width(), 1024) << "presentation " << presentation;
        EXPECT_LE(hint.height(), 700) << "presentation " << presentation;
        EXPECT_LE(min.width(), 1024);
        EXPECT_LE(min.height(), 700);
    }
    w->setPresentationMode(false);
}

TEST_F(WindowTest, EveryControlIsReachableAndUncutAt1024x768) {
    // A loaded model shows more controls (its "Untrained" button): the panel must widen.
    if (auto english = attn::openModel("builtin:english")) {
        s->setModel(std::move(english.value()));
        s->waitForIdle();
        QCoreApplication::processEvents();
    }
    for (bool presentation : {false, true}) {
        w->setPresentationMode(presentation);
        w->showNormal();  // the offscreen screen is smaller than a projector: size it by hand
        w->resize(1024, 768);
        QCoreApplication::processEvents();
        QCoreApplication::processEvents();
        ASSERT_LE(w->width(), 1024);
        ASSERT_LE(w->height(), 768);
        QScrollArea* scroll = w->controlsScroll();
        ASSERT_TRUE(scroll->isVisible());
        const QRect inWindow(scroll->mapTo(w.get(), QPoint(0, 0)), scroll->size());
        EXPECT_TRUE(w->rect().contains(inWindow)) << "the controls dock is inside the window";
        EXPECT_GT(scroll->viewport()->height(), 100);
        const QList<QWidget*> controls = actionControls(w->controls());
        EXPECT_GT(controls.size(), 12);
        for (QWidget* c : controls) {
            scroll->ensureWidgetVisible(c, 0, 0);
            QCoreApplication::processEvents();
            const QRect r(c->mapTo(scroll->viewport(), QPoint(0, 0)), c->size());
            EXPECT_TRUE(scroll->viewport()->rect().contains(r))
                << c->metaObject()->className() << " " << c->objectName().toStdString()
                << " presentation " << presentation;
            // Nothing cut short: a box is as wide as its text needs ("…" otherwise).
            if (auto* combo = qobject_cast<QComboBox*>(c);
                combo && combo != w->controls()->examplesCombo()) {
                EXPECT_GE(combo->width(), combo->sizeHint().width())
                    << combo->currentText().toStdString() << " presentation " << presentation;
            }
            if (auto* b = qobject_cast<QAbstractButton*>(c)) {
                EXPECT_GE(b->width(), b->sizeHint().width()) << b->text().toStdString();
            }
            // Nothing sticks out past the panel's right edge (it never scrolls sideways).
            EXPECT_LE(c->mapTo(w->controls(), QPoint(c->width(), 0)).x(),
                      scroll->viewport()->width())
                << c->metaObject()->className() << " presentation " << presentation;
        }
        QComboBox* ex = w->controls()->examplesCombo();
        EXPECT_GE(ex->width(), ex->fontMetrics().horizontalAdvance(ex->currentText()) + 30);
        EXPECT_FALSE(ex->currentText().contains(QStringLiteral("…")));
    }
    w->setPresentationMode(false);
}

TEST_F(WindowTest, PresentationModeKeepsDisabledControlsLookingDisabled) {
    w->setPresentationMode(true);
    const QPalette p = QApplication::palette();
    for (QPalette::ColorRole r : {QPalette::ButtonText, QPalette::WindowText, QPalette::Text})
        EXPECT_NE(p.color(QPalette::Disabled, r), p.color(QPalette::Active, r)) << int(r);
    // What a person sees: the same button, enabled and disabled.
    QPushButton on(QStringLiteral("Untrained")), off(QStringLiteral("Untrained"));
    off.setEnabled(false);
    for (QPushButton* b : {&on, &off}) b->resize(b->sizeHint());
    const int strong = darkPixels(on.grab().toImage());
    const int weak = darkPixels(off.grab().toImage());
    EXPECT_GT(strong, 20);
    EXPECT_LT(weak, strong / 4) << "disabled text must be grey, not black";
    w->setPresentationMode(false);
}

TEST_F(WindowTest, PresentationModeScalesMenusDocksStatusBarAndTooltips) {
    const double menu = w->menuBar()->font().pointSizeF();
    const double dock = w->controlsDock()->font().pointSizeF();
    const double status = w->statusBar()->font().pointSizeF();
    const double tip = QToolTip::font().pointSizeF();
    w->setPresentationMode(true);
    QCoreApplication::processEvents();
    EXPECT_GE(w->menuBar()->font().pointSizeF(), menu * 1.3);
    EXPECT_GE(w->menuBar()->actions().front()->menu()->font().pointSizeF(), menu * 1.3);
    EXPECT_GE(w->controlsDock()->font().pointSizeF(), dock * 1.3);
    EXPECT_GE(w->statusBar()->font().pointSizeF(), status * 1.3);
    EXPECT_GE(QToolTip::font().pointSizeF(), tip * 1.3);
    EXPECT_GE(w->controls()->dModelSpin()->font().pointSizeF(), dock * 1.3);
    w->setPresentationMode(false);
    QCoreApplication::processEvents();
    EXPECT_DOUBLE_EQ(w->menuBar()->font().pointSizeF(), menu);
    EXPECT_DOUBLE_EQ(QToolTip::font().pointSizeF(), tip);
}

TEST_F(WindowTest, ExamplesOpenTheirModelAndTarget) {
    if (!builtinAvailable("translation") || !builtinAvailable("english"))
        GTEST_SKIP() << "the shipped models are not built";
    w->modelActions()->setInteractive(false);
    QComboBox* ex = w->controls()->examplesCombo();
    auto pick = [&](const QString& title) {
        for (int i = 1; i < ex->count(); ++i) {
            if (ex->itemText(i).startsWith(title)) {
                emit ex->activated(i);  // as a click in the list does
                w->modelActions()->waitForIdle();
                s->waitForIdle();
                QCoreApplication::processEvents();
                return true;
            }
        }
        return false;
    };
    ASSERT_TRUE(pick(QStringLiteral("The ball is blue")));
    ASSERT_TRUE(s->model());
    EXPECT_TRUE(TranslateView::isTranslationModel(*s->model()));
    EXPECT_EQ(s->targetText(), QStringLiteral("La bola es azul"));
    EXPECT_EQ(w->controls()->targetEdit()->toPlainText(), QStringLiteral("La bola es azul"));
    EXPECT_EQ(s->text(), QStringLiteral("The ball is blue"));
    ASSERT_TRUE(s->trace());
    EXPECT_EQ(s->tokenLabels(true).back().toLower(), QStringLiteral("azul"))
        << s->tokenLabels(true).join("|").toStdString();
    EXPECT_EQ(ex->currentIndex(), 0) << "the box shows its prompt again";

    ASSERT_TRUE(pick(QStringLiteral("The black cat drank the milk")));
    EXPECT_TRUE(isMaskedWordModel(*s->model())) << "an English example opens the English model";
    EXPECT_EQ(s->text(), QStringLiteral("The black cat drank the milk"));

    ASSERT_TRUE(pick(QStringLiteral("Чёрный")));
    EXPECT_EQ(s->model()->config.vocab_size, 0) << "any script: the untrained model";
    EXPECT_EQ(s->tokenLabels(false).size(), 4) << s->tokenLabels(false).join("|").toStdString();
}

TEST_F(WindowTest, KindFollowsTheMask) {
    ControlsPanel* c = w->controls();
    QComboBox* arch = c->architectureCombo();
    arch->setCurrentIndex(arch->findData(static_cast<int>(attn::Architecture::Encoder)));
    QComboBox* mask = c->maskCombo();
    mask->setCurrentIndex(mask->findData(static_cast<int>(attn::MaskKind::None)));
    EXPECT_TRUE(c->kindText().contains(QStringLiteral("both ways"))) << c->kindText().toStdString();
    mask->setCurrentIndex(mask->findData(static_cast<int>(attn::MaskKind::Causal)));
    EXPECT_FALSE(c->kindText().contains(QStringLiteral("both ways")))
        << c->kindText().toStdString();
    EXPECT_TRUE(c->kindText().contains(QStringLiteral("only itself and the past")));
    EXPECT_TRUE(c->kindNote()->isVisible());
    EXPECT_EQ(c->kindNote()->text(), c->kindText().section(QStringLiteral(": "), 1));
}

TEST_F(WindowTest, EveryTabHasItsOwnShortcutShownInItsTooltip) {
    const QList<QAction*>& actions = w->tabShortcutActions();
    ASSERT_EQ(actions.size(), w->tabs()->count());
    QSet<QString> keys;
    for (int i = 0; i < actions.size(); ++i) {
        const QKeySequence key = actions[i]->shortcut();
        ASSERT_FALSE(key.isEmpty()) << i;
        keys.insert(key.toString());
        EXPECT_TRUE(w->tabs()->tabToolTip(i).contains(key.toString(QKeySequence::NativeText)))
            << w->tabs()->tabToolTip(i).toStdString();
    }
    EXPECT_EQ(keys.size(), w->tabs()->count()) << "no two tabs share a key";
    // The keys work: each brings its tab to the front.
    w->activateWindow();
    for (int i = w->tabs()->count() - 1; i >= 0; --i) {
        actions[i]->trigger();
        EXPECT_EQ(w->tabs()->currentIndex(), i);
    }
    QTest::keySequence(w.get(), QKeySequence(Qt::ALT | Qt::Key_3));
    EXPECT_EQ(w->tabs()->currentIndex(), 2);
    QTest::keySequence(w.get(), QKeySequence(Qt::CTRL | Qt::Key_PageDown));
    EXPECT_EQ(w->tabs()->currentIndex(), 3);
    QTest::keySequence(w.get(), QKeySequence(Qt::CTRL | Qt::Key_PageUp));
    EXPECT_EQ(w->tabs()->currentIndex(), 2);
}

TEST_F(WindowTest, OpenModelIsInOneMenuOnly) {
    int count = 0;
    std::function<void(QMenu*)> walk = [&](QMenu* m) {
        for (QAction* a : m->actions()) {
            if (a->menu()) walk(a->menu());
            if (a->text().remove(QLatin1Char('&')) == QStringLiteral("Open model…")) ++count;
        }
    };
    for (QAction* a : w->menuBar()->actions())
        if (a->menu()) walk(a->menu());
    EXPECT_EQ(count, 1);
}

TEST_F(WindowTest, StatusBarNamesTheStackAndSaysWhenTheModelIsAltered) {
    EXPECT_TRUE(w->statusText().contains(QStringLiteral("layer 1")))
        << w->statusText().toStdString();
    EXPECT_TRUE(w->alteredText().isEmpty());
    s->setDisabledHeads({{0, 0}, {0, 1}});
    s->waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_TRUE(w->alteredText().contains(QStringLiteral("2 heads switched off")))
        << w->alteredText().toStdString();
    EXPECT_TRUE(w->alteredText().contains(QStringLiteral("altered")));
    EXPECT_TRUE(w->windowTitle().contains(QStringLiteral("altered")));
    s->setDisabledHeads({});
    s->waitForIdle();
    EXPECT_TRUE(w->alteredText().isEmpty());

    // Two stacks: the status bar says which one.
    attn::ModelConfig c = s->config();
    c.architecture = attn::Architecture::EncoderDecoder;
    w->controls()->setTargetText(QStringLiteral("La bola es azul"));
    s->setConfig(c);
    s->waitForIdle();
    ASSERT_TRUE(s->isSeq2Seq());
    s->setHead(1, 0, /*decoder=*/true, /*cross=*/true);
    EXPECT_TRUE(w->statusText().contains(QStringLiteral("decoder layer 2 (cross-attention)")))
        << w->statusText().toStdString();
    s->setHead(1, 0, /*decoder=*/false, /*cross=*/false);
    EXPECT_TRUE(w->statusText().contains(QStringLiteral("encoder layer 2")))
        << w->statusText().toStdString();
    EXPECT_FALSE(w->statusText().contains(QStringLiteral("decoder")));
}

TEST_F(WindowTest, TranslateUsesTheMainSentence) {
    if (!builtinAvailable("translation")) GTEST_SKIP() << "the shipped models are not built";
    const int tab = w->tabIndex("Translate");
    ASSERT_GE(tab, 0);
    w->tabs()->setCurrentIndex(tab);
    auto* view = qobject_cast<TranslateView*>(w->tabView(tab));
    ASSERT_NE(view, nullptr);
    view->waitForModels();
    EXPECT_TRUE(view->findChildren<QLineEdit*>().isEmpty()) << "no sentence box of its own";
    typeSentence(QStringLiteral("the dog is red"));
    s->runNow();
    s->waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_EQ(view->source(), QStringLiteral("the dog is red"));
    EXPECT_FALSE(view->translationText().isEmpty());
    EXPECT_EQ(view->crossView()->colLabels(), (QStringList{"the", "dog", "is", "red"}));
    EXPECT_EQ(view->fillPanel()->sentence(), QStringLiteral("the dog is red"));
    EXPECT_EQ(view->fillPanel()->maskedText(), QStringLiteral("the dog is [MASK]"));
    // Its heatmap grows with presentation mode.
    QCustomPlot* plot = view->crossView()->plot();
    const double normal = plot->yAxis->labelFont().pointSizeF();
    w->setPresentationMode(true);
    QCoreApplication::processEvents();
    EXPECT_GT(plot->yAxis->labelFont().pointSizeF(), normal * 1.3);
    // At 1024×768 the two panels stack rather than run off the right edge.
    w->showNormal();
    w->resize(1024, 768);
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    auto* host = qobject_cast<QScrollArea*>(w->tabs()->widget(tab));
    ASSERT_NE(host, nullptr);
    EXPECT_LE(view->width(), host->viewport()->width());
    w->setPresentationMode(false);
}

TEST_F(WindowTest, PredictFillsTheMaskOnTheMainSentenceForTheEnglishModel) {
    auto english = attn::openModel("builtin:english");
    if (!english) GTEST_SKIP() << english.message();
    w->controls()->setSourceText(QStringLiteral("the cat drank the milk"));
    s->setModel(std::move(english.value()));
    s->waitForIdle();
    const int tab = w->tabIndex("Predict");
    w->tabs()->setCurrentIndex(tab);
    auto* view = qobject_cast<PredictionView*>(w->tabView(tab));
    ASSERT_NE(view, nullptr);
    QCoreApplication::processEvents();
    ASSERT_TRUE(view->showsFillMask()) << view->message().toStdString();
    FillMaskPanel* fill = view->fillPanel();
    EXPECT_EQ(fill->hideableWords(), (QStringList{"the", "cat", "drank", "the", "milk"}));
    EXPECT_EQ(fill->hiddenWord(), 4) << "the last word by default";
    EXPECT_EQ(fill->maskedText(), QStringLiteral("the cat drank the [MASK]"));
    const QStringList words = fill->words();
    ASSERT_EQ(words.size(), 5);
    const QVector<double> p = fill->probabilities();
    for (int i = 1; i < p.size(); ++i) EXPECT_GE(p[i - 1], p[i]) << "sorted by score";
    const QStringList drinks = {"milk", "water", "tea", "juice", "coffee"};
    EXPECT_TRUE(drinks.contains(words.front())) << words.front().toStdString();
    fill->setHiddenWord(1);
    EXPECT_EQ(fill->maskedText(), QStringLiteral("the [MASK] drank the milk"));
    EXPECT_FALSE(fill->words().isEmpty());
    EXPECT_TRUE(fill->isVisible());
    // The sentence follows the main box.
    typeSentence(QStringLiteral("the dog saw the ball"));
    s->runNow();
    s->waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_EQ(fill->sentence(), QStringLiteral("the dog saw the ball"));
}

TEST_F(WindowTest, PredictAppendsTheChosenTokenAndRunsAgain) {
    auto translation = attn::openModel("builtin:translation");
    if (!translation) GTEST_SKIP() << translation.message();
    w->controls()->setSourceText(QStringLiteral("the ball is blue"));
    w->controls()->setTargetText(QStringLiteral("la bola"));
    s->setModel(std::move(translation.value()));
    s->waitForIdle();
    const int tab = w->tabIndex("Predict");
    w->tabs()->setCurrentIndex(tab);
    auto* view = qobject_cast<PredictionView*>(w->tabView(tab));
    ASSERT_NE(view, nullptr);
    QCoreApplication::processEvents();
    ASSERT_TRUE(view->hasPrediction()) << view->message().toStdString();
    EXPECT_FALSE(view->showsFillMask());
    ASSERT_EQ(view->appendButtons().size(), view->topTokens().size());
    const QString next = view->predictedToken();
    EXPECT_EQ(next, QStringLiteral("es"));
    for (int i = 0; i < view->topTokens().size(); ++i) {
        const QString t = view->topTokens()[i];
        const bool marker = t.startsWith('[') || t.startsWith('<');
        EXPECT_EQ(view->appendButtons()[i]->isEnabled(), !marker) << t.toStdString();
    }
    const int before = static_cast<int>(s->tokenLabels(true).size());
    QTest::mouseClick(view->appendButtons().front(), Qt::LeftButton);
    s->waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_EQ(s->targetText(), QStringLiteral("la bola ") + next);
    EXPECT_EQ(w->controls()->targetEdit()->toPlainText(), s->targetText());
    EXPECT_EQ(static_cast<int>(s->tokenLabels(true).size()), before + 1);
    EXPECT_EQ(s->tokenLabels(true).back(), next) << "the new token is in the trace";
    // And on: one token at a time.
    ASSERT_FALSE(view->appendButtons().isEmpty());
    QTest::mouseClick(view->appendButtons().front(), Qt::LeftButton);
    s->waitForIdle();
    EXPECT_EQ(static_cast<int>(s->tokenLabels(true).size()), before + 2);
}

TEST_F(WindowTest, LearnIsWatchableByDefault) {
    const int tab = w->tabIndex("Learn");
    auto* view = qobject_cast<LearnView*>(w->tabView(tab));
    ASSERT_NE(view, nullptr);
    QCheckBox* slow = nullptr;
    for (QCheckBox* c : view->findChildren<QCheckBox*>())
        if (c->text() == QStringLiteral("Slow motion")) slow = c;
    ASSERT_NE(slow, nullptr);
    EXPECT_TRUE(slow->isChecked());
}

// Opening a model shows a bar with Cancel in the status bar for as long as it takes; Cancel
// there keeps the model shown.
TEST_F(WindowTest, OpeningAModelShowsProgressWithCancelInTheStatusBar) {
    auto* box = w->findChild<QWidget*>(QStringLiteral("loadProgressBox"));
    auto* cancel = w->findChild<QPushButton*>(QStringLiteral("cancelLoad"));
    ASSERT_TRUE(box && cancel);
    EXPECT_FALSE(box->isVisible());
    const auto before = s->model();
    const QString gguf = QString::fromStdString(
        (std::filesystem::path(ATTN_SOURCE_DIR) / "tests/data/models/gguf/llama-q8_0.gguf")
            .string());
    w->modelActions()->setInteractive(false);
    w->modelActions()->load(gguf);
    EXPECT_TRUE(box->isVisible());
    EXPECT_EQ(w->statusBar()->currentMessage(), QStringLiteral("Opening the model…"));
    QTest::mouseClick(cancel, Qt::LeftButton);
    w->modelActions()->waitForIdle();
    EXPECT_FALSE(box->isVisible());
    EXPECT_EQ(s->model(), before);
    EXPECT_TRUE(w->statusBar()->currentMessage().isEmpty()) << "no stale 'Opening…'";

    w->modelActions()->load(gguf);
    w->modelActions()->waitForIdle();
    EXPECT_FALSE(box->isVisible());
    EXPECT_EQ(s->model()->quantization, "Q8_0");
}

TEST_F(WindowTest, UnknownWordsAreMarkedAndTheWindowSaysWhichAndWhatHelps) {
    auto model = attn::openModel("builtin:english");
    if (!model) GTEST_SKIP() << model.message();
    s->setModel(std::move(model.value()));
    s->setText(QStringLiteral("the black cat drank the zorblax"));
    s->runNow();
    s->waitForIdle();
    ASSERT_TRUE(s->trace()) << s->lastError().toStdString();
    QCoreApplication::processEvents();
    goTo("L0.self.weights");
    const QStringList rows = w->stepView()->mainHeatmap()->rowLabels();
    EXPECT_TRUE(rows.contains("zorblax ?")) << rows.join(" | ").toStdString();
    EXPECT_TRUE(rows.contains("cat")) << "known words keep their plain label";
    auto* info = w->controls()->findChild<QLabel*>(QStringLiteral("runInfo"));
    ASSERT_NE(info, nullptr);
    EXPECT_TRUE(info->text().contains("zorblax")) << info->text().toStdString();
    EXPECT_TRUE(info->text().contains("[UNK]")) << info->text().toStdString();
    EXPECT_TRUE(info->text().contains("stories260K")) << "offers a model that reads any text";

    s->setText(QStringLiteral("the black cat drank the milk"));
    s->runNow();
    s->waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_FALSE(info->text().contains("[UNK]")) << "no note when every word is known";
}
