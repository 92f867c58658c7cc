// Bad model files, each refused with a short, clear message: never a crash, a hang or an
// allocation sized by a number the file made up (issue 15). Bad inputs kept as files (made by
// hand, and whatever the fuzzers of tests/fuzz find) sit in tests/engine/data/robustness/<target>/
// and are replayed here through the loader that target drives.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <string>

#include "attn/formats/bert.h"
#include "attn/formats/gguf.h"
#include "attn/formats/gguf_model.h"
#include "attn/formats/gpt2.h"
#include "attn/formats/hf_tokenizer.h"
#include "attn/formats/llama2c.h"
#include "attn/formats/load.h"
#include "attn/formats/safetensors.h"
#include "attn/formats/teaching_model.h"
#include "attn/model.h"
#include "attn/open_model.h"
#include "attn/weight_tensors.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::readFile;
using testing::TempDir;
using testing::writeFile;
using testing::writeRawSafetensors;

// A message a person can read: says something, and is not a dump of the file.
constexpr std::size_t kMaxMessage = 1000;

template <class T>
void expectClearError(const Result<T>& r, const std::string& needle) {
    ASSERT_FALSE(r.ok()) << "accepted, expected an error mentioning '" << needle << "'";
    EXPECT_NE(r.message().find(needle), std::string::npos) << r.message().substr(0, 400);
    EXPECT_LT(r.message().size(), kMaxMessage) << r.message().substr(0, 400);
}

// The message of a refused result; "(accepted)" when it was not refused.
template <class T>
std::string messageOf(const Result<T>& r) {
    return r.ok() ? std::string("(accepted)") : r.message();
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// --- JSON nesting, NUL bytes, trailing garbage, huge strings ----------------------------------

TEST(RobustnessFiles, ConfigJsonNested60000DeepIsRefusedBeforeParsing) {
    TempDir dir;
    writeFile(dir / "config.json", R"({"model_type": "gpt2", "n_embd": )" + nested(60000) + "}");
    auto m = loadModel(dir.path().string());
    expectClearError(m, "nested more than");
}

TEST(RobustnessFiles, VocabJsonNested60000DeepIsRefused) {
    TempDir dir;
    writeFile(dir / "vocab.json", R"({"a": )" + nested(60000) + "}");
    writeFile(dir / "merges.txt", "");
    expectClearError(ByteLevelBpeTokenizer::load(dir / "vocab.json", dir / "merges.txt"),
                     "nested more than");
}

TEST(RobustnessFiles, TokenizerJsonNestedDeepIsRefused) {
    expectClearError(parseHfTokenizerJson(R"({"model": )" + nested(60000) + "}", "tokenizer.json"),
                     "nested");
}

TEST(RobustnessFiles, NulByteInConfigJsonIsAnError) {
    TempDir dir;
    writeFile(dir / "config.json",
              std::string(R"({"model_type": "gpt2"})") + '\0' + R"(, "n_embd": 8})");
    expectClearError(loadModel(dir.path().string()), "NUL byte at offset 22");
}

TEST(RobustnessFiles, FiftyMegabyteStringInConfigJsonGivesAShortMessage) {
    TempDir dir;
    writeFile(dir / "config.json",
              R"({"model_type": "gpt2", "n_embd": ")" + std::string(50u << 20, 'x') + R"("})");
    auto m = loadModel(dir.path().string());
    expectClearError(m, "n_embd");
    EXPECT_NE(m.message().find("bytes)"), std::string::npos) << "the excerpt says how long it is";
}

TEST(RobustnessFiles, LongStringInHiddenActIsQuotedShort) {
    TempDir dir;
    writeFile(dir / "config.json",
              R"({"model_type": "llama", "hidden_size": 32, "intermediate_size": 64,
                  "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 64,
                  "hidden_act": ")" +
                  std::string(1u << 20, 'y') + R"("})");
    expectClearError(loadModel(dir.path().string()), "hidden_act");
}

