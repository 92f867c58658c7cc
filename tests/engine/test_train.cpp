// Training runs, reproducibility, saving and loading, the training forward against the
// inference forward (trace.h), and bad input.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "attn/evaluate.h"
#include "attn/formats/safetensors.h"
#include "attn/formats/teaching_model.h"
#include "attn/open_model.h"
#include "attn/trace.h"
#include "attn/train.h"

namespace attn {
namespace {

namespace fs = std::filesystem;

ModelConfig tinyConfig(Architecture arch) {
    ModelConfig c;
    c.architecture = arch;
    c.d_model = 16;
    c.n_heads = 2;
    c.n_layers = 1;
    c.n_decoder_layers = 1;
    c.d_ff = 32;
    c.max_len = 32;
    return c;
}

fs::path tempDir() {
    const fs::path d =
        fs::temp_directory_path() /
        ("attn_train_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(d);
    return d;
}

double mean(const std::vector<float>& v, std::size_t from, std::size_t to) {
    double s = 0;
    for (std::size_t i = from; i < to; ++i) s += v[i];
    return s / static_cast<double>(to - from);
}

// Makes norms and biases differ from 1 and 0 so equivalence checks see every term.
void perturbVectors(Model& m, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 0.2f);
    for (auto& t : tensorsOf(m.weights))
        if (t.vector)
            for (Eigen::Index i = 0; i < t.size(); ++i) t.data[i] += n(rng);
}

std::vector<int> ids(const Model& m, const std::vector<Token>& tokens) {
    std::vector<int> out;
    for (const Token& t : tokens) out.push_back(t.id);
    (void)m;
    return out;
}

// --- training ------------------------------------------------------------------------------

TEST(Trainer, EnglishLossDecreases) {
    TrainOptions o;
    o.corpus = CorpusKind::English;
    o.steps = 200;
    o.batch_size = 16;
    o.learning_rate = 1e-2f;
    o.warmup_steps = 10;
    auto t = Trainer::create(o, tinyConfig(Architecture::Encoder));
    ASSERT_TRUE(t) << t.message();
    std::vector<float> losses;
    while (t.value()->stepsDone() < t.value()->totalSteps()) losses.push_back(t.value()->step());
    const double first = mean(losses, 0, 20), last = mean(losses, 180, 200);
    // From ln(vocab) ≈ 4.3 towards the ≈ 1.4 nats the grammar leaves open.
    EXPECT_LT(last, 0.8 * first) << "first " << first << ", last " << last;
    EXPECT_TRUE(std::isfinite(last));
}

TEST(Trainer, TranslationLossDecreases) {
    TrainOptions o;
    o.corpus = CorpusKind::Translation;
    o.steps = 150;
    o.batch_size = 16;
    o.learning_rate = 1e-2f;
    o.warmup_steps = 10;
    auto t = Trainer::create(o, tinyConfig(Architecture::EncoderDecoder));
    ASSERT_TRUE(t) << t.message();
    std::vector<float> losses;
    while (t.value()->stepsDone() < t.value()->totalSteps()) losses.push_back(t.value()->step());
    const double first = mean(losses, 0, 10), last = mean(losses, 140, 150);
    EXPECT_LT(last, 0.6 * first) << "first " << first << ", last " << last;
}

TEST(Trainer, IsReproducibleForASeed) {
    TrainOptions o;
    o.corpus = CorpusKind::Translation;
    o.steps = 5;
    o.batch_size = 8;
    auto run = [&](std::uint64_t seed) {
        o.seed = seed;
        auto t = Trainer::create(o, tinyConfig(Architecture::EncoderDecoder));
        EXPECT_TRUE(t);
        std::vector<float> losses;
        for (int i = 0; i < 5; ++i) losses.push_back(t.value()->step());
        return std::make_pair(losses, t.value()->snapshot());
    };
    auto [la, ma] = run(7);
    auto [lb, mb] = run(7);
    auto [lc, mc] = run(8);
    EXPECT_EQ(la, lb);
    EXPECT_EQ(ma->weights.lm_head, mb->weights.lm_head);
    EXPECT_EQ(ma->weights.layers[0].self_attention.W_Q, mb->weights.layers[0].self_attention.W_Q);
    EXPECT_NE(la, lc);
}

TEST(Trainer, SnapshotIsIndependentOfFurtherTraining) {
    TrainOptions o;
    o.steps = 10;
    o.batch_size = 4;
    auto t = Trainer::create(o, tinyConfig(Architecture::Encoder));
    ASSERT_TRUE(t);
    t.value()->step();
    const std::shared_ptr<Model> snap = t.value()->snapshot();
    const Mat before = snap->weights.lm_head;
    t.value()->step();
    EXPECT_EQ(snap->weights.lm_head, before);
    EXPECT_NE(t.value()->model().weights.lm_head, before);
    EXPECT_TRUE(snap->tokenizer);
    EXPECT_EQ(snap->mask_id, kMaskId);
}

TEST(Trainer, EnglishBatchesHideWordsAndAskForThem) {
    TrainOptions o;
    o.batch_size = 200;
    o.mask_random_fraction = 0.0f;
    o.mask_keep_fraction = 0.0f;
    auto t = Trainer::create(o, tinyConfig(Architecture::Encoder));
    ASSERT_TRUE(t);
    const train::Batch b = t.value()->nextBatch();
    ASSERT_EQ(b.source.size(), 200u);
    int masked = 0, words = 0;
    for (std::size_t s = 0; s < b.source.size(); ++s) {
        ASSERT_EQ(b.source[s].size(), b.labels[s].size());
        int here = 0;
        for (std::size_t i = 0; i < b.source[s].size(); ++i) {
            ++words;
            const bool isMask = b.source[s][i] == kMaskId;
            EXPECT_EQ(isMask, b.labels[s][i] >= 0);
            here += isMask;
        }
        EXPECT_GE(here, 1);
        masked += here;
    }
    EXPECT_GT(masked, words / 10);
    EXPECT_LT(masked, words / 3);
}

TEST(Trainer, RefusesAModelThatDoesNotFitTheCorpus) {
    TrainOptions o;
    o.corpus = CorpusKind::Translation;
    auto english = makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1);
    ASSERT_TRUE(english);
    auto t = Trainer::create(o, english.value());
    ASSERT_FALSE(t);
    EXPECT_NE(t.message().find("encoder–decoder"), std::string::npos) << t.message();
    AttentionKnobs hard;
    hard.temperature = 0.0f;
    EXPECT_FALSE(
        makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1, hard));
}

