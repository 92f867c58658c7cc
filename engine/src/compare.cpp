#include "attn/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "attn/attention.h"

namespace attn {

MatrixDiff diffMatrices(const Mat& a, const Mat& b, int top_k) {
    MatrixDiff d;
    if (a.rows() != b.rows() || a.cols() != b.cols()) return d;
    d.same_shape = true;
    d.delta.resize(a.rows(), a.cols());
    std::vector<CellChange> cells;
    cells.reserve(static_cast<std::size_t>(a.size()));
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
        for (Eigen::Index j = 0; j < a.cols(); ++j) {
            const float x = a(i, j), y = b(i, j);
            if (!std::isfinite(x) || !std::isfinite(y)) {
                d.delta(i, j) = (x == y) ? 0.0f : std::numeric_limits<float>::quiet_NaN();
                continue;
            }
            const float delta = y - x;
            d.delta(i, j) = delta;
            d.max_abs = std::max(d.max_abs, std::abs(delta));
            cells.push_back({static_cast<int>(i), static_cast<int>(j), x, y, delta});
        }
    }
    if (top_k <= 0) return d;
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(top_k), cells.size());
    // Row-major order breaks ties so that the list does not depend on the sort's whims.
    auto larger = [](const CellChange& p, const CellChange& q) {
        const float ap = std::abs(p.delta), aq = std::abs(q.delta);
        if (ap != aq) return ap > aq;
        return p.row != q.row ? p.row < q.row : p.col < q.col;
    };
    std::partial_sort(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(k), cells.end(),
                      larger);
    d.largest.assign(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(k));
    return d;
}

namespace {

int argmaxOfRow(const Mat& m, Eigen::Index i) {
    int best = -1;
    float bestValue = 0;
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
        const float v = m(i, j);
        if (!std::isfinite(v)) continue;
        if (best < 0 || v > bestValue) {
            best = static_cast<int>(j);
            bestValue = v;
        }
    }
    // A row of zeros (fully masked) attends nowhere.
    return best >= 0 && bestValue > 0 ? best : -1;
}

}  // namespace

std::vector<RowChange> weightRowChanges(const Mat& a, const Mat& b) {
    std::vector<RowChange> out;
    if (a.rows() != b.rows() || a.cols() != b.cols()) return out;
    const Vec ea = rowEntropy(a), eb = rowEntropy(b);
    out.reserve(static_cast<std::size_t>(a.rows()));
    for (Eigen::Index i = 0; i < a.rows(); ++i)
        out.push_back({static_cast<int>(i), ea(i), eb(i), argmaxOfRow(a, i), argmaxOfRow(b, i)});
    return out;
}

}  // namespace attn
