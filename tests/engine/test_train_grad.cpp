// Every backward pass of the training code against central finite differences.
//
// Error measure (as ggml's test-backend-ops): normalised squared error
//   nmse = Σ (analytic − numeric)² / Σ numeric²
// over all checked elements of one tensor. In float with ε = 1e-2 a correct gradient gives
// nmse around 1e-8 … 1e-6 (rounding of the loss ÷ 2ε, and the O(ε²) truncation); a wrong one
// gives 1e-2 or more. The loss is summed in double to keep its rounding small.
// Some gradients are exactly zero (a key bias shifts a whole score row, which softmax ignores)
// or tiny (deep W_general); there the finite difference is pure rounding noise, so the
// denominator has a floor of 1e-4 per element: the error must then stay below 1e-4 RMS.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <random>

#include "attn/attention.h"
#include "attn/corpus.h"
#include "attn/model.h"
#include "attn/train.h"
#include "attn/train_ops.h"

namespace attn::train {
namespace {

constexpr double kMaxNmse = 1e-4;

Mat randomMat(int r, int c, std::mt19937& rng, float sd = 1.0f) {
    std::normal_distribution<float> n(0.0f, sd);
    Mat m(r, c);
    for (Eigen::Index j = 0; j < m.cols(); ++j)
        for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = n(rng);
    return m;
}
RowVec randomRow(int n, std::mt19937& rng, float sd = 1.0f) {
    return randomMat(1, n, rng, sd).row(0);
}

double dotSum(const Mat& a, const Mat& b) {
    return (a.cast<double>().array() * b.cast<double>().array()).sum();
}

// Compares analytic[i] with (L(x+ε) − L(x−ε)) / 2ε for the elements of data (at most
// maxChecks, spread evenly). Returns nmse; prints the largest difference when it is too big.
double checkTensor(const std::string& what, float* data, Eigen::Index n, const float* analytic,
                   const std::function<double()>& loss, float eps = 1e-2f,
                   Eigen::Index maxChecks = 200) {
    double num = 0.0, den = 0.0, worst = 0.0;
    Eigen::Index worstAt = -1, count = 0;
    const Eigen::Index stride = std::max<Eigen::Index>(1, n / maxChecks);
    for (Eigen::Index i = 0; i < n; i += stride) {
        const float keep = data[i];
        data[i] = keep + eps;
        const double lp = loss();
        data[i] = keep - eps;
        const double lm = loss();
        data[i] = keep;
        const double fd = (lp - lm) / (2.0 * eps);
        const double diff = analytic[i] - fd;
        ++count;
        num += diff * diff;
        den += fd * fd;
        if (std::abs(diff) > worst) worst = std::abs(diff), worstAt = i;
    }
    const double nmse = num / std::max(den, 1e-4 * static_cast<double>(count));
    if (nmse > kMaxNmse)
        std::cerr << what << ": nmse " << nmse << ", largest difference " << worst << " at element "
                  << worstAt << " (analytic " << analytic[worstAt] << ")\n";
    return nmse;
}

double checkMat(const std::string& what, Mat& m, const Mat& g, const std::function<double()>& loss,
                float eps = 1e-2f) {
    EXPECT_EQ(m.rows(), g.rows()) << what;
    EXPECT_EQ(m.cols(), g.cols()) << what;
    return checkTensor(what, m.data(), m.size(), g.data(), loss, eps);
}
template <class V>
double checkVec(const std::string& what, V& v, const V& g, const std::function<double()>& loss,
                float eps = 1e-2f) {
    EXPECT_EQ(v.size(), g.size()) << what;
    return checkTensor(what, v.data(), v.size(), g.data(), loss, eps);
}

// --- norms -----------------------------------------------------------------------------------

class NormGrad : public ::testing::TestWithParam<NormKind> {};

TEST_P(NormGrad, MatchesFiniteDifferences) {
    std::mt19937 rng(11);
    const NormKind kind = GetParam();
    Mat x = randomMat(5, 6, rng);
    NormWeights w;
    w.gamma = randomRow(6, rng);
    if (kind == NormKind::LayerNorm) w.beta = randomRow(6, rng);
    const Mat R = randomMat(5, 6, rng);  // L = Σ y ∘ R
    auto loss = [&] {
        Mat y;
        NormCache c;
        normForward(kind, w, 1e-5f, x, y, c);
        return dotSum(y, R);
    };
    Mat y, dx;
    NormCache cache;
    normForward(kind, w, 1e-5f, x, y, cache);
    // The forward is applyNorm's.
    Mat ref = x;
    applyNorm(kind, w, 1e-5f, ref);
    EXPECT_LT((ref - y).cwiseAbs().maxCoeff(), 1e-5f);
    NormWeights g;
    g.gamma = RowVec::Zero(6);
    if (kind == NormKind::LayerNorm) g.beta = RowVec::Zero(6);
    normBackward(kind, w, cache, R, dx, g);
    EXPECT_LT(checkMat("dx", x, dx, loss), kMaxNmse);
    EXPECT_LT(checkVec("dgamma", w.gamma, g.gamma, loss), kMaxNmse);
    if (kind == NormKind::LayerNorm) {
        EXPECT_LT(checkVec("dbeta", w.beta, g.beta, loss), kMaxNmse);
    }
}

INSTANTIATE_TEST_SUITE_P(Kinds, NormGrad, ::testing::Values(NormKind::LayerNorm, NormKind::RMSNorm),
                         [](const auto& info) { return toString(info.param); });

// --- feed-forward ----------------------------------------------------------------------------

class FfnGrad : public ::testing::TestWithParam<Activation> {};

TEST_P(FfnGrad, MatchesFiniteDifferences) {
    std::mt19937 rng(5);
    const Activation act = GetParam();
    const int N = 4, d = 5, ff = 7;
    Mat x = randomMat(N, d, rng);
    FeedForwardWeights w;
    w.W1 = randomMat(d, ff, rng, 0.5f);
    w.b1 = randomRow(ff, rng, 0.3f);
    w.W2 = randomMat(ff, d, rng, 0.5f);
    w.b2 = randomRow(d, rng, 0.3f);
    if (act == Activation::SwiGLU) w.W3 = randomMat(d, ff, rng, 0.5f);
    const Mat R = randomMat(N, d, rng);
    auto loss = [&] {
        Mat y;
        FfnCache c;
        ffnForward(act, w, x, y, c);
        return dotSum(y, R);
    };
    Mat y, dx;
    FfnCache cache;
    ffnForward(act, w, x, y, cache);
    EXPECT_LT((feedForward(act, w, x) - y).cwiseAbs().maxCoeff(), 1e-5f)
        << "differs from feedForward";
    FeedForwardWeights g;
    g.W1 = Mat::Zero(d, ff);
    g.b1 = RowVec::Zero(ff);
    g.W2 = Mat::Zero(ff, d);
    g.b2 = RowVec::Zero(d);
    if (act == Activation::SwiGLU) g.W3 = Mat::Zero(d, ff);
    ffnBackward(act, w, cache, R, dx, g);
    // ReLU has a kink at 0: a smaller step keeps every pre-activation on its side.
    const float eps = act == Activation::ReLU ? 1e-3f : 1e-2f;
    EXPECT_LT(checkMat("dx", x, dx, loss, eps), kMaxNmse);
    EXPECT_LT(checkMat("dW1", w.W1, g.W1, loss, eps), kMaxNmse);
    EXPECT_LT(checkVec("db1", w.b1, g.b1, loss, eps), kMaxNmse);
    EXPECT_LT(checkMat("dW2", w.W2, g.W2, loss, eps), kMaxNmse);
    EXPECT_LT(checkVec("db2", w.b2, g.b2, loss, eps), kMaxNmse);
    if (act == Activation::SwiGLU) {
        EXPECT_LT(checkMat("dW3", w.W3, g.W3, loss, eps), kMaxNmse);
    }
}

INSTANTIATE_TEST_SUITE_P(Activations, FfnGrad,
                         ::testing::Values(Activation::ReLU, Activation::GELU, Activation::GELUTanh,
                                           Activation::SwiGLU),
                         [](const auto& info) {
                             std::string s = toString(info.param);
                             s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
                             return s;
                         });

// --- attention -------------------------------------------------------------------------------

struct AttnCase {
    ProjectionMode projection;
    ScoreFunction score;
    int n_heads, n_kv_heads;
    bool causal, padding, rope, bias, cross;
    float temperature;
};

std::string caseName(const AttnCase& c) {
    std::string s = toString(c.projection) + "_" + toString(c.score) + "_h" +
                    std::to_string(c.n_heads) + "kv" + std::to_string(c.n_kv_heads);
    if (c.causal) s += "_causal";
    if (c.padding) s += "_padding";
    if (c.rope) s += "_rope";
    if (c.bias) s += "_bias";
    if (c.cross) s += "_cross";
    if (c.temperature != 1.0f) s += "_temp";
    for (char& ch : s)
        if (ch == '-') ch = '_';
    return s;
}

class AttentionGrad : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionGrad, MatchesFiniteDifferencesAndAttend) {
    const AttnCase tc = GetParam();
    std::mt19937 rng(3);
    AttentionConfig c;
    c.n_heads = tc.n_heads;
    c.n_kv_heads = tc.n_kv_heads;
    c.d_head = 4;
    c.d_model = tc.projection == ProjectionMode::Embeddings ? c.n_heads * c.d_head : 6;
    c.projection = tc.projection;
    c.score = tc.score;
    c.scale = true;
    c.temperature = tc.temperature;
    c.rope = tc.rope;
    const int d = c.d_model, H = c.n_heads, G = c.n_kv_heads, dh = c.d_head;
    AttentionWeights w;
    if (tc.projection != ProjectionMode::Embeddings) {
        w.W_Q = randomMat(d, H * dh, rng, 0.5f);
        w.W_K = randomMat(d, G * dh, rng, 0.5f);
        if (tc.projection == ProjectionMode::QKV) w.W_V = randomMat(d, G * dh, rng, 0.5f);
        w.W_O = randomMat(H * dh, d, rng, 0.5f);
        if (tc.bias) {
            w.b_Q = randomRow(H * dh, rng, 0.2f);
            w.b_K = randomRow(G * dh, rng, 0.2f);
            if (tc.projection == ProjectionMode::QKV) w.b_V = randomRow(G * dh, rng, 0.2f);
            w.b_O = randomRow(d, rng, 0.2f);
        }
    }
    for (int h = 0; h < H; ++h) {
        if (tc.score == ScoreFunction::General) w.W_general.push_back(randomMat(dh, dh, rng, 0.5f));
        if (tc.score == ScoreFunction::Additive) {
            w.W_add_q.push_back(randomMat(dh, 3, rng, 0.5f));
            w.W_add_k.push_back(randomMat(dh, 3, rng, 0.5f));
            w.v_add.push_back(randomMat(3, 1, rng).col(0));
        }
    }
    // Two sequences packed together; cross-attention reads keys of other lengths.
    const Packing pq = Packing::fromLengths({3, 4});
    const Packing pk = tc.cross ? Packing::fromLengths({5, 2}) : pq;
    Mat Xq = randomMat(pq.rows(), d, rng);
    Mat Xkv_own = tc.cross ? randomMat(pk.rows(), d, rng) : Mat();
    AttentionMasking mask;
    mask.causal = tc.causal;
    if (tc.padding) mask.key_padding = {{false, false, true}, {false, true, false, true}};
    if (tc.padding && tc.cross)
        mask.key_padding = {{false, true, false, false, true}, {true, false}};
    Mat& Xkv = tc.cross ? Xkv_own : Xq;
    const Mat R = randomMat(pq.rows(), d, rng);

