// The model-facing widgets: the Model menu's loading (errors keep the old model), the next-token
// panel on stories260K, the head table that switches heads off, the rollout slider, "Watch it
// learn" (trains on a worker thread and closes cleanly mid-run) and translation mode.

#include <gtest/gtest.h>

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QMenu>
#include <QMimeData>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <cmath>
#include <filesystem>

#include "attn/formats/teaching_model.h"
#include "attn/train.h"
#include "session/session.h"
#include "views/head_summary_view.h"
#include "views/learn_view.h"
#include "views/prediction_view.h"
#include "views/rollout_view.h"
#include "views/translate_view.h"
#include "widgets/heatmap_view.h"
#include "window/model_actions.h"

namespace attn::ui {
namespace {

namespace fs = std::filesystem;

bool onCi() { return qgetenv("CI") == "true"; }

const fs::path kStoriesDir = fs::path(ATTN_SHARED_DIR) / "models" / "stories260K";
const QString kStories = QString::fromStdString((kStoriesDir / "stories260K.bin").string());

#define REQUIRE_STORIES()                                                            \
    do {                                                                             \
        if (!QFile::exists(kStories)) {                                              \
            if (onCi()) FAIL() << "stories260K missing: " << kStories.toStdString(); \
            GTEST_SKIP() << "stories260K not found at " << kStories.toStdString()    \
                         << " — this check did NOT run";                             \
        }                                                                            \
    } while (0)

#define REQUIRE_BUILTIN(name)                                                           \
    do {                                                                                \
        if (attn::builtinModelPath(name).empty()) {                                     \
            GTEST_SKIP() << "the shipped '" << name << "' model is not trained yet "    \
                         << "(not found in resources/models) — this check did NOT run"; \
        }                                                                               \
    } while (0)

void runText(Session& s, const char* text) {
    s.setText(QString::fromUtf8(text));
    s.runNow();
    s.waitForIdle();
}

// Shows a widget at a size, lets queued replots run, grabs it; saves it as name.png when
// ATTN_UI_SHOTS names a folder (to look at by eye).
QImage render(QWidget& w, const char* name, QSize size = {900, 600}) {
    w.resize(size);
    w.show();
    EXPECT_TRUE(QTest::qWaitForWindowExposed(&w));
    for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
    QImage image = w.grab().toImage();
    if (const QByteArray dir = qgetenv("ATTN_UI_SHOTS"); !dir.isEmpty())
        image.save(QDir(QString::fromLocal8Bit(dir)).filePath(QString::fromUtf8(name) + ".png"));
    return image;
}

// How many distinct colours a sample of the image has (a blank widget has one or two).
int colourCount(const QImage& image) {
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
    return static_cast<int>(colours.size());
}

// --- ModelActions ----------------------------------------------------------------------------

class ModelActionsTest : public ::testing::Test {
protected:
    void SetUp() override {
        runText(m_session, "the cat sat on the mat");
        ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
        m_actions = std::make_unique<ModelActions>(&m_session, &m_window);
        m_actions->setInteractive(false);
        m_actions->clearRecentModels();
    }
    QString corruptFile() {
        const QString path = m_dir.filePath(QStringLiteral("corrupt.bin"));
        QFile f(path);
        EXPECT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("this is not a model, just a few bytes of text");
        return path;
    }
    QTemporaryDir m_dir;
    Session m_session;
    QWidget m_window;
    std::unique_ptr<ModelActions> m_actions;
};

TEST_F(ModelActionsTest, CorruptFileReportsAnErrorAndTheSessionKeepsItsModel) {
    const auto before = m_session.model();
    QSignalSpy errors(m_actions.get(), &ModelActions::errorOccurred);
    QSignalSpy loading(m_actions.get(), &ModelActions::loadingChanged);
    QSignalSpy loaded(m_actions.get(), &ModelActions::modelLoaded);
    m_actions->load(corruptFile());
    EXPECT_TRUE(m_actions->isLoading());
    m_actions->waitForIdle();
    ASSERT_EQ(errors.count(), 1);
    const QString message = errors.front().front().toString();
    EXPECT_TRUE(message.contains(QStringLiteral("corrupt.bin"))) << message.toStdString();
    EXPECT_EQ(loaded.count(), 0);
    EXPECT_EQ(m_session.model(), before);
    ASSERT_EQ(loading.count(), 2);
    EXPECT_TRUE(loading[0][0].toBool());
    EXPECT_FALSE(loading[1][0].toBool());
    EXPECT_FALSE(m_actions->isLoading());
    EXPECT_TRUE(m_actions->recentModels().isEmpty()) << "a failed load is not a recent model";
}

// A quantized GGUF model from the committed test models (qwen3 layout, Q4_K weights).
QString tinyGguf() {
    return QString::fromStdString(
        (fs::path(ATTN_SOURCE_DIR) / "tests/data/models/gguf/qwen3-q4_k.gguf").string());
}

TEST_F(ModelActionsTest, OpeningReportsProgressAndEndsAtOne) {
    QSignalSpy progress(m_actions.get(), &ModelActions::loadProgress);
    QSignalSpy loaded(m_actions.get(), &ModelActions::modelLoaded);
    m_actions->load(tinyGguf());
    m_actions->waitForIdle();
    ASSERT_EQ(loaded.count(), 1);
    EXPECT_EQ(m_session.model()->quantization, "Q4_K_S");  // as its general.file_type says
    ASSERT_GE(progress.count(), 1);
    EXPECT_EQ(progress.front().front().toDouble(), 0.0) << "a new load starts the bar at 0";
    EXPECT_EQ(m_actions->loadFraction(), 1.0);
}

TEST_F(ModelActionsTest, CancelKeepsTheModelShownAndSaysNothing) {
    const auto before = m_session.model();
    QSignalSpy errors(m_actions.get(), &ModelActions::errorOccurred);
    QSignalSpy loaded(m_actions.get(), &ModelActions::modelLoaded);
    QSignalSpy loading(m_actions.get(), &ModelActions::loadingChanged);
    m_actions->load(tinyGguf());
    m_actions->cancelLoad();
    m_actions->waitForIdle();
    EXPECT_EQ(m_session.model(), before) << "Cancel keeps the model that was shown";
    EXPECT_EQ(errors.count(), 0) << "a cancel the user asked for is not an error";
    EXPECT_EQ(loaded.count(), 0);
    ASSERT_EQ(loading.count(), 2);
    EXPECT_FALSE(m_actions->isLoading());
    EXPECT_TRUE(m_actions->recentModels().isEmpty());
    // The same file opens when asked again.
    m_actions->load(tinyGguf());
    m_actions->waitForIdle();
    EXPECT_EQ(loaded.count(), 1);
    EXPECT_NE(m_session.model(), before);
}

TEST_F(ModelActionsTest, MissingPathNamesIt) {
    QSignalSpy errors(m_actions.get(), &ModelActions::errorOccurred);
    m_actions->load(m_dir.filePath(QStringLiteral("nowhere/model.bin")));
    m_actions->waitForIdle();
    ASSERT_EQ(errors.count(), 1);
    EXPECT_TRUE(errors.front().front().toString().contains(QStringLiteral("nowhere")));
}

TEST_F(ModelActionsTest, DroppingAFileOnTheWindowLoadsIt) {
    QSignalSpy errors(m_actions.get(), &ModelActions::errorOccurred);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(corruptFile())});
    QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&m_window, &enter);
    EXPECT_TRUE(enter.isAccepted());
    QDropEvent drop(QPointF(5, 5), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&m_window, &drop);
    m_actions->waitForIdle();
    EXPECT_EQ(errors.count(), 1) << "the drop started a load (of a corrupt file)";

    QMimeData text;
    text.setText(QStringLiteral("just words"));
    QDragEnterEvent textEnter(QPoint(5, 5), Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
    textEnter.ignore();
    QApplication::sendEvent(&m_window, &textEnter);
    EXPECT_FALSE(textEnter.isAccepted()) << "only files and folders are accepted";
}

