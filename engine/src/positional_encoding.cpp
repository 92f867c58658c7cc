#include "attn/positional_encoding.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace attn {

std::string toString(PositionalKind kind) {
    switch (kind) {
        case PositionalKind::Sinusoidal:
            return "sinusoidal";
        case PositionalKind::Learned:
            return "learned";
        case PositionalKind::Rope:
            return "rope";
        case PositionalKind::None:
            return "none";
    }
    return "?";
}

bool parsePositionalKind(const std::string& text, PositionalKind* out) {
    static const PositionalKind all[] = {PositionalKind::Sinusoidal, PositionalKind::Learned,
                                         PositionalKind::Rope, PositionalKind::None};
    for (PositionalKind k : all) {
        if (toString(k) == text) {
            *out = k;
            return true;
        }
    }
    return false;
}

// Computed in double: at large t, float loses the phase of the fast dimensions.
static double frequency(int pair, int d, double base) {
    return std::pow(base, -2.0 * pair / static_cast<double>(d));
}

Eigen::MatrixXf sinusoidalEncoding(int positions, int d_model, float base) {
    Eigen::MatrixXf pe(positions, d_model);  // (T, d_model)
    for (int i = 0; i < d_model; ++i) {
        const double w = frequency(i / 2, d_model, base);
        for (int t = 0; t < positions; ++t) {
            const double a = t * w;
            pe(t, i) = static_cast<float>(i % 2 == 0 ? std::sin(a) : std::cos(a));
        }
    }
    return pe;
}

Eigen::MatrixXf positionSimilarity(const Eigen::MatrixXf& pe) { return pe * pe.transpose(); }

Eigen::MatrixXf sinusoidalOffsetMatrix(int d_model, int k, float base) {
    // For each pair (sin ωt, cos ωt): a rotation by ωk maps position t to t + k.
    Eigen::MatrixXf M = Eigen::MatrixXf::Zero(d_model, d_model);
    for (int i = 0; i + 1 < d_model; i += 2) {
        const double a = k * frequency(i / 2, d_model, base);
        const float c = static_cast<float>(std::cos(a));
        const float s = static_cast<float>(std::sin(a));
        M(i, i) = c;
        M(i, i + 1) = s;
        M(i + 1, i) = -s;
        M(i + 1, i + 1) = c;
    }
    if (d_model % 2 == 1) M(d_model - 1, d_model - 1) = 1.0f;  // unpaired sine: not exact
    return M;
}

float ropeAngle(int t, int pair, int d_head, float theta) {
    return static_cast<float>(
        t * std::pow(static_cast<double>(theta), -2.0 * pair / static_cast<double>(d_head)));
}

double sinusoidalFrequency(int dim, int d_model, float base) {
    return frequency(dim / 2, d_model, base);
}

OffsetCheck sinusoidalOffsetCheck(int t, int k, int d, float base) {
    assert(t >= 0 && t + k >= 0 && d > 0);
    OffsetCheck c;
    const Eigen::MatrixXf pe = sinusoidalEncoding(std::max(t, t + k) + 1, d, base);  // (·, d)
    c.M = sinusoidalOffsetMatrix(d, k, base);
    c.pe_t = pe.row(t).transpose();
    c.moved = c.M * c.pe_t;
    c.pe_t_k = pe.row(t + k).transpose();
    c.max_difference = (c.moved - c.pe_t_k).cwiseAbs().maxCoeff();
    return c;
}

Eigen::MatrixXf ropeAngleTable(int positions, int d_head, float theta) {
    const int pairs = d_head / 2;
    Eigen::MatrixXf table(positions, pairs);  // (positions, d_head/2)
    constexpr double turn = 2 * std::numbers::pi;
    for (int t = 0; t < positions; ++t)
        for (int i = 0; i < pairs; ++i) {
            const double a = ropeAngle(t, i, d_head, theta);
            table(t, i) = static_cast<float>(a - turn * std::floor(a / turn));
        }
    return table;
}

void applyRope(Eigen::MatrixXf& x, int d_head, float theta, int offset, RopePairs pairs) {
    assert(d_head > 0 && d_head % 2 == 0 && x.cols() % d_head == 0);
    const int T = static_cast<int>(x.rows());
    const int half = d_head / 2;
    for (int head = 0; head < x.cols() / d_head; ++head) {
        for (int pair = 0; pair < half; ++pair) {
            const int c0 = head * d_head + (pairs == RopePairs::Adjacent ? 2 * pair : pair);
            const int c1 = pairs == RopePairs::Adjacent ? c0 + 1 : c0 + half;
            const double w = std::pow(static_cast<double>(theta), -2.0 * pair / d_head);
            for (int t = 0; t < T; ++t) {
                const double a = (t + offset) * w;
                const float cs = static_cast<float>(std::cos(a));
                const float sn = static_cast<float>(std::sin(a));
                const float v0 = x(t, c0);
                const float v1 = x(t, c1);
                x(t, c0) = v0 * cs - v1 * sn;
                x(t, c1) = v0 * sn + v1 * cs;
            }
        }
    }
}

}  // namespace attn
