#pragma once
// GGUF files (ggml's docs/gguf.md), the container llama.cpp, Ollama and LM Studio keep models
// in: read strictly, memory-mapped, nothing copied but the metadata keys.
//
// Layout, all little-endian: "GGUF", uint32 version (2 or 3), uint64 tensor count, uint64
// metadata count; metadata key/values (key: uint64 length + bytes; uint32 value type; the
// value: a number, a bool byte, a string (uint64 length + bytes) or an array (uint32 element
// type, uint64 count, the elements)); tensor infos (name, uint32 n_dims, uint64 dims fastest
// first, uint32 ggml type, uint64 offset from the data section); padding up to
// general.alignment (default 32); the data section.
//
// Every count and length is checked against the bytes left before anything is allocated;
// tensors must lie inside the file, aligned, without overlapping; nested arrays are refused.
// Messages name the file and what is wrong.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attn/formats/ggml_types.h"
#include "attn/result.h"

namespace attn {

/// gguf_type: the type of a metadata value.
enum class GgufType : std::uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12
};

/// "uint32", "string", "array" …
std::string toString(GgufType type);

/// One tensor of a GGUF file.
struct GgufTensorInfo {
    std::string name;
    std::vector<std::uint64_t> shape;  ///< ggml order: shape[0] (ne[0]) varies fastest
    std::uint32_t type = 0;            ///< ggml type number (GgmlType)
    std::uint64_t offset = 0;          ///< from the start of the data section
    std::uint64_t n_elements = 0;      ///< product of shape
    std::span<const std::byte> data;   ///< its bytes inside the mapping

    GgmlType ggmlType() const { return static_cast<GgmlType>(type); }
    std::string typeName() const { return ggmlTypeName(type); }
    /// Values per row: shape[0] (1 for a scalar).
    std::uint64_t rowLength() const { return shape.empty() ? 1 : shape[0]; }
    /// Rows: the product of shape[1..] (1 for a vector).
    std::uint64_t rows() const;
    /// "[64, 512]"
    std::string shapeText() const;
};

/// An open GGUF file. Tensor data spans stay valid while the GgufFile lives (it owns the map).
class GgufFile {
public:
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;
    ~GgufFile();

    const std::string& path() const { return m_path; }
    std::uint32_t version() const { return m_version; }
    std::uint64_t fileSize() const;
    /// general.alignment, or 32 when the file does not set it.
    std::uint64_t alignment() const { return m_alignment; }
    /// Absolute file offset of the data section (after the infos, padded to the alignment).
    std::uint64_t dataOffset() const { return m_data_offset; }

    // Metadata. The getters fail with a message naming the file and key when the key is
    // missing or its value has another type. Integer getters accept every integer type whose
    // value fits; getFloat also accepts integers.

    /// Keys in file order.
    const std::vector<std::string>& keys() const { return m_keys; }
    bool has(std::string_view key) const;
    /// The value's type (Array for arrays); nullopt when the key is missing.
    std::optional<GgufType> typeOf(std::string_view key) const;
    /// An array's element type and length; nullopt when the key is missing or not an array.
    std::optional<GgufType> arrayTypeOf(std::string_view key) const;
    std::optional<std::uint64_t> arraySize(std::string_view key) const;

    Result<std::string> getString(std::string_view key) const;
    Result<std::int64_t> getInt(std::string_view key) const;
    Result<std::uint64_t> getUInt(std::string_view key) const;
    Result<double> getFloat(std::string_view key) const;
    Result<bool> getBool(std::string_view key) const;
    /// The value when present (a wrong type is still an error), else fallback.
    Result<std::string> getStringOr(std::string_view key, std::string fallback) const;
    Result<std::int64_t> getIntOr(std::string_view key, std::int64_t fallback) const;
    Result<double> getFloatOr(std::string_view key, double fallback) const;

    /// Arrays (tokenizer.ggml.tokens, .merges, .scores, .token_type …).
    Result<std::vector<std::string>> getStringArray(std::string_view key) const;
    /// An array of float32/float64 (or integers) widened to float.
    Result<std::vector<float>> getFloatArray(std::string_view key) const;
    /// An array of any integer type (uint64 values above INT64_MAX are an error) or bools.
    Result<std::vector<std::int64_t>> getIntArray(std::string_view key) const;

    /// A readable rendering of a value ("64", "\"llama\"", "[array of 512 string]").
    std::string describe(std::string_view key) const;

    // Tensors.

    /// In file order.
    const std::vector<GgufTensorInfo>& tensors() const { return m_tensors; }
    /// nullptr when the file has no tensor of that name.
    const GgufTensorInfo* tensor(std::string_view name) const;

private:
    friend Result<std::shared_ptr<const GgufFile>> openGguf(const std::string& path);
    GgufFile();
    struct Impl;
    struct Entry;
    const Entry* find(std::string_view key) const;
    Result<const Entry*> need(std::string_view key) const;

    std::string m_path;
    std::uint32_t m_version = 0;
    std::uint64_t m_alignment = 32;
    std::uint64_t m_data_offset = 0;
    std::vector<std::string> m_keys;
    std::vector<GgufTensorInfo> m_tensors;
    std::unique_ptr<Impl> m_impl;
};

/// Opens and checks a GGUF file (memory-mapped). Codes: NotFound, UnsupportedFormat (not GGUF,
/// big-endian, or a version other than 2 and 3), Corrupt (truncated or inconsistent), TooLarge
/// (a count beyond what the file could hold).
Result<std::shared_ptr<const GgufFile>> openGguf(const std::string& path);

/// True when the file starts with the GGUF magic (reads 4 bytes; false when it cannot be read).
bool looksLikeGguf(const std::string& path);

}  // namespace attn
