// Attention, step by step: a 3-token case worked by hand, and the invariants every row obeys.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "attn/attention.h"
#include "attn/model.h"
#include "attn/trace.h"

using namespace attn;

namespace {

Mat mat(std::initializer_list<std::initializer_list<float>> rows) {
    Mat m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
    int i = 0;
    for (auto r : rows) {
        int j = 0;
        for (float v : r) m(i, j++) = v;
        ++i;
    }
    return m;
}

// Largest absolute difference, reported on failure (golden-check style).
void expectNear(const Mat& got, const Mat& want, float tol, const char* what) {
    ASSERT_EQ(got.rows(), want.rows()) << what;
    ASSERT_EQ(got.cols(), want.cols()) << what;
    const float diff = (got - want).cwiseAbs().maxCoeff();
    EXPECT_LE(diff, tol) << what << ": largest difference " << diff << "\ngot\n"
                         << got << "\nwant\n"
                         << want;
}

struct HandCase {
    AttentionConfig config;
    AttentionWeights weights;
    Mat X;
    HandCase() {
        config.d_model = 2;
        config.n_heads = 1;
        config.n_kv_heads = 1;
        config.d_head = 2;
        // Three tokens of two dimensions.
        X = mat({{1, 0}, {0, 1}, {1, 1}});
        weights.W_Q = mat({{1, 0}, {0, 2}});
        weights.W_K = mat({{1, 1}, {0, 1}});
        weights.W_V = mat({{1, 2}, {0, 1}});
        weights.W_O = mat({{0, 1}, {1, 0}});
    }
};

}  // namespace

// Every number below was worked out by hand (and checked with numpy):
//   Q = X·W_Q = [[1,0],[0,2],[1,2]],  K = X·W_K = [[1,1],[0,1],[1,2]],  V = X·W_V =
//   [[1,2],[0,1],[1,3]] S = Q·Kᵀ: row 1 = q₁·k = (0·1+2·1, 0·0+2·1, 0·1+2·2) = (2, 2, 4) ÷√2:
//   (1.414214, 1.414214, 2.828427); softmax: e^1.414 = 4.1133, e^2.828 = 16.919, sum 25.146 →
//   (0.163579, 0.163579, 0.672842)
TEST(Attention, ThreeTokensWorkedByHand) {
    HandCase c;
    const AttentionTrace t = attend(c.config, c.weights, c.X, c.X, MaskSpec{});
    ASSERT_EQ(t.heads.size(), 1u);
    const HeadTrace& h = t.heads[0];
    expectNear(h.Q, mat({{1, 0}, {0, 2}, {1, 2}}), 1e-6f, "Q");
    expectNear(h.K, mat({{1, 1}, {0, 1}, {1, 2}}), 1e-6f, "K");
    expectNear(h.V, mat({{1, 2}, {0, 1}, {1, 3}}), 1e-6f, "V");
    expectNear(h.scores, mat({{1, 0, 1}, {2, 2, 4}, {3, 2, 5}}), 1e-6f, "scores");
    expectNear(h.scaled,
               mat({{0.707107f, 0, 0.707107f},
                    {1.414214f, 1.414214f, 2.828427f},
                    {2.121320f, 1.414214f, 3.535534f}}),
               1e-5f, "scaled");
    expectNear(h.masked, h.scaled, 0.0f, "masked (no mask)");
    expectNear(h.weights,
               mat({{0.401112f, 0.197776f, 0.401112f},
                    {0.163579f, 0.163579f, 0.672842f},
                    {0.178370f, 0.087949f, 0.733681f}}),
               1e-5f, "weights");
    expectNear(h.output,
               mat({{0.802224f, 2.203336f}, {0.836421f, 2.509263f}, {0.912051f, 2.645732f}}), 1e-5f,
               "output");
    expectNear(t.concat, h.output, 0.0f, "concat of one head");
    expectNear(t.projected,
               mat({{2.203336f, 0.802224f}, {2.509263f, 0.836421f}, {2.645732f, 0.912051f}}), 1e-5f,
               "projected");
}

TEST(Attention, CausalMaskWorkedByHand) {
    HandCase c;
    MaskSpec mask;
    mask.kind = MaskKind::Causal;
    const HeadTrace h = attend(c.config, c.weights, c.X, c.X, mask).heads[0];
    // Row 0 sees only itself; row 1 sees keys 0 and 1 with equal scores (1.414 each).
    expectNear(h.weights, mat({{1, 0, 0}, {0.5f, 0.5f, 0}, {0.178370f, 0.087949f, 0.733681f}}),
               1e-5f, "causal weights");
    EXPECT_TRUE(std::isinf(h.masked(0, 1)) && h.masked(0, 1) < 0);
    EXPECT_FLOAT_EQ(h.masked(1, 0), h.scaled(1, 0));
}