// --- the training forward is the inference forward -----------------------------------------------

struct EquivalenceCase {
    std::string name;
    CorpusKind corpus;
    ModelConfig config;
    AttentionKnobs attention;  // what it is trained with
};

std::vector<EquivalenceCase> equivalenceCases() {
    std::vector<EquivalenceCase> v;
    ModelConfig b = tinyConfig(Architecture::Encoder);
    b.n_layers = 2;
    b.n_decoder_layers = 2;
    {
        ModelConfig c = b;
        v.push_back({"encoder_default", CorpusKind::English, c, {}});
    }
    {
        ModelConfig c = b;
        c.pre_norm = true;
        c.final_norm = true;
        c.norm = NormKind::RMSNorm;
        c.activation = Activation::SwiGLU;
        c.positional = PositionalKind::Rope;
        c.n_heads = 4;
        c.n_kv_heads = 2;
        c.architecture = Architecture::Decoder;
        v.push_back({"decoder_llama_like", CorpusKind::English, c, {}});
    }
    {
        ModelConfig c = b;
        c.embedding_norm = true;
        c.positional = PositionalKind::Learned;
        c.activation = Activation::GELU;
        AttentionKnobs k;
        k.score = ScoreFunction::Cosine;
        k.temperature = 0.3f;
        k.mask = MaskKind::Padding;
        v.push_back({"encoder_bert_like_cosine", CorpusKind::English, c, k});
    }
    {
        ModelConfig c = b;
        AttentionKnobs k;
        k.projection = ProjectionMode::Embeddings;
        k.score = ScoreFunction::Additive;
        k.mask = MaskKind::Causal;
        v.push_back({"encoder_embeddings_additive_causal", CorpusKind::English, c, k});
    }
    {
        ModelConfig c = b;
        c.architecture = Architecture::EncoderDecoder;
        v.push_back({"translation_default", CorpusKind::Translation, c, {}});
    }
    {
        ModelConfig c = b;
        c.architecture = Architecture::EncoderDecoder;
        c.pre_norm = true;
        c.final_norm = true;
        c.embedding_norm = true;
        c.activation = Activation::GELUTanh;
        c.positional = PositionalKind::Learned;
        AttentionKnobs k;
        k.projection = ProjectionMode::QK;
        k.score = ScoreFunction::General;
        v.push_back({"translation_prenorm_general_qk", CorpusKind::Translation, c, k});
    }
    return v;
}

