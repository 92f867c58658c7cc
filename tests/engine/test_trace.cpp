// The trace: every intermediate of a run, the steps, validation, long inputs.

#include <gtest/gtest.h>

#include <atomic>

#include "attn/analysis.h"
#include "attn/model.h"
#include "attn/trace.h"

using namespace attn;

namespace {
std::shared_ptr<Model> model(ModelConfig c = {}) {
    auto m = makeUntrainedModel(c);
    EXPECT_TRUE(m) << (m ? "" : m.message());
    return m.value();
}
}  // namespace

TEST(Trace, EveryIntermediateHasItsShape) {
    ModelConfig c;
    c.n_layers = 2;
    auto tr = run(model(c), "The black cat drank the milk");
    ASSERT_TRUE(tr) << tr.message();
    const Trace& t = **tr;
    ASSERT_EQ(t.tokens.size(), 6u);
    EXPECT_EQ(t.tokens[5].text, "milk");
    EXPECT_EQ(t.embeddings.rows(), 6);
    EXPECT_EQ(t.embeddings.cols(), 8);
    EXPECT_EQ(t.positional.rows(), 6);
    EXPECT_LE((t.input - t.embeddings - t.positional).cwiseAbs().maxCoeff(), 1e-6f);
    ASSERT_EQ(t.layers.size(), 2u);
    for (const LayerTrace& l : t.layers) {
        ASSERT_EQ(l.self_attention.heads.size(), 2u);
        for (const HeadTrace& h : l.self_attention.heads) {
            EXPECT_EQ(h.Q.rows(), 6);
            EXPECT_EQ(h.Q.cols(), 4);
            EXPECT_EQ(h.scores.rows(), 6);
            EXPECT_EQ(h.scores.cols(), 6);
            EXPECT_EQ(h.weights.rows(), 6);
            EXPECT_EQ(h.output.cols(), 4);
        }
        EXPECT_EQ(l.self_attention.concat.cols(), 8);
        EXPECT_EQ(l.output.rows(), 6);
    }
    // The second layer reads what the first wrote.
    EXPECT_EQ(t.layers[1].input, t.layers[0].output);
}

TEST(Trace, SameTokenSameEmbeddingInAnySentence) {
    auto m = model();
    auto a = run(m, "the cat");
    auto b = run(m, "a black cat sat");
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a)->embeddings.row(1), (*b)->embeddings.row(2));
    // And the same seed reproduces the whole run.
    auto c = run(model(), "the cat");
    ASSERT_TRUE(c);
    EXPECT_EQ((*a)->final_hidden, (*c)->final_hidden);
}

TEST(Trace, StepsWalkThePipelineInOrder) {
    auto tr = run(model(), "The ball is blue");
    ASSERT_TRUE(tr);
    std::vector<std::string> ids;
    for (const Step& s : (*tr)->steps) ids.push_back(s.id);
    const std::vector<std::string> want = {"tokens",         "embed",           "pos",
                                           "L0.self.qkv",    "L0.self.scores",  "L0.self.scaled",
                                           "L0.self.masked", "L0.self.weights", "L0.self.output",
                                           "L0.self.concat", "L0.self.proj",    "L0.self.addnorm",
                                           "L0.ffn",         "L0.out"};
    EXPECT_EQ(ids, want);
    for (const Step& s : (*tr)->steps) {
        EXPECT_FALSE(s.title.empty());
        EXPECT_FALSE(s.formula.empty());
    }
    EXPECT_NE((*tr)->steps[5].formula.find("(d_k = 4, √d_k = 2)"), std::string::npos);
}

TEST(Trace, EncoderDecoderCrossAttentionQueriesTargetKeysSource) {
    ModelConfig c;
    c.architecture = Architecture::EncoderDecoder;
    auto tr = runSeq2Seq(model(c), "The ball is blue", "La bola es azul .");
    ASSERT_TRUE(tr) << tr.message();
    const Trace& t = **tr;
    ASSERT_EQ(t.decoder_layers.size(), 1u);
    const LayerTrace& d = t.decoder_layers[0];
    ASSERT_TRUE(d.cross_attention.has_value());
    const HeadTrace& x = d.cross_attention->heads[0];
    EXPECT_EQ(x.weights.rows(), 5);  // target tokens
    EXPECT_EQ(x.weights.cols(), 4);  // source tokens
    // Decoder self-attention is causal: no token sees the future.
    const HeadTrace& s = d.self_attention.heads[0];
    for (int i = 0; i < 5; ++i)
        for (int j = i + 1; j < 5; ++j) EXPECT_EQ(s.weights(i, j), 0.0f);
    bool hasCross = false;
    for (const Step& st : t.steps) hasCross |= st.cross;
    EXPECT_TRUE(hasCross);
}

