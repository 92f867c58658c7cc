// Hugging Face GPT-2 folders: byte-level BPE on texts worked by hand, a tiny random checkpoint
// in the real on-disk layout traced by the engine and compared with a plain reference forward
// pass written here, and every broken folder reported with the file and the problem.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <numbers>

#include "attn/formats/gpt2.h"
#include "attn/formats/load.h"
#include "attn/trace.h"
#include "formats_test_util.h"
#include "gpt2_fixture.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using fixture::Gpt2Hf;
using fixture::Gpt2Shape;
using fixture::Gpt2TokenizerFiles;
using testing::TempDir;

using Pieces = std::vector<std::string>;

Pieces split(std::string_view text) {
    Pieces out;
    for (const auto& [b, e] : ByteLevelBpeTokenizer::splitPieces(text))
        out.emplace_back(text.substr(b, e - b));
    return out;
}

TEST(Gpt2TokenizerTest, PreTokenizationFollowsGpt2Pattern) {
    // Letters/numbers/other runs take one leading ASCII space; a run of whitespace before a
    // word leaves its last space to that word; trailing whitespace stays whole.
    EXPECT_EQ(split("Hello world's  big\n\n 42x!? "),
              (Pieces{"Hello", " world", "'s", " ", " big", "\n\n", " 42", "x", "!?", " "}));
    EXPECT_EQ(split("I'm we'll they've it'd 'S"),
              (Pieces{"I", "'m", " we", "'ll", " they", "'ve", " it", "'d", " '", "S"}));
    // Cyrillic, CJK and accented Latin are letters (\p{L}); "²" is a number (\p{N}: No).
    EXPECT_EQ(split("Привет мир 東京 café x²"),
              (Pieces{"Привет", " мир", " 東京", " café", " x", "²"}));
    EXPECT_EQ(split("a\tb"), (Pieces{"a", "\t", "b"}));  // only ' ' joins a following word
    EXPECT_EQ(split("   "), (Pieces{"   "}));
    EXPECT_EQ(split(""), Pieces{});
    EXPECT_EQ(split("a\xFF\xFE b"), (Pieces{"a", "\xFF\xFE", " b"}));  // invalid bytes: "other"
}

TEST(Gpt2TokenizerTest, ByteToUnicodeTable) {
    EXPECT_EQ(ByteLevelBpeTokenizer::byteToSymbol(' '), "\xC4\xA0");   // U+0120 Ġ
    EXPECT_EQ(ByteLevelBpeTokenizer::byteToSymbol('\n'), "\xC4\x8A");  // U+010A Ċ
    EXPECT_EQ(ByteLevelBpeTokenizer::byteToSymbol('A'), "A");
    EXPECT_EQ(ByteLevelBpeTokenizer::byteToSymbol(0xE9), "\xC3\xA9");  // é stands for itself
    EXPECT_EQ(ByteLevelBpeTokenizer::byteToSymbol(0xAD), "\xC5\x83");  // soft hyphen → U+0143
}

// Ids 0..255 are the bytes by value; merges (rank order) and the tokens they make:
//   0 "Ġ t" → Ġt 256 · 1 "h e" → he 257 · 2 "Ġt he" → Ġthe 258 · 3 "l l" → ll 259 ·
//   4 "he ll" → hell 260 · 5 "hell o" → hello 261 · 6 "Ġ c" → Ġc 262 · 7 "a t" → at 263;
//   "<|endoftext|>" 264.
Gpt2TokenizerFiles handTokenizer() {
    const std::string G = "\xC4\xA0";  // Ġ
    Gpt2TokenizerFiles t;
    t.extra = {G + "t", "he", G + "the", "ll", "hell", "hello", G + "c", "at"};
    t.merges = {{G, "t"},     {"h", "e"},    {G + "t", "he"}, {"l", "l"},
                {"he", "ll"}, {"hell", "o"}, {G, "c"},        {"a", "t"}};
    return t;
}

std::shared_ptr<const ByteLevelBpeTokenizer> loadHandTokenizer(const TempDir& dir) {
    const Gpt2TokenizerFiles t = handTokenizer();
    fixture::writeText(dir / "vocab.json", fixture::gpt2VocabJson(t, 265));
    fixture::writeText(dir / "merges.txt", fixture::gpt2MergesTxt(t));
    auto tok = ByteLevelBpeTokenizer::load(dir / "vocab.json", dir / "merges.txt");
    EXPECT_TRUE(tok) << tok.message();
    return tok ? *tok : nullptr;
}