TEST(RobustnessFiles, NulByteInSafetensorsHeaderIsAnError) {
    TempDir dir;
    const std::string header = std::string(R"({"a": {"dtype": "F32", "shape": [1], )") +
                               R"("data_offsets": [0, 4]}})" + '\0' + "garbage";
    writeRawSafetensors(dir / "m.safetensors", header, std::string(4, '\0'));
    expectClearError(SafetensorsFile::open(dir / "m.safetensors"), "NUL byte");
}

TEST(RobustnessFiles, TrailingGarbageAfterSafetensorsHeaderIsAnError) {
    TempDir dir;
    const std::string header =
        R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}} xyz)";
    writeRawSafetensors(dir / "m.safetensors", header, std::string(4, '\0'));
    expectClearError(SafetensorsFile::open(dir / "m.safetensors"), "not valid JSON");
}

TEST(RobustnessFiles, SpacesAfterSafetensorsHeaderAreStillPadding) {
    TempDir dir;
    const std::string header =
        R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}      )";
    writeRawSafetensors(dir / "m.safetensors", header, std::string(4, '\0'));
    EXPECT_TRUE(SafetensorsFile::open(dir / "m.safetensors").ok());
}

// --- Sizes checked before allocating ----------------------------------------------------------

TEST(RobustnessFiles, VocabJsonWithHugeIdIsRefusedBeforeAllocating) {
    TempDir dir;
    writeFile(dir / "vocab.json", R"({"a": 16777215})");
    writeFile(dir / "merges.txt", "");
    expectClearError(ByteLevelBpeTokenizer::load(dir / "vocab.json", dir / "merges.txt"),
                     "expected a whole number from 0 to 1024 (for 1 tokens)");
}

TEST(RobustnessFiles, BertTokenizerJsonWithHugeIdIsRefusedBeforeAllocating) {
    TempDir dir;
    writeFile(dir / "config.json",
              R"({"model_type": "bert", "hidden_size": 8, "num_attention_heads": 2,
                  "num_hidden_layers": 1, "intermediate_size": 16, "vocab_size": 8,
                  "max_position_embeddings": 16})");
    writeFile(dir / "tokenizer.json", R"({"model": {"vocab": {"[UNK]": 16777215}}})");
    expectClearError(loadBertFolder(dir.path().string()), "expected a whole number from 0 to");
}

// The built-in English teaching model with its config metadata changed by edit.
std::string editedTeachingModel(const TempDir& dir, const std::function<void(json&)>& edit) {
    const std::string bytes =
        readFile((fs::path(ATTN_SOURCE_DIR) / "resources/models/english.safetensors").string());
    EXPECT_GT(bytes.size(), 8u);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    json header = json::parse(bytes.substr(8, n));
    json config = json::parse(header["__metadata__"]["config"].get<std::string>());
    edit(config);
    header["__metadata__"]["config"] = config.dump();
    const std::string path = dir / "edited.safetensors";
    writeRawSafetensors(path, header.dump(), bytes.substr(8 + n));
    return path;
}

TEST(RobustnessFiles, TeachingModelUneditedStillLoads) {
    TempDir dir;
    auto m = loadTeachingModel(editedTeachingModel(dir, [](json&) {}));
    ASSERT_TRUE(m.ok()) << m.message();
}

TEST(RobustnessFiles, TeachingModelHugeSizesAreRefusedBeforeAllocating) {
    for (const char* key : {"d_ff", "max_len", "type_vocab_size"}) {
        SCOPED_TRACE(key);
        TempDir dir;
        const std::string path = editedTeachingModel(dir, [&](json& c) { c[key] = 2000000000; });
        expectClearError(loadTeachingModel(path), std::string("\"") + key + "\" is 2000000000");
    }
}

TEST(RobustnessFiles, TeachingModelLargerThanItsFileIsRefusedBeforeAllocating) {
    TempDir dir;
    const std::string path = editedTeachingModel(dir, [](json& c) {
        c["d_model"] = 2048;
        c["n_layers"] = 16;
    });
    auto m = loadTeachingModel(path);
    expectClearError(m, "but the file has only");
    EXPECT_EQ(m.code(), ErrorCode::Corrupt);
}