TEST_F(ModelActionsTest, MenuHasTheModelChoices) {
    QStringList texts;
    for (QAction* a : m_actions->menu()->actions()) texts << a->text();
    for (const char* want : {"Trained: English (masked words)", "Trained: English → Spanish",
                             "Untrained (random)", "&Open model…", "&Recent models"})
        EXPECT_TRUE(texts.contains(QString::fromUtf8(want))) << want;
    m_actions->menu()->adjustSize();
    const QImage image = m_actions->menu()->grab().toImage();
    if (const QByteArray dir = qgetenv("ATTN_UI_SHOTS"); !dir.isEmpty())
        image.save(QDir(QString::fromLocal8Bit(dir)).filePath(QStringLiteral("model_menu.png")));
    EXPECT_GT(colourCount(image), 2);
}

TEST_F(ModelActionsTest, OnThisComputerListsTheHuggingFaceCacheAndRecentFilesAndOpensThem) {
    REQUIRE_STORIES();
    // A Hugging Face cache with one Llama snapshot (config only: listed, described by its
    // config.json) and no Ollama store.
    const QString hub = m_dir.filePath(QStringLiteral("hub"));
    const QString snapshot = hub + QStringLiteral("/models--acme--tiny-llama/snapshots/abc123");
    ASSERT_TRUE(QDir().mkpath(snapshot));
    {
        QFile config(snapshot + QStringLiteral("/config.json"));
        ASSERT_TRUE(config.open(QIODevice::WriteOnly));
        config.write(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                         "torch_dtype": "bfloat16"})");
    }
    const QByteArray oldHub = qgetenv("HF_HUB_CACHE"), oldOllama = qgetenv("OLLAMA_MODELS");
    qputenv("HF_HUB_CACHE", hub.toLocal8Bit());
    qputenv("OLLAMA_MODELS", m_dir.filePath(QStringLiteral("no-ollama")).toLocal8Bit());
    m_actions->load(kStories);  // a recent file
    m_actions->waitForIdle();
    m_actions->discover();
    m_actions->waitForDiscovery();
    qputenv("HF_HUB_CACHE", oldHub);
    qputenv("OLLAMA_MODELS", oldOllama);
    if (oldHub.isEmpty()) qunsetenv("HF_HUB_CACHE");
    if (oldOllama.isEmpty()) qunsetenv("OLLAMA_MODELS");

    QStringList texts;
    QAction* stories = nullptr;
    for (QAction* a : m_actions->computerMenu()->actions()) {
        texts << a->text();
        if (a->text().startsWith(QStringLiteral("stories260K"))) stories = a;
    }
    const QString joined = texts.join(QStringLiteral(" | "));
    EXPECT_TRUE(joined.contains(QStringLiteral("acme/tiny-llama — LlamaForCausalLM · bfloat16")))
        << joined.toStdString();
    EXPECT_TRUE(texts.contains(QStringLiteral("Hugging Face cache"))) << "a section per place";
    EXPECT_TRUE(texts.contains(QStringLiteral("Recent files"))) << joined.toStdString();
    ASSERT_NE(stories, nullptr) << joined.toStdString();
    EXPECT_TRUE(stories->text().contains(QStringLiteral("llama"))) << stories->text().toStdString();

    m_actions->useUntrained();
    QSignalSpy loaded(m_actions.get(), &ModelActions::modelLoaded);
    stories->trigger();
    m_actions->waitForIdle();
    ASSERT_EQ(loaded.count(), 1);
    EXPECT_EQ(m_session.model()->config.n_kv_heads, 4) << "stories260K is open again";
}

