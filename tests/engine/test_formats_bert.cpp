// Hugging Face BERT folders: BasicTokenizer + WordPiece on texts worked by hand, a tiny random
// checkpoint in the real on-disk layout traced by the engine and compared with a plain
// reference forward pass (post-norm, erf GELU, token type 0) written here.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>

#include "attn/formats/bert.h"
#include "attn/formats/load.h"
#include "attn/formats/safetensors.h"
#include "attn/trace.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::vector<std::string> kVocab = {"[PAD]",  "[UNK]", "[CLS]",        "[SEP]",
                                         "[MASK]",  // 0-4
                                         "the",    "cat",   "sat",          "on",
                                         "mat",  // 5-9
                                         "##s",    "un",    "##happy",      ",",
                                         ".",  // 10-14
                                         "!",      "cafe",  "\xE6\x9D\xB1", "\xE4\xBA\xAC",
                                         "##at",              // 15-19: 東 京
                                         "c",      "happy"};  // 20-21

std::string vocabTxt() {
    std::string s;
    for (const auto& v : kVocab) s += v + "\n";
    return s;
}

std::vector<int> idsOf(const std::vector<Token>& tokens) {
    std::vector<int> ids;
    for (const auto& t : tokens) ids.push_back(t.id);
    return ids;
}

std::vector<std::string> textsOf(const std::vector<Token>& tokens) {
    std::vector<std::string> out;
    for (const auto& t : tokens) out.push_back(t.text);
    return out;
}

TEST(WordPieceTest, BasicTokenizerLowersStripsAccentsSplitsPunctuationAndCjk) {
    WordPieceTokenizer tok(kVocab);
    // Control characters vanish inside a word; tabs and no-break spaces separate words; every
    // punctuation mark and every CJK ideograph is a word of its own.
    const auto words = tok.basicTokenize(
        "The M\xC3\xA2t,\tun-HAPPY\xC2\xA0x\x01y \xE6\x9D\xB1\xE4\xBA\xAC\xC3\x89t\xC3\xA9!");
    EXPECT_EQ(textsOf(words),
              (std::vector<std::string>{"the", "mat", ",", "un", "-", "happy", "xy", "\xE6\x9D\xB1",
                                        "\xE4\xBA\xAC", "ete", "!"}));
    // Spans point at the original bytes: "Mât" is bytes [4, 8).
    EXPECT_EQ(words[1].begin, 4u);
    EXPECT_EQ(words[1].end, 8u);

    WordPieceOptions cased;
    cased.lowercase = false;
    cased.strip_accents = false;
    WordPieceTokenizer keep(kVocab, cased);
    EXPECT_EQ(textsOf(keep.basicTokenize("The M\xC3\xA2t")),
              (std::vector<std::string>{"The", "M\xC3\xA2t"}));
}

TEST(WordPieceTest, GreedyLongestMatchOnHandMadeVocabulary) {
    TempDir dir;
    testing::writeFile(dir / "vocab.txt", vocabTxt());
    auto loaded = WordPieceTokenizer::load(dir / "vocab.txt");
    ASSERT_TRUE(loaded) << loaded.message();
    const WordPieceTokenizer& tok = **loaded;
    EXPECT_EQ(tok.vocabSize(), 22);
    EXPECT_EQ(tok.clsId(), 2);
    EXPECT_EQ(tok.maskId(), 4);

    // the=5; "cats" is no piece: longest prefix "cat"=6, then "##s"=10; sat=7 on=8 the=5;
    // "Mât" → "mat"=9; ","=13; "unhappy" → "un"=11 + "##happy"=12; "!"=15.
    const std::string text = "The cats sat on the M\xC3\xA2t, unhappy!";
    const std::vector<Token> tokens = tok.encode(text);
    EXPECT_EQ(idsOf(tokens), (std::vector<int>{2, 5, 6, 10, 7, 8, 5, 9, 13, 11, 12, 15, 3}));
    EXPECT_EQ(textsOf(tokens)[3], "##s");
    EXPECT_EQ(tokens[2].begin, 4u);  // "cat" of "cats"
    EXPECT_EQ(tokens[2].end, 7u);
    EXPECT_EQ(tokens[3].begin, 7u);  // "##s"
    EXPECT_EQ(tokens[3].end, 8u);
    EXPECT_EQ(tokens[7].begin, 20u);  // "mat" spans the original "Mât"
    EXPECT_EQ(tokens[7].end, 24u);
    EXPECT_EQ(tokens[0].begin, tokens[0].end);  // [CLS] is inserted
    EXPECT_EQ(tok.decodeIds(idsOf(tokens)), "the cats sat on the mat , unhappy !");

    // "Café"→"cafe"=16; 東=17 京=18 split even without a space; "[MASK]" kept whole = 4;
    // "xyz\x01q" loses its control character and has no first piece → one [UNK] showing the
    // word; "catcat": "cat" then no "##…" piece fits "cat" → the whole word is [UNK].
    const std::string t2 = "Caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC [MASK] xyz\x01q catcat";
    const std::vector<Token> k2 = tok.encode(t2);
    EXPECT_EQ(idsOf(k2), (std::vector<int>{2, 16, 17, 18, 4, 1, 1, 3}));
    EXPECT_EQ(k2[4].text, "[MASK]");
    EXPECT_TRUE(k2[5].unknown);
    EXPECT_EQ(k2[5].text, "xyz\x01q");
    EXPECT_TRUE(k2[6].unknown);
    EXPECT_EQ(k2[6].text, "catcat");

    // A word longer than 100 characters is [UNK] without trying pieces.
    EXPECT_EQ(idsOf(tok.encode(std::string(101, 'c'))), (std::vector<int>{2, 1, 3}));
    EXPECT_EQ(idsOf(tok.encode("")), (std::vector<int>{2, 3}));
}