TEST(Attention, ScalingSwitchedOffKeepsRawScores) {
    HandCase c;
    c.config.scale = false;
    const HeadTrace h = attend(c.config, c.weights, c.X, c.X, MaskSpec{}).heads[0];
    expectNear(h.scaled, h.scores, 0.0f, "unscaled");
}

TEST(Attention, SoftmaxOfFullyMaskedRowIsZeroNotNaN) {
    const float inf = std::numeric_limits<float>::infinity();
    Mat S = mat({{-inf, -inf, -inf}, {0, 1, -inf}, {1000, 1001, 999}});
    softmaxRows(S);
    EXPECT_EQ(S.row(0).cwiseAbs().sum(), 0.0f);
    EXPECT_FALSE(S.hasNaN());
    EXPECT_NEAR(S(1, 0), 1.0f / (1.0f + std::exp(1.0f)), 1e-6f);
    EXPECT_NEAR(S.row(2).sum(), 1.0f, 1e-6f);  // large scores: subtracting the max keeps it finite
}

TEST(Attention, GivenMaskHidingAWholeRowGivesZeros) {
    HandCase c;
    MaskSpec mask;
    mask.kind = MaskKind::Given;
    mask.given = BoolMat::Constant(3, 3, false);
    mask.given.row(1).setConstant(true);
    const HeadTrace h = attend(c.config, c.weights, c.X, c.X, mask).heads[0];
    EXPECT_EQ(h.weights.row(1).cwiseAbs().sum(), 0.0f);
    EXPECT_FALSE(h.weights.hasNaN());
    EXPECT_FALSE(h.output.hasNaN());
    EXPECT_NEAR(h.weights.row(0).sum(), 1.0f, 1e-6f);
}

TEST(Attention, PaddingMaskHidesPaddingKeys) {
    HandCase c;
    MaskSpec mask;
    mask.kind = MaskKind::Padding;
    mask.key_padding = {false, false, true};
    const HeadTrace h = attend(c.config, c.weights, c.X, c.X, mask).heads[0];
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(h.weights(i, 2), 0.0f);
        EXPECT_NEAR(h.weights.row(i).sum(), 1.0f, 1e-6f);
    }
}

class AttentionInvariants
    : public ::testing::TestWithParam<std::tuple<ScoreFunction, ProjectionMode, MaskKind>> {};

