// The analysis views on "The black cat drank the milk": each renders something a person can see,
// and the numbers they print are the trace's.

#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QImage>
#include <QSet>
#include <QTest>
#include <cmath>
#include <numbers>

#include "attn/analysis.h"
#include "attn/positional_encoding.h"
#include "export/export.h"
#include "session/session.h"
#include "views/positional_view.h"
#include "views/qk_inside_view.h"
#include "views/scaling_view.h"
#include "views/value_sums_view.h"
#include "widgets/analysis_view_util.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {
namespace {

class ViewsTest : public ::testing::Test {
protected:
    void SetUp() override { run("The black cat drank the milk"); }
    void run(const char* text) {
        m_session.setText(QString::fromUtf8(text));
        m_session.runNow();
        m_session.waitForIdle();
        ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
    }
    void setConfig(const ModelConfig& c) {
        m_session.setConfig(c);
        m_session.waitForIdle();
        ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
    }
    Session m_session;
};

// Shows the widget, lets queued replots run, and grabs it.
QImage shown(QWidget& w) {
    w.resize(1000, 680);
    w.show();
    EXPECT_TRUE(QTest::qWaitForWindowExposed(&w));
    QCoreApplication::processEvents();
    return w.grab().toImage();
}

// Fraction of sampled pixels that differ from the most common colour, and how many colours.
void inkAndColours(const QImage& image, double* ink, int* colours) {
    QHash<QRgb, int> count;
    int total = 0;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2) {
            ++count[image.pixel(x, y)];
            ++total;
        }
    int most = 0;
    for (int c : count) most = std::max(most, c);
    *ink = total ? 1.0 - static_cast<double>(most) / total : 0.0;
    *colours = static_cast<int>(count.size());
}

void expectVisible(const QImage& image, const char* what) {
    ASSERT_FALSE(image.isNull()) << what;
    double ink = 0;
    int colours = 0;
    inkAndColours(image, &ink, &colours);
    EXPECT_GT(ink, 0.03) << what << ": almost a single colour";
    EXPECT_GT(colours, 12) << what;
}

TEST_F(ViewsTest, QkInsideRendersAndItsSumIsTheTraceScore) {
    QkInsideView view(&m_session);
    m_session.setQuery(2);  // cat
    m_session.setKey(5);    // milk
    expectVisible(shown(view), "QkInsideView");
    expectVisible(renderImage(view.exportTarget(), ImageOptions{}).value(), "QkInsideView export");

    const HeadTrace* head = m_session.focusedHead();
    ASSERT_NE(head, nullptr);
    const QkInsideView::Breakdown& b = view.breakdown();
    ASSERT_TRUE(b.valid);
    EXPECT_EQ(b.query, 2);
    EXPECT_EQ(b.key, 5);
    EXPECT_EQ(b.d_k, head->Q.cols());
    // The default score is the scaled dot product: Σ q_i k_i is the raw score.
    EXPECT_NEAR(b.dot, head->scores(2, 5), 1e-5f * std::max(1.0f, std::abs(head->scores(2, 5))));
    EXPECT_FLOAT_EQ(b.scaled, head->scaled(2, 5));
    EXPECT_FLOAT_EQ(b.weight, head->weights(2, 5));
    EXPECT_NEAR(b.scaled, b.dot / std::sqrt(static_cast<float>(b.d_k)), 1e-5f);
    // And the printed text says the same numbers.
    const QString text = view.summaryText();
    EXPECT_TRUE(text.contains(viewutil::formatNumber(head->scores(2, 5)))) << text.toStdString();
    EXPECT_TRUE(text.contains(viewutil::formatNumber(head->weights(2, 5)))) << text.toStdString();

    // The pickers move the session's focus.
    const auto pickers = view.findChildren<QComboBox*>();
    ASSERT_EQ(pickers.size(), 2);
    pickers[0]->setCurrentIndex(4);
    EXPECT_EQ(m_session.focus().query, 4);
    EXPECT_EQ(view.breakdown().query, 4);
    EXPECT_NEAR(view.breakdown().dot, head->scores(4, 5), 1e-4f);

    const LabelledMatrix m = view.exportMatrix();
    EXPECT_EQ(m.values.rows(), 3);
    EXPECT_EQ(m.values.cols(), b.d_k);
}

