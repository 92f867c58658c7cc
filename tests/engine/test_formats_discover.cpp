// Model discovery over fake trees: a Hugging Face hub cache (a safetensors repository and a
// GGUF one), an Ollama store (a good manifest and broken ones), an LM Studio folder and extra
// paths; symlink loops, the entry cap, and that a listed Ollama blob opens.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "attn/formats/discover.h"
#include "attn/open_model.h"
#include "formats_test_util.h"
#include "gguf_test_writer.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::GgufWriter;
using testing::TempDir;

// A complete, tiny llama GGUF file (F32): d 8, one layer, 2 heads sharing 1 key/value head.
void writeTinyLlamaGguf(const std::string& path, std::uint32_t file_type = 0) {
    const std::uint64_t d = 8, ff = 16, V = 6, kv = 4;
    GgufWriter g;
    g.addString("general.architecture", "llama");
    g.addString("general.name", "tiny");
    g.addU32("general.file_type", file_type);
    g.addU32("llama.block_count", 1);
    g.addU32("llama.embedding_length", static_cast<std::uint32_t>(d));
    g.addU32("llama.feed_forward_length", static_cast<std::uint32_t>(ff));
    g.addU32("llama.attention.head_count", 2);
    g.addU32("llama.attention.head_count_kv", 1);
    g.addU32("llama.context_length", 64);
    g.addF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    g.addString("tokenizer.ggml.model", "llama");
    g.addStringArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>",
                                               "\xE2\x96\x81"
                                               "a",
                                               "b", "c"});
    g.addF32Array("tokenizer.ggml.scores", std::vector<float>(V, 0.0f));
    g.addU32("tokenizer.ggml.bos_token_id", 1);
    g.addU32("tokenizer.ggml.eos_token_id", 2);
    auto fill = [](std::uint64_t n, float v) { return std::vector<float>(n, v); };
    g.addF32Tensor("token_embd.weight", {d, V}, fill(d * V, 0.1f));
    g.addF32Tensor("blk.0.attn_norm.weight", {d}, fill(d, 1.0f));
    g.addF32Tensor("blk.0.attn_q.weight", {d, d}, fill(d * d, 0.01f));
    g.addF32Tensor("blk.0.attn_k.weight", {d, kv}, fill(d * kv, 0.01f));
    g.addF32Tensor("blk.0.attn_v.weight", {d, kv}, fill(d * kv, 0.01f));
    g.addF32Tensor("blk.0.attn_output.weight", {d, d}, fill(d * d, 0.01f));
    g.addF32Tensor("blk.0.ffn_norm.weight", {d}, fill(d, 1.0f));
    g.addF32Tensor("blk.0.ffn_gate.weight", {d, ff}, fill(d * ff, 0.01f));
    g.addF32Tensor("blk.0.ffn_up.weight", {d, ff}, fill(d * ff, 0.01f));
    g.addF32Tensor("blk.0.ffn_down.weight", {ff, d}, fill(d * ff, 0.01f));
    g.addF32Tensor("output_norm.weight", {d}, fill(d, 1.0f));
    g.write(path);
}

void mkdirs(const fs::path& p) { fs::create_directories(p); }

const std::string kHex(64, 'a');

std::string manifest(const std::string& digest) {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
  "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:)" +
           std::string(64, 'c') + R"(","size":10},
  "layers":[{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:)" +
           std::string(64, 'b') + R"(","size":5},
            {"mediaType":"application/vnd.ollama.image.model","digest":")" +
           digest + R"(","size":100}]})";
}

// The fake trees every test below reads.
struct Trees {
    TempDir tmp;
    fs::path hf, ollama, lms, extra;

