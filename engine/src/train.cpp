// Teaching models: the corpus-specific batches and the optimiser (Adam with warm-up, cosine
// decay and global-norm clipping). Using and measuring the trained models is evaluate.cpp.

#include "attn/train.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace attn {

std::string toString(CorpusKind kind) {
    return kind == CorpusKind::English ? "english" : "translation";
}

bool parseCorpusKind(const std::string& text, CorpusKind* out) {
    if (text == "english")
        *out = CorpusKind::English;
    else if (text == "translation")
        *out = CorpusKind::Translation;
    else
        return false;
    return true;
}

ModelConfig defaultModelConfig(CorpusKind corpus) {
    ModelConfig c;
    c.positional = PositionalKind::Sinusoidal;
    c.norm = NormKind::LayerNorm;
    c.pre_norm = false;
    c.activation = Activation::ReLU;
    c.has_lm_head = true;
    c.max_len = 64;
    if (corpus == CorpusKind::English) {
        c.name = "English masked-word model";
        c.architecture = Architecture::Encoder;
        c.d_model = 64;
        c.n_heads = 4;
        c.n_layers = 2;
        c.d_ff = 128;
        c.vocab_size = static_cast<int>(englishVocabulary().size());
    } else {
        c.name = "English to Spanish translation model";
        c.architecture = Architecture::EncoderDecoder;
        c.d_model = 64;
        c.n_heads = 4;
        c.n_layers = 2;
        c.n_decoder_layers = 2;
        c.d_ff = 128;
        c.vocab_size = static_cast<int>(englishVocabulary().size());
        c.target_vocab_size = static_cast<int>(spanishVocabulary().size());
    }
    return c;
}

// Both corpora train with the same schedule today; the parameter keeps the choice per corpus.
int defaultSteps(CorpusKind /*corpus*/) { return 3000; }
float defaultLearningRate(CorpusKind /*corpus*/) { return 2e-3f; }

namespace {

std::shared_ptr<const VocabTokenizer> vocabTokenizer(std::vector<std::string> vocab) {
    WordTokenizerOptions o;
    o.lowercase = true;
    return std::make_shared<VocabTokenizer>(std::move(vocab), kUnkId, o);
}

const VocabTokenizer* asVocab(const std::shared_ptr<const TextTokenizer>& t) {
    return dynamic_cast<const VocabTokenizer*>(t.get());
}

std::vector<int> idsOf(const VocabTokenizer& tok, const Words& words) {
    return corpusIds(tok, words);
}

}  // namespace

Result<std::shared_ptr<Model>> makeTeachingModel(CorpusKind corpus, ModelConfig config,
                                                 std::uint64_t seed,
                                                 const AttentionKnobs& attention) {
    config.has_lm_head = true;
    config.vocab_size = static_cast<int>(englishVocabulary().size());
    config.type_vocab_size = 0;
    if (corpus == CorpusKind::English) {
        if (config.architecture == Architecture::EncoderDecoder)
            config.architecture = Architecture::Encoder;
        config.target_vocab_size = 0;
    } else {
        config.architecture = Architecture::EncoderDecoder;
        config.target_vocab_size = static_cast<int>(spanishVocabulary().size());
    }
    if (Status s = validate(config); !s) return s.error();
    if (Status s = validate(config.attentionConfig(attention)); !s) return s.error();
    if (attention.temperature <= 0.0f)
        return makeError(
            "Training needs a positive temperature: the hard look-up (0) has no "
            "gradient.");
    if (config.positional == PositionalKind::Learned && config.max_len > 4096)
        return makeError(
            "Learned positions are trained for at most 4096 positions; lower max_len.");
    auto model = std::make_shared<Model>();
    model->config = config;
    model->config.seed = seed;
    model->trained_attention = attention;
    model->weights = initWeights(config, attention, seed);
    model->tokenizer = vocabTokenizer(englishVocabulary());
    if (corpus == CorpusKind::Translation) {
        model->target_tokenizer = vocabTokenizer(spanishVocabulary());
        model->bos_id = kBosId;
        model->eos_id = kEosId;
    } else {
        model->mask_id = kMaskId;
    }
    return model;
}

// --- Trainer ---------------------------------------------------------------------------------

Trainer::~Trainer() = default;

