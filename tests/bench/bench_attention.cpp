// Multi-head self-attention forward at BERT-base size (d_model 768, 12 heads of 64), the
// shape that compare_torch.py times with torch.nn.MultiheadAttention(need_weights=True,
// average_attn_weights=False). Every head's weights are kept (keep_detail = false drops only
// scores/scaled/masked), as PyTorch returns them.
//
// Run by hand or through scripts/bench-attention:
//   OMP_NUM_THREADS=2 build/release/tests/bench/bench_attention --benchmark_repetitions=5

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "attn/attention.h"

namespace {

constexpr int kDModel = 768;
constexpr int kHeads = 12;

attn::Mat randomMat(std::mt19937& rng, int rows, int cols, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    attn::Mat m(rows, cols);
    for (Eigen::Index j = 0; j < m.cols(); ++j)
        for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = dist(rng);
    return m;
}

attn::RowVec randomRow(std::mt19937& rng, int cols, float scale) {
    return randomMat(rng, 1, cols, scale).row(0);
}

// Floating-point operations of one forward pass (multiply-add = 2), as PyTorch's would be:
// QKV projections 2·n·d·3d, scores 2·n²·d, weights·V 2·n²·d, output projection 2·n·d·d.
double attentionFlops(double n, double d) {
    return 2.0 * n * d * 3.0 * d + 2.0 * n * n * d + 2.0 * n * n * d + 2.0 * n * d * d;
}

void BM_MultiHeadSelfAttention(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    attn::AttentionConfig config;
    config.d_model = kDModel;
    config.n_heads = kHeads;
    config.n_kv_heads = kHeads;
    config.d_head = kDModel / kHeads;
    config.projection = attn::ProjectionMode::QKV;
    config.score = attn::ScoreFunction::ScaledDot;

    std::mt19937 rng(42);
    const float wScale = 1.0f / std::sqrt(static_cast<float>(kDModel));
    attn::AttentionWeights weights;
    weights.W_Q = randomMat(rng, kDModel, kDModel, wScale);  // (d_model, H·d_head)
    weights.W_K = randomMat(rng, kDModel, kDModel, wScale);
    weights.W_V = randomMat(rng, kDModel, kDModel, wScale);
    weights.W_O = randomMat(rng, kDModel, kDModel, wScale);  // (H·d_head, d_model)
    weights.b_Q = randomRow(rng, kDModel, 0.02f);
    weights.b_K = randomRow(rng, kDModel, 0.02f);
    weights.b_V = randomRow(rng, kDModel, 0.02f);
    weights.b_O = randomRow(rng, kDModel, 0.02f);
    const attn::Mat X = randomMat(rng, n, kDModel, 1.0f);  // (n, d_model)

    attn::MaskSpec noMask;
    attn::AttendOptions options;
    options.keep_detail = false;  // keep Q, K, V, weights, output of every head

    for (auto _ : state) {
        attn::AttentionTrace trace = attn::attend(config, weights, X, X, noMask, options);
        benchmark::DoNotOptimize(trace.projected.data());
        benchmark::ClobberMemory();
    }
    // Shown as e.g. "FLOP=177G/s": floating-point operations per second of wall time.
    state.counters["FLOP"] = benchmark::Counter(attentionFlops(n, kDModel),
                                                benchmark::Counter::kIsIterationInvariantRate);
    state.counters["tokens"] = n;
}

}  // namespace

BENCHMARK(BM_MultiHeadSelfAttention)
    ->ArgName("n")
    ->Arg(8)
    ->Arg(64)
    ->Arg(512)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