std::vector<int> idsOf(const std::vector<Token>& tokens) {
    std::vector<int> ids;
    for (const auto& t : tokens) ids.push_back(t.id);
    return ids;
}

TEST(Gpt2TokenizerTest, BpeMergesByRankOnHandMadeVocabulary) {
    TempDir dir;
    auto tok = loadHandTokenizer(dir);
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->vocabSize(), 265);
    // "hello": h e l l o → he (rank 1) → ll (3) → hell (4) → hello (5).
    // " the": Ġ t h e → Ġt (0) → he (1) → Ġthe (2).
    // " cat": Ġ c a t → Ġc (6) → at (7); "Ġc at" is no merge.
    const std::string text = "hello the cat";
    const std::vector<Token> tokens = tok->encode(text);
    EXPECT_EQ(idsOf(tokens), (std::vector<int>{261, 258, 262, 263}));
    ASSERT_EQ(tokens.size(), 4u);
    EXPECT_EQ(tokens[1].text, " the");
    EXPECT_EQ(tokens[1].begin, 5u);
    EXPECT_EQ(tokens[1].end, 9u);
    EXPECT_EQ(tokens[3].text, "at");
    EXPECT_EQ(tokens[3].begin, 11u);
    EXPECT_EQ(tok->decodeIds(idsOf(tokens)), text);

    // Merges apply in rank order, not left to right: "hel" has no "hel" token, so
    // h e l → he l; "ell" stays e ll → ids 'e'=101, 'll'=259.
    EXPECT_EQ(idsOf(tok->encode("hel")), (std::vector<int>{257, 'l'}));
    EXPECT_EQ(idsOf(tok->encode("ell")), (std::vector<int>{'e', 259}));

    // é is two bytes with no merge: two tokens, each showing U+FFFD, decoding back to é.
    const std::vector<Token> e = tok->encode("\xC3\xA9");
    EXPECT_EQ(idsOf(e), (std::vector<int>{0xC3, 0xA9}));
    EXPECT_EQ(e[0].text, "\xEF\xBF\xBD");
    EXPECT_EQ(tok->decodeIds(idsOf(e)), "\xC3\xA9");

    // The special token is matched whole.
    const std::vector<Token> s = tok->encode("hi<|endoftext|> the");
    EXPECT_EQ(idsOf(s), (std::vector<int>{'h', 'i', 264, 258}));
    EXPECT_EQ(s[2].text, "<|endoftext|>");
    EXPECT_EQ(s[2].begin, 2u);
    EXPECT_EQ(s[2].end, 15u);
    EXPECT_EQ(tok->decode(264), "<|endoftext|>");
    EXPECT_EQ(tok->decode(258), " the");
}

TEST(Gpt2TokenizerTest, OverlappingPairsAndLongWords) {
    // Bytes by value, then "aa" 256 (rank 0: "a a") and "aaaa" 257 (rank 1: "aa aa").
    std::vector<std::pair<std::string, int>> vocab;
    for (int b = 0; b < 256; ++b)
        vocab.emplace_back(ByteLevelBpeTokenizer::byteToSymbol(static_cast<unsigned char>(b)), b);
    vocab.emplace_back("aa", 256);
    vocab.emplace_back("aaaa", 257);
    const ByteLevelBpeTokenizer tok(vocab, {{"a", "a"}, {"aa", "aa"}});
    // "aaaaa": every "a a" merges left to right first → aa aa a, then aa aa → aaaa a.
    EXPECT_EQ(idsOf(tok.encode("aaaaa")), (std::vector<int>{257, 'a'}));
    EXPECT_EQ(idsOf(tok.encode("aaa")), (std::vector<int>{256, 'a'}));
    // One 100 000-letter word: 25 000 "aaaa" tokens (and no quadratic stall).
    const std::vector<Token> long_word = tok.encode(std::string(100000, 'a'));
    ASSERT_EQ(long_word.size(), 25000u);
    EXPECT_EQ(long_word.back().id, 257);
    EXPECT_EQ(long_word.back().end, 100000u);
}

