// Safetensors: our writer and reader agree; half/bfloat16 conversion; every corrupt file is an
// error that names the file.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "attn/formats/safetensors.h"
#include "formats_test_util.h"

namespace attn {
namespace {

using testing::TempDir;
using testing::writeFile;
using testing::writeRawSafetensors;

std::string f32Bytes(std::initializer_list<float> values) {
    std::string s(values.size() * 4, '\0');
    std::size_t i = 0;
    for (float v : values) {
        std::memcpy(s.data() + 4 * i, &v, 4);
        ++i;
    }
    return s;
}

TEST(SafetensorsTest, WriteThenReadKeepsShapesValuesAndMetadata) {
    TempDir dir;
    const std::string path = dir / "m.safetensors";
    Mat m(2, 3);
    m << 1, 2, 3, 4, 5, 6;  // (2, 3)
    RowVec v(4);
    v << -1.5f, 0.25f, 7, 1e-3f;
    ASSERT_TRUE(writeSafetensors(path, {{"w", toTensor(m)}, {"b", toTensor(v)}},
                                 {{"format", "pt"}, {"note", "hi"}}));

    auto f = SafetensorsFile::open(path);
    ASSERT_TRUE(f) << f.message();
    ASSERT_EQ((*f)->tensors().size(), 2u);
    EXPECT_EQ((*f)->metadata().at("note"), "hi");
    const TensorInfo* w = (*f)->find("w");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->dtype, DType::F32);
    EXPECT_EQ(w->shapeString(), "[2, 3]");
    // Stored row-major: 1 2 3 4 5 6.
    auto floats = (*f)->readFloats("w");
    ASSERT_TRUE(floats);
    EXPECT_EQ(*floats, (std::vector<float>{1, 2, 3, 4, 5, 6}));

    auto back = (*f)->readMatrix("w");
    ASSERT_TRUE(back) << back.message();
    EXPECT_EQ(*back, m);
    auto backT = (*f)->readMatrix("w", /*transpose=*/true);
    ASSERT_TRUE(backT);
    EXPECT_EQ(backT->rows(), 3);
    EXPECT_EQ(*backT, m.transpose());
    auto bv = (*f)->readVector("b");
    ASSERT_TRUE(bv);
    EXPECT_EQ(*bv, v);

    // The header is padded so the data section starts 8-byte aligned.
    const std::string raw = testing::readFile(path);
    std::uint64_t hlen = 0;
    std::memcpy(&hlen, raw.data(), 8);
    EXPECT_EQ((8 + hlen) % 8, 0u);
    EXPECT_EQ(raw.size(), 8 + hlen + (6 + 4) * 4);
}

TEST(SafetensorsTest, LargeMatrixBlockedCopyMatches) {
    TempDir dir;
    std::mt19937 rng(3);
    const Mat m = testing::randomMat(130, 70, 1.0f, rng);  // not a multiple of the block size
    ASSERT_TRUE(writeSafetensors(dir / "a.safetensors", {{"m", toTensor(m)}}));
    auto f = SafetensorsFile::open(dir / "a.safetensors");
    ASSERT_TRUE(f);
    EXPECT_EQ(*(*f)->readMatrix("m"), m);
    EXPECT_EQ(*(*f)->readMatrix("m", true), m.transpose());
}

TEST(SafetensorsTest, HalfAndBfloat16Conversions) {
    // Bit patterns worked out from IEEE 754 binary16: sign 1, exponent 5 (bias 15), mantissa 10.
    EXPECT_EQ(halfToFloat(0x3C00), 1.0f);
    EXPECT_EQ(halfToFloat(0xC000), -2.0f);
    EXPECT_EQ(halfToFloat(0x7BFF), 65504.0f);
    EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_EQ(halfToFloat(0x0200), std::ldexp(1.0f, -15));  // a larger subnormal
    EXPECT_TRUE(std::isinf(halfToFloat(0x7C00)));
    EXPECT_TRUE(std::isnan(halfToFloat(0x7E00)));
    EXPECT_EQ(floatToHalf(1.0f), 0x3C00);
    EXPECT_EQ(floatToHalf(-2.0f), 0xC000);
    EXPECT_EQ(floatToHalf(1.0f / 3.0f), 0x3555);  // 0.333251953125
    EXPECT_EQ(floatToHalf(1e6f), 0x7C00);         // overflow → inf
    EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -26)), 0x0000);  // rounds to zero
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1.0).
    EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
    EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
    for (std::uint32_t h = 0; h < 0x7C00; ++h) {  // every finite positive half round-trips
        ASSERT_EQ(floatToHalf(halfToFloat(static_cast<std::uint16_t>(h))), h) << h;
    }
    EXPECT_EQ(bfloat16ToFloat(0x3F80), 1.0f);
    EXPECT_EQ(bfloat16ToFloat(0xC040), -3.0f);
    EXPECT_EQ(floatToBfloat16(1.0f), 0x3F80);
    EXPECT_EQ(floatToBfloat16(1.00390625f), 0x3F80);  // 1 + 2^-8: halfway, ties to even
    EXPECT_EQ(floatToBfloat16(1.01171875f), 0x3F82);  // 1 + 3·2^-8: halfway, up to even
}

