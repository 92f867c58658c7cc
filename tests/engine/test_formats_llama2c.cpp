// llama2.c checkpoints: the real stories260K model loads, its tokenizer encodes as llama2.c
// does, and greedy decoding reproduces llama2.c's own expected story — once through a plain
// reference forward pass written here (checks the loader) and once through attn::runTokens
// (checks the engine's forward pass).

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "attn/formats/llama2c.h"
#include "attn/formats/load.h"
#include "attn/trace.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const fs::path kModelDir = testing::sharedDir() / "models" / "stories260K";
const std::string kCheckpoint = (kModelDir / "stories260K.bin").string();
const std::string kTokenizer = (kModelDir / "tok512.bin").string();

// The start of llama2.c's expected output for this model (PROVENANCE.md).
const std::string kExpectedStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

#define REQUIRE_STORIES()                                                             \
    do {                                                                              \
        if (!fs::exists(kCheckpoint) || !fs::exists(kTokenizer)) {                    \
            if (testing::onCi()) FAIL() << "stories260K missing under " << kModelDir; \
            GTEST_SKIP() << "stories260K not found under " << kModelDir               \
                         << " — the llama2.c checks did NOT run";                     \
        }                                                                             \
    } while (0)

// ---------------------------------------------------------------------------------------------
// A reference forward pass in llama2.c's own shape (run.c's forward()), one position at a
// time with a key/value cache, plain loops over our loaded weights. It shares no code with the
// engine's attention.

struct RefLlama {
    const Model& m;
    int d, hd, kv_dim, head, n_heads, n_kv;
    std::vector<std::vector<float>> k_cache, v_cache;  // per layer: (pos, kv_dim) flattened

    explicit RefLlama(const Model& model) : m(model) {
        const ModelConfig& c = m.config;
        d = c.d_model;
        hd = c.ffDim();
        head = c.headDim();
        n_heads = c.n_heads;
        n_kv = c.kvHeads();
        kv_dim = n_kv * head;
        k_cache.resize(static_cast<std::size_t>(c.n_layers));
        v_cache.resize(static_cast<std::size_t>(c.n_layers));
    }

    static std::vector<float> rmsnorm(const std::vector<float>& x, const RowVec& w) {
        double ss = 0;
        for (float v : x) ss += static_cast<double>(v) * v;
        const float scale = 1.0f / std::sqrt(static_cast<float>(ss / x.size()) + 1e-5f);
        std::vector<float> o(x.size());
        for (std::size_t i = 0; i < x.size(); ++i)
            o[i] = w(static_cast<Eigen::Index>(i)) * (scale * x[i]);
        return o;
    }
    // out = x · W with W (in, out)
    static std::vector<float> matvec(const std::vector<float>& x, const Mat& W) {
        std::vector<float> o(static_cast<std::size_t>(W.cols()), 0.0f);
        for (Eigen::Index j = 0; j < W.cols(); ++j) {
            float s = 0;
            for (Eigen::Index i = 0; i < W.rows(); ++i)
                s += x[static_cast<std::size_t>(i)] * W(i, j);
            o[static_cast<std::size_t>(j)] = s;
        }
        return o;
    }