class InferenceEquivalence : public ::testing::TestWithParam<EquivalenceCase> {};

TEST_P(InferenceEquivalence, TrainingForwardGivesTheTraceLogitsAndWeights) {
    const EquivalenceCase ec = GetParam();
    auto made = makeTeachingModel(ec.corpus, ec.config, 3, ec.attention);
    ASSERT_TRUE(made) << made.message();
    perturbVectors(*made.value(), 4);
    std::shared_ptr<const Model> model = made.value();
    const char* source = "the black cat drank the milk";
    const char* target = "el gato negro bebió la leche";
    Result<TracePtr> trace =
        ec.corpus == CorpusKind::English ? run(model, source) : runSeq2Seq(model, source, target);
    ASSERT_TRUE(trace) << trace.message();
    const Trace& tr = *trace.value();
    ASSERT_GT(tr.logits.size(), 0);

    train::Batch b;
    b.source = {ids(*model, tr.tokens)};
    if (ec.corpus == CorpusKind::Translation) b.target = {ids(*model, tr.target_tokens)};
    b.labels = {
        std::vector<int>((ec.corpus == CorpusKind::English ? b.source : b.target)[0].size(), 1)};
    train::ForwardState st;
    const double loss = train::forward(*model, b, st);
    ASSERT_EQ(st.logits.rows(), tr.logits.rows());
    const float diff = (st.logits - tr.logits).cwiseAbs().maxCoeff();
    const float scale = tr.logits.cwiseAbs().maxCoeff();
    EXPECT_LT(diff, 1e-4f * std::max(1.0f, scale)) << "largest logit difference " << diff;

    // The same loss from the trace's logits.
    const double traceLoss = train::crossEntropy(tr.logits, b.labels[0], nullptr);
    EXPECT_NEAR(loss, traceLoss, 1e-4 * std::max(1.0, traceLoss));

    // Every head's attention weights.
    for (std::size_t l = 0; l < tr.layers.size(); ++l)
        for (std::size_t h = 0; h < tr.layers[l].self_attention.heads.size(); ++h)
            EXPECT_LT((tr.layers[l].self_attention.heads[h].weights - st.source.layers[l].self.A[h])
                          .cwiseAbs()
                          .maxCoeff(),
                      1e-5f)
                << "layer " << l << " head " << h;
    for (std::size_t l = 0; l < tr.decoder_layers.size(); ++l)
        for (std::size_t h = 0; h < tr.decoder_layers[l].cross_attention->heads.size(); ++h)
            EXPECT_LT((tr.decoder_layers[l].cross_attention->heads[h].weights -
                       st.target.layers[l].cross.A[h])
                          .cwiseAbs()
                          .maxCoeff(),
                      1e-5f)
                << "decoder layer " << l << " cross head " << h;
}

