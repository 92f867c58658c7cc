// Models from GGUF files: stories260K.gguf against stories260K.bin (same tokens, every head's
// attention, the same greedy story), and tiny random llama / qwen2 / qwen3 files written here in
// every dtype (quantized by our own quantizer) against a reference forward pass written in this
// file after Hugging Face's conventions (rotate-half RoPE on the unpermuted weights, q/k
// biases, q/k norms) on the dequantized weights. Broken or unsupported models name the problem.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "attn/formats/ggml_quants.h"
#include "attn/formats/gguf.h"
#include "attn/formats/gguf_model.h"
#include "attn/formats/llama2c.h"
#include "attn/formats/load.h"
#include "attn/open_model.h"
#include "attn/trace.h"
#include "formats_test_util.h"
#include "gguf_test_writer.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::GgufWriter;
using testing::TempDir;

const fs::path kStoriesDir = testing::sharedDir() / "models" / "stories260K";
const std::string kStoriesGguf = (kStoriesDir / "stories260K.gguf").string();
const std::string kStoriesBin = (kStoriesDir / "stories260K.bin").string();

#define REQUIRE_STORIES()                                                               \
    do {                                                                                \
        if (!fs::exists(kStoriesGguf) || !fs::exists(kStoriesBin)) {                    \
            if (testing::onCi()) FAIL() << "stories260K missing under " << kStoriesDir; \
            GTEST_SKIP() << "stories260K not found under " << kStoriesDir               \
                         << " — the GGUF model checks did NOT run";                     \
        }                                                                               \
    } while (0)

std::vector<Token> tokensOf(const Model& m, const std::vector<int>& ids) {
    std::vector<Token> out;
    for (int id : ids) {
        Token t;
        t.id = id;
        t.text = m.tokenizer->decode(id);
        out.push_back(std::move(t));
    }
    return out;
}

// The largest |Δ| between the attention weights of every head of two traces.
double maxAttentionDifference(const Trace& a, const Trace& b) {
    double worst = 0;
    EXPECT_EQ(a.layers.size(), b.layers.size());
    for (std::size_t l = 0; l < a.layers.size() && l < b.layers.size(); ++l) {
        const auto& ha = a.layers[l].self_attention.heads;
        const auto& hb = b.layers[l].self_attention.heads;
        EXPECT_EQ(ha.size(), hb.size());
        for (std::size_t h = 0; h < ha.size() && h < hb.size(); ++h)
            worst = std::max(worst, testing::compare(ha[h].weights, hb[h].weights).max_abs);
    }
    return worst;
}

// ---------------------------------------------------------------------------------------------
// stories260K: the same model as a llama2.c checkpoint and as GGUF

TEST(GgufModel, Stories260KMatchesTheLlama2cCheckpoint) {
    REQUIRE_STORIES();
    auto g = loadModel(kStoriesGguf);
    ASSERT_TRUE(g) << g.message();
    auto b = loadModel(kStoriesBin);
    ASSERT_TRUE(b) << b.message();
    const Model& mg = **g;
    const Model& mb = **b;
    EXPECT_EQ(mg.config.d_model, 64);
    EXPECT_EQ(mg.config.n_layers, 5);
    EXPECT_EQ(mg.config.n_heads, 8);
    EXPECT_EQ(mg.config.n_kv_heads, 4);
    EXPECT_EQ(mg.config.d_ff, 172);
    EXPECT_EQ(mg.config.vocab_size, 512);
    EXPECT_EQ(mg.config.rope_pairs, RopePairs::Adjacent);
    EXPECT_FLOAT_EQ(mg.config.norm_eps, 1e-5f);
    EXPECT_EQ(mg.quantization, "F32");
    EXPECT_EQ(mg.config.name, "stories260K") << "general.name is just \"llama\"";
    EXPECT_EQ(mg.source_path, kStoriesGguf);
    EXPECT_EQ(mg.bos_id, 1);
    EXPECT_EQ(mg.eos_id, 2);

    // The weights themselves: GGUF keeps llama2.c's (Meta's) row order, no permutation.
    const auto& lg = mg.weights.layers.at(0).self_attention;
    const auto& lb = mb.weights.layers.at(0).self_attention;
    EXPECT_EQ(testing::compare(lg.W_Q, lb.W_Q).max_abs, 0.0);
    EXPECT_EQ(testing::compare(lg.W_K, lb.W_K).max_abs, 0.0);
    EXPECT_EQ(testing::compare(mg.weights.token_embedding, mb.weights.token_embedding).max_abs,
              0.0);

    // Same tokens for several texts.
    for (const char* text : {"Once upon a time", "The little dog ran, and ran!",
                             "Ünïcödé and 日本 fall back to bytes", ""}) {
        const auto tg = mg.tokenizer->encode(text);
        const auto tb = mb.tokenizer->encode(text);
        ASSERT_EQ(tg.size(), tb.size()) << text;
        for (std::size_t i = 0; i < tg.size(); ++i) {
            EXPECT_EQ(tg[i].id, tb[i].id) << text << " token " << i;
            EXPECT_EQ(mg.tokenizer->decode(tg[i].id), mb.tokenizer->decode(tb[i].id));
        }
    }

    // Every head's attention on the same text.
    auto trg = run(*g, "Once upon a time, there was a little girl named Lily.");
    ASSERT_TRUE(trg) << trg.message();
    auto trb = run(*b, "Once upon a time, there was a little girl named Lily.");
    ASSERT_TRUE(trb) << trb.message();
    const double worst = maxAttentionDifference(**trg, **trb);
    std::printf("[ stories260K ] GGUF vs llama2.c: every head's attention, max |diff| %.3g\n",
                worst);
    EXPECT_LE(worst, 1e-5);
    EXPECT_LE(testing::compare((*trg)->logits, (*trb)->logits).nmse, 1e-10);
}