TEST_F(ModelActionsTest, LoadsStories260KAndPredictsTheNextToken) {
    REQUIRE_STORIES();
    PredictionView prediction(&m_session);
    prediction.show();  // a hidden view waits until it is shown
    EXPECT_FALSE(prediction.hasPrediction()) << "the untrained model has no LM head";
    QSignalSpy loaded(m_actions.get(), &ModelActions::modelLoaded);
    QSignalSpy errors(m_actions.get(), &ModelActions::errorOccurred);
    m_actions->load(kStories);
    m_actions->waitForIdle();
    ASSERT_EQ(errors.count(), 0) << errors.front().front().toString().toStdString();
    ASSERT_EQ(loaded.count(), 1);
    ASSERT_TRUE(m_session.model());
    EXPECT_EQ(m_session.model()->config.architecture, attn::Architecture::Decoder);
    EXPECT_EQ(m_actions->recentModels().value(0), QFileInfo(kStories).absoluteFilePath());

    runText(m_session, "Once upon a time, there was a little");
    ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
    ASSERT_TRUE(prediction.hasPrediction()) << prediction.message().toStdString();
    EXPECT_FALSE(prediction.predictedToken().trimmed().isEmpty());
    const QVector<double> p = prediction.topProbabilities();
    ASSERT_EQ(p.size(), 5);
    for (int i = 1; i < p.size(); ++i) EXPECT_GE(p[i - 1], p[i]);
    double sum = 0;
    for (double x : p) sum += x;
    EXPECT_GT(p[0], 0.0);
    EXPECT_LE(sum, 1.0 + 1e-5);
    // The token is the tokenizer's text for the arg-max of the last logits row.
    Eigen::Index best = 0;
    m_session.trace()->logits.row(m_session.trace()->logits.rows() - 1).maxCoeff(&best);
    EXPECT_EQ(prediction.predictedToken().toStdString(),
              m_session.model()->tokenizer->decode(static_cast<int>(best)));
    const QImage image = render(prediction, "prediction_view", {420, 300});
    EXPECT_GT(colourCount(image), 8);

    // Switching every head of the last layer off changes the scores the prediction comes from.
    const Eigen::RowVectorXf before =
        m_session.trace()->logits.row(m_session.trace()->logits.rows() - 1);
    std::vector<std::pair<int, int>> off;
    const int last = m_session.model()->config.n_layers - 1;
    for (int h = 0; h < m_session.model()->config.n_heads; ++h) off.emplace_back(last, h);
    QSignalSpy changed(&prediction, &PredictionView::predictionChanged);
    m_session.setDisabledHeads(off);
    m_session.waitForIdle();
    EXPECT_GE(changed.count(), 1);
    const Eigen::RowVectorXf after =
        m_session.trace()->logits.row(m_session.trace()->logits.rows() - 1);
    EXPECT_GT((after - before).cwiseAbs().maxCoeff(), 1e-3f);
    EXPECT_TRUE(prediction.hasPrediction());

    // One click back to the untrained model.
    m_actions->useUntrained();
    m_session.waitForIdle();
    EXPECT_EQ(m_session.model()->config.vocab_size, 0);
    EXPECT_FALSE(prediction.hasPrediction());
}