INSTANTIATE_TEST_SUITE_P(Configs, InferenceEquivalence, ::testing::ValuesIn(equivalenceCases()),
                         [](const auto& info) { return info.param.name; });

// --- files ---------------------------------------------------------------------------------

TEST(TeachingModelFile, SaveAndLoadRoundTrips) {
    const fs::path dir = tempDir();
    for (const EquivalenceCase& ec : equivalenceCases()) {
        auto made = makeTeachingModel(ec.corpus, ec.config, 5, ec.attention);
        ASSERT_TRUE(made) << made.message();
        perturbVectors(*made.value(), 6);
        const Model& m = *made.value();
        const std::string path = (dir / (ec.name + ".safetensors")).string();
        ASSERT_TRUE(saveTeachingModel(m, path, {{"training", "{\"note\": \"test\"}"}}));
        auto loaded = loadTeachingModel(path);
        ASSERT_TRUE(loaded) << loaded.message();
        const Model& r = *loaded.value();
        EXPECT_EQ(r.config.architecture, m.config.architecture) << ec.name;
        EXPECT_EQ(r.config.norm, m.config.norm);
        EXPECT_EQ(r.config.pre_norm, m.config.pre_norm);
        EXPECT_EQ(r.config.positional, m.config.positional);
        EXPECT_EQ(r.trained_attention, m.trained_attention) << ec.name;
        EXPECT_EQ(r.trained_attention, ec.attention) << ec.name;
        EXPECT_EQ(r.config.activation, m.config.activation);
        EXPECT_EQ(r.config.kvHeads(), m.config.kvHeads());
        EXPECT_EQ(r.bos_id, m.bos_id);
        EXPECT_EQ(r.eos_id, m.eos_id);
        EXPECT_EQ(r.mask_id, m.mask_id);
        EXPECT_EQ(r.source_path, path);
        ModelWeights a = m.weights, b = r.weights;
        const auto ta = tensorsOf(a), tb = tensorsOf(b);
        ASSERT_EQ(ta.size(), tb.size()) << ec.name;
        for (std::size_t k = 0; k < ta.size(); ++k) {
            EXPECT_EQ(ta[k].name, tb[k].name);
            ASSERT_EQ(ta[k].size(), tb[k].size()) << ta[k].name;
            EXPECT_TRUE(std::equal(ta[k].data, ta[k].data + ta[k].size(), tb[k].data))
                << ta[k].name;
        }
        const auto* va = dynamic_cast<const VocabTokenizer*>(m.tokenizer.get());
        const auto* vb = dynamic_cast<const VocabTokenizer*>(r.tokenizer.get());
        ASSERT_TRUE(va && vb);
        EXPECT_EQ(va->vocab(), vb->vocab());
    }
    fs::remove_all(dir);
}

TEST(TeachingModelFile, KeepsAttentionBiases) {
    const fs::path dir = tempDir();
    auto made = makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1);
    ASSERT_TRUE(made);
    Model& m = *made.value();
    m.weights.layers[0].self_attention.b_Q = RowVec::Constant(16, 0.5f);
    const std::string path = (dir / "bias.safetensors").string();
    ASSERT_TRUE(saveTeachingModel(m, path));
    auto r = loadTeachingModel(path);
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r.value()->weights.layers[0].self_attention.b_Q,
              m.weights.layers[0].self_attention.b_Q);
    EXPECT_EQ(r.value()->weights.layers[0].self_attention.b_K.size(), 0);
    fs::remove_all(dir);
}

