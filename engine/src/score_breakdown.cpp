#include "attn/score_breakdown.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace attn {

namespace {

float at(const Mat& m, int r, int c) {
    return (r < m.rows() && c < m.cols()) ? m(r, c) : std::numeric_limits<float>::quiet_NaN();
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-3 * std::max(1.0, std::abs(b)); }

}  // namespace

ScoreBreakdown scoreBreakdown(const HeadTrace& head, int query, int key) {
    ScoreBreakdown b;
    if (query < 0 || key < 0 || query >= head.Q.rows() || key >= head.K.rows()) return b;
    b.query = query;
    b.key = key;
    b.d_k = static_cast<int>(head.Q.cols());
    b.q = head.Q.row(query).transpose();
    b.k = head.K.row(key).transpose();
    b.product = b.q.cwiseProduct(b.k);
    b.dot = b.product.sum();
    b.score = at(head.scores, query, key);
    b.scaled = at(head.scaled, query, key);
    b.weight = at(head.weights, query, key);
    const float m = at(head.masked, query, key);
    b.masked = std::isinf(m) && m < 0;
    b.rank = 1;
    if (query < head.weights.rows())
        for (Eigen::Index j = 0; j < head.weights.cols(); ++j)
            if (head.weights(query, j) > b.weight) ++b.rank;
    b.largest_terms.resize(static_cast<std::size_t>(b.d_k));
    std::iota(b.largest_terms.begin(), b.largest_terms.end(), 0);
    std::stable_sort(b.largest_terms.begin(), b.largest_terms.end(),
                     [&](int x, int y) { return std::abs(b.product(x)) > std::abs(b.product(y)); });
    return b;
}

ScaleReading readScale(float score, float scaled, int d_k, float temperature) {
    ScaleReading r;
    r.divisor = scaled != 0 ? static_cast<double>(score) / scaled : 0.0;
    if (score == 0 && scaled == 0) {
        r.step = ScaleStep::Zero;
        return r;
    }
    const double rootD = std::sqrt(static_cast<double>(d_k));
    if (near(r.divisor, rootD * temperature))
        r.step = temperature == 1.0f ? ScaleStep::SqrtDk : ScaleStep::SqrtDkAndTemperature;
    else if (near(r.divisor, temperature))
        r.step = temperature == 1.0f ? ScaleStep::Unscaled : ScaleStep::Temperature;
    else
        r.step = ScaleStep::Other;
    return r;
}

}  // namespace attn