TEST(GgufModel, Stories260KGreedyStory) {
    REQUIRE_STORIES();
    auto g = loadModel(kStoriesGguf);
    ASSERT_TRUE(g) << g.message();
    auto b = loadModel(kStoriesBin);
    ASSERT_TRUE(b) << b.message();
    auto greedy = [](const std::shared_ptr<const Model>& m, int steps) {
        std::vector<int> ids = {1};
        for (int s = 0; s < steps; ++s) {
            RunOptions opt;
            opt.detail_limit_bytes = 0;
            auto tr = runTokens(m, tokensOf(*m, ids), opt);
            EXPECT_TRUE(tr) << tr.message();
            if (!tr) break;
            Eigen::Index best = 0;
            (*tr)->logits.row((*tr)->logits.rows() - 1).maxCoeff(&best);
            ids.push_back(static_cast<int>(best));
        }
        return ids;
    };
    const auto ig = greedy(*g, 40);
    const auto ib = greedy(*b, 40);
    EXPECT_EQ(ig, ib);
    // Same ids, so the story reads the same through llama2.c's decoding.
    const auto& tok = dynamic_cast<const Llama2cTokenizer&>(*(*b)->tokenizer);
    const std::string text = tok.decodeIds(ig);
    EXPECT_EQ(text.rfind("Once upon a time, there was a little girl named Lily.", 0), 0u) << text;
}

TEST(GgufModel, OpensThroughLoadModelAndOpenModel) {
    REQUIRE_STORIES();
    TempDir dir;
    // By magic whatever the name (Ollama's blobs are sha256-… files), and in a folder alone.
    const fs::path blob = dir.path() / "sha256-0123";
    fs::copy_file(kStoriesGguf, blob);
    auto m = openModel(blob.string());
    ASSERT_TRUE(m) << m.message();
    EXPECT_EQ((*m)->config.n_layers, 5);
    const fs::path folder = dir.path() / "only";
    fs::create_directory(folder);
    fs::copy_file(kStoriesGguf, folder / "model.gguf");
    auto f = loadModel(folder.string());
    ASSERT_TRUE(f) << f.message();
    EXPECT_EQ((*f)->source_path, (folder / "model.gguf").string());
    fs::copy_file(kStoriesGguf, folder / "other.gguf");
    auto two = loadModel(folder.string());
    ASSERT_FALSE(two);
    EXPECT_NE(two.message().find("2 GGUF files"), std::string::npos) << two.message();
}

// ---------------------------------------------------------------------------------------------
// Tiny random models in each architecture and dtype

std::size_t sz(int a, int b) { return static_cast<std::size_t>(a) * static_cast<std::size_t>(b); }

struct Dims {
    int d = 256, ff = 512, H = 4, KV = 2, dh = 64, L = 2, V = 300;
};

// Weights in Hugging Face's layout: nn.Linear (out, in) row-major, as std::vector.
struct HfWeights {
    std::vector<float> embed;  // (V, d)
    struct Layer {
        std::vector<float> in_norm, post_norm;  // (d)
        std::vector<float> q, k, v, o;          // (H·dh, d), (KV·dh, d) ×2, (d, H·dh)
        std::vector<float> bq, bk, bv;          // qwen2
        std::vector<float> q_norm, k_norm;      // qwen3 (dh)
        std::vector<float> gate, up, down;      // (ff, d) ×2, (d, ff)
    };
    std::vector<Layer> layers;
    std::vector<float> final_norm;    // (d)
    std::vector<float> lm_head;       // (V, d); empty = tied
    std::vector<float> rope_factors;  // (dh/2): Llama 3.1's divisors of the angles; empty = none
};

std::vector<float> randomVector(std::size_t n, float center, float scale, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = center + u(rng);
    return v;
}

