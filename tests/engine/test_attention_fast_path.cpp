// attend() has two ways to the same numbers: the step-by-step path that keeps every
// intermediate (keep_detail = true, or the focus head) and the blocked path for long inputs
// (a block of query rows at a time, softmax across lanes, weights streamed out), plus a
// few-rows product for the projections of short inputs. These tests hold the fast ways to the
// step-by-step one and to a naive loop, ggml-style: normalised squared error, largest
// difference printed on failure.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "attn/attention.h"

using namespace attn;

namespace {

Mat randn(std::mt19937& rng, Eigen::Index rows, Eigen::Index cols, float sd) {
    std::normal_distribution<float> dist(0.0f, sd);
    Mat m(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = dist(rng);
    return m;
}

// Normalised MSE of got against want; 0 when both are all zeros.
double nmse(const Mat& got, const Mat& want) {
    const double den = want.cast<double>().squaredNorm();
    const double num = (got - want).cast<double>().squaredNorm();
    return den > 0.0 ? num / den : num;
}

void expectClose(const Mat& got, const Mat& want, const std::string& what) {
    ASSERT_EQ(got.rows(), want.rows()) << what;
    ASSERT_EQ(got.cols(), want.cols()) << what;
    ASSERT_FALSE(got.hasNaN()) << what;
    const double e = nmse(got, want);
    EXPECT_LE(e, 1e-10) << what << ": normalised MSE " << e << ", largest difference "
                        << (got - want).cwiseAbs().maxCoeff();
}

struct Block {
    AttentionConfig config;
    AttentionWeights weights;
};

// An attention block with biases; n_kv_heads < n_heads shares key/value heads.
Block makeBlock(std::mt19937& rng, int d_model, int n_heads, int n_kv_heads, int d_head) {
    Block b;
    b.config.d_model = d_model;
    b.config.n_heads = n_heads;
    b.config.n_kv_heads = n_kv_heads;
    b.config.d_head = d_head;
    const float sd = 1.0f / std::sqrt(static_cast<float>(d_model));
    b.weights.W_Q = randn(rng, d_model, n_heads * d_head, sd);
    b.weights.W_K = randn(rng, d_model, n_kv_heads * d_head, sd);
    b.weights.W_V = randn(rng, d_model, n_kv_heads * d_head, sd);
    b.weights.W_O = randn(rng, n_heads * d_head, d_model, sd);
    b.weights.b_Q = randn(rng, 1, n_heads * d_head, 0.1f).row(0);
    b.weights.b_K = randn(rng, 1, n_kv_heads * d_head, 0.1f).row(0);
    b.weights.b_V = randn(rng, 1, n_kv_heads * d_head, 0.1f).row(0);
    b.weights.b_O = randn(rng, 1, d_model, 0.1f).row(0);
    return b;
}

MaskSpec makeMask(MaskKind kind, int T_q, int T_k) {
    MaskSpec m;
    m.kind = kind;
    if (kind == MaskKind::Padding) {
        m.key_padding.assign(T_k, false);
        for (int j = 1; j < T_k; j += 3) m.key_padding[j] = true;
    } else if (kind == MaskKind::Given) {
        m.given = BoolMat::Constant(T_q, T_k, false);
        for (int i = 0; i < T_q; ++i)
            for (int j = 0; j < T_k; ++j) m.given(i, j) = (i * 7 + j * 3) % 5 == 0;
        m.given.row(T_q / 2).setConstant(true);  // a fully hidden row must give zeros
    }
    return m;
}

// Runs both paths and compares every head and the block's output.
void expectPathsAgree(const Block& b, const Mat& Xq, const Mat& Xkv, const MaskSpec& mask,
                      const std::string& what) {
    AttendOptions detail;
    detail.keep_detail = true;
    AttendOptions fast;
    fast.keep_detail = false;
    detail.head_enabled.assign(b.config.n_heads, true);
    if (b.config.n_heads > 1)
        detail.head_enabled.back() = false;  // a switched-off head still has weights, output 0
    fast.head_enabled = detail.head_enabled;
    const AttentionTrace want = attend(b.config, b.weights, Xq, Xkv, mask, detail);
    const AttentionTrace got = attend(b.config, b.weights, Xq, Xkv, mask, fast);
    ASSERT_EQ(got.heads.size(), want.heads.size());
    for (std::size_t h = 0; h < got.heads.size(); ++h) {
        const std::string head = what + ", head " + std::to_string(h);
        const HeadTrace& g = got.heads[h];
        const HeadTrace& w = want.heads[h];
        EXPECT_FALSE(g.detailed) << head;
        EXPECT_EQ(g.scores.size(), 0) << head;
        EXPECT_EQ(g.kv_head, w.kv_head) << head;
        EXPECT_EQ(g.enabled, w.enabled) << head;
        expectClose(g.Q, w.Q, head + " Q");
        expectClose(g.K, w.K, head + " K");
        expectClose(g.V, w.V, head + " V");
        expectClose(g.weights, w.weights, head + " weights");
        expectClose(g.output, w.output, head + " output");
        // Hidden weights are exactly zero on both paths, whatever the vector width.
        const BoolMat hidden =
            buildMask(mask, static_cast<int>(Xq.rows()), static_cast<int>(Xkv.rows()));
        for (Eigen::Index j = 0; j < hidden.cols(); ++j) {
            for (Eigen::Index i = 0; i < hidden.rows(); ++i) {
                if (hidden(i, j)) {
                    ASSERT_EQ(g.weights(i, j), 0.0f) << head << " (" << i << ", " << j << ")";
                    ASSERT_EQ(w.weights(i, j), 0.0f) << head << " (" << i << ", " << j << ")";
                }
            }
        }
    }
    expectClose(got.concat, want.concat, what + " concat");
    expectClose(got.projected, want.projected, what + " projected");
}

}  // namespace

// Query counts around the 16-row lanes and past the block height (256 rows), against key
// counts short and long; every mask kind.
TEST(AttentionFastPath, BlockedHeadsMatchStepByStep) {
    std::mt19937 rng(5);
    const Block b = makeBlock(rng, 40, 4, 2, 10);
    for (int T_q : {1, 7, 16, 130, 300}) {
        for (int T_k : {1, 9, 300}) {
            for (MaskKind kind :
                 {MaskKind::None, MaskKind::Causal, MaskKind::Padding, MaskKind::Given}) {
                const Mat Xq = randn(rng, T_q, 40, 1.0f);
                const Mat Xkv = randn(rng, T_k, 40, 1.0f);
                const std::string what = "T_q " + std::to_string(T_q) + ", T_k " +
                                         std::to_string(T_k) + ", mask " + toString(kind);
                expectPathsAgree(b, Xq, Xkv, makeMask(kind, T_q, T_k), what);
            }
        }
    }
}

// Weights of 2048 × 2048 per head are streamed past the cache; they must land intact.
TEST(AttentionFastPath, LongInputStreamsWeightsIntact) {
    std::mt19937 rng(9);
    const Block b = makeBlock(rng, 8, 1, 1, 8);
    const Mat X = randn(rng, 2048, 8, 1.0f);
    expectPathsAgree(b, X, X, MaskSpec{}, "2048 tokens");
    expectPathsAgree(b, X, X, makeMask(MaskKind::Causal, 2048, 2048), "2048 tokens, causal");
}

// The focus head keeps its detail on the fast path; the others do not.
TEST(AttentionFastPath, FocusHeadKeepsDetail) {
    std::mt19937 rng(2);
    const Block b = makeBlock(rng, 16, 4, 4, 4);
    const Mat X = randn(rng, 20, 16, 1.0f);
    AttendOptions opt;
    opt.keep_detail = false;
    opt.focus_head = 2;
    const AttentionTrace t = attend(b.config, b.weights, X, X, MaskSpec{}, opt);
    for (int h = 0; h < 4; ++h) {
        EXPECT_EQ(t.heads[h].detailed, h == 2) << h;
        EXPECT_EQ(t.heads[h].scores.size(), h == 2 ? 400 : 0) << h;
    }
}

// Short inputs (up to 16 rows) project through the few-rows product: compare it with a
// naive triple loop in double, for a width that is not a multiple of the vector length.
TEST(AttentionFastPath, FewRowProjectionsMatchNaiveLoop) {
    std::mt19937 rng(4);
    const int d = 40;
    const Block b = makeBlock(rng, d, 4, 4, 10);
    for (int T : {1, 5, 8, 11, 16, 17}) {
        const Mat X = randn(rng, T, d, 1.0f);
        AttendOptions opt;
        opt.keep_detail = false;
        const AttentionTrace t = attend(b.config, b.weights, X, X, MaskSpec{}, opt);
        Mat Q(T, d), projected(T, d);
        for (int i = 0; i < T; ++i)
            for (int j = 0; j < d; ++j) {
                double s = b.weights.b_Q(j);
                for (int k = 0; k < d; ++k) s += double(X(i, k)) * b.weights.W_Q(k, j);
                Q(i, j) = static_cast<float>(s);
                double o = b.weights.b_O(j);
                for (int k = 0; k < d; ++k) o += double(t.concat(i, k)) * b.weights.W_O(k, j);
                projected(i, j) = static_cast<float>(o);
            }
        for (int h = 0; h < 4; ++h)
            expectClose(t.heads[h].Q, Q.middleCols(h * 10, 10), "T " + std::to_string(T) + " Q");
        expectClose(t.projected, projected, "T " + std::to_string(T) + " projected");
    }
}

// Eigen's vector exp() of -inf is a denormal, not 0, with AVX2 and SSE (the portable build):
// hidden entries must still come out exactly 0 and a fully hidden row all zeros, not 1/T_k.
// Columns of 16 and 37 rows go through the vector path on every instruction set.
TEST(AttentionFastPath, SoftmaxGivesExactZerosWhereHidden) {
    const float inf = std::numeric_limits<float>::infinity();
    for (int rows : {16, 37}) {
        std::mt19937 rng(rows);
        Mat S = randn(rng, rows, 5, 3.0f);
        S.col(1).setConstant(-inf);  // a hidden key
        S.row(5).setConstant(-inf);  // a fully hidden query
        S(7, 3) = -inf;
        softmaxRows(S);
        for (int i = 0; i < rows; ++i) {
            EXPECT_EQ(S(i, 1), 0.0f) << rows << " rows, row " << i;
            EXPECT_NEAR(S.row(i).sum(), i == 5 ? 0.0f : 1.0f, 1e-6f) << rows << " rows, row " << i;
        }
        EXPECT_EQ(S(7, 3), 0.0f);
        EXPECT_EQ(S.row(5).cwiseAbs().sum(), 0.0f);
    }
}

TEST(Linear, MatchesEigenForEveryShapeWithAndWithoutBiasAndTransposedWeights) {
    std::mt19937 rng(11);
    for (const auto& [T, K, N] : std::vector<std::array<Eigen::Index, 3>>{
             {1, 8, 5}, {7, 33, 17}, {16, 64, 64}, {17, 70, 130}, {128, 96, 401}}) {
        const Mat X = randn(rng, T, K, 1.0f);
        const Mat W = randn(rng, K, N, 0.3f);
        const RowVec b = randn(rng, 1, N, 1.0f);
        const Mat want = (X * W).rowwise() + b;
        Mat Y;
        linear(X, W, b, Y);
        ASSERT_EQ(Y.rows(), T);
        ASSERT_EQ(Y.cols(), N);
        EXPECT_LE((Y - want).cwiseAbs().maxCoeff(), 1e-4f) << T << "×" << K << "×" << N;
        const Mat Wt = W.transpose();  // stored (N, K), as a tied output layer
        linear(X, Wt, RowVec(), Y, /*transposedW=*/true);
        EXPECT_LE((Y - X * W).cwiseAbs().maxCoeff(), 1e-4f) << "transposed " << T << "×" << K;
    }
}