TEST(TeachingModelFile, BadFilesGiveMessages) {
    const fs::path dir = tempDir();
    auto missing = loadTeachingModel((dir / "nothing.safetensors").string());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.code(), ErrorCode::NotFound) << missing.message();

    // A safetensors file that is not ours.
    const std::string foreign = (dir / "foreign.safetensors").string();
    ASSERT_TRUE(writeSafetensors(foreign, {{"w", toTensor(Mat(Mat::Ones(2, 2)))}}));
    auto f = loadTeachingModel(foreign);
    ASSERT_FALSE(f);
    EXPECT_NE(f.message().find("not an Attention Lab teaching model"), std::string::npos)
        << f.message();
    EXPECT_EQ(f.code(), ErrorCode::UnsupportedFormat);

    // Ours, with one tensor of the wrong shape.
    auto made = makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1);
    ASSERT_TRUE(made);
    const std::string good = (dir / "good.safetensors").string();
    ASSERT_TRUE(saveTeachingModel(*made.value(), good));
    auto opened = SafetensorsFile::open(good);
    ASSERT_TRUE(opened);
    std::vector<std::pair<std::string, TensorF32>> tensors;
    for (const TensorInfo& t : opened.value()->tensors()) {
        auto values = opened.value()->readFloats(t.name);
        ASSERT_TRUE(values);
        TensorF32 tf{t.shape, values.value()};
        if (t.name == "layers.0.ffn.W1") tf = toTensor(Mat(Mat::Zero(16, 7)));
        tensors.emplace_back(t.name, std::move(tf));
    }
    const std::string bad = (dir / "bad.safetensors").string();
    ASSERT_TRUE(writeSafetensors(bad, tensors, opened.value()->metadata()));
    auto b = loadTeachingModel(bad);
    ASSERT_FALSE(b);
    EXPECT_NE(b.message().find("layers.0.ffn.W1"), std::string::npos) << b.message();
    EXPECT_EQ(b.code(), ErrorCode::Corrupt);
    fs::remove_all(dir);
}

// Files keep the knobs a model was trained with in "config" (as every version did); a file
// without them was trained with the defaults.
TEST(TeachingModelFile, AttentionKeysAreTheTrainedKnobsAndDefaultWhenAbsent) {
    const fs::path dir = tempDir();
    AttentionKnobs cosine;
    cosine.score = ScoreFunction::Cosine;
    cosine.temperature = 0.5f;
    cosine.mask = MaskKind::Causal;
    auto made =
        makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1, cosine);
    ASSERT_TRUE(made) << made.message();
    const std::string path = (dir / "cosine.safetensors").string();
    ASSERT_TRUE(saveTeachingModel(*made.value(), path));
    auto opened = SafetensorsFile::open(path);
    ASSERT_TRUE(opened);
    std::map<std::string, std::string> meta = opened.value()->metadata();
    std::string& config = meta.at("config");
    EXPECT_NE(config.find("\"score\":\"cosine\""), std::string::npos) << config;
    auto loaded = loadTeachingModel(path);
    ASSERT_TRUE(loaded) << loaded.message();
    EXPECT_EQ(loaded.value()->trained_attention, cosine);
    // A run without its own knobs runs the model as it was trained.
    auto t = run(loaded.value(), "the cat");
    ASSERT_TRUE(t) << t.message();
    EXPECT_EQ(t.value()->attention, cosine);

    // The same file with the five keys removed.
    for (const char* key : {"\"score\":\"cosine\",", "\"temperature\":0.5,", "\"mask\":\"causal\",",
                            "\"scale\":true,", "\"projection\":\"qkv\","}) {
        const auto at = config.find(key);
        ASSERT_NE(at, std::string::npos) << key << " in " << config;
        config.erase(at, std::string(key).size());
    }
    std::vector<std::pair<std::string, TensorF32>> tensors;
    for (const TensorInfo& ti : opened.value()->tensors())
        tensors.emplace_back(ti.name,
                             TensorF32{ti.shape, opened.value()->readFloats(ti.name).value()});
    const std::string old = (dir / "old.safetensors").string();
    ASSERT_TRUE(writeSafetensors(old, tensors, meta));
    auto r = loadTeachingModel(old);
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r.value()->trained_attention, AttentionKnobs{});
    fs::remove_all(dir);
}