TEST(ModelActionsDefault, OpensOnTheTrainedModelWhenThereIsOne) {
    const auto model = ModelActions::defaultModel();
    ASSERT_TRUE(model);
    if (!attn::builtinModelPath("english").empty()) {
        EXPECT_TRUE(model->config.has_lm_head);
        EXPECT_GE(model->mask_id, 0);
    } else {
        EXPECT_EQ(model->config.vocab_size, 0) << "falls back to the untrained model";
    }
}

// --- HeadSummaryView -------------------------------------------------------------------------

class HeadSummaryTest : public ::testing::Test {
protected:
    void SetUp() override {
        attn::ModelConfig c;
        c.d_model = 16;
        c.n_heads = 4;
        c.n_layers = 3;
        m_session.setConfig(c);
        runText(m_session, "the black cat drank the milk");
        ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
    }
    int rowOf(const HeadSummaryView& v, int layer, int head) {
        QAbstractItemModel* proxy = v.table()->model();
        for (int r = 0; r < proxy->rowCount(); ++r) {
            if (proxy->index(r, HeadSummaryModel::Layer).data().toInt() == layer + 1 &&
                proxy->index(r, HeadSummaryModel::Head).data().toInt() == head + 1)
                return r;
        }
        return -1;
    }
    Session m_session;
};