TEST_F(ViewsTest, QkInsideFollowsAnotherHead) {
    QkInsideView view(&m_session);
    shown(view);  // a hidden view waits until it is shown
    m_session.setHead(0, 1);
    m_session.setQuery(1);
    m_session.setKey(3);
    const HeadTrace* head = m_session.focusedHead();
    ASSERT_NE(head, nullptr);
    EXPECT_NEAR(view.breakdown().dot, head->scores(1, 3), 1e-4f);
}

TEST_F(ViewsTest, ValueSumsAddUpToTheHeadOutput) {
    ValueSumsView view(&m_session);
    m_session.setQuery(3);  // drank
    expectVisible(shown(view), "ValueSumsView");

    const HeadTrace* head = m_session.focusedHead();
    ASSERT_NE(head, nullptr);
    const Eigen::MatrixXf& c = view.contributions();  // (T_k + 1, d_v)
    ASSERT_EQ(c.rows(), 7);
    ASSERT_EQ(c.cols(), head->V.cols());
    // Σ_j α_j·v_j (the rows) is z, the trace's output row (the last row).
    const Eigen::RowVectorXf sum = c.topRows(6).colwise().sum();
    EXPECT_LT((sum - c.row(6)).cwiseAbs().maxCoeff(), 1e-5f);
    EXPECT_LT((c.row(6) - head->output.row(3)).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_NEAR(view.weights().sum(), 1.0f, 1e-5f);
    const Eigen::VectorXf expected = valueContributions(*head).row(3).transpose();
    EXPECT_LT((view.norms() - expected).cwiseAbs().maxCoeff(), 1e-6f);
    // ‖α_j·v_j‖ is the norm of each contribution row.
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(view.norms()(j), c.row(j).norm(), 1e-5f);
    EXPECT_EQ(view.heatmap()->rowLabels().size(), 7);
    EXPECT_EQ(view.heatmap()->rowLabels().front(), QStringLiteral("The"));
}

TEST_F(ViewsTest, PositionalViewShowsSinusoidsAndTheOffsetIdentity) {
    ModelConfig c = m_session.config();
    c.d_model = 16;
    c.n_heads = 2;
    c.positional = PositionalKind::Sinusoidal;
    setConfig(c);
    PositionalView view(&m_session);
    expectVisible(shown(view), "PositionalView waves");
    EXPECT_EQ(view.kind(), PositionalKind::Sinusoidal);
    for (auto p : {PositionalView::Page::Waves, PositionalView::Page::Table,
                   PositionalView::Page::Similarity, PositionalView::Page::Offset})
        EXPECT_TRUE(view.hasPage(p));
    EXPECT_FALSE(view.hasPage(PositionalView::Page::None));
    EXPECT_FALSE(view.waveDimensions().isEmpty());

    view.setPositions(40);
    const Eigen::MatrixXf pe = sinusoidalEncoding(40, 16, c.pe_base);
    ASSERT_EQ(view.tableHeatmap()->matrix().rows(), 40);
    EXPECT_LT((view.tableHeatmap()->matrix() - pe).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_TRUE(view.tableHeatmap()->rowLabels()[2].contains(QStringLiteral("cat")));
    EXPECT_LT((view.similarityHeatmap()->matrix() - positionSimilarity(pe)).cwiseAbs().maxCoeff(),
              1e-4f);

    view.setOffset(3, 7);
    EXPECT_LT(view.offsetMaxDifference(), 1e-5);
    const Eigen::MatrixXf v = view.offsetVectorsHeatmap()->matrix();  // (d, 3)
    ASSERT_EQ(v.rows(), 16);
    ASSERT_EQ(v.cols(), 3);
    EXPECT_LT((v.col(2).transpose() - sinusoidalEncoding(11, 16, c.pe_base).row(10))
                  .cwiseAbs()
                  .maxCoeff(),
              1e-6f);
    ASSERT_TRUE(view.showPage(PositionalView::Page::Offset));
    expectVisible(renderImage(view.exportTarget(), ImageOptions{}).value(), "offset page");
    ASSERT_TRUE(view.showPage(PositionalView::Page::Similarity));
    expectVisible(renderImage(view.exportTarget(), ImageOptions{}).value(), "similarity page");
    EXPECT_EQ(view.exportMatrix().values.rows(), 40);
}

TEST_F(ViewsTest, PositionalViewShowsRopeAnglesLearnedTablesAndNone) {
    ModelConfig c = m_session.config();
    c.positional = PositionalKind::Rope;
    setConfig(c);
    PositionalView view(&m_session);
    shown(view);  // a hidden view waits until it is shown
    EXPECT_EQ(view.kind(), PositionalKind::Rope);
    EXPECT_FALSE(view.hasPage(PositionalView::Page::Similarity));
    ASSERT_TRUE(view.showPage(PositionalView::Page::Table));
    const Eigen::MatrixXf& angles = view.tableHeatmap()->matrix();  // (P, d_head/2)
    const int dHead = c.headDim();
    ASSERT_EQ(angles.cols(), dHead / 2);
    // Shown wrapped to one turn.
    for (int t : {0, 5, 17, 40}) {
        for (int i = 0; i < dHead / 2; ++i) {
            const double a = ropeAngle(t, i, dHead, c.rope_theta);
            EXPECT_NEAR(angles(t, i), std::fmod(a, 2 * std::numbers::pi), 1e-4) << t << ", " << i;
        }
    }
    expectVisible(renderImage(view.exportTarget(), ImageOptions{}).value(), "RoPE angles");

    c.positional = PositionalKind::Learned;
    setConfig(c);
    EXPECT_EQ(view.kind(), PositionalKind::Learned);
    ASSERT_TRUE(view.showPage(PositionalView::Page::Table));
    const Eigen::MatrixXf& learned = m_session.model()->weights.position_embedding;
    if (learned.rows() > 0) {
        const Eigen::MatrixXf& shownTable = view.tableHeatmap()->matrix();
        ASSERT_GT(shownTable.rows(), 0);
        EXPECT_LT((shownTable - learned.topRows(shownTable.rows())).cwiseAbs().maxCoeff(), 1e-7f);
    }

    c.positional = PositionalKind::None;
    setConfig(c);
    EXPECT_TRUE(view.hasPage(PositionalView::Page::None));
    EXPECT_FALSE(view.hasPage(PositionalView::Page::Waves));
    EXPECT_EQ(view.currentPage(), PositionalView::Page::None);
}

TEST_F(ViewsTest, ScalingViewPlotsTheStudyAndMarksTheModel) {
    ScalingView view(&m_session);
    expectVisible(shown(view), "ScalingView");
    const ScalingStudy& s = view.study();
    ASSERT_FALSE(s.points.empty());
    EXPECT_GT(s.points.back().std_unscaled, 10 * s.points.back().std_scaled);
    const LabelledMatrix m = view.exportMatrix();
    EXPECT_EQ(m.values.rows(), static_cast<Eigen::Index>(s.points.size()));
    EXPECT_EQ(m.values.cols(), 6);
    view.setStudy(32, 7);
    EXPECT_EQ(view.study().options.keys, 32);
    EXPECT_NEAR(view.study().max_entropy, std::log(32.0), 1e-9);
}

TEST_F(ViewsTest, ViewsCopeWithNoTraceAndWithCyrillicAndCjk) {
    Session empty;
    QkInsideView a(&empty);
    ValueSumsView b(&empty);
    PositionalView c(&empty);
    ScalingView d(&empty);
    EXPECT_FALSE(a.breakdown().valid);
    EXPECT_EQ(b.contributions().size(), 0);

    run("Чёрный кот пил 牛奶");
    ValueSumsView view(&m_session);
    expectVisible(shown(view), "ValueSumsView with Cyrillic and CJK");
    EXPECT_TRUE(view.heatmap()->rowLabels().contains(QStringLiteral("кот")));
}

}  // namespace
}  // namespace attn::ui
