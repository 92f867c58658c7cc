#pragma once
// A model's weights as a list of named tensors ("layers.0.self_attention.W_Q", the names of
// docs/MODEL_FORMAT.md), and a fresh seeded set of weights for a config. The teaching-model
// file format reads and writes through this list; training walks it for its optimiser.

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "attn/model.h"

namespace attn {

/// A view of one weight tensor (column-major data of a Mat, or a vector).
struct TensorRef {
    std::string name;  ///< "layers.0.self_attention.W_Q" (see docs/MODEL_FORMAT.md)
    float* data = nullptr;
    Eigen::Index rows = 0, cols = 0;
    bool vector = false;  ///< RowVec / Vec (stored 1-D)
    Eigen::Index size() const { return rows * cols; }
};
/// Every non-empty tensor of w, in a fixed order.
std::vector<TensorRef> tensorsOf(ModelWeights& w);
/// Same shapes, all zeros.
ModelWeights zerosLike(const ModelWeights& w);
/// Σ of squares of every element.
double squaredNorm(ModelWeights& w);

/// A fresh, seeded set of weights for config trained with attention, holding only the tensors
/// they use (no W_V in QK mode, no projections in Embeddings mode, W_general only for General,
/// …). Xavier-uniform matrices, N(0, 1) embeddings, zero biases, unit γ. Needs a vocabulary
/// (the hashed-embedding path is not trained).
ModelWeights initWeights(const ModelConfig& config, const AttentionKnobs& attention,
                         std::uint64_t seed, bool attention_bias = false);

/// How many values initWeights(config, attention, …, attention_bias) holds, counted without
/// allocating (64-bit: a config read from a file is checked with it before its weights are made).
std::uint64_t parameterCount(const ModelConfig& config, const AttentionKnobs& attention,
                             bool attention_bias = false);

}  // namespace attn
