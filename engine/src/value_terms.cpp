#include "attn/value_terms.h"

#include <cassert>

namespace attn {

ValueTerms valueTerms(const HeadTrace& head, int query) {
    ValueTerms out;
    if (query < 0 || query >= head.weights.rows() || head.V.rows() == 0) return out;
    assert(head.weights.cols() == head.V.rows());
    const Eigen::Index T_k = head.weights.cols();
    out.query = query;
    out.weights = head.weights.row(query).transpose();  // (T_k)
    out.terms.resize(T_k, head.V.cols());               // (T_k, d_v)
    for (Eigen::Index j = 0; j < T_k; ++j) out.terms.row(j) = out.weights(j) * head.V.row(j);
    out.norms = out.terms.rowwise().norm();  // (T_k)
    out.sum = out.terms.colwise().sum();     // (d_v)
    out.total_norm = out.norms.sum();
    if (T_k > 0) {
        Eigen::Index j = 0;
        out.norms.maxCoeff(&j);
        out.largest_term = static_cast<int>(j);
        out.weights.maxCoeff(&j);
        out.largest_weight = static_cast<int>(j);
    }
    return out;
}

}  // namespace attn
