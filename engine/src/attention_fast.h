#pragma once
// The fast path of attend() and linear(), internal to the engine: our own packed product
// kernel (a tile of two vector registers × 6 columns on Eigen's packet functions, 16 × 6 with
// AVX2), K and V packed once per head, the blocked softmax of a head, the few-rows products of
// short inputs, and scratch that stays with its thread. attention.cpp is the reference, step
// by step, and hands these the shapes real models use. Timed by tests/bench/bench_attention.cpp;
// compared with the reference by tests/engine/test_attention_fast_path.cpp.

#include <vector>

#include "attn/attention.h"

namespace attn::fast {

// -- Memory. A page touched for the first time costs a fault (about 2 µs per 4 KiB on these
// machines), and glibc hands big freed blocks back to the kernel, so memory that is
// allocated afresh on every call is faulted in afresh on every call: at 512 tokens that was
// 10 ms of a 35 ms pass on one core. Scratch, packing buffers included, stays with its
// thread; big results ask for 2 MiB pages.

// Scratch that stays with its thread from call to call. The packing buffers are grown on
// demand and never shrunk (a few MiB at 2048 tokens).
struct Scratch {
    Mat Q_all, K_all, V_all;   // the calling thread's projections (T, H·d_head)
    Eigen::VectorXf lhs, rhs;  // addProduct's packed blocks of A and B
    Eigen::VectorXf Kt, V;     // blockedHead: a head's Kᵀ and V as packed rhs panels
    Eigen::VectorXf Q, P, O;   // blockedHead: a block's panels of Q, weights and output
    Eigen::VectorXf wide;      // a panel of a packed weight widened to float32 (K, columns)

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

Scratch& threadScratch();

// Asks the kernel to back a buffer that is about to be written for the first time with big
// pages and to fault it in at once (only advice: nothing changes where it is not followed).
void prepareFresh(float* data, Eigen::Index floats);

// dst = src in memory that dst allocates afresh.
template <class Src>
void assignFresh(Mat& dst, const Src& src) {
    dst.resize(src.rows(), src.cols());
    prepareFresh(dst.data(), dst.size());
    dst = src;
}

// One slice of a projection: Y.middleCols(c0, n) = X · W.middleCols(c0, n) + b.segment(c0, n).
struct ProjectionSlice {
    const Mat* X;
    const Weight* W;
    const RowVec* b;
    Mat* Y;
    Eigen::Index c0, n;
    bool fresh;  // Y is a new result (not scratch): its slice's pages are prepared here
};

// Splits Y = X·W + b into column slices, `parts` of them (multiples of the kernel's kLanes
// columns), and sizes Y. Slices of different matrices share nothing and run in parallel.
void addProjection(std::vector<ProjectionSlice>& slices, const Mat& X, const Weight& W,
                   const RowVec& b, Mat& Y, int parts, bool fresh);
// Computes one slice: the few-rows product for short inputs, the packed kernel otherwise.
void runSlice(const ProjectionSlice& s);

// Dot-product scores scaled by `scale` (> 0), mask, softmax and weights·V of one head, a
// block of query rows at a time: fills ht.weights and ht.output from ht.Q, ht.K, ht.V.
void blockedHead(float scale, const MaskSpec& mask, const BoolMat& hidden, HeadTrace& ht,
                 Scratch& s);

}  // namespace attn::fast
