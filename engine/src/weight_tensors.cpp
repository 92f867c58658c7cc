// A model's weights as named tensors, and a fresh seeded set of them for a config. The
// names are those of docs/MODEL_FORMAT.md; training walks the same list for its optimiser.

#include "attn/weight_tensors.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <type_traits>

namespace attn {

// --- the weights as named tensors -------------------------------------------------------------

namespace {

// Calls f(name, Mat&|RowVec&|Vec&) for every tensor slot of w, empty or not. W may be const.
// Packed weights (a quantized file's numbers as stored) are not tensors here: they are never
// trained nor written to a teaching model, so only dense ones are visited.
template <class W, class F>
void visitSlots(W& w, F&& user) {
    const auto f = [&user](const std::string& name, auto& t) {
        if constexpr (std::is_same_v<std::remove_const_t<std::remove_reference_t<decltype(t)>>,
                                     Weight>) {
            if (!t.isPacked()) user(name, t.dense());
        } else {
            user(name, t);
        }
    };
    auto attention = [&](auto& a, const std::string& p) {
        f(p + "W_Q", a.W_Q);
        f(p + "W_K", a.W_K);
        f(p + "W_V", a.W_V);
        f(p + "W_O", a.W_O);
        f(p + "b_Q", a.b_Q);
        f(p + "b_K", a.b_K);
        f(p + "b_V", a.b_V);
        f(p + "b_O", a.b_O);
        for (std::size_t h = 0; h < a.W_general.size(); ++h)
            f(p + "W_general." + std::to_string(h), a.W_general[h]);
        for (std::size_t h = 0; h < a.W_add_q.size(); ++h)
            f(p + "W_add_q." + std::to_string(h), a.W_add_q[h]);
        for (std::size_t h = 0; h < a.W_add_k.size(); ++h)
            f(p + "W_add_k." + std::to_string(h), a.W_add_k[h]);
        for (std::size_t h = 0; h < a.v_add.size(); ++h)
            f(p + "v_add." + std::to_string(h), a.v_add[h]);
    };
    auto norm = [&](auto& n, const std::string& p) {
        f(p + "gamma", n.gamma);
        f(p + "beta", n.beta);
    };
    auto layer = [&](auto& l, const std::string& p) {
        attention(l.self_attention, p + "self_attention.");
        attention(l.cross_attention, p + "cross_attention.");
        norm(l.norm1, p + "norm1.");
        norm(l.norm2, p + "norm2.");
        norm(l.norm3, p + "norm3.");
        f(p + "ffn.W1", l.ffn.W1);
        f(p + "ffn.b1", l.ffn.b1);
        f(p + "ffn.W2", l.ffn.W2);
        f(p + "ffn.b2", l.ffn.b2);
        f(p + "ffn.W3", l.ffn.W3);
    };
    f(std::string("token_embedding"), w.token_embedding);
    f(std::string("target_embedding"), w.target_embedding);
    f(std::string("position_embedding"), w.position_embedding);
    f(std::string("token_type_embedding"), w.token_type_embedding);
    norm(w.embedding_norm, "embedding_norm.");
    for (std::size_t l = 0; l < w.layers.size(); ++l)
        layer(w.layers[l], "layers." + std::to_string(l) + ".");
    for (std::size_t l = 0; l < w.decoder_layers.size(); ++l)
        layer(w.decoder_layers[l], "decoder_layers." + std::to_string(l) + ".");
    norm(w.final_norm, "final_norm.");
    norm(w.decoder_final_norm, "decoder_final_norm.");
    f(std::string("lm_head"), w.lm_head);
    f(std::string("lm_bias"), w.lm_bias);
}

template <class T>
constexpr bool isVector() {
    return T::RowsAtCompileTime == 1 || T::ColsAtCompileTime == 1;
}

}  // namespace

std::vector<TensorRef> tensorsOf(ModelWeights& w) {
    std::vector<TensorRef> out;
    visitSlots(w, [&](const std::string& name, auto& t) {
        if (t.size() == 0) return;
        using T = std::decay_t<decltype(t)>;
        out.push_back(TensorRef{name, t.data(), t.rows(), t.cols(), isVector<T>()});
    });
    return out;
}

ModelWeights zerosLike(const ModelWeights& w) {
    ModelWeights z = w;
    visitSlots(z, [](const std::string&, auto& t) { t.setZero(); });
    return z;
}

double squaredNorm(ModelWeights& w) {
    double s = 0.0;
    visitSlots(w, [&](const std::string&, auto& t) {
        if (t.size()) s += static_cast<double>(t.squaredNorm());
    });
    return s;
}

// --- seeded initialisation ---------------------------------------------------------------------

namespace {

// splitmix64 stream with our own uniform and normal draws, so the same seed gives the same
// weights with any standard library.
struct Rng {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    float normal() {  // Box–Muller
        const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
        return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) *
                                  std::cos(6.283185307179586 * u2));
    }
    Mat xavier(int rows, int cols) {
        const double a = std::sqrt(6.0 / (rows + cols));
        Mat m(rows, cols);
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            for (Eigen::Index i = 0; i < m.rows(); ++i)
                m(i, j) = static_cast<float>((2.0 * uniform() - 1.0) * a);
        return m;
    }
    Mat gaussian(int rows, int cols, float sd) {
        Mat m(rows, cols);
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = sd * normal();
        return m;
    }
};

