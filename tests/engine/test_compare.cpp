// B − A of two runs: the difference, its largest changes, and the per-row change in entropy and
// arg-max key of attention weights.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "attn/compare.h"

using attn::Mat;

TEST(CompareDiff, WorkedByHand) {
    Mat a(2, 3), b(2, 3);
    a << 0.5f, 0.25f, 0.25f,  //
        1.0f, 0.0f, 0.0f;
    b << 0.2f, 0.3f, 0.5f,  //
        1.0f, 0.0f, 0.0f;
    const attn::MatrixDiff d = attn::diffMatrices(a, b, 2);
    ASSERT_TRUE(d.same_shape);
    Mat want(2, 3);
    want << -0.3f, 0.05f, 0.25f,  //
        0.0f, 0.0f, 0.0f;
    EXPECT_LT((d.delta - want).cwiseAbs().maxCoeff(), 1e-6f) << "largest difference";
    EXPECT_NEAR(d.max_abs, 0.3f, 1e-6f);
    ASSERT_EQ(d.largest.size(), 2u);
    EXPECT_EQ(d.largest[0].row, 0);
    EXPECT_EQ(d.largest[0].col, 0);
    EXPECT_FLOAT_EQ(d.largest[0].a, 0.5f);
    EXPECT_FLOAT_EQ(d.largest[0].b, 0.2f);
    EXPECT_NEAR(d.largest[0].delta, -0.3f, 1e-6f);
    EXPECT_EQ(d.largest[1].col, 2);
    EXPECT_NEAR(d.largest[1].delta, 0.25f, 1e-6f);
}

TEST(CompareDiff, ShapesThatDifferDoNotCompare) {
    const attn::MatrixDiff d = attn::diffMatrices(Mat::Zero(2, 3), Mat::Zero(3, 3));
    EXPECT_FALSE(d.same_shape);
    EXPECT_EQ(d.delta.size(), 0);
    EXPECT_TRUE(d.largest.empty());
    EXPECT_TRUE(attn::weightRowChanges(Mat::Zero(2, 2), Mat::Zero(2, 3)).empty());
}

TEST(CompareDiff, MaskedCellsAreNoNumber) {
    const float inf = std::numeric_limits<float>::infinity();
    Mat a(1, 3), b(1, 3);
    a << 1.0f, -inf, -inf;
    b << 2.0f, -inf, 5.0f;  // the mask was lifted on the last key
    const attn::MatrixDiff d = attn::diffMatrices(a, b, 10);
    EXPECT_FLOAT_EQ(d.delta(0, 0), 1.0f);
    EXPECT_FLOAT_EQ(d.delta(0, 1), 0.0f);  // masked on both sides: no change
    EXPECT_TRUE(std::isnan(d.delta(0, 2)));
    ASSERT_EQ(d.largest.size(), 1u);  // only the finite cell is listed
    EXPECT_FLOAT_EQ(d.max_abs, 1.0f);
}

TEST(CompareDiff, TopKIsSortedByMagnitudeAndBounded) {
    Mat a = Mat::Zero(4, 4), b(4, 4);
    for (int i = 0; i < 16; ++i) b(i / 4, i % 4) = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i);
    const attn::MatrixDiff d = attn::diffMatrices(a, b, 5);
    ASSERT_EQ(d.largest.size(), 5u);
    for (std::size_t i = 1; i < d.largest.size(); ++i)
        EXPECT_GE(std::abs(d.largest[i - 1].delta), std::abs(d.largest[i].delta));
    EXPECT_FLOAT_EQ(d.largest[0].delta, -15.0f);
    EXPECT_TRUE(attn::diffMatrices(a, b, 0).largest.empty());
    EXPECT_EQ(attn::diffMatrices(a, b, 100).largest.size(), 16u);
}

TEST(CompareRows, EntropyAndArgmaxChange) {
    Mat a(2, 2), b(2, 2);
    a << 0.5f, 0.5f,  // uniform: ln 2 nats
        0.9f, 0.1f;
    b << 1.0f, 0.0f,  // one-hot: 0 nats
        0.2f, 0.8f;
    const auto rows = attn::weightRowChanges(a, b);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_NEAR(rows[0].entropy_a, std::log(2.0f), 1e-5f);
    EXPECT_NEAR(rows[0].entropy_b, 0.0f, 1e-5f);
    EXPECT_NEAR(rows[0].entropyDelta(), -std::log(2.0f), 1e-5f);
    EXPECT_EQ(rows[0].argmax_a, 0);  // the first of equal weights
    EXPECT_EQ(rows[0].argmax_b, 0);
    EXPECT_FALSE(rows[0].argmaxMoved());
    EXPECT_EQ(rows[1].argmax_a, 0);
    EXPECT_EQ(rows[1].argmax_b, 1);
    EXPECT_TRUE(rows[1].argmaxMoved());
}

TEST(CompareRows, FullyMaskedRowAttendsNowhere) {
    Mat a = Mat::Zero(1, 3), b(1, 3);
    b << 0.0f, 1.0f, 0.0f;
    const auto rows = attn::weightRowChanges(a, b);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].argmax_a, -1);
    EXPECT_EQ(rows[0].argmax_b, 1);
}
