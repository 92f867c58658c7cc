#pragma once
// Layer rule (engine/): C++20 and Eigen, no Qt; nothing of ui/ or app/. May include: engine.
// The trace: an immutable value with every intermediate of one run, and the ordered steps a UI
// walks one at a time.

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attn/attention.h"
#include "attn/model.h"
#include "attn/tokenizer.h"

namespace attn {

struct LayerTrace {
    Mat input;  // (T, d_model) entering the layer
    AttentionTrace self_attention;
    std::optional<AttentionTrace> cross_attention;  // decoder layers of an EncoderDecoder
    Mat after_self;                                 // (T, d_model): add & norm after self-attention
    Mat after_cross;  // (T, d_model): add & norm after cross-attention (decoder only)
    Mat ffn_output;   // (T, d_model): feed-forward output before the residual
    Mat output;       // (T, d_model): leaving the layer
};

enum class StepKind {
    Tokens,
    Embedding,
    Positional,
    LayerInput,
    Projections,
    Scores,
    Scaled,
    Masked,
    Weights,
    WeightedSum,
    Concat,
    OutputProjection,
    AddNorm,
    FeedForward,
    LayerOutput,
    Logits
};

/// One step of the pipeline, for the UI to show one at a time.
struct Step {
    std::string id;       ///< stable, e.g. "L0.self.weights"
    std::string title;    ///< "Softmax: scores → weights"
    std::string formula;  ///< "A = softmax(S_masked) (row by row)"
    StepKind kind = StepKind::Tokens;
    int layer = -1;        ///< -1 before the first layer
    bool decoder = false;  ///< step of the decoder stack of an EncoderDecoder
    bool cross = false;    ///< cross-attention step
};

struct Trace {
    std::shared_ptr<const Model> model;
    std::string text;  ///< input text (the source for EncoderDecoder)
    std::string target_text;
    std::vector<Token> tokens;         ///< first stack's tokens
    std::vector<Token> target_tokens;  ///< EncoderDecoder decoder tokens
    Mat embeddings;                    // (T, d_model) token embeddings
    Mat positional;                    // (T, d_model) additive PE (zeros for RoPE/none)
    Mat input;                         // (T, d_model) = embeddings + positional (+ types, norm)
    Mat target_embeddings, target_positional, target_input;  // (T_t, d_model)
    std::vector<LayerTrace> layers;                          ///< first stack
    std::vector<LayerTrace> decoder_layers;                  ///< EncoderDecoder decoder stack
    Mat final_hidden;  // (T, d_model) after the last layer (and final norm)
    Mat logits;        // (T, vocab) when the model has an LM head
    std::vector<Step> steps;
    bool full_detail = true;  ///< every head keeps scores/scaled/masked
    /// Every head keeps its weights. false when they would have exceeded
    /// RunOptions::memory_budget_bytes: then only the layers in kept_layers keep them (the
    /// focus layer first), and headDetail recomputes any other head's (a few ms each).
    bool all_weights_kept = true;
    std::vector<int> kept_layers;  ///< first-stack layers whose heads keep their weights
    /// The run options that shaped these numbers: the knobs (resolved: RunOptions::attention or
    /// the model's trained_attention) and the heads that were switched off.
    AttentionKnobs attention;
    std::vector<std::pair<int, int>> disabled_heads;

