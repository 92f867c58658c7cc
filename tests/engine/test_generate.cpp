// Generation with a key/value cache: every cached step's attention row and next-token
// probability equal those of a full recomputation of the whole sequence (runTokens), on random
// decoders of every layout the engine runs and on the trained stories260K (.bin and .gguf);
// the sampler keeps what top-k/top-p allow and is reproducible by seed; stops and errors.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "attn/formats/llama2c.h"
#include "attn/formats/load.h"
#include "attn/generate.h"
#include "attn/trace.h"
#include "formats_test_util.h"
#include "gpt2_fixture.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

// ---- random decoders -------------------------------------------------------------------------

struct DecoderCase {
    const char* name = "";
    PositionalKind positional = PositionalKind::Rope;
    RopePairs pairs = RopePairs::Adjacent;
    NormKind norm = NormKind::RMSNorm;
    bool pre_norm = true;
    Activation activation = Activation::SwiGLU;
    int kv_heads = 2;
    bool qwen_extras = false;  // q/k/v biases, q_norm/k_norm, tied output layer
    std::optional<AttentionKnobs> knobs;
    std::vector<std::pair<int, int>> disabled;
};

std::shared_ptr<Model> makeDecoder(const DecoderCase& dc) {
    ModelConfig c;
    c.name = dc.name;
    c.architecture = Architecture::Decoder;
    c.d_model = 32;
    c.n_heads = 4;
    c.n_kv_heads = dc.kv_heads;
    c.n_layers = 2;
    c.d_ff = 48;
    c.vocab_size = 40;
    c.max_len = 256;
    c.positional = dc.positional;
    c.rope_pairs = dc.pairs;
    c.norm = dc.norm;
    c.pre_norm = dc.pre_norm;
    c.final_norm = dc.pre_norm;
    c.activation = dc.activation;
    c.has_lm_head = true;
    c.seed = 7;
    auto m = makeUntrainedModel(c);
    EXPECT_TRUE(m) << m.message();
    std::shared_ptr<Model> model = *m;
    std::mt19937 rng(3);
    for (LayerWeights& l : model->weights.layers) {
        // Sharper attention than Xavier gives, so a wrong key or position shows.
        l.self_attention.W_Q.dense() *= 3.0f;
        l.self_attention.W_K.dense() *= 3.0f;
        if (dc.qwen_extras) {
            AttentionWeights& a = l.self_attention;
            a.b_Q = testing::randomVec(static_cast<int>(a.W_Q.cols()), 0, 0.5f, rng);
            a.b_K = testing::randomVec(static_cast<int>(a.W_K.cols()), 0, 0.5f, rng);
            a.b_V = testing::randomVec(static_cast<int>(a.W_V.cols()), 0, 0.5f, rng);
            a.q_norm = testing::randomVec(c.headDim(), 1, 0.5f, rng);
            a.k_norm = testing::randomVec(c.headDim(), 1, 0.5f, rng);
        }
    }
    if (dc.qwen_extras) {
        model->weights.lm_head = Mat();
        model->weights.lm_head_tied = true;
    }
    if (dc.positional == PositionalKind::Learned)
        model->weights.lm_bias = testing::randomVec(c.vocab_size, 0, 0.3f, rng);
    if (dc.knobs) model->trained_attention = *dc.knobs;
    return model;
}

std::vector<Token> idsToTokens(const Model& m, const std::vector<int>& ids) {
    auto t = tokensFromIds(m, ids);
    EXPECT_TRUE(t) << t.message();
    return t ? *t : std::vector<Token>{};
}

struct StepDifference {
    double attention = 0;  // max |Δ| over every kept weight
    double baseline = 0;   // the same rows of two full traces, one token shorter: float noise
    double prob = 0;       // max |Δ| of the chosen token's probability
    double score = 0;      // max |scaled score| of the full trace: what rounding is relative to
    int rows = 0;          // attention rows compared
};

