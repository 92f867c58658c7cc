// GGUF files: the container reader (metadata of every type, tensor infos, alignment, the data
// section) on files written here byte by byte, on the real stories260K.gguf, and on broken
// files — each broken file gives a message naming the file and the problem, never a crash.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "attn/formats/gguf.h"
#include "formats_test_util.h"
#include "gguf_test_writer.h"

namespace attn {
namespace {

namespace fs = std::filesystem;
using testing::GgufWriter;
using testing::TempDir;

const fs::path kStoriesDir = testing::sharedDir() / "models" / "stories260K";
const std::string kStoriesGguf = (kStoriesDir / "stories260K.gguf").string();

#define REQUIRE_FILE(path)                                                        \
    do {                                                                          \
        if (!fs::exists(path)) {                                                  \
            if (testing::onCi()) FAIL() << (path) << " is missing";               \
            GTEST_SKIP() << (path) << " not found — the GGUF checks did NOT run"; \
        }                                                                         \
    } while (0)

// A small valid file with one value of every metadata type and two tensors.
GgufWriter everyTypeWriter() {
    GgufWriter w;
    w.addU8("t.u8", 200);
    w.addI8("t.i8", -100);
    w.addU16("t.u16", 60000);
    w.addI16("t.i16", -30000);
    w.addU32("t.u32", 4000000000u);
    w.addI32("t.i32", -2000000000);
    w.addF32("t.f32", 0.25f);
    w.addBool("t.bool", true);
    w.addString("t.str", "llama");
    w.addU64("t.u64", 18000000000000000000ull);
    w.addI64("t.i64", -9000000000000000000ll);
    w.addF64("t.f64", 1e-300);
    w.addStringArray("t.strs", {"<unk>", "", "▁a"});
    w.addF32Array("t.f32s", {0.5f, -1.0f});
    w.addI32Array("t.i32s", {1, -2, 3});
    w.addF32Tensor("a", {3, 2}, {1, 2, 3, 4, 5, 6});
    w.addF32Tensor("b", {5}, {7, 8, 9, 10, 11});
    return w;
}

TEST(GgufContainer, ReadsEveryMetadataType) {
    TempDir dir;
    const std::string path = dir / "all.gguf";
    everyTypeWriter().write(path);
    auto g = openGguf(path);
    ASSERT_TRUE(g) << g.message();
    const GgufFile& f = **g;
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.keys().size(), 15u);
    EXPECT_EQ(f.keys().front(), "t.u8");
    EXPECT_EQ(*f.getInt("t.u8"), 200);
    EXPECT_EQ(*f.getInt("t.i8"), -100);
    EXPECT_EQ(*f.getInt("t.u16"), 60000);
    EXPECT_EQ(*f.getInt("t.i16"), -30000);
    EXPECT_EQ(*f.getInt("t.u32"), 4000000000ll);
    EXPECT_EQ(*f.getInt("t.i32"), -2000000000);
    EXPECT_FLOAT_EQ(static_cast<float>(*f.getFloat("t.f32")), 0.25f);
    EXPECT_TRUE(*f.getBool("t.bool"));
    EXPECT_EQ(*f.getString("t.str"), "llama");
    EXPECT_EQ(*f.getUInt("t.u64"), 18000000000000000000ull);
    EXPECT_FALSE(f.getInt("t.u64")) << "a uint64 above INT64_MAX does not fit getInt";
    EXPECT_EQ(*f.getInt("t.i64"), -9000000000000000000ll);
    EXPECT_FALSE(f.getUInt("t.i64")) << "negative";
    EXPECT_DOUBLE_EQ(*f.getFloat("t.f64"), 1e-300);
    EXPECT_DOUBLE_EQ(*f.getFloat("t.u8"), 200.0) << "getFloat widens integers";
    EXPECT_EQ(*f.getStringArray("t.strs"), (std::vector<std::string>{"<unk>", "", "▁a"}));
    EXPECT_EQ(*f.getFloatArray("t.f32s"), (std::vector<float>{0.5f, -1.0f}));
    EXPECT_EQ(*f.getIntArray("t.i32s"), (std::vector<std::int64_t>{1, -2, 3}));
    EXPECT_EQ(f.typeOf("t.strs"), GgufType::Array);
    EXPECT_EQ(f.arrayTypeOf("t.strs"), GgufType::String);
    EXPECT_EQ(f.arraySize("t.i32s"), 3u);
    EXPECT_EQ(f.describe("t.str"), "\"llama\"");
    EXPECT_EQ(f.describe("t.strs"), "[array of 3 string]");

