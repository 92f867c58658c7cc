// The tokenizers stored in GGUF metadata against llama.cpp's own test vectors: for every
// ../shared/tokenizers/ggml-vocab-*.gguf, each text of its .inp (texts separated by lines
// "__ggml_vocab_test__", split as llama.cpp's tests/test-tokenizer-0.cpp does) must give exactly
// the ids of the same line of its .out, tokenized as that test does (no BOS/EOS, control tokens
// not parsed). Every mismatch is reported with its text.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attn/formats/bpe_tokenizer.h"
#include "attn/formats/gguf.h"
#include "attn/formats/gguf_tokenizer.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

const fs::path kVocabDir = testing::sharedDir() / "tokenizers";

// ---------------------------------------------------------------------------------------------

struct Case {
    std::string text;
    std::vector<int> ids;
};

// llama.cpp's read_tests: texts separated by "\n__ggml_vocab_test__\n", one .out line per text.
std::vector<Case> readCases(const fs::path& inp, const fs::path& out) {
    const std::string raw = testing::readFile(inp.string());
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    std::size_t pos = 0;
    while (pos < raw.size()) {
        const std::size_t next = raw.find(sep, pos);
        if (next == std::string::npos) {
            texts.push_back(raw.substr(pos));
            break;
        }
        texts.push_back(raw.substr(pos, next - pos));
        pos = next + sep.size();
    }
    std::istringstream lines(testing::readFile(out.string()));
    std::vector<Case> cases;
    std::string line;
    for (const std::string& t : texts) {
        if (!std::getline(lines, line)) {
            ADD_FAILURE() << out << " has fewer lines than " << inp << " has texts";
            break;
        }
        Case c{t, {}};
        std::istringstream ids(line);
        int id = 0;
        while (ids >> id) c.ids.push_back(id);
        cases.push_back(std::move(c));
    }
    return cases;
}

class GgufVocabTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocabTest, EveryLlamaCppCaseMatches) {
    const fs::path gguf = kVocabDir / ("ggml-vocab-" + GetParam() + ".gguf");
    if (!fs::exists(gguf)) {
        if (testing::onCi()) FAIL() << "missing " << gguf;
        GTEST_SKIP() << "no " << gguf << " — the llama.cpp vocabulary checks did NOT run";
    }
    auto file = openGguf(gguf.string());
    ASSERT_TRUE(file.ok()) << file.message();
    GgufTokenizerOptions options;
    options.add_special = false;  // as llama.cpp's test-tokenizer-0 tokenizes
    options.parse_special = false;
    auto tok = tokenizerFromGguf(**file, options);
    ASSERT_TRUE(tok.ok()) << tok.message();
    const std::vector<Case> cases = readCases(gguf.string() + ".inp", gguf.string() + ".out");
    ASSERT_GE(cases.size(), 40u);
    int mismatches = 0;
    for (const Case& c : cases) {
        std::vector<int> got;
        for (const Token& t : (*tok)->encode(c.text)) got.push_back(t.id);
        if (got != c.ids) {
            ++mismatches;
            ADD_FAILURE() << GetParam() << ": text " << nlohmann::json(c.text).dump()
                          << "\n  expected " << testing::idList(c.ids) << "\n  got      "
                          << testing::idList(got);
        }
    }
    EXPECT_EQ(mismatches, 0) << mismatches << " of " << cases.size() << " cases differ";
    std::cout << "[ " << GetParam() << " ] " << cases.size() - mismatches << " of " << cases.size()
              << " llama.cpp cases match (" << (*tok)->name() << ")\n";
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVocabularies, GgufVocabTest,
                         ::testing::Values("gpt-2", "llama-spm", "bert-bge", "phi-3", "falcon",
                                           "deepseek-llm"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& ch : n)
                                 if (ch == '-') ch = '_';
                             return n;
                         });