// Recomputes prompt + every generated token but the last in one trace and compares row
// `position` of every head with the cached step.
StepDifference compareWithFullTrace(const std::shared_ptr<const Model>& model,
                                    const Generation& gen, const GenerateOptions& opt) {
    StepDifference d;
    const int n = static_cast<int>(gen.steps.size());
    RunOptions ro;
    ro.attention = opt.attention;
    ro.disabled_heads = opt.disabled_heads;
    auto full = runTokens(model, gen.tokens(n - 1), ro);
    EXPECT_TRUE(full) << full.message();
    if (!full) return d;
    const Trace& tr = **full;
    EXPECT_EQ(tr.tokenCount(), static_cast<int>(gen.prompt.size()) + n - 1);
    for (int i = 0; i < n; ++i) {
        const GenerationStep& st = gen.steps[i];
        EXPECT_EQ(st.position, static_cast<int>(gen.prompt.size()) - 1 + i);
        EXPECT_EQ(st.attention.size(), tr.layers.size());
        for (std::size_t l = 0; l < tr.layers.size(); ++l) {
            const auto& heads = tr.layers[l].self_attention.heads;
            EXPECT_EQ(st.attention[l].size(), heads.size());
            for (std::size_t h = 0; h < heads.size(); ++h) {
                const RowVec& got = st.attention[l][h];
                EXPECT_EQ(got.size(), st.position + 1);
                if (got.size() != st.position + 1) continue;
                const RowVec want = heads[h].weights.row(st.position).head(st.position + 1);
                d.attention = std::max(d.attention, double((got - want).cwiseAbs().maxCoeff()));
                EXPECT_NEAR(got.sum(), 1.0f, 1e-5f);
                ++d.rows;
            }
        }
        // Its probability from the full trace's logits at the same position.
        const RowVec logits = tr.logits.row(st.position);
        const double mx = logits.maxCoeff();
        double z = 0;
        for (Eigen::Index v = 0; v < logits.size(); ++v) z += std::exp(logits(v) - mx);
        const double p = std::exp(logits(st.token) - mx) / z;
        d.prob = std::max(d.prob, std::abs(p - st.prob));
    }
    // How much two full traces differ on the rows they share (their products are blocked
    // differently): the rounding floor the cache is measured against.
    auto shorter = runTokens(model, gen.tokens(n - 2), ro);
    EXPECT_TRUE(shorter) << shorter.message();
    if (!shorter) return d;
    const Eigen::Index T = (*shorter)->tokenCount();
    for (std::size_t l = 0; l < tr.layers.size(); ++l)
        for (std::size_t h = 0; h < tr.layers[l].self_attention.heads.size(); ++h) {
            const Mat& a = tr.layers[l].self_attention.heads[h].weights;
            const Mat& b = (*shorter)->layers[l].self_attention.heads[h].weights;
            const Mat& sc = tr.layers[l].self_attention.heads[h].scaled;
            d.score = std::max(d.score, double(sc.cwiseAbs().maxCoeff()));
            d.baseline =
                std::max(d.baseline, double((a.topLeftCorner(T, T) - b).cwiseAbs().maxCoeff()));
        }
    return d;
}

DecoderCase namedCase(const char* name) {
    DecoderCase c;
    c.name = name;
    return c;
}

class GenerateDecoder : public ::testing::TestWithParam<DecoderCase> {};

