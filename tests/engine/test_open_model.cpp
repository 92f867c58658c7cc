// openModel: the one way in. Every kind of spec opens, and every failure says what kind it is
// (ErrorCode), so callers never read the message to decide.

#include <gtest/gtest.h>

#include <filesystem>

#include "attn/formats/safetensors.h"
#include "attn/formats/teaching_model.h"
#include "attn/open_model.h"
#include "attn/trace.h"
#include "attn/train.h"
#include "formats_test_util.h"
#include "gpt2_fixture.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const fs::path kShippedEnglish =
    fs::path(ATTN_SOURCE_DIR) / "resources" / "models" / "english.safetensors";

// A small GPT-2 folder in Hugging Face's layout.
void writeTinyGpt2(const fs::path& dir) {
    fs::create_directories(dir);
    fixture::Gpt2Shape shape;
    shape.vocab = 257;
    ASSERT_TRUE(fixture::writeGpt2Folder(dir.string(), fixture::randomGpt2(shape, 1), {}));
}

TEST(OpenModel, UntrainedIsBuiltFromTheOptions) {
    OpenOptions o;
    o.untrained.d_model = 12;
    o.untrained.n_heads = 3;
    o.untrained.name = "whatever";
    auto m = openModel("untrained", o);
    ASSERT_TRUE(m) << m.message();
    EXPECT_EQ((*m)->config.d_model, 12);
    EXPECT_EQ((*m)->config.n_heads, 3);
    EXPECT_EQ((*m)->config.name, "untrained");
    EXPECT_TRUE((*m)->source_path.empty()) << "built in memory";
    EXPECT_TRUE(run(*m, "the cat"));

    o.untrained.d_model = 10;  // not divisible by 3 heads
    auto bad = openModel("untrained", o);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.code(), ErrorCode::Invalid);
    EXPECT_NE(bad.message().find("divisible"), std::string::npos) << bad.message();
}

TEST(OpenModel, BuiltinNames) {
    auto unknown = openModel("builtin:klingon");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.code(), ErrorCode::UnknownBuiltin);
    EXPECT_NE(unknown.message().find("klingon"), std::string::npos);

    if (!fs::exists(kShippedEnglish)) GTEST_SKIP() << "no shipped model at " << kShippedEnglish;
    auto english = openModel("builtin:english");
    ASSERT_TRUE(english) << english.message();
    EXPECT_GT((*english)->config.vocab_size, 0);
    EXPECT_EQ(fs::path((*english)->source_path).filename(), "english.safetensors");
    EXPECT_EQ((*english)->trained_attention, AttentionKnobs{});
}

TEST(OpenModel, BuiltinNotInstalledIsNotFound) {
    TempDir tmp;
    const char* old = std::getenv("ATTN_RESOURCES_DIR");
    const std::string saved = old ? old : "";
    // An empty resources folder first in the search path, and none of the others exist when the
    // test binary runs from a temp copy — so only check the code when the file is truly absent.
    ::setenv("ATTN_RESOURCES_DIR", tmp.path().c_str(), 1);
    if (builtinModelPath("translation").empty()) {
        auto r = openModel("builtin:translation");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.code(), ErrorCode::NotFound);
    }
    if (old)
        ::setenv("ATTN_RESOURCES_DIR", saved.c_str(), 1);
    else
        ::unsetenv("ATTN_RESOURCES_DIR");
}

TEST(OpenModel, TeachingModelFileKeepsItsTrainedKnobs) {
    TempDir tmp;
    ModelConfig c;
    c.d_model = 16;
    c.n_heads = 2;
    c.n_layers = 1;
    c.d_ff = 32;
    c.max_len = 32;
    AttentionKnobs cosine;
    cosine.score = ScoreFunction::Cosine;
    auto made = makeTeachingModel(CorpusKind::English, c, 1, cosine);
    ASSERT_TRUE(made) << made.message();
    const std::string path = tmp / "mine.safetensors";
    ASSERT_TRUE(saveTeachingModel(*made.value(), path));
    auto m = openModel(path);
    ASSERT_TRUE(m) << m.message();
    EXPECT_EQ((*m)->source_path, path);
    EXPECT_EQ((*m)->trained_attention, cosine);
    EXPECT_EQ((*m)->config.vocab_size, made.value()->config.vocab_size);
}