    std::vector<float> forward(int token, int pos) {
        const ModelWeights& w = m.weights;
        std::vector<float> x(static_cast<std::size_t>(d));
        for (int i = 0; i < d; ++i) x[static_cast<std::size_t>(i)] = w.token_embedding(token, i);
        for (std::size_t l = 0; l < w.layers.size(); ++l) {
            const LayerWeights& lw = w.layers[l];
            std::vector<float> xb = rmsnorm(x, lw.norm1.gamma);
            std::vector<float> q = matvec(xb, lw.self_attention.W_Q);
            std::vector<float> k = matvec(xb, lw.self_attention.W_K);
            std::vector<float> v = matvec(xb, lw.self_attention.W_V);
            // RoPE: rotate adjacent pairs, frequency by the position inside the head.
            for (int i = 0; i < d; i += 2) {
                const int head_dim = i % head;
                const float freq = 1.0f / std::pow(10000.0f, head_dim / static_cast<float>(head));
                const float val = pos * freq;
                const float fcr = std::cos(val), fci = std::sin(val);
                const int rotn = i < kv_dim ? 2 : 1;
                for (int r = 0; r < rotn; ++r) {
                    std::vector<float>& vec = r == 0 ? q : k;
                    const float v0 = vec[static_cast<std::size_t>(i)];
                    const float v1 = vec[static_cast<std::size_t>(i + 1)];
                    vec[static_cast<std::size_t>(i)] = v0 * fcr - v1 * fci;
                    vec[static_cast<std::size_t>(i + 1)] = v0 * fci + v1 * fcr;
                }
            }
            k_cache[l].insert(k_cache[l].end(), k.begin(), k.end());
            v_cache[l].insert(v_cache[l].end(), v.begin(), v.end());
            std::vector<float> att_out(static_cast<std::size_t>(d), 0.0f);
            for (int h = 0; h < n_heads; ++h) {
                const int kvh = h / (n_heads / n_kv);
                std::vector<float> att(static_cast<std::size_t>(pos + 1));
                float mx = -INFINITY;
                for (int t = 0; t <= pos; ++t) {
                    float s = 0;
                    for (int i = 0; i < head; ++i)
                        s += q[static_cast<std::size_t>(h * head + i)] *
                             k_cache[l][static_cast<std::size_t>(t * kv_dim + kvh * head + i)];
                    s /= std::sqrt(static_cast<float>(head));
                    att[static_cast<std::size_t>(t)] = s;
                    mx = std::max(mx, s);
                }
                float sum = 0;
                for (float& a : att) {
                    a = std::exp(a - mx);
                    sum += a;
                }
                for (int t = 0; t <= pos; ++t) {
                    const float a = att[static_cast<std::size_t>(t)] / sum;
                    for (int i = 0; i < head; ++i)
                        att_out[static_cast<std::size_t>(h * head + i)] +=
                            a * v_cache[l][static_cast<std::size_t>(t * kv_dim + kvh * head + i)];
                }
            }
            std::vector<float> o = matvec(att_out, lw.self_attention.W_O);
            for (int i = 0; i < d; ++i)
                x[static_cast<std::size_t>(i)] += o[static_cast<std::size_t>(i)];
            xb = rmsnorm(x, lw.norm2.gamma);
            std::vector<float> h1 = matvec(xb, lw.ffn.W1);
            std::vector<float> h3 = matvec(xb, lw.ffn.W3);
            for (std::size_t i = 0; i < h1.size(); ++i) {
                const float s = h1[i] / (1.0f + std::exp(-h1[i]));  // SiLU
                h1[i] = s * h3[i];
            }
            o = matvec(h1, lw.ffn.W2);
            for (int i = 0; i < d; ++i)
                x[static_cast<std::size_t>(i)] += o[static_cast<std::size_t>(i)];
        }
        x = rmsnorm(x, w.final_norm.gamma);
        return matvec(x, w.lm_head);
    }
};

int argmax(const float* p, int n) { return static_cast<int>(std::max_element(p, p + n) - p); }

// ---------------------------------------------------------------------------------------------