TEST(SafetensorsTest, HalfAndBfloat16FilesReadAsFloat) {
    TempDir dir;
    Mat m(2, 2);
    m << 1.0f, -0.5f, 3.0f, 1.0f / 3.0f;
    for (DType dt : {DType::F16, DType::BF16}) {
        const std::string path = dir / ("m_" + toString(dt) + ".safetensors");
        ASSERT_TRUE(writeSafetensors(path, {{"m", toTensor(m)}}, {}, dt));
        auto f = SafetensorsFile::open(path);
        ASSERT_TRUE(f) << f.message();
        EXPECT_EQ((*f)->find("m")->dtype, dt);
        EXPECT_EQ(
            std::filesystem::file_size(path), 8 + [&] {
                std::uint64_t n = 0;
                std::memcpy(&n, testing::readFile(path).data(), 8);
                return n;
            }() + 4 * 2);
        auto back = (*f)->readMatrix("m");
        ASSERT_TRUE(back);
        EXPECT_EQ((*back)(0, 0), 1.0f);
        EXPECT_EQ((*back)(0, 1), -0.5f);
        EXPECT_EQ((*back)(1, 0), 3.0f);
        const float third = dt == DType::F16 ? halfToFloat(0x3555) : bfloat16ToFloat(0x3EAB);
        EXPECT_EQ((*back)(1, 1), third);
    }
}

TEST(SafetensorsTest, OtherDtypesAreListedButNotReadAsFloats) {
    TempDir dir;
    const std::string path = dir / "ids.safetensors";
    // An I64 tensor of 2 elements (16 bytes) and an F32 tensor of 1.
    const std::string header =
        R"({"position_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},)"
        R"("w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}})";
    writeRawSafetensors(path, header, std::string(16, '\0') + f32Bytes({2.5f}));
    auto f = SafetensorsFile::open(path);
    ASSERT_TRUE(f) << f.message();
    EXPECT_EQ((*f)->find("position_ids")->dtype, DType::I64);
    auto v = (*f)->readVector("w");
    ASSERT_TRUE(v);
    EXPECT_EQ((*v)(0), 2.5f);
    auto bad = (*f)->readMatrix("position_ids");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.message().find("I64"), std::string::npos) << bad.message();
    EXPECT_NE(bad.message().find(path), std::string::npos) << bad.message();
}

TEST(SafetensorsTest, ReadingErrorsNameTheTensor) {
    TempDir dir;
    const std::string path = dir / "a.safetensors";
    ASSERT_TRUE(writeSafetensors(path, {{"v", TensorF32{{3}, {1, 2, 3}}}}));
    auto f = SafetensorsFile::open(path);
    ASSERT_TRUE(f);
    auto missing = (*f)->readMatrix("nope");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("nope"), std::string::npos);
    auto not2d = (*f)->readMatrix("v");
    ASSERT_FALSE(not2d);
    EXPECT_NE(not2d.message().find("[3]"), std::string::npos) << not2d.message();
}

TEST(SafetensorsTest, WriterRejectsInconsistentTensors) {
    TempDir dir;
    const std::string path = dir / "bad.safetensors";
    auto st = writeSafetensors(path, {{"w", TensorF32{{2, 2}, {1, 2, 3}}}});
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("'w'"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(path));
    auto dup = writeSafetensors(path, {{"a", TensorF32{{1}, {1}}}, {"a", TensorF32{{1}, {2}}}});
    EXPECT_FALSE(dup);
    EXPECT_FALSE(writeSafetensors((dir.path() / "no" / "such" / "dir.safetensors").string(),
                                  {{"a", TensorF32{{1}, {1}}}}));
}

// Every corrupt file: open fails with a message naming the file and the problem.
struct CorruptCase {
    const char* name;
    std::string header;
    std::string data;
    std::uint64_t header_len;
    const char* expect;  // a word the message must contain
};

