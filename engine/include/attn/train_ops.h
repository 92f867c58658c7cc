#pragma once
// The training pass, in the manner of llm.c: every operation has a forward that keeps what its
// backward needs, and a backward that accumulates weight gradients (+=) and writes the input
// gradient. The model pass (forward / backward at the end) is a list of numbered steps over
// these operations. It runs on attn::ModelWeights / attn::ModelConfig with the same
// conventions as the inference forward (trace.h), so trained weights go straight into a Model.
//
// Batches are packed: the sequences of a batch lie one after another in the rows of one matrix
// (no padding rows), so the projections and feed-forward layers are single large products and
// only attention works sequence by sequence.

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "attn/attention.h"
#include "attn/model.h"

namespace attn::train {

/// Where each sequence of a packed batch lies: sequence s occupies rows
/// [begin[s], begin[s] + length[s]).
struct Packing {
    std::vector<int> begin;
    std::vector<int> length;
    int rows() const { return begin.empty() ? 0 : begin.back() + length.back(); }
    int count() const { return static_cast<int>(begin.size()); }
    static Packing fromLengths(const std::vector<int>& lengths);
};

// --- operations ------------------------------------------------------------------------------

/// Y = X·W + b: dW += Xᵀ·dY, db += Σ_rows dY, returns dX = dY·Wᵀ.
Mat linearBackward(const Mat& X, const Mat& W, const Mat& dY, Mat& dW, RowVec* db);

struct NormCache {
    Mat xhat;  // (N, d_model): the row normalised, before γ and β
    Vec rstd;  // (N): 1 / √(var + eps) (LayerNorm) or 1 / √(mean(x²) + eps) (RMSNorm)
};
/// y = γ ∘ x̂ + β row by row, as applyNorm does.
void normForward(NormKind kind, const NormWeights& w, float eps, const Mat& x, Mat& y,
                 NormCache& cache);
void normBackward(NormKind kind, const NormWeights& w, const NormCache& cache, const Mat& dy,
                  Mat& dx, NormWeights& grad);

struct FfnCache {
    Mat x;       // (N, d_model) input
    Mat pre;     // (N, d_ff) x·W1 + b1
    Mat gate;    // (N, d_ff) x·W3 (SwiGLU only)
    Mat hidden;  // (N, d_ff) act(pre), or silu(pre) ∘ gate
};
/// The feed-forward of one layer, as feedForward does.
void ffnForward(Activation act, const FeedForwardWeights& w, const Mat& x, Mat& y, FfnCache& cache);
void ffnBackward(Activation act, const FeedForwardWeights& w, const FfnCache& cache, const Mat& dy,
                 Mat& dx, FeedForwardWeights& grad);

/// Which keys each query sees, per sequence of a packing.
struct AttentionMasking {
    bool causal = false;
    /// Per sequence, per key: true = hidden (padding). Empty = no padding anywhere.
    std::vector<std::vector<bool>> key_padding;
};

struct AttentionCache {
    Mat Xq, Xkv;         // (N_q, d_model), (N_k, d_model) inputs
    Mat Q;               // (N_q, n_heads·d_head) after bias and RoPE
    Mat K;               // (N_k, n_kv_heads·d_head)
    Mat V;               // (N_k, n_kv_heads·d_head); empty in QK mode, where V = K
    std::vector<Mat> A;  // [s·n_heads + h]: (T_q, T_k) weights of sequence s, head h
    Mat concat;          // (N_q, n_heads·d_head)
};
/// One attention block over packed sequences: query rows from Xq (packing pq), key/value rows
/// from Xkv (packing pk, same number of sequences). out (N_q, d_model). RoPE rotates each
/// sequence from position 0, as attend() does for a single sentence. Temperature must be > 0.
void attentionForward(const AttentionConfig& c, const AttentionWeights& w, const Mat& Xq,
                      const Packing& pq, const Mat& Xkv, const Packing& pk,
                      const AttentionMasking& mask, Mat& out, AttentionCache& cache);
void attentionBackward(const AttentionConfig& c, const AttentionWeights& w, const Packing& pq,
                       const Packing& pk, const AttentionMasking& mask, const AttentionCache& cache,
                       const Mat& dout, Mat& dXq, Mat& dXkv, AttentionWeights& grad);

/// Mean cross-entropy over the rows with a label ≥ 0; dlogits (same shape) receives its
/// gradient when not null. Returns 0 when no row is labelled.
double crossEntropy(const Mat& logits, const std::vector<int>& labels, Mat* dlogits,
                    int* counted = nullptr);

// --- the model pass ---------------------------------------------------------------------------

/// Sequences of token ids. For Encoder and Decoder models only source is used; for an
/// EncoderDecoder, target is the decoder input (starting with the start token). labels has one
/// entry per row of the output stack (the decoder for EncoderDecoder): the id to predict there,
/// or -1 for none.
struct Batch {
    std::vector<std::vector<int>> source;
    std::vector<std::vector<int>> target;
    std::vector<std::vector<int>> labels;
};

struct LayerState {
    Mat x_in;     // (N, d_model) entering the layer
    Mat self_in;  // (N, d_model) pre-norm: norm1(x_in); post-norm: empty (x_in is used)
    AttentionCache self;
    Mat self_out;  // (N, d_model) attention output O
    NormCache norm1, norm2, norm3;
    Mat x1;        // (N, d_model) after the self-attention sub-block
    Mat cross_in;  // (N, d_model) pre-norm: norm2(x1)
    AttentionCache cross;
    Mat x2;      // (N, d_model) after the cross-attention sub-block (= x1 without it)
    Mat ffn_in;  // (N, d_model) pre-norm: normF(x2)
    FfnCache ffn;
    Mat out;  // (N, d_model) leaving the layer
};

struct StackState {
    Packing packing;
    std::vector<int> ids;        // (N) packed token ids
    std::vector<int> positions;  // (N) position of each row inside its sequence
    Mat x0_raw;  // (N, d_model) embeddings + positions (+ token type), before the norm
    NormCache embedding_norm;
    Mat x0;  // (N, d_model) the first layer's input
    AttentionMasking mask;
    std::vector<LayerState> layers;
    NormCache final_norm;
    Mat out;  // (N, d_model) the stack's output (after the final norm if any)
};

struct ForwardState {
    StackState source;        // encoder (or the only stack)
    StackState target;        // decoder of an EncoderDecoder
    std::vector<int> labels;  // (N_out) packed labels
    Mat logits;               // (N_out, vocab)
    Mat dlogits;              // (N_out, vocab)
    double loss = 0;
    int counted = 0;  // labelled rows
};

/// 1. embed, 2. layers, 3. final norm, (4. decoder likewise), 5. logits, 6. loss. Returns the
/// mean cross-entropy over labelled rows. The model needs an LM head and a vocabulary.
double forward(const Model& model, const Batch& batch, ForwardState& state);
/// Backward through every step of the last forward, accumulating into grad (+=).
void backward(const Model& model, ForwardState& state, ModelWeights& grad);

}  // namespace attn::train