TEST(Trace, FourThousandTokensKeepWeightsAndRecomputeDetail) {
    std::string text;
    for (int i = 0; i < 4096; ++i) text += "w" + std::to_string(i % 97) + " ";
    RunOptions opt;
    opt.detail_limit_bytes = 64u << 20;  // 4 × 2 heads × 4096² floats is far beyond this
    opt.focus_head = 1;
    auto tr = run(model(), text, opt);
    ASSERT_TRUE(tr) << tr.message();
    const Trace& t = **tr;
    EXPECT_EQ(t.tokens.size(), 4096u);
    EXPECT_FALSE(t.full_detail);
    const HeadTrace& h0 = t.layers[0].self_attention.heads[0];
    const HeadTrace& h1 = t.layers[0].self_attention.heads[1];
    EXPECT_EQ(h0.weights.rows(), 4096);  // every head's weights kept
    EXPECT_EQ(h0.scores.size(), 0);      // but not its scores…
    EXPECT_FALSE(h0.detailed);
    EXPECT_TRUE(h1.detailed);  // …except the head in focus
    const HeadTrace again = t.headDetail(0, 0);
    ASSERT_EQ(again.scores.rows(), 4096);
    // Recomputed scores reproduce the kept weights.
    Mat w = again.masked;
    softmaxRows(w);
    EXPECT_LE((w - h0.weights).cwiseAbs().maxCoeff(), 1e-5f);
}

TEST(Trace, ShortInputsKeepEveryDetail) {
    auto tr = run(model(), "a b c");
    ASSERT_TRUE(tr);
    EXPECT_TRUE((*tr)->full_detail);
    for (const HeadTrace& h : (*tr)->layers[0].self_attention.heads) EXPECT_TRUE(h.detailed);
}

TEST(Trace, SwitchedOffHeadHasZeroOutput) {
    RunOptions opt;
    opt.disabled_heads = {{0, 1}};
    auto tr = run(model(), "The black cat drank the milk", opt);
    ASSERT_TRUE(tr);
    const auto& heads = (*tr)->layers[0].self_attention.heads;
    EXPECT_FALSE(heads[1].enabled);
    EXPECT_EQ(heads[1].output.cwiseAbs().sum(), 0.0f);
    EXPECT_GT(heads[0].output.cwiseAbs().sum(), 0.0f);
}

TEST(Trace, DecoderAndCrossHeadsSwitchOffByBlock) {
    ModelConfig c;
    c.architecture = Architecture::EncoderDecoder;
    c.n_layers = 2;
    c.n_decoder_layers = 2;
    auto m = model(c);
    EXPECT_EQ(headBlockIndex(m->config, 1, false, false), 1);
    EXPECT_EQ(headBlockIndex(m->config, 1, true, false), 4);  // after the 2 encoder layers
    EXPECT_EQ(headBlockIndex(m->config, 1, true, true), 5);
    RunOptions opt;
    opt.disabled_heads = {{headBlockIndex(m->config, 1, true, true), 0}};
    auto tr = runSeq2Seq(m, "The ball is blue", "La bola es azul", opt);
    ASSERT_TRUE(tr) << tr.message();
    const Trace& t = **tr;
    const HeadTrace& off = t.decoder_layers[1].cross_attention->heads[0];
    EXPECT_FALSE(off.enabled);
    EXPECT_EQ(off.output.cwiseAbs().sum(), 0.0f);
    EXPECT_TRUE(t.decoder_layers[1].cross_attention->heads[1].enabled);
    EXPECT_TRUE(t.decoder_layers[1].self_attention.heads[0].enabled);
    EXPECT_TRUE(t.decoder_layers[0].cross_attention->heads[0].enabled);
    for (const LayerTrace& l : t.layers)  // the encoder is untouched
        for (const HeadTrace& h : l.self_attention.heads) EXPECT_TRUE(h.enabled);
}

