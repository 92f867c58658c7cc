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

std::vector<int> columnsByScore(const Mat& logits, const std::vector<int>& rows, int k) {
    std::vector<int> cols;
    if (logits.size() == 0 || k <= 0) return cols;
    std::vector<int> use;
    for (int r : rows)
        if (r >= 0 && r < logits.rows()) use.push_back(r);
    if (use.empty()) {
        use.resize(static_cast<std::size_t>(logits.rows()));
        std::iota(use.begin(), use.end(), 0);
    }
    RowVec best = logits.row(use.front());  // (vocab): the largest score over the rows
    for (std::size_t i = 1; i < use.size(); ++i) best = best.cwiseMax(logits.row(use[i]));
    cols.resize(static_cast<std::size_t>(logits.cols()));
    std::iota(cols.begin(), cols.end(), 0);
    const int kk = std::min<int>(k, static_cast<int>(logits.cols()));
    std::partial_sort(cols.begin(), cols.begin() + kk, cols.end(), [&](int a, int b) {
        return best(a) > best(b) || (best(a) == best(b) && a < b);
    });
    cols.resize(static_cast<std::size_t>(kk));
    return cols;
}

std::vector<int> maskPositions(const std::vector<Token>& tokens, int mask_id) {
    std::vector<int> out;
    if (mask_id < 0) return out;
    for (std::size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i].id == mask_id) out.push_back(static_cast<int>(i));
    return out;
}

}  // namespace attn