TEST(RobustnessFiles, TeachingModelFractionalDModelIsNotRoundedDown) {
    TempDir dir;
    const std::string path = editedTeachingModel(dir, [](json& c) { c["d_model"] = 64.5; });
    expectClearError(loadTeachingModel(path), "\"d_model\" is 64.5, expected a whole number");
}

TEST(RobustnessFiles, TeachingModelNegativeOrInfiniteEpsIsRefused) {
    for (const json& eps : {json(-1.0), json(0.0), json(1e300)}) {
        SCOPED_TRACE(eps.dump());
        TempDir dir;
        const std::string path = editedTeachingModel(dir, [&](json& c) { c["norm_eps"] = eps; });
        expectClearError(loadTeachingModel(path), "\"norm_eps\" is");
    }
}

TEST(RobustnessFiles, Gpt2NegativeLayerNormEpsilonIsRefused) {
    TempDir dir;
    writeFile(dir / "config.json",
              R"({"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1, "vocab_size": 4,
                  "n_positions": 16, "layer_norm_epsilon": -1})");
    expectClearError(loadGpt2Folder(dir.path().string()),
                     "\"layer_norm_epsilon\" is -1, expected a number above 0");
}

TEST(RobustnessFiles, BertFractionalHiddenSizeIsRefused) {
    TempDir dir;
    writeFile(dir / "config.json",
              R"({"model_type": "bert", "hidden_size": 64.5, "num_attention_heads": 2})");
    expectClearError(loadBertFolder(dir.path().string()), "\"hidden_size\" is 64.5");
}

TEST(RobustnessFiles, HeadsTimesHeadSizeOverflowingIntIsRefused) {
    ModelConfig c;
    c.d_model = 64;
    c.n_heads = 16;
    c.d_head = 1 << 28;  // 16 · 2^28 = 2^32 overflows int
    c.n_layers = 1;
    c.vocab_size = 10;
    auto s = validate(c);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("The heads must fit"), std::string::npos) << s.message();
}

TEST(RobustnessFiles, ParameterCountMatchesTheWeightsInitWeightsMakes) {
    for (int variant = 0; variant < 4; ++variant) {
        SCOPED_TRACE(variant);
        ModelConfig c;
        c.d_model = 16;
        c.n_heads = 2;
        c.n_layers = 2;
        c.vocab_size = 11;
        c.max_len = 9;
        AttentionKnobs k;
        if (variant == 1) {
            c.architecture = Architecture::EncoderDecoder;
            c.target_vocab_size = 7;
            c.n_decoder_layers = 3;
            c.final_norm = true;
            c.positional = PositionalKind::Learned;
        } else if (variant == 2) {
            c.norm = NormKind::RMSNorm;
            c.activation = Activation::SwiGLU;
            c.type_vocab_size = 2;
            c.embedding_norm = true;
            k.score = ScoreFunction::Additive;
            c.n_kv_heads = 1;
        } else if (variant == 3) {
            k.score = ScoreFunction::General;
            k.projection = ProjectionMode::QK;
            c.d_ff = 24;
        }
        for (bool bias : {false, true}) {
            ModelWeights w = initWeights(c, k, 1, bias);
            std::uint64_t n = 0;
            for (const TensorRef& t : tensorsOf(w)) n += static_cast<std::uint64_t>(t.size());
            EXPECT_EQ(parameterCount(c, k, bias), n) << "bias " << bias;
        }
    }
}

// --- Zero-element tensors: no memcpy from a null pointer (UBSan in the asan preset) ----------

TEST(RobustnessFiles, ZeroElementTensorReadsAsEmpty) {
    TempDir dir;
    writeRawSafetensors(dir / "m.safetensors",
                        R"({"e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]},
                            "v": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}})",
                        "");
    auto f = SafetensorsFile::open(dir / "m.safetensors");
    ASSERT_TRUE(f.ok()) << f.message();
    auto v = (*f)->readFloats("v");
    ASSERT_TRUE(v.ok()) << v.message();
    EXPECT_TRUE(v->empty());
    for (bool transpose : {false, true}) {
        auto m = (*f)->readMatrix("e", transpose);
        ASSERT_TRUE(m.ok()) << m.message();
        EXPECT_EQ(m->size(), 0);
    }
}

