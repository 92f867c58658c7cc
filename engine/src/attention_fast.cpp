// The fast path of attend() and linear(): see attention_fast.h.

#include "attention_fast.h"

#include <omp.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <limits>
#include <vector>

namespace attn::fast {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Eigen::Index roundUp(Eigen::Index x, Eigen::Index to) { return (x + to - 1) / to * to; }

float* grow(Eigen::VectorXf& buffer, Eigen::Index floats) {
    if (buffer.size() < floats) buffer.resize(floats);
    return buffer.data();
}
}  // namespace

Scratch& threadScratch() {
    thread_local Scratch scratch;
    return scratch;
}

// Prepares a buffer that is about to be written for the first time. Linux is asked to back it
// with 2 MiB pages where a whole one fits (one fault per 2 MiB instead of 512: the weights of
// 2048 tokens, 200 MB, fault in about 3× faster) and to fill in its page tables in one system
// call rather than trapping on every 4 KiB page (a fifth less time for the 12 MiB of
// weights at 512 tokens). Only advice: where it is not followed nothing changes.
void prepareFresh(float* data, Eigen::Index floats) {
#if defined(__linux__)
    const auto p = reinterpret_cast<std::uintptr_t>(data);
    const std::size_t bytes = static_cast<std::size_t>(floats) * sizeof(float);
    const auto advise = [p, bytes](std::uintptr_t page, int advice) {
        const std::uintptr_t first = (p + page - 1) & ~(page - 1);
        const std::uintptr_t last = (p + bytes) & ~(page - 1);
        // madvise takes page-aligned addresses, computed here as integers.
        if (last > first)
            madvise(reinterpret_cast<void*>(first),  // NOLINT(performance-no-int-to-ptr)
                    last - first, advice);
    };
#if defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
    if (bytes >= 2 * kHuge) advise(kHuge, MADV_HUGEPAGE);
#endif
#if defined(MADV_POPULATE_WRITE)
    constexpr std::size_t kMinPopulate = 64 << 10;  // below this the call costs what it saves
    if (bytes >= kMinPopulate) advise(4096, MADV_POPULATE_WRITE);
#endif
#else
    (void)data;
    (void)floats;
#endif
}