TEST(Llama2cTest, Stories260KLoadsWithItsArchitecture) {
    REQUIRE_STORIES();
    auto header = readLlama2cHeader(kCheckpoint);
    ASSERT_TRUE(header) << header.message();
    EXPECT_EQ(header->dim, 64);
    EXPECT_EQ(header->hidden_dim, 172);
    EXPECT_EQ(header->n_layers, 5);
    EXPECT_EQ(header->n_heads, 8);
    EXPECT_EQ(header->n_kv_heads, 4);
    EXPECT_EQ(header->vocab_size, 512);
    EXPECT_EQ(header->seq_len, 512);
    EXPECT_TRUE(header->shared_classifier);
    EXPECT_EQ(header->expectedFileSize(), 1056540u);

    auto model = loadLlama2c(kCheckpoint);  // finds tok512.bin beside it
    ASSERT_TRUE(model) << model.message();
    const ModelConfig& c = (*model)->config;
    EXPECT_EQ(c.name, "stories260K");
    EXPECT_EQ(c.architecture, Architecture::Decoder);
    EXPECT_EQ(c.norm, NormKind::RMSNorm);
    EXPECT_TRUE(c.pre_norm);
    EXPECT_TRUE(c.final_norm);
    EXPECT_EQ(c.activation, Activation::SwiGLU);
    EXPECT_EQ(c.positional, PositionalKind::Rope);
    EXPECT_EQ(c.headDim(), 8);
    EXPECT_EQ(c.kvHeads(), 4);
    EXPECT_EQ(c.ffDim(), 172);
    EXPECT_EQ(c.max_len, 512);
    EXPECT_TRUE(c.has_lm_head);
    EXPECT_TRUE(validate(c)) << validate(c).message();
    const ModelWeights& w = (*model)->weights;
    EXPECT_EQ(w.token_embedding.rows(), 512);
    EXPECT_EQ(w.token_embedding.cols(), 64);
    ASSERT_EQ(w.lm_head.rows(), 64);
    ASSERT_EQ(w.lm_head.cols(), 512);
    EXPECT_EQ(w.lm_head, w.token_embedding.transpose());  // tied
    ASSERT_EQ(w.layers.size(), 5u);
    EXPECT_EQ(w.layers[0].self_attention.W_Q.rows(), 64);
    EXPECT_EQ(w.layers[0].self_attention.W_K.cols(), 32);  // 4 kv heads × 8
    EXPECT_EQ(w.layers[0].ffn.W1.cols(), 172);
    EXPECT_EQ(w.layers[0].ffn.W2.rows(), 172);
    EXPECT_EQ(w.layers[0].norm1.beta.size(), 0);  // RMSNorm has no bias

    // The first float after the header is token 0's first embedding value; check it against
    // the raw bytes so a shifted read cannot pass.
    const std::string raw = testing::readFile(kCheckpoint);
    float first = 0, emb_1_0 = 0, wq_0 = 0, wq_1 = 0;
    std::memcpy(&first, raw.data() + 28, 4);
    std::memcpy(&emb_1_0, raw.data() + 28 + 64 * 4, 4);  // token 1, component 0
    const std::size_t wq_off = 28 + 4 * (512 * 64 + 5 * 64);
    std::memcpy(&wq_0, raw.data() + wq_off, 4);      // wq[layer 0][out 0][in 0]
    std::memcpy(&wq_1, raw.data() + wq_off + 4, 4);  // wq[layer 0][out 0][in 1]
    EXPECT_EQ(w.token_embedding(0, 0), first);
    EXPECT_EQ(w.token_embedding(1, 0), emb_1_0);
    EXPECT_EQ(w.layers[0].self_attention.W_Q(0, 0), wq_0);
    EXPECT_EQ(w.layers[0].self_attention.W_Q(1, 0), wq_1);  // transposed: W_Q(in, out)
}

TEST(Llama2cTest, TokenizerEncodesLikeLlama2c) {
    REQUIRE_STORIES();
    auto tok = Llama2cTokenizer::load(kTokenizer, 512);
    ASSERT_TRUE(tok) << tok.message();
    const Llama2cTokenizer& t = **tok;
    EXPECT_EQ(t.vocabSize(), 512);
    EXPECT_EQ(t.piece(1), "\n<s>\n");
    EXPECT_EQ(t.piece(410), " ");
    EXPECT_EQ(t.piece(3), "<0x00>");

    // Worked out from tok512.bin's pieces and scores (higher score merges first):
    // " Once"=403 and " upon"=407 are pieces; " a"=261 (score -2); " time"=378; ","=432;
    // " Lily"=317; " saw"=394; " big"=370. " ball" is not a piece: " b"=268 (-9) merges first,
    // then "ll"=306 (-47), then "a"+"ll" → "all"=388 (-129); " b"+"all" is not a piece. "."=426.
    const std::string text = "Once upon a time, Lily saw a big ball.";
    const std::vector<int> expected = {1,   403, 407, 261, 378, 432, 317,
                                       394, 261, 370, 268, 388, 426};
    EXPECT_EQ(t.encodeIds(text), expected);
    EXPECT_EQ(t.decodeIds(expected), text);

    const std::vector<Token> tokens = t.encode(text);
    ASSERT_EQ(tokens.size(), expected.size());
    EXPECT_EQ(tokens[0].text, "<s>");
    EXPECT_EQ(tokens[0].begin, tokens[0].end);
    EXPECT_EQ(tokens[1].text, " Once");  // carries the dummy-prefix space
    EXPECT_EQ(tokens[1].begin, 0u);
    EXPECT_EQ(tokens[1].end, 4u);
    EXPECT_EQ(tokens[2].text, " upon");
    EXPECT_EQ(tokens[2].begin, 4u);  // its space is text[4]
    EXPECT_EQ(tokens[2].end, 9u);
    EXPECT_EQ(tokens[11].text, "all");
    EXPECT_EQ(text.substr(tokens[11].begin, tokens[11].end - tokens[11].begin), "all");

    // "ë" is no piece: its two UTF-8 bytes C3 AB fall back to <0xC3>=0xC3+3=198 and
    // <0xAB>=174. " Z" is no piece either, so the dummy space stays alone (410).
    const std::string zoe = "Zo\xC3\xAB ate 3 pies";
    const std::vector<int> zoe_ids = {1,   410, 469, 414, 198, 174, 261,
                                      413, 411, 410, 472, 282, 417, 406};
    EXPECT_EQ(t.encodeIds(zoe), zoe_ids);
    EXPECT_EQ(t.decodeIds(zoe_ids), zoe);  // the lone dummy space right after BOS is dropped
    const std::vector<Token> zt = t.encode(zoe);
    EXPECT_FALSE(zt[4].unknown) << "a byte-fallback piece is read exactly, not as <unk>";
    EXPECT_TRUE(zt[4].partial) << "it holds one of ë's two bytes";
    EXPECT_TRUE(zt[5].partial);
    EXPECT_FALSE(zt[3].partial);
    EXPECT_EQ(zt[4].begin, 2u);
    EXPECT_EQ(zt[4].end, 3u);
    EXPECT_EQ(t.decode(198), "\xC3");

    EXPECT_EQ(t.encodeIds(""), std::vector<int>{1});
    EXPECT_EQ(t.encodeIds("Lily", /*bos=*/false), std::vector<int>{317});
}

