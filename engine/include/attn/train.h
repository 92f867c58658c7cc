#pragma once
// Training our own teaching models.
//
//   corpus (corpus.h) ──► Trainer::step() (train_ops.h: forward, backward, Adam) ──► Model
//   Model ──► saveTeachingModel / loadTeachingModel (attn/formats/teaching_model.h)
//   Model ──► fillMask / translate / evaluate… (attn/evaluate.h; held-out sentences only)
//
// The two shipped models are resources/models/english.safetensors (an encoder trained by
// masked-word prediction) and resources/models/translation.safetensors (an encoder–decoder
// trained on English → Spanish pairs).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attn/corpus.h"
#include "attn/model.h"
#include "attn/result.h"
#include "attn/train_ops.h"
#include "attn/weight_tensors.h"

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
    /// The attention a new model is trained with (temperature > 0); it decides which weights
    /// exist and is stored in the model (Model::trained_attention, and in its file).
    AttentionKnobs attention;
};

/// The shipped model's configuration for a corpus (vocabulary sizes filled in).
ModelConfig defaultModelConfig(CorpusKind corpus);
int defaultSteps(CorpusKind corpus);
float defaultLearningRate(CorpusKind corpus);

/// An empty teaching model for a corpus: config, tokenizers (VocabTokenizer over the corpus
/// vocabulary, lower-casing), special ids, and seeded initial weights for the attention it
/// will be trained with. config's vocabulary sizes and architecture are overwritten to fit the
/// corpus.
Result<std::shared_ptr<Model>> makeTeachingModel(CorpusKind corpus, ModelConfig config,
                                                 std::uint64_t seed,
                                                 const AttentionKnobs& attention = {});

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
    std::vector<TensorRef> m_params, m_grads, m_ms, m_vs;
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

}  // namespace attn
