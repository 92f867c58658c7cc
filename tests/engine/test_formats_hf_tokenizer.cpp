// tokenizer.json: the real Qwen3 (byte-level BPE) and Llama-2-format (SentencePiece BPE with
// byte fallback) files give the ids of an independent tokenizer (Hugging Face's tokenizers.js;
// expected ids in tests/data/tokenizers, made by scripts/tokenizer-reference/generate) on texts
// of many scripts; small hand-made files check merges, spans, partial characters and the
// parser's refusals.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "attn/formats/hf_tokenizer.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kHfDir = testing::sharedDir() / "tokenizers" / "hf";
const fs::path kDataDir = fs::path(ATTN_SOURCE_DIR) / "tests" / "data" / "tokenizers";

// Compares every case of <name>.expected.json; returns the number of cases compared.
int compareWithReference(const std::string& name) {
    const fs::path tj = kHfDir / name / "tokenizer.json";
    auto tok = loadHfTokenizer(tj.string());
    EXPECT_TRUE(tok.ok()) << (tok.ok() ? "" : tok.message());
    if (!tok.ok()) return 0;
    const json expected =
        json::parse(testing::readFile((kDataDir / (name + ".expected.json")).string()));
    int compared = 0;
    int mismatches = 0;
    for (const json& c : expected.at("cases")) {
        const std::string text = c.at("text").get<std::string>();
        for (const bool special : {true, false}) {
            const std::vector<int> want =
                c.at(special ? "ids" : "ids_no_special").get<std::vector<int>>();
            const std::vector<int> got = (*tok)->encodeIds(text, special);
            ++compared;
            if (got != want) {
                ++mismatches;
                ADD_FAILURE() << name << (special ? "" : " (no special tokens)") << ": text "
                              << json(text).dump() << "\n  expected " << testing::idList(want)
                              << "\n  got      " << testing::idList(got);
            }
        }
    }
    EXPECT_EQ(mismatches, 0) << mismatches << " of " << compared << " cases differ";
    return compared;
}

#define REQUIRE_HF(name)                                                                       \
    do {                                                                                       \
        if (!fs::exists(kHfDir / name / "tokenizer.json")) {                                   \
            if (testing::onCi()) FAIL() << "missing " << (kHfDir / name);                      \
            GTEST_SKIP() << "no " << (kHfDir / name) << " — the reference checks did NOT run"; \
        }                                                                                      \
    } while (0)

TEST(HfTokenizerReference, Qwen3MatchesTokenizersJs) {
    REQUIRE_HF("qwen3");
    EXPECT_GE(compareWithReference("qwen3"), 100);
}

TEST(HfTokenizerReference, Llama2FormatMatchesTokenizersJs) {
    REQUIRE_HF("llama2");
    EXPECT_GE(compareWithReference("llama2"), 100);
}

TEST(HfTokenizerReference, Qwen3SpansDecodeAndSpecialTokens) {
    REQUIRE_HF("qwen3");
    auto tok = loadHfTokenizer((kHfDir / "qwen3" / "tokenizer.json").string());
    ASSERT_TRUE(tok.ok()) << tok.message();
    EXPECT_EQ((*tok)->name(), "byte-level BPE");
    const std::string text = "Hi <|im_start|>мир 🦙\n";
    const std::vector<Token> tokens = (*tok)->encode(text);
    // Spans tile the text in order; decoding every id gives the text back.
    std::size_t at = 0;
    std::string decoded;
    for (const Token& t : tokens) {
        EXPECT_EQ(t.begin, at);
        EXPECT_LT(t.begin, t.end);
        at = t.end;
        decoded += (*tok)->decode(t.id);
    }
    EXPECT_EQ(at, text.size());
    EXPECT_EQ(decoded, text);
    const auto special =
        std::find_if(tokens.begin(), tokens.end(), [](const Token& t) { return t.id == 151644; });
    ASSERT_NE(special, tokens.end()) << "<|im_start|> is matched before the model";
    EXPECT_EQ(special->text, "<|im_start|>");
    EXPECT_EQ(text.substr(special->begin, special->end - special->begin), "<|im_start|>");
}