TEST(TeachingModelFile, BuiltinPathFollowsTheEnvironment) {
    const fs::path dir = tempDir();
    fs::create_directories(dir / "models");
    auto made = makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1);
    ASSERT_TRUE(made);
    ASSERT_TRUE(
        saveTeachingModel(*made.value(), (dir / "models" / "english.safetensors").string()));
    const char* old = std::getenv("ATTN_RESOURCES_DIR");
    const std::string saved = old ? old : "";
    ::setenv("ATTN_RESOURCES_DIR", dir.c_str(), 1);
    const std::string path = builtinModelPath("english");
    EXPECT_EQ(fs::path(path), fs::weakly_canonical(dir / "models" / "english.safetensors"));
    auto spec = openModel("builtin:english");
    EXPECT_TRUE(spec) << spec.message();
    EXPECT_TRUE(builtinModelPath("klingon").empty());
    auto klingon = openModel("builtin:klingon");
    ASSERT_FALSE(klingon);
    EXPECT_EQ(klingon.code(), ErrorCode::UnknownBuiltin);
    if (old)
        ::setenv("ATTN_RESOURCES_DIR", saved.c_str(), 1);
    else
        ::unsetenv("ATTN_RESOURCES_DIR");
    fs::remove_all(dir);
}

// --- bad input -------------------------------------------------------------------------------

TEST(BadInput, UnseenWordsBecomeVisibleUnknownTokens) {
    auto english = makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1);
    ASSERT_TRUE(english);
    auto fill = fillMask(*english.value(), "The zebra drank the [MASK] ☕", 3);
    ASSERT_TRUE(fill) << fill.message();
    const auto& tokens = fill->tokens;
    ASSERT_EQ(tokens.size(), 6u);
    EXPECT_TRUE(tokens[1].unknown);
    EXPECT_EQ(tokens[1].id, kUnkId);
    EXPECT_EQ(tokens[4].text, "[MASK]");
    EXPECT_EQ(tokens[4].id, kMaskId);
    EXPECT_TRUE(tokens[5].unknown);
    ASSERT_EQ(fill->predictions.size(), 1u);
    EXPECT_EQ(fill->predictions[0].position, 4);
    EXPECT_EQ(fill->predictions[0].candidates.size(), 3u);
    for (const auto& c : fill->predictions[0].candidates) EXPECT_NE(c.word[0], '[');

    auto translation =
        makeTeachingModel(CorpusKind::Translation, tinyConfig(Architecture::EncoderDecoder), 1);
    ASSERT_TRUE(translation);
    auto t = translate(*translation.value(), "the zebra ran", 6);
    ASSERT_TRUE(t) << t.message();
    EXPECT_TRUE(t->source_tokens[1].unknown);
    EXPECT_LE(t->words.size(), 6u);
    EXPECT_EQ(t->cross_attention.size(), 1u);
    ASSERT_EQ(t->cross_attention[0].size(), 2u);
    EXPECT_EQ(t->cross_attention[0][0].rows(), static_cast<Eigen::Index>(t->outputs.size()));
    EXPECT_EQ(t->cross_attention[0][0].cols(), 3);
}

TEST(BadInput, WrongModelOrEmptyTextIsAnError) {
    auto english = makeTeachingModel(CorpusKind::English, tinyConfig(Architecture::Encoder), 1);
    auto translation =
        makeTeachingModel(CorpusKind::Translation, tinyConfig(Architecture::EncoderDecoder), 1);
    ASSERT_TRUE(english && translation);
    EXPECT_FALSE(fillMask(*english.value(), "no mask here"));
    EXPECT_FALSE(fillMask(*english.value(), ""));
    EXPECT_FALSE(fillMask(*translation.value(), "the [MASK] ran"));
    EXPECT_FALSE(translate(*english.value(), "the cat ran"));
    EXPECT_FALSE(translate(*translation.value(), "   "));
    auto untrained = makeUntrainedModel(ModelConfig{});
    ASSERT_TRUE(untrained);
    auto r = fillMask(*untrained.value(), "the [MASK]");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("vocabulary"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace attn