NormWeights initNorm(const ModelConfig& c) {
    NormWeights n;
    n.gamma = RowVec::Ones(c.d_model);
    if (c.norm == NormKind::LayerNorm) n.beta = RowVec::Zero(c.d_model);
    return n;
}

AttentionWeights initAttention(const ModelConfig& c, const AttentionKnobs& k, Rng& rng, bool bias) {
    const int H = c.n_heads, G = c.kvHeads(), dh = c.headDim(), d = c.d_model;
    AttentionWeights a;
    if (k.projection != ProjectionMode::Embeddings) {
        a.W_Q = rng.xavier(d, H * dh);
        a.W_K = rng.xavier(d, G * dh);
        if (k.projection == ProjectionMode::QKV) a.W_V = rng.xavier(d, G * dh);
        a.W_O = rng.xavier(H * dh, d);
        if (bias) {
            a.b_Q = RowVec::Zero(H * dh);
            a.b_K = RowVec::Zero(G * dh);
            if (k.projection == ProjectionMode::QKV) a.b_V = RowVec::Zero(G * dh);
            a.b_O = RowVec::Zero(d);
        }
    }
    for (int h = 0; h < H; ++h) {
        if (k.score == ScoreFunction::General) a.W_general.push_back(rng.xavier(dh, dh));
        if (k.score == ScoreFunction::Additive) {
            const int da = dh;  // the inference forward sizes these by the weights themselves
            a.W_add_q.push_back(rng.xavier(dh, da));
            a.W_add_k.push_back(rng.xavier(dh, da));
            a.v_add.push_back(rng.xavier(da, 1).col(0));
        }
    }
    return a;
}

LayerWeights initLayer(const ModelConfig& c, const AttentionKnobs& k, Rng& rng, bool cross,
                       bool bias) {
    LayerWeights l;
    l.self_attention = initAttention(c, k, rng, bias);
    if (cross) l.cross_attention = initAttention(c, k, rng, bias);
    l.norm1 = initNorm(c);
    l.norm2 = initNorm(c);
    if (cross) l.norm3 = initNorm(c);
    const int ff = c.ffDim();
    l.ffn.W1 = rng.xavier(c.d_model, ff);
    l.ffn.W2 = rng.xavier(ff, c.d_model);
    if (c.activation == Activation::SwiGLU) l.ffn.W3 = rng.xavier(c.d_model, ff);
    l.ffn.b1 = RowVec::Zero(ff);
    l.ffn.b2 = RowVec::Zero(c.d_model);
    return l;
}

}  // namespace

