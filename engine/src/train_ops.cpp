// Forward and backward of each operation the training pass uses. The forwards compute exactly
// what attend(), applyNorm() and feedForward() compute (same formulas, same guards), so a model
// trained here runs unchanged in the inference forward.

#include "attn/train_ops.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace attn::train {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

Packing Packing::fromLengths(const std::vector<int>& lengths) {
    Packing p;
    int row = 0;
    for (int n : lengths) {
        p.begin.push_back(row);
        p.length.push_back(n);
        row += n;
    }
    return p;
}

Mat linearBackward(const Mat& X, const Mat& W, const Mat& dY, Mat& dW, RowVec* db) {
    dW.noalias() += X.transpose() * dY;
    if (db && db->size()) *db += dY.colwise().sum();
    return dY * W.transpose();
}

// --- norms -------------------------------------------------------------------------------------

void normForward(NormKind kind, const NormWeights& w, float eps, const Mat& x, Mat& y,
                 NormCache& cache) {
    const Eigen::Index N = x.rows(), d = x.cols();
    cache.xhat.resize(N, d);
    cache.rstd.resize(N);
    for (Eigen::Index i = 0; i < N; ++i) {
        auto row = x.row(i);
        if (kind == NormKind::LayerNorm) {
            const float mean = row.mean();
            RowVec c = row.array() - mean;
            const float var = c.squaredNorm() / static_cast<float>(d);
            const float r = 1.0f / std::sqrt(var + eps);
            cache.rstd(i) = r;
            cache.xhat.row(i) = c * r;
        } else {
            const float ms = row.squaredNorm() / static_cast<float>(d);
            const float r = 1.0f / std::sqrt(ms + eps);
            cache.rstd(i) = r;
            cache.xhat.row(i) = row * r;
        }
    }
    y = cache.xhat;
    if (w.gamma.size()) y.array().rowwise() *= w.gamma.array();
    if (w.beta.size()) y.rowwise() += w.beta;
}

void normBackward(NormKind kind, const NormWeights& w, const NormCache& cache, const Mat& dy,
                  Mat& dx, NormWeights& grad) {
    const Eigen::Index N = dy.rows(), d = dy.cols();
    if (grad.gamma.size()) grad.gamma += (dy.array() * cache.xhat.array()).colwise().sum().matrix();
    if (grad.beta.size()) grad.beta += dy.colwise().sum();
    Mat dxhat = dy;  // (N, d)
    if (w.gamma.size()) dxhat.array().rowwise() *= w.gamma.array();
    dx.resize(N, d);
    const float invD = 1.0f / static_cast<float>(d);
    for (Eigen::Index i = 0; i < N; ++i) {
        auto g = dxhat.row(i);
        auto xh = cache.xhat.row(i);
        const float dot = g.dot(xh) * invD;  // mean(dx̂ ∘ x̂)
        if (kind == NormKind::LayerNorm) {
            const float mean = g.mean();
            dx.row(i) = cache.rstd(i) * (g.array() - mean - xh.array() * dot).matrix();
        } else {
            dx.row(i) = cache.rstd(i) * (g.array() - xh.array() * dot).matrix();
        }
    }
}

// --- feed-forward ----------------------------------------------------------------------------

namespace {
float gelu(float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678f)); }
float geluGrad(float v) {
    const float cdf = 0.5f * (1.0f + std::erf(v * 0.70710678f));
    const float pdf = 0.3989422804f * std::exp(-0.5f * v * v);
    return cdf + v * pdf;
}
constexpr float kGc = 0.7978845608f, kGa = 0.044715f;
float geluTanh(float v) { return 0.5f * v * (1.0f + std::tanh(kGc * (v + kGa * v * v * v))); }
float geluTanhGrad(float v) {
    const float t = std::tanh(kGc * (v + kGa * v * v * v));
    return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kGc * (1.0f + 3.0f * kGa * v * v);
}
float silu(float v) { return v / (1.0f + std::exp(-v)); }
float siluGrad(float v) {
    const float s = 1.0f / (1.0f + std::exp(-v));
    return s * (1.0f + v * (1.0f - s));
}
}  // namespace

