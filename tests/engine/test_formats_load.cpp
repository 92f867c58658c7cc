// loadModel: picks the format from what is on disk (llama2.c file or folder, Hugging Face
// folder, cache snapshot), lists the Hugging Face cache, and says clearly what is wrong.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "attn/formats/load.h"
#include "attn/formats/safetensors.h"
#include "formats_test_util.h"
#include "gpt2_fixture.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Sets an environment variable for one scope and puts the old value back.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old;
        m_had = std::getenv(name) != nullptr;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (m_had) {
            ::setenv(m_name, m_old.c_str(), 1);
        } else {
            ::unsetenv(m_name);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    std::string m_old;
    bool m_had = false;
};

fixture::Gpt2TokenizerFiles noMerges() { return {}; }

TEST(LoadModelTest, LlamaFolderAndFile) {
    const fs::path dir = testing::sharedDir() / "models" / "stories260K";
    if (!fs::exists(dir / "stories260K.bin")) {
        if (testing::onCi()) FAIL() << "stories260K missing under " << dir;
        GTEST_SKIP() << "stories260K not found under " << dir << " — this check did NOT run";
    }
    auto by_folder = loadModel(dir.string());
    ASSERT_TRUE(by_folder) << by_folder.message();
    EXPECT_EQ((*by_folder)->config.name, "stories260K");
    EXPECT_EQ((*by_folder)->source_path, (dir / "stories260K.bin").string());
    auto by_file = loadModel((dir / "stories260K.bin").string());
    ASSERT_TRUE(by_file) << by_file.message();
    EXPECT_EQ((*by_file)->tokenizer->vocabSize(), 512);
    EXPECT_EQ((*by_file)->tokenizer->name(), "SentencePiece BPE");
    // The tokenizer file is not a checkpoint.
    auto tok = loadModel((dir / "tok512.bin").string());
    ASSERT_FALSE(tok);
    EXPECT_NE(tok.message().find("tok512.bin"), std::string::npos) << tok.message();
}

TEST(LoadModelTest, HuggingFaceCacheSnapshot) {
    TempDir tmp;
    const fs::path hub = tmp.path() / "hub";
    const fs::path repo = hub / "models--someone--tiny-gpt2";
    const fs::path blobs = repo / "blobs";
    const fs::path snap = repo / "snapshots" / "0123abcd";
    fs::create_directories(blobs);
    fs::create_directories(snap);
    fs::create_directories(repo / "refs");
    testing::writeFile((repo / "refs" / "main").string(), "0123abcd");
    // Files live in blobs/ under their hash; the snapshot holds relative symlinks, as the hub
    // client writes them.
    const fs::path staging = tmp.path() / "staging";
    fs::create_directories(staging);
    fixture::Gpt2Shape shape;
    shape.vocab = 257;
    ASSERT_TRUE(
        fixture::writeGpt2Folder(staging.string(), fixture::randomGpt2(shape, 1), noMerges()));
    int n = 0;
    for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) {
        const std::string blob = "blob" + std::to_string(n++);
        fs::rename(staging / name, blobs / blob);
        fs::create_symlink(fs::path("..") / ".." / "blobs" / blob, snap / name);
    }
    // A second repo without a config.json is not listed.
    fs::create_directories(hub / "models--x--broken" / "snapshots" / "ff");
    // Datasets are not models.
    fs::create_directories(hub / "datasets--x--y" / "snapshots" / "aa");

    ScopedEnv env("HF_HUB_CACHE", hub.string());
    EXPECT_EQ(huggingFaceCacheDir(), hub.string());
    const std::vector<std::string> listed = listHuggingFaceCache();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0], snap.string());

    auto by_snapshot = loadModel(listed[0]);
    ASSERT_TRUE(by_snapshot) << by_snapshot.message();
    EXPECT_EQ((*by_snapshot)->config.name, "someone/tiny-gpt2");
    auto by_repo = loadModel(repo.string());
    ASSERT_TRUE(by_repo) << by_repo.message();
    EXPECT_EQ((*by_repo)->config.d_model, 16);
    auto by_file = loadModel((snap / "model.safetensors").string());
    ASSERT_TRUE(by_file) << by_file.message();

    auto broken = loadModel((hub / "models--x--broken").string());
    ASSERT_FALSE(broken);
    EXPECT_NE(broken.message().find("config.json"), std::string::npos) << broken.message();
}

TEST(LoadModelTest, NoCacheListsNothing) {
    TempDir tmp;
    ScopedEnv env("HF_HUB_CACHE", (tmp.path() / "absent").string());
    EXPECT_TRUE(listHuggingFaceCache().empty());
}

// Our teaching models are openModel's to read (test_open_model.cpp); here a lone safetensors
// file is the weights of the Hugging Face folder it lies in, and that folder has no config.json.
TEST(LoadModelTest, LoneSafetensorsFileIsReadAsItsFolder) {
    TempDir tmp;
    ASSERT_TRUE(writeSafetensors(tmp / "weights.safetensors", {{"x", TensorF32{{1}, {1}}}}));
    auto r = loadModel(tmp / "weights.safetensors");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), ErrorCode::UnsupportedFormat);
    EXPECT_NE(r.message().find("no config.json"), std::string::npos) << r.message();
}

TEST(LoadModelTest, ClearErrorsForWhatIsNotAModel) {
    TempDir tmp;
    auto r = loadModel((tmp.path() / "nope").string());
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("no such file or folder"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("nope"), std::string::npos);

    r = loadModel(tmp.path().string());
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("no config.json"), std::string::npos) << r.message();

    testing::writeFile(tmp / "config.json", R"({"hidden_size": 8})");
    r = loadModel(tmp.path().string());
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(tmp / "config.json"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("model_type"), std::string::npos) << r.message();

    testing::writeFile(tmp / "config.json", R"({"model_type": "t5"})");
    r = loadModel(tmp.path().string());
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("unknown architecture 't5' in " + (tmp / "config.json")),
              std::string::npos)
        << r.message();

    testing::writeFile(tmp / "notes.txt", "just some words");
    r = loadModel(tmp / "notes.txt");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find(tmp / "notes.txt"), std::string::npos) << r.message();

    EXPECT_FALSE(loadModel(""));
}

}  // namespace
}  // namespace attn
