// Hugging Face folders of the Llama family (loadHfLlamaFolder through loadModel), on the tiny
// committed models of tests/data/models and on broken copies of them.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attn/formats/hf_llama.h"
#include "attn/formats/load.h"
#include "attn/formats/safetensors.h"
#include "attn/generate.h"
#include "attn/open_model.h"
#include "attn/trace.h"
#include "formats_test_util.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path models() { return fs::path(ATTN_SOURCE_DIR) / "tests" / "data" / "models"; }

std::shared_ptr<Model> open(const fs::path& p) {
    auto m = loadModel(p.string());
    EXPECT_TRUE(m.ok()) << m.message();
    return m.ok() ? *m : nullptr;
}

const std::vector<int> kIds = {1, 7, 30, 12, 55, 3, 9, 40, 22, 61, 5, 18, 33, 4};

TracePtr trace(const std::shared_ptr<Model>& m, const std::vector<int>& ids = kIds) {
    auto tr = runIds(m, ids);
    EXPECT_TRUE(tr.ok()) << tr.message();
    return tr.ok() ? *tr : nullptr;
}

// The largest |Δ| between the attention weights of every head of two traces.
double maxHeadDifference(const Trace& a, const Trace& b) {
    double worst = 0;
    EXPECT_EQ(a.layers.size(), b.layers.size());
    for (std::size_t l = 0; l < a.layers.size() && l < b.layers.size(); ++l) {
        const auto& ha = a.layers[l].self_attention.heads;
        const auto& hb = b.layers[l].self_attention.heads;
        EXPECT_EQ(ha.size(), hb.size());
        for (std::size_t h = 0; h < ha.size() && h < hb.size(); ++h)
            worst = std::max(
                worst, static_cast<double>((ha[h].weights - hb[h].weights).cwiseAbs().maxCoeff()));
    }
    return worst;
}

// A copy of a committed folder whose config.json can be edited.
struct FolderCopy {
    testing::TempDir tmp;
    fs::path dir;
    explicit FolderCopy(const std::string& name) : dir(tmp.path() / name) {
        fs::copy(models() / "hf" / name, dir, fs::copy_options::recursive);
    }
    json config() const { return json::parse(testing::readFile((dir / "config.json").string())); }
    void setConfig(const json& j) const {
        testing::writeFile((dir / "config.json").string(), j.dump());
    }
    Result<std::shared_ptr<Model>> load() const { return loadModel(dir.string()); }
};

void expectError(const Result<std::shared_ptr<Model>>& r, ErrorCode code,
                 const std::vector<std::string>& parts) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(static_cast<int>(r.code()), static_cast<int>(code)) << r.message();
    for (const auto& p : parts) EXPECT_NE(r.message().find(p), std::string::npos) << r.message();
}

