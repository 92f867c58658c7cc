#pragma once
// One attention block, step by step: projections, scores, scaling, mask, softmax, weighted
// sum of values, concatenation, output projection. Every intermediate is kept for the trace.

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "attn/positional_encoding.h"
#include "attn/result.h"
#include "attn/weight.h"

namespace attn {

// Mat, RowVec and Vec: attn/weight.h.
using BoolMat = Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic>;

/// From the simplest form to the full one.
enum class ProjectionMode {
    Embeddings,  ///< Q = K = V = X (each head takes its slice of X), no W_O
    QK,          ///< Q = X·W_Q, K = X·W_K, V = K
    QKV          ///< Q = X·W_Q, K = X·W_K, V = X·W_V
};
enum class ScoreFunction {
    Dot,        ///< q·k
    ScaledDot,  ///< q·k / √d_k (the scaling step divides)
    Cosine,     ///< q·k / (‖q‖‖k‖), in [-1, 1]
    General,    ///< q·W·kᵀ (W per head, d_head × d_head)
    Additive    ///< vᵀ·tanh(W₁q + W₂k)
};
enum class MaskKind {
    None,
    Causal,   ///< query i sees keys j ≤ i
    Padding,  ///< keys flagged as padding are hidden
    Given     ///< an explicit (T_q, T_k) mask, true = hidden
};

std::string toString(ProjectionMode mode);
std::string toString(ScoreFunction fn);
std::string toString(MaskKind mask);
bool parseProjectionMode(const std::string& text, ProjectionMode* out);  ///< embeddings|qk|qkv
bool parseScoreFunction(const std::string& text,
                        ScoreFunction* out);  ///< dot|scaled-dot|cosine|general|additive
bool parseMaskKind(const std::string& text, MaskKind* out);  ///< none|causal|padding

/// What a person turns per run, the same for every attention block of a model (they go into
/// RunOptions::attention, never into a model: turning one never touches weights). A model's
/// weights may not support every choice (see checkAttentionKnobs in model.h).
struct AttentionKnobs {
    ProjectionMode projection = ProjectionMode::QKV;  ///< how Q, K and V come from X
    ScoreFunction score = ScoreFunction::ScaledDot;   ///< how a query and a key are compared
    bool scale = true;                                ///< divide by √d_k (scaled dot only)
    float temperature = 1.0f;        ///< scores ÷ T before softmax; 0 = hard arg-max look-up
    MaskKind mask = MaskKind::None;  ///< self-attention mask of the first stack; decoders are
                                     ///< always causal, cross-attention never masked

    bool operator==(const AttentionKnobs&) const = default;
};

/// One attention block: its shape (from the model config) and the knobs of this run.
struct AttentionConfig {
    int d_model = 8;
    int n_heads = 2;
    int n_kv_heads = 2;  ///< query head h uses key/value head h / (n_heads / n_kv_heads)
    int d_head = 4;      ///< d_k = d_v
    ProjectionMode projection = ProjectionMode::QKV;
    ScoreFunction score = ScoreFunction::ScaledDot;
    bool scale = true;         ///< divide by √d_k (only for dot-product scores)
    float temperature = 1.0f;  ///< scores ÷ T before softmax; 0 = hard arg-max look-up
    bool rope = false;         ///< rotate Q and K (RoPE) before scoring
    float rope_theta = 10000.0f;
    RopePairs rope_pairs = RopePairs::Adjacent;  ///< which dimensions RoPE rotates together
    std::vector<float> rope_freq_factors;  ///< (d_head/2) or empty: pair i's angle ÷ factor i
    float qk_norm_eps = 1e-6f;  ///< eps of the per-head RMSNorm of q and k (when weighted)
    int d_additive = 0;         ///< hidden size of the additive score (0 = d_head)

