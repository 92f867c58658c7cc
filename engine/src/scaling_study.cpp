#include "attn/scaling_study.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>

namespace attn {

namespace {

// splitmix64: turns (seed, d_k) into well-spread stream seeds.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Standard normals by Box–Muller on mt19937_64, whose output the C++ standard fixes, so the
// study gives the same numbers with every standard library (std::normal_distribution does not).
class Normal {
public:
    explicit Normal(std::uint64_t seed) : m_rng(seed) {}
    double operator()() {
        if (m_hasSpare) {
            m_hasSpare = false;
            return m_spare;
        }
        const double u1 = uniform01Open();
        const double u2 = uniform01Open();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double a = 2.0 * std::numbers::pi * u2;
        m_spare = r * std::sin(a);
        m_hasSpare = true;
        return r * std::cos(a);
    }

private:
    double uniform01Open() {  // (0, 1]: never 0, so log is finite
        return (static_cast<double>(m_rng() >> 11) + 1.0) * 0x1.0p-53;
    }
    std::mt19937_64 m_rng;
    double m_spare = 0;
    bool m_hasSpare = false;
};

using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void fill(Normal& normal, MatD& m) {
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) m(r, c) = normal();
}

// Softmax of one row of scores: adds its entropy (nats) and its largest weight.
void softmaxStats(const double* s, int n, double* entropy, double* maxWeight) {
    double mx = s[0];
    for (int j = 1; j < n; ++j) mx = std::max(mx, s[j]);
    double z = 0;
    for (int j = 0; j < n; ++j) z += std::exp(s[j] - mx);
    double h = 0;
    double top = 0;
    for (int j = 0; j < n; ++j) {
        const double p = std::exp(s[j] - mx) / z;
        if (p > 0) h -= p * std::log(p);
        top = std::max(top, p);
    }
    *entropy += h;
    *maxWeight += top;
}

ScalingPoint studyOne(int d, const ScalingStudyOptions& o) {
    Normal normal(mix(o.seed ^ mix(static_cast<std::uint64_t>(d))));
    const double rootD = std::sqrt(static_cast<double>(d));
    MatD K(o.keys, d);               // (T_k, d_k)
    MatD Q(o.queries_per_trial, d);  // (n_q, d_k)
    MatD S;                          // (n_q, T_k): row = query, column = key
    std::vector<double> scaledRow(static_cast<std::size_t>(o.keys));
    double sum = 0, sumSq = 0;
    double hU = 0, hS = 0, mU = 0, mS = 0;
    for (int trial = 0; trial < o.trials; ++trial) {
        fill(normal, K);
        fill(normal, Q);
        S = Q * K.transpose();
        for (Eigen::Index i = 0; i < S.rows(); ++i) {
            const double* row = S.data() + i * S.cols();  // row-major: a row is contiguous
            for (int j = 0; j < o.keys; ++j) {
                sum += row[j];
                sumSq += row[j] * row[j];
                scaledRow[static_cast<std::size_t>(j)] = row[j] / rootD;
            }
            softmaxStats(row, o.keys, &hU, &mU);
            softmaxStats(scaledRow.data(), o.keys, &hS, &mS);
        }
    }
    const double n = static_cast<double>(o.trials) * o.queries_per_trial * o.keys;
    const double rows = static_cast<double>(o.trials) * o.queries_per_trial;
    const double mean = sum / n;
    const double var = std::max(0.0, sumSq / n - mean * mean);
    ScalingPoint p;
    p.d_k = d;
    p.std_unscaled = std::sqrt(var);
    p.std_scaled = p.std_unscaled / rootD;  // exactly what dividing every score gives
    p.entropy_unscaled = hU / rows;
    p.entropy_scaled = hS / rows;
    p.max_weight_unscaled = mU / rows;
    p.max_weight_scaled = mS / rows;
    return p;
}

}  // namespace

Result<ScalingStudy> scalingStudy(const ScalingStudyOptions& options) {
    constexpr int kLimit = 4096;
    if (options.dims.empty()) return makeError("Give at least one d_k to study.");
    for (int d : options.dims) {
        if (d < 1 || d > kLimit)
            return makeError("d_k must be between 1 and " + std::to_string(kLimit) + ", not " +
                             std::to_string(d) + ".");
    }
    if (options.keys < 2 || options.keys > kLimit)
        return makeError("The softmax needs between 2 and " + std::to_string(kLimit) +
                         " keys, not " + std::to_string(options.keys) + ".");
    if (options.trials < 1 || options.queries_per_trial < 1)
        return makeError("The study needs at least one trial with at least one query.");
    if (static_cast<long long>(options.trials) * options.queries_per_trial > 1'000'000)
        return makeError("Use at most a million queries per d_k (trials × queries per trial).");

    ScalingStudy study;
    study.options = options;
    study.max_entropy = std::log(static_cast<double>(options.keys));
    study.points.reserve(options.dims.size());
    for (int d : options.dims) study.points.push_back(studyOne(d, options));
    return study;
}

}  // namespace attn