TEST(GgufTokenizer, DefaultsAddWhatTheFileAsksAndParseControlTokens) {
    const fs::path spm = kVocabDir / "ggml-vocab-llama-spm.gguf";
    const fs::path bert = kVocabDir / "ggml-vocab-bert-bge.gguf";
    if (!fs::exists(spm) || !fs::exists(bert)) {
        if (testing::onCi()) FAIL() << "missing " << spm;
        GTEST_SKIP() << "no llama.cpp vocabularies under " << kVocabDir;
    }
    auto spm_file = openGguf(spm.string());
    ASSERT_TRUE(spm_file.ok()) << spm_file.message();
    auto tok = tokenizerFromGguf(**spm_file);
    ASSERT_TRUE(tok.ok()) << tok.message();
    // add_bos_token is true in the file; "<s>" written in the text is the control token, and
    // the text after it gets its "▁" again (llama.cpp's rule after a special token).
    const std::string text = "Hello<s>world";
    const std::vector<Token> tokens = (*tok)->encode(text);
    ASSERT_GE(tokens.size(), 4u);
    EXPECT_EQ(tokens.front().id, 1);
    EXPECT_EQ(tokens.front().begin, tokens.front().end);
    const auto control =
        std::find_if(tokens.begin() + 1, tokens.end(), [](const Token& t) { return t.id == 1; });
    ASSERT_NE(control, tokens.end());
    EXPECT_EQ(text.substr(control->begin, control->end - control->begin), "<s>");
    EXPECT_EQ((control + 1)->text, " world");

    auto bert_file = openGguf(bert.string());
    ASSERT_TRUE(bert_file.ok()) << bert_file.message();
    auto wp = tokenizerFromGguf(**bert_file);
    ASSERT_TRUE(wp.ok()) << wp.message();
    const std::vector<Token> pieces = (*wp)->encode("Hello world");
    ASSERT_EQ(pieces.size(), 4u);
    EXPECT_EQ(pieces.front().id, 101);  // [CLS]
    EXPECT_EQ(pieces.back().id, 102);   // [SEP]
}

TEST(GgufTokenizer, EveryPreTypeCompilesInIcu) {
    // Build a tiny byte-level tokenizer for every pre type llama.cpp names.
    for (const std::string pre :
         {"default",     "llama-bpe",    "llama3",    "qwen2",     "deepseek-llm", "deepseek-coder",
          "deepseek-v3", "falcon",       "mpt",       "starcoder", "gpt-2",        "refact",
          "command-r",   "stablelm2",    "olmo",      "dbrx",      "smaug-bpe",    "poro-chat",
          "chatglm-bpe", "viking",       "jais",      "tekken",    "smollm",       "codeshell",
          "bloom",       "gpt3-finnish", "exaone",    "chameleon", "minerva-7b",   "gpt-4o",
          "qwen35",      "kimi-k2",      "seed-coder"}) {
        auto patterns = ggufPrePatterns(pre);
        ASSERT_TRUE(patterns.ok()) << pre;
        BpeTokenizerConfig c;
        c.tokens = {"a"};
        c.split_patterns = *patterns;
        auto tok = BpeTokenizer::create(c, pre);
        EXPECT_TRUE(tok.ok()) << pre << ": " << (tok.ok() ? "" : tok.message());
    }
    EXPECT_FALSE(ggufPrePatterns("no-such-pre").ok());
}

TEST(GgufTokenizer, BadMetadataIsNamed) {
    GgufVocab v;
    v.model = "gpt2";
    v.tokens = {"a", "b"};
    v.bos_id = 7;
    auto tok = tokenizerFromGgufVocab(v, "x.gguf");
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.message().find("bos_token_id is 7"), std::string::npos) << tok.message();
    v.bos_id = -1;
    v.model = "ugm";
    tok = tokenizerFromGgufVocab(v, "x.gguf");
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.message().find("\"ugm\""), std::string::npos) << tok.message();
    v.model = "gpt2";
    v.pre = "martian";
    tok = tokenizerFromGgufVocab(v, "x.gguf");
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.message().find("martian"), std::string::npos) << tok.message();
    v.pre = "gpt-2";
    v.pad_id = 99;  // not used: as in llama.cpp, no reason to refuse the file
    EXPECT_TRUE(tokenizerFromGgufVocab(v, "x.gguf").ok());
    v.scores = {1.0f};
    EXPECT_FALSE(tokenizerFromGgufVocab(v, "x.gguf").ok()) << "1 score for 2 tokens";
}

}  // namespace
}  // namespace attn
