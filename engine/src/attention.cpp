// Attention as the textbook writes it: scores, scaling, mask, softmax, weighted sum, one
// head at a time, then the heads side by side and the output projection. attend() hands the
// shapes real models use to the fast kernel (attention_fast.h); everything else, and every
// intermediate a person asks to see, is computed here step by step.

#include "attn/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "attention_fast.h"
#include "attn/positional_encoding.h"

namespace attn {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

template <class E>
bool parseEnum(const std::string& text, E* out, std::initializer_list<E> all) {
    for (E e : all) {
        if (toString(e) == text) {
            *out = e;
            return true;
        }
    }
    return false;
}
}  // namespace

std::string toString(ProjectionMode mode) {
    switch (mode) {
        case ProjectionMode::Embeddings:
            return "embeddings";
        case ProjectionMode::QK:
            return "qk";
        case ProjectionMode::QKV:
            return "qkv";
    }
    return "?";
}
std::string toString(ScoreFunction fn) {
    switch (fn) {
        case ScoreFunction::Dot:
            return "dot";
        case ScoreFunction::ScaledDot:
            return "scaled-dot";
        case ScoreFunction::Cosine:
            return "cosine";
        case ScoreFunction::General:
            return "general";
        case ScoreFunction::Additive:
            return "additive";
    }
    return "?";
}
std::string toString(MaskKind mask) {
    switch (mask) {
        case MaskKind::None:
            return "none";
        case MaskKind::Causal:
            return "causal";
        case MaskKind::Padding:
            return "padding";
        case MaskKind::Given:
            return "given";
    }
    return "?";
}
bool parseProjectionMode(const std::string& t, ProjectionMode* out) {
    return parseEnum(t, out, {ProjectionMode::Embeddings, ProjectionMode::QK, ProjectionMode::QKV});
}
bool parseScoreFunction(const std::string& t, ScoreFunction* out) {
    return parseEnum(t, out,
                     {ScoreFunction::Dot, ScoreFunction::ScaledDot, ScoreFunction::Cosine,
                      ScoreFunction::General, ScoreFunction::Additive});
}
bool parseMaskKind(const std::string& t, MaskKind* out) {
    return parseEnum(t, out, {MaskKind::None, MaskKind::Causal, MaskKind::Padding});
}

Status validate(const AttentionConfig& c) {
    std::ostringstream m;
    if (c.d_model <= 0) {
        m << "d_model must be positive (it is " << c.d_model << ").";
    } else if (c.n_heads <= 0) {
        m << "The number of heads must be positive (it is " << c.n_heads << ").";
    } else if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0) {
        m << c.n_heads << " query heads cannot share " << c.n_kv_heads
          << " key/value heads: the number of query heads must be a multiple of it.";
    } else if (c.d_head <= 0) {
        m << "The head size d_k must be positive (it is " << c.d_head << ").";
    } else if (c.projection == ProjectionMode::Embeddings &&
               std::int64_t{c.d_head} * c.n_heads != c.d_model) {
        m << "With raw embeddings as Q, K and V, d_model (" << c.d_model
          << ") must split evenly into " << c.n_heads << " heads.";
    } else if (!(c.temperature >= 0.0f) || !std::isfinite(c.temperature)) {
        m << "The temperature must be zero (hard look-up) or positive (it is " << c.temperature
          << ").";
    } else if (!c.rope_freq_factors.empty() &&
               c.rope_freq_factors.size() != static_cast<std::size_t>(c.d_head / 2)) {
        m << "RoPE needs one frequency factor per pair: " << c.rope_freq_factors.size()
          << " given for " << c.d_head / 2 << " pairs.";
    } else if (!(c.qk_norm_eps >= 0.0f)) {
        m << "The eps of the q/k norm must not be negative (it is " << c.qk_norm_eps << ").";
    } else if (c.rope && c.d_head % 2 != 0) {
        m << "Rotary positions (RoPE) need an even head size; d_k is " << c.d_head << ".";
    }
    if (m.tellp() > 0) return makeError(m.str());
    return Ok{};
}

