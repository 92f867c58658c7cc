// Attention during generation in the Predict tab: stories260K generates with the engine's
// key/value cache through the Session; the panel steps through the tokens and shows every
// head of the focused layer attending from the position that chose each token.

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QFile>
#include <filesystem>

#include "attn/generate.h"
#include "attn/open_model.h"
#include "session/session.h"
#include "views/generation_panel.h"
#include "views/prediction_view.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {
namespace {

namespace fs = std::filesystem;

std::string storiesPath() {
    const std::string shared = qEnvironmentVariableIsEmpty("ATTN_SHARED_DIR")
                                   ? std::string(ATTN_SHARED_DIR)
                                   : qEnvironmentVariable("ATTN_SHARED_DIR").toStdString();
    return (fs::path(shared) / "models" / "stories260K" / "stories260K.bin").string();
}

class GenerationPanelTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!QFile::exists(QString::fromStdString(storiesPath()))) {
            if (qgetenv("CI") == "true") FAIL() << "stories260K missing: " << storiesPath();
            GTEST_SKIP() << "stories260K not found at " << storiesPath()
                         << " — this check did NOT run";
        }
        auto m = openModel(storiesPath());
        ASSERT_TRUE(m) << m.message();
        model = std::move(m).value();
        session.setModel(model);
        session.setText(QStringLiteral("Once upon a time"));
        session.runNow();
        session.waitForIdle();
        ASSERT_TRUE(session.trace()) << session.lastError().toStdString();
    }

    std::shared_ptr<const Model> model;
    Session session;
};

TEST_F(GenerationPanelTest, GeneratesTheEnginesGreedyTextAndStepsThroughEveryHead) {
    GenerationPanel panel(&session);
    panel.resize(900, 600);
    panel.show();
    panel.setTokenCount(8);
    panel.setTemperature(0.0);
    panel.startGeneration();
    session.waitForGeneration();
    QCoreApplication::processEvents();
    ASSERT_TRUE(session.generation()) << session.generationError().toStdString();

    GenerateOptions opt;
    opt.max_new_tokens = 8;
    auto reference = generate(model, session.trace()->tokens, opt);
    ASSERT_TRUE(reference) << reference.message();
    const int n = static_cast<int>(reference.value().steps.size());
    ASSERT_GT(n, 0);
    EXPECT_EQ(panel.stepCount(), n);
    EXPECT_EQ(panel.generatedText(), QString::fromStdString(reference.value().text()));
    EXPECT_FALSE(panel.generatedText().isEmpty());
    EXPECT_TRUE(panel.status().contains("key/value cache")) << panel.status().toStdString();

    // The last token: stories260K's 8 heads over the prompt and the tokens before it.
    const int prompt = session.trace()->tokenCount();
    HeatmapView* map = panel.heatmap();
    EXPECT_EQ(panel.shownStep(), n - 1);
    EXPECT_EQ(map->matrix().rows(), model->config.n_heads);
    EXPECT_EQ(map->matrix().cols(), prompt + n - 1);
    for (int h = 0; h < map->matrix().rows(); ++h)
        EXPECT_NEAR(map->matrix().row(h).sum(), 1.0f, 1e-4f) << "head " << h;
    EXPECT_TRUE(map->rowLabels().front().contains("kv 1")) << "8 query heads share 4 kv heads";

    // The first token attends over the prompt only, and the picture follows the focused layer.
    panel.setShownStep(0);
    EXPECT_EQ(map->matrix().cols(), prompt);
    session.setHead(2, 5);
    QCoreApplication::processEvents();
    const RowVec& row = reference.value().steps[0].attention[2][5];
    for (int j = 0; j < prompt; ++j) EXPECT_NEAR(map->matrix()(5, j), row(j), 1e-6f);
    EXPECT_TRUE(map->title().contains("layer 3")) << map->title().toStdString();

    // The next-token bars fold away while a generation is shown, and come back without one.
    PredictionView predict(&session);
    predict.show();
    QCoreApplication::processEvents();
    EXPECT_FALSE(predict.bars()->isVisible()) << "the generation's heatmap gets the height";

    // Another sentence is another prompt: the generation goes with the old trace.
    session.setText(QStringLiteral("Lily went to the park"));
    session.runNow();
    session.waitForIdle();
    QCoreApplication::processEvents();
    EXPECT_EQ(panel.stepCount(), 0);
    EXPECT_TRUE(predict.bars()->isVisible());
}

TEST_F(GenerationPanelTest, TheSameSeedGivesTheSameSampledText) {
    GenerationPanel panel(&session);
    panel.show();  // a hidden view refreshes only when shown
    panel.setTokenCount(10);
    panel.setTemperature(1.0);
    panel.setSeed(7);
    panel.startGeneration();
    session.waitForGeneration();
    const QString first = panel.generatedText();
    panel.startGeneration();
    session.waitForGeneration();
    EXPECT_EQ(panel.generatedText(), first);
    panel.setSeed(8);
    panel.startGeneration();
    session.waitForGeneration();
    EXPECT_NE(panel.generatedText(), first) << "another seed draws other tokens";
}

}  // namespace
}  // namespace attn::ui