TEST(Trace, CancelStopsTheRun) {
    std::atomic<bool> cancel{true};
    RunOptions opt;
    opt.cancel = &cancel;
    auto tr = run(model(), "The black cat", opt);
    ASSERT_FALSE(tr);
    EXPECT_NE(tr.message().find("Cancelled"), std::string::npos);
}

TEST(Trace, ProgressReachesOne) {
    ModelConfig c;
    c.n_layers = 3;
    double last = 0;
    RunOptions opt;
    opt.progress = [&](double f) { last = f; };
    ASSERT_TRUE(run(model(c), "The black cat", opt));
    EXPECT_DOUBLE_EQ(last, 1.0);
}

TEST(Trace, ValidationMessagesAreClear) {
    ModelConfig c;
    c.d_model = 10;
    c.n_heads = 3;
    auto m = makeUntrainedModel(c);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.message(),
              "d_model 10 is not divisible by 3 heads: pick a d_model that is a multiple of the "
              "number of heads.");

    auto empty = run(model(), "   ");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.message(), "The text is empty: type a sentence to see its attention.");

    ModelConfig shortModel;
    shortModel.max_len = 4;
    auto tooLong = run(model(shortModel), "one two three four five");
    ASSERT_FALSE(tooLong);
    EXPECT_EQ(tooLong.message(),
              "The text has 5 tokens; this model takes at most 4. Shorten the text.");

    ModelConfig odd;
    odd.d_model = 9;
    odd.n_heads = 3;
    auto oddPe = makeUntrainedModel(odd);
    ASSERT_FALSE(oddPe);
    EXPECT_NE(oddPe.message().find("must be even"), std::string::npos) << oddPe.message();

    ModelConfig big;
    big.n_heads = 64;
    big.d_model = 128;
    big.n_layers = 8;
    std::string text;
    for (int i = 0; i < 2000; ++i) text += "x ";
    // One layer's 64 heads need 1 GB: more than a 512 MB budget even when recomputing.
    RunOptions small;
    small.memory_budget_bytes = std::size_t{512} << 20;
    auto huge = run(model(big), text, small);
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.code(), ErrorCode::TooLarge);
    EXPECT_NE(huge.message().find("Shorten the text or raise the budget"), std::string::npos)
        << huge.message();

    auto noModel = run(nullptr, "text");
    ASSERT_FALSE(noModel);
    EXPECT_EQ(noModel.message(), "No model is loaded.");

    auto notSeq = runSeq2Seq(model(), "a", "b");
    ASSERT_FALSE(notSeq);
    EXPECT_NE(notSeq.message().find("encoder–decoder"), std::string::npos);
}

TEST(Trace, ScoreFunctionWithoutItsWeightsIsAMessage) {
    ModelConfig c;  // scaled dot: an untrained model still gets every score function's weights
    auto m = model(c);
    for (auto& l : m->weights.layers) {
        l.self_attention.W_general.clear();  // as a model trained with scaled dot has them
        l.self_attention.W_add_q.clear();
    }
    ASSERT_TRUE(run(m, "the cat"));
    RunOptions opt;
    opt.attention = AttentionKnobs{};
    opt.attention->score = ScoreFunction::General;
    auto general = run(m, "the cat", opt);
    ASSERT_FALSE(general);
    EXPECT_NE(general.message().find("no weights for the general score function"),
              std::string::npos)
        << general.message();
    opt.attention->score = ScoreFunction::Additive;
    EXPECT_FALSE(run(m, "the cat", opt));
}

TEST(Trace, ProjectionWithoutItsWeightsIsAMessage) {
    auto m = model(ModelConfig{});
    for (auto& l : m->weights.layers) l.self_attention.W_V = Mat();  // trained with V = K
    RunOptions opt;
    opt.attention = AttentionKnobs{};  // QKV
    auto qkv = run(m, "the cat", opt);
    ASSERT_FALSE(qkv);
    EXPECT_NE(qkv.message().find("no learned W_V"), std::string::npos) << qkv.message();
    opt.attention->projection = ProjectionMode::QK;
    EXPECT_TRUE(run(m, "the cat", opt));
    opt.attention->projection = ProjectionMode::Embeddings;
    EXPECT_TRUE(run(m, "the cat", opt));
    for (auto& l : m->weights.layers) l.self_attention.W_Q = Mat();
    opt.attention->projection = ProjectionMode::QK;
    auto qk = run(m, "the cat", opt);
    ASSERT_FALSE(qk);
    EXPECT_NE(qk.message().find("no learned W_Q"), std::string::npos) << qk.message();
}

