#pragma once
// Layer rule (engine/): C++20 and Eigen, no Qt; nothing of ui/ or app/. May include: engine.
// Generation with a key/value cache: the prompt runs once as a full trace, then every new token
// computes only its own q, k and v in each layer, appends k and v to the cache and attends over
// every earlier position. The attention row of every step (every layer, every head) is kept so
// that a person can step through what the model looked at to choose each token.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attn/attention.h"
#include "attn/model.h"
#include "attn/result.h"
#include "attn/tokenizer.h"
#include "attn/trace.h"

namespace attn {

/// Why generation ended.
enum class StopReason {
    Length,       ///< max_new_tokens were generated
    Eos,          ///< the model chose its end-of-sequence token (kept as the last step)
    ContextFull,  ///< the model's max_len positions are used up
    Cancelled     ///< the cancel flag was set; the steps so far are kept
};
/// "length", "eos", "context", "cancelled".
std::string toString(StopReason reason);

/// How the next token is chosen from the logits.
struct SamplingOptions {
    float temperature = 0.0f;  ///< 0 = greedy (arg-max); > 0: sample from softmax(logits / T)
    int top_k = 0;             ///< sampling keeps only the k most probable tokens (0 = all)
    float top_p = 1.0f;      ///< then the fewest most probable tokens whose sum reaches p (1 = all)
    std::uint64_t seed = 1;  ///< std::mt19937_64 seed: the same seed gives the same tokens
};

/// One generated token and the attention that chose it.
struct GenerationStep {
    int token = -1;     ///< the chosen id
    std::string piece;  ///< its text (tokenizer decode; raw bytes, may be part of a character)
    /// Position of the query whose attention is kept: the last token of the context when this
    /// token was chosen (prompt length − 1 + step index). The token itself sits at position + 1.
    int position = 0;
    float prob = 0.0f;         ///< softmax(logits) of the token at temperature 1
    float sample_prob = 1.0f;  ///< its probability in the distribution it was drawn from (greedy 1)
    /// The most probable next tokens (id, softmax probability at temperature 1), best first.
    std::vector<std::pair<int, float>> top;
    /// attention[layer][head]: the softmax weights of the query at `position` over keys
    /// 0 … position, (position + 1) values summing to 1. The keys of step i are
    /// Generation::tokens(i): the prompt and the i tokens generated before it.
    std::vector<std::vector<RowVec>> attention;
};

struct GenerateOptions {
    int max_new_tokens = 32;
    SamplingOptions sampling;
    bool stop_at_eos = true;  ///< stop when the model's eos_id is chosen
    int top_candidates = 10;  ///< size of GenerationStep::top
    /// Score function, scaling, temperature of attention … as in RunOptions::attention (empty:
    /// the model's trained_attention) and the heads switched off, for the prompt and every step.
    std::optional<AttentionKnobs> attention;
    std::vector<std::pair<int, int>> disabled_heads;
    /// The prompt trace keeps full detail (scores, scaled, masked) up to this many bytes.
    std::size_t prompt_detail_limit_bytes = std::size_t{256} << 20;
    const std::atomic<bool>* cancel = nullptr;  ///< set to true to stop after the current token
    /// Called after every token (on the generating thread): the step, tokens done, tokens asked.
    std::function<void(const GenerationStep& step, int done, int total)> on_step;
};

/// A prompt and what was generated from it.
struct Generation {
    std::shared_ptr<const Model> model;
    std::vector<Token> prompt;  ///< the prompt's tokens (ids and pieces)
    /// The full trace of the prompt (every head of every layer), computed once; the key/value
    /// cache starts from its K and V.
    TracePtr prompt_trace;
    std::vector<GenerationStep> steps;
    StopReason stopped_by = StopReason::Length;
    SamplingOptions sampling;  ///< what chose the tokens
    double seconds = 0.0;      ///< wall time of the generated tokens (after the prompt trace)

    /// The generated text: the pieces of the steps joined, an EOS step left out.
    std::string text() const;
    /// The prompt's ids followed by the generated ones.
    std::vector<int> ids() const;
    /// Prompt tokens then the first n generated ones (all when n < 0) as tokens, spans over
    /// their joined pieces: what runTokens needs to recompute the whole sequence.
    std::vector<Token> tokens(int n = -1) const;
};

/// Generates step by step, for a caller that wants to show each token as it comes (or to stop
/// and go on later). generate() is start() followed by next() until done().
class Generator {
public:
    /// Checks the model (a decoder with a vocabulary and an LM head), the prompt (ids inside the
    /// vocabulary, at least one token, room in max_len) and the options, then runs the prompt
    /// trace. Errors: Invalid for a model or prompt that cannot generate, Cancelled when the
    /// cancel flag was set during the prompt, TooLarge as run() says.
    static Result<std::unique_ptr<Generator>> start(std::shared_ptr<const Model> model,
                                                    std::vector<Token> prompt,
                                                    const GenerateOptions& options = {});
    ~Generator();
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    /// Chooses one more token (nullptr when done()); its step is also in result().steps. The
    /// pointer is valid until the next call.
    const GenerationStep* next();
    /// True once max_new_tokens are made, EOS was chosen, the context is full or cancelled.
    bool done() const;
    const Generation& result() const;

private:
    Generator();
    struct Impl;
    std::unique_ptr<Impl> m;
};

/// Runs the prompt and generates up to options.max_new_tokens tokens (see Generator::start for
/// the errors; a cancel after the prompt returns the steps so far, stopped_by Cancelled).
Result<Generation> generate(std::shared_ptr<const Model> model, std::vector<Token> prompt,
                            const GenerateOptions& options = {});

/// The same from text, tokenized with the model's tokenizer (BOS as the tokenizer adds it).
Result<Generation> generateFromText(std::shared_ptr<const Model> model, std::string_view text,
                                    const GenerateOptions& options = {});

/// Tokens for ids, each checked against the model's vocabulary (the message names the bad id
/// and the vocabulary size); text from the tokenizer when the model has one, spans over the
/// joined pieces, partial characters marked.
Result<std::vector<Token>> tokensFromIds(const Model& model, const std::vector<int>& ids);

/// Chooses a token from one row of logits as SamplingOptions say, drawing from rng when the
/// temperature is above 0. sample_prob (may be null) receives the chosen token's probability
/// in the distribution it was drawn from (1 for greedy).
int sampleToken(const RowVec& logits, const SamplingOptions& options, std::mt19937_64& rng,
                float* sample_prob = nullptr);

}  // namespace attn
