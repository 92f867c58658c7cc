#pragma once
// The weighted sum of values, term by term: z_i = Σ_j α_ij·v_j for one query i of one head,
// so one can see which key adds what to the output.

#include "attn/attention.h"

namespace attn {

/// The terms of one output row of a head.
struct ValueTerms {
    int query = -1;           ///< the row i; -1 when the head has no such row (then all empty)
    Vec weights;              // (T_k): α_ij, the query's row of the attention weights
    Mat terms;                // (T_k, d_v): row j = α_ij·v_j
    Vec norms;                // (T_k): ‖α_ij·v_j‖ = α_ij·‖v_j‖
    RowVec sum;               // (d_v): Σ_j α_ij·v_j, the head's output row when the head is on
    int largest_term = -1;    ///< j with the largest ‖α_ij·v_j‖ (the lowest j on a tie)
    int largest_weight = -1;  ///< j with the largest α_ij (the lowest j on a tie)
    float total_norm = 0;     ///< Σ_j ‖α_ij·v_j‖
};

/// The terms of query row `query` of head (its weights (T_q, T_k) and V (T_k, d_v)).
/// query outside [0, T_q) gives an empty ValueTerms (query = -1).
ValueTerms valueTerms(const HeadTrace& head, int query);

}  // namespace attn