TEST(Gpt2TokenizerTest, BadTokenizerFilesNameTheFile) {
    TempDir dir;
    testing::writeFile(dir / "vocab.json", "[1, 2]");
    testing::writeFile(dir / "merges.txt", "#version: 0.2\na b\n");
    auto r = ByteLevelBpeTokenizer::load(dir / "vocab.json", dir / "merges.txt");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(dir / "vocab.json"), std::string::npos) << r.message();
    testing::writeFile(dir / "vocab.json", R"({"a": 0, "b": -4})");
    r = ByteLevelBpeTokenizer::load(dir / "vocab.json", dir / "merges.txt");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("'b'"), std::string::npos) << r.message();
    testing::writeFile(dir / "vocab.json", R"({"a": 0, "b": 1})");
    testing::writeFile(dir / "merges.txt", "#version: 0.2\na b\nabc\n");
    r = ByteLevelBpeTokenizer::load(dir / "vocab.json", dir / "merges.txt");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(dir / "merges.txt"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("line 3"), std::string::npos) << r.message();
}

// ---------------------------------------------------------------------------------------------
// Reference forward pass of GPT-2 over the HF-layout weights (Conv1D x·W, fused c_attn).

Mat layerNorm(const Mat& x, const RowVec& g, const RowVec& b, float eps) {
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

// y = x·W + b with plain loops.
Mat affine(const Mat& x, const Mat& W, const RowVec& b) {
    Mat y(x.rows(), W.cols());
    for (Eigen::Index t = 0; t < x.rows(); ++t)
        for (Eigen::Index j = 0; j < W.cols(); ++j) {
            double s = b(j);
            for (Eigen::Index i = 0; i < W.rows(); ++i) s += static_cast<double>(x(t, i)) * W(i, j);
            y(t, j) = static_cast<float>(s);
        }
    return y;
}

struct RefOut {
    Mat final_hidden;  // (T, d)
    Mat logits;        // (T, vocab)
};

RefOut referenceGpt2(const Gpt2Hf& m, const std::vector<int>& ids) {
    const int T = static_cast<int>(ids.size());
    const int d = m.shape.d;
    const int H = m.shape.heads;
    const int dh = d / H;
    Mat x(T, d);
    for (int t = 0; t < T; ++t)
        x.row(t) = m.wte.row(ids[static_cast<std::size_t>(t)]) + m.wpe.row(t);
    for (const auto& L : m.layers) {
        const Mat a = layerNorm(x, L.ln1_g, L.ln1_b, m.shape.eps);
        const Mat qkv = affine(a, L.c_attn_w, L.c_attn_b);  // (T, 3d)
        Mat concat = Mat::Zero(T, d);
        for (int h = 0; h < H; ++h) {
            for (int i = 0; i < T; ++i) {
                std::vector<double> w(static_cast<std::size_t>(i + 1));
                double mx = -INFINITY;
                for (int j = 0; j <= i; ++j) {  // causal
                    double s = 0;
                    for (int k = 0; k < dh; ++k) s += qkv(i, h * dh + k) * qkv(j, d + h * dh + k);
                    w[static_cast<std::size_t>(j)] = s / std::sqrt(static_cast<double>(dh));
                    mx = std::max(mx, w[static_cast<std::size_t>(j)]);
                }
                double sum = 0;
                for (double& v : w) sum += (v = std::exp(v - mx));
                for (int j = 0; j <= i; ++j)
                    for (int k = 0; k < dh; ++k)
                        concat(i, h * dh + k) += static_cast<float>(
                            w[static_cast<std::size_t>(j)] / sum * qkv(j, 2 * d + h * dh + k));
            }
        }
        x += affine(concat, L.c_proj_w, L.c_proj_b);
        const Mat m2 = layerNorm(x, L.ln2_g, L.ln2_b, m.shape.eps);
        Mat hid = affine(m2, L.fc_w, L.fc_b);
        for (Eigen::Index i = 0; i < hid.size(); ++i) {
            const double v = hid.data()[i];
            hid.data()[i] = static_cast<float>(
                0.5 * v *
                (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (v + 0.044715 * v * v * v))));
        }
        x += affine(hid, L.proj_w, L.proj_b);
    }
    RefOut out;
    out.final_hidden = layerNorm(x, m.lnf_g, m.lnf_b, m.shape.eps);
    out.logits = affine(out.final_hidden, m.wte.transpose(), RowVec::Zero(m.shape.vocab));
    return out;
}

class Gpt2FolderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(Gpt2FolderTest, TracedHiddenStatesMatchReferenceForward) {
    TempDir dir;
    Gpt2Shape shape;  // d 16, 4 heads, 2 layers, vocab 265, 32 positions
    const Gpt2Hf hf = fixture::randomGpt2(shape, 7);
    ASSERT_TRUE(fixture::writeGpt2Folder(dir.path().string(), hf, handTokenizer(), GetParam()));

