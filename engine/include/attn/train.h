#pragma once
// Training our own teaching models, loading and saving them, and measuring what they learned.
//
//   corpus (corpus.h) ──► Trainer::step() (train_ops.h: forward, backward, Adam) ──► Model
//   Model ──► saveTeachingModel / loadTeachingModel (safetensors + JSON config, MODEL_FORMAT.md)
//   Model ──► fillMask / translate / evaluate… (held-out sentences only)
//
// The two shipped models are resources/models/english.safetensors (an encoder trained by
// masked-word prediction) and resources/models/translation.safetensors (an encoder–decoder
// trained on English → Spanish pairs); builtinModelPath() finds them.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attn/corpus.h"
#include "attn/model.h"
#include "attn/result.h"
#include "attn/train_ops.h"

namespace attn {

enum class CorpusKind { English, Translation };
std::string toString(CorpusKind kind);
/// "english" | "translation"; false when unknown.
bool parseCorpusKind(const std::string& text, CorpusKind* out);

struct TrainOptions {
    CorpusKind corpus = CorpusKind::English;
    std::uint64_t seed = 1;           ///< weights, sentence stream and masking all follow from it
    int steps = 0;                    ///< optimisation steps; 0 = defaultSteps(corpus)
    int batch_size = 64;              ///< sentences per step
    float learning_rate = 0.0f;       ///< peak Adam step size; 0 = the corpus default
    int warmup_steps = 100;           ///< linear warm-up, then cosine decay
    float final_lr_fraction = 0.05f;  ///< the learning rate ends at this fraction of the peak
    float beta1 = 0.9f;
    float beta2 = 0.98f;
    float adam_eps = 1e-9f;
    float weight_decay = 0.0f;       ///< decoupled (AdamW), applied to matrices only
    float clip_norm = 1.0f;          ///< the gradient's global L2 norm is clipped to this; 0 = off
    float mask_probability = 0.15f;  ///< English: each word is chosen with this chance
    /// English, as BERT: of the chosen words 80% become [MASK], this fraction a random word and
    /// the rest stay as they are; the loss asks for the original at every chosen word, so
    /// visible words must also be checked against their context.
    float mask_random_fraction = 0.1f;
    float mask_keep_fraction = 0.1f;
    float unknown_word_probability = 0.05f;  ///< Translation: a noun/adjective becomes [UNK]
};

/// The shipped model's configuration for a corpus (vocabulary sizes filled in).
ModelConfig defaultModelConfig(CorpusKind corpus);
int defaultSteps(CorpusKind corpus);
float defaultLearningRate(CorpusKind corpus);

/// An empty teaching model for a corpus: config, tokenizers (VocabTokenizer over the corpus
/// vocabulary, lower-casing), special ids, and seeded initial weights. config's vocabulary
/// sizes and architecture are overwritten to fit the corpus.
Result<std::shared_ptr<Model>> makeTeachingModel(CorpusKind corpus, ModelConfig config,
                                                 std::uint64_t seed);

/// One optimisation step at a time, for the command line and the window's "Watch it learn".
/// Not thread-safe: call step() and snapshot() from one thread (a worker, not the GUI thread).
class Trainer {
public:
    /// A trainer for options.corpus with config (default: defaultModelConfig).
    static Result<std::unique_ptr<Trainer>> create(const TrainOptions& options,
                                                   std::optional<ModelConfig> config = {});
    /// Continues training model (its config and vocabulary must fit the corpus).
    static Result<std::unique_ptr<Trainer>> create(const TrainOptions& options,
                                                   std::shared_ptr<Model> model);
    ~Trainer();

    /// One step: sample a batch, forward, backward, clip, Adam. Returns the batch loss (mean
    /// cross-entropy per predicted token, nats) before the update.
    float step();
    int stepsDone() const { return m_step; }
    int totalSteps() const { return m_total; }
    /// The learning rate the next step will use.
    float learningRate() const;
    /// Global gradient norm of the last step (before clipping).
    float lastGradNorm() const { return m_gradNorm; }
    /// A copy of the current model (weights, config, tokenizers), independent of the trainer.
    std::shared_ptr<Model> snapshot() const;
    const Model& model() const { return *m_model; }
    const TrainOptions& options() const { return m_options; }