    // Missing keys and wrong types are errors that name the file and the key.
    auto missing = f.getString("nope");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find(path), std::string::npos);
    EXPECT_NE(missing.message().find("'nope'"), std::string::npos);
    auto wrong = f.getString("t.u32");
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.message().find("uint32"), std::string::npos) << wrong.message();
    EXPECT_FALSE(f.getStringArray("t.f32s"));
    EXPECT_FALSE(f.getIntArray("t.strs"));
    EXPECT_EQ(*f.getIntOr("nope", 7), 7);
    EXPECT_FALSE(f.getIntOr("t.str", 7)) << "present with another type is still an error";
    EXPECT_FALSE(f.has("nope"));

    // Tensors.
    ASSERT_EQ(f.tensors().size(), 2u);
    const GgufTensorInfo* a = f.tensor("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (std::vector<std::uint64_t>{3, 2}));
    EXPECT_EQ(a->rowLength(), 3u);
    EXPECT_EQ(a->rows(), 2u);
    EXPECT_EQ(a->n_elements, 6u);
    EXPECT_EQ(a->ggmlType(), GgmlType::F32);
    EXPECT_EQ(a->typeName(), "F32");
    EXPECT_EQ(a->shapeText(), "[3, 2]");
    ASSERT_EQ(a->data.size(), 24u);
    float v[6];
    std::memcpy(v, a->data.data(), 24);
    EXPECT_EQ(v[0], 1.0f);
    EXPECT_EQ(v[5], 6.0f);
    const GgufTensorInfo* b = f.tensor("b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->offset, 32u) << "the second tensor starts at the next multiple of 32";
    EXPECT_EQ(f.dataOffset() % 32, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->data.data()) -
                  reinterpret_cast<std::uintptr_t>(a->data.data()),
              32u);
    EXPECT_EQ(f.tensor("c"), nullptr);
}

TEST(GgufContainer, Version2AndCustomAlignment) {
    TempDir dir;
    GgufWriter w;
    w.version = 2;
    w.alignment = 64;
    w.addU32("general.alignment", 64);
    w.addF32Tensor("x", {4}, {1, 2, 3, 4});
    w.addF32Tensor("y", {4}, {5, 6, 7, 8});
    w.write(dir / "v2.gguf");
    auto g = openGguf(dir / "v2.gguf");
    ASSERT_TRUE(g) << g.message();
    EXPECT_EQ((*g)->version(), 2u);
    EXPECT_EQ((*g)->alignment(), 64u);
    EXPECT_EQ((*g)->dataOffset() % 64, 0u);
    EXPECT_EQ((*g)->tensor("y")->offset, 64u);
}

TEST(GgufContainer, VocabularyOnlyFileWithoutTensors) {
    TempDir dir;
    GgufWriter w;
    w.addString("tokenizer.ggml.model", "llama");
    w.write(dir / "vocab.gguf");
    auto g = openGguf(dir / "vocab.gguf");
    ASSERT_TRUE(g) << g.message();
    EXPECT_TRUE((*g)->tensors().empty());
    EXPECT_EQ(*(*g)->getString("tokenizer.ggml.model"), "llama");
}

