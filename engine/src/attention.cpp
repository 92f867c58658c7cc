#include "attn/attention.h"

#include <omp.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <vector>

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
        case ProjectionMode::Embeddings: return "embeddings";
        case ProjectionMode::QK: return "qk";
        case ProjectionMode::QKV: return "qkv";
    }
    return "?";
}
std::string toString(ScoreFunction fn) {
    switch (fn) {
        case ScoreFunction::Dot: return "dot";
        case ScoreFunction::ScaledDot: return "scaled-dot";
        case ScoreFunction::Cosine: return "cosine";
        case ScoreFunction::General: return "general";
        case ScoreFunction::Additive: return "additive";
    }
    return "?";
}
std::string toString(MaskKind mask) {
    switch (mask) {
        case MaskKind::None: return "none";
        case MaskKind::Causal: return "causal";
        case MaskKind::Padding: return "padding";
        case MaskKind::Given: return "given";
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
    } else if (c.projection == ProjectionMode::Embeddings && c.d_head * c.n_heads != c.d_model) {
        m << "With raw embeddings as Q, K and V, d_model (" << c.d_model
          << ") must split evenly into " << c.n_heads << " heads.";
    } else if (!(c.temperature >= 0.0f) || !std::isfinite(c.temperature)) {
        m << "The temperature must be zero (hard look-up) or positive (it is " << c.temperature
          << ").";
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
        case MaskKind::None: break;
        case MaskKind::Causal:
            // Query i is at position i + (T_k - T_q) of the key sequence; it sees that and before.
            for (int j = 0; j < T_k; ++j)
                for (int i = 0; i < T_q; ++i) hidden(i, j) = j > i + (T_k - T_q);
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
    if (c.scale && c.score == ScoreFunction::ScaledDot) f /= std::sqrt(static_cast<float>(c.d_head));
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

// ---- The fast path: the shapes real models use, timed by tests/bench/bench_attention.cpp ----

Eigen::Index roundUp(Eigen::Index x, Eigen::Index to) { return (x + to - 1) / to * to; }

// -- Memory. A page touched for the first time costs a fault (about 2 µs per 4 KiB on these
// machines), and glibc hands big freed blocks back to the kernel, so memory that is
// allocated afresh on every call is faulted in afresh on every call: at 512 tokens that was
// 10 ms of a 35 ms pass on one core. Scratch stays with its thread; big results ask for
// 2 MiB pages.

// An Eigen product expression allocates its packing buffers on every call (1.5 MiB for the
// projections at 512 tokens, 6 MiB at 2048): a third of all page faults of a pass. These
// products call the same kernel (Eigen::internal::general_matrix_matrix_product, unchanged
// since Eigen 3.3) with packing buffers that live as long as the thread.

struct PackingBuffers {
    Eigen::VectorXf lhs, rhs;  // Eigen-aligned, grown on demand, never shrunk
};

PackingBuffers& threadPackingBuffers() {
    thread_local PackingBuffers buffers;
    return buffers;
}

class PersistentBlocking : public Eigen::internal::level3_blocking<float, float> {
public:
    PersistentBlocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
        using Traits = Eigen::internal::gebp_traits<float, float>;
        Eigen::Index kc = depth, mc = rows, nc = cols;
        Eigen::internal::computeProductBlockingSizes<float, float>(kc, mc, nc, Eigen::Index(1));
        // Eigen reads a 384 MiB L3 on these VMs and would pack all rows of X (6 MiB at 2048
        // tokens) or all of a wide W at once. About 512 rows keep the packed block of X in L2;
        // both buffers stay at a few MiB per thread whatever the model.
        mc = std::min<Eigen::Index>(
            mc, std::max<Eigen::Index>(Traits::mr, 512 / Traits::mr * Traits::mr));
        const Eigen::Index ncMax = (1 << 20) / kc / Traits::nr * Traits::nr;
        nc = std::min<Eigen::Index>(nc, std::max<Eigen::Index>(Traits::nr, ncMax));
        PackingBuffers& b = threadPackingBuffers();
        if (b.lhs.size() < kc * mc) b.lhs.resize(kc * mc);
        if (b.rhs.size() < kc * nc) b.rhs.resize(kc * nc);
        m_kc = kc;
        m_mc = mc;
        m_nc = nc;
        m_blockA = b.lhs.data();
        m_blockB = b.rhs.data();
    }
};

// C += alpha·(A·B). C (rows, cols) column-major with column stride ldc; A (rows, depth)
// column-major with stride lda; B (depth, cols) with stride ldb, column-major or (RhsOrder =
// RowMajor) row-major, which is how Kᵀ reads K in place. The kernel sums A·B in float and
// then scales it, so with a depth that fits one of its depth blocks (any head size does)
// alpha·(A·B) is exactly what a product followed by `*= alpha` gives.
template <int RhsOrder>
void addProduct(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, const float* A,
                Eigen::Index lda, const float* B, Eigen::Index ldb, float* C, Eigen::Index ldc,
                float alpha = 1.0f) {
    using Kernel =
        Eigen::internal::general_matrix_matrix_product<Eigen::Index, float, Eigen::ColMajor, false,
                                                       float, RhsOrder, false, Eigen::ColMajor, 1>;
    if (rows == 0 || cols == 0 || depth == 0) return;
    PersistentBlocking blocking(rows, cols, depth);
    Kernel::run(rows, cols, depth, A, lda, B, ldb, C, 1, ldc, alpha, blocking);
}

// Scratch matrices that stay with their thread from call to call, for the same reason.
struct Scratch {
    Mat Q_all, K_all, V_all;  // the calling thread's projections (T, H·d_head)
    Mat scores;               // a worker's score block (block rows, T_k) in blockedHead

    // Gives back what a very long input left behind (more than 64 MiB of projections).
    void trim() {
        constexpr Eigen::Index kKeepFloats = 16 << 20;
        if (Q_all.size() + K_all.size() + V_all.size() > kKeepFloats) {
            Q_all = Mat();
            K_all = Mat();
            V_all = Mat();
        }
    }
};

Scratch& threadScratch() {
    thread_local Scratch scratch;
    return scratch;
}

// Asks Linux to back a large buffer that is about to be written for the first time with 2 MiB
// pages: one page fault per 2 MiB instead of 512. The weights of 2048 tokens (200 MB) fault
// in about 3× faster. Only advice: where it is not followed nothing changes.
void preferHugePages(float* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
    if (bytes < 2 * kHuge) return;
    const auto p = reinterpret_cast<std::uintptr_t>(data);
    const std::uintptr_t first = (p + kHuge - 1) & ~(kHuge - 1);
    const std::uintptr_t last = (p + bytes) & ~(kHuge - 1);
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
    (void)data;
    (void)bytes;
#endif
}

// -- Blocked heads.

// Lanes of the blocked softmax: a block of query rows is stored column-major, so one column
// holds kLanes consecutive query rows and the row-wise softmax runs across lanes (a whole
// AVX-512 register; two AVX2 or four SSE registers elsewhere).
constexpr Eigen::Index kLanes = 16;
using Lanes = Eigen::Array<float, kLanes, 1>;
using LanesMap = Eigen::Map<Lanes, Eigen::AlignedMax>;
using StridedBlock = Eigen::Map<Mat, 0, Eigen::OuterStride<>>;

// Stores kLanes floats at a 64-byte aligned address without reading the line into the cache
// first (x86 non-temporal stores); elsewhere an ordinary store.
#if defined(__AVX512F__)
constexpr bool kCanStream = true;
inline void streamLanes(float* dst, const LanesMap& x) {
    _mm512_stream_ps(dst, _mm512_load_ps(x.data()));
}
#elif defined(__AVX__)
constexpr bool kCanStream = true;
inline void streamLanes(float* dst, const LanesMap& x) {
    _mm256_stream_ps(dst, _mm256_load_ps(x.data()));
    _mm256_stream_ps(dst + 8, _mm256_load_ps(x.data() + 8));
}
#else
constexpr bool kCanStream = false;
inline void streamLanes(float* dst, const LanesMap& x) {
    Eigen::Map<Lanes> out(dst);
    out = x;
}
#endif
// A head's weights larger than this (floats: 16 MiB) cannot stay in the cache anyway, so they
// bypass it (at 2048 tokens the softmax takes 31 ms instead of 54 on one core); smaller ones
// are stored normally and stay in L3 for whoever reads them next.
constexpr Eigen::Index kStreamFloats = 4 << 20;

// Query rows per block: the (rows, T_k) score block is computed, turned into weights and
// multiplied by V before the next block starts, so the (T_q, T_k) weights go out to memory
// once. Every block repacks K and V for the products, so blocks are tall: 256 rows (at 2048
// tokens the score product takes about 15% longer with 128 rows, 35% with 64), fewer when
// T_k is so long that a block would pass 4 MiB.
Eigen::Index blockRows(Eigen::Index T_q, Eigen::Index T_k) {
    constexpr Eigen::Index kMaxRows = 256;
    constexpr Eigen::Index kMaxFloats = 1 << 20;
    const Eigen::Index fit = kMaxFloats / std::max<Eigen::Index>(T_k, 1) / kLanes * kLanes;
    const Eigen::Index rows = std::clamp<Eigen::Index>(fit, kLanes, kMaxRows);
    return std::min(rows, roundUp(T_q, kLanes));
}

// Dot-product scores, scaling, mask, softmax and weights·V of one head, a block of query rows
// at a time (the arithmetic of scaleAndMask + softmaxRows, element for element). Fills
// ht.weights (T_q, T_k) and ht.output (T_q, d_head) from ht.Q, ht.K, ht.V. S is the calling
// thread's scratch, reused from head to head.
void blockedHead(const AttentionConfig& c, const MaskSpec& mask, const BoolMat& hidden,
                 HeadTrace& ht, Mat& S) {
    const Eigen::Index T_q = ht.Q.rows(), T_k = ht.K.rows(), dh = ht.Q.cols();
    const float f = scaleFactor(c);  // > 0: temperature 0 takes the reference path
    Mat& A = ht.weights;
    A.resize(T_q, T_k);
    preferHugePages(A.data(), static_cast<std::size_t>(A.size()) * sizeof(float));
    if (ht.enabled)
        ht.output.resize(T_q, dh);
    else
        ht.output = Mat::Zero(T_q, dh);
    if (T_q == 0) return;
    if (T_k == 0) {
        ht.output.setZero();
        return;
    }
    const Eigen::Index bp = blockRows(T_q, T_k);
    // (bp, T_k): scores of one block of query rows. In the last block, rows past its end are
    // padding whose lanes are computed and thrown away (zeroed first, so they stay finite).
    S.resize(bp, T_k);
    const Eigen::Index offset = T_k - T_q;  // causal: query i sees keys j ≤ i + offset
    // The weights are written once and not read again here: large ones bypass the cache.
    const bool streamable = kCanStream && T_q * T_k >= kStreamFloats && T_q % kLanes == 0 &&
                            reinterpret_cast<std::uintptr_t>(A.data()) % 64 == 0;
    for (Eigen::Index i0 = 0; i0 < T_q; i0 += bp) {
        const Eigen::Index m = std::min(bp, T_q - i0);
        if (m % kLanes) S.middleRows(m, roundUp(m, kLanes) - m).setZero();
        StridedBlock Sb(S.data(), m, T_k, Eigen::OuterStride<>(bp));
        // Scaled scores (m, T_k) = f·(Q rows (m, dh) · Kᵀ (dh, T_k)).
        Sb.setZero();
        addProduct<Eigen::RowMajor>(m, T_k, dh, ht.Q.data() + i0, T_q, ht.K.data(), T_k, S.data(),
                                    bp, f);
        if (mask.kind == MaskKind::Causal) {
            for (Eigen::Index j = 0; j < T_k; ++j) {
                const Eigen::Index n = std::clamp<Eigen::Index>(j - offset - i0, 0, m);
                Sb.col(j).head(n).setConstant(kNegInf);
            }
        } else if (mask.kind != MaskKind::None) {
            for (Eigen::Index j = 0; j < T_k; ++j)
                for (Eigen::Index r = 0; r < m; ++r)
                    if (hidden(i0 + r, j)) Sb(r, j) = kNegInf;
        }
        // Softmax of each row, kLanes rows at a time: three passes over the block's columns.
        // Hidden weights are set to exactly 0 after exp(), as in softmaxRows (AVX2 and SSE
        // give a denormal for exp(-inf)); i is the lane group's first row.
        const auto zeroHidden = [&](Eigen::Index i, Eigen::Index j, float* x) {
            if (mask.kind == MaskKind::Causal) {
                std::fill_n(x, std::clamp<Eigen::Index>(j - offset - i, 0, kLanes), 0.0f);
            } else {
                for (Eigen::Index r = 0; r < kLanes && i + r < T_q; ++r)
                    if (hidden(i + r, j)) x[r] = 0.0f;
            }
        };
        for (Eigen::Index p = 0; p < m; p += kLanes) {
            float* base = S.data() + p;
            Lanes rowMax = Lanes::Constant(kNegInf);
            for (Eigen::Index j = 0; j < T_k; ++j) rowMax = rowMax.max(LanesMap(base + j * bp));
            // A fully hidden row keeps its -inf: exp(-inf - 0) = 0 and its weights stay 0.
            const Lanes shift = (rowMax == kNegInf).select(Lanes::Zero(), rowMax);
            Lanes sum = Lanes::Zero();
            for (Eigen::Index j = 0; j < T_k; ++j) {
                LanesMap x(base + j * bp);
                x = (x - shift).exp();
                if (mask.kind != MaskKind::None) zeroHidden(i0 + p, j, base + j * bp);
                sum += x;
            }
            const Lanes inv = (sum > 0.0f).select(Lanes::Ones() / sum, Lanes::Zero());
            const Eigen::Index lanes = std::min(kLanes, m - p);
            float* dst = A.data() + i0 + p;
            if (lanes == kLanes && streamable) {
                for (Eigen::Index j = 0; j < T_k; ++j) {
                    LanesMap x(base + j * bp);
                    x *= inv;
                    streamLanes(dst + j * T_q, x);
                }
            } else if (lanes == kLanes) {
                for (Eigen::Index j = 0; j < T_k; ++j) {
                    LanesMap x(base + j * bp);
                    x *= inv;
                    Eigen::Map<Lanes> out(dst + j * T_q);
                    out = x;
                }
            } else {
                for (Eigen::Index j = 0; j < T_k; ++j)
                    for (Eigen::Index r = 0; r < lanes; ++r)
                        dst[j * T_q + r] = base[j * bp + r] *= inv(r);
            }
        }
        // Weighted sum of values: (m, T_k)·(T_k, dh), from the block while it is in cache.
        if (ht.enabled) {
            ht.output.middleRows(i0, m).setZero();
            addProduct<Eigen::ColMajor>(m, dh, T_k, S.data(), bp, ht.V.data(), T_k,
                                        ht.output.data() + i0, T_q);
        }
    }
#if defined(__AVX__)
    if (streamable) _mm_sfence();  // the streamed weights are visible before the head is done
#endif
}

// -- Projections.

// Short inputs (one token at a time, a short sentence) project a few rows. Eigen's product
// packs all of W before multiplying, which costs more than the product itself when X has a
// handful of rows (0.14 ms for 8×768·768×768, the same as for 16 rows). These few-row
// products read each column of W once, straight from cache, as dot products along k with a
// tile of rows × 2 columns of Y in registers (3× Eigen's speed at 8 rows).
constexpr Eigen::Index kSmallRows = 16;
// Floats in one native vector register (16 with AVX-512, 8 with AVX, 4 with SSE or NEON).
constexpr Eigen::Index kVec = EIGEN_MAX_ALIGN_BYTES >= 16 ? EIGEN_MAX_ALIGN_BYTES / 4 : 4;
using Chunk = Eigen::Array<float, kVec, 1>;
using ConstChunkMap = Eigen::Map<const Chunk>;

// Y(r, c) = dot(xt column r, W column c) for R rows and C columns; xt is Xᵀ (K, rows) so a
// row of X is contiguous. y points at Y(0, 0) of the tile, ldy is Y's column stride.
template <int R, int C>
void dotTile(const float* xt, const float* w, Eigen::Index K, float* y, Eigen::Index ldy) {
    Chunk acc[R][C];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[r][c].setZero();
    const Eigen::Index K0 = K / kVec * kVec;
    for (Eigen::Index k = 0; k < K0; k += kVec) {
        Chunk wv[C];
        for (int c = 0; c < C; ++c) wv[c] = ConstChunkMap(w + c * K + k);
        for (int r = 0; r < R; ++r) {
            const Chunk xv = ConstChunkMap(xt + r * K + k);
            for (int c = 0; c < C; ++c) acc[r][c] += xv * wv[c];
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
            float sum = acc[r][c].sum();
            for (Eigen::Index k = K0; k < K; ++k) sum += xt[r * K + k] * w[c * K + k];
            y[r + c * ldy] = sum;
        }
}

template <int R>
void dotRows(const float* xt, const Mat& W, Eigen::Index c0, Eigen::Index n, float* y,
             Eigen::Index ldy) {
    const Eigen::Index K = W.rows();
    Eigen::Index c = 0;
    for (; c + 2 <= n; c += 2) dotTile<R, 2>(xt, W.data() + (c0 + c) * K, K, y + c * ldy, ldy);
    if (c < n) dotTile<R, 1>(xt, W.data() + (c0 + c) * K, K, y + c * ldy, ldy);
}

// Y.middleCols(c0, n) = X · W.middleCols(c0, n) for X (T, K) with T ≤ kSmallRows.
void fewRowsProduct(const Mat& X, const Mat& W, Eigen::Index c0, Eigen::Index n, Mat& Y) {
    const Mat Xt = X.transpose();  // (K, T): row t of X is column t here
    const Eigen::Index T = X.rows(), K = X.cols();
    for (Eigen::Index r0 = 0; r0 < T; r0 += 8) {
        const float* xt = Xt.data() + r0 * K;
        float* y = Y.data() + r0 + c0 * Y.rows();
        switch (std::min<Eigen::Index>(8, T - r0)) {
            case 8: dotRows<8>(xt, W, c0, n, y, Y.rows()); break;
            case 7: dotRows<7>(xt, W, c0, n, y, Y.rows()); break;
            case 6: dotRows<6>(xt, W, c0, n, y, Y.rows()); break;
            case 5: dotRows<5>(xt, W, c0, n, y, Y.rows()); break;
            case 4: dotRows<4>(xt, W, c0, n, y, Y.rows()); break;
            case 3: dotRows<3>(xt, W, c0, n, y, Y.rows()); break;
            case 2: dotRows<2>(xt, W, c0, n, y, Y.rows()); break;
            default: dotRows<1>(xt, W, c0, n, y, Y.rows()); break;
        }
    }
}

// One slice of a projection: Y.middleCols(c0, n) = X · W.middleCols(c0, n) + b.segment(c0, n).
struct ProjectionSlice {
    const Mat* X;
    const Mat* W;
    const RowVec* b;
    Mat* Y;
    Eigen::Index c0, n;
};

// Splits Y = X·W + b into column slices, `parts` of them (multiples of kLanes columns), and
// sizes Y. Slices of different matrices share nothing and run in parallel.
void addProjection(std::vector<ProjectionSlice>& slices, const Mat& X, const Mat& W,
                   const RowVec& b, Mat& Y, int parts) {
    Y.resize(X.rows(), W.cols());
    preferHugePages(Y.data(), static_cast<std::size_t>(Y.size()) * sizeof(float));
    const Eigen::Index step = roundUp((W.cols() + parts - 1) / parts, kLanes);
    for (Eigen::Index c0 = 0; c0 < W.cols(); c0 += step)
        slices.push_back({&X, &W, &b, &Y, c0, std::min(step, W.cols() - c0)});
}

void runSlice(const ProjectionSlice& s) {
    auto Y = s.Y->middleCols(s.c0, s.n);
    const bool bias = s.b->size() != 0;
    if (s.X->rows() <= kSmallRows) {
        fewRowsProduct(*s.X, *s.W, s.c0, s.n, *s.Y);
        // Column by column (contiguous); `Y.rowwise() += b` would stride through memory.
        if (bias)
            for (Eigen::Index j = 0; j < s.n; ++j) Y.col(j).array() += (*s.b)(s.c0 + j);
        return;
    }
    // Y starts as the bias and the product adds X·W to it: (X·W) + b, rounded the same way
    // while d_model fits one of Eigen's depth blocks (768 does).
    for (Eigen::Index j = 0; j < s.n; ++j) Y.col(j).setConstant(bias ? (*s.b)(s.c0 + j) : 0.0f);
    const Eigen::Index T = s.X->rows(), K = s.X->cols();
    addProduct<Eigen::ColMajor>(T, s.n, K, s.X->data(), T, s.W->data() + s.c0 * K, K, Y.data(), T);
}

}  // namespace

AttentionTrace attend(const AttentionConfig& c, const AttentionWeights& w, const Mat& Xq,
                      const Mat& Xkv, const MaskSpec& mask, const AttendOptions& opt) {
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
    Scratch& scratch = threadScratch();
    Mat& Q_all = scratch.Q_all;
    Mat& K_all = scratch.K_all;
    Mat& V_all = scratch.V_all;
    const Mat* Qsrc = &Q_all;
    const Mat* Ksrc = &K_all;
    const Mat* Vsrc = &V_all;
    std::vector<ProjectionSlice> projections;
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
        addProjection(projections, Xq, w.W_Q, w.b_Q, Q_all, parts);
        addProjection(projections, Xkv, w.W_K, w.b_K, K_all, parts);
        if (c.projection == ProjectionMode::QKV)
            addProjection(projections, Xkv, w.W_V, w.b_V, V_all, parts);
        else
            Vsrc = &K_all;  // QK: V = K (after RoPE, as before)
    }
    const int groups = embeddings ? 1 : H / c.n_kv_heads;

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
    preferHugePages(out.concat.data(), static_cast<std::size_t>(out.concat.size()) * sizeof(float));
    std::vector<ProjectionSlice> outputSlices;
    if (outputProjection)
        addProjection(outputSlices, out.concat, w.W_O, w.b_O, out.projected, parts);

    // One team for the whole block: projection slices, then heads, then output slices, with a
    // barrier between; inside the team every product runs on one thread.
#pragma omp parallel if (parallel)
    {
        Mat& scores = threadScratch().scores;  // this thread's score block
#pragma omp for schedule(dynamic, 1)
        for (std::size_t i = 0; i < projections.size(); ++i) runSlice(projections[i]);

        if (c.rope) {
#pragma omp single
            {
                applyRope(Q_all, dh, c.rope_theta, opt.q_position_offset);
                applyRope(K_all, dh, c.rope_theta, 0);
            }
        }

        // 2. Every head on its own.
#pragma omp for schedule(dynamic, 1)
        for (int h = 0; h < H; ++h) {
            HeadTrace& ht = out.heads[h];
            const int kv = embeddings ? h : h / groups;
            ht.kv_head = kv;
            ht.enabled = opt.head_enabled.empty() || opt.head_enabled[h];
            ht.Q = Qsrc->middleCols(h * dh, dh);
            ht.K = Ksrc->middleCols(kv * dh, dh);
            ht.V = Vsrc->middleCols(kv * dh, dh);
            const bool keep = opt.keep_detail || h == opt.focus_head;
            ht.detailed = keep;
            if (blockedScores && !keep) {
                blockedHead(c, mask, hidden, ht, scores);
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
            out.concat.middleCols(h * dh, dh) = ht.output;
        }

        // 4. Output projection (skipped in the raw-embeddings form, which has no learned weights).
#pragma omp for schedule(dynamic, 1)
        for (std::size_t i = 0; i < outputSlices.size(); ++i) runSlice(outputSlices[i]);
    }
    if (!outputProjection) out.projected = out.concat;
    scratch.trim();
    return out;
}

void attentionHeadDetail(const AttentionConfig& c, const AttentionWeights& w, int head,
                         const MaskSpec& mask, HeadTrace* ht) {
    if (ht->detailed) return;
    const int T_q = static_cast<int>(ht->Q.rows());
    const int T_k = static_cast<int>(ht->K.rows());
    ht->scores.resize(T_q, T_k);
    computeScores(c, w, head, ht->Q, ht->K, ht->scores);
    ht->scaled = ht->scores * scaleFactor(c);
    ht->masked = ht->scores;
    BoolMat hidden;
    if (mask.kind == MaskKind::Padding || mask.kind == MaskKind::Given)
        hidden = buildMask(mask, T_q, T_k);
    scaleAndMask(c, mask, &hidden, ht->masked);
    ht->detailed = true;
}

}  // namespace attn