TEST_P(AttentionInvariants, RowsSumToOneAndMaskedWeightsAreZero) {
    auto [score, projection, maskKind] = GetParam();
    ModelConfig mc;
    mc.d_model = 16;
    mc.n_heads = 4;
    mc.seed = 7;
    RunOptions opt;
    opt.attention = AttentionKnobs{};
    opt.attention->score = score;
    opt.attention->projection = projection;
    opt.attention->mask = maskKind;
    auto model = makeUntrainedModel(mc);
    ASSERT_TRUE(model) << model.message();
    auto trace = run(*model, "the quick brown fox jumps over the lazy dog", opt);
    ASSERT_TRUE(trace) << trace.message();
    for (const HeadTrace& h : (*trace)->layers[0].self_attention.heads) {
        ASSERT_EQ(h.weights.rows(), 9);
        for (int i = 0; i < 9; ++i) {
            EXPECT_NEAR(h.weights.row(i).sum(), 1.0f, 1e-5f);
            for (int j = 0; j < 9; ++j) {
                EXPECT_GE(h.weights(i, j), 0.0f);
                if (maskKind == MaskKind::Causal && j > i) {
                    EXPECT_EQ(h.weights(i, j), 0.0f);
                }
            }
        }
        if (score == ScoreFunction::Cosine) {
            EXPECT_LE(h.scores.maxCoeff(), 1.0f + 1e-5f);
            EXPECT_GE(h.scores.minCoeff(), -1.0f - 1e-5f);
        }
        // Output is exactly weights·V.
        EXPECT_LE((h.output - h.weights * h.V).cwiseAbs().maxCoeff(), 1e-5f);
        if (projection == ProjectionMode::QK) {
            EXPECT_EQ(h.V, h.K);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    AllForms, AttentionInvariants,
    ::testing::Combine(
        ::testing::Values(ScoreFunction::Dot, ScoreFunction::ScaledDot, ScoreFunction::Cosine,
                          ScoreFunction::General, ScoreFunction::Additive),
        ::testing::Values(ProjectionMode::Embeddings, ProjectionMode::QK, ProjectionMode::QKV),
        ::testing::Values(MaskKind::None, MaskKind::Causal)));

TEST(Attention, RawEmbeddingsFormUsesXItself) {
    ModelConfig mc;
    RunOptions opt;
    opt.attention = AttentionKnobs{};
    opt.attention->projection = ProjectionMode::Embeddings;
    auto model = makeUntrainedModel(mc);
    ASSERT_TRUE(model);
    auto trace = run(*model, "The black cat drank the milk", opt);
    ASSERT_TRUE(trace);
    const LayerTrace& l = (*trace)->layers[0];
    const int dh = mc.headDim();
    for (int h = 0; h < mc.n_heads; ++h) {
        EXPECT_EQ(l.self_attention.heads[h].Q, l.input.middleCols(h * dh, dh));
        EXPECT_EQ(l.self_attention.heads[h].K, l.input.middleCols(h * dh, dh));
    }
    EXPECT_EQ(l.self_attention.projected, l.self_attention.concat);  // no W_O
}

TEST(Attention, CosineScoresLieInMinusOneToOne) {
    AttentionConfig c;
    c.d_model = 8;
    c.n_heads = 2;
    c.n_kv_heads = 2;
    c.d_head = 4;
    c.score = ScoreFunction::Cosine;
    std::mt19937 rng(3);
    std::normal_distribution<float> n(0, 5);
    AttentionWeights w;
    auto rnd = [&](int r, int cc) {
        Mat m(r, cc);
        for (int i = 0; i < r; ++i)
            for (int j = 0; j < cc; ++j) m(i, j) = n(rng);
        return m;
    };
    w.W_Q = rnd(8, 8);
    w.W_K = rnd(8, 8);
    w.W_V = rnd(8, 8);
    w.W_O = rnd(8, 8);
    const Mat X = rnd(20, 8);
    for (const HeadTrace& h : attend(c, w, X, X, MaskSpec{}).heads) {
        EXPECT_LE(h.scores.maxCoeff(), 1.0f + 1e-5f);
        EXPECT_GE(h.scores.minCoeff(), -1.0f - 1e-5f);
    }
}

TEST(Attention, TemperatureZeroIsAHardLookUp) {
    HandCase c;
    c.config.temperature = 0.0f;
    const HeadTrace h = attend(c.config, c.weights, c.X, c.X, MaskSpec{}).heads[0];
    // The best key of every row gets weight 1: a hard look-up returns one value.
    expectNear(h.weights, mat({{1, 0, 0}, {0, 0, 1}, {0, 0, 1}}), 0.0f, "hard weights");
    expectNear(h.output.row(2), h.V.row(2), 0.0f, "output is the looked-up value");
}

TEST(Attention, HighTemperatureBlendsEvenly) {
    HandCase c;
    c.config.temperature = 1000.0f;
    const HeadTrace h = attend(c.config, c.weights, c.X, c.X, MaskSpec{}).heads[0];
    EXPECT_LE((h.weights.array() - 1.0f / 3.0f).abs().maxCoeff(), 1e-2f);
}

TEST(Attention, GroupedKeyValueHeadsEqualCopiedOutHeads) {
    // 4 query heads sharing 2 key/value heads ≡ 4 heads whose K/V weights repeat each pair.
    ModelConfig g;
    g.d_model = 16;
    g.n_heads = 4;
    g.n_kv_heads = 2;
    g.seed = 11;
    auto grouped = makeUntrainedModel(g);
    ASSERT_TRUE(grouped) << grouped.message();
    ModelConfig f = g;
    f.n_kv_heads = 4;
    auto full = makeUntrainedModel(f);
    ASSERT_TRUE(full);
    const AttentionWeights& gw = (*grouped)->weights.layers[0].self_attention;
    AttentionWeights& fw = (*full)->weights.layers[0].self_attention;
    const int dh = g.headDim();
    fw.W_Q = gw.W_Q;
    fw.W_O = gw.W_O;
    for (int h = 0; h < 4; ++h) {
        fw.W_K.dense().middleCols(h * dh, dh) = gw.W_K.dense().middleCols((h / 2) * dh, dh);
        fw.W_V.dense().middleCols(h * dh, dh) = gw.W_V.dense().middleCols((h / 2) * dh, dh);
    }
    (*full)->weights.layers[0].ffn = (*grouped)->weights.layers[0].ffn;
    const char* text = "The black cat drank the milk";
    auto a = run(*grouped, text);
    auto b = run(*full, text);
    ASSERT_TRUE(a && b);
    for (int h = 0; h < 4; ++h) {
        EXPECT_EQ((*a)->layers[0].self_attention.heads[h].kv_head, h / 2);
        EXPECT_LE(((*a)->layers[0].self_attention.heads[h].weights -
                   (*b)->layers[0].self_attention.heads[h].weights)
                      .cwiseAbs()
                      .maxCoeff(),
                  1e-6f);
    }
    EXPECT_LE(((*a)->final_hidden - (*b)->final_hidden).cwiseAbs().maxCoeff(), 1e-5f);
}

TEST(Attention, ValidationMessages) {
    AttentionConfig c;
    c.n_kv_heads = 3;
    c.n_heads = 4;
    auto s = validate(c);
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("multiple"), std::string::npos) << s.message();
    c = AttentionConfig{};
    c.temperature = -1;
    s = validate(c);
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("temperature"), std::string::npos) << s.message();
    c = AttentionConfig{};
    c.rope = true;
    c.d_head = 3;
    c.d_model = 6;
    c.n_heads = 2;
    s = validate(c);
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("RoPE"), std::string::npos) << s.message();
}
