#pragma once
// One score taken apart: for a (query, key) pair of a head, q, k, their element-wise product
// q∘k and its sum q·k, next to what the head's scaling, mask and softmax made of that score.

#include <vector>

#include "attn/attention.h"

namespace attn {

/// The pieces of score (i, j) of one head.
struct ScoreBreakdown {
    int query = -1;  ///< i; -1 when the head has no such pair (then all empty)
    int key = -1;    ///< j
    int d_k = 0;
    Vec q;                // (d_k): row i of Q
    Vec k;                // (d_k): row j of K
    Vec product;          // (d_k): q∘k, the terms of the dot product
    float dot = 0;        ///< Σ_d q_d·k_d
    float score = 0;      ///< scores(i, j) of the head (the score function's value; NaN without
                          ///< detail)
    float scaled = 0;     ///< scaled(i, j): after ÷√d_k and ÷ temperature (NaN without detail)
    float weight = 0;     ///< weights(i, j), the softmax weight
    bool masked = false;  ///< masked(i, j) is −∞: the mask hides key j from query i
    int rank = 0;         ///< 1 = the largest weight of row i; ties share the better rank
    std::vector<int> largest_terms;  ///< dimensions by |q_d·k_d|, largest first (lower d on a tie)
};

/// Takes score (query, key) of head apart; its Q (T_q, d_k), K (T_k, d_k) and weights
/// (T_q, T_k) are read, and scores/scaled/masked when the head kept them. A pair outside the
/// head gives an empty breakdown (query = key = -1).
ScoreBreakdown scoreBreakdown(const HeadTrace& head, int query, int key);

/// How the scaling step turned a score into the scaled score, read back from the two numbers.
enum class ScaleStep {
    Zero,                  ///< both are 0: nothing to read
    SqrtDk,                ///< ÷ √d_k
    SqrtDkAndTemperature,  ///< ÷ √d_k ÷ temperature
    Temperature,           ///< ÷ temperature only (√d_k off)
    Unscaled,              ///< unchanged
    Other                  ///< some other divisor (see ScaleReading::divisor)
};

struct ScaleReading {
    ScaleStep step = ScaleStep::Zero;
    double divisor = 0;  ///< score / scaled (0 when scaled is 0)
};

/// Names the divisor score / scaled given d_k and the temperature, to a relative 1e-3.
/// √d_k is tried first, so with d_k = 1 an unscaled head reads as SqrtDk.
ScaleReading readScale(float score, float scaled, int d_k, float temperature);

}  // namespace attn