// One shared model, many runs: each knob changes the numbers it should and nothing else, and
// the trace says which knobs it was run with.
TEST(Trace, RunOptionsChangeTheRunNotTheModel) {
    ModelConfig c;
    c.d_model = 8;
    c.n_heads = 2;
    c.n_layers = 2;
    std::shared_ptr<const Model> m = model(c);
    const float* wq = m->weights.layers[0].self_attention.W_Q.data();
    const ModelConfig before = m->config;
    const char* text = "the black cat drank the milk";
    auto base = run(m, text);
    ASSERT_TRUE(base) << base.message();
    EXPECT_EQ((*base)->attention, AttentionKnobs{}) << "no options: the model's trained knobs";
    const HeadTrace& h0 = (*base)->layers[0].self_attention.heads[0];

    auto with = [&](auto change) {
        RunOptions opt;
        opt.attention = AttentionKnobs{};
        change(*opt.attention, opt);
        auto t = run(m, text, opt);
        EXPECT_TRUE(t) << t.message();
        EXPECT_EQ(t.value()->model.get(), m.get()) << "the trace shares the model";
        EXPECT_EQ(t.value()->attention, *opt.attention);
        return t.value();
    };
    // Temperature: the same scores, sharper weights.
    auto cold = with([](AttentionKnobs& k, RunOptions&) { k.temperature = 0.1f; });
    const HeadTrace& hc = cold->layers[0].self_attention.heads[0];
    EXPECT_EQ(hc.scores, h0.scores);
    EXPECT_GT((hc.weights - h0.weights).cwiseAbs().maxCoeff(), 1e-3f);
    EXPECT_LT(rowEntropy(hc.weights).sum(), rowEntropy(h0.weights).sum());
    // Scale off: scaled == scores (÷ 1), on: ÷ √d_k.
    auto unscaled = with([](AttentionKnobs& k, RunOptions&) { k.scale = false; });
    EXPECT_EQ(unscaled->layers[0].self_attention.heads[0].scaled,
              unscaled->layers[0].self_attention.heads[0].scores);
    EXPECT_NEAR((h0.scaled * 2.0f - h0.scores).cwiseAbs().maxCoeff(), 0.0f, 1e-5f);  // √4
    // Causal mask: nothing above the diagonal.
    auto causal = with([](AttentionKnobs& k, RunOptions&) { k.mask = MaskKind::Causal; });
    const Mat& wc = causal->layers[0].self_attention.heads[0].weights;
    EXPECT_EQ(wc.triangularView<Eigen::StrictlyUpper>().toDenseMatrix().cwiseAbs().maxCoeff(), 0);
    EXPECT_GT(h0.weights.triangularView<Eigen::StrictlyUpper>().toDenseMatrix().maxCoeff(), 0);
    const auto maskFormula = [](const Trace& t) {
        for (const Step& st : t.steps)
            if (st.id == "L0.self.masked") return st.formula;
        return std::string();
    };
    EXPECT_NE(maskFormula(*causal).find("−∞ for j > i"), std::string::npos) << maskFormula(*causal);
    EXPECT_EQ(maskFormula(**base).find("−∞ for j > i"), std::string::npos);
    // Score function: cosine scores lie in [-1, 1], the dot product's do not have to.
    auto cosine = with([](AttentionKnobs& k, RunOptions&) { k.score = ScoreFunction::Cosine; });
    EXPECT_LE(cosine->layers[0].self_attention.heads[0].scores.cwiseAbs().maxCoeff(), 1.0f + 1e-5f);
    EXPECT_NE(cosine->layers[0].self_attention.heads[0].scores, h0.scores);
    // Projection: V = K.
    auto qk = with([](AttentionKnobs& k, RunOptions&) { k.projection = ProjectionMode::QK; });
    EXPECT_EQ(qk->layers[0].self_attention.heads[0].V, qk->layers[0].self_attention.heads[0].K);
    EXPECT_NE(h0.V, h0.K);
    // A switched-off head: its output is zero, the other head's is not.
    auto off = with([](AttentionKnobs&, RunOptions& o) { o.disabled_heads = {{0, 1}}; });
    EXPECT_EQ(off->disabled_heads, (std::vector<std::pair<int, int>>{{0, 1}}));
    EXPECT_EQ(off->layers[0].self_attention.heads[1].output.cwiseAbs().maxCoeff(), 0.0f);
    EXPECT_EQ(off->layers[0].self_attention.heads[0].output, h0.output);
    // headDetail recomputes with the trace's own knobs, not the model's.
    RunOptions lean;
    lean.attention = AttentionKnobs{};
    lean.attention->temperature = 0.1f;
    lean.detail_limit_bytes = 0;
    auto t = run(m, text, lean);
    ASSERT_TRUE(t);
    const HeadTrace again = (*t)->headDetail(0, 0);
    EXPECT_EQ(again.scaled, hc.scaled);
    EXPECT_EQ((*t)->maskOf(false, false).kind, MaskKind::None);

    EXPECT_EQ(m->weights.layers[0].self_attention.W_Q.data(), wq) << "no weights were touched";
    EXPECT_EQ(m->config.n_heads, before.n_heads);
}