void ffnForward(Activation act, const FeedForwardWeights& w, const Mat& x, Mat& y, FfnCache& c) {
    c.x = x;
    c.pre.noalias() = x * w.W1.dense();  // (N, d_ff)
    if (w.b1.size()) c.pre.rowwise() += w.b1;
    switch (act) {
        case Activation::ReLU:
            c.hidden = c.pre.cwiseMax(0.0f);
            break;
        case Activation::GELU:
            c.hidden = c.pre.unaryExpr(&gelu);
            break;
        case Activation::GELUTanh:
            c.hidden = c.pre.unaryExpr(&geluTanh);
            break;
        case Activation::SwiGLU:
            c.gate.noalias() = x * w.W3.dense();
            c.hidden = c.pre.unaryExpr(&silu).cwiseProduct(c.gate);
            break;
    }
    y.noalias() = c.hidden * w.W2.dense();  // (N, d_model)
    if (w.b2.size()) y.rowwise() += w.b2;
}

void ffnBackward(Activation act, const FeedForwardWeights& w, const FfnCache& c, const Mat& dy,
                 Mat& dx, FeedForwardWeights& g) {
    const Mat dhidden = linearBackward(c.hidden, w.W2, dy, g.W2, &g.b2);  // (N, d_ff)
    Mat dpre;
    switch (act) {
        case Activation::ReLU:
            dpre = dhidden.cwiseProduct(
                c.pre.unaryExpr([](float v) { return v > 0.0f ? 1.0f : 0.0f; }));
            break;
        case Activation::GELU:
            dpre = dhidden.cwiseProduct(c.pre.unaryExpr(&geluGrad));
            break;
        case Activation::GELUTanh:
            dpre = dhidden.cwiseProduct(c.pre.unaryExpr(&geluTanhGrad));
            break;
        case Activation::SwiGLU: {
            const Mat dgate = dhidden.cwiseProduct(c.pre.unaryExpr(&silu));
            dpre = dhidden.cwiseProduct(c.gate).cwiseProduct(c.pre.unaryExpr(&siluGrad));
            dx = linearBackward(c.x, w.W3, dgate, g.W3, nullptr);
            dx += linearBackward(c.x, w.W1, dpre, g.W1, &g.b1);
            return;
        }
    }
    dx = linearBackward(c.x, w.W1, dpre, g.W1, &g.b1);
}

// --- attention -------------------------------------------------------------------------------