TEST_F(HeadSummaryTest, OneRowPerLayerAndHeadWithTheEngineNumbers) {
    HeadSummaryView view(&m_session);
    ASSERT_EQ(view.table()->model()->rowCount(), 3 * 4);
    const auto summaries = attn::summarizeHeads(*m_session.trace());
    const int r = rowOf(view, 1, 2);
    ASSERT_GE(r, 0);
    const auto& s = summaries[1 * 4 + 2];
    EXPECT_NEAR(view.table()
                    ->model()
                    ->index(r, HeadSummaryModel::PreviousToken)
                    .data(Qt::UserRole)
                    .toDouble(),
                s.previous_token, 1e-6);
    EXPECT_NEAR(
        view.table()->model()->index(r, HeadSummaryModel::Entropy).data(Qt::UserRole).toDouble(),
        s.entropy, 1e-6);
    EXPECT_EQ(
        view.table()->model()->index(r, HeadSummaryModel::On).data(Qt::CheckStateRole).toInt(),
        Qt::Checked);
    const QImage image = render(view, "head_summary_view", {560, 420});
    EXPECT_GT(colourCount(image), 8);
}

TEST_F(HeadSummaryTest, UncheckingAHeadSwitchesItOffInTheSession) {
    HeadSummaryView view(&m_session);
    const Mat laterBefore = m_session.trace()->layers[2].input;
    const int r = rowOf(view, 1, 2);
    ASSERT_GE(r, 0);
    QAbstractItemModel* proxy = view.table()->model();
    ASSERT_TRUE(
        proxy->setData(proxy->index(r, HeadSummaryModel::On), Qt::Unchecked, Qt::CheckStateRole));
    m_session.waitForIdle();
    ASSERT_EQ(m_session.disabledHeads().size(), 1u);
    EXPECT_EQ(m_session.disabledHeads()[0], std::make_pair(1, 2));
    const attn::TracePtr t = m_session.trace();
    const attn::HeadTrace& off = t->layers[1].self_attention.heads[2];
    EXPECT_FALSE(off.enabled);
    EXPECT_TRUE(off.output.isZero()) << "largest |output| " << off.output.cwiseAbs().maxCoeff();
    EXPECT_FALSE(t->layers[1].self_attention.heads[1].output.isZero());
    EXPECT_GT((t->layers[2].input - laterBefore).cwiseAbs().maxCoeff(), 1e-5f)
        << "later layers see the change";
    // The table follows the new trace and still shows the head as off.
    const int r2 = rowOf(view, 1, 2);
    EXPECT_EQ(proxy->index(r2, HeadSummaryModel::On).data(Qt::CheckStateRole).toInt(),
              Qt::Unchecked);
    // And back on.
    ASSERT_TRUE(
        proxy->setData(proxy->index(r2, HeadSummaryModel::On), Qt::Checked, Qt::CheckStateRole));
    m_session.waitForIdle();
    EXPECT_TRUE(m_session.disabledHeads().empty());
    EXPECT_FALSE(m_session.trace()->layers[1].self_attention.heads[2].output.isZero());
}

TEST_F(HeadSummaryTest, FilterSortAndDoubleClick) {
    HeadSummaryView view(&m_session);
    QAbstractItemModel* proxy = view.table()->model();
    view.setFilterText(QStringLiteral("layer 2"));
    ASSERT_EQ(proxy->rowCount(), 4);
    for (int r = 0; r < 4; ++r)
        EXPECT_EQ(proxy->index(r, HeadSummaryModel::Layer).data().toInt(), 2);
    view.setFilterText(QStringLiteral("layer 2, head 3"));
    EXPECT_EQ(proxy->rowCount(), 1);
    view.setFilterText(QStringLiteral("prev > 1.5"));
    EXPECT_EQ(proxy->rowCount(), 0) << "a share is never above 1";
    view.setFilterText(QStringLiteral("entropy >= 0"));
    EXPECT_EQ(proxy->rowCount(), 12);
    view.setFilterText(QStringLiteral("colour blue"));
    EXPECT_FALSE(view.proxy()->error().isEmpty());
    EXPECT_EQ(proxy->rowCount(), 12) << "an unreadable filter hides nothing";
    view.setFilterText(QString());

    view.table()->sortByColumn(HeadSummaryModel::PreviousToken, Qt::DescendingOrder);
    for (int r = 1; r < proxy->rowCount(); ++r)
        EXPECT_GE(
            proxy->index(r - 1, HeadSummaryModel::PreviousToken).data(Qt::UserRole).toDouble(),
            proxy->index(r, HeadSummaryModel::PreviousToken).data(Qt::UserRole).toDouble());

    const int r = rowOf(view, 2, 1);
    ASSERT_GE(r, 0);
    emit view.table()->doubleClicked(proxy->index(r, HeadSummaryModel::Self));
    EXPECT_EQ(m_session.focus().layer, 2);
    EXPECT_EQ(m_session.focus().head, 1);
}