TEST(Trace, EveryPositionalKindRuns) {
    for (PositionalKind k : {PositionalKind::Sinusoidal, PositionalKind::Learned,
                             PositionalKind::Rope, PositionalKind::None}) {
        ModelConfig c;
        c.positional = k;
        auto tr = run(model(c), "The black cat drank the milk");
        ASSERT_TRUE(tr) << toString(k) << ": " << tr.message();
        if (k == PositionalKind::None || k == PositionalKind::Rope) {
            EXPECT_EQ((*tr)->positional.cwiseAbs().sum(), 0.0f);
        } else {
            EXPECT_GT((*tr)->positional.cwiseAbs().sum(), 0.0f);
        }
    }
}

TEST(Analysis, RolloutRowsSumToOne) {
    ModelConfig c;
    c.n_layers = 3;
    auto tr = run(model(c), "The black cat drank the milk");
    ASSERT_TRUE(tr);
    const auto r = attentionRollout(**tr);
    ASSERT_EQ(r.size(), 3u);
    for (const Mat& m : r)
        for (int i = 0; i < m.rows(); ++i) EXPECT_NEAR(m.row(i).sum(), 1.0f, 1e-5f);
}

TEST(Analysis, EntropyAndContributions) {
    Mat A(2, 2);
    A << 1, 0, 0.5f, 0.5f;
    const Vec h = rowEntropy(A);
    EXPECT_NEAR(h(0), 0.0f, 1e-7f);
    EXPECT_NEAR(h(1), std::log(2.0f), 1e-6f);
    HeadTrace ht;
    ht.weights = A;
    ht.V = Mat(2, 2);
    ht.V << 3, 4, 0, 1;  // ‖v₀‖ = 5, ‖v₁‖ = 1
    const Mat C = valueContributions(ht);
    EXPECT_NEAR(C(0, 0), 5.0f, 1e-6f);
    EXPECT_NEAR(C(1, 0), 2.5f, 1e-6f);
    EXPECT_NEAR(C(1, 1), 0.5f, 1e-6f);
}

TEST(Analysis, HeadSummaryOfACausalModelAttendsBackwards) {
    ModelConfig c;
    c.architecture = Architecture::Decoder;
    auto tr = run(model(c), "The black cat drank the milk");
    ASSERT_TRUE(tr);
    const auto s = summarizeHeads(**tr);
    ASSERT_EQ(s.size(), 2u);
    for (const HeadSummary& h : s) {
        EXPECT_GT(h.first_token, 0.0f);  // row 0 must put all weight on token 0
        EXPECT_GE(h.entropy, 0.0f);
    }
}

TEST(Trace, TokenizedInputRunsLikeTheText) {
    auto m = model();
    const char* text = "The black cat drank the milk";
    auto in = tokenizeInput(*m, text);
    ASSERT_TRUE(in) << in.message();
    EXPECT_EQ(in->tokenCount(), 6);
    EXPECT_FALSE(in->seq2seq);
    auto a = runInput(m, in.value());
    auto b = run(m, text);
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a)->text, text);
    EXPECT_EQ((*a)->tokens.size(), (*b)->tokens.size());
    EXPECT_EQ((*a)->layers[0].self_attention.heads[0].weights,
              (*b)->layers[0].self_attention.heads[0].weights);

    ModelConfig c;
    c.architecture = Architecture::EncoderDecoder;
    auto s2s = model(c);
    auto pair = tokenizeSeq2SeqInput(*s2s, "The ball is blue", "La bola es azul .");
    ASSERT_TRUE(pair) << pair.message();
    EXPECT_TRUE(pair->seq2seq);
    auto ta = runInput(s2s, pair.value());
    auto tb = runSeq2Seq(s2s, "The ball is blue", "La bola es azul .");
    ASSERT_TRUE(ta && tb);
    EXPECT_EQ((*ta)->target_tokens.size(), (*tb)->target_tokens.size());
    EXPECT_EQ((*ta)->target_text, "La bola es azul .");
    EXPECT_FALSE(tokenizeSeq2SeqInput(*m, "a", "b"));  // not an encoder–decoder model
}