    int tokenCount() const { return static_cast<int>(tokens.size()); }
    const LayerTrace& layer(int l, bool decoder = false) const {
        return decoder ? decoder_layers.at(l) : layers.at(l);
    }
    /// A head with scores/scaled/masked and weights filled in (recomputed when the trace
    /// dropped them). Views that read heads of a trace with all_weights_kept == false must come
    /// through here (or check HeadTrace::weights_kept).
    HeadTrace headDetail(int layer, int head, bool decoder = false, bool cross = false) const;
    /// The mask that was used by that attention block.
    MaskSpec maskOf(bool decoder, bool cross) const;
    /// The attention config of that block.
    AttentionConfig attentionConfigOf(bool decoder, bool cross) const;
};

using TracePtr = std::shared_ptr<const Trace>;

struct RunOptions {
    /// Score function, √d_k scaling, mask, temperature and projection mode of this run. Empty:
    /// the knobs the model was made for (Model::trained_attention). run() refuses knobs the
    /// model's weights cannot support (checkAttentionKnobs), with a message.
    std::optional<AttentionKnobs> attention;
    /// Above this many bytes of (T×T) matrices, heads keep only their weights (plus the focus
    /// head's full detail); Trace::headDetail recomputes the rest on demand.
    std::size_t detail_limit_bytes = std::size_t{256} << 20;
    /// At most this many bytes of (T×T) attention matrices stay in the trace (default 2 GiB, a
    /// setting of the window). Beyond it, heads keep their weights only in the layers that fit
    /// (the focus layer first, then from layer 0 on) and recompute the others on demand. A run
    /// that could not stay within it even so (one layer's heads are computed together) is
    /// refused before any work, with ErrorCode::TooLarge and a message saying how much it needs.
    std::size_t memory_budget_bytes = std::size_t{2} << 30;
    int focus_layer = 0;
    int focus_head = 0;
    /// (block, head) whose output is zeroed; block as headBlockIndex numbers it (the layer, for
    /// the encoder or only stack).
    std::vector<std::pair<int, int>> disabled_heads;
    /// Set to true (from any thread) to stop: run returns ErrorCode::Cancelled after the
    /// attention block or feed-forward it is in.
    const std::atomic<bool>* cancel = nullptr;
    /// Fraction done, 0..1, once per attention block, on the running thread. May be empty.
    std::function<void(double)> progress;
    bool compute_logits = true;
};

/// Number of an attention block for RunOptions::disabled_heads: layer l of the encoder (or only)
/// stack is l; in an encoder–decoder model, decoder layer l's self-attention is
/// n_layers + 2l and its cross-attention n_layers + 2l + 1.
int headBlockIndex(const ModelConfig& config, int layer, bool decoder, bool cross);

/// Tokenizes text with the model's tokenizer and runs it, keeping every intermediate.
Result<TracePtr> run(std::shared_ptr<const Model> model, std::string_view text,
                     const RunOptions& options = {});

/// Runs given tokens (ids or hashed text) as they are.
Result<TracePtr> runTokens(std::shared_ptr<const Model> model, std::vector<Token> tokens,
                           const RunOptions& options = {});

/// Runs the given vocabulary ids (no tokenizer involved): tokensFromIds (attn/generate.h) makes
/// the tokens (an id outside the vocabulary is an error naming it), then runTokens.
Result<TracePtr> runIds(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                        const RunOptions& options = {});

/// EncoderDecoder: the encoder reads source, the decoder reads target (teacher forcing; the
/// decoder start token is prepended when the model has one) with cross-attention to the source.
/// Works for an untrained encoder–decoder too.
Result<TracePtr> runSeq2Seq(std::shared_ptr<const Model> model, std::string_view source,
                            std::string_view target, const RunOptions& options = {});

/// The knobs a run with options uses on model: options.attention, else model.trained_attention.
AttentionKnobs resolvedAttention(const Model& model, const RunOptions& options);

/// The ordered steps for a config run with knobs (also filled into every trace).
std::vector<Step> buildSteps(const ModelConfig& config, const AttentionKnobs& knobs,
                             bool has_target);

/// The input of a run, tokenized: the text kept with its tokens, so that a caller can count the
/// tokens (to choose a thread, say) and then run them without tokenizing a second time.
struct RunInput {
    std::string text;                  ///< the text (the source for EncoderDecoder)
    std::string target_text;           ///< EncoderDecoder only
    std::vector<Token> tokens;         ///< text's tokens
    std::vector<Token> target_tokens;  ///< target's, after the decoder start token if any
    bool seq2seq = false;              ///< an encoder–decoder run (target_tokens are used)

    /// The longer side, in tokens.
    int tokenCount() const {
        return static_cast<int>(std::max(tokens.size(), target_tokens.size()));
    }
};

/// Tokenizes text with the model's tokenizer, as run does.
Result<RunInput> tokenizeInput(const Model& model, std::string_view text);
/// EncoderDecoder: tokenizes source and target as runSeq2Seq does (decoder start token
/// prepended when the model has one).
Result<RunInput> tokenizeSeq2SeqInput(const Model& model, std::string_view source,
                                      std::string_view target);
/// Runs an input that tokenizeInput / tokenizeSeq2SeqInput made for this model; the same trace
/// as run / runSeq2Seq on the same text.
Result<TracePtr> runInput(std::shared_ptr<const Model> model, RunInput input,
                          const RunOptions& options = {});

}  // namespace attn