    /// The next training batch (exposed for tests).
    train::Batch nextBatch();

private:
    Trainer() = default;
    TrainOptions m_options;
    std::shared_ptr<Model> m_model;
    ModelWeights m_grad, m_m, m_v;
    std::vector<train::TensorRef> m_params, m_grads, m_ms, m_vs;
    train::ForwardState m_state;
    std::unique_ptr<SentenceSampler> m_sampler;
    int m_step = 0;
    int m_total = 0;
    float m_gradNorm = 0.0f;
};

/// Trains a model from scratch. progress(step, loss) is called after every step; returning
/// false stops early (the model so far is returned).
Result<std::shared_ptr<Model>> trainTeachingModel(
    const TrainOptions& options, const std::function<bool(int, float)>& progress = {});

// --- files -----------------------------------------------------------------------------------

/// Reads a model written by saveTeachingModel (docs/MODEL_FORMAT.md). Messages say what is
/// wrong ("… is not an Attention Lab teaching model", "layers.0.ffn.W1 has shape …").
Result<std::shared_ptr<Model>> loadTeachingModel(const std::string& path);
/// Writes config, vocabularies and weights as one safetensors file; extra goes into the
/// "__metadata__" strings as well (e.g. how it was trained).
Status saveTeachingModel(const Model& model, const std::string& path,
                         const std::map<std::string, std::string>& extra = {});
/// The path of a shipped model, "english" or "translation"; empty when not found. Looks in, in
/// order: $ATTN_RESOURCES_DIR/models, resources/models beside the executable and in each of its
/// parent folders (build/<preset>/app → the source tree; also share/attention-lab/models for an
/// installed layout), then ./resources/models.
std::string builtinModelPath(const std::string& name);
/// The folders builtinModelPath searches, in order (for error messages).
std::vector<std::string> builtinModelSearchPath();
/// "builtin:english", "builtin:translation" or a file path.
Result<std::shared_ptr<Model>> loadModelSpec(const std::string& spec);

// --- using the models --------------------------------------------------------------------------

/// Logits (N_out, vocab) of the training forward for one sequence: the encoder's rows, or for an
/// EncoderDecoder the decoder's rows for decoder input target_ids.
Result<Mat> predictLogits(const Model& model, const std::vector<int>& source_ids,
                          const std::vector<int>& target_ids = {});

struct FillCandidate {
    std::string word;
    float probability = 0;
};
struct FillPrediction {
    int position = 0;                       ///< token index of the [MASK]
    std::vector<FillCandidate> candidates;  ///< best first
};
struct FillResult {
    std::vector<Token> tokens;  ///< the input as the model saw it ([MASK], [UNK] visible)
    std::vector<FillPrediction> predictions;  ///< one per [MASK]
};
/// Tokenizes text (each "[MASK]" becomes the mask token; unseen words become [UNK]) and lists
/// the top_k words for every [MASK]. Special tokens are never proposed.
Result<FillResult> fillMask(const Model& model, std::string_view text, int top_k = 5);

struct Translation {
    std::vector<Token> source_tokens;  ///< unseen words show as [UNK]
    std::vector<std::string> words;    ///< the translation, without <bos>/<eos>
    std::string text;                  ///< words joined by spaces
    bool finished = false;             ///< ended with <eos> (false: stopped at the length limit)
    std::vector<std::string> decoder_inputs;  ///< <bos>, words… (the query rows below)
    std::vector<std::string> outputs;         ///< words…, <eos> (what each row produced)
    /// [layer][head]: (T_out, T_src) cross-attention while producing the translation; row t is
    /// the decoder query at decoder_inputs[t], which produced outputs[t].
    std::vector<std::vector<Mat>> cross_attention;
};
/// Greedy decoding: the most probable next word each step until <eos> (at most max_words,
/// 0 = twice the source plus 4).
Result<Translation> translate(const Model& model, std::string_view text, int max_words = 0);

// --- measuring -------------------------------------------------------------------------------

struct WordClassScore {
    int predictions = 0;
    double accuracy = 0;     ///< the original word came first
    double grammatical = 0;  ///< the first word makes a sentence of the grammar
};
struct MaskedWordEvaluation {
    int sentences = 0;
    int predictions = 0;     ///< one per word of every held-out sentence
    double accuracy = 0;     ///< the original word is the top prediction
    double grammatical = 0;  ///< the top prediction gives a sentence of the grammar
    int determined = 0;      ///< positions where exactly one word fits the grammar
    double determined_accuracy = 0;
    double mean_grammatical_probability = 0;         ///< probability mass on words that fit
    std::map<std::string, WordClassScore> by_class;  ///< "noun", "verb", …
};
/// Masks each word of count held-out sentences in turn (one at a time) and checks the top
/// prediction.
MaskedWordEvaluation evaluateMaskedWords(const Model& model, int count = 500,
                                         std::uint64_t seed = 2024);

struct TranslationEvaluation {
    int sentences = 0;
    double exact = 0;          ///< greedy translation equals the reference
    double word_accuracy = 0;  ///< per reference word, teacher-forced next-word prediction
    int content_words = 0;     ///< target nouns, verbs, adjectives and "es"
    /// The cross-attention row of the decoder query that produces a content word (teacher
    /// forcing the reference), last decoder layer: the most attended source word is its gold
    /// translation.
    double alignment_mean = 0;               ///< weights averaged over the heads of the last layer
    std::vector<double> alignment_per_head;  ///< each head of the last layer alone
    int best_head = 0;
    double alignment_best_head = 0;
    /// Same, but the row whose query is the content word itself (one row later).
    double alignment_mean_at_word = 0;
    std::vector<std::string> failures;  ///< a few wrong translations, "source → got (want)"
};
TranslationEvaluation evaluateTranslation(const Model& model, int count = 500,
                                          std::uint64_t seed = 2024);

/// For every layer and head of the first stack's self-attention: the weight from query word
/// `query` to word `a` and to word `b` (first occurrence of each, after tokenizing text; a
/// "[MASK]" in text is the mask token and can be the query). Runs the inference forward (run /
/// runTokens), so these are the weights the window shows.
struct HeadPreference {
    int layer = 0;
    int head = 0;
    float weight_a = 0;
    float weight_b = 0;
    bool prefers_a() const { return weight_a > weight_b; }
};
Result<std::vector<HeadPreference>> compareHeadAttention(std::shared_ptr<const Model> model,
                                                         std::string_view text,
                                                         std::string_view query, std::string_view a,
                                                         std::string_view b);

}  // namespace attn