namespace {

// The same factor attend() applies: ÷√d_k for scaled dot products, ÷ temperature.
float scaleFactor(const AttentionConfig& c) {
    float f = 1.0f;
    if (c.scale && c.score == ScoreFunction::ScaledDot)
        f /= std::sqrt(static_cast<float>(c.d_head));
    if (c.temperature > 0.0f) f /= c.temperature;
    return f;
}

// RoPE on the packed rows, each sequence from position 0; inverse rotates back (the backward
// of a rotation is its transpose). Angles in double, as applyRope computes them.
void ropeRows(Mat& x, const Packing& p, int d_head, float theta, bool inverse) {
    for (int s = 0; s < p.count(); ++s) {
        for (int c = 0; c + 1 < x.cols(); c += 2) {
            const int pair = (c % d_head) / 2;
            const double w = std::pow(static_cast<double>(theta), -2.0 * pair / d_head);
            for (int t = 0; t < p.length[s]; ++t) {
                const double a = t * w;
                const float cs = static_cast<float>(std::cos(a));
                const float sn =
                    inverse ? -static_cast<float>(std::sin(a)) : static_cast<float>(std::sin(a));
                const int r = p.begin[s] + t;
                const float v0 = x(r, c), v1 = x(r, c + 1);
                x(r, c) = v0 * cs - v1 * sn;
                x(r, c + 1) = v0 * sn + v1 * cs;
            }
        }
    }
}

int kvHeadOf(const AttentionConfig& c, int h) {
    return c.projection == ProjectionMode::Embeddings ? h : h / (c.n_heads / c.n_kv_heads);
}

// Raw scores of one head, as attend() computes them. S (T_q, T_k).
void scores(const AttentionConfig& c, const AttentionWeights& w, int h, const Mat& q, const Mat& k,
            Mat& S) {
    switch (c.score) {
        case ScoreFunction::Dot:
        case ScoreFunction::ScaledDot:
            S.noalias() = q * k.transpose();
            break;
        case ScoreFunction::Cosine: {
            S.noalias() = q * k.transpose();
            const Vec qn = q.rowwise().norm(), kn = k.rowwise().norm();
            for (Eigen::Index j = 0; j < S.cols(); ++j)
                for (Eigen::Index i = 0; i < S.rows(); ++i)
                    S(i, j) /= std::max(qn(i) * kn(j), 1e-12f);
            break;
        }
        case ScoreFunction::General:
            S.noalias() = (q * w.W_general.at(h)) * k.transpose();
            break;
        case ScoreFunction::Additive: {
            const Mat a = q * w.W_add_q.at(h);  // (T_q, d_a)
            const Mat b = k * w.W_add_k.at(h);  // (T_k, d_a)
            const Vec& v = w.v_add.at(h);
            S.resize(q.rows(), k.rows());
            Eigen::ArrayXf tmp(a.cols());
            for (Eigen::Index j = 0; j < S.cols(); ++j)
                for (Eigen::Index i = 0; i < S.rows(); ++i) {
                    tmp = (a.row(i) + b.row(j)).array().tanh().transpose();
                    S(i, j) = (tmp * v.array()).sum();
                }
            break;
        }
    }
}

// Backward of the raw scores: given dS (T_q, T_k), adds into dq (T_q, d_head), dk (T_k, d_head)
// and the head's score weights.
void scoresBackward(const AttentionConfig& c, const AttentionWeights& w, int h, const Mat& q,
                    const Mat& k, const Mat& dS, Eigen::Ref<Mat> dq, Eigen::Ref<Mat> dk,
                    AttentionWeights& g) {
    switch (c.score) {
        case ScoreFunction::Dot:
        case ScoreFunction::ScaledDot:
            dq.noalias() += dS * k;
            dk.noalias() += dS.transpose() * q;
            break;
        case ScoreFunction::Cosine: {
            // S_ij = q_i·k_j / (|q_i||k_j|): ∂S_ij/∂q_i = k_j/(|q_i||k_j|) − S_ij q_i/|q_i|².
            const Vec qn = q.rowwise().norm(), kn = k.rowwise().norm();
            Mat G = dS;  // dS_ij / den_ij
            Mat S(q.rows(), k.rows());
            for (Eigen::Index j = 0; j < S.cols(); ++j)
                for (Eigen::Index i = 0; i < S.rows(); ++i) {
                    const float den = std::max(qn(i) * kn(j), 1e-12f);
                    S(i, j) = q.row(i).dot(k.row(j)) / den;
                    G(i, j) = dS(i, j) / den;
                }
            const Vec dsS = (dS.array() * S.array()).rowwise().sum();               // (T_q)
            const Vec dsSk = (dS.array() * S.array()).colwise().sum().transpose();  // (T_k)
            dq.noalias() += G * k;
            dk.noalias() += G.transpose() * q;
            for (Eigen::Index i = 0; i < q.rows(); ++i)
                dq.row(i) -= dsS(i) / std::max(qn(i) * qn(i), 1e-24f) * q.row(i);
            for (Eigen::Index j = 0; j < k.rows(); ++j)
                dk.row(j) -= dsSk(j) / std::max(kn(j) * kn(j), 1e-24f) * k.row(j);
            break;
        }
        case ScoreFunction::General: {
            const Mat& W = w.W_general.at(h);
            const Mat qW = q * W;    // (T_q, d_head)
            const Mat dSk = dS * k;  // (T_q, d_head)
            dq.noalias() += dSk * W.transpose();
            dk.noalias() += dS.transpose() * qW;
            g.W_general.at(h).noalias() += q.transpose() * dSk;
            break;
        }
        case ScoreFunction::Additive: {
            const Mat& W1 = w.W_add_q.at(h);  // (d_head, d_a)
            const Mat& W2 = w.W_add_k.at(h);
            const Vec& v = w.v_add.at(h);
            const Mat a = q * W1, b = k * W2;  // (T_q, d_a), (T_k, d_a)
            Mat da = Mat::Zero(a.rows(), a.cols()), db = Mat::Zero(b.rows(), b.cols());
            Vec& dv = g.v_add.at(h);
            Eigen::ArrayXf t(a.cols()), z(a.cols());
            for (Eigen::Index j = 0; j < dS.cols(); ++j)
                for (Eigen::Index i = 0; i < dS.rows(); ++i) {
                    const float gij = dS(i, j);
                    if (gij == 0.0f) continue;
                    t = (a.row(i) + b.row(j)).array().tanh().transpose();
                    dv.array() += gij * t;
                    z = gij * v.array() * (1.0f - t * t);
                    da.row(i) += z.matrix().transpose();
                    db.row(j) += z.matrix().transpose();
                }
            dq.noalias() += da * W1.transpose();
            dk.noalias() += db * W2.transpose();
            g.W_add_q.at(h).noalias() += q.transpose() * da;
            g.W_add_k.at(h).noalias() += k.transpose() * db;
            break;
        }
    }
}

// Hidden keys of one sequence: (T_q, T_k), true = hidden.
BoolMat hiddenOf(const AttentionMasking& m, int s, int T_q, int T_k) {
    BoolMat hidden = BoolMat::Constant(T_q, T_k, false);
    if (m.causal)
        for (int j = 0; j < T_k; ++j)
            for (int i = 0; i < T_q; ++i) hidden(i, j) = j > i + (T_k - T_q);
    if (!m.key_padding.empty()) {
        const auto& pad = m.key_padding.at(s);
        for (int j = 0; j < T_k && j < static_cast<int>(pad.size()); ++j)
            if (pad[j]) hidden.col(j).setConstant(true);
    }
    return hidden;
}

}  // namespace

