#pragma once
// The next token: the softmax of one row of logits and its k most likely entries.

#include <vector>

#include "attn/attention.h"
#include "attn/tokenizer.h"

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

/// The k vocabulary entries that score highest over the given rows of logits ((T, vocab); all
/// rows when rows is empty), best first: ordered by their largest score over those rows, ties
/// by lower id. Rows out of range are ignored. What the last step of a model shows, by score.
std::vector<int> columnsByScore(const Mat& logits, const std::vector<int>& rows, int k);

/// The positions of tokens whose id is mask_id (a masked-word model's [MASK]s), in order;
/// empty when mask_id < 0.
std::vector<int> maskPositions(const std::vector<Token>& tokens, int mask_id);

}  // namespace attn