ModelWeights initWeights(const ModelConfig& c, const AttentionKnobs& k, std::uint64_t seed,
                         bool attention_bias) {
    assert(c.vocab_size > 0 && "training needs a vocabulary");
    Rng rng{seed * 0x9e3779b97f4a7c15ULL + 0x5eed};
    ModelWeights w;
    const bool encdec = c.architecture == Architecture::EncoderDecoder;
    w.token_embedding = rng.gaussian(c.vocab_size, c.d_model, 1.0f);
    if (encdec) w.target_embedding = rng.gaussian(c.target_vocab_size, c.d_model, 1.0f);
    if (c.positional == PositionalKind::Learned)
        w.position_embedding = rng.gaussian(c.max_len, c.d_model, 0.5f);
    if (c.type_vocab_size > 0)
        w.token_type_embedding = rng.gaussian(c.type_vocab_size, c.d_model, 0.1f);
    if (c.embedding_norm) w.embedding_norm = initNorm(c);
    for (int l = 0; l < c.n_layers; ++l)
        w.layers.push_back(initLayer(c, k, rng, false, attention_bias));
    if (encdec)
        for (int l = 0; l < c.n_decoder_layers; ++l)
            w.decoder_layers.push_back(initLayer(c, k, rng, true, attention_bias));
    if (c.final_norm) {
        w.final_norm = initNorm(c);
        if (encdec) w.decoder_final_norm = initNorm(c);
    }
    const int vocab = encdec ? c.target_vocab_size : c.vocab_size;
    w.lm_head = rng.xavier(c.d_model, vocab);
    w.lm_bias = RowVec::Zero(vocab);
    return w;
}

std::uint64_t parameterCount(const ModelConfig& c, const AttentionKnobs& k, bool attention_bias) {
    // The same tensors as initWeights, shape by shape.
    using U = std::uint64_t;
    const auto pos = [](int v) { return v > 0 ? static_cast<U>(v) : U{0}; };
    const U d = pos(c.d_model), H = pos(c.n_heads), G = pos(c.kvHeads()), dh = pos(c.headDim());
    const U norm = c.norm == NormKind::LayerNorm ? 2 * d : d;
    U attention = 0;
    if (k.projection != ProjectionMode::Embeddings) {
        const bool v = k.projection == ProjectionMode::QKV;
        attention += d * H * dh + d * G * dh + (v ? d * G * dh : 0) + H * dh * d;
        if (attention_bias) attention += H * dh + G * dh + (v ? G * dh : 0) + d;
    }
    if (k.score == ScoreFunction::General) attention += H * dh * dh;
    if (k.score == ScoreFunction::Additive) attention += H * (2 * dh * dh + dh);
    const U ff = pos(c.ffDim());
    const U ffn = d * ff * (c.activation == Activation::SwiGLU ? 3 : 2) + ff + d;
    const U layer = attention + 2 * norm + ffn;
    const U crossLayer = 2 * attention + 3 * norm + ffn;
    const bool encdec = c.architecture == Architecture::EncoderDecoder;
    U n = pos(c.vocab_size) * d;
    if (encdec) n += pos(c.target_vocab_size) * d;
    if (c.positional == PositionalKind::Learned) n += pos(c.max_len) * d;
    n += pos(c.type_vocab_size) * d;
    if (c.embedding_norm) n += norm;
    n += pos(c.n_layers) * layer;
    if (encdec) n += pos(c.n_decoder_layers) * crossLayer;
    if (c.final_norm) n += encdec ? 2 * norm : norm;
    const U vocab = pos(encdec ? c.target_vocab_size : c.vocab_size);
    n += d * vocab + vocab;
    return n;
}

}  // namespace attn
