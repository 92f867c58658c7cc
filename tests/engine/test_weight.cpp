// Packed weights: a matrix kept in its stored type (F16, BF16, ggml blocks) and widened a panel
// at a time inside the products must give what the same matrix widened once gives, for every
// type, every path of the product (few rows, the packed kernel, several panels, transposed),
// and keep the memory it points into alive.

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "attn/attention.h"
#include "attn/formats/ggml_quants.h"
#include "attn/formats/ggml_types.h"
#include "attn/weight.h"

namespace attn {
namespace {

struct Stored {
    std::shared_ptr<std::vector<std::byte>> bytes;
    Weight weight;
};

// lines × length random values quantized to type, as a packed weight.
Stored makePacked(GgmlType type, Eigen::Index length, Eigen::Index lines, Weight::Lines layout,
                  std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 0.5f);
    std::vector<float> values(static_cast<std::size_t>(length * lines));
    for (float& v : values) v = n(rng);
    auto q = quantize(static_cast<std::uint32_t>(type), values);
    EXPECT_TRUE(q) << q.message();
    Stored s;
    s.bytes = std::make_shared<std::vector<std::byte>>(std::move(q).value());
    PackedMatrix p;
    p.type = static_cast<std::uint32_t>(type);
    p.length = length;
    p.lines = lines;
    p.line_bytes = ggmlBytes(p.type, static_cast<std::uint64_t>(length));
    p.data = s.bytes->data();
    p.owner = s.bytes;
    s.weight = Weight::packed(std::move(p), layout);
    return s;
}

Mat randomMat(Eigen::Index r, Eigen::Index c, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 1.0f);
    Mat m(r, c);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
    return m;
}

// Largest |a − b| relative to the largest |b|.
double relativeDiff(const Mat& a, const Mat& b) {
    EXPECT_EQ(a.rows(), b.rows());
    EXPECT_EQ(a.cols(), b.cols());
    if (a.rows() != b.rows() || a.cols() != b.cols()) return 1e9;
    return (a - b).cwiseAbs().maxCoeff() / std::max(1e-30f, b.cwiseAbs().maxCoeff());
}

class PackedWeight : public ::testing::TestWithParam<GgmlType> {};

TEST_P(PackedWeight, WidensAsDequantizeDoes) {
    const GgmlType type = GetParam();
    const Eigen::Index K = 512, N = 7;
    Stored s = makePacked(type, K, N, Weight::Lines::AreColumns, 3);
    const Weight& W = s.weight;
    ASSERT_TRUE(W.isPacked());
    EXPECT_EQ(W.rows(), K);
    EXPECT_EQ(W.cols(), N);
    EXPECT_EQ(W.storedType(), static_cast<std::uint32_t>(type));
    EXPECT_EQ(W.storedBytes(), s.bytes->size());
    EXPECT_EQ(W.data(), nullptr) << "a packed weight has no dense data";
    std::vector<float> all(static_cast<std::size_t>(K * N));
    ASSERT_TRUE(dequantize(static_cast<std::uint32_t>(type), *s.bytes, all));
    const Mat D = W.toDense();
    for (Eigen::Index j = 0; j < N; ++j)
        for (Eigen::Index k = 0; k < K; ++k)
            ASSERT_EQ(D(k, j), all[static_cast<std::size_t>(j * K + k)]) << k << "," << j;
    EXPECT_EQ(W.widenCols(2, 3), D.middleCols(2, 3));
    EXPECT_EQ(W.widenRow(100), D.row(100));
    EXPECT_EQ(W(5, 6), D(5, 6));
    EXPECT_TRUE(W == Weight(D));
}

TEST_P(PackedWeight, ProductsMatchTheWidenedMatrix) {
    const GgmlType type = GetParam();
    // 2048 deep: several of the kernel's depth blocks; 700 columns: several packed panels
    // (2 MiB of floats = 256 columns) and an uneven last one.
    const Eigen::Index K = 2048, N = 700;
    Stored s = makePacked(type, K, N, Weight::Lines::AreColumns, 5);
    const Mat D = s.weight.toDense();
    const RowVec b = randomMat(1, N, 9);
    for (Eigen::Index T : {1, 5, 16, 17, 130}) {
        const Mat X = randomMat(T, K, 11 + static_cast<std::uint32_t>(T));
        Mat Yp, Yd;
        linear(X, s.weight, b, Yp);
        linear(X, D, b, Yd);
        EXPECT_LE(relativeDiff(Yp, Yd), 1e-6)
            << ggmlTypeName(static_cast<std::uint32_t>(type)) << " T " << T;
        // And the product is a product (the widened matrix is not, say, all zeros).
        EXPECT_GT(Yd.cwiseAbs().maxCoeff(), 1.0f);
    }
}