    auto loss = [&] {
        Mat out;
        AttentionCache cache;
        attentionForward(c, w, Xq, pq, Xkv, pk, mask, out, cache);
        return dotSum(out, R);
    };
    Mat out;
    AttentionCache cache;
    attentionForward(c, w, Xq, pq, Xkv, pk, mask, out, cache);

    // Forward: each sequence alone through attend() gives the same weights and output.
    for (int s = 0; s < pq.count(); ++s) {
        MaskSpec spec;
        if (tc.padding) {
            spec.kind = MaskKind::Padding;
            spec.key_padding = mask.key_padding[s];
        }
        if (tc.causal) spec.kind = MaskKind::Causal;
        if (tc.causal && tc.padding) continue;  // attend() takes one mask kind
        const AttentionTrace ref = attend(c, w, Xq.middleRows(pq.begin[s], pq.length[s]),
                                          Xkv.middleRows(pk.begin[s], pk.length[s]), spec);
        EXPECT_LT((ref.projected - out.middleRows(pq.begin[s], pq.length[s])).cwiseAbs().maxCoeff(),
                  1e-4f);
        for (int h = 0; h < H; ++h)
            EXPECT_LT((ref.heads[h].weights - cache.A[s * H + h]).cwiseAbs().maxCoeff(), 1e-5f);
    }