TEST(HfTokenizerReference, Llama2ByteFallbackGroupsBackIntoCharacters) {
    REQUIRE_HF("llama2");
    auto tok = loadHfTokenizer((kHfDir / "llama2" / "tokenizer.json").string());
    ASSERT_TRUE(tok.ok()) << tok.message();
    EXPECT_EQ((*tok)->name(), "SentencePiece BPE");
    const std::string text = "a 🦙 b";
    const std::vector<Token> tokens = (*tok)->encode(text);
    ASSERT_FALSE(tokens.empty());
    EXPECT_EQ(tokens[0].id, 1);  // BOS from the TemplateProcessing post-processor
    EXPECT_EQ(tokens[0].begin, tokens[0].end);
    int partial = 0;
    for (const Token& t : tokens) partial += t.partial ? 1 : 0;
    EXPECT_EQ(partial, 4) << "🦙 is not in the vocabulary: four <0xHH> pieces";
    const std::vector<TokenGroup> groups = groupPartialCharacters(text, tokens);
    const auto llama = std::find_if(groups.begin(), groups.end(),
                                    [](const TokenGroup& g) { return g.count == 4; });
    ASSERT_NE(llama, groups.end());
    EXPECT_EQ(llama->text, "🦙");
    EXPECT_EQ(text.substr(llama->begin, llama->end - llama->begin), "🦙");
    EXPECT_EQ(groups.size(), tokens.size() - 3);
    // "▁b": the dummy "▁" of a space maps back to the space, the piece covers " b".
    EXPECT_EQ(tokens.back().text, " b");
    EXPECT_EQ(text.substr(tokens.back().begin), " b");
}

