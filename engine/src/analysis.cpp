#include "attn/analysis.h"

namespace attn {

std::vector<Mat> attentionRollout(const Trace& trace, bool decoder) {
    const auto& layers = decoder ? trace.decoder_layers : trace.layers;
    std::vector<Mat> out;
    Mat R;
    for (const LayerTrace& lt : layers) {
        const auto& heads = lt.self_attention.heads;
        if (heads.empty()) break;
        Mat A = Mat::Zero(heads[0].weights.rows(), heads[0].weights.cols());
        for (const HeadTrace& h : heads) A += h.weights;
        A /= static_cast<float>(heads.size());
        // The residual stream carries the token itself: half identity, then rows renormalised.
        A = 0.5f * A + 0.5f * Mat::Identity(A.rows(), A.cols());
        Vec sums = A.rowwise().sum();
        for (Eigen::Index i = 0; i < A.rows(); ++i)
            if (sums(i) > 0) A.row(i) /= sums(i);
        R = R.size() ? Mat(A * R) : A;
        out.push_back(R);
    }
    return out;
}

Mat meanOfHeads(const std::vector<Mat>& weights) {
    if (weights.empty()) return Mat();
    Mat A = Mat::Zero(weights.front().rows(), weights.front().cols());  // (T_q, T_k)
    for (const Mat& w : weights) A += w;
    return A / static_cast<float>(weights.size());
}

Mat valueContributions(const HeadTrace& head) {
    // ‖α_ij v_j‖ = α_ij ‖v_j‖ for α ≥ 0.
    const Vec vnorm = head.V.rowwise().norm();  // (T_k)
    Mat C = head.weights;
    for (Eigen::Index j = 0; j < C.cols(); ++j) C.col(j) *= vnorm(j);
    return C;
}

HeadSummary summarizeWeights(const Mat& A) {
    HeadSummary s;
    const Eigen::Index T = std::min(A.rows(), A.cols());
    if (T == 0) return s;
    double prev = 0, self = 0, first = 0;
    for (Eigen::Index i = 0; i < T; ++i) {
        self += A(i, i);
        first += A(i, 0);
        if (i > 0) prev += A(i, i - 1);
    }
    s.self = static_cast<float>(self / T);
    s.first_token = static_cast<float>(first / T);
    s.previous_token = T > 1 ? static_cast<float>(prev / (T - 1)) : 0.0f;
    s.entropy = rowEntropy(A).mean();
    return s;
}

std::vector<HeadSummary> summarizeHeads(const Trace& trace, bool decoder) {
    const auto& layers = decoder ? trace.decoder_layers : trace.layers;
    std::vector<HeadSummary> out;
    for (int l = 0; l < static_cast<int>(layers.size()); ++l) {
        const auto& heads = layers[l].self_attention.heads;
        for (int h = 0; h < static_cast<int>(heads.size()); ++h) {
            HeadSummary s = summarizeWeights(heads[h].weights);
            s.layer = l;
            s.head = h;
            out.push_back(s);
        }
    }
    return out;
}

HeadHabit habitOf(const HeadSummary& s, float threshold) {
    if (s.previous_token > threshold) return HeadHabit::PreviousToken;
    if (s.self > threshold) return HeadHabit::Self;
    if (s.first_token > threshold) return HeadHabit::FirstToken;
    return HeadHabit::None;
}

}  // namespace attn
