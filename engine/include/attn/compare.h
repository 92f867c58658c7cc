#pragma once
// Two runs side by side: the difference B − A of a matrix both runs share in shape, its largest
// changes, and for attention weights the per-row change in entropy and in the arg-max key.

#include <vector>

#include "attn/weight.h"

namespace attn {

/// One cell of a difference: where it is, both values and Δ = b − a.
struct CellChange {
    int row = 0;
    int col = 0;
    float a = 0;
    float b = 0;
    float delta = 0;
};

/// B − A of two matrices. Cells where either side is not finite (−∞ of a mask) compare only
/// when both are the same infinity (Δ = 0); otherwise Δ is NaN (drawn grey) and the cell is left
/// out of the largest changes, as "−∞ − 3" is no change a person can read as a number.
struct MatrixDiff {
    bool same_shape = false;          ///< false: nothing else is set
    Mat delta;                        ///< (rows, cols) = b − a
    float max_abs = 0;                ///< largest |Δ| over comparable cells
    std::vector<CellChange> largest;  ///< up to top_k cells by |Δ|, largest first (ties: row-major)
};

/// B − A with the top_k largest changes (top_k ≤ 0: none listed).
MatrixDiff diffMatrices(const Mat& a, const Mat& b, int top_k = 10);

/// How one query row's attention moved between two runs.
struct RowChange {
    int row = 0;
    float entropy_a = 0;  ///< nats
    float entropy_b = 0;
    int argmax_a = 0;  ///< key with the largest weight (the first of equal ones); -1 for a zero row
    int argmax_b = 0;
    float entropyDelta() const { return entropy_b - entropy_a; }
    bool argmaxMoved() const { return argmax_a != argmax_b; }
};

/// Per-row entropy and arg-max key of two weight matrices of the same shape, (T_q, T_k): row =
/// query token. Empty when the shapes differ.
std::vector<RowChange> weightRowChanges(const Mat& a, const Mat& b);

}  // namespace attn