    AttentionWeights g = w;
    auto zero = [](auto& m) { m.setZero(); };
    zero(g.W_Q.dense()), zero(g.W_K.dense()), zero(g.W_V.dense()), zero(g.W_O.dense());
    zero(g.b_Q), zero(g.b_K), zero(g.b_V), zero(g.b_O);
    for (auto& m : g.W_general) zero(m);
    for (auto& m : g.W_add_q) zero(m);
    for (auto& m : g.W_add_k) zero(m);
    for (auto& m : g.v_add) zero(m);
    Mat dXq, dXkv;
    attentionBackward(c, w, pq, pk, mask, cache, R, dXq, dXkv, g);
    if (tc.cross) {
        EXPECT_LT(checkMat("dXq", Xq, dXq, loss), kMaxNmse);
        EXPECT_LT(checkMat("dXkv", Xkv, dXkv, loss), kMaxNmse);
    } else {
        EXPECT_LT(checkMat("dX", Xq, Mat(dXq + dXkv), loss), kMaxNmse);
    }
    if (tc.projection != ProjectionMode::Embeddings) {
        EXPECT_LT(checkMat("dW_Q", w.W_Q, g.W_Q, loss), kMaxNmse);
        EXPECT_LT(checkMat("dW_K", w.W_K, g.W_K, loss), kMaxNmse);
        if (tc.projection == ProjectionMode::QKV) {
            EXPECT_LT(checkMat("dW_V", w.W_V, g.W_V, loss), kMaxNmse);
        }
        EXPECT_LT(checkMat("dW_O", w.W_O, g.W_O, loss), kMaxNmse);
        if (tc.bias) {
            EXPECT_LT(checkVec("db_Q", w.b_Q, g.b_Q, loss), kMaxNmse);
            EXPECT_LT(checkVec("db_K", w.b_K, g.b_K, loss), kMaxNmse);
            if (tc.projection == ProjectionMode::QKV) {
                EXPECT_LT(checkVec("db_V", w.b_V, g.b_V, loss), kMaxNmse);
            }
            EXPECT_LT(checkVec("db_O", w.b_O, g.b_O, loss), kMaxNmse);
        }
    }
    for (int h = 0; h < H; ++h) {
        if (tc.score == ScoreFunction::General) {
            EXPECT_LT(checkMat("dW_general", w.W_general[h], g.W_general[h], loss), kMaxNmse);
        }
        if (tc.score == ScoreFunction::Additive) {
            EXPECT_LT(checkMat("dW_add_q", w.W_add_q[h], g.W_add_q[h], loss), kMaxNmse);
            EXPECT_LT(checkMat("dW_add_k", w.W_add_k[h], g.W_add_k[h], loss), kMaxNmse);
            EXPECT_LT(checkVec("dv_add", w.v_add[h], g.v_add[h], loss), kMaxNmse);
        }
    }
}

std::vector<AttnCase> attentionCases() {
    using P = ProjectionMode;
    using S = ScoreFunction;
    std::vector<AttnCase> cases;
    // Every score function with every projection mode, self-attention, no mask.
    for (P p : {P::Embeddings, P::QK, P::QKV})
        for (S s : {S::Dot, S::ScaledDot, S::Cosine, S::General, S::Additive})
            cases.push_back({p, s, 2, 2, false, false, false, false, false, 1.0f});
    // Masks, grouped key/value heads, RoPE, biases, temperature, cross-attention.
    cases.push_back({P::QKV, S::ScaledDot, 2, 2, true, false, false, false, false, 1.0f});
    cases.push_back({P::QKV, S::ScaledDot, 2, 2, false, true, false, true, false, 1.0f});
    cases.push_back({P::QKV, S::ScaledDot, 2, 2, true, true, false, false, false, 1.0f});
    cases.push_back({P::QKV, S::ScaledDot, 4, 2, true, false, false, true, false, 1.0f});
    cases.push_back({P::QKV, S::ScaledDot, 4, 1, false, false, false, false, false, 0.7f});
    cases.push_back({P::QK, S::Dot, 4, 2, true, false, true, true, false, 1.0f});
    cases.push_back({P::QKV, S::ScaledDot, 2, 2, false, false, true, false, false, 1.0f});
    cases.push_back({P::QKV, S::Cosine, 4, 2, false, false, true, false, false, 0.5f});
    cases.push_back({P::Embeddings, S::ScaledDot, 2, 2, true, false, true, false, false, 1.0f});
    cases.push_back({P::QKV, S::ScaledDot, 2, 2, false, false, false, true, true, 1.0f});
    cases.push_back({P::QKV, S::Additive, 4, 2, false, true, false, false, true, 1.0f});
    cases.push_back({P::QK, S::General, 2, 1, false, false, false, true, true, 2.0f});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Modes, AttentionGrad, ::testing::ValuesIn(attentionCases()),
                         [](const auto& info) { return caseName(info.param); });

// --- loss ----------------------------------------------------------------------------------

TEST(CrossEntropyGrad, MatchesFiniteDifferencesAndIgnoresUnlabelledRows) {
    std::mt19937 rng(2);
    Mat logits = randomMat(4, 6, rng, 2.0f);
    const std::vector<int> labels = {2, -1, 5, 0};
    Mat d;
    int counted = 0;
    crossEntropy(logits, labels, &d, &counted);
    EXPECT_EQ(counted, 3);
    EXPECT_EQ(d.row(1).cwiseAbs().maxCoeff(), 0.0f);
    auto loss = [&] { return crossEntropy(logits, labels, nullptr); };
    EXPECT_LT(checkMat("dlogits", logits, d, loss, 1e-2f), kMaxNmse);
    // Uniform logits over 6 classes: the loss is ln 6.
    EXPECT_NEAR(crossEntropy(Mat::Zero(2, 6), {1, 4}, nullptr), std::log(6.0), 1e-6);
}

// --- the whole model ---------------------------------------------------------------------------

struct ModelCase {
    std::string name;
    CorpusKind corpus;
    ModelConfig config;
    AttentionKnobs attention;  // what it is trained with
};

std::vector<ModelCase> modelCases() {
    std::vector<ModelCase> cases;
    ModelConfig base;
    base.d_model = 8;
    base.n_heads = 2;
    base.d_ff = 12;
    base.n_layers = 2;
    base.n_decoder_layers = 2;
    base.activation = Activation::GELU;
    {
        ModelConfig c = base;  // BERT-like: post-norm LayerNorm, sinusoidal, embedding norm
        c.architecture = Architecture::Encoder;
        c.embedding_norm = true;
        AttentionKnobs k;
        k.mask = MaskKind::Padding;
        cases.push_back({"encoder_postnorm", CorpusKind::English, c, k});
    }
    {
        ModelConfig c = base;  // GPT/llama-like: causal, pre-norm RMSNorm, RoPE, SwiGLU, GQA
        c.architecture = Architecture::Decoder;
        c.pre_norm = true;
        c.final_norm = true;
        c.norm = NormKind::RMSNorm;
        c.positional = PositionalKind::Rope;
        c.activation = Activation::SwiGLU;
        c.n_heads = 4;
        c.n_kv_heads = 2;
        c.d_head = 2;
        cases.push_back({"decoder_prenorm_rope_swiglu_gqa", CorpusKind::English, c, {}});
    }
    {
        ModelConfig c = base;  // translation, post-norm, learned positions
        c.architecture = Architecture::EncoderDecoder;
        c.positional = PositionalKind::Learned;
        c.max_len = 16;
        c.activation = Activation::GELUTanh;
        cases.push_back({"encdec_postnorm_learned", CorpusKind::Translation, c, {}});
    }
    {
        ModelConfig c = base;  // translation, pre-norm with final norms, general scores
        c.architecture = Architecture::EncoderDecoder;
        c.pre_norm = true;
        c.final_norm = true;
        c.embedding_norm = true;
        AttentionKnobs k;
        k.score = ScoreFunction::General;
        k.projection = ProjectionMode::QK;
        cases.push_back({"encdec_prenorm_general_qk", CorpusKind::Translation, c, k});
    }
    {
        ModelConfig c = base;
        c.architecture = Architecture::Encoder;
        c.n_layers = 1;
        AttentionKnobs k;
        k.score = ScoreFunction::Additive;
        k.projection = ProjectionMode::Embeddings;
        k.temperature = 0.8f;
        cases.push_back({"encoder_embeddings_additive", CorpusKind::English, c, k});
    }
    return cases;
}

class ModelGrad : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelGrad, EveryTensorMatchesFiniteDifferences) {
    const ModelCase mc = GetParam();
    auto made = makeTeachingModel(mc.corpus, mc.config, 17, mc.attention);
    ASSERT_TRUE(made) << made.message();
    Model& model = *made.value();
    // Make the norms and biases non-trivial so their gradients are exercised fully.
    std::mt19937 rng(9);
    std::normal_distribution<float> n(0.0f, 0.2f);
    for (auto& t : tensorsOf(model.weights))
        if (t.vector)
            for (Eigen::Index i = 0; i < t.size(); ++i) t.data[i] += n(rng);