TEST(Llama2cTest, GreedyDecodingReproducesLlama2cStory) {
    REQUIRE_STORIES();
    auto loaded = loadModel(kCheckpoint);
    ASSERT_TRUE(loaded) << loaded.message();
    std::shared_ptr<const Model> model = *loaded;
    const auto& tok = dynamic_cast<const Llama2cTokenizer&>(*model->tokenizer);
    const int V = model->config.vocab_size;

    // 1. The reference forward over our loaded weights (checks the loader).
    std::vector<int> ref_ids = {1};
    std::vector<float> ref_last_logits;
    {
        RefLlama ref(*model);
        for (int pos = 0; pos < 199; ++pos) {
            ref_last_logits = ref.forward(ref_ids.back(), pos);
            ref_ids.push_back(argmax(ref_last_logits.data(), V));
        }
    }
    const std::string ref_text = tok.decodeIds(ref_ids);
    EXPECT_EQ(ref_text.substr(0, kExpectedStory.size()), kExpectedStory)
        << "reference forward over the loaded weights produced:\n"
        << ref_text;

    // 2. The engine's forward pass: recompute the whole sequence each step, argmax of the last
    // row of the logits.
    std::vector<int> ids = {1};
    Mat last_logits;
    const auto start = std::chrono::steady_clock::now();
    for (int step = 0; step < 199; ++step) {
        std::vector<Token> tokens;
        for (int id : ids) {
            Token t;
            t.id = id;
            t.text = tok.decode(id);
            tokens.push_back(std::move(t));
        }
        RunOptions opt;
        opt.detail_limit_bytes = 0;  // weights only: keep it fast
        auto trace = runTokens(model, tokens, opt);
        ASSERT_TRUE(trace) << trace.message();
        const Mat& logits = (*trace)->logits;  // (T, vocab)
        ASSERT_EQ(logits.rows(), static_cast<Eigen::Index>(ids.size()));
        ASSERT_EQ(logits.cols(), V);
        Eigen::Index best = 0;
        logits.row(logits.rows() - 1).maxCoeff(&best);
        ids.push_back(static_cast<int>(best));
        if (step == 198) last_logits = logits.row(logits.rows() - 1);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string text = tok.decodeIds(ids);
    EXPECT_EQ(text.substr(0, kExpectedStory.size()), kExpectedStory)
        << "engine forward pass (attn::runTokens) produced:\n"
        << text;
    EXPECT_EQ(ids, ref_ids) << "engine and reference disagree on the greedy sequence";

    // Same inputs when both sequences agree: compare the last logits.
    if (ids == ref_ids) {
        Mat ref_row = Eigen::Map<const Mat>(ref_last_logits.data(), 1, V);
        const auto diff = testing::compare(last_logits, ref_row);
        std::printf(
            "[ stories260K ] 199 greedy steps via runTokens in %.2f s; last-step logits "
            "vs reference: max |diff| %.3g (%.3g of max), nmse %.3g\n",
            seconds, diff.max_abs, diff.max_rel, diff.nmse);
        EXPECT_LT(diff.nmse, 1e-8);
    }
}

// ---------------------------------------------------------------------------------------------
// Bad files

TEST(Llama2cTest, TruncatedOrPaddedCheckpointNamesFileAndSizes) {
    REQUIRE_STORIES();
    TempDir dir;
    const std::string raw = testing::readFile(kCheckpoint);
    const std::string cut = dir / "cut.bin";
    testing::writeFile(cut, raw.substr(0, raw.size() - 100));
    fs::copy_file(kTokenizer, dir / "tok512.bin");
    auto r = loadLlama2c(cut);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(cut), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("1,056,540"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("1,056,440"), std::string::npos) << r.message();

    const std::string padded = dir / "padded.bin";
    testing::writeFile(padded, raw + "xx");
    r = loadModel(padded);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(padded), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("1,056,542"), std::string::npos) << r.message();

    const std::string tiny = dir / "tiny.bin";
    testing::writeFile(tiny, raw.substr(0, 10));
    r = loadLlama2c(tiny);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(tiny), std::string::npos);
    EXPECT_NE(r.message().find("too short"), std::string::npos) << r.message();
}

