// One score taken apart: q, k, q∘k, and what scaling, mask and softmax made of it.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "attn/model.h"
#include "attn/score_breakdown.h"
#include "attn/trace.h"

using namespace attn;

namespace {
// d_k = 2. Q = [[1, 2], [0, 1]], K = [[3, −1], [2, 2]] → scores Q·Kᵀ = [[1, 6], [−1, 2]].
HeadTrace handHead() {
    HeadTrace h;
    h.Q = Mat(2, 2);
    h.Q << 1, 2,  //
        0, 1;
    h.K = Mat(2, 2);
    h.K << 3, -1,  //
        2, 2;
    h.scores = h.Q * h.K.transpose();
    h.scaled = h.scores / std::sqrt(2.0f);
    h.masked = h.scaled;
    h.masked(1, 1) = -std::numeric_limits<float>::infinity();
    h.weights = Mat(2, 2);
    h.weights << 0.0283f, 0.9717f,  // softmax(0.7071, 4.2426)
        1.0f, 0.0f;
    return h;
}
}  // namespace

TEST(ScoreBreakdown, ByHand) {
    const ScoreBreakdown b = scoreBreakdown(handHead(), 0, 1);
    ASSERT_EQ(b.query, 0);
    ASSERT_EQ(b.key, 1);
    EXPECT_EQ(b.d_k, 2);
    // q = (1, 2), k = (2, 2): q∘k = (2, 4), Σ = 6.
    EXPECT_FLOAT_EQ(b.product(0), 2.0f);
    EXPECT_FLOAT_EQ(b.product(1), 4.0f);
    EXPECT_FLOAT_EQ(b.dot, 6.0f);
    EXPECT_FLOAT_EQ(b.score, 6.0f);
    EXPECT_NEAR(b.scaled, 4.242641f, 1e-5f);
    EXPECT_FLOAT_EQ(b.weight, 0.9717f);
    EXPECT_FALSE(b.masked);
    EXPECT_EQ(b.rank, 1);
    EXPECT_EQ(b.largest_terms, (std::vector<int>{1, 0}));

    // q = (1, 2), k = (3, −1): q∘k = (3, −2); |3| > |−2|.
    const ScoreBreakdown c = scoreBreakdown(handHead(), 0, 0);
    EXPECT_FLOAT_EQ(c.dot, 1.0f);
    EXPECT_EQ(c.rank, 2);
    EXPECT_EQ(c.largest_terms, (std::vector<int>{0, 1}));

    const ScoreBreakdown m = scoreBreakdown(handHead(), 1, 1);
    EXPECT_TRUE(m.masked);
    EXPECT_FLOAT_EQ(m.weight, 0.0f);
    EXPECT_EQ(m.rank, 2);
}

TEST(ScoreBreakdown, OutsideTheHeadIsEmptyAndNoDetailGivesNaN) {
    EXPECT_EQ(scoreBreakdown(handHead(), 2, 0).query, -1);
    EXPECT_EQ(scoreBreakdown(handHead(), 0, -1).key, -1);
    HeadTrace light = handHead();  // a head that kept only Q, K, V and the weights
    light.scores.resize(0, 0);
    light.scaled.resize(0, 0);
    light.masked.resize(0, 0);
    const ScoreBreakdown b = scoreBreakdown(light, 0, 1);
    EXPECT_FLOAT_EQ(b.dot, 6.0f);
    EXPECT_TRUE(std::isnan(b.score));
    EXPECT_TRUE(std::isnan(b.scaled));
    EXPECT_FALSE(b.masked);
}

TEST(ScoreBreakdown, DotEqualsTheTraceScoreOfADotProductHead) {
    auto m = makeUntrainedModel(ModelConfig{});
    ASSERT_TRUE(m);
    auto tr = run(m.value(), "The black cat drank the milk");
    ASSERT_TRUE(tr) << tr.message();
    const HeadTrace& h = (*tr)->layers[0].self_attention.heads[1];
    for (int i = 0; i < h.Q.rows(); ++i)
        for (int j = 0; j < h.K.rows(); ++j) {
            const ScoreBreakdown b = scoreBreakdown(h, i, j);
            EXPECT_NEAR(b.dot, h.scores(i, j), 1e-4f);
            EXPECT_EQ(readScale(b.score, b.scaled, b.d_k, 1.0f).step, ScaleStep::SqrtDk);
        }
}

TEST(ScoreBreakdown, ReadScaleNamesTheDivisor) {
    const float r2 = std::sqrt(2.0f);
    EXPECT_EQ(readScale(6, 6 / r2, 2, 1).step, ScaleStep::SqrtDk);
    EXPECT_NEAR(readScale(6, 6 / r2, 2, 1).divisor, 1.414214, 1e-5);
    EXPECT_EQ(readScale(6, 6 / (2 * r2), 2, 2).step, ScaleStep::SqrtDkAndTemperature);
    EXPECT_EQ(readScale(6, 3, 2, 2).step, ScaleStep::Temperature);
    EXPECT_EQ(readScale(6, 6, 2, 1).step, ScaleStep::Unscaled);
    EXPECT_EQ(readScale(0, 0, 2, 1).step, ScaleStep::Zero);
    const ScaleReading other = readScale(6, 1, 2, 1);
    EXPECT_EQ(other.step, ScaleStep::Other);
    EXPECT_NEAR(other.divisor, 6.0, 1e-9);
}
