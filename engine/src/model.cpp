#include "attn/model.h"

#include <cmath>
#include <random>
#include <sstream>

namespace attn {

std::string toString(Architecture a) {
    switch (a) {
        case Architecture::Encoder:
            return "encoder";
        case Architecture::Decoder:
            return "decoder";
        case Architecture::EncoderDecoder:
            return "encoder-decoder";
    }
    return "?";
}
std::string toString(NormKind n) { return n == NormKind::LayerNorm ? "layernorm" : "rmsnorm"; }
std::string toString(Activation a) {
    switch (a) {
        case Activation::ReLU:
            return "relu";
        case Activation::GELU:
            return "gelu";
        case Activation::GELUTanh:
            return "gelu-tanh";
        case Activation::SwiGLU:
            return "swiglu";
    }
    return "?";
}

AttentionConfig ModelConfig::attentionConfig(const AttentionKnobs& knobs) const {
    AttentionConfig c;
    c.d_model = d_model;
    c.n_heads = n_heads;
    c.n_kv_heads = kvHeads();
    c.d_head = headDim();
    c.projection = knobs.projection;
    c.score = knobs.score;
    c.scale = knobs.scale;
    c.temperature = knobs.temperature;
    c.rope = positional == PositionalKind::Rope;
    c.rope_theta = rope_theta;
    c.rope_pairs = rope_pairs;
    c.rope_freq_factors = rope_freq_factors;
    c.qk_norm_eps = norm_eps;
    return c;
}

Status validate(const ModelConfig& c) {
    std::ostringstream m;
    if (c.d_model <= 0 || c.d_model > 16384) {
        m << "d_model must be between 1 and 16384 (it is " << c.d_model << ").";
    } else if (c.n_heads <= 0 || c.n_heads > 256) {
        m << "The number of heads must be between 1 and 256 (it is " << c.n_heads << ").";
    } else if (c.d_head == 0 && c.d_model % c.n_heads != 0) {
        m << "d_model " << c.d_model << " is not divisible by " << c.n_heads
          << " heads: pick a d_model that is a multiple of the number of heads.";
    } else if (c.d_head < 0 || c.n_kv_heads < 0 || c.n_kv_heads > c.n_heads ||
               std::int64_t{c.n_heads} * c.headDim() > (std::int64_t{1} << 20)) {
        // n_heads · d_head in 64 bits: in int it overflows for a d_head read from a file, and
        // the projections (d_model, n_heads · d_head) are sized by it.
        m << "The heads must fit: " << c.n_heads << " heads of " << c.headDim()
          << " values each, with " << c.kvHeads()
          << " key/value heads (at most as many as heads, at most 1,048,576 values in all).";
    } else if (c.n_layers <= 0 || c.n_layers > 128) {
        m << "The number of layers must be between 1 and 128 (it is " << c.n_layers << ").";
    } else if (c.architecture == Architecture::EncoderDecoder &&
               (c.n_decoder_layers <= 0 || c.n_decoder_layers > 128)) {
        m << "The number of decoder layers must be between 1 and 128 (it is " << c.n_decoder_layers
          << ").";
    } else if (c.max_len <= 0) {
        m << "The longest input must be positive (it is " << c.max_len << ").";
    } else if (c.positional == PositionalKind::Sinusoidal && c.d_model % 2 != 0) {
        m << "Sinusoidal positional encoding pairs sines with cosines, so d_model must be even (it "
             "is "
          << c.d_model << ").";
    } else if (c.vocab_size < 0 || c.d_ff < 0 || c.sliding_window < 0) {
        m << "Sizes must not be negative.";
    }
    if (m.tellp() > 0) return makeError(m.str());
    // The shape alone: the knobs of a run are checked by checkAttentionKnobs.
    AttentionKnobs shapeOnly;
    shapeOnly.projection = ProjectionMode::QKV;
    return validate(c.attentionConfig(shapeOnly));
}

Status checkAttentionKnobs(const Model& m, const AttentionKnobs& knobs) {
    const ModelConfig& c = m.config;
    if (Status s = validate(c.attentionConfig(knobs)); !s) return s.error();
    const auto n = static_cast<std::size_t>(c.n_heads);
    // A trained model has only the extra matrices of the score function it was trained with;
    // choosing "general" or "additive" on it would have nothing to multiply by.
    const auto lacksScore = [&](const AttentionWeights& w) {
        if (knobs.score == ScoreFunction::General) return w.W_general.size() < n;
        if (knobs.score == ScoreFunction::Additive)
            return w.W_add_q.size() < n || w.W_add_k.size() < n || w.v_add.size() < n;
        return false;
    };
    const auto lacksQK = [](const AttentionWeights& w) {
        return w.W_Q.size() == 0 || w.W_K.size() == 0;
    };
    const auto lacksV = [](const AttentionWeights& w) { return w.W_V.size() == 0; };
    bool score = false, qk = false, v = false;
    const auto look = [&](const AttentionWeights& w) {
        score = score || lacksScore(w);
        qk = qk || lacksQK(w);
        v = v || lacksV(w);
    };
    for (const LayerWeights& l : m.weights.layers) look(l.self_attention);
    for (const LayerWeights& l : m.weights.decoder_layers) {
        look(l.self_attention);
        look(l.cross_attention);
    }
    if (score)
        return makeError("This model has no weights for the " + toString(knobs.score) +
                         " score function (it was not trained with it). Choose scaled dot, dot or "
                         "cosine, or the untrained model.");
    if (knobs.projection != ProjectionMode::Embeddings && qk)
        return makeError(
            "This model has no learned W_Q and W_K (it was trained on the raw embeddings). "
            "Choose Q = K = V = X.");
    if (knobs.projection == ProjectionMode::QKV && v)
        return makeError(
            "This model has no learned W_V (it was trained with V = K). Choose \"Q, K learned; "
            "V = K\" or Q = K = V = X.");
    return Ok{};
}

// splitmix64: a small, well-mixed, reproducible hash → seed.
static std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

RowVec hashedEmbedding(std::string_view text, int d_model, std::uint64_t seed) {
    std::uint64_t h = mix(seed);
    for (unsigned char ch : text) h = mix(h ^ ch);  // FNV-like fold, well mixed
    std::mt19937_64 rng(h);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    RowVec e(d_model);
    for (int i = 0; i < d_model; ++i) e(i) = normal(rng);
    return e;
}

namespace {

struct Init {
    std::mt19937_64 rng;
    // Xavier-uniform: keeps the scale of activations steady through the projections.
    Mat xavier(int rows, int cols) {
        const float a = std::sqrt(6.0f / static_cast<float>(rows + cols));
        std::uniform_real_distribution<float> u(-a, a);
        Mat m(rows, cols);
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = u(rng);
        return m;
    }
    Mat normal(int rows, int cols, float sd) {
        std::normal_distribution<float> n(0.0f, sd);
        Mat m(rows, cols);
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = n(rng);
        return m;
    }
};

AttentionWeights makeAttention(const ModelConfig& c, Init& init) {
    const int H = c.n_heads, Hkv = c.kvHeads(), dh = c.headDim(), d = c.d_model;
    AttentionWeights w;
    w.W_Q = init.xavier(d, H * dh);
    w.W_K = init.xavier(d, Hkv * dh);
    w.W_V = init.xavier(d, Hkv * dh);
    w.W_O = init.xavier(H * dh, d);
    for (int h = 0; h < H; ++h) {
        w.W_general.push_back(init.xavier(dh, dh));
        w.W_add_q.push_back(init.xavier(dh, dh));
        w.W_add_k.push_back(init.xavier(dh, dh));
        w.v_add.push_back(init.xavier(dh, 1).col(0));
    }
    return w;
}

NormWeights makeNorm(const ModelConfig& c) {
    NormWeights n;
    n.gamma = RowVec::Ones(c.d_model);
    if (c.norm == NormKind::LayerNorm) n.beta = RowVec::Zero(c.d_model);
    return n;
}

LayerWeights makeLayer(const ModelConfig& c, Init& init, bool cross) {
    LayerWeights l;
    l.self_attention = makeAttention(c, init);
    if (cross) l.cross_attention = makeAttention(c, init);
    l.norm1 = makeNorm(c);
    l.norm2 = makeNorm(c);
    l.norm3 = makeNorm(c);
    const int ff = c.ffDim();
    l.ffn.W1 = init.xavier(c.d_model, ff);
    l.ffn.W2 = init.xavier(ff, c.d_model);
    if (c.activation == Activation::SwiGLU) l.ffn.W3 = init.xavier(c.d_model, ff);
    l.ffn.b1 = RowVec::Zero(ff);
    l.ffn.b2 = RowVec::Zero(c.d_model);
    return l;
}

}  // namespace

Result<std::shared_ptr<Model>> makeUntrainedModel(const ModelConfig& config) {
    if (Status s = validate(config); !s) return s.error();
    auto model = std::make_shared<Model>();
    model->config = config;
    const ModelConfig& c = model->config;
    Init init{std::mt19937_64(mix(config.seed ^ 0xa77e0))};
    ModelWeights& w = model->weights;
    if (c.vocab_size > 0) w.token_embedding = init.normal(c.vocab_size, c.d_model, 1.0f);
    if (c.architecture == Architecture::EncoderDecoder && c.target_vocab_size > 0)
        w.target_embedding = init.normal(c.target_vocab_size, c.d_model, 1.0f);
    if (c.positional == PositionalKind::Learned)
        w.position_embedding = init.normal(std::min(c.max_len, 8192), c.d_model, 0.5f);
    if (c.type_vocab_size > 0)
        w.token_type_embedding = init.normal(c.type_vocab_size, c.d_model, 0.1f);
    w.embedding_norm = makeNorm(c);
    for (int l = 0; l < c.n_layers; ++l) w.layers.push_back(makeLayer(c, init, false));
    if (c.architecture == Architecture::EncoderDecoder)
        for (int l = 0; l < c.n_decoder_layers; ++l)
            w.decoder_layers.push_back(makeLayer(c, init, true));
    w.final_norm = makeNorm(c);
    w.decoder_final_norm = makeNorm(c);
    if (c.has_lm_head) {
        const int vocab =
            c.architecture == Architecture::EncoderDecoder ? c.target_vocab_size : c.vocab_size;
        if (vocab <= 0) return makeError("A language-model head needs a vocabulary.");
        w.lm_head = init.xavier(c.d_model, vocab);
    }
    if (c.vocab_size == 0) model->tokenizer = std::make_shared<WordTokenizer>();
    if (c.architecture == Architecture::EncoderDecoder && c.target_vocab_size == 0)
        model->target_tokenizer = std::make_shared<WordTokenizer>();
    return model;
}

void applyNorm(NormKind kind, const NormWeights& w, float eps, Mat& x) {
    const Eigen::Index d = x.cols();
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
        auto row = x.row(i);
        if (kind == NormKind::LayerNorm) {
            const float mean = row.mean();
            row.array() -= mean;
            const float var = row.squaredNorm() / static_cast<float>(d);
            row *= 1.0f / std::sqrt(var + eps);
        } else {
            const float ms = row.squaredNorm() / static_cast<float>(d);
            row *= 1.0f / std::sqrt(ms + eps);
        }
        if (w.gamma.size()) row.array() *= w.gamma.array();
        if (w.beta.size()) row += w.beta;
    }
}