void attentionForward(const AttentionConfig& c, const AttentionWeights& w, const Mat& Xq,
                      const Packing& pq, const Mat& Xkv, const Packing& pk,
                      const AttentionMasking& mask, Mat& out, AttentionCache& cache) {
    assert(pq.count() == pk.count());
    assert(c.temperature > 0.0f && "training needs a soft (temperature > 0) attention");
    const int H = c.n_heads, dh = c.d_head;
    cache.Xq = Xq;
    cache.Xkv = Xkv;
    // 1. Projections.
    if (c.projection == ProjectionMode::Embeddings) {
        cache.Q = Xq;
        cache.K = Xkv;
        cache.V = Xkv;
    } else {
        cache.Q.noalias() = Xq * w.W_Q.dense();
        if (w.b_Q.size()) cache.Q.rowwise() += w.b_Q;
        cache.K.noalias() = Xkv * w.W_K.dense();
        if (w.b_K.size()) cache.K.rowwise() += w.b_K;
        if (c.projection == ProjectionMode::QKV) {
            cache.V.noalias() = Xkv * w.W_V.dense();
            if (w.b_V.size()) cache.V.rowwise() += w.b_V;
        } else {
            cache.V.resize(0, 0);
        }
    }
    // Training runs our teaching models: adjacent RoPE pairs, no q/k norm (GGUF/HF only).
    assert(c.rope_pairs == RopePairs::Adjacent && c.rope_freq_factors.empty() &&
           w.q_norm.size() == 0 && w.k_norm.size() == 0);
    if (c.rope) {
        ropeRows(cache.Q, pq, dh, c.rope_theta, false);
        ropeRows(cache.K, pk, dh, c.rope_theta, false);
    }
    const Mat& V = c.projection == ProjectionMode::QK ? cache.K : cache.V;
    const float f = scaleFactor(c);
    cache.A.assign(static_cast<std::size_t>(pq.count()) * H, Mat());
    cache.concat.resize(Xq.rows(), H * dh);

    // 2. Every sequence and head: scores, scale, mask, softmax, weighted sum.
    for (int s = 0; s < pq.count(); ++s) {
        const int Tq = pq.length[s], Tk = pk.length[s];
        const BoolMat hidden = hiddenOf(mask, s, Tq, Tk);
        const bool anyHidden = hidden.any();
        for (int h = 0; h < H; ++h) {
            const int kv = kvHeadOf(c, h);
            const Mat q = cache.Q.block(pq.begin[s], h * dh, Tq, dh);
            const Mat k = cache.K.block(pk.begin[s], kv * dh, Tk, dh);
            Mat& A = cache.A[static_cast<std::size_t>(s) * H + h];
            scores(c, w, h, q, k, A);
            if (f != 1.0f) A *= f;
            if (anyHidden)
                for (int j = 0; j < Tk; ++j)
                    for (int i = 0; i < Tq; ++i)
                        if (hidden(i, j)) A(i, j) = kNegInf;
            softmaxRows(A);
            cache.concat.block(pq.begin[s], h * dh, Tq, dh).noalias() =
                A * V.block(pk.begin[s], kv * dh, Tk, dh);
        }
    }
    // 3. Output projection.
    if (c.projection == ProjectionMode::Embeddings || w.W_O.size() == 0) {
        out = cache.concat;
    } else {
        out.noalias() = cache.concat * w.W_O.dense();
        if (w.b_O.size()) out.rowwise() += w.b_O;
    }
}

