#pragma once
// The next token: the softmax of one row of logits and its k most likely entries.

#include <vector>

#include "attn/attention.h"

namespace attn {

/// One entry of a distribution over the vocabulary.
struct TokenProbability {
    int id = 0;             ///< vocabulary index (column of the logits)
    float probability = 0;  ///< softmax(logits)[id], 0..1
};

/// The k largest entries of softmax(logits), largest first; equal logits keep the lower id
/// first. logits: (vocab), one row of Trace::logits. The softmax subtracts the row maximum and
/// sums in double, so a vocabulary of 50k entries loses no probability mass to rounding.
/// Empty when logits is empty, k ≤ 0 or the largest logit is not finite; at most vocab entries.
std::vector<TokenProbability> topK(const RowVec& logits, int k);

/// The k vocabulary entries (columns of logits, (T, vocab)) that score highest for some
/// position, i.e. with the largest column maximum, in ascending id order; every column when
/// vocab ≤ k.
std::vector<int> strongestColumns(const Mat& logits, int k);

}  // namespace attn