HfWeights randomWeights(const Dims& D, const std::string& arch, bool tied, std::mt19937& rng) {
    HfWeights w;
    const auto d = static_cast<std::size_t>(D.d);
    const auto q = sz(D.H, D.dh);
    const auto kv = sz(D.KV, D.dh);
    const auto ff = static_cast<std::size_t>(D.ff);
    w.embed = randomVector(static_cast<std::size_t>(D.V) * d, 0, 1.0f, rng);
    for (int l = 0; l < D.L; ++l) {
        HfWeights::Layer L;
        L.in_norm = randomVector(d, 1, 0.2f, rng);
        L.post_norm = randomVector(d, 1, 0.2f, rng);
        // Large enough Q/K that attention is far from uniform (a test that can fail).
        L.q = randomVector(q * d, 0, 0.15f, rng);
        L.k = randomVector(kv * d, 0, 0.15f, rng);
        L.v = randomVector(kv * d, 0, 0.1f, rng);
        L.o = randomVector(d * q, 0, 0.1f, rng);
        if (arch == "qwen2") {
            L.bq = randomVector(q, 0, 0.5f, rng);
            L.bk = randomVector(kv, 0, 0.5f, rng);
            L.bv = randomVector(kv, 0, 0.5f, rng);
        }
        if (arch == "qwen3") {
            L.q_norm = randomVector(static_cast<std::size_t>(D.dh), 1, 0.5f, rng);
            L.k_norm = randomVector(static_cast<std::size_t>(D.dh), 1, 0.5f, rng);
        }
        L.gate = randomVector(ff * d, 0, 0.1f, rng);
        L.up = randomVector(ff * d, 0, 0.1f, rng);
        L.down = randomVector(d * ff, 0, 0.1f, rng);
        w.layers.push_back(std::move(L));
    }
    w.final_norm = randomVector(d, 1, 0.2f, rng);
    if (!tied) w.lm_head = randomVector(static_cast<std::size_t>(D.V) * d, 0, 0.1f, rng);
    return w;
}

// llama.cpp's convert_hf_to_gguf permute(): within each head, row j·(dh/2) + i (rotate-half
// pair i, j = 0 or 1) moves to row 2i + j (adjacent pair i). unpermute is its inverse.
std::vector<float> permuteRows(const std::vector<float>& w, int heads, int dh, int in,
                               bool inverse) {
    std::vector<float> out(w.size());
    const int half = dh / 2;
    for (int h = 0; h < heads; ++h)
        for (int j = 0; j < 2; ++j)
            for (int i = 0; i < half; ++i) {
                const int hf = h * dh + j * half + i;
                const int meta = h * dh + 2 * i + j;
                const int from = inverse ? meta : hf;
                const int to = inverse ? hf : meta;
                std::copy_n(w.begin() + static_cast<std::ptrdiff_t>(from) * in, in,
                            out.begin() + static_cast<std::ptrdiff_t>(to) * in);
            }
    return out;
}

// What the file will give back for a tensor: dequantize(quantize(values)).
std::vector<float> throughType(GgmlType type, const std::vector<float>& v) {
    auto q = quantize(static_cast<std::uint32_t>(type), v);
    EXPECT_TRUE(q) << q.message();
    std::vector<float> back(v.size());
    EXPECT_TRUE(dequantize(static_cast<std::uint32_t>(type), *q, back));
    return back;
}

std::string bytesOf(GgmlType type, const std::vector<float>& v) {
    auto q = quantize(static_cast<std::uint32_t>(type), v);
    EXPECT_TRUE(q) << q.message();
    return std::string(reinterpret_cast<const char*>(q->data()), q->size());
}