TEST(HfTokenizerReference, RandomTextKeepsSpansAndRoundTrips) {
    REQUIRE_HF("qwen3");
    REQUIRE_HF("llama2");
    auto qwen = loadHfTokenizer((kHfDir / "qwen3" / "tokenizer.json").string());
    auto llama = loadHfTokenizer((kHfDir / "llama2" / "tokenizer.json").string());
    ASSERT_TRUE(qwen.ok() && llama.ok());
    // NFC-stable pieces plus invalid UTF-8 (a lone continuation byte, a cut-off lead byte).
    const std::vector<std::string> alphabet = {"a", "Z", " ", "  ", "\n",   "\t",   "7",    "'s",
                                               ".", "é", "Ж", "中", "🦙", "\xff", "\xe4", "\x80"};
    std::mt19937 rng(12);
    for (int round = 0; round < 200; ++round) {
        std::string text;
        const int n = static_cast<int>(rng() % 40);
        for (int k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
        for (const auto* tok : {&*qwen, &*llama}) {
            const std::vector<Token> tokens = (*tok)->encode(text, false);
            std::size_t last = 0;
            for (const Token& t : tokens) {
                ASSERT_LE(t.begin, t.end);
                ASSERT_LE(t.end, text.size());
                ASSERT_GE(t.begin, last) << "spans go forward";
                last = t.begin;
            }
            if (tok == &*qwen) {
                // Byte-level BPE loses nothing, not even invalid bytes.
                std::string back;
                for (const Token& t : tokens) back += (*tok)->decode(t.id);
                EXPECT_EQ(back, text)
                    << json(text).dump(-1, ' ', false, json::error_handler_t::replace);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-made files.

std::string tinyByteLevel(const std::string& merges) {
    // Bytes a, b, c, space ("Ġ") and the merged tokens; merges in either form.
    return R"({"version":"1.0","added_tokens":[{"id":7,"content":"<eos>","special":true}],
      "normalizer":null,
      "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
      "post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},
        {"SpecialToken":{"id":"<eos>","type_id":0}}],"special_tokens":{"<eos>":{"id":"<eos>","ids":[7],"tokens":["<eos>"]}}},
      "model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"Ġ":3,"ab":4,"abc":5,"Ġa":6},
        "merges":)" +
           merges + "}}";
}

TEST(HfTokenizerJson, MergesByRankInBothForms) {
    for (const std::string& merges : {std::string(R"(["a b","ab c","Ġ a"])"),
                                      std::string(R"([["a","b"],["ab","c"],["Ġ","a"]])")}) {
        auto tok = parseHfTokenizerJson(tinyByteLevel(merges), "tiny.json");
        ASSERT_TRUE(tok.ok()) << tok.message();
        // Worked by hand: GPT-2's pattern cuts "abc ab" into "abc" and " ab". "abc": a b
        // (rank 0) → ab, then ab c (rank 1) → abc. " ab": a b (rank 0) beats Ġ a (rank 2),
        // leaving Ġ, ab. " ac": Ġ a → Ġa, then c. EOS from the template at the end.
        EXPECT_EQ((*tok)->encodeIds("abc ab"), (std::vector<int>{5, 3, 4, 7}));
        EXPECT_EQ((*tok)->encodeIds("abc ab", false), (std::vector<int>{5, 3, 4}));
        EXPECT_EQ((*tok)->encodeIds(" ac"), (std::vector<int>{6, 2, 7}));
    }
}

TEST(HfTokenizerJson, NormalizersKeepSpansOfTheTypedText) {
    // NFKC turns the ligature "ﬁ" (3 bytes) into "fi", Lowercase "A" into "a": both pieces of
    // the ligature span the ligature, and the ids are those of the normalized letters.
    const std::string file = R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},
        {"type":"Lowercase"}]},
      "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":false},
      "model":{"type":"BPE","vocab":{"f":0,"i":1,"a":2,"fi":3},"merges":[]}})";
    auto tok = parseHfTokenizerJson(file, "norm.json");
    ASSERT_TRUE(tok.ok()) << tok.message();
    const std::string text =
        "\xEF\xAC\x81"
        "A";  // "ﬁA"
    const std::vector<Token> tokens = (*tok)->encode(text);
    ASSERT_EQ(tokens.size(), 3u);
    EXPECT_EQ(tokens[0].id, 0);
    EXPECT_EQ(tokens[1].id, 1);
    EXPECT_EQ(tokens[2].id, 2);
    EXPECT_EQ(tokens[0].begin, 0u);
    EXPECT_EQ(tokens[0].end, 3u);
    EXPECT_EQ(tokens[1].begin, 0u);
    EXPECT_EQ(tokens[1].end, 3u);
    EXPECT_EQ(tokens[2].begin, 3u);
    EXPECT_EQ(tokens[2].end, 4u);
    EXPECT_EQ(tokens[2].text, "a");
}

TEST(HfTokenizerJson, RefusesWhatItDoesNotRead) {
    auto expectError = [](const std::string& text, const std::string& part) {
        auto tok = parseHfTokenizerJson(text, "bad.json");
        ASSERT_FALSE(tok.ok()) << text;
        EXPECT_NE(tok.message().find("bad.json"), std::string::npos) << tok.message();
        EXPECT_NE(tok.message().find(part), std::string::npos) << tok.message();
    };
    expectError(std::string(100, '[') + std::string(100, ']'), "nested more than 32 levels");
    expectError("{", "not valid JSON");
    expectError(R"({"model":{"type":"WordPiece","vocab":{"a":0}}})", "WordPiece");
    expectError(R"({"model":{"type":"BPE","vocab":{"a":-3}}})", "-3");
    expectError(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]}})", "merge 0");
    expectError(R"({"normalizer":{"type":"StripAccents"},"model":{"type":"BPE","vocab":{"a":0}}})",
                "StripAccents");
    expectError(R"({"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(("},"behavior":"Isolated"},
                   "model":{"type":"BPE","vocab":{"a":0}}})",
                "ICU");
    expectError(R"({"model":{"type":"BPE","vocab":{"a":0},"unk_token":"<unk>"}})", "<unk>");
}

}  // namespace
}  // namespace attn