// --- RolloutView -----------------------------------------------------------------------------

TEST_F(HeadSummaryTest, RolloutSliderShowsEachLayer) {
    RolloutView view(&m_session);
    const QImage image = render(view, "rollout_view", {620, 560});
    ASSERT_EQ(view.layerCount(), 3);
    const std::vector<Mat> rollout = attn::attentionRollout(*m_session.trace());
    EXPECT_EQ(view.layer(), 2) << "starts at the top layer";
    EXPECT_TRUE(view.heatmap()->matrix().isApprox(rollout[2]));
    view.setLayer(0);
    EXPECT_TRUE(view.heatmap()->matrix().isApprox(rollout[0]));
    EXPECT_EQ(view.heatmap()->rowLabels().value(1), QStringLiteral("black"));
    EXPECT_GT(colourCount(image), 8);
}

// --- LearnView -------------------------------------------------------------------------------

TEST(LearnViewTest, TrainsOnAWorkerAndTheLossCurveGrows) {
    Session session;
    LearnView view(&session);
    view.setCorpus(attn::CorpusKind::English);
    view.setTotalSteps(30);
    view.setBatchSize(8);
    view.setSnapshotEvery(5);
    QSignalSpy states(&view, &LearnView::stateChanged);
    view.start();
    EXPECT_EQ(view.state(), LearnView::State::Running);
    QTRY_VERIFY_WITH_TIMEOUT(view.state() == LearnView::State::Finished, 60000);
    EXPECT_EQ(view.lossPointCount(), 30);
    EXPECT_EQ(view.stepsDone(), 30);
    ASSERT_TRUE(view.latestSnapshot().model);
    ASSERT_TRUE(view.latestSnapshot().probe) << view.latestSnapshot().probe_error.toStdString();
    // One heatmap per head of the chosen layer, showing the probe's 6 words.
    ASSERT_EQ(view.headViews().size(), view.latestSnapshot().model->config.n_heads);
    EXPECT_EQ(view.headViews().front()->matrix().rows(), 6);
    EXPECT_EQ(view.headViews().front()->rowLabels().value(2), QStringLiteral("cat"));
    EXPECT_TRUE(view.headViews().front()->matrix().isApprox(
        view.latestSnapshot().probe->layers[0].self_attention.heads[0].weights));

    QSignalSpy used(&view, &LearnView::modelUsed);
    view.useModel();
    EXPECT_EQ(used.count(), 1);
    EXPECT_EQ(session.model(), view.latestSnapshot().model);
    const QImage image = render(view, "learn_view", {1000, 640});
    EXPECT_GT(colourCount(image), 8);
}

TEST(LearnViewTest, PausesAndClosesCleanlyMidTraining) {
    auto* view = new LearnView(nullptr);
    view->setCorpus(attn::CorpusKind::Translation);
    view->setTotalSteps(100000);
    view->setBatchSize(4);
    view->start();
    QTRY_VERIFY_WITH_TIMEOUT(view->lossPointCount() > 3, 30000);
    view->pause();
    EXPECT_EQ(view->state(), LearnView::State::Paused);
    // The step in flight lands, then the worker says it waits.
    QTRY_VERIFY_WITH_TIMEOUT(view->pausedAtStep() >= 0, 30000);
    const int points = view->lossPointCount();
    EXPECT_EQ(points, view->pausedAtStep()) << "every loss up to the pause is on the curve";
    render(*view, "learn_view_translation", {1000, 640});
    QTest::qWait(300);
    EXPECT_EQ(view->lossPointCount(), points) << "no steps while paused";
    view->start();  // resume
    EXPECT_EQ(view->state(), LearnView::State::Running);
    QTRY_VERIFY_WITH_TIMEOUT(view->lossPointCount() > points, 30000);
    delete view;  // joins the worker while it trains; a crash or hang fails the test
    SUCCEED();
}

