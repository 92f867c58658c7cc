#pragma once
// Analyses of a trace: rollout across layers, row entropy, value-weighted contributions,
// per-head summaries.

#include <vector>

#include "attn/trace.h"

namespace attn {

/// Attention rollout (Abnar & Zuidema 2020): per layer A' = 0.5·mean_h(A_h) + 0.5·I, rows
/// renormalised, multiplied from the first layer up: R_l = A'_l·R_(l−1). Returns (T, T) after
/// each layer (row = token after layer l, column = input token); self-attention of the stack
/// only. Costs T³ per layer.
std::vector<Mat> attentionRollout(const Trace& trace, bool decoder = false);

/// mean_h A_h of the weights of a block's heads, each (T_q, T_k); empty for no heads.
Mat meanOfHeads(const std::vector<Mat>& weights);

/// ‖α_ij · v_j‖ for one head: (T_q, T_k).
Mat valueContributions(const HeadTrace& head);

struct HeadSummary {
    int layer = 0;
    int head = 0;
    float previous_token = 0;  ///< mean weight on key i-1
    float self = 0;            ///< mean weight on key i
    float first_token = 0;     ///< mean weight on key 0
    float entropy = 0;         ///< mean row entropy (nats)
};

/// The summary of one weight matrix A, (T_q, T_k): with T = min(T_q, T_k), self is the mean of
/// A(i, i) and first_token of A(i, 0) over i < T, previous_token the mean of A(i, i−1) over
/// 1 ≤ i < T (0 when T = 1), entropy the mean row entropy. layer and head are left 0; an empty A
/// gives zeros.
HeadSummary summarizeWeights(const Mat& weights);

/// One summary per (layer, head) of the self-attention of a stack (the encoder or only stack,
/// or the decoder stack of an encoder–decoder model), in layer-major order.
std::vector<HeadSummary> summarizeHeads(const Trace& trace, bool decoder = false);

/// The one pattern that dominates a head, if any: the first of previous token, self, first token
/// whose mean weight is above threshold.
enum class HeadHabit { None, PreviousToken, Self, FirstToken };
HeadHabit habitOf(const HeadSummary& summary, float threshold = 0.5f);

}  // namespace attn