// ---------------------------------------------------------------------------------------------
// Tiny BERT in HF layout and its reference forward pass.

struct BertHf {
    int d = 16, heads = 4, layers = 2, ff = 32, vocab = 22, positions = 24, types = 2;
    float eps = 1e-12f;
    Mat word, pos, type;  // (vocab, d), (positions, d), (types, d)
    RowVec emb_g, emb_b;
    struct Layer {
        Mat q, k, v, o;  // nn.Linear (out, in)
        RowVec bq, bk, bv, bo;
        RowVec ln1_g, ln1_b;
        Mat i;  // (ff, d)
        RowVec bi;
        Mat out;  // (d, ff)
        RowVec bout;
        RowVec ln2_g, ln2_b;
    };
    std::vector<Layer> L;
};

BertHf randomBert(unsigned seed) {
    std::mt19937 rng(seed);
    BertHf m;
    const float w = 0.6f / std::sqrt(static_cast<float>(m.d));
    m.word = testing::randomMat(m.vocab, m.d, 0.5f, rng);
    m.pos = testing::randomMat(m.positions, m.d, 0.2f, rng);
    m.type = testing::randomMat(m.types, m.d, 0.2f, rng);
    m.emb_g = testing::randomVec(m.d, 1.0f, 0.2f, rng);
    m.emb_b = testing::randomVec(m.d, 0.0f, 0.1f, rng);
    for (int l = 0; l < m.layers; ++l) {
        BertHf::Layer x;
        x.q = testing::randomMat(m.d, m.d, 2 * w, rng);
        x.k = testing::randomMat(m.d, m.d, 2 * w, rng);
        x.v = testing::randomMat(m.d, m.d, w, rng);
        x.o = testing::randomMat(m.d, m.d, w, rng);
        x.bq = testing::randomVec(m.d, 0, 0.1f, rng);
        x.bk = testing::randomVec(m.d, 0, 0.1f, rng);
        x.bv = testing::randomVec(m.d, 0, 0.1f, rng);
        x.bo = testing::randomVec(m.d, 0, 0.1f, rng);
        x.ln1_g = testing::randomVec(m.d, 1.0f, 0.2f, rng);
        x.ln1_b = testing::randomVec(m.d, 0.0f, 0.1f, rng);
        // Large pre-activations (|z| up to ~3), where erf GELU and its tanh approximation
        // differ visibly, so a wrong activation cannot pass.
        x.i = testing::randomMat(m.ff, m.d, 6 * w, rng);
        x.bi = testing::randomVec(m.ff, 0, 1.0f, rng);
        x.out = testing::randomMat(m.d, m.ff, w, rng);
        x.bout = testing::randomVec(m.d, 0, 0.1f, rng);
        x.ln2_g = testing::randomVec(m.d, 1.0f, 0.2f, rng);
        x.ln2_b = testing::randomVec(m.d, 0.0f, 0.1f, rng);
        m.L.push_back(std::move(x));
    }
    return m;
}