void softmaxRows(Mat& S) {
    // Column-major: reduce row-wise into vectors, then update column by column so every pass
    // runs over contiguous memory (a row-at-a-time loop would stride through memory).
    const Eigen::Index T_q = S.rows();
    const Eigen::Index T_k = S.cols();
    if (T_q == 0 || T_k == 0) return;
    Vec rowMax = S.rowwise().maxCoeff();
    Vec shift = rowMax;
    for (Eigen::Index i = 0; i < T_q; ++i) {
        if (rowMax(i) == kNegInf) shift(i) = 0.0f;  // fully hidden row: exp(-inf) = 0
    }
    // Eigen's vector exp() gives a denormal (1e-39), not 0, for -inf with AVX2 or SSE (only
    // its AVX-512 one gives 0), which would leave hidden weights above 0 and spread a fully
    // hidden row evenly. So when anything is hidden, hidden entries are set to 0 one by one.
    const bool anyHidden = (S.rowwise().minCoeff().array() == kNegInf).any();
    for (Eigen::Index j = 0; j < T_k; ++j) {
        if (anyHidden)
            S.col(j) = (S.col(j).array() == kNegInf)
                           .select(0.0f, (S.col(j).array() - shift.array()).exp());
        else
            S.col(j).array() = (S.col(j).array() - shift.array()).exp();
    }
    Vec inv = S.rowwise().sum();
    for (Eigen::Index i = 0; i < T_q; ++i) inv(i) = inv(i) > 0.0f ? 1.0f / inv(i) : 0.0f;
    for (Eigen::Index j = 0; j < T_k; ++j) S.col(j).array() *= inv.array();
}

BoolMat buildMask(const MaskSpec& spec, int T_q, int T_k) {
    BoolMat hidden = BoolMat::Constant(T_q, T_k, false);
    switch (spec.kind) {
        case MaskKind::None:
            break;
        case MaskKind::Causal:
            // Query i is at position i + (T_k - T_q) of the key sequence; it sees that and before
            // (and, with a window, not window or more positions back).
            for (int j = 0; j < T_k; ++j)
                for (int i = 0; i < T_q; ++i) {
                    const int p = i + (T_k - T_q);
                    hidden(i, j) = j > p || (spec.window > 0 && j <= p - spec.window);
                }
            break;
        case MaskKind::Padding:
            for (int j = 0; j < T_k && j < static_cast<int>(spec.key_padding.size()); ++j)
                if (spec.key_padding[j]) hidden.col(j).setConstant(true);
            break;
        case MaskKind::Given:
            assert(spec.given.rows() == T_q && spec.given.cols() == T_k);
            hidden = spec.given;
            break;
    }
    return hidden;
}

Vec rowEntropy(const Mat& A) {
    Vec h = Vec::Zero(A.rows());
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
        for (Eigen::Index i = 0; i < A.rows(); ++i) {
            const float p = A(i, j);
            if (p > 0.0f) h(i) -= p * std::log(p);
        }
    }
    return h;
}

