#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <utility>

#include "attn/positional_encoding.h"

using namespace attn;

TEST(PositionalEncoding, SinusoidalValuesByHand) {
    const Eigen::MatrixXf pe = sinusoidalEncoding(3, 4);
    // t = 1: dims (sin 1, cos 1, sin(1/100), cos(1/100)) since 10000^(2/4) = 100.
    EXPECT_NEAR(pe(0, 0), 0.0f, 1e-7f);
    EXPECT_NEAR(pe(0, 1), 1.0f, 1e-7f);
    EXPECT_NEAR(pe(1, 0), std::sin(1.0f), 1e-6f);
    EXPECT_NEAR(pe(1, 1), std::cos(1.0f), 1e-6f);
    EXPECT_NEAR(pe(1, 2), std::sin(0.01f), 1e-6f);
    EXPECT_NEAR(pe(2, 3), std::cos(0.02f), 1e-6f);
}

TEST(PositionalEncoding, OffsetIsALinearMapForManyTAndK) {
    for (int d : {2, 8, 64, 512}) {
        const Eigen::MatrixXf pe = sinusoidalEncoding(600, d);
        for (int k : {0, 1, 2, 5, 17, 100}) {
            const Eigen::MatrixXf M = sinusoidalOffsetMatrix(d, k);
            float worst = 0;
            for (int t = 0; t + k < 600; t += 7) {
                const Eigen::VectorXf predicted = M * pe.row(t).transpose();
                worst =
                    std::max(worst, (predicted - pe.row(t + k).transpose()).cwiseAbs().maxCoeff());
            }
            EXPECT_LE(worst, 1e-5f) << "d=" << d << " k=" << k << ": largest difference " << worst;
        }
    }
}

TEST(PositionalEncoding, OffsetMatrixDoesNotDependOnT) {
    const Eigen::MatrixXf M = sinusoidalOffsetMatrix(8, 3);
    // A rotation: orthogonal.
    EXPECT_LE((M * M.transpose() - Eigen::MatrixXf::Identity(8, 8)).cwiseAbs().maxCoeff(), 1e-6f);
}

TEST(PositionalEncoding, SimilarityIsSymmetricWithConstantDiagonal) {
    const Eigen::MatrixXf pe = sinusoidalEncoding(20, 16);
    const Eigen::MatrixXf S = positionSimilarity(pe);
    EXPECT_LE((S - S.transpose()).cwiseAbs().maxCoeff(), 1e-5f);
    // ‖PE(t)‖² = d/2 for every t (sin² + cos² per pair).
    for (int t = 0; t < 20; ++t) EXPECT_NEAR(S(t, t), 8.0f, 1e-4f);
    // Nearby positions are more alike than far ones.
    EXPECT_GT(S(5, 6), S(5, 15));
}

TEST(PositionalEncoding, RopeRotatesPairsAndKeepsNorms) {
    Eigen::MatrixXf x = Eigen::MatrixXf::Ones(4, 8);  // 4 positions, 2 heads of 4
    Eigen::MatrixXf orig = x;
    applyRope(x, 4);
    EXPECT_EQ(x.row(0), orig.row(0));  // position 0: no rotation
    for (int t = 0; t < 4; ++t) EXPECT_NEAR(x.row(t).norm(), orig.row(t).norm(), 1e-5f);
    // Pair 0 of position 1 turns by 1 radian.
    EXPECT_NEAR(x(1, 0), std::cos(1.0f) - std::sin(1.0f), 1e-6f);
    EXPECT_NEAR(x(1, 1), std::sin(1.0f) + std::cos(1.0f), 1e-6f);
    EXPECT_NEAR(ropeAngle(3, 1, 4), 3.0f / 100.0f, 1e-7f);
}

TEST(PositionalEncoding, RopeScoresDependOnlyOnOffset) {
    // q·k after RoPE depends on the distance between positions, not on where they are.
    Eigen::MatrixXf q = Eigen::MatrixXf::Random(1, 8), k = Eigen::MatrixXf::Random(1, 8);
    Eigen::MatrixXf Q(10, 8), K(10, 8);
    for (int t = 0; t < 10; ++t) Q.row(t) = q, K.row(t) = k;
    applyRope(Q, 8);
    applyRope(K, 8);
    const float a = Q.row(5).dot(K.row(2));
    const float b = Q.row(8).dot(K.row(5));
    EXPECT_NEAR(a, b, 1e-4f);
}

TEST(PositionalEncoding, ParseNames) {
    PositionalKind k;
    EXPECT_TRUE(parsePositionalKind("rope", &k));
    EXPECT_EQ(k, PositionalKind::Rope);
    EXPECT_FALSE(parsePositionalKind("alibi", &k));
}