TEST(HfLlama, ReadsEachLayoutsConfig) {
    auto llama = open(models() / "hf" / "llama-f32");
    ASSERT_TRUE(llama);
    const ModelConfig& c = llama->config;
    EXPECT_EQ(c.architecture, Architecture::Decoder);
    EXPECT_EQ(c.d_model, 32);
    EXPECT_EQ(c.n_heads, 4);
    EXPECT_EQ(c.kvHeads(), 2);
    EXPECT_EQ(c.headDim(), 8);
    EXPECT_EQ(c.n_layers, 2);
    EXPECT_EQ(c.ffDim(), 64);
    EXPECT_EQ(c.vocab_size, 64);
    EXPECT_EQ(c.rope_pairs, RopePairs::Halves);
    EXPECT_EQ(c.norm, NormKind::RMSNorm);
    EXPECT_EQ(c.activation, Activation::SwiGLU);
    EXPECT_EQ(c.sliding_window, 0);
    EXPECT_EQ(c.rope_freq_factors.size(), 4u);
    EXPECT_FALSE(llama->weights.lm_head_tied);
    EXPECT_EQ(llama->weights.lm_head.rows(), 32);
    EXPECT_EQ(llama->weights.lm_head.cols(), 64);
    EXPECT_EQ(llama->bos_id, 1);
    EXPECT_EQ(llama->eos_id, 2);
    EXPECT_TRUE(llama->quantization.empty());
    ASSERT_TRUE(llama->tokenizer);
    EXPECT_EQ(llama->tokenizer->vocabSize(), 64);

    auto mistral = open(models() / "hf" / "mistral-f16");
    ASSERT_TRUE(mistral);
    EXPECT_EQ(mistral->config.sliding_window, 5);
    EXPECT_TRUE(mistral->config.rope_freq_factors.empty());
    EXPECT_EQ(mistral->quantization, "F16");

    auto qwen2 = open(models() / "hf" / "qwen2-bf16");
    ASSERT_TRUE(qwen2);
    const AttentionWeights& a = qwen2->weights.layers[0].self_attention;
    EXPECT_EQ(a.b_Q.size(), 32);
    EXPECT_EQ(a.b_K.size(), 16);
    EXPECT_EQ(a.b_V.size(), 16);
    EXPECT_EQ(a.b_O.size(), 0);
    EXPECT_TRUE(qwen2->weights.lm_head_tied);
    EXPECT_EQ(qwen2->weights.lm_head.size(), 0);
    EXPECT_EQ(qwen2->quantization, "BF16");

    auto qwen3 = open(models() / "hf" / "qwen3-f32");
    ASSERT_TRUE(qwen3);
    EXPECT_EQ(qwen3->config.headDim(), 16);  // ≠ hidden 32 / 4 heads
    const AttentionWeights& q3 = qwen3->weights.layers[1].self_attention;
    EXPECT_EQ(q3.W_Q.rows(), 32);
    EXPECT_EQ(q3.W_Q.cols(), 64);
    EXPECT_EQ(q3.W_O.rows(), 64);
    EXPECT_EQ(q3.q_norm.size(), 16);
    EXPECT_EQ(q3.k_norm.size(), 16);
    EXPECT_EQ(q3.b_Q.size(), 0);
}

// _compute_llama3_parameters worked by hand at d_head 8, θ 10000 (ω = 1, 0.1, 0.01, 0.001;
// wavelengths 6.28, 62.8, 628, 6283) with factor 8, low 1, high 4, original context 64
// (wavelength bounds 16 and 64): pair 0 is kept, pairs 2 and 3 are divided by 8, pair 1 is
// interpolated with smooth = (64 / 62.83 − 1) / 3 = 0.006197: divisor 1 / ((1 − s)/8 + s).
TEST(HfLlama, Llama3RopeFactorsFollowHuggingFace) {
    const auto f = llama3RopeFreqFactors(8, 10000.0, 8.0, 1.0, 4.0, 64.0);
    ASSERT_EQ(f.size(), 4u);
    const double s = (64.0 / (2.0 * M_PI / 0.1) - 1.0) / 3.0;
    EXPECT_FLOAT_EQ(f[0], 1.0f);
    EXPECT_NEAR(f[1], 1.0 / ((1.0 - s) / 8.0 + s), 1e-5);
    EXPECT_NEAR(f[1], 7.6674, 1e-3);
    EXPECT_FLOAT_EQ(f[2], 8.0f);
    EXPECT_FLOAT_EQ(f[3], 8.0f);
    auto llama = open(models() / "hf" / "llama-f32");
    ASSERT_TRUE(llama);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(llama->config.rope_freq_factors[i], f[i]);
}

TEST(HfLlama, SlidingWindowHidesKeysWindowOrMorePositionsBack) {
    MaskSpec spec;
    spec.kind = MaskKind::Causal;
    spec.window = 2;
    const BoolMat m = buildMask(spec, 4, 4);
    // Row = query: it sees itself and one key back.
    const bool expect[4][4] = {{false, true, true, true},
                               {false, false, true, true},
                               {true, false, false, true},
                               {true, true, false, false}};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) EXPECT_EQ(m(i, j), expect[i][j]) << i << "," << j;

    auto mistral = open(models() / "hf" / "mistral-f32");
    ASSERT_TRUE(mistral);
    auto tr = trace(mistral);
    ASSERT_TRUE(tr);
    for (const auto& layer : tr->layers) {
        for (const auto& h : layer.self_attention.heads) {
            for (int i = 0; i < tr->tokenCount(); ++i) {
                EXPECT_NEAR(h.weights.row(i).sum(), 1.0f, 1e-5);
                for (int j = 0; j < tr->tokenCount(); ++j) {
                    const bool visible = j <= i && j > i - 5;
                    if (visible)
                        EXPECT_GT(h.weights(i, j), 0.0f) << i << "," << j;
                    else
                        EXPECT_EQ(h.weights(i, j), 0.0f) << i << "," << j;
                }
            }
        }
    }
    // Full detail of a head recomputed on demand hides the same keys.
    RunOptions opt;
    opt.detail_limit_bytes = 0;
    auto lean = runIds(mistral, kIds, opt);
    ASSERT_TRUE(lean.ok()) << lean.message();
    const HeadTrace detail = (*lean)->headDetail(1, 3);
    EXPECT_TRUE(std::isinf(detail.masked(10, 5)));
    EXPECT_FALSE(std::isinf(detail.masked(10, 6)));
    EXPECT_LE(maxHeadDifference(*tr, **lean), 1e-6);
}

