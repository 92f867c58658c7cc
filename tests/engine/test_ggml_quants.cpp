// ggml's number formats: known-answer blocks packed by hand from
// the layouts in ggml-common.h, and round trips dequantize(quantize(x)) ≈ x within each type's
// expected error (normalised MSE, as ggml's own tests measure it).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "attn/formats/ggml_quants.h"
#include "formats_test_util.h"
#include "gguf_test_writer.h"

namespace attn {
namespace {

constexpr auto u(GgmlType t) { return static_cast<std::uint32_t>(t); }

std::vector<std::byte> bytesOf(const std::vector<int>& v) {
    std::vector<std::byte> b;
    b.reserve(v.size());
    for (int x : v) b.push_back(static_cast<std::byte>(x & 0xFF));
    return b;
}

std::vector<float> dequant(GgmlType t, const std::vector<std::byte>& b, std::size_t n) {
    std::vector<float> out(n, -999.0f);
    Status s = dequantize(u(t), b, out);
    EXPECT_TRUE(s) << (s ? "" : s.message());
    return out;
}

// ---------------------------------------------------------------------------------------------
// Known answers: blocks written byte by byte from the layouts, expected values from the formulas.

TEST(GgmlKnownAnswer, Q8_0) {
    // d = 0.5 (half 0x3800), q[j] = j − 16.
    std::vector<int> b = {0x00, 0x38};
    for (int j = 0; j < 32; ++j) b.push_back(j - 16);
    const auto y = dequant(GgmlType::Q8_0, bytesOf(b), 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.5f * static_cast<float>(j - 16)) << j;
    EXPECT_EQ(y[0], -8.0f);
    EXPECT_EQ(y[31], 7.5f);
}

TEST(GgmlKnownAnswer, Q4_0) {
    // d = 2 (0x4000); byte j: low nibble j (value j), high nibble 15 − j (value j + 16).
    std::vector<int> b = {0x00, 0x40};
    for (int j = 0; j < 16; ++j) b.push_back(j | ((15 - j) << 4));
    const auto y = dequant(GgmlType::Q4_0, bytesOf(b), 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], 2.0f * static_cast<float>(j - 8)) << j;
        EXPECT_EQ(y[j + 16], 2.0f * static_cast<float>(15 - j - 8)) << j + 16;
    }
    EXPECT_EQ(y[0], -16.0f);
    EXPECT_EQ(y[16], 14.0f);
}

// The twelve scale bytes of a Q4_K/Q5_K block for sub-block scales sc and mins m, computed by
// hand (sc = 1, 2, 3, 4, 17, 33, 50, 63; m = 0, 1, 2, 3, 20, 40, 60, 63):
// bytes 0–3 = sc[0..3] | top two bits of sc[4..7] << 6; bytes 4–7 = m[0..3] | top bits of
// m[4..7] << 6; bytes 8–11 = low nibble of sc[4..7] | low nibble of m[4..7] << 4.
const int kSc[8] = {1, 2, 3, 4, 17, 33, 50, 63};
const int kMin[8] = {0, 1, 2, 3, 20, 40, 60, 63};
const std::vector<int> kScaleBytes = {0x41, 0x82, 0xC3, 0xC4, 0x40, 0x81,
                                      0xC2, 0xC3, 0x41, 0x81, 0xC2, 0xFF};

TEST(GgmlKnownAnswer, Q4_K) {
    // d = 1 (0x3C00), dmin = 0.5 (0x3800). Value p (0..255) has nibble (p·7 + 3) mod 16, stored
    // in qs[32·(p/64) + p%32]: low nibble when p%64 < 32, high nibble otherwise.
    auto nib = [](int p) { return (p * 7 + 3) % 16; };
    std::vector<int> b = {0x00, 0x3C, 0x00, 0x38};
    b.insert(b.end(), kScaleBytes.begin(), kScaleBytes.end());
    std::vector<int> qs(128, 0);
    for (int p = 0; p < 256; ++p) {
        const int byte = 32 * (p / 64) + p % 32;
        qs[byte] |= (p % 64 < 32) ? nib(p) : nib(p) << 4;
    }
    b.insert(b.end(), qs.begin(), qs.end());
    ASSERT_EQ(b.size(), 144u);
    const auto y = dequant(GgmlType::Q4_K, bytesOf(b), 256);
    for (int p = 0; p < 256; ++p) {
        const int s = p / 32;
        const float want = 1.0f * kSc[s] * nib(p) - 0.5f * kMin[s];
        ASSERT_EQ(y[p], want) << "value " << p << " (sub-block " << s << ")";
    }
}