void attentionBackward(const AttentionConfig& c, const AttentionWeights& w, const Packing& pq,
                       const Packing& pk, const AttentionMasking& mask, const AttentionCache& cache,
                       const Mat& dout, Mat& dXq, Mat& dXkv, AttentionWeights& g) {
    (void)mask;  // hidden entries have A = 0, so their gradient vanishes by itself
    const int H = c.n_heads, dh = c.d_head;
    const bool project = c.projection != ProjectionMode::Embeddings && w.W_O.size() != 0;
    // 3. Output projection.
    Mat dconcat;  // (N_q, H·dh)
    if (project)
        dconcat = linearBackward(cache.concat, w.W_O, dout, g.W_O, &g.b_O);
    else
        dconcat = dout;
    const bool qk = c.projection == ProjectionMode::QK;
    const Mat& V = qk ? cache.K : cache.V;
    Mat dQ = Mat::Zero(cache.Q.rows(), cache.Q.cols());
    Mat dK = Mat::Zero(cache.K.rows(), cache.K.cols());
    Mat dV = Mat::Zero(V.rows(), V.cols());
    const float f = scaleFactor(c);

    // 2. Every sequence and head, backwards.
    for (int s = 0; s < pq.count(); ++s) {
        const int Tq = pq.length[s], Tk = pk.length[s];
        for (int h = 0; h < H; ++h) {
            const int kv = kvHeadOf(c, h);
            const Mat& A = cache.A[static_cast<std::size_t>(s) * H + h];  // (Tq, Tk)
            const auto dO = dconcat.block(pq.begin[s], h * dh, Tq, dh);   // (Tq, dh)
            const auto v = V.block(pk.begin[s], kv * dh, Tk, dh);
            // O = A·V
            Mat dA = dO * v.transpose();  // (Tq, Tk)
            dV.block(pk.begin[s], kv * dh, Tk, dh).noalias() += A.transpose() * dO;
            // softmax: dS' = A ∘ (dA − Σ_j A∘dA); hidden entries have A = 0.
            const Vec rowDot = (A.array() * dA.array()).rowwise().sum();
            Mat dS = (A.array() * (dA.colwise() - rowDot).array()).matrix();
            if (f != 1.0f) dS *= f;
            const Mat q = cache.Q.block(pq.begin[s], h * dh, Tq, dh);
            const Mat k = cache.K.block(pk.begin[s], kv * dh, Tk, dh);
            scoresBackward(c, w, h, q, k, dS, dQ.block(pq.begin[s], h * dh, Tq, dh),
                           dK.block(pk.begin[s], kv * dh, Tk, dh), g);
        }
    }
    if (qk) dK += dV;
    if (c.rope) {
        ropeRows(dQ, pq, dh, c.rope_theta, true);
        ropeRows(dK, pk, dh, c.rope_theta, true);
    }
    // 1. Projections.
    if (c.projection == ProjectionMode::Embeddings) {
        dXq = std::move(dQ);
        dXkv = dK + dV;
        return;
    }
    dXq = linearBackward(cache.Xq, w.W_Q, dQ, g.W_Q, &g.b_Q);
    dXkv = linearBackward(cache.Xkv, w.W_K, dK, g.W_K, &g.b_K);
    if (!qk) dXkv += linearBackward(cache.Xkv, w.W_V, dV, g.W_V, &g.b_V);
}

double crossEntropy(const Mat& logits, const std::vector<int>& labels, Mat* dlogits, int* counted) {
    assert(static_cast<Eigen::Index>(labels.size()) == logits.rows());
    int n = 0;
    for (int y : labels) n += y >= 0;
    if (counted) *counted = n;
    if (dlogits) dlogits->setZero(logits.rows(), logits.cols());
    if (n == 0) return 0.0;
    double loss = 0.0;
    const float inv = 1.0f / static_cast<float>(n);
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        const int y = labels[static_cast<std::size_t>(i)];
        if (y < 0) continue;
        const auto row = logits.row(i);
        const float m = row.maxCoeff();
        const RowVec e = (row.array() - m).exp();
        const float sum = e.sum();
        loss += static_cast<double>(std::log(sum) + m - row(y));
        if (dlogits) {
            dlogits->row(i) = e * (inv / sum);
            (*dlogits)(i, y) -= inv;
        }
    }
    return loss / n;
}

}  // namespace attn::train
