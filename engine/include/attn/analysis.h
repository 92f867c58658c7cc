#pragma once
// Analyses of a trace: rollout across layers, row entropy, value-weighted contributions,
// per-head summaries.

#include <vector>

#include "attn/trace.h"

namespace attn {

/// Attention rollout (Abnar & Zuidema 2020): per layer A' = 0.5·mean_h(A_h) + 0.5·I, rows
/// renormalised, multiplied from the first layer up. Returns (T, T) after each layer.
std::vector<Mat> attentionRollout(const Trace& trace, bool decoder = false);

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

/// One summary per (layer, head) of the first stack's self-attention.
std::vector<HeadSummary> summarizeHeads(const Trace& trace, bool decoder = false);

}  // namespace attn