TEST(Llama2cTest, NonsenseHeaderIsRejected) {
    TempDir dir;
    const std::string path = dir / "junk.bin";
    // dim 10, 3 heads: not divisible.
    std::int32_t h[7] = {10, 20, 1, 3, 3, 16, 8};
    testing::writeFile(
        path, std::string(reinterpret_cast<const char*>(h), sizeof h) + std::string(4000, '\0'));
    auto r = readLlama2cHeader(path);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(path), std::string::npos);
    EXPECT_NE(r.message().find("divisible"), std::string::npos) << r.message();
    // Text file.
    testing::writeFile(path, "hello, this is not a model at all, just text");
    r = readLlama2cHeader(path);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("not a llama2.c checkpoint"), std::string::npos) << r.message();
    // A newer versioned export.
    std::string v1 = "ak42";
    v1 += std::string("\x01\x00\x00\x00", 4) + std::string(300, '\0');
    std::memcpy(v1.data(), "\x32\x34\x6b\x61", 4);  // 0x616b3432 little-endian
    testing::writeFile(path, v1);
    r = readLlama2cHeader(path);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("version 1"), std::string::npos) << r.message();
    auto missing = loadLlama2c(dir / "nothing.bin");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("nothing.bin"), std::string::npos);
}

TEST(Llama2cTest, MissingOrWrongTokenizerIsReported) {
    REQUIRE_STORIES();
    TempDir dir;
    const std::string ckpt = dir / "model.bin";
    fs::copy_file(kCheckpoint, ckpt);
    auto r = loadLlama2c(ckpt);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("tok512.bin"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find(ckpt), std::string::npos) << r.message();

    // A tokenizer cut in the middle of a token.
    const std::string raw = testing::readFile(kTokenizer);
    testing::writeFile(dir / "tokenizer.bin", raw.substr(0, raw.size() - 3));
    r = loadLlama2c(ckpt);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(dir / "tokenizer.bin"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("truncated"), std::string::npos) << r.message();

    // A tokenizer for a bigger vocabulary than the model's.
    testing::writeFile(dir / "tokenizer.bin", raw + raw.substr(4, 30));
    r = loadLlama2c(ckpt);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("another model"), std::string::npos) << r.message();

    // An explicit tokenizer path wins.
    r = loadLlama2c(ckpt, kTokenizer);
    EXPECT_TRUE(r) << r.message();
}

TEST(Llama2cTest, DamagedTokenizerFilesNeverCrash) {
    REQUIRE_STORIES();
    TempDir dir;
    const std::string raw = testing::readFile(kTokenizer);
    const std::string path = dir / "tok.bin";
    // Every cut inside the first tokens, then random damage anywhere.
    for (std::size_t n = 0; n < 200; ++n) {
        testing::writeFile(path, raw.substr(0, n));
        auto t = Llama2cTokenizer::load(path, 512);
        ASSERT_FALSE(t) << n;
        EXPECT_NE(t.message().find(path), std::string::npos) << t.message();
    }
    std::mt19937 rng(1);
    for (int trial = 0; trial < 150; ++trial) {
        std::string damaged = raw;
        damaged[rng() % damaged.size()] = static_cast<char>(rng() % 256);
        testing::writeFile(path, damaged);
        auto t = Llama2cTokenizer::load(path);
        if (t) {
            // Whatever loads must still encode and decode without trouble.
            const auto ids = (*t)->encodeIds("Once upon a time \xC3\xA9");
            EXPECT_FALSE(ids.empty());
            (void)(*t)->decodeIds(ids);
        } else {
            EXPECT_NE(t.message().find(path), std::string::npos) << t.message();
        }
    }
}

}  // namespace
}  // namespace attn