    int kvHeadOf(int head) const { return head / (n_heads / n_kv_heads); }
};

/// Weights of one attention block. Biases are empty when the model has none. The four
/// projections may be packed (a quantized or half-precision file's numbers as stored, see
/// attn/weight.h); everything else is dense.
struct AttentionWeights {
    Weight W_Q;  // (d_model, n_heads·d_head)
    Weight W_K;  // (d_model, n_kv_heads·d_head)
    Weight W_V;  // (d_model, n_kv_heads·d_head)
    Weight W_O;  // (n_heads·d_head, d_model)
    RowVec b_Q, b_K, b_V, b_O;
    RowVec q_norm, k_norm;       // (d_head) each or empty: Qwen3's RMSNorm of every head's q and
                                 // k, before RoPE
    std::vector<Mat> W_general;  // per head (d_head, d_head), for ScoreFunction::General
    std::vector<Mat> W_add_q;    // per head (d_head, d_additive), for ScoreFunction::Additive
    std::vector<Mat> W_add_k;    // per head (d_head, d_additive)
    std::vector<Vec> v_add;      // per head (d_additive)
};

/// Which keys each query may see.
struct MaskSpec {
    MaskKind kind = MaskKind::None;
    std::vector<bool> key_padding;  ///< Padding: true = key j is padding (size T_k)
    BoolMat given;                  ///< Given: (T_q, T_k), true = hidden
    /// Causal only: query i (at key position p) also does not see keys j ≤ p − window, so it
    /// sees at most window keys (Mistral's sliding window); 0 = no limit.
    int window = 0;
};

/// Every intermediate of one head. The (T_q, T_k) matrices scores/scaled/masked may be left
/// empty for long inputs (detailed == false), and weights too when a trace is over its memory
/// budget (weights_kept == false); attentionHeadDetail (Trace::headDetail) recomputes them.
struct HeadTrace {
    int kv_head = 0;
    Mat Q;        // (T_q, d_head), after RoPE when the model uses it
    Mat K;        // (T_k, d_head)
    Mat V;        // (T_k, d_head)
    Mat scores;   // (T_q, T_k): row = query token, column = key token; raw score function
    Mat scaled;   // (T_q, T_k): ÷√d_k (if on) and ÷ temperature
    Mat masked;   // (T_q, T_k): -inf where hidden
    Mat weights;  // (T_q, T_k): softmax of each row; rows sum to 1 (0 for a fully hidden row)
    Mat output;   // (T_q, d_head) = weights·V
    bool detailed = true;
    bool weights_kept = true;  ///< false: weights is empty (dropped to stay within the budget)
    bool enabled = true;       ///< false when the user switched this head off (output zeroed)
};

struct AttentionTrace {
    std::vector<HeadTrace> heads;
    Mat concat;     // (T_q, n_heads·d_head)
    Mat projected;  // (T_q, d_model) = concat·W_O + b_O
};

struct AttendOptions {
    bool keep_detail = true;         ///< keep scores/scaled/masked of every head
    int focus_head = -1;             ///< this head keeps them even when keep_detail is false
    std::vector<bool> head_enabled;  ///< empty = all on; false zeroes that head's output
    int q_position_offset = 0;       ///< RoPE position of the first query row
};

/// Runs one attention block. Xq (T_q, d_model) gives the queries, Xkv (T_k, d_model) the keys
/// and values (the same matrix for self-attention).
AttentionTrace attend(const AttentionConfig& config, const AttentionWeights& weights, const Mat& Xq,
                      const Mat& Xkv, const MaskSpec& mask, const AttendOptions& options = {});

/// Recomputes scores/scaled/masked of one head from its Q and K (and its weights when they
/// were dropped).
void attentionHeadDetail(const AttentionConfig& config, const AttentionWeights& weights, int head,
                         const MaskSpec& mask, HeadTrace* trace);

/// Y = X·W + b (b may be empty) with the engine's packed product, on both cores when it is
/// big enough. With transposedW, W is stored (N, K) and Wᵀ is used (a tied output layer).
void linear(const Mat& X, const Mat& W, const RowVec& b, Mat& Y, bool transposedW = false);
/// The same for a weight that may be packed: a panel of it at a time is widened to float32
/// (into a buffer of the calling thread's) and multiplied by the same kernel.
void linear(const Mat& X, const Weight& W, const RowVec& b, Mat& Y, bool transposedW = false);

/// Row-wise stable softmax in place: subtracts the row maximum; a row that is all -inf
/// becomes all zeros (never NaN).
void softmaxRows(Mat& scores);

/// Hidden mask for (T_q, T_k) under spec, true = hidden.
BoolMat buildMask(const MaskSpec& spec, int T_q, int T_k);

/// Checks an attention configuration; the message names the problem.
Status validate(const AttentionConfig& config);

/// Per-row entropy of a weight matrix (nats), (T_q).
Vec rowEntropy(const Mat& weights);

}  // namespace attn