    Trees() {
        const fs::path root = tmp.path();
        hf = root / "hub";
        ollama = root / "ollama";
        lms = root / "lmstudio";
        extra = root / "extra";

        // Hugging Face: a safetensors repository (refs/main names the newer snapshot) …
        const fs::path repo = hf / "models--org--tiny-llama";
        mkdirs(repo / "blobs");
        mkdirs(repo / "refs");
        mkdirs(repo / "snapshots" / "old1");
        mkdirs(repo / "snapshots" / "main2");
        testing::writeFile((repo / "refs" / "main").string(), "main2\n");
        testing::writeFile((repo / "blobs" / "w1").string(), std::string(1000, 'x'));
        testing::writeFile((repo / "blobs" / "c1").string(),
                           R"({"architectures":["LlamaForCausalLM"],"model_type":"llama",)"
                           R"("torch_dtype":"bfloat16"})");
        fs::create_symlink("../../blobs/w1", repo / "snapshots" / "main2" / "model.safetensors");
        fs::create_symlink("../../blobs/c1", repo / "snapshots" / "main2" / "config.json");
        testing::writeFile((repo / "snapshots" / "old1" / "config.json").string(),
                           R"({"model_type":"gpt2"})");
        // A loop: a folder that links back to the snapshots.
        fs::create_directory_symlink("..", repo / "snapshots" / "main2" / "loop");
        // … a GGUF repository …
        const fs::path grepo = hf / "models--org--tiny-GGUF" / "snapshots" / "h1";
        mkdirs(grepo);
        writeTinyLlamaGguf((grepo / "tiny.Q8_0.gguf").string(), 7);
        // … a broken config, and a dataset (not a model).
        mkdirs(hf / "models--org--broken" / "snapshots" / "s");
        testing::writeFile(
            (hf / "models--org--broken" / "snapshots" / "s" / "config.json").string(), "{not json");
        mkdirs(hf / "datasets--org--data" / "snapshots" / "s");

        // Ollama: one good model, and manifests that are broken in every way.
        const fs::path lib = ollama / "manifests" / "registry.ollama.ai" / "library";
        mkdirs(lib / "tiny");
        mkdirs(lib / "broken");
        mkdirs(ollama / "manifests" / "registry.ollama.ai" / "someone" / "other");
        mkdirs(ollama / "blobs");
        writeTinyLlamaGguf((ollama / "blobs" / ("sha256-" + kHex)).string(), 1);
        testing::writeFile((lib / "tiny" / "latest").string(), manifest("sha256:" + kHex));
        testing::writeFile((lib / "broken" / "json").string(), "{\"layers\": [");
        testing::writeFile((lib / "broken" / "nolayer").string(), R"({"layers":[]})");
        testing::writeFile((lib / "broken" / "missing").string(),
                           manifest("sha256:" + std::string(64, 'd')));
        testing::writeFile((lib / "broken" / "escape").string(),
                           manifest("sha256:../../../../etc/passwd"));
        testing::writeFile(
            (ollama / "manifests" / "registry.ollama.ai" / "someone" / "other" / "1b").string(),
            manifest("sha256:" + kHex));

        // LM Studio: publisher/repo/file.gguf, plus a file that is not GGUF at all.
        mkdirs(lms / "pub" / "repo-GGUF");
        writeTinyLlamaGguf((lms / "pub" / "repo-GGUF" / "model-F32.gguf").string(), 0);
        testing::writeFile((lms / "pub" / "repo-GGUF" / "fake.gguf").string(), "nope");
        fs::create_directory_symlink("../..", lms / "pub" / "repo-GGUF" / "up");

        // Extra: a loose GGUF file and a folder holding one.
        mkdirs(extra / "folder");
        writeTinyLlamaGguf((extra / "loose.gguf").string(), 0);
        writeTinyLlamaGguf((extra / "folder" / "inside.gguf").string(), 0);
        testing::writeFile((extra / "folder" / "notes.txt").string(), "hello");
    }

    DiscoveryRoots roots() const {
        DiscoveryRoots r;
        r.hugging_face = {hf.string()};
        r.ollama = {ollama.string()};
        r.lm_studio = {lms.string()};
        r.extra = {(extra / "loose.gguf").string(), (extra / "folder").string(),
                   (extra / "gone.gguf").string()};
        return r;
    }
};

const DiscoveredModel* byName(const std::vector<DiscoveredModel>& list, const std::string& name) {
    for (const auto& m : list)
        if (m.name == name) return &m;
    return nullptr;
}