    auto loaded = loadModel(dir.path().string());
    ASSERT_TRUE(loaded) << loaded.message();
    std::shared_ptr<const Model> model = *loaded;
    const ModelConfig& c = model->config;
    EXPECT_EQ(c.architecture, Architecture::Decoder);
    EXPECT_EQ(c.norm, NormKind::LayerNorm);
    EXPECT_TRUE(c.pre_norm);
    EXPECT_TRUE(c.final_norm);
    EXPECT_EQ(c.activation, Activation::GELUTanh);
    EXPECT_EQ(c.positional, PositionalKind::Learned);
    EXPECT_EQ(c.max_len, 32);
    EXPECT_EQ(c.vocab_size, 265);
    EXPECT_EQ(model->tokenizer->name(), "byte-level BPE");
    EXPECT_EQ(model->eos_id, 264);
    EXPECT_TRUE(validate(c)) << validate(c).message();

    // Random ids over the whole vocabulary, and a real text through run().
    std::mt19937 rng(11);
    std::vector<Token> tokens;
    std::vector<int> ids;
    for (int t = 0; t < 20; ++t) {
        Token tok;
        tok.id = static_cast<int>(rng() % 265);
        tok.text = "t";
        ids.push_back(tok.id);
        tokens.push_back(tok);
    }
    auto trace = runTokens(model, tokens);
    ASSERT_TRUE(trace) << trace.message();
    const RefOut ref = referenceGpt2(hf, ids);
    const auto dh = testing::compare((*trace)->final_hidden, ref.final_hidden);
    const auto dl = testing::compare((*trace)->logits, ref.logits);
    std::printf(
        "[ gpt2 %s ] final_hidden: max |diff| %.3g (%.3g of max), nmse %.3g; logits nmse %.3g\n",
        GetParam().empty() ? "no prefix" : GetParam().c_str(), dh.max_abs, dh.max_rel, dh.nmse,
        dl.nmse);
    EXPECT_LT(dh.nmse, 1e-11);
    EXPECT_LT(dh.max_rel, 1e-5);
    EXPECT_LT(dl.nmse, 1e-11);

    auto text_trace = run(model, "hello the cat");
    ASSERT_TRUE(text_trace) << text_trace.message();
    EXPECT_EQ(idsOf((*text_trace)->tokens), (std::vector<int>{261, 258, 262, 263}));
    const auto dt = testing::compare((*text_trace)->final_hidden,
                                     referenceGpt2(hf, {261, 258, 262, 263}).final_hidden);
    EXPECT_LT(dt.nmse, 1e-11);
}

INSTANTIATE_TEST_SUITE_P(Prefixes, Gpt2FolderTest, ::testing::Values("", "transformer."));