namespace attn {
namespace {

// A trace over its memory budget keeps the weights of the layers that fit (the focus layer
// first), recomputes the others on demand to the same numbers, and refuses in advance what
// cannot fit even so.
TEST(TraceBudget, KeepsTheLayersThatFitAndRecomputesTheRest) {
    ModelConfig c;
    c.d_model = 16;
    c.n_heads = 2;
    c.n_layers = 5;
    c.architecture = Architecture::Decoder;
    std::shared_ptr<const Model> m = model(c);
    std::string text;
    for (int i = 0; i < 40; ++i) text += "w" + std::to_string(i % 13) + " ";
    auto full = run(m, text);
    ASSERT_TRUE(full) << full.message();
    const double T = (*full)->tokenCount();
    ASSERT_EQ(T, 40);
    EXPECT_TRUE((*full)->all_weights_kept);
    EXPECT_EQ((*full)->kept_layers, (std::vector<int>{0, 1, 2, 3, 4}));

    const auto layerBytes = static_cast<std::size_t>(2 * T * T * 4);  // 2 heads' weights
    const auto headDetail = static_cast<std::size_t>(4 * 4 * T * T);  // one recomputed head
    RunOptions opt;
    opt.focus_layer = 2;
    opt.memory_budget_bytes = headDetail + 2 * layerBytes;  // two of the five layers fit
    auto lean = run(m, text, opt);
    ASSERT_TRUE(lean) << lean.message();
    const Trace& t = **lean;
    EXPECT_FALSE(t.all_weights_kept);
    EXPECT_FALSE(t.full_detail);
    EXPECT_EQ(t.kept_layers, (std::vector<int>{0, 2})) << "the focus layer, then from layer 0";
    // Dropping weights changes no result (the lean run takes the blocked kernels, hence the
    // rounding).
    EXPECT_LE((t.final_hidden - (*full)->final_hidden).cwiseAbs().maxCoeff(), 1e-4);
    for (int l = 0; l < 5; ++l) {
        const bool kept = l == 0 || l == 2;
        for (int h = 0; h < 2; ++h) {
            const HeadTrace& stored = t.layers[l].self_attention.heads[h];
            EXPECT_EQ(stored.weights_kept, kept) << l;
            EXPECT_EQ(stored.weights.size() > 0, kept) << l;
            EXPECT_LE((stored.output - (*full)->layers[l].self_attention.heads[h].output)
                          .cwiseAbs()
                          .maxCoeff(),
                      1e-4);
            const HeadTrace again = t.headDetail(l, h);
            const HeadTrace& want = (*full)->layers[l].self_attention.heads[h];
            ASSERT_EQ(again.weights.rows(), 40) << l;
            EXPECT_LE((again.weights - want.weights).cwiseAbs().maxCoeff(), 1e-6) << l;
            EXPECT_LE((again.masked - want.masked).cwiseAbs().maxCoeff(), 1e-5) << l;
        }
    }

    // Less than one layer plus one head's detail: refused before any work, saying how much.
    opt.memory_budget_bytes = headDetail + layerBytes - 1;
    auto refused = run(m, text, opt);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.code(), ErrorCode::TooLarge);
    EXPECT_NE(refused.message().find("need"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("budget"), std::string::npos) << refused.message();
    opt.memory_budget_bytes = headDetail + layerBytes;  // exactly one layer: the focus layer
    auto one = run(m, text, opt);
    ASSERT_TRUE(one) << one.message();
    EXPECT_EQ((*one)->kept_layers, (std::vector<int>{2}));
}

TEST(TraceBudget, DefaultIsTwoGigabytes) {
    EXPECT_EQ(RunOptions{}.memory_budget_bytes, std::size_t{2} << 30);
}

}  // namespace
}  // namespace attn