TEST_P(GenerateDecoder, CachedStepsEqualTheFullRecomputation) {
    const DecoderCase& dc = GetParam();
    std::shared_ptr<const Model> model = makeDecoder(dc);
    GenerateOptions opt;
    opt.max_new_tokens = 14;
    opt.sampling.temperature = 1.0f;  // varied tokens, not one repeated arg-max
    opt.sampling.seed = 11;
    opt.stop_at_eos = false;
    opt.attention = dc.knobs;
    opt.disabled_heads = dc.disabled;
    auto gen = generate(model, idsToTokens(*model, {5, 17, 3, 29, 8}), opt);
    ASSERT_TRUE(gen) << gen.message();
    ASSERT_EQ(gen->steps.size(), 14u);
    EXPECT_EQ(gen->stopped_by, StopReason::Length);
    const StepDifference d = compareWithFullTrace(model, *gen, opt);
    std::printf(
        "[ %s ] %d attention rows: max |Δ| %.3g (two full traces: %.3g; scores up to %.3g); "
        "next-token probability max |Δ| %.3g\n",
        dc.name, d.rows, d.attention, d.baseline, d.score, d.prob);
    EXPECT_EQ(d.rows, 14 * 2 * 4);
    // A score s is rounded by about |s|·6e-8 and a weight moves by as much: the bound holds
    // scores of ±20 to 1e-5 and grows with them (the unscaled general score spans hundreds,
    // and a build with other vector code — the sanitizers' — rounds it otherwise).
    EXPECT_LE(d.attention, 1e-5 * std::max(1.0, d.score / 20.0));
    EXPECT_LE(d.prob, 1e-5);
    // The attention is far from uniform (the comparison could fail).
    float peak = 0;
    for (const auto& layer : gen->steps.back().attention)
        for (const RowVec& r : layer) peak = std::max(peak, r.maxCoeff());
    EXPECT_GT(peak, 2.0f / static_cast<float>(gen->steps.back().position + 1));
}

AttentionKnobs knobs(ScoreFunction score, float temperature = 1.0f,
                     ProjectionMode projection = ProjectionMode::QKV) {
    AttentionKnobs k;
    k.score = score;
    k.temperature = temperature;
    k.projection = projection;
    return k;
}

std::vector<DecoderCase> decoderCases() {
    std::vector<DecoderCase> cases;
    auto add = [&](const char* name) -> DecoderCase& {
        DecoderCase c;
        c.name = name;
        cases.push_back(c);
        return cases.back();
    };
    add("llama_gqa_rope");
    {
        DecoderCase& c = add("qwen3_like");
        c.pairs = RopePairs::Halves;
        c.kv_heads = 1;
        c.qwen_extras = true;
    }
    {
        DecoderCase& c = add("gpt2_like");
        c.positional = PositionalKind::Learned;
        c.norm = NormKind::LayerNorm;
        c.activation = Activation::GELUTanh;
        c.kv_heads = 4;
    }
    {
        DecoderCase& c = add("post_norm_sinusoidal");
        c.positional = PositionalKind::Sinusoidal;
        c.norm = NormKind::LayerNorm;
        c.pre_norm = false;
        c.activation = Activation::ReLU;
        c.kv_heads = 4;
    }
    add("switched_off_heads").disabled = {{0, 1}, {1, 3}};
    add("cosine_hot").knobs = knobs(ScoreFunction::Cosine, 0.2f);
    {
        DecoderCase& c = add("general_score");
        c.kv_heads = 4;
        c.knobs = knobs(ScoreFunction::General);
    }
    {
        DecoderCase& c = add("additive_score");
        c.positional = PositionalKind::None;
        c.kv_heads = 4;
        c.knobs = knobs(ScoreFunction::Additive);
    }
    add("qk_projection").knobs = knobs(ScoreFunction::ScaledDot, 1.0f, ProjectionMode::QK);
    {
        DecoderCase& c = add("raw_embeddings");
        c.kv_heads = 4;
        c.knobs = knobs(ScoreFunction::Dot, 1.0f, ProjectionMode::Embeddings);
    }
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Layouts, GenerateDecoder, ::testing::ValuesIn(decoderCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Generate, TheSameSeedGivesTheSameTokensAnotherSeedOthers) {
    std::shared_ptr<const Model> model = makeDecoder(namedCase("seeds"));
    const auto prompt = idsToTokens(*model, {1, 2, 3});
    GenerateOptions opt;
    opt.max_new_tokens = 24;
    opt.stop_at_eos = false;
    opt.sampling.temperature = 1.5f;
    opt.sampling.seed = 42;
    auto a = generate(model, prompt, opt);
    auto b = generate(model, prompt, opt);
    opt.sampling.seed = 43;
    auto c = generate(model, prompt, opt);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->ids(), b->ids());
    EXPECT_NE(a->ids(), c->ids());
    for (const auto& st : a->steps) {
        EXPECT_GT(st.sample_prob, 0.0f);
        EXPECT_LE(st.sample_prob, 1.0f);
    }
}

