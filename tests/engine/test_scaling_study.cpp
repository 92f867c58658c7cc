// The "Why √d_k" study: with q, k ~ N(0, 1), q·k has std √d_k and q·k/√d_k has std 1; without
// scaling the softmax collapses onto one key as d_k grows.

#include <gtest/gtest.h>

#include <cmath>

#include "attn/scaling_study.h"

namespace attn {
namespace {

ScalingStudy runStudy(ScalingStudyOptions o = {}) {
    auto r = scalingStudy(o);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
    return r.ok() ? *r : ScalingStudy{};
}

TEST(ScalingStudy, UnscaledSpreadGrowsLikeRootDk) {
    const ScalingStudy s = runStudy();
    ASSERT_EQ(s.points.size(), ScalingStudyOptions{}.dims.size());
    double worst = 0;
    int worstD = 0;
    for (const ScalingPoint& p : s.points) {
        const double ratio = p.std_unscaled / std::sqrt(static_cast<double>(p.d_k));
        if (std::abs(ratio - 1) > worst) {
            worst = std::abs(ratio - 1);
            worstD = p.d_k;
        }
    }
    // 8192 scores per d_k: the sampling error of a std is about 1 %.
    EXPECT_LT(worst, 0.08) << "largest relative deviation of std/√d_k from 1 at d_k = " << worstD;

    // Least-squares slope of log(std) against log(d_k): √ means 0.5.
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const ScalingPoint& p : s.points) {
        const double x = std::log(p.d_k), y = std::log(p.std_unscaled);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double n = static_cast<double>(s.points.size());
    const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    EXPECT_NEAR(slope, 0.5, 0.03);
}

TEST(ScalingStudy, ScaledSpreadStaysNearOne) {
    const ScalingStudy s = runStudy();
    for (const ScalingPoint& p : s.points) {
        EXPECT_NEAR(p.std_scaled, 1.0, 0.08) << "d_k = " << p.d_k;
        EXPECT_NEAR(p.std_scaled * std::sqrt(static_cast<double>(p.d_k)), p.std_unscaled,
                    1e-9 * p.std_unscaled);
    }
}

TEST(ScalingStudy, UnscaledSoftmaxCollapsesScaledDoesNot) {
    const ScalingStudy s = runStudy();
    const ScalingPoint& small = s.points.front();  // d_k = 2
    const ScalingPoint& large = s.points.back();   // d_k = 512
    ASSERT_EQ(large.d_k, 512);
    EXPECT_NEAR(s.max_entropy, std::log(16.0), 1e-12);

    // Unscaled: at d_k = 512 the scores spread over ±60, one key takes nearly everything.
    EXPECT_GT(large.max_weight_unscaled, 0.9);
    EXPECT_LT(large.entropy_unscaled, 0.3);
    EXPECT_GT(small.entropy_unscaled, 1.5);
    // Scaled: about the same sharpness at every d_k, far from one-hot.
    double lo = 1e9, hi = -1e9;
    for (const ScalingPoint& p : s.points) {
        lo = std::min(lo, p.entropy_scaled);
        hi = std::max(hi, p.entropy_scaled);
        EXPECT_LT(p.max_weight_scaled, 0.5) << "d_k = " << p.d_k;
        EXPECT_GE(p.max_weight_scaled, 1.0 / 16.0);
        EXPECT_LE(p.entropy_scaled, s.max_entropy + 1e-12);
    }
    EXPECT_LT(hi - lo, 0.25) << "scaled entropy ranges over [" << lo << ", " << hi << "]";
    // Unscaled sharpness only gets worse as d_k grows (checked across factors of 4).
    for (std::size_t i = 0; i + 4 < s.points.size(); ++i)
        EXPECT_GT(s.points[i].entropy_unscaled, s.points[i + 4].entropy_unscaled)
            << "d_k " << s.points[i].d_k << " vs " << s.points[i + 4].d_k;
}

TEST(ScalingStudy, SeededAndDeterministic) {
    const ScalingStudy a = runStudy();
    const ScalingStudy b = runStudy();
    ASSERT_EQ(a.points.size(), b.points.size());
    for (std::size_t i = 0; i < a.points.size(); ++i) {
        EXPECT_EQ(a.points[i].std_unscaled, b.points[i].std_unscaled);
        EXPECT_EQ(a.points[i].entropy_unscaled, b.points[i].entropy_unscaled);
        EXPECT_EQ(a.points[i].max_weight_scaled, b.points[i].max_weight_scaled);
    }
    ScalingStudyOptions other;
    other.seed = 2;
    const ScalingStudy c = runStudy(other);
    EXPECT_NE(a.points[3].std_unscaled, c.points[3].std_unscaled);

    // A d_k's numbers do not depend on which other d_k are studied.
    ScalingStudyOptions only64;
    only64.dims = {64};
    const ScalingStudy d = runStudy(only64);
    ASSERT_EQ(d.points.size(), 1u);
    for (const ScalingPoint& p : a.points) {
        if (p.d_k == 64) {
            EXPECT_EQ(p.std_unscaled, d.points[0].std_unscaled);
        }
    }
}

TEST(ScalingStudy, BadOptionsAreErrors) {
    ScalingStudyOptions o;
    o.dims = {0};
    auto r = scalingStudy(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("d_k"), std::string::npos) << r.message();

    o = {};
    o.keys = 1;
    r = scalingStudy(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("keys"), std::string::npos) << r.message();

    o = {};
    o.dims.clear();
    EXPECT_FALSE(scalingStudy(o).ok());

    o = {};
    o.trials = 0;
    EXPECT_FALSE(scalingStudy(o).ok());
}

}  // namespace
}  // namespace attn
