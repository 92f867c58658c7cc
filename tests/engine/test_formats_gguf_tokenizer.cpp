// The tokenizers stored in GGUF metadata against llama.cpp's own test vectors: for every
// ../shared/tokenizers/ggml-vocab-*.gguf, each text of its .inp (texts separated by lines
// "__ggml_vocab_test__", split as llama.cpp's tests/test-tokenizer-0.cpp does) must give exactly
// the ids of the same line of its .out, tokenized as that test does (no BOS/EOS, control tokens
// not parsed). Every mismatch is reported with its text.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attn/formats/bpe_tokenizer.h"
#include "attn/formats/gguf_tokenizer.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

const fs::path kVocabDir = testing::sharedDir() / "tokenizers";

// ---------------------------------------------------------------------------------------------
// A minimal GGUF metadata reader for these tests only: the tokenizer.ggml.* keys.

class MetaReader {
public:
    explicit MetaReader(std::string bytes) : m_b(std::move(bytes)) {}

    bool read(GgufVocab& v) {
        if (m_b.size() < 24 || m_b.compare(0, 4, "GGUF") != 0) return false;
        m_p = 4;
        const std::uint32_t version = u32();
        if (version < 2) return false;
        u64();  // tensor count
        const std::uint64_t n_kv = u64();
        for (std::uint64_t k = 0; k < n_kv && m_ok; ++k) {
            const std::string key = str();
            const std::uint32_t type = u32();
            if (key == "tokenizer.ggml.model") {
                v.model = str();
            } else if (key == "tokenizer.ggml.pre") {
                v.pre = str();
            } else if (key == "tokenizer.ggml.tokens") {
                v.tokens = strings();
            } else if (key == "tokenizer.ggml.merges") {
                v.merges = strings();
            } else if (key == "tokenizer.ggml.scores") {
                v.scores = numbers<float>();
            } else if (key == "tokenizer.ggml.token_type") {
                v.token_types = numbers<int>();
            } else if (key == "tokenizer.ggml.bos_token_id") {
                v.bos_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.eos_token_id") {
                v.eos_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.unknown_token_id") {
                v.unk_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.seperator_token_id") {
                v.sep_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.padding_token_id") {
                v.pad_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.cls_token_id") {
                v.cls_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.mask_token_id") {
                v.mask_id = static_cast<int>(scalar(type));
            } else if (key == "tokenizer.ggml.add_bos_token") {
                v.add_bos = scalar(type) != 0;
            } else if (key == "tokenizer.ggml.add_eos_token") {
                v.add_eos = scalar(type) != 0;
            } else if (key == "tokenizer.ggml.add_space_prefix") {
                v.add_space_prefix = scalar(type) != 0;
            } else {
                skip(type);
            }
        }
        return m_ok;
    }

private:
    bool need(std::size_t n) {
        if (m_p + n > m_b.size()) m_ok = false;
        return m_ok;
    }
    template <class T>
    T raw() {
        T v{};
        if (need(sizeof(T))) std::memcpy(&v, m_b.data() + m_p, sizeof(T));
        m_p += sizeof(T);
        return v;
    }
    std::uint32_t u32() { return raw<std::uint32_t>(); }
    std::uint64_t u64() { return raw<std::uint64_t>(); }
    std::string str() {
        const std::uint64_t n = u64();
        if (!need(n)) return {};
        std::string s = m_b.substr(m_p, n);
        m_p += n;
        return s;
    }
    static std::size_t size(std::uint32_t type) {
        static const std::size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        return type < 13 ? sizes[type] : 0;
    }
    double scalar(std::uint32_t type) {
        switch (type) {
            case 0:
                return raw<std::uint8_t>();
            case 1:
                return raw<std::int8_t>();
            case 2:
                return raw<std::uint16_t>();
            case 3:
                return raw<std::int16_t>();
            case 4:
                return raw<std::uint32_t>();
            case 5:
                return raw<std::int32_t>();
            case 6:
                return raw<float>();
            case 7:
                return raw<std::uint8_t>();
            case 10:
                return static_cast<double>(raw<std::uint64_t>());
            case 11:
                return static_cast<double>(raw<std::int64_t>());
            case 12:
                return raw<double>();
            default:
                m_ok = false;
                return 0;
        }
    }
    void skip(std::uint32_t type) {
        if (type == 8) {
            str();
        } else if (type == 9) {
            const std::uint32_t et = u32();
            const std::uint64_t n = u64();
            for (std::uint64_t i = 0; i < n && m_ok; ++i) skip(et);
        } else if (size(type) > 0) {
            m_p += size(type);
        } else {
            m_ok = false;
        }
    }
    std::vector<std::string> strings() {
        const std::uint32_t et = u32();
        const std::uint64_t n = u64();
        std::vector<std::string> out;
        if (et != 8 || n > m_b.size()) {
            m_ok = false;
            return out;
        }
        for (std::uint64_t i = 0; i < n && m_ok; ++i) out.push_back(str());
        return out;
    }
    template <class T>
    std::vector<T> numbers() {
        const std::uint32_t et = u32();
        const std::uint64_t n = u64();
        std::vector<T> out;
        if (n > m_b.size()) {
            m_ok = false;
            return out;
        }
        for (std::uint64_t i = 0; i < n && m_ok; ++i) out.push_back(static_cast<T>(scalar(et)));
        return out;
    }

    std::string m_b;
    std::size_t m_p = 0;
    bool m_ok = true;
};

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

std::string idList(const std::vector<int>& ids) {
    std::ostringstream s;
    for (std::size_t i = 0; i < ids.size(); ++i) s << (i ? " " : "") << ids[i];
    return s.str();
}

class GgufVocabTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocabTest, EveryLlamaCppCaseMatches) {
    const fs::path gguf = kVocabDir / ("ggml-vocab-" + GetParam() + ".gguf");
    if (!fs::exists(gguf)) {
        if (testing::onCi()) FAIL() << "missing " << gguf;
        GTEST_SKIP() << "no " << gguf << " — the llama.cpp vocabulary checks did NOT run";
    }
    GgufVocab vocab;
    ASSERT_TRUE(MetaReader(testing::readFile(gguf.string())).read(vocab)) << gguf;
    GgufTokenizerOptions options;
    options.add_special = false;  // as llama.cpp's test-tokenizer-0 tokenizes
    options.parse_special = false;
    auto tok = tokenizerFromGgufVocab(vocab, gguf.string(), options);
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
                          << "\n  expected " << idList(c.ids) << "\n  got      " << idList(got);
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
    v.scores = {1.0f};
    EXPECT_FALSE(tokenizerFromGgufVocab(v, "x.gguf").ok()) << "1 score for 2 tokens";
}

}  // namespace
}  // namespace attn
