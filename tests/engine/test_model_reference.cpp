// Every committed tiny model (tests/data/models, made by scripts/model-reference/generate)
// against the attention of an independent PyTorch forward written from Hugging Face's
// conventions, on the weights as the file stores them (F16/BF16 widened, GGUF blocks
// dequantized by the script's own numpy code): every head of every layer.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attn/formats/load.h"
#include "attn/formats/safetensors.h"
#include "attn/trace.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

fs::path modelsDir() { return fs::path(ATTN_SOURCE_DIR) / "tests" / "data" / "models"; }

struct RefModel {
    std::string name, path, format, arch, dtype, reference;
    std::vector<int> ids;
};

std::vector<RefModel> manifest() {
    const std::string text = testing::readFile((modelsDir() / "manifest.json").string());
    const auto j = nlohmann::json::parse(text, nullptr, false);
    std::vector<RefModel> out;
    if (j.is_discarded() || !j.contains("models")) return out;
    for (const auto& m : j["models"]) {
        RefModel r;
        r.name = m.at("name").get<std::string>();
        r.path = m.at("path").get<std::string>();
        r.format = m.at("format").get<std::string>();
        r.arch = m.at("arch").get<std::string>();
        r.dtype = m.at("dtype").get<std::string>();
        r.reference = m.at("reference").get<std::string>();
        r.ids = m.at("ids").get<std::vector<int>>();
        out.push_back(std::move(r));
    }
    return out;
}

// The largest per-head nmse of the trace against the reference file's layer.N (heads, T, T).
struct HeadsResult {
    double worst_nmse = 0;
    double worst_abs = 0;
    int heads = 0;
};

HeadsResult compareHeads(const Trace& tr, const std::string& refPath) {
    HeadsResult res;
    auto ref = SafetensorsFile::open(refPath);
    if (!ref) {
        ADD_FAILURE() << ref.message();
        return res;
    }
    const int T = tr.tokenCount();
    for (int l = 0; l < static_cast<int>(tr.layers.size()); ++l) {
        auto v = (*ref)->readFloats("layer." + std::to_string(l));
        if (!v) {
            ADD_FAILURE() << v.message();
            return res;
        }
        const auto& heads = tr.layers[static_cast<std::size_t>(l)].self_attention.heads;
        if (v->size() != heads.size() * static_cast<std::size_t>(T) * T) {
            ADD_FAILURE() << refPath << " layer " << l << " holds " << v->size() << " values";
            return res;
        }
        for (std::size_t h = 0; h < heads.size(); ++h) {
            // (T, T) row-major in the file: row = query.
            Mat R(T, T);
            for (int i = 0; i < T; ++i)
                for (int k = 0; k < T; ++k) R(i, k) = (*v)[(h * T + i) * T + k];
            const testing::Difference d = testing::compare(heads[h].weights, R);
            res.worst_nmse = std::max(res.worst_nmse, d.nmse);
            res.worst_abs = std::max(res.worst_abs, d.max_abs);
            ++res.heads;
        }
    }
    return res;
}

TEST(ModelReference, ManifestListsEveryLayoutAndType) {
    const auto models = manifest();
    ASSERT_EQ(models.size(), 37u) << "regenerate with scripts/model-reference/generate";
    std::map<std::string, int> count;
    for (const auto& m : models) ++count[m.format + ":" + m.arch + ":" + m.dtype];
    for (const char* arch : {"llama", "mistral", "qwen2", "qwen3"})
        for (const char* dt : {"F32", "F16", "BF16"})
            EXPECT_GE(count[std::string("hf:") + arch + ":" + dt], 1) << arch << " " << dt;
    for (const char* arch : {"llama", "qwen2", "qwen3"})
        for (const char* dt : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
            EXPECT_EQ(count[std::string("gguf:") + arch + ":" + dt], 1) << arch << " " << dt;
}

// Every head of every committed model matches PyTorch. The engine computes in float32 on the
// same (widened or dequantized) weights as the reference, so the bound is float32 round-off
// whatever the storage type.
TEST(ModelReference, EveryHeadMatchesPyTorch) {
    const auto models = manifest();
    ASSERT_FALSE(models.empty());
    int checked = 0;
    for (const auto& m : models) {
        SCOPED_TRACE(m.name);
        auto model = loadModel((modelsDir() / m.path).string());
        ASSERT_TRUE(model.ok()) << model.message();
        if (m.format == "gguf" && m.dtype != "F32") {
            EXPECT_FALSE((*model)->quantization.empty());
        }
        auto tr = runIds(*model, m.ids);
        ASSERT_TRUE(tr.ok()) << tr.message();
        const HeadsResult r = compareHeads(**tr, (modelsDir() / m.reference).string());
        const int expectHeads = (*model)->config.n_layers * (*model)->config.n_heads;
        EXPECT_EQ(r.heads, expectHeads);
        EXPECT_LE(r.worst_nmse, 1e-10) << "largest |Δ| " << r.worst_abs;
        std::printf("[ reference ] %-24s %3d heads  nmse %.2e  max|Δ| %.2e\n", m.name.c_str(),
                    r.heads, r.worst_nmse, r.worst_abs);
        ++checked;
    }
    EXPECT_EQ(checked, 37);
}

}  // namespace
}  // namespace attn
