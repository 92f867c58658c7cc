#pragma once
// Why attention divides by √d_k: a seeded Monte-Carlo study of how the spread of q·k and the
// sharpness of the softmax change with d_k, with and without the scaling. The "Why √d_k" view
// plots it; the math lives here so it can be tested without Qt.
//
// For every d_k: queries q and keys k with entries drawn from N(0, 1). Then q·k has mean 0 and
// variance d_k, so its std grows like √d_k; q·k / √d_k has std 1 whatever d_k is. A softmax over
// scores with a large spread puts almost all weight on one key (entropy → 0, max weight → 1),
// where its gradient vanishes.

#include <cstdint>
#include <vector>

#include "attn/result.h"

namespace attn {

struct ScalingStudyOptions {
    std::vector<int> dims = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
    int keys = 16;              ///< T_k: each softmax runs over this many keys
    int trials = 64;            ///< independent draws of K per d_k
    int queries_per_trial = 8;  ///< queries scored against each draw of K
    std::uint64_t seed = 1;     ///< same seed, same numbers (on every platform: own RNG + normals)
};

/// Statistics for one d_k. Scores are q·k (unscaled) or q·k/√d_k (scaled).
struct ScalingPoint {
    int d_k = 0;
    double std_unscaled = 0;         ///< std of q·k over every (query, key) pair
    double std_scaled = 0;           ///< std of q·k/√d_k
    double entropy_unscaled = 0;     ///< mean softmax row entropy (nats), unscaled scores
    double entropy_scaled = 0;       ///< the same with scaled scores
    double max_weight_unscaled = 0;  ///< mean largest softmax weight per row, unscaled
    double max_weight_scaled = 0;    ///< the same with scaled scores
};

struct ScalingStudy {
    ScalingStudyOptions options;
    std::vector<ScalingPoint> points;  ///< one per options.dims, in that order
    double max_entropy = 0;            ///< ln(keys): the entropy of uniform weights
};

/// Runs the study. Each d_k draws from its own stream derived from (seed, d_k), so adding or
/// removing a d_k does not change the numbers of the others. Bad options (d_k < 1, fewer than
/// 2 keys, no samples, more than 4096 dims or keys) give an error saying what to change.
Result<ScalingStudy> scalingStudy(const ScalingStudyOptions& options = {});

}  // namespace attn