Status writeBertFolder(const std::string& folder, const BertHf& m, const std::string& prefix,
                       bool old_norm_names) {
    std::ostringstream cfg;
    cfg << R"({"model_type": "bert", "architectures": ["BertModel"], "hidden_size": )" << m.d
        << R"(, "num_attention_heads": )" << m.heads << R"(, "num_hidden_layers": )" << m.layers
        << R"(, "intermediate_size": )" << m.ff << R"(, "vocab_size": )" << m.vocab
        << R"(, "max_position_embeddings": )" << m.positions << R"(, "type_vocab_size": )"
        << m.types << R"(, "layer_norm_eps": 1e-12, "hidden_act": "gelu"})";
    testing::writeFile(folder + "/config.json", cfg.str());
    testing::writeFile(folder + "/vocab.txt", vocabTxt());
    const std::string g = old_norm_names ? ".gamma" : ".weight";
    const std::string b = old_norm_names ? ".beta" : ".bias";
    std::vector<std::pair<std::string, TensorF32>> t;
    const std::string e = prefix + "embeddings.";
    t.emplace_back(e + "word_embeddings.weight", toTensor(m.word));
    t.emplace_back(e + "position_embeddings.weight", toTensor(m.pos));
    t.emplace_back(e + "token_type_embeddings.weight", toTensor(m.type));
    t.emplace_back(e + "LayerNorm" + g, toTensor(m.emb_g));
    t.emplace_back(e + "LayerNorm" + b, toTensor(m.emb_b));
    for (int l = 0; l < m.layers; ++l) {
        const auto& x = m.L[static_cast<std::size_t>(l)];
        const std::string p = prefix + "encoder.layer." + std::to_string(l) + ".";
        t.emplace_back(p + "attention.self.query.weight", toTensor(x.q));
        t.emplace_back(p + "attention.self.query.bias", toTensor(x.bq));
        t.emplace_back(p + "attention.self.key.weight", toTensor(x.k));
        t.emplace_back(p + "attention.self.key.bias", toTensor(x.bk));
        t.emplace_back(p + "attention.self.value.weight", toTensor(x.v));
        t.emplace_back(p + "attention.self.value.bias", toTensor(x.bv));
        t.emplace_back(p + "attention.output.dense.weight", toTensor(x.o));
        t.emplace_back(p + "attention.output.dense.bias", toTensor(x.bo));
        t.emplace_back(p + "attention.output.LayerNorm" + g, toTensor(x.ln1_g));
        t.emplace_back(p + "attention.output.LayerNorm" + b, toTensor(x.ln1_b));
        t.emplace_back(p + "intermediate.dense.weight", toTensor(x.i));
        t.emplace_back(p + "intermediate.dense.bias", toTensor(x.bi));
        t.emplace_back(p + "output.dense.weight", toTensor(x.out));
        t.emplace_back(p + "output.dense.bias", toTensor(x.bout));
        t.emplace_back(p + "output.LayerNorm" + g, toTensor(x.ln2_g));
        t.emplace_back(p + "output.LayerNorm" + b, toTensor(x.ln2_b));
    }
    t.emplace_back(prefix + "pooler.dense.weight", toTensor(Mat(Mat::Identity(m.d, m.d))));
    const std::string path = folder + "/model.safetensors";
    if (auto st = writeSafetensors(path, t); !st) return st;
    // Real BERT files also carry int64 position ids (our writer writes floats only, so they
    // are appended by hand); they must not stop the load.
    const std::string raw = testing::readFile(path);
    std::uint64_t n = 0;
    std::memcpy(&n, raw.data(), 8);
    std::string header = raw.substr(8, n);
    std::string data = raw.substr(8 + n);
    while (!header.empty() && header.back() == ' ') header.pop_back();
    header.pop_back();  // the closing brace
    const std::size_t begin = data.size();
    for (std::int64_t i = 0; i < m.positions; ++i)
        data.append(reinterpret_cast<const char*>(&i), 8);
    header += ",\"" + prefix + "embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1," +
              std::to_string(m.positions) + "],\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data.size()) + "]}}";
    testing::writeRawSafetensors(path, header, data);
    return Ok{};
}