TEST(Gpt2FolderTokenizerJson, OnlyATokenizerJsonGivesTheSameTokens) {
    // Newer uploads carry tokenizer.json instead of vocab.json + merges.txt: the same vocabulary
    // and merges written that way must tokenize alike (read by the tokenizer.json reader).
    TempDir dir;
    const Gpt2Hf hf = fixture::randomGpt2(Gpt2Shape{}, 3);
    ASSERT_TRUE(fixture::writeGpt2Folder(dir.path().string(), hf, handTokenizer(), ""));
    auto with_files = loadModel(dir.path().string());
    ASSERT_TRUE(with_files) << with_files.message();
    nlohmann::json merges = nlohmann::json::array();
    for (const auto& [a, b] : handTokenizer().merges) merges.push_back(a + " " + b);
    const nlohmann::json vocab = nlohmann::json::parse(testing::readFile(dir / "vocab.json"));
    const nlohmann::json tj = {
        {"added_tokens",
         {{{"id", vocab.at("<|endoftext|>")}, {"content", "<|endoftext|>"}, {"special", true}}}},
        {"pre_tokenizer",
         {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
    testing::writeFile(dir / "tokenizer.json", tj.dump());
    std::filesystem::remove(dir / "vocab.json");
    std::filesystem::remove(dir / "merges.txt");
    auto with_json = loadModel(dir.path().string());
    ASSERT_TRUE(with_json) << with_json.message();
    EXPECT_EQ((*with_json)->eos_id, (*with_files)->eos_id);
    EXPECT_GE((*with_json)->eos_id, 0);
    for (const std::string text : {"the cat sat", " hello  world<|endoftext|>x", "naïve 🦙"}) {
        std::vector<int> a, b;
        for (const Token& t : (*with_files)->tokenizer->encode(text)) a.push_back(t.id);
        for (const Token& t : (*with_json)->tokenizer->encode(text)) b.push_back(t.id);
        EXPECT_EQ(a, b) << text;
    }
}

// ---------------------------------------------------------------------------------------------
// Broken folders

// Rewrites model.safetensors' header through edit (offsets stay relative to the data section).
void editHeader(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
    const std::string raw = testing::readFile(path);
    std::uint64_t n = 0;
    std::memcpy(&n, raw.data(), 8);
    nlohmann::json h = nlohmann::json::parse(raw.substr(8, n));
    edit(h);
    testing::writeRawSafetensors(path, h.dump(), raw.substr(8 + n));
}

struct BrokenFolder : ::testing::Test {
    TempDir dir;
    Gpt2Hf hf = fixture::randomGpt2(Gpt2Shape{}, 3);
    std::string folder() const { return dir.path().string(); }
    std::string weights() const { return dir / "model.safetensors"; }
    void SetUp() override {
        ASSERT_TRUE(fixture::writeGpt2Folder(folder(), hf, handTokenizer(), "transformer."));
        ASSERT_TRUE(loadModel(folder()));
    }
    void expectError(const std::string& must_name, const std::string& problem) {
        auto r = loadModel(folder());
        ASSERT_FALSE(r) << "loaded although broken";
        EXPECT_NE(r.message().find(must_name), std::string::npos) << r.message();
        EXPECT_NE(r.message().find(problem), std::string::npos) << r.message();
    }
};

TEST_F(BrokenFolder, MissingTensor) {
    editHeader(weights(), [](nlohmann::json& h) { h.erase("transformer.h.1.mlp.c_fc.bias"); });
    expectError(weights(), "'transformer.h.1.mlp.c_fc.bias' is missing");
}

TEST_F(BrokenFolder, WrongTensorShape) {
    // Same byte count, other shape: (16, 48) → (48, 16).
    editHeader(weights(), [](nlohmann::json& h) {
        h["transformer.h.0.attn.c_attn.weight"]["shape"] = {48, 16};
    });
    expectError(weights(), "has shape [48, 16], expected [16, 48]");
}

TEST_F(BrokenFolder, UnsupportedDtype) {
    editHeader(weights(), [](nlohmann::json& h) { h["transformer.wte.weight"]["dtype"] = "I32"; });
    expectError(weights(), "I32");
}

TEST_F(BrokenFolder, TruncatedWeights) {
    const std::string raw = testing::readFile(weights());
    testing::writeFile(weights(), raw.substr(0, raw.size() / 2));
    expectError(weights(), "truncated");
}

TEST_F(BrokenFolder, UnknownArchitecture) {
    testing::writeFile(dir / "config.json", fixture::gpt2ConfigJson(hf.shape, "xyz"));
    expectError("unknown architecture 'xyz' in " + (dir / "config.json"), "xyz");
}

TEST_F(BrokenFolder, ConfigWithoutKeyOrNotJson) {
    std::string cfg = fixture::gpt2ConfigJson(hf.shape);
    cfg.replace(cfg.find("\"n_embd\""), 8, "\"n_embx\"");
    testing::writeFile(dir / "config.json", cfg);
    expectError(dir / "config.json", "\"n_embd\" is missing");
    testing::writeFile(dir / "config.json", "{ not json");
    expectError(dir / "config.json", "not valid JSON");
}

TEST_F(BrokenFolder, ConfigDisagreesWithWeights) {
    Gpt2Shape bigger = hf.shape;
    bigger.positions = 64;
    testing::writeFile(dir / "config.json", fixture::gpt2ConfigJson(bigger));
    expectError(weights(), "'transformer.wpe.weight' has shape [32, 16], expected [64, 16]");
}

TEST_F(BrokenFolder, MissingTokenizerOrWeights) {
    fs::remove(dir / "vocab.json");
    expectError(dir / "vocab.json", "no such file");
    ASSERT_TRUE(fixture::writeGpt2Folder(folder(), hf, handTokenizer()));
    fs::remove(weights());
    expectError(weights(), "no such file");
}

TEST_F(BrokenFolder, TokenizerLargerThanVocabulary) {
    Gpt2Shape smaller = hf.shape;
    smaller.vocab = 200;
    testing::writeFile(dir / "config.json", fixture::gpt2ConfigJson(smaller));
    expectError(folder(), "vocab_size 200");
}

}  // namespace
}  // namespace attn