    Batch b;
    if (mc.corpus == CorpusKind::English) {
        b.source = {{5, 9, 2, 12}, {7, 2, 30, 11, 6}};
        b.labels = {{-1, -1, 20, -1}, {8, 15, -1, -1, 3}};
    } else {
        b.source = {{5, 9, 12}, {7, 8, 30, 11}};
        b.target = {{kBosId, 10, 11, 12, 13}, {kBosId, 20, 21}};
        b.labels = {{10, 11, 12, 13, kEosId}, {20, 21, kEosId}};
    }
    ForwardState st;
    const double l0 = forward(model, b, st);
    EXPECT_TRUE(std::isfinite(l0));
    ModelWeights grad = zerosLike(model.weights);
    backward(model, st, grad);
    auto loss = [&] {
        ForwardState s;
        return forward(model, b, s);
    };
    auto params = tensorsOf(model.weights);
    auto grads = tensorsOf(grad);
    ASSERT_EQ(params.size(), grads.size());
    int checked = 0;
    for (std::size_t k = 0; k < params.size(); ++k) {
        ASSERT_EQ(params[k].name, grads[k].name);
        // Embedding rows of tokens absent from the batch have zero gradient on both sides;
        // checking a spread of 40 elements per tensor keeps the test quick.
        const double e = checkTensor(params[k].name, params[k].data, params[k].size(),
                                     grads[k].data, loss, 1e-2f, 40);
        EXPECT_LT(e, kMaxNmse) << params[k].name;
        ++checked;
    }
    EXPECT_GT(checked, 10);
}

INSTANTIATE_TEST_SUITE_P(Configs, ModelGrad, ::testing::ValuesIn(modelCases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace attn::train
