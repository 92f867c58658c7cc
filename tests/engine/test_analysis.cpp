// Analyses of a trace: head summaries, their habit, rollout. Worked by hand on small matrices.

#include <gtest/gtest.h>

#include <cmath>

#include "attn/analysis.h"

using namespace attn;

namespace {
Mat mat3(std::initializer_list<float> v) {
    Mat m(3, 3);
    auto it = v.begin();
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) m(i, j) = *it++;
    return m;
}

Mat mat2(float a, float b, float c, float d) {
    Mat m(2, 2);
    m << a, b, c, d;
    return m;
}

// A trace with only the weights of its heads filled in: layers[l] has heads[h].
Trace weightsOnly(const std::vector<std::vector<Mat>>& layers) {
    Trace t;
    for (const auto& heads : layers) {
        LayerTrace lt;
        for (const Mat& A : heads) {
            HeadTrace h;
            h.weights = A;
            lt.self_attention.heads.push_back(h);
        }
        t.layers.push_back(lt);
    }
    return t;
}
}  // namespace

TEST(Analysis, SummaryOfOneMatrixByHand) {
    const Mat A = mat3({1.0f, 0.0f, 0.0f,  //
                        0.5f, 0.5f, 0.0f,  //
                        0.2f, 0.6f, 0.2f});
    const HeadSummary s = summarizeWeights(A);
    EXPECT_NEAR(s.self, (1.0f + 0.5f + 0.2f) / 3, 1e-6f);         // 0.5667
    EXPECT_NEAR(s.first_token, (1.0f + 0.5f + 0.2f) / 3, 1e-6f);  // 0.5667
    EXPECT_NEAR(s.previous_token, (0.5f + 0.6f) / 2, 1e-6f);      // 0.55
    // Row entropies 0, ln 2, −(2·0.2 ln 0.2 + 0.6 ln 0.6) = 0.950271: mean 0.547806.
    EXPECT_NEAR(s.entropy, 0.547806f, 1e-5f);
    EXPECT_EQ(habitOf(s), HeadHabit::PreviousToken);  // the first pattern above 0.5 wins
    EXPECT_EQ(habitOf(s, 0.56f), HeadHabit::Self);
    EXPECT_EQ(habitOf(s, 0.6f), HeadHabit::None);
}

TEST(Analysis, SummaryEdgeCases) {
    const HeadSummary one = summarizeWeights(Mat::Ones(1, 1));
    EXPECT_FLOAT_EQ(one.self, 1.0f);
    EXPECT_FLOAT_EQ(one.previous_token, 0.0f);  // no previous token
    EXPECT_FLOAT_EQ(one.entropy, 0.0f);
    const HeadSummary empty = summarizeWeights(Mat());
    EXPECT_FLOAT_EQ(empty.self, 0.0f);
    EXPECT_EQ(habitOf(empty), HeadHabit::None);
}

TEST(Analysis, SummarizeHeadsNumbersLayersAndHeads) {
    const Mat I = Mat::Identity(2, 2);
    const Mat first = mat2(1, 0, 1, 0);
    const Trace t = weightsOnly({{I, first}, {first, I}});
    const auto s = summarizeHeads(t);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(s[1].layer, 0);
    EXPECT_EQ(s[1].head, 1);
    EXPECT_EQ(s[2].layer, 1);
    EXPECT_EQ(s[2].head, 0);
    EXPECT_EQ(habitOf(s[0]), HeadHabit::Self);
    EXPECT_EQ(habitOf(s[1]), HeadHabit::PreviousToken);  // row 1 looks at token 0 = i − 1
    EXPECT_FLOAT_EQ(s[1].first_token, 1.0f);
    EXPECT_TRUE(summarizeHeads(t, /*decoder=*/true).empty());
}

TEST(Analysis, RolloutByHand) {
    // Layer 1: heads [[1,0],[1,0]] and I; mean [[1,0],[0.5,0.5]];
    //   0.5·mean + 0.5·I = [[1, 0], [0.25, 0.75]] (rows already sum to 1) = R₁.
    // Layer 2: both heads [[0,1],[0,1]]; A' = [[0.5, 0.5], [0, 1]];
    //   R₂ = A'·R₁ = [[0.625, 0.375], [0.25, 0.75]].
    const Trace t = weightsOnly(
        {{mat2(1, 0, 1, 0), Mat::Identity(2, 2)}, {mat2(0, 1, 0, 1), mat2(0, 1, 0, 1)}});
    const auto R = attentionRollout(t);
    ASSERT_EQ(R.size(), 2u);
    EXPECT_LE((R[0] - mat2(1, 0, 0.25f, 0.75f)).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_LE((R[1] - mat2(0.625f, 0.375f, 0.25f, 0.75f)).cwiseAbs().maxCoeff(), 1e-6f);
    for (const Mat& r : R)
        for (int i = 0; i < r.rows(); ++i) EXPECT_NEAR(r.row(i).sum(), 1.0f, 1e-6f);
}

TEST(Analysis, MeanOfHeadsByHand) {
    const Mat m = meanOfHeads({mat2(1, 0, 1, 0), Mat::Identity(2, 2)});
    EXPECT_LE((m - mat2(1, 0, 0.5f, 0.5f)).cwiseAbs().maxCoeff(), 1e-7f);
    EXPECT_EQ(meanOfHeads({}).size(), 0);
}
