#pragma once
// A model is a config plus weights (plus the tokenizer that feeds it). Encoder layers,
// decoder layers, and encoder–decoder stacks; LayerNorm or RMSNorm, pre- or post-norm;
// ReLU, GELU or SwiGLU feed-forward.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attn/attention.h"
#include "attn/positional_encoding.h"
#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

enum class Architecture {
    Encoder,        ///< bidirectional self-attention (BERT, our masked-word model)
    Decoder,        ///< causal self-attention only (GPT-2, llama2.c)
    EncoderDecoder  ///< encoder + decoder with cross-attention (our translation model)
};
enum class NormKind { LayerNorm, RMSNorm };
enum class Activation { ReLU, GELU, GELUTanh, SwiGLU };

std::string toString(Architecture a);
std::string toString(NormKind n);
std::string toString(Activation a);

struct ModelConfig {
    std::string name = "untrained";
    Architecture architecture = Architecture::Encoder;
    int d_model = 8;
    int n_heads = 2;
    int n_kv_heads = 0;        ///< 0 = n_heads (no sharing)
    int d_head = 0;            ///< 0 = d_model / n_heads
    int n_layers = 1;          ///< encoder layers (or decoder layers for Decoder)
    int n_decoder_layers = 1;  ///< decoder layers of an EncoderDecoder
    int d_ff = 0;              ///< 0 = 4·d_model
    int vocab_size = 0;  ///< 0 = no vocabulary: tokens embedded by a seeded hash of their text
    int target_vocab_size = 0;  ///< EncoderDecoder: decoder vocabulary
    int type_vocab_size = 0;    ///< BERT token types (0 = none)
    int max_len = 8192;         ///< longest input the model takes
    PositionalKind positional = PositionalKind::Sinusoidal;
    float pe_base = 10000.0f;
    float rope_theta = 10000.0f;
    RopePairs rope_pairs = RopePairs::Adjacent;  ///< how RoPE pairs a head's dimensions
    std::vector<float> rope_freq_factors;        ///< (d_head/2) or empty: Llama 3.1+ rope scaling
    /// Mistral's sliding window: a decoder query also does not see keys more than
    /// sliding_window − 1 positions back (Hugging Face's convention); 0 = no window.
    int sliding_window = 0;
    NormKind norm = NormKind::LayerNorm;
    bool pre_norm = false;  ///< false = post-norm (Vaswani, BERT), true = pre-norm (GPT-2, llama)
    bool embedding_norm = false;  ///< LayerNorm right after the embeddings (BERT)
    bool final_norm = false;      ///< norm after the last layer (pre-norm models)
    float norm_eps = 1e-5f;
    Activation activation = Activation::ReLU;
    bool has_lm_head = false;  ///< logits over the vocabulary after the last layer
    // Score function, scaling, mask, temperature and projection mode are not here: they are
    // run options (RunOptions::attention, AttentionKnobs), so that turning them never copies a
    // model. What a model's weights were trained for is Model::trained_attention.
    std::uint64_t seed = 1;

    int kvHeads() const { return n_kv_heads > 0 ? n_kv_heads : n_heads; }
    int headDim() const { return d_head > 0 ? d_head : (n_heads > 0 ? d_model / n_heads : 0); }
    int ffDim() const { return d_ff > 0 ? d_ff : 4 * d_model; }
    /// The attention config of every block of this model run with knobs.
    AttentionConfig attentionConfig(const AttentionKnobs& knobs) const;
};

struct NormWeights {
    RowVec gamma;  // (d_model)
    RowVec beta;   // (d_model); empty for RMSNorm
};

/// W1, W2, W3 may be packed (attn/weight.h).
struct FeedForwardWeights {
    Weight W1;  // (d_model, d_ff)
    RowVec b1;  // (d_ff) or empty
    Weight W2;  // (d_ff, d_model)
    RowVec b2;  // (d_model) or empty
    Weight W3;  // (d_model, d_ff): SwiGLU's gate: W2·(silu(x·W1) ∘ x·W3)
};

