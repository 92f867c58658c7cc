// The shipped models (resources/models/*.safetensors): they load, reach their targets on the
// held-out sentences, and the inference forward the window uses gives the same numbers as the
// training forward that made them.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "attn/evaluate.h"
#include "attn/formats/teaching_model.h"
#include "attn/trace.h"

namespace attn {
namespace {

std::shared_ptr<const Model> shipped(const std::string& name) {
    static std::map<std::string, std::shared_ptr<const Model>> cache;
    auto& m = cache[name];
    if (!m) {
        const std::string path =
            std::string(ATTN_SOURCE_DIR) + "/resources/models/" + name + ".safetensors";
        auto loaded = loadTeachingModel(path);
        EXPECT_TRUE(loaded) << loaded.message();
        if (loaded) m = loaded.value();
    }
    return m;
}

TEST(ShippedEnglishModel, FillsMaskedWordsOfHeldOutSentences) {
    auto m = shipped("english");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->config.architecture, Architecture::Encoder);
    EXPECT_LE(m->config.d_model, 64);
    const MaskedWordEvaluation ev = evaluateMaskedWords(*m, 500);
    EXPECT_EQ(ev.sentences, 500);
    // Which noun or adjective was there is often open, so the top word is judged by the grammar;
    // where the grammar leaves exactly one word ("a"/"an", "is", the verb before "the letter"…)
    // it must be that word.
    EXPECT_GE(ev.grammatical, 0.97) << "grammatical top words";
    EXPECT_GE(ev.determined_accuracy, 0.97);
    EXPECT_GE(ev.mean_grammatical_probability, 0.9);
    EXPECT_GT(ev.determined, 100);
}

TEST(ShippedEnglishModel, DrankAsksForADrink) {
    auto m = shipped("english");
    ASSERT_TRUE(m);
    auto r = fillMask(*m, "the black cat drank the [MASK]", 5);
    ASSERT_TRUE(r) << r.message();
    ASSERT_EQ(r->predictions.size(), 1u);
    std::set<std::string> top;
    float mass = 0;
    for (const auto& c : r->predictions[0].candidates) {
        top.insert(c.word);
        mass += c.probability;
    }
    EXPECT_EQ(top, (std::set<std::string>{"milk", "water", "tea", "juice", "coffee"}));
    EXPECT_GT(mass, 0.9f);
}

TEST(ShippedEnglishModel, SomeHeadLooksFromTheMaskToItsVerb) {
    auto m = shipped("english");
    ASSERT_TRUE(m);
    auto prefs =
        compareHeadAttention(m, "the black cat drank the [MASK]", "[MASK]", "drank", "black");
    ASSERT_TRUE(prefs) << prefs.message();
    ASSERT_EQ(prefs->size(), static_cast<std::size_t>(m->config.n_layers * m->config.n_heads));
    float best = 0;
    for (const auto& p : prefs.value()) best = std::max(best, p.weight_a - p.weight_b);
    EXPECT_GT(best, 0.5f) << "no head looks from [MASK] to 'drank' much more than to 'black'";
}

TEST(ShippedEnglishModel, InferenceForwardMatchesTrainingForward) {
    auto m = shipped("english");
    ASSERT_TRUE(m);
    auto trace = run(m, "a small girl bought the red ball");
    ASSERT_TRUE(trace) << trace.message();
    std::vector<int> ids;
    for (const Token& t : trace.value()->tokens) ids.push_back(t.id);
    auto logits = predictLogits(*m, ids);
    ASSERT_TRUE(logits);
    EXPECT_LT((logits.value() - trace.value()->logits).cwiseAbs().maxCoeff(), 1e-3f);
}

TEST(ShippedTranslationModel, TranslatesHeldOutSentencesAndAligns) {
    auto m = shipped("translation");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->config.architecture, Architecture::EncoderDecoder);
    const TranslationEvaluation ev = evaluateTranslation(*m, 500);
    EXPECT_EQ(ev.sentences, 500);
    EXPECT_GE(ev.exact, 0.95) << "exact-sentence accuracy (greedy)";
    EXPECT_GE(ev.alignment_mean, 0.8)
        << "cross-attention alignment, mean of the last layer's heads";
    EXPECT_GE(ev.alignment_best_head, 0.8);
    EXPECT_GT(ev.content_words, 1000);
}

TEST(ShippedTranslationModel, TheExamplesOfTheBrief) {
    auto m = shipped("translation");
    ASSERT_TRUE(m);
    const std::pair<const char*, const char*> cases[] = {
        {"the ball is blue", "la bola es azul"},
        {"the blue ball", "la bola azul"},
        {"the black cat drank the milk", "el gato negro bebió la leche"},
        {"The dog chased the cat.", "el perro persiguió al gato ."},
    };
    for (const auto& [en, es] : cases) {
        auto t = translate(*m, en);
        ASSERT_TRUE(t) << t.message();
        EXPECT_EQ(t->text, es) << en;
        EXPECT_TRUE(t->finished);
    }
    // An unseen word comes through as a visible [UNK].
    auto z = translate(*m, "the zebra drank the water");
    ASSERT_TRUE(z);
    EXPECT_TRUE(z->source_tokens[1].unknown);
    EXPECT_EQ(z->words.at(1), "[UNK]");
}

TEST(ShippedTranslationModel, InferenceForwardMatchesTrainingForward) {
    auto m = shipped("translation");
    ASSERT_TRUE(m);
    auto trace = runSeq2Seq(m, "the black cat drank the milk", "el gato negro bebió la leche");
    ASSERT_TRUE(trace) << trace.message();
    const Trace& tr = *trace.value();
    std::vector<int> src, tgt;
    for (const Token& t : tr.tokens) src.push_back(t.id);
    for (const Token& t : tr.target_tokens) tgt.push_back(t.id);
    ASSERT_EQ(tgt.front(), m->bos_id);
    auto logits = predictLogits(*m, src, tgt);
    ASSERT_TRUE(logits);
    EXPECT_LT((logits.value() - tr.logits).cwiseAbs().maxCoeff(), 1e-3f);
    // The translation's cross-attention is the trace's.
    auto t = translate(*m, "the black cat drank the milk");
    ASSERT_TRUE(t);
    const int last = m->config.n_decoder_layers - 1;
    for (int h = 0; h < m->config.n_heads; ++h) {
        const Mat& mine = t->cross_attention[last][h];
        const Mat& shown = tr.decoder_layers[last].cross_attention->heads[h].weights;
        ASSERT_EQ(mine.rows(), shown.rows());
        EXPECT_LT((mine - shown).cwiseAbs().maxCoeff(), 1e-4f) << "head " << h;
    }
}

}  // namespace
}  // namespace attn