TEST(Generate, GreedyIsTheArgMaxAndTopKOneIsGreedy) {
    std::shared_ptr<const Model> model = makeDecoder(namedCase("greedy"));
    const auto prompt = idsToTokens(*model, {4, 9});
    GenerateOptions greedy;
    greedy.max_new_tokens = 10;
    greedy.stop_at_eos = false;
    greedy.top_candidates = 5;
    auto g = generate(model, prompt, greedy);
    ASSERT_TRUE(g);
    for (const auto& st : g->steps) {
        ASSERT_EQ(st.top.size(), 5u);
        EXPECT_EQ(st.top[0].first, st.token);  // the most probable was chosen
        EXPECT_FLOAT_EQ(st.top[0].second, st.prob);
        EXPECT_EQ(st.sample_prob, 1.0f);
        for (std::size_t i = 1; i < st.top.size(); ++i)
            EXPECT_GE(st.top[i - 1].second, st.top[i].second);
    }
    GenerateOptions topk = greedy;
    topk.sampling.temperature = 3.0f;
    topk.sampling.top_k = 1;
    auto k = generate(model, prompt, topk);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->ids(), g->ids());
}

TEST(SampleToken, KeepsOnlyWhatTopKAndTopPAllow) {
    // Probabilities 0.5, 0.25, 0.125, 0.125 at temperature 1.
    RowVec logits(4);
    logits << std::log(4.0f), std::log(2.0f), 0.0f, 0.0f;
    std::mt19937_64 rng(5);
    std::map<int, int> counts;
    SamplingOptions o;
    o.temperature = 1.0f;
    for (int i = 0; i < 4000; ++i) ++counts[sampleToken(logits, o, rng)];
    EXPECT_NEAR(counts[0] / 4000.0, 0.5, 0.04);
    EXPECT_NEAR(counts[1] / 4000.0, 0.25, 0.04);
    EXPECT_NEAR(counts[2] / 4000.0, 0.125, 0.03);

    counts.clear();
    o.top_k = 2;
    float p = 0;
    for (int i = 0; i < 3000; ++i) {
        const int t = sampleToken(logits, o, rng, &p);
        ++counts[t];
        EXPECT_NEAR(p, t == 0 ? 2.0 / 3.0 : 1.0 / 3.0, 1e-6);
    }
    EXPECT_EQ(counts.size(), 2u);
    EXPECT_NEAR(counts[0] / 3000.0, 2.0 / 3.0, 0.04);

    counts.clear();
    o.top_k = 0;
    o.top_p = 0.7f;  // 0.5 < 0.7 ≤ 0.75: the first two
    for (int i = 0; i < 2000; ++i) ++counts[sampleToken(logits, o, rng)];
    EXPECT_EQ(counts.size(), 2u);
    EXPECT_GT(counts[1], 0);

    o.top_p = 0.5f;  // the first alone reaches it
    for (int i = 0; i < 200; ++i) EXPECT_EQ(sampleToken(logits, o, rng, &p), 0);
    EXPECT_FLOAT_EQ(p, 1.0f);

    // A high temperature flattens, a low one sharpens.
    o = SamplingOptions{};
    o.temperature = 0.05f;
    for (int i = 0; i < 200; ++i) EXPECT_EQ(sampleToken(logits, o, rng), 0);
    o.temperature = 0.0f;
    EXPECT_EQ(sampleToken(logits, o, rng, &p), 0);
    EXPECT_EQ(p, 1.0f);
}