TEST(GgufContainer, ReadsStories260K) {
    REQUIRE_FILE(kStoriesGguf);
    auto g = openGguf(kStoriesGguf);
    ASSERT_TRUE(g) << g.message();
    const GgufFile& f = **g;
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(*f.getString("general.architecture"), "llama");
    EXPECT_EQ(*f.getInt("llama.block_count"), 5);
    EXPECT_EQ(*f.getInt("llama.embedding_length"), 64);
    EXPECT_EQ(*f.getInt("llama.attention.head_count_kv"), 4);
    EXPECT_NEAR(*f.getFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
    auto tokens = f.getStringArray("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens) << tokens.message();
    ASSERT_EQ(tokens->size(), 512u);
    EXPECT_EQ((*tokens)[1], "<s>");
    EXPECT_EQ(f.getFloatArray("tokenizer.ggml.scores")->size(), 512u);
    EXPECT_EQ(f.tensors().size(), 48u);
    const GgufTensorInfo* q = f.tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->shape, (std::vector<std::uint64_t>{64, 64}));
    EXPECT_EQ(f.tensor("blk.0.attn_k.weight")->shape, (std::vector<std::uint64_t>{64, 32}));
    EXPECT_EQ(f.tensor("token_embd.weight")->data.size(), 64u * 512u * 4u);
}

// ---------------------------------------------------------------------------------------------
// Broken files

// Opens bytes written to a file; expects failure with the path and every fragment in the
// message.
void expectRefused(const std::string& bytes, const std::vector<std::string>& fragments,
                   ErrorCode code = ErrorCode::Corrupt) {
    TempDir dir;
    const std::string path = dir / "bad.gguf";
    testing::writeFile(path, bytes);
    auto g = openGguf(path);
    ASSERT_FALSE(g) << "opened a broken file";
    EXPECT_EQ(g.code(), code) << g.message();
    EXPECT_NE(g.message().find(path), std::string::npos) << g.message();
    for (const auto& f : fragments)
        EXPECT_NE(g.message().find(f), std::string::npos) << g.message();
}

TEST(GgufBroken, TruncatedAnywhere) {
    // Every prefix of a valid file: header, each key, each value, each tensor info, the padding
    // and the data. None opens, none crashes, each says it is truncated.
    std::uint64_t kvEnd = 0, infosEnd = 0;
    const std::string full = everyTypeWriter().bytes(&kvEnd, &infosEnd);
    TempDir dir;
    const std::string path = dir / "cut.gguf";
    int truncatedMessages = 0;
    for (std::size_t n = 0; n < full.size(); ++n) {
        testing::writeFile(path, full.substr(0, n));
        auto g = openGguf(path);
        ASSERT_FALSE(g) << "a file cut at byte " << n << " of " << full.size() << " opened";
        EXPECT_NE(g.message().find(path), std::string::npos);
        if (g.message().find("truncated") != std::string::npos) ++truncatedMessages;
    }
    // Only the first 4 bytes (no magic yet) may say something else.
    EXPECT_GE(truncatedMessages, static_cast<int>(full.size()) - 4);
    EXPECT_GT(infosEnd, kvEnd);
}

TEST(GgufBroken, WrongMagicVersionEndianness) {
    GgufWriter w = everyTypeWriter();
    w.magic = "GGML";
    expectRefused(w.bytes(), {"not a GGUF file"}, ErrorCode::UnsupportedFormat);
    expectRefused("", {"not a GGUF file"}, ErrorCode::UnsupportedFormat);
    w.magic = "GGUF";
    w.version = 1;
    expectRefused(w.bytes(), {"version 1"}, ErrorCode::UnsupportedFormat);
    w.version = 4;
    expectRefused(w.bytes(), {"version 4"}, ErrorCode::UnsupportedFormat);
    w.version = 0x03000000u;
    expectRefused(w.bytes(), {"big-endian"}, ErrorCode::UnsupportedFormat);
}

TEST(GgufBroken, HugeCounts) {
    GgufWriter w = everyTypeWriter();
    w.tensor_count_override = 1ull << 62;
    expectRefused(w.bytes(), {"tensors", "could hold"});
    w.tensor_count_override = UINT64_MAX - 1;
    expectRefused(w.bytes(), {"tensors"});
    w = everyTypeWriter();
    w.kv_count_override = 1ull << 40;
    expectRefused(w.bytes(), {"metadata entries"});

    // A string array claiming 2^60 strings, and a string claiming 2^60 bytes.
    GgufWriter a;
    std::string arr;
    GgufWriter::put32(arr, 8);
    GgufWriter::put64(arr, 1ull << 60);
    a.addRaw("tokenizer.ggml.tokens", 9, arr);
    expectRefused(a.bytes(), {"'tokenizer.ggml.tokens'", "elements"});
    GgufWriter s;
    std::string str;
    GgufWriter::put64(str, 1ull << 60);
    s.addRaw("general.name", 8, str + "abc");
    expectRefused(s.bytes(), {"'general.name'", "bytes"});
    // A key of 2^40 bytes.
    std::string k = "GGUF";
    GgufWriter::put32(k, 3);
    GgufWriter::put64(k, 0);
    GgufWriter::put64(k, 1);
    GgufWriter::put64(k, 1ull << 40);
    k += std::string(64, 'x');
    expectRefused(k, {"key", "truncated"});
    // A string inside an array that runs past the end.
    GgufWriter in;
    std::string arr2;
    GgufWriter::put32(arr2, 8);
    GgufWriter::put64(arr2, 2);
    GgufWriter::putStr(arr2, "ok");
    GgufWriter::put64(arr2, 1000);
    in.addRaw("t", 9, arr2 + "short");
    expectRefused(in.bytes(), {"'t'[1]", "truncated"});
}

TEST(GgufBroken, BadAlignment) {
    for (std::uint32_t a : {0u, 3u, 48u}) {
        GgufWriter w;
        w.addU32("general.alignment", a);
        w.addF32Tensor("x", {4}, {1, 2, 3, 4});
        expectRefused(w.bytes(), {"general.alignment " + std::to_string(a), "power of two"});
    }
    GgufWriter s;
    s.addString("general.alignment", "32");
    s.addF32Tensor("x", {4}, {1, 2, 3, 4});
    expectRefused(s.bytes(), {"general.alignment", "string"});
    // A tensor offset that is not a multiple of the alignment.
    GgufWriter m;
    m.addF32Tensor("x", {4}, {1, 2, 3, 4});
    m.addTensor("y", {4}, 0, std::string(16, '\0'), 40);
    expectRefused(m.bytes(), {"'y'", "offset 40", "alignment 32"});
}

TEST(GgufBroken, OverlappingAndOutOfRangeTensors) {
    GgufWriter w;
    w.addF32Tensor("first", {16}, std::vector<float>(16, 1.0f));  // 64 bytes at 0
    w.addTensor("second", {8}, 0, std::string(32, '\0'), 32);     // inside first
    expectRefused(w.bytes(), {"'first'", "'second'", "overlap"});

    GgufWriter r;
    r.addF32Tensor("x", {4}, {1, 2, 3, 4});
    r.addTensor("far", {4}, 0, std::string(), 1ull << 40);
    expectRefused(r.bytes(), {"'far'", "past the end"});

    // Data section cut: the header promises 64 floats but the file stops after 16.
    GgufWriter c;
    c.addF32Tensor("x", {64}, std::vector<float>(64, 2.0f));
    const std::string full = c.bytes();
    expectRefused(full.substr(0, full.size() - 192), {"'x'", "past the end", "truncated"});
}

TEST(GgufBroken, BadTensorInfos) {
    GgufWriter u;
    u.addTensor("w", {32}, 99, std::string(128, '\0'));
    expectRefused(u.bytes(), {"'w'", "unknown ggml type 99"});
    GgufWriter removed;
    removed.addTensor("w", {32}, 4, std::string(128, '\0'));  // Q4_2, removed from ggml
    expectRefused(removed.bytes(), {"unknown ggml type 4"});

    GgufWriter dims;
    dims.addTensor("w", {1, 1, 1, 1, 1}, 0, std::string(4, '\0'));
    expectRefused(dims.bytes(), {"'w'", "5 dimensions"});

    GgufWriter over;
    over.addTensor("w", {1ull << 32, 1ull << 32}, 0, std::string());
    expectRefused(over.bytes(), {"'w'", "overflows"});

    GgufWriter block;
    block.addTensor("w", {48}, static_cast<std::uint32_t>(GgmlType::Q4_K), std::string(144, '\0'));
    expectRefused(block.bytes(), {"'w'", "Q4_K", "block size 256"});

    GgufWriter dup;
    dup.addF32Tensor("w", {1}, {1});
    dup.addF32Tensor("w", {1}, {2});
    expectRefused(dup.bytes(), {"'w'", "twice"});

    GgufWriter longName;
    longName.addF32Tensor(std::string(65, 'n'), {1}, {1});
    expectRefused(longName.bytes(), {"name", "64 allowed"});
}

TEST(GgufBroken, BadMetadata) {
    GgufWriter t;
    t.addRaw("k", 13, std::string(8, '\0'));
    expectRefused(t.bytes(), {"'k'", "unknown value type 13"});

    GgufWriter nested;
    std::string arr;
    GgufWriter::put32(arr, 9);
    GgufWriter::put64(arr, 1);
    nested.addRaw("k", 9, arr);
    expectRefused(nested.bytes(), {"'k'", "array of arrays"});

    GgufWriter et;
    std::string arr2;
    GgufWriter::put32(arr2, 77);
    GgufWriter::put64(arr2, 1);
    et.addRaw("k", 9, arr2);
    expectRefused(et.bytes(), {"'k'", "unknown value type 77"});

    GgufWriter dup;
    dup.addU32("k", 1);
    dup.addU32("k", 2);
    expectRefused(dup.bytes(), {"'k'", "twice"});
}

TEST(GgufContainer, LooksLikeGguf) {
    TempDir dir;
    everyTypeWriter().write(dir / "a.gguf");
    testing::writeFile(dir / "b.bin", "GGML....");
    EXPECT_TRUE(looksLikeGguf(dir / "a.gguf"));
    EXPECT_FALSE(looksLikeGguf(dir / "b.bin"));
    EXPECT_FALSE(looksLikeGguf(dir / "missing"));
    auto missing = openGguf(dir / "missing.gguf");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.code(), ErrorCode::NotFound);
}

}  // namespace
}  // namespace attn