TEST(SafetensorsTest, CorruptFilesGiveErrorsNamingTheFile) {
    TempDir dir;
    const std::string one = f32Bytes({1.0f});
    const std::string ok_entry = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    const std::vector<CorruptCase> cases = {
        {"header_past_end", ok_entry, one, 1000000, "past the end"},
        {"huge_header", ok_entry, one, std::uint64_t{1} << 40, "past the end"},
        {"not_json", "{this is not json}", one, UINT64_MAX, "JSON"},
        {"json_array", "[1, 2, 3]", one, UINT64_MAX, "object"},
        {"unknown_dtype", R"({"a":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}})", one,
         UINT64_MAX, "Q4_K"},
        {"size_mismatch", R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,4]}})", one,
         UINT64_MAX, "needs 24 bytes"},
        {"offset_out_of_range", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", one,
         UINT64_MAX, "outside the data section"},
        {"offsets_backwards", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", one,
         UINT64_MAX, "end before they begin"},
        {"overlap",
         R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
         f32Bytes({1, 2, 3}), UINT64_MAX, "overlap"},
        {"negative_shape", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", one,
         UINT64_MAX, "non-negative"},
        {"missing_offsets", R"({"a":{"dtype":"F32","shape":[1]}})", one, UINT64_MAX,
         "data_offsets"},
        {"entry_not_object", R"({"a":5})", one, UINT64_MAX, "'a'"},
        {"metadata_not_strings", R"({"__metadata__":{"x":1}})", "", UINT64_MAX, "metadata"},
        {"overflowing_shape",
         R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}})", one,
         UINT64_MAX, "large"},
    };
    for (const auto& c : cases) {
        const std::string path = dir / (std::string(c.name) + ".safetensors");
        writeRawSafetensors(path, c.header, c.data, c.header_len);
        auto f = SafetensorsFile::open(path);
        ASSERT_FALSE(f) << c.name;
        EXPECT_NE(f.message().find(path), std::string::npos) << c.name << ": " << f.message();
        EXPECT_NE(f.message().find(c.expect), std::string::npos) << c.name << ": " << f.message();
    }
}

TEST(SafetensorsTest, MissingEmptyAndTruncatedFiles) {
    TempDir dir;
    const std::string missing = dir / "nothing.safetensors";
    auto f = SafetensorsFile::open(missing);
    ASSERT_FALSE(f);
    EXPECT_NE(f.message().find(missing), std::string::npos);
    EXPECT_NE(f.message().find("no such file"), std::string::npos) << f.message();

    const std::string empty = dir / "empty.safetensors";
    writeFile(empty, "");
    f = SafetensorsFile::open(empty);
    ASSERT_FALSE(f);
    EXPECT_NE(f.message().find(empty), std::string::npos) << f.message();
    EXPECT_NE(f.message().find("too short"), std::string::npos) << f.message();

    auto folder = SafetensorsFile::open(dir.path().string());
    ASSERT_FALSE(folder);
    EXPECT_NE(folder.message().find("not a regular file"), std::string::npos);

    // A good file cut short: its last tensor now runs out of the data section.
    const std::string good = dir / "good.safetensors";
    Mat m = Mat::Ones(8, 8);
    ASSERT_TRUE(writeSafetensors(good, {{"a", toTensor(m)}, {"b", toTensor(m)}}));
    std::string bytes = testing::readFile(good);
    const std::string cut = dir / "cut.safetensors";
    writeFile(cut, bytes.substr(0, bytes.size() - 10));
    f = SafetensorsFile::open(cut);
    ASSERT_FALSE(f);
    EXPECT_NE(f.message().find(cut), std::string::npos);
    EXPECT_NE(f.message().find("'b'"), std::string::npos) << f.message();
    EXPECT_NE(f.message().find("truncated"), std::string::npos) << f.message();
    // Cut inside the header.
    writeFile(cut, bytes.substr(0, 20));
    f = SafetensorsFile::open(cut);
    ASSERT_FALSE(f);
    EXPECT_NE(f.message().find("past the end"), std::string::npos) << f.message();
}

TEST(SafetensorsTest, EveryTruncationIsAnErrorNamingTheFile) {
    TempDir dir;
    const std::string good = dir / "good.safetensors";
    ASSERT_TRUE(writeSafetensors(
        good, {{"a", TensorF32{{2, 3}, {1, 2, 3, 4, 5, 6}}}, {"b", TensorF32{{4}, {1, 2, 3, 4}}}}));
    const std::string bytes = testing::readFile(good);
    const std::string cut = dir / "cut.safetensors";
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        testing::writeFile(cut, bytes.substr(0, n));
        auto f = SafetensorsFile::open(cut);
        ASSERT_FALSE(f) << "a file cut to " << n << " of " << bytes.size() << " bytes opened";
        EXPECT_NE(f.message().find(cut), std::string::npos) << f.message();
    }
}