namespace {

// Raw scores of one head into S (T_q, T_k).
void computeScores(const AttentionConfig& c, const AttentionWeights& w, int head, const Mat& Q,
                   const Mat& K, Mat& S) {
    switch (c.score) {
        case ScoreFunction::Dot:
        case ScoreFunction::ScaledDot:
            S.noalias() = Q * K.transpose();
            break;
        case ScoreFunction::Cosine: {
            S.noalias() = Q * K.transpose();
            Vec qn = Q.rowwise().norm();
            Vec kn = K.rowwise().norm();
            for (Eigen::Index j = 0; j < S.cols(); ++j)
                for (Eigen::Index i = 0; i < S.rows(); ++i)
                    S(i, j) /= std::max(qn(i) * kn(j), 1e-12f);
            break;
        }
        case ScoreFunction::General:
            S.noalias() = (Q * w.W_general.at(head)) * K.transpose();
            break;
        case ScoreFunction::Additive: {
            const Mat A = Q * w.W_add_q.at(head);  // (T_q, d_a)
            const Mat B = K * w.W_add_k.at(head);  // (T_k, d_a)
            const Vec& v = w.v_add.at(head);       // (d_a)
            Eigen::ArrayXf tmp(A.cols());
            for (Eigen::Index j = 0; j < S.cols(); ++j)
                for (Eigen::Index i = 0; i < S.rows(); ++i) {
                    tmp = (A.row(i) + B.row(j)).array().tanh().transpose();
                    S(i, j) = (tmp * v.array()).sum();
                }
            break;
        }
    }
}

float scaleFactor(const AttentionConfig& c) {
    float f = 1.0f;
    if (c.scale && c.score == ScoreFunction::ScaledDot)
        f /= std::sqrt(static_cast<float>(c.d_head));
    if (c.temperature > 0.0f) f /= c.temperature;
    return f;
}

void applyMask(const BoolMat& hidden, Mat& S) {
    for (Eigen::Index j = 0; j < S.cols(); ++j)
        for (Eigen::Index i = 0; i < S.rows(); ++i)
            if (hidden(i, j)) S(i, j) = kNegInf;
}

void applyCausal(Mat& S) {
    const Eigen::Index off = S.cols() - S.rows();
    for (Eigen::Index j = 0; j < S.cols(); ++j) {
        const Eigen::Index first = std::max<Eigen::Index>(0, j - off);  // rows i < j - off hidden
        S.col(j).head(std::min<Eigen::Index>(first, S.rows())).setConstant(kNegInf);
    }
}

// Temperature 0: the hard look-up puts all weight on the best key of each row.
void hardArgmax(Mat& S) {
    for (Eigen::Index i = 0; i < S.rows(); ++i) {
        Eigen::Index best = -1;
        float bestV = kNegInf;
        for (Eigen::Index j = 0; j < S.cols(); ++j)
            if (S(i, j) > bestV) bestV = S(i, j), best = j;
        S.row(i).setZero();
        if (best >= 0) S(i, best) = 1.0f;
    }
}

void finishWeights(const AttentionConfig& c, Mat& S) {
    if (c.temperature == 0.0f)
        hardArgmax(S);
    else
        softmaxRows(S);
}

// Scaled + masked in place on S, given the raw scores in S.
void scaleAndMask(const AttentionConfig& c, const MaskSpec& mask, const BoolMat* hidden, Mat& S) {
    const float f = scaleFactor(c);
    if (f != 1.0f) S *= f;
    if (mask.kind == MaskKind::Causal)
        applyCausal(S);
    else if (mask.kind != MaskKind::None)
        applyMask(*hidden, S);
}

// A causal mask with a sliding window that hides something, as the Given mask it amounts to
// (the triangular fast paths know only the plain causal mask); else mask itself.
const MaskSpec& windowAsGiven(const MaskSpec& mask, int T_q, int T_k, MaskSpec& storage) {
    if (mask.kind != MaskKind::Causal || mask.window <= 0 || mask.window >= T_k) return mask;
    storage.kind = MaskKind::Given;
    storage.given = buildMask(mask, T_q, T_k);
    return storage;
}

// RMSNorm of every head's slice of every row of X (T, heads·d_head), gamma (d_head): Qwen3's
// q_norm/k_norm, the same arithmetic as applyNorm's RMSNorm.
void rmsNormHeads(Mat& X, const RowVec& gamma, float eps) {
    const Eigen::Index dh = gamma.size();
    assert(dh > 0 && X.cols() % dh == 0);
    for (Eigen::Index h = 0; h < X.cols() / dh; ++h) {
        auto block = X.middleCols(h * dh, dh);
        for (Eigen::Index t = 0; t < block.rows(); ++t) {
            auto row = block.row(t);
            const float ms = row.squaredNorm() / static_cast<float>(dh);
            row *= 1.0f / std::sqrt(ms + eps);
            row.array() *= gamma.array();
        }
    }
}

}  // namespace