namespace {

// -- Products. Eigen's product kernel (gebp, tiles of 24 × 4 floats with AVX2) reached about
// 60 GFLOP/s per core on the AVX2 machines, where an FMA loop reaches 100; the tile below
// (two vector registers × 6 columns, as in BLIS) reaches about 90. It is written with Eigen's
// packet functions, so it is 16 × 6 with AVX2, 32 × 6 with AVX-512 and 8 × 6 with SSE. Having
// our own kernel also lets a head pack K and V once for all its query rows and feed its
// block of weights to weights·V as it lies (see blockedHead).
//
// Packed layouts. A lhs panel holds kMR rows of A: for each k, A(0..kMR-1, k) in a row. A rhs
// panel holds kNR columns of B: for each k, B(k, 0..kNR-1) in a row. Panels are zero past the
// matrix's last row or column, so every tile is whole.
namespace ei = Eigen::internal;
using Packet = ei::packet_traits<float>::type;
constexpr Eigen::Index kPacket = ei::packet_traits<float>::size;
constexpr Eigen::Index kMR = 2 * kPacket;  // rows of a tile
constexpr Eigen::Index kNR = 6;            // columns: 12 accumulators of AVX2's 16 registers

// Tile C (kMR, kNR), column stride ldc: C = alpha·(a·b), or C += alpha·(a·b) when accumulating,
// for a lhs panel a and a rhs panel b of the given depth. The sum runs in float and is scaled
// once at the end, so alpha·(a·b) is what a product followed by `*= alpha` gives.
inline void productTile(Eigen::Index depth, const float* a, const float* b, float alpha,
                        bool accumulate, float* C, Eigen::Index ldc) {
    Packet lo[kNR], hi[kNR];  // rows 0..kPacket-1 and kPacket..kMR-1 of each column
    for (int j = 0; j < kNR; ++j) lo[j] = hi[j] = ei::pset1<Packet>(0.0f);
    for (Eigen::Index k = 0; k < depth; ++k, a += kMR, b += kNR) {
        const Packet a0 = ei::pload<Packet>(a);
        const Packet a1 = ei::pload<Packet>(a + kPacket);
        for (int j = 0; j < kNR; ++j) {
            const Packet bj = ei::pset1<Packet>(b[j]);
            lo[j] = ei::pmadd(a0, bj, lo[j]);
            hi[j] = ei::pmadd(a1, bj, hi[j]);
        }
    }
    const Packet scale = ei::pset1<Packet>(alpha);
    for (int j = 0; j < kNR; ++j) {
        float* c = C + j * ldc;
        Packet x0 = ei::pmul(lo[j], scale);
        Packet x1 = ei::pmul(hi[j], scale);
        if (accumulate) {
            x0 = ei::padd(x0, ei::ploadu<Packet>(c));
            x1 = ei::padd(x1, ei::ploadu<Packet>(c + kPacket));
        }
        ei::pstoreu(c, x0);
        ei::pstoreu(c + kPacket, x1);
    }
}

// Packs rows × depth of A (column-major, stride lda) into lhs panels: panel p, element (r, k)
// at out[p·kMR·depth + k·kMR + r].
void packLhs(Eigen::Index rows, Eigen::Index depth, const float* A, Eigen::Index lda, float* out) {
    for (Eigen::Index i = 0; i < rows; i += kMR) {
        const Eigen::Index m = std::min(kMR, rows - i);
        for (Eigen::Index k = 0; k < depth; ++k, out += kMR) {
            const float* a = A + i + k * lda;
            if (m == kMR) {
                ei::pstore(out, ei::ploadu<Packet>(a));
                ei::pstore(out + kPacket, ei::ploadu<Packet>(a + kPacket));
            } else {
                std::copy_n(a, m, out);
                std::fill(out + m, out + kMR, 0.0f);
            }
        }
    }
}

// Packs B (depth, cols), element (k, j) at B[k·sk + j·sj], into rhs panels: panel q, element
// (k, c) at out[q·kNR·depth + k·kNR + c]. Strides let Kᵀ be read from K in place (sk = T_k,
// sj = 1) as well as V or W column-major (sk = 1, sj = rows).
void packRhs(Eigen::Index depth, Eigen::Index cols, const float* B, Eigen::Index sk,
             Eigen::Index sj, float* out) {
    for (Eigen::Index j = 0; j < cols; j += kNR) {
        const Eigen::Index n = std::min(kNR, cols - j);
        for (Eigen::Index k = 0; k < depth; ++k, out += kNR) {
            const float* b = B + k * sk + j * sj;
            for (Eigen::Index c = 0; c < kNR; ++c) out[c] = c < n ? b[c * sj] : 0.0f;
        }
    }
}

// Blocks of addProduct, in BLIS order: kDepthBlock rows of B are packed at once (they stay in
// L2 or L3 for every block of A), kRowBlock × kDepthBlock of A at once (192 KiB: in the
// 512 KiB L2 beside the rhs panel that each tile reads from L1). Timings on the AVX2 machines
// hardly move between 256 and 768 for either.
constexpr Eigen::Index kDepthBlock = 384;
constexpr Eigen::Index kRowBlock = 128;

// C (rows, cols) += A (rows, depth) · B (depth, cols), all column-major with strides lda, ldb
// and ldc. Not inlined: inside runSlice it made GCC spill more registers in the few-rows
// product next to it (8 tokens took 25% longer).
// B's element (k, j) is at B[k·skb + j·ldb]: skb = 1 for a column-major B, skb = ld of the
// stored matrix and ldb = 1 for the transpose of a column-major matrix.
[[gnu::noinline]] void addProduct(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth,
                                  const float* A, Eigen::Index lda, const float* B,
                                  Eigen::Index ldb, float* C, Eigen::Index ldc,
                                  Eigen::Index skb = 1) {
    Scratch& s = threadScratch();
    alignas(EIGEN_MAX_ALIGN_BYTES) float tile[kMR * kNR];  // an edge tile, (kMR, kNR)
    for (Eigen::Index p0 = 0; p0 < depth; p0 += kDepthBlock) {
        const Eigen::Index kc = std::min(kDepthBlock, depth - p0);
        float* b = grow(s.rhs, kc * roundUp(cols, kNR));
        packRhs(kc, cols, B + p0 * skb, skb, ldb, b);
        for (Eigen::Index i0 = 0; i0 < rows; i0 += kRowBlock) {
            const Eigen::Index mc = std::min(kRowBlock, rows - i0);
            float* a = grow(s.lhs, roundUp(mc, kMR) * kc);
            packLhs(mc, kc, A + i0 + p0 * lda, lda, a);
            for (Eigen::Index j = 0; j < cols; j += kNR) {
                const Eigen::Index n = std::min(kNR, cols - j);
                for (Eigen::Index i = 0; i < mc; i += kMR) {
                    const Eigen::Index m = std::min(kMR, mc - i);
                    float* c = C + i0 + i + j * ldc;
                    if (m == kMR && n == kNR) {
                        productTile(kc, a + i * kc, b + j * kc, 1.0f, true, c, ldc);
                        continue;
                    }
                    productTile(kc, a + i * kc, b + j * kc, 1.0f, false, tile, kMR);
                    for (Eigen::Index jj = 0; jj < n; ++jj)
                        for (Eigen::Index ii = 0; ii < m; ++ii)
                            c[ii + jj * ldc] += tile[ii + jj * kMR];
                }
            }
        }
    }
}

// -- Blocked heads.

// A head runs a panel of kMR query rows at a time: its (kMR, T_k) weights are stored as one
// lhs panel, so one column holds kLanes = kMR consecutive query rows and the row-wise softmax
// runs across lanes (two vector registers).
constexpr Eigen::Index kLanes = kMR;
using Lanes = Eigen::Array<float, kLanes, 1>;
using LanesMap = Eigen::Map<Lanes, Eigen::AlignedMax>;

// exp(x) of a packet: Cephes' polynomial as in Eigen's exp() (the same results where exp(x) is
// a normal float), with 2^m put straight into the exponent bits instead of through Eigen's
// general ldexp, which handles exponents a softmax never has. 0.40 instead of 0.70 ns per
// float on the AVX2 machines; the 50 M exponentials of 12 heads at 2048 tokens took a tenth
// of a pass. Below about -87.3 it gives 0 (so does -inf).
inline Packet expPacket(Packet x) {
    using ei::pmadd;
    using ei::pset1;
    x = ei::pmax(ei::pmin(x, pset1<Packet>(88.723f)), pset1<Packet>(-88.723f));
    // exp(x) = 2^m · exp(r) with m = floor(x / ln 2 + 1/2) and r = x - m·ln 2 (in two parts).
    const Packet m = ei::pfloor(pmadd(x, pset1<Packet>(1.44269504088896341f), pset1<Packet>(0.5f)));
    Packet r = pmadd(m, pset1<Packet>(-0.693359375f), x);
    r = pmadd(m, pset1<Packet>(2.12194440e-4f), r);
    const Packet r2 = ei::pmul(r, r);
    const Packet r3 = ei::pmul(r2, r);
    Packet y = pmadd(pset1<Packet>(1.9875691500e-4f), r, pset1<Packet>(1.3981999507e-3f));
    Packet y1 = pmadd(pset1<Packet>(4.1665795894e-2f), r, pset1<Packet>(1.6666665459e-1f));
    const Packet y2 = ei::padd(r, pset1<Packet>(1.0f));
    y = pmadd(y, r, pset1<Packet>(8.3334519073e-3f));
    y1 = pmadd(y1, r, pset1<Packet>(5.0000001201e-1f));
    y = pmadd(y, r3, y1);
    y = pmadd(y, r2, y2);
    // y·2^m with the biased exponent m + 127 clamped to [0, 255] (0 gives 0). GCC warns that
    // a vector type's attributes are dropped when it is a class template's argument, as Eigen
    // itself does here; nothing depends on them.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
    return ei::pldexp_fast_impl<Packet>::run(y, m);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

// x = exp(x - shift) for a column of kLanes floats (aligned).
inline void expLanes(float* x, const Lanes& shift) {
    for (Eigen::Index i = 0; i < kLanes; i += kPacket)
        ei::pstore(x + i, expPacket(ei::psub(ei::pload<Packet>(x + i),
                                             ei::ploadu<Packet>(shift.data() + i))));
}

// Copies kLanes floats from aligned src to a 64-byte aligned address without reading the
// destination lines into the cache first (x86 non-temporal stores); elsewhere a plain copy.
#if defined(__AVX512F__)
constexpr bool kCanStream = true;
inline void streamLanes(float* dst, const float* src) {
    for (Eigen::Index i = 0; i < kLanes; i += 16)
        _mm512_stream_ps(dst + i, _mm512_load_ps(src + i));
}
#elif defined(__AVX__)
constexpr bool kCanStream = true;
inline void streamLanes(float* dst, const float* src) {
    for (Eigen::Index i = 0; i < kLanes; i += 8) _mm256_stream_ps(dst + i, _mm256_load_ps(src + i));
}
#else
constexpr bool kCanStream = false;
inline void streamLanes(float* dst, const float* src) { std::copy_n(src, kLanes, dst); }
#endif

// A head's weights larger than this (floats: 16 MiB) cannot stay in the cache anyway, so they
// bypass it (at 2048 tokens the softmax takes 31 ms instead of 54 on one core); smaller ones
// are stored normally and stay in L3 for whoever reads them next.
constexpr Eigen::Index kStreamFloats = 4 << 20;

// Panels per block: the weights of a block go out to memory together, a run of
// kBlockPanels·kMR rows (64 with AVX2) down each column. Runs of 16 rows, one 64-byte line
// every 8 KiB at 2048 tokens, reach 7 GB/s on the AVX2 machines; runs of 64 rows, 21 GB/s.
constexpr int kBlockPanels = 4;

// Keys per step of weights·V: a stretch of the weights panel (kMR × 256 floats, 16 KiB with
// AVX2) stays in L1 while every column panel of V goes past it.
constexpr Eigen::Index kValueDepth = 256;

}  // namespace

// Dot-product scores, scaling, mask, softmax and weights·V of one head, a block of
// kBlockPanels panels of kMR query rows at a time (the arithmetic of scaleAndMask +
// softmaxRows, up to rounding). Fills ht.weights (T_q, T_k) and ht.output (T_q, d_head) from
// ht.Q, ht.K, ht.V.
//
// A block's scores are computed into P, turned into softmax numerators in place and
// multiplied by V while they are still in L2 (or L3 at 2048 tokens); then the block's weights
// are stored to ht.weights. So the (T_q, T_k) weights go out to memory once and are never read
// back. A panel's layout in P, a lhs panel, is what the softmax wants (a column's kMR rows are
// contiguous) and what weights·V reads, so nothing is repacked; K and V are packed once per
// head.
void blockedHead(float scale, const MaskSpec& mask, const BoolMat& hidden, HeadTrace& ht,
                 Scratch& s) {
    const Eigen::Index T_q = ht.Q.rows(), T_k = ht.K.rows(), dh = ht.Q.cols();
    const float f = scale;  // > 0: temperature 0 takes the reference path
    Mat& A = ht.weights;
    A.resize(T_q, T_k);
    prepareFresh(A.data(), A.size());
    ht.output.resize(T_q, dh);
    prepareFresh(ht.output.data(), ht.output.size());
    if (!ht.enabled) ht.output.setZero();
    if (T_q == 0) return;
    if (T_k == 0) {
        ht.output.setZero();
        return;
    }
    // Kᵀ (dh, T_k) and V (T_k, dh) as rhs panels, for every panel of query rows.
    const Eigen::Index keyCols = roundUp(T_k, kNR), valueCols = roundUp(dh, kNR);
    float* Kt = grow(s.Kt, dh * keyCols);
    packRhs(dh, T_k, ht.K.data(), T_k, 1, Kt);
    float* V = nullptr;
    if (ht.enabled) {
        V = grow(s.V, T_k * valueCols);
        packRhs(T_k, dh, ht.V.data(), 1, T_k, V);
    }
    // A block's panels side by side: query rows, packed (kMR, dh) each; scores, then the
    // numerators of the weights, (kMR, keyCols) each; weights·V, (kMR, valueCols) each.
    const Eigen::Index panelFloats = kMR * keyCols;
    float* Q = grow(s.Q, kBlockPanels * kMR * dh);
    float* P = grow(s.P, kBlockPanels * panelFloats);
    float* O = grow(s.O, kBlockPanels * kMR * valueCols);

    const Eigen::Index offset = T_k - T_q;  // causal: query i sees keys j ≤ i + offset
    // The weights are written once and not read again here: large ones bypass the cache, in
    // whole 64-byte lines. A column's kMR rows are whole lines when they start on one, so
    // panels are laid out to start where the columns' lines do: a first short panel of `lead`
    // rows (Eigen aligns a matrix to 32 bytes only), then whole ones.
    const auto address = reinterpret_cast<std::uintptr_t>(A.data());
    const bool streamable =
        kCanStream && T_q * T_k >= kStreamFloats && (T_q * sizeof(float)) % 64 == 0;
    const Eigen::Index lead = streamable ? (64 - address % 64) % 64 / sizeof(float) : 0;

    // Softmax numerators of query rows [i0, i0 + m) in place on their scaled scores in panel
    // Pp, given each row's maximum so far (-inf when it is still to be taken): exp(score - row
    // maximum), and 1 / (sum of each row) into inv. Rows past m are zero padding whose lanes
    // are computed and thrown away. The weights are Pp·inv: they are scaled when they are
    // stored, and weights·V = (Pp·V)·inv when it is done, which saves two passes over Pp.
    const auto softmaxPanel = [&](Eigen::Index i0, Eigen::Index m, float* Pp, Lanes rowMax,
                                  Lanes& inv) {
        if (mask.kind == MaskKind::Causal) {
            for (Eigen::Index j = 0; j < T_k; ++j)
                std::fill_n(Pp + j * kMR, std::clamp<Eigen::Index>(j - offset - i0, 0, m), kNegInf);
        } else if (mask.kind != MaskKind::None) {
            for (Eigen::Index j = 0; j < T_k; ++j)
                for (Eigen::Index r = 0; r < m; ++r)
                    if (hidden(i0 + r, j)) Pp[j * kMR + r] = kNegInf;
        }
        if (mask.kind != MaskKind::None)
            for (Eigen::Index j = 0; j < T_k; ++j) rowMax = rowMax.max(LanesMap(Pp + j * kMR));
        // Hidden weights are set to exactly 0 after exp(), as in softmaxRows (AVX2 and SSE
        // give a denormal for exp(-inf)).
        const auto zeroHidden = [&](Eigen::Index j, float* x) {
            if (mask.kind == MaskKind::Causal) {
                std::fill_n(x, std::clamp<Eigen::Index>(j - offset - i0, 0, kLanes), 0.0f);
            } else {
                for (Eigen::Index r = 0; r < m; ++r)
                    if (hidden(i0 + r, j)) x[r] = 0.0f;
            }
        };
        // A fully hidden row keeps its -inf: exp(-inf - 0) = 0 and its weights stay 0.
        const Lanes shift = (rowMax == kNegInf).select(Lanes::Zero(), rowMax);
        Lanes sum = Lanes::Zero();
        for (Eigen::Index j = 0; j < T_k; ++j) {
            expLanes(Pp + j * kMR, shift);
            if (mask.kind != MaskKind::None) zeroHidden(j, Pp + j * kMR);
            sum += LanesMap(Pp + j * kMR);
        }
        inv = (sum > 0.0f).select(Lanes::Ones() / sum, Lanes::Zero());
    };

    for (Eigen::Index b0 = 0; b0 < T_q;) {
        // A block: up to kBlockPanels panels of consecutive rows, panel q from row start[q].
        Eigen::Index start[kBlockPanels], rows[kBlockPanels];
        int panels = 0;
        for (Eigen::Index i = b0; panels < kBlockPanels && i < T_q; i += rows[panels++]) {
            start[panels] = i;
            rows[panels] = std::min(i == 0 && lead > 0 ? lead : kMR, T_q - i);
        }
        const auto Qp = [&](int q) { return Q + q * kMR * dh; };
        const auto Pp = [&](int q) { return P + q * panelFloats; };
        const auto Op = [&](int q) { return O + q * kMR * valueCols; };

        // 1. Scaled scores (rows, T_k) = f·(Q rows (rows, dh) · Kᵀ (dh, T_k)), a tile of Kᵀ for
        // all panels at once: Kᵀ (512 KiB at 2048 tokens) comes from L3 once per block, not
        // once per panel. Without a mask, each row's maximum is taken while a tile is in L1.
        Lanes rowMax[kBlockPanels], inv[kBlockPanels];
        for (int q = 0; q < panels; ++q) {
            packLhs(rows[q], dh, ht.Q.data() + start[q], T_q, Qp(q));
            rowMax[q] = Lanes::Constant(kNegInf);
        }
        for (Eigen::Index j = 0; j < T_k; j += kNR) {
            for (int q = 0; q < panels; ++q) {
                productTile(dh, Qp(q), Kt + j * dh, f, false, Pp(q) + j * kMR, kMR);
                if (mask.kind == MaskKind::None)
                    for (Eigen::Index jj = j; jj < std::min(j + kNR, T_k); ++jj)
                        rowMax[q] = rowMax[q].max(LanesMap(Pp(q) + jj * kMR));
            }
        }
        // 2. Mask and softmax, panel by panel.
        for (int q = 0; q < panels; ++q) softmaxPanel(start[q], rows[q], Pp(q), rowMax[q], inv[q]);

        // 3. Weighted sum of values (rows, T_k)·(T_k, dh), kValueDepth keys at a time, a tile
        // of V for all panels at once (again from L3 once per block).
        if (ht.enabled) {
            for (Eigen::Index k0 = 0; k0 < T_k; k0 += kValueDepth) {
                const Eigen::Index kc = std::min(kValueDepth, T_k - k0);
                for (Eigen::Index j = 0; j < dh; j += kNR)
                    for (int q = 0; q < panels; ++q)
                        productTile(kc, Pp(q) + k0 * kMR, V + j * T_k + k0 * kNR, 1.0f, k0 > 0,
                                    Op(q) + j * kMR, kMR);
            }
            for (int q = 0; q < panels; ++q) {
                for (Eigen::Index j = 0; j < dh; ++j) {
                    LanesMap o(Op(q) + j * kMR);
                    o *= inv[q];
                    std::copy_n(o.data(), rows[q], ht.output.data() + start[q] + j * T_q);
                }
            }
        }

        // 4. The block's weights, column by column.
        for (Eigen::Index j = 0; j < T_k; ++j) {
            float* dst = A.data() + b0 + j * T_q;  // weights (b0, j)
            for (int q = 0; q < panels; dst += rows[q++]) {
                const Lanes x = LanesMap(Pp(q) + j * kMR) * inv[q];
                if (rows[q] == kMR && streamable)
                    streamLanes(dst, x.data());
                else
                    std::copy_n(x.data(), rows[q], dst);
            }
        }
        b0 = start[panels - 1] + rows[panels - 1];
    }
#if defined(__AVX__)
    if (streamable) _mm_sfence();  // the streamed weights are visible before the head is done
#endif
}

namespace {

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

// W points at the first of n columns of K floats each, column-major.
template <int R>
void dotRows(const float* xt, const float* W, Eigen::Index K, Eigen::Index n, float* y,
             Eigen::Index ldy) {
    Eigen::Index c = 0;
    for (; c + 2 <= n; c += 2) dotTile<R, 2>(xt, W + c * K, K, y + c * ldy, ldy);
    if (c < n) dotTile<R, 1>(xt, W + c * K, K, y + c * ldy, ldy);
}

// Y (T, n), column stride ldy, = X (T, K) · W (K, n) for T ≤ kSmallRows; W column-major, Xt
// is Xᵀ (K, T).
void fewRowsProduct(const Mat& Xt, const float* W, Eigen::Index n, float* Y, Eigen::Index ldy) {
    const Eigen::Index K = Xt.rows(), T = Xt.cols();
    for (Eigen::Index r0 = 0; r0 < T; r0 += 8) {
        const float* xt = Xt.data() + r0 * K;
        float* y = Y + r0;
        switch (std::min<Eigen::Index>(8, T - r0)) {
            case 8:
                dotRows<8>(xt, W, K, n, y, ldy);
                break;
            case 7:
                dotRows<7>(xt, W, K, n, y, ldy);
                break;
            case 6:
                dotRows<6>(xt, W, K, n, y, ldy);
                break;
            case 5:
                dotRows<5>(xt, W, K, n, y, ldy);
                break;
            case 4:
                dotRows<4>(xt, W, K, n, y, ldy);
                break;
            case 3:
                dotRows<3>(xt, W, K, n, y, ldy);
                break;
            case 2:
                dotRows<2>(xt, W, K, n, y, ldy);
                break;
            default:
                dotRows<1>(xt, W, K, n, y, ldy);
                break;
        }
    }
}

// Y.middleCols(c0, n) = X · W.middleCols(c0, n) for a dense W and X (T, K), T ≤ kSmallRows.
void fewRowsProduct(const Mat& X, const Mat& W, Eigen::Index c0, Eigen::Index n, Mat& Y) {
    const Mat Xt = X.transpose();  // (K, T): row t of X is column t here
    fewRowsProduct(Xt, W.data() + c0 * W.rows(), n, Y.data() + c0 * Y.rows(), Y.rows());
}

// -- Packed weights. A packed weight (F16, BF16, ggml blocks) is widened a panel of columns at
// a time into a buffer of the thread's own and the float kernels run on the panel: the
// widening is linear in the weight's size, the product T times that, so from a few dozen
// tokens on it costs little next to the product. Panels hold about 2 MiB of floats: big
// enough that packing X again for every panel (addProduct packs its lhs per call) stays a
// small part of the work, small enough to stay in L3. The few-rows product reads every
// weight once, so there the panels stay in L2.
constexpr Eigen::Index kPanelFloats = 1 << 19;
constexpr Eigen::Index kFewRowsPanelFloats = 1 << 15;

// Y (T, n), column stride ldy, += X (T, K) · B (K, n) where column j of B is line c0 + j of P
// (K = P.length); Y holds the bias (or zeros) already unless few rows overwrite it.
void packedProduct(const Mat& X, const PackedMatrix& P, Eigen::Index c0, Eigen::Index n, float* Y,
                   Eigen::Index ldy) {
    Scratch& s = threadScratch();
    const Eigen::Index T = X.rows(), K = P.length;
    assert(X.cols() == K);
    const bool few = T <= kSmallRows;
    const Eigen::Index budget = few ? kFewRowsPanelFloats : kPanelFloats;
    const Eigen::Index nc =
        std::max<Eigen::Index>(kNR, budget / std::max<Eigen::Index>(K, 1) / kNR * kNR);
    float* wide = grow(s.wide, std::min(nc, n) * K);
    Mat Xt;
    if (few) Xt = X.transpose();
    Vec yFew;
    for (Eigen::Index j0 = 0; j0 < n; j0 += nc) {
        const Eigen::Index m = std::min(nc, n - j0);
        P.widenLines(c0 + j0, m, wide);
        float* y = Y + j0 * ldy;
        if (few) {
            // The few-rows product stores its result: add it to what Y holds.
            yFew.resize(T * m);
            fewRowsProduct(Xt, wide, m, yFew.data(), T);
            for (Eigen::Index j = 0; j < m; ++j)
                for (Eigen::Index i = 0; i < T; ++i) y[i + j * ldy] += yFew(i + j * T);
        } else {
            addProduct(T, m, K, X.data(), T, wide, K, y, ldy);
        }
    }
}

}  // namespace

// Splits Y = X·W + b into column slices, `parts` of them (multiples of kLanes columns), and
// sizes Y. Slices of different matrices share nothing and run in parallel.
void addProjection(std::vector<ProjectionSlice>& slices, const Mat& X, const Weight& W,
                   const RowVec& b, Mat& Y, int parts, bool fresh) {
    assert(!W.isPacked() || W.lines() == Weight::Lines::AreColumns);
    Y.resize(X.rows(), W.cols());
    const Eigen::Index step = roundUp((W.cols() + parts - 1) / parts, kLanes);
    for (Eigen::Index c0 = 0; c0 < W.cols(); c0 += step)
        slices.push_back({&X, &W, &b, &Y, c0, std::min(step, W.cols() - c0), fresh});
}

void runSlice(const ProjectionSlice& s) {
    auto Y = s.Y->middleCols(s.c0, s.n);
    if (s.fresh) prepareFresh(Y.data(), Y.size());
    const bool bias = s.b->size() != 0;
    if (const PackedMatrix* P = s.W->packedView()) {
        for (Eigen::Index j = 0; j < s.n; ++j) Y.col(j).setConstant(bias ? (*s.b)(s.c0 + j) : 0.0f);
        packedProduct(*s.X, *P, s.c0, s.n, Y.data(), s.Y->rows());
        return;
    }
    const Mat& W = s.W->dense();
    if (s.X->rows() <= kSmallRows) {
        fewRowsProduct(*s.X, W, s.c0, s.n, *s.Y);
        // Column by column (contiguous); `Y.rowwise() += b` would stride through memory.
        if (bias)
            for (Eigen::Index j = 0; j < s.n; ++j) Y.col(j).array() += (*s.b)(s.c0 + j);
        return;
    }
    // Y starts as the bias and the product adds X·W to it.
    for (Eigen::Index j = 0; j < s.n; ++j) Y.col(j).setConstant(bias ? (*s.b)(s.c0 + j) : 0.0f);
    const Eigen::Index T = s.X->rows(), K = s.X->cols();
    addProduct(T, s.n, K, s.X->data(), T, W.data() + s.c0 * K, K, Y.data(), T);
}

}  // namespace attn::fast