TEST(SafetensorsTest, RandomHeaderDamageNeverCrashes) {
    TempDir dir;
    const std::string good = dir / "good.safetensors";
    ASSERT_TRUE(writeSafetensors(
        good, {{"a", TensorF32{{2, 3}, {1, 2, 3, 4, 5, 6}}}, {"b", TensorF32{{4}, {1, 2, 3, 4}}}},
        {{"k", "v"}}));
    const std::string bytes = testing::readFile(good);
    std::uint64_t hlen = 0;
    std::memcpy(&hlen, bytes.data(), 8);
    std::mt19937 rng(42);
    const std::string bad = dir / "bad.safetensors";
    int opened = 0;
    constexpr int kTrials = 300;
    for (int trial = 0; trial < kTrials; ++trial) {
        std::string damaged = bytes;
        const int flips = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < flips; ++k) {
            // Mostly inside the header (digits, quotes, brackets), sometimes the length itself.
            const std::size_t at = rng() % 10 == 0 ? rng() % 8 : 8 + rng() % hlen;
            damaged[at] = static_cast<char>(rng() % 256);
        }
        testing::writeFile(bad, damaged);
        auto f = SafetensorsFile::open(bad);
        if (!f) {
            EXPECT_NE(f.message().find(bad), std::string::npos) << f.message();
            continue;
        }
        ++opened;
        // Whatever still opens must read without going outside the file.
        for (const TensorInfo& t : (*f)->tensors()) {
            if (isFloatDType(t.dtype)) {
                auto v = (*f)->readFloats(t.name);
                if (v) {
                    EXPECT_EQ(v->size(), static_cast<std::size_t>(t.elementCount()));
                }
            }
        }
    }
    std::printf("[ safetensors ] %d damaged headers: %d still valid, %d rejected\n", kTrials,
                opened, kTrials - opened);
}

// Half-precision weights stay in the file's map (packed, zero-copy) and widen to exactly what
// readMatrix gives; F32 ones are read dense; the Weight keeps the file mapped.
TEST(SafetensorsTest, HalfWeightsStayMappedAsStored) {
    TempDir dir;
    std::mt19937 rng(3);
    std::normal_distribution<float> n(0.0f, 1.0f);
    Mat linear(5, 64), table(7, 32);  // (out, in) and (vocab, d), as stored
    for (Eigen::Index i = 0; i < linear.size(); ++i) linear.data()[i] = n(rng);
    for (Eigen::Index i = 0; i < table.size(); ++i) table.data()[i] = n(rng);
    for (DType dt : {DType::F16, DType::BF16, DType::F32}) {
        const std::string path = dir / ("w_" + toString(dt) + ".safetensors");
        ASSERT_TRUE(
            writeSafetensors(path, {{"lin", toTensor(linear)}, {"emb", toTensor(table)}}, {}, dt));
        auto f = SafetensorsFile::open(path);
        ASSERT_TRUE(f) << f.message();
        auto W = readWeight(*f, "lin", Weight::Lines::AreColumns);
        auto E = readWeight(*f, "emb", Weight::Lines::AreRows);
        ASSERT_TRUE(W && E) << W.message() << E.message();
        EXPECT_EQ(W->isPacked(), dt != DType::F32) << toString(dt);
        EXPECT_EQ(E->isPacked(), dt != DType::F32) << toString(dt);
        EXPECT_EQ(W->rows(), 64);
        EXPECT_EQ(W->cols(), 5);
        EXPECT_EQ(E->rows(), 7);
        EXPECT_EQ(W->toDense(), *(*f)->readMatrix("lin", true)) << toString(dt);
        EXPECT_EQ(E->toDense(), *(*f)->readMatrix("emb")) << toString(dt);
        EXPECT_EQ(E->widenRow(3), (*f)->readMatrix("emb")->row(3));
        auto dense = readWeight(*f, "lin", Weight::Lines::AreColumns, /*pack=*/false);
        ASSERT_TRUE(dense);
        EXPECT_FALSE(dense->isPacked());
        if (dt != DType::F32) {
            std::weak_ptr<const SafetensorsFile> watch = *f;
            f = makeError("closed");
            EXPECT_FALSE(watch.expired()) << "the packed weights keep the file mapped";
            EXPECT_EQ(W->toDense(), dense->dense());
        }
    }
    auto f = SafetensorsFile::open(dir / "w_F16.safetensors");
    ASSERT_TRUE(f);
    auto missing = readWeight(*f, "nope", Weight::Lines::AreColumns);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace attn