TEST_P(PackedWeight, TransposedTableMatchesTheWidenedTable) {
    // A tied output layer: the (vocab, d_model) token table used as X·Eᵀ.
    const GgmlType type = GetParam();
    const Eigen::Index d = 256, V = 301;
    Stored s = makePacked(type, d, V, Weight::Lines::AreRows, 7);
    EXPECT_EQ(s.weight.rows(), V);
    EXPECT_EQ(s.weight.cols(), d);
    const Mat E = s.weight.toDense();
    EXPECT_EQ(s.weight.widenRow(42), E.row(42));
    for (Eigen::Index T : {3, 40}) {
        const Mat X = randomMat(T, d, 13);
        Mat Yp, Yd;
        linear(X, s.weight, RowVec(), Yp, /*transposedW=*/true);
        linear(X, E, RowVec(), Yd, /*transposedW=*/true);
        EXPECT_LE(relativeDiff(Yp, Yd), 1e-6) << "T " << T;
    }
}

INSTANTIATE_TEST_SUITE_P(Types, PackedWeight,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16,
                                           GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K,
                                           GgmlType::Q5_K, GgmlType::Q6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& info) {
                             return ggmlTypeName(static_cast<std::uint32_t>(info.param));
                         });

TEST(PackedWeightAttention, AttendWithPackedProjectionsMatchesDense) {
    AttentionConfig c;
    c.d_model = 256;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.d_head = 64;
    c.rope = true;
    c.rope_pairs = RopePairs::Halves;
    AttentionWeights packed, dense;
    std::vector<Stored> keep;
    const auto set = [&](Weight& p, Weight& d, Eigen::Index in, Eigen::Index out,
                         std::uint32_t seed) {
        keep.push_back(makePacked(GgmlType::Q4_K, in, out, Weight::Lines::AreColumns, seed));
        p = keep.back().weight;
        d = p.toDense();
    };
    set(packed.W_Q, dense.W_Q, 256, 256, 1);
    set(packed.W_K, dense.W_K, 256, 128, 2);
    set(packed.W_V, dense.W_V, 256, 128, 3);
    set(packed.W_O, dense.W_O, 256, 256, 4);
    MaskSpec causal;
    causal.kind = MaskKind::Causal;
    for (int T : {6, 50}) {
        const Mat X = randomMat(T, 256, 21);
        const AttentionTrace a = attend(c, packed, X, X, causal);
        const AttentionTrace b = attend(c, dense, X, X, causal);
        for (int h = 0; h < c.n_heads; ++h)
            EXPECT_LE((a.heads[h].weights - b.heads[h].weights).cwiseAbs().maxCoeff(), 1e-6)
                << "T " << T << " head " << h;
        EXPECT_LE(relativeDiff(a.projected, b.projected), 1e-6) << "T " << T;
    }
}

TEST(PackedWeightLifetime, AWeightKeepsItsMemoryAlive) {
    Stored s = makePacked(GgmlType::Q8_0, 64, 4, Weight::Lines::AreColumns, 1);
    const Mat before = s.weight.toDense();
    std::weak_ptr<std::vector<std::byte>> watch = s.bytes;
    Weight copy = s.weight;  // copies share the view
    s = Stored{};
    ASSERT_FALSE(watch.expired()) << "the copy must keep the bytes alive";
    EXPECT_EQ(copy.toDense(), before);
    copy = Weight();
    EXPECT_TRUE(watch.expired()) << "the last weight released its bytes";
}

TEST(DenseWeight, BehavesAsItsMat) {
    Mat m = randomMat(3, 4, 2);
    Weight w = m;
    EXPECT_FALSE(w.isPacked());
    EXPECT_EQ(w.rows(), 3);
    EXPECT_EQ(w.cols(), 4);
    EXPECT_EQ(w.data(), w.dense().data());
    EXPECT_EQ(w.toDense(), m);
    EXPECT_EQ(w.widenRow(1), m.row(1));
    EXPECT_EQ(w.widenCols(1, 2), m.middleCols(1, 2));
    w.dense()(0, 0) = 42.0f;  // training writes through dense()
    EXPECT_EQ(w(0, 0), 42.0f);
    EXPECT_EQ(w.storedBytes(), 12 * sizeof(float));
    EXPECT_TRUE(Weight().empty());
}

}  // namespace
}  // namespace attn