// The key/value cache of generation hides the same keys as a full trace of the sequence.
TEST(HfLlama, GenerationKeepsTheSlidingWindow) {
    std::shared_ptr<const Model> mistral = open(models() / "hf" / "mistral-f32");
    ASSERT_TRUE(mistral);
    auto prompt = tokensFromIds(*mistral, {1, 7, 30, 12});
    ASSERT_TRUE(prompt.ok()) << prompt.message();
    GenerateOptions opt;
    opt.max_new_tokens = 10;
    opt.stop_at_eos = false;
    opt.sampling.temperature = 1.0f;
    opt.sampling.seed = 3;
    auto gen = generate(mistral, *prompt, opt);
    ASSERT_TRUE(gen.ok()) << gen.message();
    const int n = static_cast<int>(gen->steps.size());
    ASSERT_EQ(n, 10);
    auto full = runTokens(mistral, gen->tokens(n - 1));
    ASSERT_TRUE(full.ok()) << full.message();
    double worst = 0;
    for (const GenerationStep& st : gen->steps) {
        for (std::size_t l = 0; l < st.attention.size(); ++l) {
            for (std::size_t h = 0; h < st.attention[l].size(); ++h) {
                const RowVec& got = st.attention[l][h];
                ASSERT_EQ(got.size(), st.position + 1);
                const RowVec want = (*full)
                                        ->layers[l]
                                        .self_attention.heads[h]
                                        .weights.row(st.position)
                                        .head(st.position + 1);
                worst = std::max(worst, double((got - want).cwiseAbs().maxCoeff()));
                for (int j = 0; j <= st.position - 5; ++j) EXPECT_EQ(got(j), 0.0f) << j;
                EXPECT_GT(got(st.position - 4 > 0 ? st.position - 4 : 0), 0.0f);
            }
        }
    }
    EXPECT_LE(worst, 1e-5);
}

TEST(HfLlama, ShardedWeightsEqualTheSingleFile) {
    auto single = open(models() / "hf" / "llama-f32");
    auto sharded = open(models() / "hf" / "llama-f32-sharded" / "model.safetensors.index.json");
    ASSERT_TRUE(single && sharded);
    auto a = trace(single), b = trace(sharded);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(maxHeadDifference(*a, *b), 0.0);
    EXPECT_EQ((a->logits - b->logits).cwiseAbs().maxCoeff(), 0.0f);
}

TEST(HfLlama, LoadReportsProgressPerLayerAndCanBeCancelled) {
    const fs::path folder = models() / "hf" / "llama-bf16";
    std::vector<double> seen;
    OpenOptions o;
    o.load.progress = [&seen](double f) { seen.push_back(f); };
    auto m = openModel(folder.string(), o);
    ASSERT_TRUE(m) << m.message();
    // One call per layer and the final 1 (from loadModel), never decreasing.
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(m.value()->config.n_layers) + 1);
    for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
    EXPECT_GT(seen.front(), 0.0);
    EXPECT_LT(seen.front(), 1.0);
    EXPECT_EQ(seen.back(), 1.0);

    // Cancelled once the first layer is read: the load gives Cancelled, not a model.
    std::atomic<bool> cancel{false};
    o.load.cancel = &cancel;
    o.load.progress = [&cancel](double) { cancel = true; };
    auto c = openModel(folder.string(), o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.code(), ErrorCode::Cancelled) << c.message();
}