std::string names(const std::vector<DiscoveredModel>& list) {
    std::string s;
    for (const auto& m : list) s += m.name + (m.error.empty() ? "" : " (" + m.error + ")") + "\n";
    return s;
}

TEST(DiscoverModels, ListsTheHuggingFaceCache) {
    Trees t;
    DiscoveryRoots r;
    r.hugging_face = {t.hf.string()};
    const auto list = discoverModels(r);
    ASSERT_EQ(list.size(), 3u) << names(list);
    const DiscoveredModel* m = byName(list, "org/tiny-llama");
    ASSERT_TRUE(m) << names(list);
    EXPECT_EQ(m->source, ModelSource::HuggingFaceCache);
    EXPECT_TRUE(m->error.empty()) << m->error;
    EXPECT_EQ(m->architecture, "LlamaForCausalLM");  // from refs/main's snapshot, not old1
    EXPECT_EQ(m->quantization, "bfloat16");
    EXPECT_EQ(m->format, "safetensors");
    EXPECT_EQ(fs::path(m->path).filename(), "main2");
    EXPECT_GE(m->size_bytes, 1000u);  // the blob behind the link
    EXPECT_LT(m->size_bytes, 1200u);

    const DiscoveredModel* g = byName(list, "org/tiny-GGUF/tiny.Q8_0.gguf");
    ASSERT_TRUE(g) << names(list);
    EXPECT_EQ(g->format, "gguf");
    EXPECT_EQ(g->architecture, "llama");
    EXPECT_EQ(g->quantization, "Q8_0");
    EXPECT_EQ(g->size_bytes, fs::file_size(g->path));

    const DiscoveredModel* b = byName(list, "org/broken");
    ASSERT_TRUE(b) << names(list);
    EXPECT_NE(b->error.find("not valid JSON"), std::string::npos) << b->error;
    EXPECT_NE(b->error.find("config.json"), std::string::npos) << b->error;
}

TEST(DiscoverModels, ListsOllamaManifestsAndNamesWhatIsBroken) {
    Trees t;
    DiscoveryRoots r;
    r.ollama = {t.ollama.string()};
    const auto list = discoverModels(r);
    ASSERT_EQ(list.size(), 6u) << names(list);
    const DiscoveredModel* m = byName(list, "tiny:latest");
    ASSERT_TRUE(m) << names(list);
    EXPECT_EQ(m->source, ModelSource::Ollama);
    EXPECT_TRUE(m->error.empty()) << m->error;
    EXPECT_EQ(m->path, (t.ollama / "blobs" / ("sha256-" + kHex)).string());
    EXPECT_EQ(m->architecture, "llama");
    EXPECT_EQ(m->quantization, "F16");  // general.file_type 1, as the header says
    EXPECT_EQ(m->format, "gguf");
    EXPECT_EQ(m->size_bytes, fs::file_size(m->path));

    // Another namespace keeps its name in front; tags may share a blob, as in `ollama list`.
    const DiscoveredModel* other = byName(list, "someone/other:1b");
    ASSERT_TRUE(other) << names(list);
    EXPECT_EQ(other->path, m->path);

    const auto* json = byName(list, "broken:json");
    ASSERT_TRUE(json);
    EXPECT_NE(json->error.find("not valid JSON"), std::string::npos) << json->error;
    const auto* nolayer = byName(list, "broken:nolayer");
    ASSERT_TRUE(nolayer);
    EXPECT_NE(nolayer->error.find("no model layer"), std::string::npos) << nolayer->error;
    const auto* missing = byName(list, "broken:missing");
    ASSERT_TRUE(missing);
    EXPECT_NE(missing->error.find("missing"), std::string::npos) << missing->error;
    const auto* escape = byName(list, "broken:escape");
    ASSERT_TRUE(escape);
    EXPECT_NE(escape->error.find("not sha256:<64 hex digits>"), std::string::npos) << escape->error;
    EXPECT_EQ(escape->path.find("passwd"), std::string::npos);
}