Mat feedForward(Activation act, const FeedForwardWeights& w, const Mat& x) {
    Mat h;
    linear(x, w.W1, w.b1, h);  // (T, d_ff)
    // The activations work column by column on both cores: a GPT-2-sized layer has 128 × 3072
    // of them, and scalar tanh/erf calls would otherwise cost as much as a matrix product.
    // tanh and exp go through Eigen's vectorised versions; erf has none in Eigen's core.
    const Eigen::Index cols = h.cols();
    const bool parallel = h.size() >= (Eigen::Index{1} << 15);
    // clang-tidy reads the OpenMP-outlined loops below as identical branches; they are not.
    // NOLINTBEGIN(bugprone-branch-clone)
    switch (act) {
        case Activation::ReLU:
            h = h.cwiseMax(0.0f);
            break;
        case Activation::GELU:
#pragma omp parallel for schedule(static) if (parallel)
            for (Eigen::Index j = 0; j < cols; ++j)
                h.col(j) = h.col(j).unaryExpr(
                    [](float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678f)); });
            break;
        case Activation::GELUTanh:
#pragma omp parallel for schedule(static) if (parallel)
            for (Eigen::Index j = 0; j < cols; ++j) {
                auto v = h.col(j).array();
                v = 0.5f * v * (1.0f + (0.7978845608f * (v + 0.044715f * v.cube())).tanh());
            }
            break;
        case Activation::SwiGLU: {
            Mat g;
            linear(x, w.W3, RowVec(), g);  // (T, d_ff)
#pragma omp parallel for schedule(static) if (parallel)
            for (Eigen::Index j = 0; j < cols; ++j) {
                auto v = h.col(j).array();
                v = v / (1.0f + (-v).exp()) * g.col(j).array();
            }
            break;
        }
    }
    // NOLINTEND(bugprone-branch-clone)
    Mat y;
    linear(h, w.W2, w.b2, y);  // (T, d_model)
    return y;
}

}  // namespace attn