TEST(OpenModel, HuggingFaceFolderFileAndCacheEntries) {
    TempDir tmp;
    const fs::path repo = tmp.path() / "hub" / "models--someone--tiny-gpt2";
    const fs::path snap = repo / "snapshots" / "0123abcd";
    writeTinyGpt2(snap);
    fs::create_directories(repo / "refs");
    testing::writeFile((repo / "refs" / "main").string(), "0123abcd\n");

    auto folder = openModel(snap.string());
    ASSERT_TRUE(folder) << folder.message();
    EXPECT_EQ((*folder)->config.architecture, Architecture::Decoder);
    EXPECT_EQ((*folder)->trained_attention.mask, MaskKind::Causal);
    EXPECT_EQ((*folder)->source_path, snap.string());
    // The weights file: the teaching reader says "not ours" by code, then the folder opens.
    auto weights = openModel((snap / "model.safetensors").string());
    ASSERT_TRUE(weights) << weights.message();
    EXPECT_EQ((*weights)->config.d_model, (*folder)->config.d_model);
    auto config = openModel((snap / "config.json").string());
    ASSERT_TRUE(config) << config.message();
    // The cache's models--org--name folder: its refs/main snapshot.
    auto entry = openModel(repo.string());
    ASSERT_TRUE(entry) << entry.message();
    EXPECT_EQ((*entry)->config.name, "someone/tiny-gpt2");
}

TEST(OpenModel, ShippedFileOpensByPathToo) {
    if (!fs::exists(kShippedEnglish)) GTEST_SKIP() << "no shipped model at " << kShippedEnglish;
    auto m = openModel(kShippedEnglish.string());
    ASSERT_TRUE(m) << m.message();
    EXPECT_GT((*m)->config.vocab_size, 0);
}

TEST(OpenModel, ErrorKinds) {
    TempDir tmp;
    auto missing = openModel(tmp / "nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.code(), ErrorCode::NotFound);
    EXPECT_NE(missing.message().find("nope"), std::string::npos);
    EXPECT_EQ(openModel("").code(), ErrorCode::NotFound);
    EXPECT_EQ(openModel(tmp / "nothing.safetensors").code(), ErrorCode::NotFound);

    // A folder whose config.json names a model we do not run.
    const fs::path t5 = tmp.path() / "t5";
    fs::create_directories(t5);
    testing::writeFile((t5 / "config.json").string(), R"({"model_type": "t5"})");
    auto arch = openModel(t5.string());
    ASSERT_FALSE(arch);
    EXPECT_EQ(arch.code(), ErrorCode::UnsupportedArchitecture);
    EXPECT_NE(arch.message().find("t5"), std::string::npos) << arch.message();

    // Not models at all: an empty folder, a text file, a lone safetensors file that is neither
    // ours nor beside a config.json.
    const fs::path empty = tmp.path() / "empty";
    fs::create_directories(empty);
    EXPECT_EQ(openModel(empty.string()).code(), ErrorCode::UnsupportedFormat);
    testing::writeFile(tmp / "notes.txt", "just some words, longer than a header would be");
    EXPECT_EQ(openModel(tmp / "notes.txt").code(), ErrorCode::UnsupportedFormat);
    const fs::path lone = tmp.path() / "lone";
    fs::create_directories(lone);
    ASSERT_TRUE(writeSafetensors((lone / "w.safetensors").string(), {{"x", TensorF32{{1}, {1}}}}));
    auto foreign = openModel((lone / "w.safetensors").string());
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.code(), ErrorCode::UnsupportedFormat) << foreign.message();

    // Corrupt: a safetensors header that runs past the end of the file…
    testing::writeRawSafetensors(tmp / "cut.safetensors", R"({"x": {}})", "", 4096);
    auto cut = openModel(tmp / "cut.safetensors");
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.code(), ErrorCode::Corrupt) << cut.message();
    // …and a GPT-2 folder whose config has a wrong value (the reader's own check).
    const fs::path broken = tmp.path() / "broken";
    writeTinyGpt2(broken);
    testing::writeFile((broken / "config.json").string(),
                       R"({"model_type": "gpt2", "n_embd": "wide"})");
    auto bad = openModel(broken.string());
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.code(), ErrorCode::Corrupt) << bad.message();
    // …and a GPT-2 folder whose weights file is cut short.
    const fs::path truncated = tmp.path() / "truncated";
    writeTinyGpt2(truncated);
    const std::string bytes = testing::readFile((truncated / "model.safetensors").string());
    testing::writeFile((truncated / "model.safetensors").string(),
                       bytes.substr(0, bytes.size() / 2));
    auto half = openModel(truncated.string());
    ASSERT_FALSE(half);
    EXPECT_EQ(half.code(), ErrorCode::Corrupt) << half.message();
}

}  // namespace
}  // namespace attn