AttentionTrace attend(const AttentionConfig& c, const AttentionWeights& w, const Mat& Xq,
                      const Mat& Xkv, const MaskSpec& maskIn, const AttendOptions& opt) {
    MaskSpec windowed;
    const int H = c.n_heads, dh = c.d_head;
    const int T_q = static_cast<int>(Xq.rows());
    const int T_k = static_cast<int>(Xkv.rows());
    assert(Xq.cols() == c.d_model && Xkv.cols() == c.d_model);
    const bool embeddings = c.projection == ProjectionMode::Embeddings;
    const bool outputProjection = !embeddings && w.W_O.size() != 0;

    // Work in multiply-adds; below about 100k the team's start-up costs more than it saves.
    const double projectionWork =
        embeddings ? 0.0
                   : static_cast<double>(T_q) * c.d_model * w.W_Q.cols() +
                         static_cast<double>(T_k) * c.d_model * (w.W_K.cols() + w.W_V.cols());
    const double outputWork =
        outputProjection ? static_cast<double>(T_q) * w.W_O.rows() * w.W_O.cols() : 0.0;
    const double work = projectionWork + 2.0 * H * static_cast<double>(T_q) * T_k * dh + outputWork;
    const bool parallel = work > 1e5 && omp_get_max_threads() > 1 && !omp_in_parallel();
    const int parts = parallel ? omp_get_max_threads() : 1;

    // 1. Projections. Q_all (T_q, H·dh), K_all/V_all (T_k, H_kv·dh): scratch that stays with
    // the calling thread (each head copies its slice into the trace). The raw-embeddings form
    // reads X itself (copied only when RoPE rotates it).
    fast::Scratch& scratch = fast::threadScratch();
    Mat& Q_all = scratch.Q_all;
    Mat& K_all = scratch.K_all;
    Mat& V_all = scratch.V_all;
    const Mat* Qsrc = &Q_all;
    const Mat* Ksrc = &K_all;
    const Mat* Vsrc = &V_all;
    std::vector<fast::ProjectionSlice> projections;
    if (embeddings) {
        if (c.rope) {
            Q_all = Xq;
            K_all = Xkv;
        } else {
            Qsrc = &Xq;
            Ksrc = &Xkv;
        }
        Vsrc = &Xkv;
    } else {
        fast::addProjection(projections, Xq, w.W_Q, w.b_Q, Q_all, parts, false);
        fast::addProjection(projections, Xkv, w.W_K, w.b_K, K_all, parts, false);
        if (c.projection == ProjectionMode::QKV)
            fast::addProjection(projections, Xkv, w.W_V, w.b_V, V_all, parts, false);
        else
            Vsrc = &K_all;  // QK: V = K (after RoPE, as before)
    }
    const int groups = embeddings ? 1 : H / c.n_kv_heads;

    const MaskSpec& mask = windowAsGiven(maskIn, T_q, T_k, windowed);
    BoolMat hidden;
    if (mask.kind == MaskKind::Padding || mask.kind == MaskKind::Given)
        hidden = buildMask(mask, T_q, T_k);
    // Dot products with a softmax go through the blocked kernel unless the full matrices of
    // every step are wanted; the other score functions and the hard look-up take the
    // step-by-step path.
    const bool blockedScores =
        (c.score == ScoreFunction::Dot || c.score == ScoreFunction::ScaledDot) &&
        c.temperature > 0.0f;

    AttentionTrace out;
    out.heads.resize(H);
    out.concat.resize(T_q, H * dh);
    std::vector<fast::ProjectionSlice> outputSlices;
    if (outputProjection)
        fast::addProjection(outputSlices, out.concat, w.W_O, w.b_O, out.projected, parts, true);

        // One team for the whole block: projection slices, then heads, then output slices, with a
        // barrier between; inside the team every product runs on one thread.
#pragma omp parallel if (parallel)
    {
        fast::Scratch& local = fast::threadScratch();  // this thread's scratch
#pragma omp for schedule(dynamic, 1)
        for (std::size_t i = 0; i < projections.size(); ++i) fast::runSlice(projections[i]);

        if (!embeddings && (w.q_norm.size() != 0 || w.k_norm.size() != 0)) {
#pragma omp single
            {
                if (w.q_norm.size() != 0) rmsNormHeads(Q_all, w.q_norm, c.qk_norm_eps);
                if (w.k_norm.size() != 0) rmsNormHeads(K_all, w.k_norm, c.qk_norm_eps);
            }
        }
        if (c.rope) {
#pragma omp single
            {
                applyRope(Q_all, dh, c.rope_theta, opt.q_position_offset, c.rope_pairs,
                          c.rope_freq_factors);
                applyRope(K_all, dh, c.rope_theta, 0, c.rope_pairs, c.rope_freq_factors);
            }
        }

        // 2. Every head on its own.
#pragma omp for schedule(dynamic, 1)
        for (int h = 0; h < H; ++h) {
            HeadTrace& ht = out.heads[h];
            const int kv = embeddings ? h : h / groups;
            ht.kv_head = kv;
            ht.enabled = opt.head_enabled.empty() || opt.head_enabled[h];
            fast::assignFresh(ht.Q, Qsrc->middleCols(h * dh, dh));
            fast::assignFresh(ht.K, Ksrc->middleCols(kv * dh, dh));
            fast::assignFresh(ht.V, Vsrc->middleCols(kv * dh, dh));
            const bool keep = opt.keep_detail || h == opt.focus_head;
            ht.detailed = keep;
            if (blockedScores && !keep) {
                fast::blockedHead(scaleFactor(c), mask, hidden, ht, local);
            } else {
                Mat& S = ht.weights;
                S.resize(T_q, T_k);
                computeScores(c, w, h, ht.Q, ht.K, S);
                if (keep) ht.scores = S;
                scaleAndMask(c, mask, &hidden, S);
                if (keep) {
                    // scaled = before the mask; recomputed cheaply from scores.
                    ht.masked = S;
                    ht.scaled = ht.scores * scaleFactor(c);
                }
                finishWeights(c, S);
                // 3. Weighted sum of values: (T_q, T_k)·(T_k, dh).
                if (ht.enabled)
                    ht.output.noalias() = S * ht.V;
                else
                    ht.output = Mat::Zero(T_q, dh);
            }
            // Fresh results fault in on the team, a head's columns at a time.
            fast::prepareFresh(out.concat.data() + h * dh * T_q, dh * T_q);
            out.concat.middleCols(h * dh, dh) = ht.output;
        }

        // 4. Output projection (skipped in the raw-embeddings form, which has no learned weights).
#pragma omp for schedule(dynamic, 1)
        for (std::size_t i = 0; i < outputSlices.size(); ++i) fast::runSlice(outputSlices[i]);
    }
    if (!outputProjection) out.projected = out.concat;
    scratch.trim();
    return out;
}

void attentionHeadDetail(const AttentionConfig& c, const AttentionWeights& w, int head,
                         const MaskSpec& maskIn, HeadTrace* ht) {
    if (ht->detailed) return;
    const int T_q = static_cast<int>(ht->Q.rows());
    const int T_k = static_cast<int>(ht->K.rows());
    MaskSpec windowed;
    const MaskSpec& mask = windowAsGiven(maskIn, T_q, T_k, windowed);
    ht->scores.resize(T_q, T_k);
    computeScores(c, w, head, ht->Q, ht->K, ht->scores);
    ht->scaled = ht->scores * scaleFactor(c);
    ht->masked = ht->scores;
    BoolMat hidden;
    if (mask.kind == MaskKind::Padding || mask.kind == MaskKind::Given)
        hidden = buildMask(mask, T_q, T_k);
    scaleAndMask(c, mask, &hidden, ht->masked);
    if (!ht->weights_kept) {
        // A trace over its memory budget dropped this head's weights too.
        ht->weights = ht->masked;
        finishWeights(c, ht->weights);
        ht->weights_kept = true;
    }
    ht->detailed = true;
}

}  // namespace attn