TEST(LearnViewTest, ResetForgetsTheRun) {
    LearnView view(nullptr);
    view.setTotalSteps(20);
    view.setBatchSize(4);
    view.start();
    QTRY_VERIFY_WITH_TIMEOUT(view.state() == LearnView::State::Finished, 60000);
    EXPECT_GT(view.lossPointCount(), 0);
    view.reset();
    EXPECT_EQ(view.state(), LearnView::State::Idle);
    EXPECT_EQ(view.lossPointCount(), 0);
    EXPECT_FALSE(view.latestSnapshot().model);
}

// --- TranslateView ---------------------------------------------------------------------------

TEST(TranslateViewTest, TranslatesWithTheShippedModelAndShowsCrossAttention) {
    REQUIRE_BUILTIN("translation");
    TranslateView view(nullptr);
    view.waitForModels();
    view.setSource(QStringLiteral("the ball is blue"));
    EXPECT_EQ(view.translationText(), QStringLiteral("la bola es azul"));
    ASSERT_TRUE(view.translation());
    const Eigen::MatrixXf& A = view.crossView()->matrix();
    EXPECT_EQ(A.rows(), static_cast<Eigen::Index>(view.translation()->outputs.size()));
    EXPECT_EQ(A.cols(), 4);
    EXPECT_EQ(view.crossView()->colLabels(), (QStringList{"the", "ball", "is", "blue"}));
    EXPECT_EQ(view.crossView()->rowLabels().value(1), QStringLiteral("bola"));
    // The mean of the heads is what is drawn by default, rows sum to 1.
    for (int r = 0; r < A.rows(); ++r) EXPECT_NEAR(A.row(r).sum(), 1.0f, 1e-4f);
    view.setCrossHead(0, 1);
    EXPECT_TRUE(view.crossView()->matrix().isApprox(view.translation()->cross_attention[0][1]));

    view.setSource(QStringLiteral("the zebra is blue"));
    EXPECT_TRUE(view.crossView()->colLabels().contains(QStringLiteral("[UNK]")));
    const QImage image = render(view, "translate_view", {1100, 560});
    EXPECT_GT(colourCount(image), 8);
}

TEST(TranslateViewTest, FillsTheMaskWithTheEnglishModel) {
    REQUIRE_BUILTIN("english");
    TranslateView view(nullptr);
    view.waitForModels();
    view.setMaskText(QStringLiteral("the cat drank the [MASK]"));
    const QStringList words = view.maskWords();
    const QVector<double> p = view.maskProbabilities();
    ASSERT_EQ(words.size(), 5);
    for (int i = 1; i < p.size(); ++i) EXPECT_GE(p[i - 1], p[i]);
    const QStringList drinks = {"milk", "water", "tea", "juice", "coffee"};
    EXPECT_TRUE(drinks.contains(words.front())) << words.front().toStdString();
}

TEST(TranslateViewTest, FollowsATranslationModelInTheSession) {
    // An untrained teaching model is enough to check which model the view uses.
    auto model = attn::makeTeachingModel(
        attn::CorpusKind::Translation, attn::defaultModelConfig(attn::CorpusKind::Translation), 7);
    ASSERT_TRUE(model) << model.message();
    Session session;
    session.setText(QStringLiteral("the ball is blue"));  // the view translates the main sentence
    TranslateView view(&session);
    view.show();  // a hidden view follows the session when it is shown
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&view));
    view.waitForModels();
    std::shared_ptr<const attn::Model> mine = std::move(model.value());
    session.setModel(mine);
    session.waitForIdle();
    EXPECT_EQ(view.translationModel(), mine);
    ASSERT_TRUE(view.translation()) << "an untrained model still writes something";
    EXPECT_EQ(view.crossView()->matrix().cols(), 4);
}

}  // namespace
}  // namespace attn::ui
