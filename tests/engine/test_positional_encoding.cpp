#include <gtest/gtest.h>

#include <cmath>

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