// Writes the GGUF file of w (2-D tensors in type, 1-D ones in F32 as llama.cpp keeps them) and
// returns the weights the file holds, in Hugging Face's layout, for the reference.
HfWeights writeGguf(const std::string& path, const Dims& D, const std::string& arch,
                    const HfWeights& w, GgmlType type) {
    GgufWriter g;
    g.addString("general.architecture", arch);
    g.addString("general.name", "tiny-" + arch);
    g.addU32("general.file_type", 15);  // as llama-quantize labels a Q4_K_M mix
    g.addU32(arch + ".block_count", static_cast<std::uint32_t>(D.L));
    g.addU32(arch + ".embedding_length", static_cast<std::uint32_t>(D.d));
    g.addU32(arch + ".feed_forward_length", static_cast<std::uint32_t>(D.ff));
    g.addU32(arch + ".attention.head_count", static_cast<std::uint32_t>(D.H));
    g.addU32(arch + ".attention.head_count_kv", static_cast<std::uint32_t>(D.KV));
    g.addU32(arch + ".context_length", 512);
    g.addF32(arch + ".rope.freq_base", 1000000.0f);
    g.addF32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
    if (arch == "qwen3") {
        g.addU32(arch + ".attention.key_length", static_cast<std::uint32_t>(D.dh));
        g.addU32(arch + ".attention.value_length", static_cast<std::uint32_t>(D.dh));
    }
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    while (static_cast<int>(tokens.size()) < D.V)
        tokens.push_back("t" + std::to_string(tokens.size()));
    g.addString("tokenizer.ggml.model", "llama");
    g.addStringArray("tokenizer.ggml.tokens", tokens);
    g.addF32Array("tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.0f));
    g.addU32("tokenizer.ggml.bos_token_id", 1);
    g.addU32("tokenizer.ggml.eos_token_id", 2);

    const auto u = [](int x) { return static_cast<std::uint64_t>(x); };
    const bool permute = arch == "llama";
    HfWeights held = w;
    auto matrix = [&](const std::string& name, const std::vector<float>& hf, int out, int in,
                      int permuteHeads, std::vector<float>& heldSlot) {
        std::vector<float> stored =
            permute && permuteHeads > 0 ? permuteRows(hf, permuteHeads, D.dh, in, false) : hf;
        g.addTensor(name, {u(in), u(out)}, static_cast<std::uint32_t>(type), bytesOf(type, stored));
        std::vector<float> back = throughType(type, stored);
        heldSlot =
            permute && permuteHeads > 0 ? permuteRows(back, permuteHeads, D.dh, in, true) : back;
    };
    auto vec = [&](const std::string& name, const std::vector<float>& v) {
        g.addF32Tensor(name, {u(static_cast<int>(v.size()))}, v);
    };
    matrix("token_embd.weight", w.embed, D.V, D.d, 0, held.embed);
    for (int l = 0; l < D.L; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const auto& L = w.layers[static_cast<std::size_t>(l)];
        auto& HL = held.layers[static_cast<std::size_t>(l)];
        vec(p + "attn_norm.weight", L.in_norm);
        matrix(p + "attn_q.weight", L.q, D.H * D.dh, D.d, D.H, HL.q);
        matrix(p + "attn_k.weight", L.k, D.KV * D.dh, D.d, D.KV, HL.k);
        matrix(p + "attn_v.weight", L.v, D.KV * D.dh, D.d, 0, HL.v);
        matrix(p + "attn_output.weight", L.o, D.d, D.H * D.dh, 0, HL.o);
        if (!L.bq.empty()) {
            vec(p + "attn_q.bias", L.bq);
            vec(p + "attn_k.bias", L.bk);
            vec(p + "attn_v.bias", L.bv);
        }
        if (!L.q_norm.empty()) {
            vec(p + "attn_q_norm.weight", L.q_norm);
            vec(p + "attn_k_norm.weight", L.k_norm);
        }
        vec(p + "ffn_norm.weight", L.post_norm);
        matrix(p + "ffn_gate.weight", L.gate, D.ff, D.d, 0, HL.gate);
        matrix(p + "ffn_up.weight", L.up, D.ff, D.d, 0, HL.up);
        matrix(p + "ffn_down.weight", L.down, D.d, D.ff, 0, HL.down);
    }
    vec("output_norm.weight", w.final_norm);
    if (!w.rope_factors.empty()) vec("rope_freqs.weight", w.rope_factors);
    if (!w.lm_head.empty()) matrix("output.weight", w.lm_head, D.V, D.d, 0, held.lm_head);
    g.write(path);
    return held;
}

// ---- the reference forward, Hugging Face's LlamaModel / Qwen2Model / Qwen3Model in plain loops

using Rows = std::vector<std::vector<float>>;  // (T, n)

std::vector<float> rmsNorm(const std::vector<float>& x, const std::vector<float>& g, float eps) {
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    std::vector<float> o(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) o[i] = static_cast<float>(x[i] * r) * g[i];
    return o;
}

// y = W·x + b, W (out, in) row-major.
std::vector<float> apply(const std::vector<float>& W, const std::vector<float>& b,
                         const std::vector<float>& x, std::size_t out) {
    const std::size_t in = x.size();
    std::vector<float> y(out);
    for (std::size_t o = 0; o < out; ++o) {
        double s = b.empty() ? 0.0 : b[o];
        for (std::size_t i = 0; i < in; ++i) s += static_cast<double>(W[o * in + i]) * x[i];
        y[o] = static_cast<float>(s);
    }
    return y;
}

// rotate_half RoPE on one head vector at position t (angles divided by factors when given).
void ropeHalf(float* v, int dh, int t, double theta, const std::vector<float>& factors) {
    const int half = dh / 2;
    for (int i = 0; i < half; ++i) {
        double a = t * std::pow(theta, -2.0 * i / dh);
        if (!factors.empty()) a /= factors[static_cast<std::size_t>(i)];
        const double c = std::cos(a), s = std::sin(a);
        const double x0 = v[i], x1 = v[i + half];
        v[i] = static_cast<float>(x0 * c - x1 * s);
        v[i + half] = static_cast<float>(x1 * c + x0 * s);
    }
}

// Attention weights per layer and head: [l][h] is (T, T) row-major.
std::vector<std::vector<std::vector<double>>> referenceAttention(const Dims& D, const HfWeights& w,
                                                                 const std::vector<int>& ids,
                                                                 double theta, float eps) {
    const int T = static_cast<int>(ids.size());
    const auto d = static_cast<std::size_t>(D.d);
    Rows h(static_cast<std::size_t>(T));
    for (int t = 0; t < T; ++t)
        h[t].assign(w.embed.begin() + static_cast<std::ptrdiff_t>(ids[t]) * D.d,
                    w.embed.begin() + static_cast<std::ptrdiff_t>(ids[t] + 1) * D.d);
    std::vector<std::vector<std::vector<double>>> attn(static_cast<std::size_t>(D.L));
    for (int l = 0; l < D.L; ++l) {
        const auto& L = w.layers[static_cast<std::size_t>(l)];
        Rows q(T), k(T), v(T);
        for (int t = 0; t < T; ++t) {
            const auto x = rmsNorm(h[t], L.in_norm, eps);
            q[t] = apply(L.q, L.bq, x, sz(D.H, D.dh));
            k[t] = apply(L.k, L.bk, x, sz(D.KV, D.dh));
            v[t] = apply(L.v, L.bv, x, sz(D.KV, D.dh));
            for (int hh = 0; hh < D.H; ++hh) {
                float* qh = q[t].data() + hh * D.dh;
                if (!L.q_norm.empty()) {
                    std::vector<float> s(qh, qh + D.dh);
                    s = rmsNorm(s, L.q_norm, eps);
                    std::copy(s.begin(), s.end(), qh);
                }
                ropeHalf(qh, D.dh, t, theta, w.rope_factors);
            }
            for (int hh = 0; hh < D.KV; ++hh) {
                float* kh = k[t].data() + hh * D.dh;
                if (!L.k_norm.empty()) {
                    std::vector<float> s(kh, kh + D.dh);
                    s = rmsNorm(s, L.k_norm, eps);
                    std::copy(s.begin(), s.end(), kh);
                }
                ropeHalf(kh, D.dh, t, theta, w.rope_factors);
            }
        }
        Rows concat(T, std::vector<float>(sz(D.H, D.dh), 0.0f));
        attn[l].resize(static_cast<std::size_t>(D.H));
        for (int hh = 0; hh < D.H; ++hh) {
            const int kvh = hh / (D.H / D.KV);
            auto& A = attn[l][hh];
            A.assign(sz(T, T), 0.0);
            for (int i = 0; i < T; ++i) {
                std::vector<double> s(static_cast<std::size_t>(i + 1));
                double mx = -1e300;
                for (int j = 0; j <= i; ++j) {
                    double dot = 0;
                    for (int e = 0; e < D.dh; ++e)
                        dot += static_cast<double>(q[i][hh * D.dh + e]) * k[j][kvh * D.dh + e];
                    s[j] = dot / std::sqrt(static_cast<double>(D.dh));
                    mx = std::max(mx, s[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; ++j) sum += (s[j] = std::exp(s[j] - mx));
                for (int j = 0; j <= i; ++j) {
                    A[sz(i, T) + static_cast<std::size_t>(j)] = s[j] / sum;
                    for (int e = 0; e < D.dh; ++e)
                        concat[i][hh * D.dh + e] +=
                            static_cast<float>(s[j] / sum) * v[j][kvh * D.dh + e];
                }
            }
        }
        for (int t = 0; t < T; ++t) {
            const auto o = apply(L.o, {}, concat[t], d);
            for (std::size_t e = 0; e < d; ++e) h[t][e] += o[e];
            const auto x = rmsNorm(h[t], L.post_norm, eps);
            const auto g = apply(L.gate, {}, x, static_cast<std::size_t>(D.ff));
            const auto u = apply(L.up, {}, x, static_cast<std::size_t>(D.ff));
            std::vector<float> a(g.size());
            for (std::size_t e = 0; e < g.size(); ++e)
                a[e] = g[e] / (1.0f + std::exp(-g[e])) * u[e];
            const auto dn = apply(L.down, {}, a, d);
            for (std::size_t e = 0; e < d; ++e) h[t][e] += dn[e];
        }
    }
    return attn;
}

struct ModelCase {
    std::string arch;
    GgmlType type;
    bool tied;
    bool rope_factors = false;  // Llama 3.1-style rope_freqs.weight
};

class GgufTinyModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(GgufTinyModel, EveryHeadMatchesTheReference) {
    const ModelCase& c = GetParam();
    const Dims D;
    std::mt19937 rng(11);
    HfWeights w = randomWeights(D, c.arch, c.tied, rng);
    if (c.rope_factors) {
        // As Llama 3.1's rope_scaling makes them: 1 for fast pairs, up to 8 for slow ones (at
        // theta 10^6 and position 7 the slow pairs barely turn, so large factors are needed to
        // see them; the test's theta is the same for both sides anyway).
        for (int i = 0; i < D.dh / 2; ++i)
            w.rope_factors.push_back(i < 8 ? 1.0f
                                           : 1.0f + 7.0f * static_cast<float>(i - 8) / 23.0f);
    }
    TempDir dir;
    const std::string path = dir / "tiny.gguf";
    const HfWeights held = writeGguf(path, D, c.arch, w, c.type);

    auto loaded = loadModel(path);
    ASSERT_TRUE(loaded) << loaded.message();
    std::shared_ptr<const Model> m = *loaded;
    EXPECT_EQ(m->config.name, "tiny-" + c.arch);
    EXPECT_EQ(m->quantization, "Q4_K_M") << "general.file_type 15";
    EXPECT_EQ(m->config.rope_pairs, c.arch == "llama" ? RopePairs::Adjacent : RopePairs::Halves);
    EXPECT_EQ(m->weights.lm_head_tied, c.tied);
    EXPECT_EQ(m->config.n_kv_heads, D.KV);
    EXPECT_EQ(m->weights.layers[0].self_attention.b_Q.size(), c.arch == "qwen2" ? D.H * D.dh : 0);
    EXPECT_EQ(m->weights.layers[0].self_attention.q_norm.size(), c.arch == "qwen3" ? D.dh : 0);
    EXPECT_EQ(m->config.rope_freq_factors, w.rope_factors);
    // Every type but F32 stays as the file stores it.
    EXPECT_EQ(m->weights.layers[0].self_attention.W_K.isPacked(), c.type != GgmlType::F32);
    EXPECT_EQ(m->weights.token_embedding.isPacked(), c.type != GgmlType::F32);

    const std::vector<int> ids = {1, 17, 250, 3, 99, 42, 42, 7};
    auto trace = runTokens(m, tokensOf(*m, ids));
    ASSERT_TRUE(trace) << trace.message();
    const auto ref = referenceAttention(D, held, ids, 1000000.0, 1e-6f);
    const int T = static_cast<int>(ids.size());
    double err = 0, norm = 0, worst = 0, flattest = 1;
    for (int l = 0; l < D.L; ++l) {
        for (int h = 0; h < D.H; ++h) {
            const Mat& got = (*trace)->layers[l].self_attention.heads[h].weights;
            ASSERT_EQ(got.rows(), T);
            for (int i = 0; i < T; ++i)
                for (int j = 0; j < T; ++j) {
                    const double r = ref[l][h][sz(i, T) + static_cast<std::size_t>(j)];
                    err += (got(i, j) - r) * (got(i, j) - r);
                    norm += r * r;
                    worst = std::max(worst, std::abs(got(i, j) - r));
                }
            flattest = std::min(flattest, static_cast<double>(got.row(T - 1).maxCoeff()));
        }
    }
    const double nmse = err / norm;
    std::printf("[ %s %s%s ] every head vs reference: nmse %.3g, max |diff| %.3g\n", c.arch.c_str(),
                ggmlTypeName(c.type).c_str(), c.tied ? " tied" : "", nmse, worst);
    EXPECT_LE(nmse, 1e-10);
    EXPECT_LE(worst, 1e-5);
    // The check has teeth: attention is far from uniform (1/8 on the last row).
    EXPECT_GT(flattest, 0.2) << "attention too flat for a meaningful comparison";
}

INSTANTIATE_TEST_SUITE_P(
    ArchitecturesAndTypes, GgufTinyModel,
    ::testing::Values(
        ModelCase{"llama", GgmlType::F32, false}, ModelCase{"llama", GgmlType::F16, false},
        ModelCase{"llama", GgmlType::BF16, true}, ModelCase{"llama", GgmlType::Q8_0, false},
        ModelCase{"llama", GgmlType::Q4_0, false}, ModelCase{"llama", GgmlType::Q4_K, false},
        ModelCase{"llama", GgmlType::Q5_K, false}, ModelCase{"llama", GgmlType::Q6_K, false},
        ModelCase{"llama", GgmlType::Q4_K, true, true}, ModelCase{"qwen2", GgmlType::F32, true},
        ModelCase{"qwen2", GgmlType::Q8_0, true}, ModelCase{"qwen2", GgmlType::Q4_K, false},
        ModelCase{"qwen2", GgmlType::Q6_K, true}, ModelCase{"qwen3", GgmlType::F32, true},
        ModelCase{"qwen3", GgmlType::F16, true}, ModelCase{"qwen3", GgmlType::BF16, true},
        ModelCase{"qwen3", GgmlType::Q4_0, true}, ModelCase{"qwen3", GgmlType::Q4_K, true},
        ModelCase{"qwen3", GgmlType::Q5_K, false}, ModelCase{"qwen3", GgmlType::Q6_K, true}),
    [](const ::testing::TestParamInfo<ModelCase>& info) {
        return info.param.arch + "_" + ggmlTypeName(info.param.type) +
               (info.param.tied ? "_tied" : "") + (info.param.rope_factors ? "_ropefreqs" : "");
    });

// Packed weights (kept as the file stores them, widened inside the products) against the same
// file widened to float32 at load: the same numbers, so the same attention, on a text long
// enough for the packed kernel (more than the few-rows product's 16 tokens).
class GgufPacked : public ::testing::TestWithParam<GgmlType> {};

TEST_P(GgufPacked, PackedWeightsGiveTheTraceOfWidenedOnes) {
    const GgmlType type = GetParam();
    const Dims D;
    std::mt19937 rng(17);
    const HfWeights w = randomWeights(D, "llama", /*tied=*/true, rng);
    TempDir dir;
    const std::string path = dir / "m.gguf";
    writeGguf(path, D, "llama", w, type);
    auto packed = loadGguf(path);
    LoadOptions widen;
    widen.pack_weights = false;
    auto dense = loadGguf(path, widen);
    ASSERT_TRUE(packed && dense) << packed.message() << dense.message();
    const AttentionWeights& pa = (*packed)->weights.layers[0].self_attention;
    ASSERT_TRUE(pa.W_Q.isPacked());
    EXPECT_TRUE((*packed)->weights.layers[1].ffn.W2.isPacked());
    EXPECT_TRUE((*packed)->weights.token_embedding.isPacked());
    EXPECT_EQ(pa.W_Q.storedType(), static_cast<std::uint32_t>(type));
    EXPECT_LT(pa.W_Q.storedBytes(), static_cast<std::size_t>(pa.W_Q.size()) * 4);
    EXPECT_FALSE((*dense)->weights.layers[0].self_attention.W_Q.isPacked());
    EXPECT_EQ(pa.W_Q.toDense(), (*dense)->weights.layers[0].self_attention.W_Q.dense());

    std::vector<int> ids;
    for (int i = 0; i < 40; ++i) ids.push_back(1 + (i * 37) % (D.V - 1));
    auto tp = runTokens(*packed, tokensOf(**packed, ids));
    auto td = runTokens(*dense, tokensOf(**dense, ids));
    ASSERT_TRUE(tp && td) << tp.message() << td.message();
    const double worst = maxAttentionDifference(**tp, **td);
    std::printf("[ %s ] packed vs widened: max |diff| %.3g\n",
                ggmlTypeName(static_cast<std::uint32_t>(type)).c_str(), worst);
    EXPECT_LE(worst, 1e-5);
    const Mat& lp = (*tp)->logits;
    const Mat& ld = (*td)->logits;
    ASSERT_EQ(lp.rows(), 40);
    ASSERT_EQ(lp.cols(), D.V);
    EXPECT_LE((lp - ld).cwiseAbs().maxCoeff(), 1e-4 * ld.cwiseAbs().maxCoeff());
}

INSTANTIATE_TEST_SUITE_P(Types, GgufPacked,
                         ::testing::Values(GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                                           GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K,
                                           GgmlType::Q6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& info) {
                             return ggmlTypeName(static_cast<std::uint32_t>(info.param));
                         });

TEST(GgufModel, PackedWeightsKeepTheFileMappedWhileTheModelLives) {
    const Dims D;
    std::mt19937 rng(3);
    const HfWeights w = randomWeights(D, "qwen3", true, rng);
    TempDir dir;
    const std::string path = dir / "m.gguf";
    writeGguf(path, D, "qwen3", w, GgmlType::Q4_K);
    auto loaded = loadGguf(path);
    ASSERT_TRUE(loaded) << loaded.message();
    std::shared_ptr<Model> m = std::move(loaded).value();
    const PackedMatrix* view = m->weights.layers[0].self_attention.W_Q.packedView();
    ASSERT_NE(view, nullptr);
    std::weak_ptr<const void> map = view->owner;
    Weight kept = m->weights.layers[0].ffn.W1;
    const Mat before = kept.toDense();
    m.reset();
    ASSERT_FALSE(map.expired()) << "a weight still uses the file";
    EXPECT_EQ(kept.toDense(), before);
    kept = Weight();
    EXPECT_TRUE(map.expired()) << "the last user of the file has gone: the map is released";
}

TEST(GgufModel, LoadReportsProgressAndCanBeCancelled) {
    const Dims D;
    std::mt19937 rng(4);
    const HfWeights w = randomWeights(D, "llama", false, rng);
    TempDir dir;
    const std::string path = dir / "m.gguf";
    writeGguf(path, D, "llama", w, GgmlType::Q8_0);
    std::vector<double> seen;
    OpenOptions o;
    o.load.progress = [&seen](double f) { seen.push_back(f); };
    auto m = openModel(path, o);
    ASSERT_TRUE(m) << m.message();
    ASSERT_GE(seen.size(), static_cast<std::size_t>(D.L));
    for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
    EXPECT_GT(seen.front(), 0.0);
    EXPECT_EQ(seen.back(), 1.0);

    // Cancelled after the first layer: the load stops with Cancelled.
    std::atomic<bool> cancel{false};
    o.load.cancel = &cancel;
    o.load.progress = [&cancel](double) { cancel = true; };
    auto c = openModel(path, o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.code(), ErrorCode::Cancelled) << c.message();
    // Cancelled before it starts.
    o.load.progress = nullptr;
    auto early = loadModel(path, o.load);
    ASSERT_FALSE(early);
    EXPECT_EQ(early.code(), ErrorCode::Cancelled);
}

TEST(GgufModel, QuantizedModelStaysCloseToItsFloat32Original) {
    // The Q8_0 file's attention against the F32 file's: quantization moves it, but little.
    const Dims D;
    std::mt19937 rng(5);
    const HfWeights w = randomWeights(D, "qwen3", true, rng);
    TempDir dir;
    writeGguf(dir / "f32.gguf", D, "qwen3", w, GgmlType::F32);
    writeGguf(dir / "q8.gguf", D, "qwen3", w, GgmlType::Q8_0);
    auto a = loadModel(dir / "f32.gguf");
    auto b = loadModel(dir / "q8.gguf");
    ASSERT_TRUE(a && b);
    const std::vector<int> ids = {1, 5, 6, 7, 8};
    auto ta = runTokens(*a, tokensOf(**a, ids));
    auto tb = runTokens(*b, tokensOf(**b, ids));
    ASSERT_TRUE(ta && tb);
    const double worst = maxAttentionDifference(**ta, **tb);
    EXPECT_GT(worst, 0.0);
    EXPECT_LT(worst, 0.05);
}

// ---------------------------------------------------------------------------------------------
// Models we do not run, and broken ones

GgufWriter minimalHeader(const std::string& arch) {
    GgufWriter g;
    g.addString("general.architecture", arch);
    return g;
}

void expectLoadFails(const GgufWriter& g, ErrorCode code, const std::vector<std::string>& parts) {
    TempDir dir;
    const std::string path = dir / "m.gguf";
    g.write(path);
    auto m = loadModel(path);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.code(), code) << m.message();
    EXPECT_NE(m.message().find(path), std::string::npos) << m.message();
    for (const auto& p : parts) EXPECT_NE(m.message().find(p), std::string::npos) << m.message();
}

TEST(GgufModelBroken, UnsupportedArchitectureIsNamed) {
    expectLoadFails(minimalHeader("gemma2"), ErrorCode::UnsupportedArchitecture,
                    {"'gemma2'", "llama, qwen2 and qwen3"});
    expectLoadFails(GgufWriter(), ErrorCode::Corrupt, {"general.architecture"});
}

// A valid tiny llama file, then one thing broken.
std::string tinyFile(const TempDir& dir, const std::string& name, GgmlType type,
                     const std::string& arch = "llama") {
    const Dims D;
    std::mt19937 rng(1);
    const HfWeights w = randomWeights(D, arch, true, rng);
    std::string path = dir / name;
    writeGguf(path, D, arch, w, type);
    return path;
}

TEST(GgufModelBroken, TensorsOfTypesWeDoNotReadAreNamed) {
    // A file whose first layer's W_Q is Q4_1 (a type we know but do not widen yet).
    const Dims D;
    GgufWriter g = minimalHeader("llama");
    g.addU32("llama.block_count", 1);
    g.addU32("llama.embedding_length", static_cast<std::uint32_t>(D.d));
    g.addU32("llama.feed_forward_length", static_cast<std::uint32_t>(D.ff));
    g.addU32("llama.attention.head_count", static_cast<std::uint32_t>(D.H));
    g.addString("tokenizer.ggml.model", "llama");
    std::vector<std::string> toks = {"<unk>", "<s>", "</s>", "a"};
    g.addStringArray("tokenizer.ggml.tokens", toks);
    g.addF32Tensor("token_embd.weight", {static_cast<std::uint64_t>(D.d), 4},
                   std::vector<float>(static_cast<std::size_t>(D.d) * 4, 0.1f));
    g.addF32Tensor("blk.0.attn_norm.weight", {static_cast<std::uint64_t>(D.d)},
                   std::vector<float>(static_cast<std::size_t>(D.d), 1.0f));
    const std::uint64_t blocks = static_cast<std::uint64_t>(D.d) * D.d / 32;
    g.addTensor("blk.0.attn_q.weight",
                {static_cast<std::uint64_t>(D.d), static_cast<std::uint64_t>(D.d)},
                static_cast<std::uint32_t>(GgmlType::Q4_1), std::string(blocks * 20, '\0'));
    expectLoadFails(g, ErrorCode::UnsupportedFormat, {"'blk.0.attn_q.weight'", "Q4_1"});
}

TEST(GgufModelBroken, MissingTensorsWrongShapesAndTokenizers) {
    TempDir dir;
    const std::string ok = tinyFile(dir, "ok.gguf", GgmlType::Q8_0);
    ASSERT_TRUE(loadModel(ok));
    auto file = openGguf(ok);
    ASSERT_TRUE(file);

    // Rebuild the same file with one tensor left out / reshaped, via a writer that copies.
    auto rebuild = [&](const std::string& drop, const std::string& reshape,
                       const std::string& tokenizerModel) {
        GgufWriter g;
        const GgufFile& f = **file;
        for (const std::string& k : f.keys()) {
            const GgufType t = *f.typeOf(k);
            if (k == "tokenizer.ggml.model") {
                g.addString(k, tokenizerModel);
            } else if (t == GgufType::String) {
                g.addString(k, *f.getString(k));
            } else if (t == GgufType::UInt32) {
                g.addU32(k, static_cast<std::uint32_t>(*f.getUInt(k)));
            } else if (t == GgufType::Float32) {
                g.addF32(k, static_cast<float>(*f.getFloat(k)));
            } else if (*f.arrayTypeOf(k) == GgufType::String) {
                g.addStringArray(k, *f.getStringArray(k));
            } else {
                g.addF32Array(k, *f.getFloatArray(k));
            }
        }
        for (const GgufTensorInfo& t : f.tensors()) {
            if (t.name == drop) continue;
            std::vector<std::uint64_t> shape = t.shape;
            if (t.name == reshape) std::swap(shape[0], shape[1]);
            g.addTensor(t.name, shape, t.type,
                        std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
        }
        return g;
    };
    expectLoadFails(rebuild("blk.1.ffn_down.weight", "", "llama"), ErrorCode::Corrupt,
                    {"'blk.1.ffn_down.weight'"});
    // attn_output is [256, 256]: reshape ffn_up [256, 512] → [512, 256] instead.
    expectLoadFails(rebuild("", "blk.0.ffn_up.weight", "llama"), ErrorCode::Corrupt,
                    {"'blk.0.ffn_up.weight'", "[512, 256]", "expected [256, 512]"});
    // gpt2, llama and bert are read (gguf_tokenizer.h); Unigram ("ugm") is not.
    expectLoadFails(rebuild("", "", "ugm"), ErrorCode::UnsupportedFormat, {"\"ugm\""});
}

}  // namespace
}  // namespace attn