Result<std::unique_ptr<Trainer>> Trainer::create(const TrainOptions& options,
                                                 std::optional<ModelConfig> config) {
    auto model =
        makeTeachingModel(options.corpus, config ? *config : defaultModelConfig(options.corpus),
                          options.seed, options.attention);
    if (!model) return model.error();
    return create(options, std::move(model.value()));
}

Result<std::unique_ptr<Trainer>> Trainer::create(const TrainOptions& options,
                                                 std::shared_ptr<Model> model) {
    if (!model) return makeError("No model to train.");
    const ModelConfig& c = model->config;
    const bool translation = options.corpus == CorpusKind::Translation;
    if (translation != (c.architecture == Architecture::EncoderDecoder))
        return makeError(translation ? "The translation corpus needs an encoder–decoder model."
                                     : "The English corpus trains an encoder (masked words).");
    const VocabTokenizer* src = asVocab(model->tokenizer);
    if (!src || src->vocab() != englishVocabulary())
        return makeError("The model's vocabulary is not the English corpus vocabulary.");
    if (translation) {
        const VocabTokenizer* tgt = asVocab(model->target_tokenizer);
        if (!tgt || tgt->vocab() != spanishVocabulary())
            return makeError("The model's target vocabulary is not the Spanish corpus vocabulary.");
    }
    if (!c.has_lm_head || model->weights.lm_head.size() == 0)
        return makeError("The model has no output layer to train.");
    if (options.batch_size <= 0) return makeError("The batch size must be positive.");
    if (options.steps < 0) return makeError("The number of steps must not be negative.");

    std::unique_ptr<Trainer> t(new Trainer());
    t->m_options = options;
    if (t->m_options.steps == 0) t->m_options.steps = defaultSteps(options.corpus);
    if (t->m_options.learning_rate <= 0.0f)
        t->m_options.learning_rate = defaultLearningRate(options.corpus);
    t->m_total = t->m_options.steps;
    t->m_model = std::move(model);
    t->m_grad = zerosLike(t->m_model->weights);
    t->m_m = zerosLike(t->m_model->weights);
    t->m_v = zerosLike(t->m_model->weights);
    t->m_params = tensorsOf(t->m_model->weights);
    t->m_grads = tensorsOf(t->m_grad);
    t->m_ms = tensorsOf(t->m_m);
    t->m_vs = tensorsOf(t->m_v);
    t->m_sampler = std::make_unique<SentenceSampler>(options.seed ^ 0xc0a1e5ceULL, Split::Train);
    return t;
}

train::Batch Trainer::nextBatch() {
    train::Batch b;
    const VocabTokenizer& src = *asVocab(m_model->tokenizer);
    SentenceSampler& rng = *m_sampler;
    for (int i = 0; i < m_options.batch_size; ++i) {
        const Words words = rng.next();
        if (m_options.corpus == CorpusKind::English) {
            // Masked-word prediction: each word is hidden with probability p (at least one),
            // and the loss asks for the hidden words only.
            std::vector<int> ids = idsOf(src, words);
            std::vector<int> labels(ids.size(), -1);
            const int vocab = src.vocabSize();
            auto choose = [&](std::size_t t) {
                labels[t] = ids[t];
                const double r = rng.uniform();
                if (r < 1.0 - m_options.mask_random_fraction - m_options.mask_keep_fraction)
                    ids[t] = kMaskId;
                else if (r < 1.0 - m_options.mask_keep_fraction)
                    ids[t] = kEosId + 1 + rng.below(vocab - kEosId - 1);  // a random word
            };
            bool any = false;
            for (std::size_t t = 0; t < ids.size(); ++t) {
                if (rng.uniform() < m_options.mask_probability) {
                    choose(t);
                    any = true;
                }
            }
            if (!any) choose(static_cast<std::size_t>(rng.below(static_cast<int>(ids.size()))));
            b.source.push_back(std::move(ids));
            b.labels.push_back(std::move(labels));
        } else {
            const TranslationPair pair = translateToSpanish(words);
            const VocabTokenizer& tgt = *asVocab(m_model->target_tokenizer);
            std::vector<int> s = idsOf(src, pair.source);
            std::vector<int> y = idsOf(tgt, pair.target);
            // Now and then a noun or adjective the model "never saw": [UNK] on both sides, so
            // an unknown word comes out as a visible [UNK] instead of a confident guess.
            if (rng.uniform() < m_options.unknown_word_probability) {
                std::vector<std::size_t> candidates;
                for (std::size_t t = 0; t < pair.target.size(); ++t) {
                    const int a = pair.alignment[t];
                    if (a < 0 || !pair.content[t]) continue;
                    const WordClass wc =
                        lexicon().englishClass(pair.source[static_cast<std::size_t>(a)]);
                    if (wc == WordClass::Noun || wc == WordClass::Adjective)
                        candidates.push_back(t);
                }
                if (!candidates.empty()) {
                    const std::size_t t = candidates[static_cast<std::size_t>(
                        rng.below(static_cast<int>(candidates.size())))];
                    s[static_cast<std::size_t>(pair.alignment[t])] = kUnkId;
                    y[t] = kUnkId;
                }
            }
            std::vector<int> in = {kBosId};
            in.insert(in.end(), y.begin(), y.end());
            std::vector<int> labels = y;
            labels.push_back(kEosId);
            b.source.push_back(std::move(s));
            b.target.push_back(std::move(in));
            b.labels.push_back(std::move(labels));
        }
    }
    return b;
}