TEST(GgmlKnownAnswer, Q5_K) {
    // As Q4_K with d = 0.25 (0x3400), dmin = 1 (0x3C00); q = (p·11 + 5) mod 32: its fifth bit
    // is bit (p/32) of qh[p%32].
    auto q = [](int p) { return (p * 11 + 5) % 32; };
    std::vector<int> b = {0x00, 0x34, 0x00, 0x3C};
    b.insert(b.end(), kScaleBytes.begin(), kScaleBytes.end());
    std::vector<int> qh(32, 0), qs(128, 0);
    for (int p = 0; p < 256; ++p) {
        const int byte = 32 * (p / 64) + p % 32;
        qs[byte] |= (p % 64 < 32) ? (q(p) & 15) : (q(p) & 15) << 4;
        if (q(p) >= 16) qh[p % 32] |= 1 << (p / 32);
    }
    b.insert(b.end(), qh.begin(), qh.end());
    b.insert(b.end(), qs.begin(), qs.end());
    ASSERT_EQ(b.size(), 176u);
    const auto y = dequant(GgmlType::Q5_K, bytesOf(b), 256);
    for (int p = 0; p < 256; ++p) {
        const int s = p / 32;
        ASSERT_EQ(y[p], 0.25f * kSc[s] * q(p) - 1.0f * kMin[s]) << p;
    }
}

TEST(GgmlKnownAnswer, Q6_K) {
    // d = 0.25 (0x3400); scales[s] = 3·s − 20 (negative ones too); q(p) = (p·5 + 1) mod 64.
    // In half h = p/128 with r = p%128, k = r/32, l = r%32: the low 4 bits go to
    // ql[64h + l + 32·(k%2)] (low nibble for k < 2, high for k ≥ 2), the high 2 bits to bits
    // 2k, 2k+1 of qh[32h + l].
    auto q = [](int p) { return (p * 5 + 1) % 64; };
    std::vector<int> ql(128, 0), qh(64, 0), sc(16);
    for (int s = 0; s < 16; ++s) sc[s] = 3 * s - 20;
    for (int p = 0; p < 256; ++p) {
        const int h = p / 128, r = p % 128, k = r / 32, l = r % 32;
        ql[64 * h + l + 32 * (k % 2)] |= k < 2 ? (q(p) & 15) : (q(p) & 15) << 4;
        qh[32 * h + l] |= (q(p) >> 4) << (2 * k);
    }
    std::vector<int> b = ql;
    b.insert(b.end(), qh.begin(), qh.end());
    b.insert(b.end(), sc.begin(), sc.end());
    b.push_back(0x00);
    b.push_back(0x34);
    ASSERT_EQ(b.size(), 210u);
    const auto y = dequant(GgmlType::Q6_K, bytesOf(b), 256);
    for (int p = 0; p < 256; ++p)
        ASSERT_EQ(y[p], 0.25f * static_cast<float>(sc[p / 16]) * static_cast<float>(q(p) - 32))
            << p;
}

TEST(GgmlKnownAnswer, F16AndBf16Rows) {
    const auto h = dequant(GgmlType::F16, bytesOf({0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38}), 3);
    EXPECT_EQ(h, (std::vector<float>{1.0f, -2.0f, 0.5f}));
    const auto b = dequant(GgmlType::BF16, bytesOf({0x80, 0x3F, 0x00, 0xC0}), 2);
    EXPECT_EQ(b, (std::vector<float>{1.0f, -2.0f}));
}

// ---------------------------------------------------------------------------------------------
// Round trips

struct RoundTripCase {
    GgmlType type;
    double max_nmse;  // measured with this quantizer on Gaussian data, with a margin
};