// --- FIFOs: refused before open(2) could block ------------------------------------------------

// Runs load on a FIFO; a load still blocked after 5 s fails the test (and is freed by opening
// the FIFO for writing, so the test ends).
template <class F>
void expectRefusedWithoutBlocking(const std::string& fifo, F load) {
    auto fut = std::async(std::launch::async, load);
    if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        ADD_FAILURE() << "blocked on the FIFO " << fifo;
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
    }
    const std::string message = fut.get();
    EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
}

TEST(RobustnessFiles, FifoAsSafetensorsIsRefusedWithoutBlocking) {
    TempDir dir;
    const std::string fifo = dir / "model.safetensors";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    expectRefusedWithoutBlocking(fifo, [&] { return messageOf(SafetensorsFile::open(fifo)); });
    // Through the folder loader too (config.json beside the FIFO).
    writeFile(dir / "config.json",
              R"({"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1, "vocab_size": 4,
                  "n_positions": 16})");
    writeFile(dir / "vocab.json", R"({"a": 0, "b": 1, "c": 2, "d": 3})");
    writeFile(dir / "merges.txt", "");
    expectRefusedWithoutBlocking(fifo,
                                 [&] { return messageOf(loadGpt2Folder(dir.path().string())); });
}

TEST(RobustnessFiles, FifoAsCheckpointIsRefusedWithoutBlocking) {
    TempDir dir;
    const std::string fifo = dir / "model.bin";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    expectRefusedWithoutBlocking(fifo, [&] { return messageOf(loadLlama2c(fifo)); });
    expectRefusedWithoutBlocking(fifo, [&] { return messageOf(openGguf(fifo)); });
}

TEST(RobustnessFiles, FifoAsVocabIsRefusedWithoutBlocking) {
    TempDir dir;
    const std::string fifo = dir / "vocab.json";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    expectRefusedWithoutBlocking(
        fifo, [&] { return messageOf(ByteLevelBpeTokenizer::load(fifo, dir / "merges.txt")); });
}

// --- Kept bad inputs ----------------------------------------------------------------------

// Each kept input goes through the loader its fuzz target drives; none is a valid file, so each
// must be refused with a short message.
TEST(RobustnessFiles, KeptBadInputsAreRefusedWithAMessage) {
    const fs::path root = fs::path(ATTN_SOURCE_DIR) / "tests/engine/data/robustness";
    std::error_code ec;
    int seen = 0;
    for (const auto& target : fs::directory_iterator(root, ec)) {
        for (const auto& input : fs::directory_iterator(target.path(), ec)) {
            SCOPED_TRACE(input.path().string());
            ++seen;
            const std::string kind = target.path().filename().string();
            const std::string path = input.path().string();
            std::string message;
            if (kind == "safetensors") {
                message = messageOf(SafetensorsFile::open(path));
            } else if (kind == "teaching_model") {
                message = messageOf(loadTeachingModel(path));
            } else if (kind == "gguf") {
                auto f = openGguf(path);
                message = f ? messageOf(loadGgufModel(*f)) : f.message();
            } else if (kind == "llama2c") {
                message = messageOf(loadLlama2c(path, path));
            } else if (kind == "hf_tokenizer") {
                message = messageOf(parseHfTokenizerJson(readFile(path), path));
            } else if (kind == "hf_config") {
                TempDir dir;
                fs::copy_file(path, dir / "config.json");
                message = messageOf(loadModel(dir.path().string()));
            } else {
                ADD_FAILURE() << "no loader for " << kind;
                continue;
            }
            EXPECT_NE(message, "(accepted)");
            EXPECT_FALSE(message.empty());
            EXPECT_LT(message.size(), kMaxMessage) << message.substr(0, 400);
        }
    }
    EXPECT_GE(seen, 7) << "the kept inputs under " << root << " are part of the source tree";
}

}  // namespace
}  // namespace attn