TEST(Generate, StopsAtEosAtTheContextAndWhenCancelled) {
    std::shared_ptr<Model> model = makeDecoder(namedCase("stops"));
    const auto prompt = idsToTokens(*model, {6, 7, 8});
    GenerateOptions opt;
    opt.max_new_tokens = 12;
    auto first = generate(model, prompt, opt);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->steps.size(), 12u);
    EXPECT_EQ(first->stopped_by, StopReason::Length);

    // EOS: the model's third greedy token becomes its end token.
    model->eos_id = first->steps[2].token;
    int firstEos = 0;
    while (first->steps[firstEos].token != model->eos_id) ++firstEos;
    auto eos = generate(model, prompt, opt);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->stopped_by, StopReason::Eos);
    EXPECT_EQ(eos->steps.size(), static_cast<std::size_t>(firstEos + 1));
    std::string want;
    for (int i = 0; i < firstEos; ++i) want += first->steps[i].piece;
    EXPECT_EQ(eos->text(), want);  // the EOS piece is left out
    model->eos_id = -1;

    // The context: max_len 3 + 4 positions leave room for 5 tokens.
    model->config.max_len = 7;
    auto ctx = generate(model, prompt, opt);
    ASSERT_TRUE(ctx);
    EXPECT_EQ(ctx->stopped_by, StopReason::ContextFull);
    EXPECT_EQ(ctx->steps.size(), 5u);
    model->config.max_len = 256;

    // Cancel from the progress callback after the fourth token.
    std::atomic<bool> cancel{false};
    std::vector<int> done;
    opt.cancel = &cancel;
    opt.on_step = [&](const GenerationStep& st, int made, int total) {
        EXPECT_EQ(total, 12);
        EXPECT_EQ(st.token, first->steps[made - 1].token);
        done.push_back(made);
        if (made == 4) cancel = true;
    };
    auto cut = generate(model, prompt, opt);
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->stopped_by, StopReason::Cancelled);
    EXPECT_EQ(cut->steps.size(), 4u);
    EXPECT_EQ(done, (std::vector<int>{1, 2, 3, 4}));

    // Cancelled before the prompt: an error with its code.
    auto before = generate(model, prompt, opt);
    ASSERT_FALSE(before);
    EXPECT_EQ(before.code(), ErrorCode::Cancelled);
}

TEST(Generate, TheGeneratorStepsOneTokenAtATime) {
    std::shared_ptr<const Model> model = makeDecoder(namedCase("stepper"));
    const auto prompt = idsToTokens(*model, {10, 11});
    GenerateOptions opt;
    opt.max_new_tokens = 3;
    opt.stop_at_eos = false;
    auto g = Generator::start(model, prompt, opt);
    ASSERT_TRUE(g) << g.message();
    ASSERT_TRUE((*g)->result().prompt_trace);
    EXPECT_EQ((*g)->result().prompt.size(), 2u);
    int n = 0;
    while (const GenerationStep* st = (*g)->next()) {
        EXPECT_EQ(st->position, 1 + n);
        ++n;
        EXPECT_EQ((*g)->result().steps.size(), static_cast<std::size_t>(n));
    }
    EXPECT_EQ(n, 3);
    EXPECT_TRUE((*g)->done());
    EXPECT_EQ((*g)->next(), nullptr);
    auto all = generate(model, prompt, opt);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->ids(), (*g)->result().ids());
}

TEST(Generate, RefusesWhatCannotGenerate) {
    ModelConfig enc;  // the default untrained model: an encoder without a vocabulary
    auto encoder = makeUntrainedModel(enc);
    ASSERT_TRUE(encoder);
    Token t;
    t.text = "hi";
    auto r = generate(*encoder, {t});
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("decoder"), std::string::npos) << r.message();

    std::shared_ptr<Model> model = makeDecoder(namedCase("errors"));
    r = generate(model, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("empty"), std::string::npos) << r.message();
    auto bad = tokensFromIds(*model, {1, 40});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.message().find("40"), std::string::npos) << bad.message();
    EXPECT_NE(bad.message().find("0 to 39"), std::string::npos) << bad.message();
    GenerateOptions opt;
    opt.sampling.top_p = 0.0f;
    r = generate(model, idsToTokens(*model, {1}), opt);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("top-p"), std::string::npos) << r.message();
    opt = {};
    opt.sampling.temperature = -1.0f;
    EXPECT_FALSE(generate(model, idsToTokens(*model, {1}), opt));
    model->weights.lm_head = Mat();
    r = generate(model, idsToTokens(*model, {1}));
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("output layer"), std::string::npos) << r.message();
}