TEST(PositionalEncoding, OffsetCheckByHand) {
    // d = 2: one pair with ω = 1. PE(1) = (sin 1, cos 1) = (0.841471, 0.540302),
    // M_2 = [[cos 2, sin 2], [−sin 2, cos 2]] = [[−0.416147, 0.909297], [−0.909297, −0.416147]],
    // M_2·PE(1) = (0.141120, −0.989992) = (sin 3, cos 3) = PE(3).
    const OffsetCheck c = sinusoidalOffsetCheck(1, 2, 2);
    EXPECT_NEAR(c.pe_t(0), 0.841471f, 1e-6f);
    EXPECT_NEAR(c.pe_t(1), 0.540302f, 1e-6f);
    EXPECT_NEAR(c.M(0, 0), -0.416147f, 1e-6f);
    EXPECT_NEAR(c.M(0, 1), 0.909297f, 1e-6f);
    EXPECT_NEAR(c.M(1, 0), -0.909297f, 1e-6f);
    EXPECT_NEAR(c.moved(0), 0.141120f, 1e-6f);
    EXPECT_NEAR(c.moved(1), -0.989992f, 1e-6f);
    EXPECT_NEAR(c.pe_t_k(0), 0.141120f, 1e-6f);
    EXPECT_LE(c.max_difference, 1e-6f);
}

TEST(PositionalEncoding, OffsetCheckHoldsForEvenWidthsAndNotForTheUnpairedDimension) {
    for (int d : {4, 16, 64})
        for (auto [t, k] : {std::pair{0, 5}, std::pair{30, -7}, std::pair{100, 1}}) {
            const OffsetCheck c = sinusoidalOffsetCheck(t, k, d);
            EXPECT_EQ(c.M.rows(), d);
            EXPECT_LE(c.max_difference, 1e-5f) << "d=" << d << " t=" << t << " k=" << k;
        }
    // d = 3: dim 2 is sin(t·ω), ω = 10000^(−2/3) = 0.002154, and is left as it is:
    // |sin(0.002154) − sin(51·0.002154)| = 0.107.
    const OffsetCheck odd = sinusoidalOffsetCheck(1, 50, 3);
    EXPECT_NEAR(odd.max_difference, 0.1075f, 1e-3f);
}

TEST(PositionalEncoding, FrequenciesAndWrappedRopeAngles) {
    EXPECT_DOUBLE_EQ(sinusoidalFrequency(0, 4), 1.0);
    EXPECT_NEAR(sinusoidalFrequency(3, 4), 0.01, 1e-12);  // 10000^(−2/4)
    // d_head = 4: pair 0 turns 1 rad per position, pair 1 0.01 rad.
    const Eigen::MatrixXf a = ropeAngleTable(8, 4);
    ASSERT_EQ(a.rows(), 8);
    ASSERT_EQ(a.cols(), 2);
    EXPECT_NEAR(a(7, 0), 7.0f - 2.0f * std::numbers::pi_v<float>, 1e-5f);  // 0.716815
    EXPECT_NEAR(a(7, 1), 0.07f, 1e-6f);
    EXPECT_GE(a.minCoeff(), 0.0f);
    EXPECT_LT(a.maxCoeff(), 2.0f * std::numbers::pi_v<float>);
}

TEST(PositionalEncoding, RopeHalvesByHandAndAsPermutedAdjacentPairs) {
    // One head of 4 at position 1, theta 100: pair 0 turns by 1 rad, pair 1 by 0.1 rad.
    // Halves pairs dims (0, 2) and (1, 3).
    Eigen::MatrixXf x(2, 4);
    x << 1, 2, 3, 4, 1, 2, 3, 4;
    applyRope(x, 4, 100.0f, 0, RopePairs::Halves);
    EXPECT_FLOAT_EQ(x(0, 0), 1.0f) << "position 0 does not turn";
    const float c1 = std::cos(1.0f), s1 = std::sin(1.0f);
    const float c2 = std::cos(0.1f), s2 = std::sin(0.1f);
    EXPECT_NEAR(x(1, 0), 1 * c1 - 3 * s1, 1e-6f);
    EXPECT_NEAR(x(1, 2), 1 * s1 + 3 * c1, 1e-6f);
    EXPECT_NEAR(x(1, 1), 2 * c2 - 4 * s2, 1e-6f);
    EXPECT_NEAR(x(1, 3), 2 * s2 + 4 * c2, 1e-6f);

    // Two heads of 8: rotating halves equals rotating adjacent pairs of the dimensions
    // reordered (i, i + 4) → (2i, 2i + 1), llama.cpp's permutation of Q and K.
    Eigen::MatrixXf h = Eigen::MatrixXf::Random(5, 16);
    Eigen::MatrixXf a = h;
    for (int head = 0; head < 2; ++head)
        for (int i = 0; i < 4; ++i) {
            a.col(head * 8 + 2 * i) = h.col(head * 8 + i);
            a.col(head * 8 + 2 * i + 1) = h.col(head * 8 + i + 4);
        }
    applyRope(h, 8, 10000.0f, 3, RopePairs::Halves);
    applyRope(a, 8, 10000.0f, 3, RopePairs::Adjacent);
    for (int head = 0; head < 2; ++head)
        for (int i = 0; i < 4; ++i) {
            EXPECT_NEAR((a.col(head * 8 + 2 * i) - h.col(head * 8 + i)).cwiseAbs().maxCoeff(), 0,
                        1e-6f);
            EXPECT_NEAR(
                (a.col(head * 8 + 2 * i + 1) - h.col(head * 8 + i + 4)).cwiseAbs().maxCoeff(), 0,
                1e-6f);
        }
}