// F16 and BF16 weights stay in the file's memory map as stored; float32 ones are read dense.
// The packed model traces as its widened twin does (the products widen a panel at a time).
TEST(HfLlama, HalfPrecisionWeightsStayAsStored) {
    auto bf16 = open(models() / "hf" / "llama-bf16");
    auto f32 = open(models() / "hf" / "llama-f32");
    ASSERT_TRUE(bf16 && f32);
    const AttentionWeights& a = bf16->weights.layers[0].self_attention;
    const std::shared_ptr<const Model> packed = bf16;
    for (const Weight* w : {&a.W_Q, &a.W_K, &a.W_V, &a.W_O, &packed->weights.layers[0].ffn.W1,
                            &packed->weights.token_embedding})
        EXPECT_TRUE(w->isPacked());
    EXPECT_FALSE(f32->weights.layers[0].self_attention.W_Q.isPacked());
    EXPECT_EQ(bf16->quantization, "BF16");

    // The same model with every weight widened to float32 up front.
    auto widened = std::make_shared<Model>(*bf16);
    for (LayerWeights& l : widened->weights.layers)
        for (Weight* w : {&l.self_attention.W_Q, &l.self_attention.W_K, &l.self_attention.W_V,
                          &l.self_attention.W_O, &l.ffn.W1, &l.ffn.W2, &l.ffn.W3})
            *w = Weight(w->toDense());
    widened->weights.token_embedding = Weight(widened->weights.token_embedding.toDense());
    if (!widened->weights.lm_head.empty())
        widened->weights.lm_head = Weight(widened->weights.lm_head.toDense());
    auto p = trace(bf16), d = trace(widened);
    ASSERT_TRUE(p && d);
    EXPECT_LE(maxHeadDifference(*p, *d), 1e-6);
}

// Hugging Face keeps rotate-half rows; llama.cpp's converter permutes GGUF llama's Q and K rows
// into Meta's interleaved pairs. Both files hold the same model, so the attention is the same.
TEST(HfLlama, HuggingFaceFolderAndGgufGiveTheSameAttention) {
    for (const char* arch : {"llama", "qwen2", "qwen3"}) {
        SCOPED_TRACE(arch);
        auto hf = open(models() / "hf" / (std::string(arch) + "-f32"));
        auto gg = open(models() / "gguf" / (std::string(arch) + "-f32.gguf"));
        ASSERT_TRUE(hf && gg);
        EXPECT_EQ(gg->config.rope_pairs,
                  std::string(arch) == "llama" ? RopePairs::Adjacent : RopePairs::Halves);
        auto a = trace(hf), b = trace(gg);
        ASSERT_TRUE(a && b);
        EXPECT_LE(maxHeadDifference(*a, *b), 1e-5);
        EXPECT_LE((a->logits - b->logits).cwiseAbs().maxCoeff(), 1e-4f);
    }
}

TEST(HfLlama, UnsupportedArchitecturesAreNamed) {
    for (const char* arch : {"GemmaForCausalLM", "PhiForCausalLM"}) {
        FolderCopy f("llama-f32");
        json c = f.config();
        c["architectures"] = json::array({arch});
        c["model_type"] = "gemma";
        f.setConfig(c);
        expectError(f.load(), ErrorCode::UnsupportedArchitecture,
                    {arch, "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                     "Qwen3ForCausalLM", "config.json"});
    }
    // Without "architectures", model_type picks the family member.
    FolderCopy f("qwen2-f32");
    json c = f.config();
    c.erase("architectures");
    f.setConfig(c);
    auto m = f.load();
    ASSERT_TRUE(m.ok()) << m.message();
    EXPECT_EQ((*m)->weights.layers[0].self_attention.b_Q.size(), 32);
}

TEST(HfLlama, BadRopeScalingIsExplained) {
    FolderCopy f("llama-f32");
    const json good = f.config();
    json c = good;
    c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    f.setConfig(c);
    expectError(f.load(), ErrorCode::UnsupportedArchitecture, {"yarn", "llama3"});

    c = good;
    c["rope_scaling"].erase("low_freq_factor");
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Corrupt, {"low_freq_factor", "config.json"});

    c = good;
    c["rope_scaling"]["high_freq_factor"] = 0.5;
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Corrupt, {"high_freq_factor", "low_freq_factor"});

    c = good;
    c["rope_scaling"]["factor"] = -2;
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Corrupt, {"factor", "-2"});

    c = good;
    c["rope_scaling"] = {{"factor", 2.0}};
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Corrupt, {"rope_type"});

    // The older key "type" and linear scaling: every pair divided by the factor.
    c = good;
    c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
    f.setConfig(c);
    auto m = f.load();
    ASSERT_TRUE(m.ok()) << m.message();
    EXPECT_EQ((*m)->config.rope_freq_factors, std::vector<float>(4, 2.0f));
}