Mat layerNormRef(const Mat& x, const RowVec& g, const RowVec& b, double eps) {
    Mat y(x.rows(), x.cols());
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        double mean = 0, var = 0;
        for (Eigen::Index i = 0; i < x.cols(); ++i) mean += x(t, i);
        mean /= static_cast<double>(x.cols());
        for (Eigen::Index i = 0; i < x.cols(); ++i) var += (x(t, i) - mean) * (x(t, i) - mean);
        var /= static_cast<double>(x.cols());
        for (Eigen::Index i = 0; i < x.cols(); ++i)
            y(t, i) = static_cast<float>((x(t, i) - mean) / std::sqrt(var + eps) * g(i) + b(i));
    }
    return y;
}

// y = x·Wᵀ + b for an nn.Linear weight W (out, in), plain loops.
Mat linearRef(const Mat& x, const Mat& W, const RowVec& b) {
    Mat y(x.rows(), W.rows());
    for (Eigen::Index t = 0; t < x.rows(); ++t)
        for (Eigen::Index o = 0; o < W.rows(); ++o) {
            double s = b(o);
            for (Eigen::Index i = 0; i < W.cols(); ++i) s += static_cast<double>(x(t, i)) * W(o, i);
            y(t, o) = static_cast<float>(s);
        }
    return y;
}

Mat referenceBert(const BertHf& m, const std::vector<int>& ids) {
    const int T = static_cast<int>(ids.size());
    const int dh = m.d / m.heads;
    Mat x(T, m.d);
    for (int t = 0; t < T; ++t)
        x.row(t) = m.word.row(ids[static_cast<std::size_t>(t)]) + m.pos.row(t) + m.type.row(0);
    x = layerNormRef(x, m.emb_g, m.emb_b, m.eps);
    for (const auto& L : m.L) {
        const Mat q = linearRef(x, L.q, L.bq), k = linearRef(x, L.k, L.bk),
                  v = linearRef(x, L.v, L.bv);
        Mat ctx = Mat::Zero(T, m.d);
        for (int h = 0; h < m.heads; ++h)
            for (int i = 0; i < T; ++i) {
                std::vector<double> w(static_cast<std::size_t>(T));
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < T; ++j) {  // every key: no mask
                    double s = 0;
                    for (int c = 0; c < dh; ++c) s += q(i, h * dh + c) * k(j, h * dh + c);
                    w[static_cast<std::size_t>(j)] = s / std::sqrt(static_cast<double>(dh));
                    mx = std::max(mx, w[static_cast<std::size_t>(j)]);
                }
                for (double& a : w) sum += (a = std::exp(a - mx));
                for (int j = 0; j < T; ++j)
                    for (int c = 0; c < dh; ++c)
                        ctx(i, h * dh + c) += static_cast<float>(w[static_cast<std::size_t>(j)] /
                                                                 sum * v(j, h * dh + c));
            }
        x = layerNormRef(x + linearRef(ctx, L.o, L.bo), L.ln1_g, L.ln1_b, m.eps);  // post-norm
        Mat hid = linearRef(x, L.i, L.bi);
        for (Eigen::Index n = 0; n < hid.size(); ++n) {
            const double z = hid.data()[n];
            hid.data()[n] = static_cast<float>(0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0))));
        }
        x = layerNormRef(x + linearRef(hid, L.out, L.bout), L.ln2_g, L.ln2_b, m.eps);
    }
    return x;
}

struct BertVariant {
    const char* prefix;
    bool old_names;
};

class BertFolderTest : public ::testing::TestWithParam<BertVariant> {};