float Trainer::learningRate() const {
    const float peak = m_options.learning_rate;
    const int t = m_step;
    const int warm = std::max(0, m_options.warmup_steps);
    if (t < warm) return peak * static_cast<float>(t + 1) / static_cast<float>(warm);
    const int rest = std::max(1, m_total - warm);
    const double progress = std::min(1.0, static_cast<double>(t - warm) / rest);
    const double floor = m_options.final_lr_fraction;
    return static_cast<float>(
        peak * (floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress))));
}

float Trainer::step() {
    const train::Batch batch = nextBatch();
    const float lr = learningRate();
    const float loss = static_cast<float>(train::forward(*m_model, batch, m_state));
    for (auto& g : m_grads) std::fill(g.data, g.data + g.size(), 0.0f);
    train::backward(*m_model, m_state, m_grad);

    // Clip the global gradient norm.
    double sq = 0.0;
    for (const auto& g : m_grads)
        for (Eigen::Index i = 0; i < g.size(); ++i)
            sq += static_cast<double>(g.data[i]) * g.data[i];
    m_gradNorm = static_cast<float>(std::sqrt(sq));
    const float clip = (m_options.clip_norm > 0.0f && m_gradNorm > m_options.clip_norm)
                           ? m_options.clip_norm / m_gradNorm
                           : 1.0f;
    // Adam with bias correction (and decoupled weight decay on matrices).
    ++m_step;
    const float b1 = m_options.beta1, b2 = m_options.beta2;
    const float c1 = 1.0f - std::pow(b1, static_cast<float>(m_step));
    const float c2 = 1.0f - std::pow(b2, static_cast<float>(m_step));
    for (std::size_t k = 0; k < m_params.size(); ++k) {
        float* p = m_params[k].data;
        const float* g = m_grads[k].data;
        float* m = m_ms[k].data;
        float* v = m_vs[k].data;
        const float decay = m_params[k].vector ? 0.0f : m_options.weight_decay;
        for (Eigen::Index i = 0; i < m_params[k].size(); ++i) {
            const float gi = g[i] * clip;
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            const float mh = m[i] / c1, vh = v[i] / c2;
            p[i] -= lr * (mh / (std::sqrt(vh) + m_options.adam_eps) + decay * p[i]);
        }
    }
    return loss;
}

std::shared_ptr<Model> Trainer::snapshot() const {
    auto copy = std::make_shared<Model>(*m_model);
    copy->source_path.clear();
    return copy;
}

Result<std::shared_ptr<Model>> trainTeachingModel(const TrainOptions& options,
                                                  const std::function<bool(int, float)>& progress) {
    auto trainer = Trainer::create(options);
    if (!trainer) return trainer.error();
    Trainer& t = *trainer.value();
    while (t.stepsDone() < t.totalSteps()) {
        const float loss = t.step();
        if (!std::isfinite(loss))
            return makeError("Training diverged (the loss became " + std::to_string(loss) +
                             "); try a smaller learning rate.");
        if (progress && !progress(t.stepsDone(), loss)) break;
    }
    return t.snapshot();
}

}  // namespace attn