struct LayerWeights {
    AttentionWeights self_attention;
    AttentionWeights cross_attention;  // decoder layers of an EncoderDecoder only
    NormWeights norm1;                 // around self-attention
    NormWeights norm2;                 // around cross-attention (decoder) or feed-forward (encoder)
    NormWeights norm3;                 // around the decoder's feed-forward
    FeedForwardWeights ffn;
};

/// token_embedding and lm_head may be packed (attn/weight.h); the other tables are dense.
struct ModelWeights {
    Weight token_embedding;    // (vocab_size, d_model); empty when hashed
    Mat target_embedding;      // (target_vocab_size, d_model), EncoderDecoder decoder input
    Mat position_embedding;    // (max_len, d_model) for PositionalKind::Learned
    Mat token_type_embedding;  // (type_vocab_size, d_model)
    NormWeights embedding_norm;
    std::vector<LayerWeights> layers;          // encoder (or decoder-only) stack
    std::vector<LayerWeights> decoder_layers;  // EncoderDecoder decoder stack
    NormWeights final_norm;
    NormWeights decoder_final_norm;
    Weight lm_head;  // (d_model, vocab) — for EncoderDecoder over the target vocabulary
    bool lm_head_tied = false;  // lm_head is empty and the logits use token_embedding (GPT-2)
    RowVec lm_bias;             // (vocab) or empty
};

struct Model {
    ModelConfig config;
    ModelWeights weights;
    std::shared_ptr<const TextTokenizer> tokenizer;         ///< encoder / only input
    std::shared_ptr<const TextTokenizer> target_tokenizer;  ///< EncoderDecoder decoder side
    int bos_id = -1;  ///< decoder start token (EncoderDecoder) or BOS prepended by the tokenizer
    int eos_id = -1;
    int mask_id = -1;         ///< [MASK] of a masked-word model
    std::string source_path;  ///< file or folder it came from, empty when built in memory
    /// How the weights were stored when the file holds them in fewer bits than float32: the
    /// GGUF file type ("Q4_K_M", "Q8_0", "F16", "F32" …), the dtype of most weights of a
    /// Hugging Face Llama-family folder in F16 or BF16; empty otherwise. The engine
    /// computes in float32 whatever this says.
    std::string quantization;
    /// The knobs the weights were made for: a teaching model's training choices (stored in its
    /// file), causal for GPT-2 / llama2.c, the defaults otherwise. A run without its own
    /// RunOptions::attention uses these; the window starts its controls from them.
    AttentionKnobs trained_attention;
};

/// Checks a configuration; messages say what to change ("d_model 10 is not divisible by 3 heads").
Status validate(const ModelConfig& config);

/// Whether model's weights can run with knobs: every block has W_general for the general score,
/// W_add_q/W_add_k/v_add for the additive one, W_Q/W_K for the QK and QKV projections and W_V for
/// QKV (a teaching model trained with V = K has none). Also checks the knobs themselves (a
/// temperature ≥ 0; raw embeddings need d_model = heads · d_k). The message says what to choose
/// instead.
Status checkAttentionKnobs(const Model& model, const AttentionKnobs& knobs);

/// A seeded, reproducible model with random weights (Xavier-uniform), the default teaching
/// model. It always has the extra weights of the general and additive scores (d_k × d_k per
/// head, small next to W_Q…W_O), so every AttentionKnobs choice runs on it without a rebuild. With
/// vocab_size 0 it uses a WordTokenizer and embeds each token by a seeded hash of its text, so the
/// same word gets the same vector in any sentence.
Result<std::shared_ptr<Model>> makeUntrainedModel(const ModelConfig& config);

/// The embedding of a token under a hashed (vocab-free) model: deterministic in (seed, text).
RowVec hashedEmbedding(std::string_view text, int d_model, std::uint64_t seed);

/// Normalises rows of x in place.
void applyNorm(NormKind kind, const NormWeights& w, float eps, Mat& x);
/// x·W1 … the feed-forward of one layer, (T, d_model) → (T, d_model).
Mat feedForward(Activation act, const FeedForwardWeights& w, const Mat& x);

}  // namespace attn