TEST(Generate, AGpt2FolderGeneratesAsItsFullTraceSays) {
    // The loader's GPT-2 (learned positions, tied output layer, byte-level BPE pieces).
    testing::TempDir dir;
    fixture::Gpt2TokenizerFiles tok;
    tok.extra = {"\xC4\xA0t", "he"};
    tok.merges = {{"\xC4\xA0", "t"}, {"h", "e"}};
    const fixture::Gpt2Hf hf = fixture::randomGpt2(fixture::Gpt2Shape{}, 5);
    ASSERT_TRUE(fixture::writeGpt2Folder(dir.path().string(), hf, tok));
    auto loaded = loadModel(dir.path().string());
    ASSERT_TRUE(loaded) << loaded.message();
    std::shared_ptr<const Model> model = *loaded;
    GenerateOptions opt;
    opt.max_new_tokens = 20;  // 32 positions: room for all
    opt.sampling.temperature = 1.0f;
    opt.stop_at_eos = false;
    auto gen = generateFromText(model, "the hat", opt);
    ASSERT_TRUE(gen) << gen.message();
    ASSERT_EQ(gen->steps.size(), 20u);
    const StepDifference d = compareWithFullTrace(model, *gen, opt);
    EXPECT_LE(d.attention, 1e-5);
    EXPECT_LE(d.prob, 1e-5);
    std::string pieces;
    for (const auto& st : gen->steps) pieces += model->tokenizer->decode(st.token);
    EXPECT_EQ(gen->text(), pieces);
    // The 32 learned positions end generation when they are used up.
    opt.max_new_tokens = 100;
    auto longer = generateFromText(model, "the hat", opt);
    ASSERT_TRUE(longer);
    EXPECT_EQ(longer->stopped_by, StopReason::ContextFull);
    EXPECT_EQ(longer->prompt.size() + longer->steps.size(), 33u);
}

// ---- stories260K -----------------------------------------------------------------------------

const fs::path kStoriesDir = testing::sharedDir() / "models" / "stories260K";
const std::string kStoriesBin = (kStoriesDir / "stories260K.bin").string();
const std::string kStoriesGguf = (kStoriesDir / "stories260K.gguf").string();

// The start of llama2.c's expected output for this model (PROVENANCE.md).
const std::string kExpectedStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

#define REQUIRE_STORIES()                                                               \
    do {                                                                                \
        if (!fs::exists(kStoriesBin) || !fs::exists(kStoriesGguf)) {                    \
            if (testing::onCi()) FAIL() << "stories260K missing under " << kStoriesDir; \
            GTEST_SKIP() << "stories260K not found under " << kStoriesDir               \
                         << " — the generation checks on a trained model did NOT run";  \
        }                                                                               \
    } while (0)

std::shared_ptr<const Model> open(const std::string& path) {
    auto m = loadModel(path);
    EXPECT_TRUE(m) << m.message();
    return m ? std::shared_ptr<const Model>(*m) : nullptr;
}

TEST(GenerateStories, GreedyFromBosTellsLlama2csStory) {
    REQUIRE_STORIES();
    auto model = open(kStoriesBin);
    ASSERT_TRUE(model);
    GenerateOptions opt;
    opt.max_new_tokens = 199;
    opt.stop_at_eos = false;  // as llama2.c's test: 200 positions from BOS
    auto gen = generate(model, idsToTokens(*model, {1}), opt);
    ASSERT_TRUE(gen) << gen.message();
    const auto& tok = dynamic_cast<const Llama2cTokenizer&>(*model->tokenizer);
    const std::string text = tok.decodeIds(gen->ids());
    EXPECT_EQ(text.substr(0, kExpectedStory.size()), kExpectedStory) << text;
    // Generation::text() is the pieces as they are: the story after its leading space.
    EXPECT_EQ(gen->text().substr(0, kExpectedStory.size() + 1), " " + kExpectedStory);
}

