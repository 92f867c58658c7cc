#include "attn/prediction.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attn {

std::vector<TokenProbability> topK(const RowVec& logits, int k) {
    std::vector<TokenProbability> out;
    const int n = static_cast<int>(logits.size());
    if (n == 0 || k <= 0) return out;
    const float max = logits.maxCoeff();
    if (!std::isfinite(max)) return out;
    // Σ exp(l − max) over every entry; only the k best need their own probability.
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits(i) - max));
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    const int kk = std::min(k, n);
    std::partial_sort(order.begin(), order.begin() + kk, order.end(), [&](int a, int b) {
        return logits(a) > logits(b) || (logits(a) == logits(b) && a < b);
    });
    out.reserve(static_cast<std::size_t>(kk));
    for (int i = 0; i < kk; ++i) {
        const int id = order[static_cast<std::size_t>(i)];
        out.push_back({id, static_cast<float>(std::exp(double(logits(id) - max)) / sum)});
    }
    return out;
}

std::vector<int> strongestColumns(const Mat& logits, int k) {
    std::vector<int> cols(static_cast<std::size_t>(logits.cols()));
    std::iota(cols.begin(), cols.end(), 0);
    if (logits.cols() > k && k >= 0) {
        const RowVec best = logits.colwise().maxCoeff();  // (vocab)
        std::partial_sort(cols.begin(), cols.begin() + k, cols.end(), [&](int a, int b) {
            return best(a) > best(b) || (best(a) == best(b) && a < b);
        });
        cols.resize(static_cast<std::size_t>(k));
        std::sort(cols.begin(), cols.end());
    }
    return cols;
}

}  // namespace attn