TEST(HfLlama, ConfigThatContradictsTheWeightsIsExplained) {
    FolderCopy f("llama-f32");
    const json good = f.config();
    json c = good;
    c["intermediate_size"] = 48;
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Corrupt,
                {"model.layers.0.mlp.gate_proj.weight", "[64, 32]", "expected [48, 32]"});

    c = good;
    c["num_key_value_heads"] = 3;
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Corrupt, {"4 attention heads cannot share 3"});

    c = good;
    c["hidden_size"] = 1 << 20;
    f.setConfig(c);
    expectError(f.load(), ErrorCode::Invalid, {"hidden_size", "65536"});

    c = good;
    c["tie_word_embeddings"] = true;  // ignores the stored lm_head and uses the embedding
    f.setConfig(c);
    auto tied = f.load();
    ASSERT_TRUE(tied.ok()) << tied.message();
    EXPECT_TRUE((*tied)->weights.lm_head_tied);

    c = good;
    c["hidden_act"] = "gelu";
    f.setConfig(c);
    expectError(f.load(), ErrorCode::UnsupportedArchitecture, {"gelu"});

    f.setConfig(good);
    fs::remove(f.dir / "tokenizer.json");
    expectError(f.load(), ErrorCode::NotFound, {"tokenizer.json"});
}

TEST(HfLlama, ShardsAreCheckedAgainstTheIndex) {
    {
        FolderCopy f("llama-f32-sharded");
        fs::remove(f.dir / "model-00002-of-00002.safetensors");
        expectError(f.load(), ErrorCode::NotFound, {"model-00002-of-00002.safetensors"});
    }
    {
        // A tensor a shard holds but the index does not list.
        FolderCopy f("llama-f32-sharded");
        const std::string index = (f.dir / "model.safetensors.index.json").string();
        json j = json::parse(testing::readFile(index));
        j["weight_map"].erase("model.norm.weight");
        testing::writeFile(index, j.dump());
        expectError(f.load(), ErrorCode::Corrupt, {"model.norm.weight", "does not list"});
    }
    {
        // The same tensor in two shards.
        FolderCopy f("llama-f32-sharded");
        const std::string index = (f.dir / "model.safetensors.index.json").string();
        json j = json::parse(testing::readFile(index));
        TensorF32 t{{32}, std::vector<float>(32, 1.0f)};
        ASSERT_TRUE(
            writeSafetensors((f.dir / "extra.safetensors").string(), {{"model.norm.weight", t}}));
        j["weight_map"]["model.norm.weight"] = "extra.safetensors";
        testing::writeFile(index, j.dump());
        expectError(f.load(), ErrorCode::Corrupt, {"model.norm.weight", "stored twice"});
    }
    {
        // A tensor mapped to a shard that does not hold it.
        FolderCopy f("llama-f32-sharded");
        const std::string index = (f.dir / "model.safetensors.index.json").string();
        json j = json::parse(testing::readFile(index));
        const std::string first = j["weight_map"]["model.embed_tokens.weight"];
        j["weight_map"]["model.norm.weight"] = first;
        j["weight_map"]["model.layers.9.nothing"] = first;
        testing::writeFile(index, j.dump());
        expectError(f.load(), ErrorCode::Corrupt, {"does not hold it"});
    }
}

TEST(HfLlama, RunIdsChecksTheVocabulary) {
    auto m = open(models() / "hf" / "llama-f32");
    ASSERT_TRUE(m);
    auto bad = runIds(m, {1, 64});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("64"), std::string::npos) << bad.message();
    EXPECT_NE(bad.message().find("number 2"), std::string::npos) << bad.message();
    auto tr = runIds(m, {1, 4, 5});
    ASSERT_TRUE(tr.ok()) << tr.message();
    ASSERT_EQ(tr->get()->tokens.size(), 3u);
    EXPECT_EQ(tr->get()->tokens[1].id, 4);
    EXPECT_EQ(tr->get()->tokens[1].text, "a");  // the tokenizer's piece for id 4
}

}  // namespace
}  // namespace attn