TEST(GenerateStories, CachedStepsEqualTheFullTrace) {
    REQUIRE_STORIES();
    for (const std::string& path : {kStoriesBin, kStoriesGguf}) {
        auto model = open(path);
        ASSERT_TRUE(model);
        GenerateOptions opt;
        opt.max_new_tokens = 60;
        opt.sampling.temperature = 0.8f;
        opt.sampling.top_p = 0.9f;
        opt.sampling.seed = 2026;
        auto gen = generateFromText(model, "Once upon a time", opt);
        ASSERT_TRUE(gen) << gen.message();
        ASSERT_GE(gen->steps.size(), 20u) << gen->text();
        const StepDifference d = compareWithFullTrace(model, *gen, opt);
        std::printf(
            "[ stories260K %s ] %zu steps, %d attention rows vs full trace: max |Δ| %.3g "
            "(two full traces: %.3g); probability max |Δ| %.3g\n",
            fs::path(path).extension().c_str(), gen->steps.size(), d.rows, d.attention, d.baseline,
            d.prob);
        EXPECT_LE(d.attention, 1e-5);
        EXPECT_LE(d.prob, 1e-5);
    }
}

TEST(GenerateStories, BinAndGgufGiveTheSameTextAndAttention) {
    REQUIRE_STORIES();
    auto bin = open(kStoriesBin);
    auto gguf = open(kStoriesGguf);
    ASSERT_TRUE(bin && gguf);
    GenerateOptions opt;
    opt.max_new_tokens = 150;
    auto a = generateFromText(bin, "Tom had a red ball", opt);
    auto b = generateFromText(gguf, "Tom had a red ball", opt);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->ids(), b->ids());
    EXPECT_EQ(a->text(), b->text());
    EXPECT_EQ(a->stopped_by, b->stopped_by);
    EXPECT_GT(a->text().size(), 100u) << a->text();
    double worst = 0;
    for (std::size_t i = 0; i < std::min(a->steps.size(), b->steps.size()); ++i)
        for (std::size_t l = 0; l < a->steps[i].attention.size(); ++l)
            for (std::size_t h = 0; h < a->steps[i].attention[l].size(); ++h)
                worst = std::max(worst,
                                 double((a->steps[i].attention[l][h] - b->steps[i].attention[l][h])
                                            .cwiseAbs()
                                            .maxCoeff()));
    std::printf(
        "[ stories260K ] .bin vs .gguf: %zu greedy tokens, same ids; attention max |Δ| "
        "%.3g\n",
        a->steps.size(), worst);
    EXPECT_LE(worst, 1e-5);
}

TEST(GenerateStories, TheCacheIsFasterThanRecomputing) {
    REQUIRE_STORIES();
    auto model = open(kStoriesBin);
    ASSERT_TRUE(model);
    const int N = 120;
    GenerateOptions opt;
    opt.max_new_tokens = N;
    opt.stop_at_eos = false;
    const auto t0 = std::chrono::steady_clock::now();
    auto gen = generate(model, idsToTokens(*model, {1}), opt);
    const double cached =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(gen);
    // The same tokens by recomputing the whole sequence for each one.
    std::vector<int> ids = {1};
    RunOptions ro;
    ro.detail_limit_bytes = 0;
    const auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < N; ++i) {
        auto tr = runTokens(model, idsToTokens(*model, ids), ro);
        ASSERT_TRUE(tr);
        Eigen::Index best = 0;
        (*tr)->logits.row((*tr)->logits.rows() - 1).maxCoeff(&best);
        ids.push_back(static_cast<int>(best));
    }
    const double full =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    EXPECT_EQ(ids, gen->ids());
    std::printf(
        "[ stories260K ] %d tokens: key/value cache %.3f s (%.0f tokens/s), recomputing "
        "%.3f s (%.0f tokens/s)\n",
        N, cached, N / cached, full, N / full);
}

}  // namespace
}  // namespace attn