TEST(GgmlRoundTrip, WithinEachTypesError) {
    // Gaussian values with a different spread per 256-value stretch, plus an outlier, as
    // weights look.
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> x(256 * 16);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = g(rng) * (0.02f + 0.01f * static_cast<float>(i >> 8));
    x[1000] = 0.9f;
    const RoundTripCase cases[] = {{GgmlType::F32, 0.0},     {GgmlType::F16, 1e-7},
                                   {GgmlType::BF16, 2e-5},   {GgmlType::Q8_0, 5e-5},
                                   {GgmlType::Q4_0, 1.5e-2}, {GgmlType::Q4_K, 1.2e-2},
                                   {GgmlType::Q5_K, 3e-3},   {GgmlType::Q6_K, 8e-4}};
    for (const auto& c : cases) {
        auto q = quantize(u(c.type), x);
        ASSERT_TRUE(q) << q.message();
        EXPECT_EQ(q->size(), ggmlBytes(u(c.type), x.size())) << ggmlTypeName(c.type);
        std::vector<float> y(x.size());
        ASSERT_TRUE(dequantize(u(c.type), *q, y));
        double err = 0, norm = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            err += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
            norm += static_cast<double>(x[i]) * x[i];
        }
        const double nmse = err / norm;
        std::printf("[ %-5s ] round-trip nmse %.3g (limit %.3g)\n", ggmlTypeName(c.type).c_str(),
                    nmse, c.max_nmse);
        EXPECT_LE(nmse, c.max_nmse) << ggmlTypeName(c.type);
        if (c.type != GgmlType::F32) {
            EXPECT_GT(nmse, 0.0) << "a lossy type lost nothing?";
        }
        // Blocks of zeros stay zeros (no NaN from a zero scale).
        std::vector<float> zeros(256, 0.0f), back(256, 1.0f);
        auto qz = quantize(u(c.type), zeros);
        ASSERT_TRUE(qz);
        ASSERT_TRUE(dequantize(u(c.type), *qz, back));
        for (float v : back) ASSERT_EQ(v, 0.0f) << ggmlTypeName(c.type);
    }
}

TEST(GgmlRoundTrip, ExactWhereTheGridAllows) {
    // Values already on a Q8_0 grid come back exactly: d = 127/127 = 1.
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j * 8 - 127 + (j == 0 ? 0 : 1));
    x[0] = -127.0f;
    auto q = quantize(u(GgmlType::Q8_0), x);
    ASSERT_TRUE(q);
    std::vector<float> y(32);
    ASSERT_TRUE(dequantize(u(GgmlType::Q8_0), *q, y));
    EXPECT_EQ(y, x);
}

TEST(GgmlErrors, UnsupportedTypesAndSizes) {
    std::vector<float> y(32);
    std::vector<std::byte> b(20);
    Status s = dequantize(u(GgmlType::Q4_1), b, y);
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("Q4_1"), std::string::npos) << s.message();
    EXPECT_EQ(s.code(), ErrorCode::UnsupportedFormat);
    EXPECT_FALSE(dequantize(u(GgmlType::Q8_0), b, y)) << "20 bytes are not one Q8_0 block";
    std::vector<float> odd(33);
    EXPECT_FALSE(quantize(u(GgmlType::Q8_0), odd));
    EXPECT_FALSE(quantize(99, y));
    EXPECT_EQ(ggmlBytes(u(GgmlType::Q4_K), 512), 288u);
    EXPECT_EQ(ggmlBytes(u(GgmlType::Q4_K), 100), 0u);
    EXPECT_TRUE(canDequantize(u(GgmlType::Q6_K)));
    EXPECT_FALSE(canDequantize(u(GgmlType::IQ2_XXS)));
    EXPECT_EQ(ggmlTypeName(99), "ggml type 99");
}

TEST(GgmlRows, RowRangeOfATensorInAFile) {
    // A Q4_K tensor [256, 3] in a GGUF file: rows 1..2 alone equal the same rows of the whole.
    std::mt19937 rng(3);
    std::normal_distribution<float> g(0.0f, 0.1f);
    std::vector<float> x(256 * 3);
    for (float& v : x) v = g(rng);
    auto q = quantize(u(GgmlType::Q4_K), x);
    ASSERT_TRUE(q);
    testing::GgufWriter w;
    w.addTensor("t", {256, 3}, u(GgmlType::Q4_K),
                std::string(reinterpret_cast<const char*>(q->data()), q->size()));
    testing::TempDir dir;
    w.write(dir / "q.gguf");
    auto f = openGguf(dir / "q.gguf");
    ASSERT_TRUE(f) << f.message();
    const GgufTensorInfo& t = *(*f)->tensor("t");
    auto all = dequantizeTensor(t);
    ASSERT_TRUE(all) << all.message();
    ASSERT_EQ(all->size(), 768u);
    std::vector<float> part(512);
    ASSERT_TRUE(dequantizeRows(t, 1, 2, part));
    for (std::size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i], (*all)[256 + i]);
    std::vector<float> one(256);
    Status past = dequantizeRows(t, 3, 1, one);
    ASSERT_FALSE(past);
    EXPECT_NE(past.message().find("'t'"), std::string::npos);
    EXPECT_FALSE(dequantizeTensor(t, 100)) << "more values than allowed";
}

}  // namespace
}  // namespace attn