TEST(DiscoverModels, AListedOllamaBlobOpens) {
    Trees t;
    DiscoveryRoots r;
    r.ollama = {t.ollama.string()};
    const auto list = discoverModels(r);
    const DiscoveredModel* m = byName(list, "tiny:latest");
    ASSERT_TRUE(m) << names(list);
    auto model = openModel(m->path);
    ASSERT_TRUE(model) << model.message();
    EXPECT_EQ((*model)->config.n_layers, 1);
    EXPECT_EQ((*model)->config.kvHeads(), 1);
    EXPECT_EQ((*model)->quantization, "F16");
}

TEST(DiscoverModels, ListsLmStudioAndExtraPaths) {
    Trees t;
    DiscoveryRoots r = t.roots();
    r.hugging_face.clear();
    r.ollama.clear();
    const auto list = discoverModels(r);
    const DiscoveredModel* m = byName(list, "pub/repo-GGUF/model-F32.gguf");
    ASSERT_TRUE(m) << names(list);
    EXPECT_EQ(m->source, ModelSource::LmStudio);
    EXPECT_TRUE(m->error.empty()) << m->error;
    EXPECT_EQ(m->quantization, "F32");
    const DiscoveredModel* fake = byName(list, "pub/repo-GGUF/fake.gguf");
    ASSERT_TRUE(fake) << names(list);
    EXPECT_FALSE(fake->error.empty());

    const DiscoveredModel* loose = byName(list, "loose.gguf");
    ASSERT_TRUE(loose) << names(list);
    EXPECT_EQ(loose->source, ModelSource::File);
    EXPECT_EQ(loose->architecture, "llama");
    EXPECT_TRUE(byName(list, "inside.gguf")) << names(list);  // from the folder
    EXPECT_FALSE(byName(list, "notes.txt")) << names(list);
    const DiscoveredModel* gone = byName(list, "gone.gguf");
    ASSERT_TRUE(gone) << names(list);
    EXPECT_NE(gone->error.find("no such file"), std::string::npos) << gone->error;
    EXPECT_EQ(list.size(), 5u) << names(list);
}

TEST(DiscoverModels, EveryRootAtOnceCappedAndMissingRootsAreEmpty) {
    Trees t;
    const auto all = discoverModels(t.roots());
    EXPECT_EQ(all.size(), 3u + 6u + 2u + 3u) << names(all);
    // Hugging Face first, then Ollama, LM Studio, extra.
    EXPECT_EQ(all.front().source, ModelSource::HuggingFaceCache);
    EXPECT_EQ(all.back().source, ModelSource::File);
    DiscoveryRoots capped = t.roots();
    capped.max_entries = 4;
    EXPECT_EQ(discoverModels(capped).size(), 4u);
    DiscoveryRoots none;
    none.hugging_face = {(t.tmp.path() / "nothing").string()};
    none.ollama = {(t.tmp.path() / "nothing").string()};
    none.lm_studio = {(t.tmp.path() / "nothing").string()};
    EXPECT_TRUE(discoverModels(none).empty());
}

TEST(DiscoverModels, DefaultRootsFollowTheEnvironment) {
    const DiscoveryRoots r = defaultDiscoveryRoots({"/x/recent.gguf"});
    ASSERT_EQ(r.extra.size(), 1u);
    EXPECT_FALSE(r.hugging_face.empty());
    EXPECT_FALSE(r.ollama.empty());
    const char* o = std::getenv("OLLAMA_MODELS");
    if (o != nullptr && *o != '\0') {
        EXPECT_EQ(r.ollama.front(), o);
    }
}

TEST(DescribeModelPath, AHuggingFaceFolderAndAFileThatIsNoModel) {
    Trees t;
    const DiscoveredModel m =
        describeModelPath((t.hf / "models--org--tiny-llama" / "snapshots" / "main2").string());
    EXPECT_TRUE(m.error.empty()) << m.error;
    EXPECT_EQ(m.architecture, "LlamaForCausalLM");
    const DiscoveredModel n = describeModelPath((t.extra / "folder" / "notes.txt").string());
    EXPECT_NE(n.error.find("neither a GGUF file nor a llama2.c checkpoint"), std::string::npos)
        << n.error;
}

}  // namespace
}  // namespace attn