TEST_P(BertFolderTest, TracedHiddenStatesMatchReferenceForward) {
    TempDir dir;
    const BertHf hf = randomBert(5);
    ASSERT_TRUE(writeBertFolder(dir.path().string(), hf, GetParam().prefix, GetParam().old_names));
    {
        auto file = SafetensorsFile::open(dir / "model.safetensors");
        ASSERT_TRUE(file) << file.message();
        const TensorInfo* ids =
            (*file)->find(std::string(GetParam().prefix) + "embeddings.position_ids");
        ASSERT_NE(ids, nullptr);
        EXPECT_EQ(ids->dtype, DType::I64);
    }
    auto loaded = loadModel(dir.path().string());
    ASSERT_TRUE(loaded) << loaded.message();
    std::shared_ptr<const Model> model = *loaded;
    const ModelConfig& c = model->config;
    EXPECT_EQ(c.architecture, Architecture::Encoder);
    EXPECT_FALSE(c.pre_norm);
    EXPECT_TRUE(c.embedding_norm);
    EXPECT_FALSE(c.has_lm_head);
    EXPECT_EQ(c.activation, Activation::GELU);
    EXPECT_EQ(c.type_vocab_size, 2);
    EXPECT_FLOAT_EQ(c.norm_eps, 1e-12f);
    EXPECT_EQ(model->mask_id, 4);
    EXPECT_EQ(model->tokenizer->name(), "WordPiece");
    EXPECT_TRUE(validate(c)) << validate(c).message();

    const std::string text = "The cats sat on the M\xC3\xA2t, unhappy!";
    auto trace = run(model, text);
    ASSERT_TRUE(trace) << trace.message();
    const std::vector<int> ids = {2, 5, 6, 10, 7, 8, 5, 9, 13, 11, 12, 15, 3};
    ASSERT_EQ(idsOf((*trace)->tokens), ids);
    const auto diff = testing::compare((*trace)->final_hidden, referenceBert(hf, ids));
    std::printf("[ bert %s%s ] final_hidden: max |diff| %.3g (%.3g of max), nmse %.3g\n",
                GetParam().prefix, GetParam().old_names ? " gamma/beta" : "", diff.max_abs,
                diff.max_rel, diff.nmse);
    // Float against double: a few ulps (a tanh-GELU in place of erf-GELU gives ~1e-7).
    EXPECT_LT(diff.nmse, 1e-11);
    EXPECT_LT(diff.max_rel, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Layouts, BertFolderTest,
                         ::testing::Values(BertVariant{"", false}, BertVariant{"bert.", false},
                                           BertVariant{"bert.", true}));

TEST(BertFolderErrors, BrokenFoldersNameFileAndProblem) {
    TempDir dir;
    const BertHf hf = randomBert(9);
    const std::string folder = dir.path().string();
    ASSERT_TRUE(writeBertFolder(folder, hf, "bert.", false));
    ASSERT_TRUE(loadModel(folder));

    // Missing vocabulary.
    fs::rename(dir / "vocab.txt", dir / "vocab.bak");
    auto r = loadModel(folder);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(dir / "vocab.txt"), std::string::npos) << r.message();
    fs::rename(dir / "vocab.bak", dir / "vocab.txt");

    // hidden_size that disagrees with the tensors.
    std::string cfg = testing::readFile(dir / "config.json");
    const std::string good_cfg = cfg;
    cfg.replace(cfg.find("\"intermediate_size\": 32"), 23, "\"intermediate_size\": 64");
    testing::writeFile(dir / "config.json", cfg);
    r = loadModel(folder);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(dir / "model.safetensors"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("intermediate.dense.weight' has shape [32, 16], expected [64, 16]"),
              std::string::npos)
        << r.message();

    // Relative position embeddings are not something we run.
    cfg = good_cfg;
    cfg.insert(cfg.size() - 1, R"(, "position_embedding_type": "relative_key")");
    testing::writeFile(dir / "config.json", cfg);
    r = loadModel(folder);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(dir / "config.json"), std::string::npos);
    EXPECT_NE(r.message().find("relative_key"), std::string::npos) << r.message();

    // Not a BERT checkpoint at all.
    testing::writeFile(dir / "config.json", good_cfg);
    ASSERT_TRUE(writeSafetensors(dir / "model.safetensors", {{"x", TensorF32{{1}, {1}}}}));
    r = loadModel(folder);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("word_embeddings"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find(dir / "model.safetensors"), std::string::npos) << r.message();
}

TEST(BertTokenizerConfigTest, TokenizerConfigControlsLowerCasing) {
    TempDir dir;
    ASSERT_TRUE(writeBertFolder(dir.path().string(), randomBert(2), "", false));
    auto uncased = loadModel(dir.path().string());
    ASSERT_TRUE(uncased) << uncased.message();
    EXPECT_EQ(idsOf((*uncased)->tokenizer->encode("The cat")), (std::vector<int>{2, 5, 6, 3}));
    // A cased model: "The" is not in the (lower-case) vocabulary.
    testing::writeFile(dir / "tokenizer_config.json", R"({"do_lower_case": false})");
    auto cased = loadModel(dir.path().string());
    ASSERT_TRUE(cased) << cased.message();
    EXPECT_EQ(idsOf((*cased)->tokenizer->encode("The cat")), (std::vector<int>{2, 1, 6, 3}));
    EXPECT_EQ(idsOf((*cased)->tokenizer->encode("caf\xC3\xA9")), (std::vector<int>{2, 1, 3}));
}

}  // namespace
}  // namespace attn