namespace attn {

void linear(const Mat& X, const Weight& W, const RowVec& b, Mat& Y, bool transposedW) {
    using namespace fast;
    const PackedMatrix* P = W.packedView();
    if (P == nullptr) return linear(X, W.dense(), b, Y, transposedW);
    // The packed product reads lines as the columns of the right-hand side: a linear's
    // columns, or the rows of a table used transposed (a tied output layer).
    const bool linesAreColumns = (W.lines() == Weight::Lines::AreColumns) != transposedW;
    if (!linesAreColumns) return linear(X, W.toDense(), b, Y, transposedW);
    const Eigen::Index T = X.rows(), K = X.cols(), N = P->lines;
    assert(P->length == K);
    assert(b.size() == 0 || b.size() == N);
    Y.resize(T, N);
    const bool parallel =
        double(T) * double(K) * double(N) > 1e5 && omp_get_max_threads() > 1 && !omp_in_parallel();
    const int parts = parallel ? omp_get_max_threads() : 1;
    const Eigen::Index step = roundUp((N + 2 * parts - 1) / (2 * parts), kLanes);
    const Eigen::Index slices = (N + step - 1) / step;
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (Eigen::Index s = 0; s < slices; ++s) {
        const Eigen::Index c0 = s * step, n = std::min(step, N - c0);
        auto Ys = Y.middleCols(c0, n);
        for (Eigen::Index j = 0; j < n; ++j) Ys.col(j).setConstant(b.size() ? b(c0 + j) : 0.0f);
        packedProduct(X, *P, c0, n, Ys.data(), T);
    }
}

void linear(const Mat& X, const Mat& W, const RowVec& b, Mat& Y, bool transposedW) {
    using namespace fast;
    const Eigen::Index T = X.rows(), K = X.cols();
    const Eigen::Index N = transposedW ? W.rows() : W.cols();
    assert((transposedW ? W.cols() : W.rows()) == K);
    assert(b.size() == 0 || b.size() == N);
    Y.resize(T, N);
    const bool parallel =
        double(T) * double(K) * double(N) > 1e5 && omp_get_max_threads() > 1 && !omp_in_parallel();
    const int parts = parallel ? omp_get_max_threads() : 1;
    // Column slices of Y, multiples of kLanes wide; a few more slices than threads so that an
    // uneven split evens out.
    const Eigen::Index step = roundUp((N + 2 * parts - 1) / (2 * parts), kLanes);
    const Eigen::Index slices = (N + step - 1) / step;
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (Eigen::Index s = 0; s < slices; ++s) {
        const Eigen::Index c0 = s * step, n = std::min(step, N - c0);
        auto Ys = Y.middleCols(c0, n);
        if (!transposedW && T <= kSmallRows) {
            fewRowsProduct(X, W, c0, n, Y);
            if (b.size())
                for (Eigen::Index j = 0; j < n; ++j) Ys.col(j).array() += b(c0 + j);
            continue;
        }
        for (Eigen::Index j = 0; j < n; ++j) Ys.col(j).setConstant(b.size() ? b(c0 + j) : 0.0f);
        if (transposedW)  // Wᵀ(k, j) = W(j, k) = W[j + k·N]
            addProduct(T, n, K, X.data(), T, W.data() + c0, 1, Ys.data(), T, W.rows());
        else
            addProduct(T, n, K, X.data(), T, W.data() + c0 * K, K, Ys.data(), T);
    }
}

}  // namespace attn
