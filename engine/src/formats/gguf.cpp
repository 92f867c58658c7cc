#include "attn/formats/gguf.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>

#include "mapped_file.h"

namespace attn {

namespace {

using detail::withThousands;

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr std::uint64_t kDefaultAlignment = 32;
// Stated maxima, far above any real model (Llama 3.1 405B has 1,138 tensors and ~40 keys;
// a 256k vocabulary is 256k array elements), so that a corrupt count fails before allocating.
constexpr std::uint64_t kMaxTensors = 1u << 20;
constexpr std::uint64_t kMaxKeys = 1u << 20;
constexpr std::uint64_t kMaxArrayElements = 1u << 24;  // 64× the largest vocabulary
constexpr std::uint64_t kMaxKeyBytes = 65535;          // gguf.md: keys are at most 2^16-1 bytes
constexpr std::uint64_t kMaxNameBytes = 64;            // gguf.md: tensor names are at most 64 bytes
constexpr std::uint32_t kMaxDims = 4;                  // GGML_MAX_DIMS
constexpr std::uint64_t kMaxAlignment = 1u << 30;

std::uint32_t le32(const std::byte* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint32_t>(p[i]);
    return v;
}
std::uint64_t le64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
    return v;
}

bool isValueType(std::uint32_t t) { return t <= static_cast<std::uint32_t>(GgufType::Float64); }

// Bytes of one scalar value; 0 for string and array (variable).
std::uint64_t scalarSize(GgufType t) {
    switch (t) {
        case GgufType::UInt8:
        case GgufType::Int8:
        case GgufType::Bool:
            return 1;
        case GgufType::UInt16:
        case GgufType::Int16:
            return 2;
        case GgufType::UInt32:
        case GgufType::Int32:
        case GgufType::Float32:
            return 4;
        case GgufType::UInt64:
        case GgufType::Int64:
        case GgufType::Float64:
            return 8;
        case GgufType::String:
        case GgufType::Array:
            return 0;
    }
    return 0;
}

bool isInteger(GgufType t) {
    switch (t) {
        case GgufType::UInt8:
        case GgufType::Int8:
        case GgufType::UInt16:
        case GgufType::Int16:
        case GgufType::UInt32:
        case GgufType::Int32:
        case GgufType::UInt64:
        case GgufType::Int64:
            return true;
        default:
            return false;
    }
}
bool isFloat(GgufType t) { return t == GgufType::Float32 || t == GgufType::Float64; }

// An integer value as a signed or unsigned 64-bit number (exactly one of them is meaningful,
// as `negative` says).
struct IntValue {
    std::uint64_t magnitude = 0;  // the value when !negative
    std::int64_t value = 0;       // the value when negative (and when it fits)
    bool negative = false;
    bool fitsSigned = true;
};

IntValue readInt(GgufType t, const std::byte* p) {
    IntValue v;
    auto fromSigned = [&](std::int64_t s) {
        v.value = s;
        v.negative = s < 0;
        v.magnitude = s < 0 ? 0 : static_cast<std::uint64_t>(s);
    };
    switch (t) {
        case GgufType::UInt8:
            fromSigned(static_cast<std::uint8_t>(p[0]));
            break;
        case GgufType::Int8:
            fromSigned(static_cast<std::int8_t>(p[0]));
            break;
        case GgufType::UInt16:
            fromSigned(static_cast<std::uint16_t>(le32(p) & 0xFFFF));
            break;
        case GgufType::Int16:
            fromSigned(static_cast<std::int16_t>(le32(p) & 0xFFFF));
            break;
        case GgufType::UInt32:
            fromSigned(le32(p));
            break;
        case GgufType::Int32:
            fromSigned(static_cast<std::int32_t>(le32(p)));
            break;
        case GgufType::Int64:
            fromSigned(static_cast<std::int64_t>(le64(p)));
            break;
        case GgufType::UInt64: {
            const std::uint64_t u = le64(p);
            v.magnitude = u;
            v.fitsSigned =
                u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
            v.value = v.fitsSigned ? static_cast<std::int64_t>(u) : 0;
            break;
        }
        default:
            break;
    }
    return v;
}

// le32/le64 above read 4/8 bytes; 16-bit values are read through a padded copy so that a
// uint16 at the very end of the file is not over-read.
IntValue readIntSafe(GgufType t, const std::byte* p) {
    if (t == GgufType::UInt16 || t == GgufType::Int16) {
        std::array<std::byte, 4> b{};
        b[0] = p[0];
        b[1] = p[1];
        return readInt(t, b.data());
    }
    return readInt(t, p);
}

double readFloat(GgufType t, const std::byte* p) {
    if (t == GgufType::Float32) {
        const std::uint32_t bits = le32(p);
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
    const std::uint64_t bits = le64(p);
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

std::string toString(GgufType type) {
    switch (type) {
        case GgufType::UInt8:
            return "uint8";
        case GgufType::Int8:
            return "int8";
        case GgufType::UInt16:
            return "uint16";
        case GgufType::Int16:
            return "int16";
        case GgufType::UInt32:
            return "uint32";
        case GgufType::Int32:
            return "int32";
        case GgufType::Float32:
            return "float32";
        case GgufType::Bool:
            return "bool";
        case GgufType::String:
            return "string";
        case GgufType::Array:
            return "array";
        case GgufType::UInt64:
            return "uint64";
        case GgufType::Int64:
            return "int64";
        case GgufType::Float64:
            return "float64";
    }
    return "gguf type " + std::to_string(static_cast<std::uint32_t>(type));
}

// ---------------------------------------------------------------------------------------------
// ggml types

const GgmlTypeInfo* ggmlTypeInfo(std::uint32_t type) {
    // Block layouts as ggml-common.h declares them (block sizes QK4_0 = QK8_0 = 32, QK_K = 256).
    static const GgmlTypeInfo kF32{"F32", 1, 4, true};
    static const GgmlTypeInfo kF16{"F16", 1, 2, true};
    static const GgmlTypeInfo kQ4_0{"Q4_0", 32, 18, true};     // half d, 16 nibble bytes
    static const GgmlTypeInfo kQ4_1{"Q4_1", 32, 20, false};    // half d, m, 16 bytes
    static const GgmlTypeInfo kQ5_0{"Q5_0", 32, 22, false};    // half d, 4 qh, 16 qs
    static const GgmlTypeInfo kQ5_1{"Q5_1", 32, 24, false};    // half d, m, 4 qh, 16 qs
    static const GgmlTypeInfo kQ8_0{"Q8_0", 32, 34, true};     // half d, 32 int8
    static const GgmlTypeInfo kQ8_1{"Q8_1", 32, 36, false};    // half d, s, 32 int8
    static const GgmlTypeInfo kQ2_K{"Q2_K", 256, 84, false};   // 16 scales, 64 qs, d, dmin
    static const GgmlTypeInfo kQ3_K{"Q3_K", 256, 110, false};  // 32 hmask, 64 qs, 12 scales, d
    static const GgmlTypeInfo kQ4_K{"Q4_K", 256, 144, true};   // d, dmin, 12 scales, 128 qs
    static const GgmlTypeInfo kQ5_K{"Q5_K", 256, 176, true};   // d, dmin, 12 scales, 32 qh, 128 qs
    static const GgmlTypeInfo kQ6_K{"Q6_K", 256, 210, true};   // 128 ql, 64 qh, 16 scales, d
    static const GgmlTypeInfo kQ8_K{"Q8_K", 256, 292, false};  // float d, 256 qs, 16 bsums
    static const GgmlTypeInfo kIQ2_XXS{"IQ2_XXS", 256, 66, false};
    static const GgmlTypeInfo kIQ2_XS{"IQ2_XS", 256, 74, false};
    static const GgmlTypeInfo kIQ3_XXS{"IQ3_XXS", 256, 98, false};
    static const GgmlTypeInfo kIQ1_S{"IQ1_S", 256, 50, false};
    static const GgmlTypeInfo kIQ4_NL{"IQ4_NL", 32, 18, false};
    static const GgmlTypeInfo kIQ3_S{"IQ3_S", 256, 110, false};
    static const GgmlTypeInfo kIQ2_S{"IQ2_S", 256, 82, false};
    static const GgmlTypeInfo kIQ4_XS{"IQ4_XS", 256, 136, false};
    static const GgmlTypeInfo kI8{"I8", 1, 1, false};
    static const GgmlTypeInfo kI16{"I16", 1, 2, false};
    static const GgmlTypeInfo kI32{"I32", 1, 4, false};
    static const GgmlTypeInfo kI64{"I64", 1, 8, false};
    static const GgmlTypeInfo kF64{"F64", 1, 8, false};
    static const GgmlTypeInfo kIQ1_M{"IQ1_M", 256, 56, false};
    static const GgmlTypeInfo kBF16{"BF16", 1, 2, true};
    static const GgmlTypeInfo kTQ1_0{"TQ1_0", 256, 54, false};
    static const GgmlTypeInfo kTQ2_0{"TQ2_0", 256, 66, false};
    static const GgmlTypeInfo kMXFP4{"MXFP4", 32, 17, false};
    switch (static_cast<GgmlType>(type)) {
        case GgmlType::F32:
            return &kF32;
        case GgmlType::F16:
            return &kF16;
        case GgmlType::Q4_0:
            return &kQ4_0;
        case GgmlType::Q4_1:
            return &kQ4_1;
        case GgmlType::Q5_0:
            return &kQ5_0;
        case GgmlType::Q5_1:
            return &kQ5_1;
        case GgmlType::Q8_0:
            return &kQ8_0;
        case GgmlType::Q8_1:
            return &kQ8_1;
        case GgmlType::Q2_K:
            return &kQ2_K;
        case GgmlType::Q3_K:
            return &kQ3_K;
        case GgmlType::Q4_K:
            return &kQ4_K;
        case GgmlType::Q5_K:
            return &kQ5_K;
        case GgmlType::Q6_K:
            return &kQ6_K;
        case GgmlType::Q8_K:
            return &kQ8_K;
        case GgmlType::IQ2_XXS:
            return &kIQ2_XXS;
        case GgmlType::IQ2_XS:
            return &kIQ2_XS;
        case GgmlType::IQ3_XXS:
            return &kIQ3_XXS;
        case GgmlType::IQ1_S:
            return &kIQ1_S;
        case GgmlType::IQ4_NL:
            return &kIQ4_NL;
        case GgmlType::IQ3_S:
            return &kIQ3_S;
        case GgmlType::IQ2_S:
            return &kIQ2_S;
        case GgmlType::IQ4_XS:
            return &kIQ4_XS;
        case GgmlType::I8:
            return &kI8;
        case GgmlType::I16:
            return &kI16;
        case GgmlType::I32:
            return &kI32;
        case GgmlType::I64:
            return &kI64;
        case GgmlType::F64:
            return &kF64;
        case GgmlType::IQ1_M:
            return &kIQ1_M;
        case GgmlType::BF16:
            return &kBF16;
        case GgmlType::TQ1_0:
            return &kTQ1_0;
        case GgmlType::TQ2_0:
            return &kTQ2_0;
        case GgmlType::MXFP4:
            return &kMXFP4;
    }
    return nullptr;
}

std::string ggmlTypeName(std::uint32_t type) {
    const GgmlTypeInfo* info = ggmlTypeInfo(type);
    return info != nullptr ? std::string(info->name) : "ggml type " + std::to_string(type);
}

// ---------------------------------------------------------------------------------------------
// Tensor info

std::uint64_t GgufTensorInfo::rows() const {
    std::uint64_t r = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) r *= shape[i];  // checked at open
    return r;
}

std::string GgufTensorInfo::shapeText() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

// ---------------------------------------------------------------------------------------------
// The file

struct GgufFile::Entry {
    GgufType type = GgufType::UInt8;
    GgufType element_type = GgufType::UInt8;  // arrays only
    std::uint64_t count = 1;                  // arrays: elements
    std::uint64_t value_offset = 0;           // file offset of the value (arrays: first element)
};

struct GgufFile::Impl {
    detail::MappedFile file;
    std::vector<Entry> entries;  // in key order of m_keys
    std::map<std::string, std::size_t, std::less<>> by_key;
    std::map<std::string, std::size_t, std::less<>> by_tensor;
};

GgufFile::GgufFile() : m_impl(std::make_unique<Impl>()) {}
GgufFile::~GgufFile() = default;

std::uint64_t GgufFile::fileSize() const { return m_impl->file.size(); }

const GgufFile::Entry* GgufFile::find(std::string_view key) const {
    const auto it = m_impl->by_key.find(key);
    return it == m_impl->by_key.end() ? nullptr : &m_impl->entries[it->second];
}

Result<const GgufFile::Entry*> GgufFile::need(std::string_view key) const {
    const Entry* e = find(key);
    if (e == nullptr) {
        return makeError(m_path + ": has no metadata key " + quoted(key), ErrorCode::Corrupt);
    }
    return e;
}

bool GgufFile::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<GgufType> GgufFile::typeOf(std::string_view key) const {
    const Entry* e = find(key);
    if (e == nullptr) return std::nullopt;
    return e->type;
}

std::optional<GgufType> GgufFile::arrayTypeOf(std::string_view key) const {
    const Entry* e = find(key);
    if (e == nullptr || e->type != GgufType::Array) return std::nullopt;
    return e->element_type;
}

std::optional<std::uint64_t> GgufFile::arraySize(std::string_view key) const {
    const Entry* e = find(key);
    if (e == nullptr || e->type != GgufType::Array) return std::nullopt;
    return e->count;
}

namespace {

Error wrongType(const std::string& path, std::string_view key, GgufType got, const char* want) {
    return makeError(
        path + ": metadata " + quoted(key) + " is a " + toString(got) + ", not " + want,
        ErrorCode::Corrupt);
}

}  // namespace

Result<std::string> GgufFile::getString(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    if ((*e)->type != GgufType::String) return wrongType(m_path, key, (*e)->type, "a string");
    const std::byte* p = m_impl->file.data() + (*e)->value_offset;
    const std::uint64_t len = le64(p);  // checked at open
    return std::string(reinterpret_cast<const char*>(p + 8), static_cast<std::size_t>(len));
}

Result<std::int64_t> GgufFile::getInt(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    if (!isInteger((*e)->type)) return wrongType(m_path, key, (*e)->type, "an integer");
    const IntValue v = readIntSafe((*e)->type, m_impl->file.data() + (*e)->value_offset);
    if (!v.fitsSigned) {
        return makeError(m_path + ": metadata " + quoted(key) + " = " +
                             std::to_string(v.magnitude) + " is too large",
                         ErrorCode::Corrupt);
    }
    return v.value;
}

Result<std::uint64_t> GgufFile::getUInt(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    if (!isInteger((*e)->type)) return wrongType(m_path, key, (*e)->type, "an integer");
    const IntValue v = readIntSafe((*e)->type, m_impl->file.data() + (*e)->value_offset);
    if (v.negative) {
        return makeError(
            m_path + ": metadata " + quoted(key) + " = " + std::to_string(v.value) + " is negative",
            ErrorCode::Corrupt);
    }
    return v.magnitude;
}

Result<double> GgufFile::getFloat(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    const std::byte* p = m_impl->file.data() + (*e)->value_offset;
    if (isFloat((*e)->type)) return readFloat((*e)->type, p);
    if (isInteger((*e)->type)) {
        const IntValue v = readIntSafe((*e)->type, p);
        return v.negative || v.fitsSigned ? static_cast<double>(v.value)
                                          : static_cast<double>(v.magnitude);
    }
    return wrongType(m_path, key, (*e)->type, "a number");
}

Result<bool> GgufFile::getBool(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    if ((*e)->type != GgufType::Bool) return wrongType(m_path, key, (*e)->type, "a bool");
    return m_impl->file.data()[(*e)->value_offset] != std::byte{0};
}

Result<std::string> GgufFile::getStringOr(std::string_view key, std::string fallback) const {
    if (!has(key)) return fallback;
    return getString(key);
}
Result<std::int64_t> GgufFile::getIntOr(std::string_view key, std::int64_t fallback) const {
    if (!has(key)) return fallback;
    return getInt(key);
}
Result<double> GgufFile::getFloatOr(std::string_view key, double fallback) const {
    if (!has(key)) return fallback;
    return getFloat(key);
}

Result<std::vector<std::string>> GgufFile::getStringArray(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    if ((*e)->type != GgufType::Array || (*e)->element_type != GgufType::String) {
        return makeError(m_path + ": metadata " + quoted(key) + " is not an array of strings",
                         ErrorCode::Corrupt);
    }
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>((*e)->count));  // ≤ remaining bytes / 8, checked at open
    const std::byte* p = m_impl->file.data() + (*e)->value_offset;
    for (std::uint64_t i = 0; i < (*e)->count; ++i) {
        const std::uint64_t len = le64(p);  // every length was checked at open
        out.emplace_back(reinterpret_cast<const char*>(p + 8), static_cast<std::size_t>(len));
        p += 8 + len;
    }
    return out;
}

Result<std::vector<float>> GgufFile::getFloatArray(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    const GgufType t = (*e)->element_type;
    if ((*e)->type != GgufType::Array || !(isFloat(t) || isInteger(t))) {
        return makeError(m_path + ": metadata " + quoted(key) + " is not an array of numbers",
                         ErrorCode::Corrupt);
    }
    const std::uint64_t step = scalarSize(t);
    std::vector<float> out(static_cast<std::size_t>((*e)->count));
    const std::byte* p = m_impl->file.data() + (*e)->value_offset;
    for (std::size_t i = 0; i < out.size(); ++i, p += step) {
        if (isFloat(t)) {
            out[i] = static_cast<float>(readFloat(t, p));
        } else {
            const IntValue v = readIntSafe(t, p);
            out[i] = v.negative || v.fitsSigned ? static_cast<float>(v.value)
                                                : static_cast<float>(v.magnitude);
        }
    }
    return out;
}

Result<std::vector<std::int64_t>> GgufFile::getIntArray(std::string_view key) const {
    auto e = need(key);
    if (!e) return e.error();
    const GgufType t = (*e)->element_type;
    if ((*e)->type != GgufType::Array || !(isInteger(t) || t == GgufType::Bool)) {
        return makeError(m_path + ": metadata " + quoted(key) + " is not an array of integers",
                         ErrorCode::Corrupt);
    }
    const std::uint64_t step = scalarSize(t);
    std::vector<std::int64_t> out(static_cast<std::size_t>((*e)->count));
    const std::byte* p = m_impl->file.data() + (*e)->value_offset;
    for (std::size_t i = 0; i < out.size(); ++i, p += step) {
        if (t == GgufType::Bool) {
            out[i] = p[0] != std::byte{0} ? 1 : 0;
            continue;
        }
        const IntValue v = readIntSafe(t, p);
        if (!v.fitsSigned) {
            return makeError(m_path + ": metadata " + quoted(key) + "[" + std::to_string(i) +
                                 "] = " + std::to_string(v.magnitude) + " is too large",
                             ErrorCode::Corrupt);
        }
        out[i] = v.value;
    }
    return out;
}

std::string GgufFile::describe(std::string_view key) const {
    const Entry* e = find(key);
    if (e == nullptr) return "(missing)";
    const std::byte* p = m_impl->file.data() + e->value_offset;
    switch (e->type) {
        case GgufType::String: {
            auto s = getString(key);
            return s ? "\"" + *s + "\"" : s.message();
        }
        case GgufType::Array:
            return "[array of " + std::to_string(e->count) + " " + toString(e->element_type) + "]";
        case GgufType::Bool:
            return p[0] != std::byte{0} ? "true" : "false";
        case GgufType::Float32:
        case GgufType::Float64:
            return std::to_string(readFloat(e->type, p));
        default: {
            const IntValue v = readIntSafe(e->type, p);
            return v.negative || v.fitsSigned ? std::to_string(v.value)
                                              : std::to_string(v.magnitude);
        }
    }
}

const GgufTensorInfo* GgufFile::tensor(std::string_view name) const {
    const auto it = m_impl->by_tensor.find(name);
    return it == m_impl->by_tensor.end() ? nullptr : &m_tensors[it->second];
}

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

// A cursor over the mapping that never reads past its end: every read is checked first.
struct Cursor {
    const std::string& path;
    const std::byte* data;
    std::uint64_t size;
    std::uint64_t pos = 0;

    std::uint64_t left() const { return size - pos; }

    Error truncated(const std::string& what) const {
        return makeError(path + ": the file ends inside " + what + " (at byte " +
                             withThousands(pos) + " of " + withThousands(size) +
                             ") — it is truncated",
                         ErrorCode::Corrupt);
    }
    Status need(std::uint64_t n, const std::string& what) const {
        if (left() < n) return truncated(what);
        return Ok{};
    }
    Result<std::uint32_t> u32(const std::string& what) {
        if (left() < 4) return truncated(what);
        const std::uint32_t v = le32(data + pos);
        pos += 4;
        return v;
    }
    Result<std::uint64_t> u64(const std::string& what) {
        if (left() < 8) return truncated(what);
        const std::uint64_t v = le64(data + pos);
        pos += 8;
        return v;
    }
    // A string: uint64 length then bytes; max bounds the length before the file does.
    Result<std::string_view> str(const std::string& what, std::uint64_t max) {
        auto len = u64(what + "'s length");
        if (!len) return len.error();
        if (*len > max && max < left()) {
            return makeError(path + ": " + what + " claims " + withThousands(*len) +
                                 " bytes, more than the " + withThousands(max) + " allowed",
                             ErrorCode::Corrupt);
        }
        if (left() < *len) {
            return makeError(path + ": " + what + " claims " + withThousands(*len) +
                                 " bytes but only " + withThousands(left()) +
                                 " are left — the file is truncated or corrupt",
                             ErrorCode::Corrupt);
        }
        std::string_view s(reinterpret_cast<const char*>(data + pos),
                           static_cast<std::size_t>(*len));
        pos += *len;
        return s;
    }
};

// Printable form of a key for messages (keys are meant to be ASCII; a corrupt one may not be).
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 80)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7F) ? c : '?';
    }
    if (s.size() > 80) out += "…";
    return out;
}

}  // namespace

Result<std::shared_ptr<const GgufFile>> openGguf(const std::string& path) {
    auto mapped = detail::MappedFile::open(path);
    if (!mapped) return mapped.error();
    std::shared_ptr<GgufFile> g(new GgufFile());
    g->m_path = path;
    g->m_impl->file = std::move(mapped).value();
    const detail::MappedFile& file = g->m_impl->file;
    Cursor cur{path, file.data(), file.size()};

    // Header.
    if (file.size() < 4 || le32(file.data()) != kMagic) {
        return makeError(path + ": not a GGUF file (it does not start with \"GGUF\")",
                         ErrorCode::UnsupportedFormat);
    }
    cur.pos = 4;
    auto version = cur.u32("the header");
    if (!version) return version.error();
    if (*version == 0x02000000u || *version == 0x03000000u) {
        return makeError(path + ": a big-endian GGUF file; only little-endian files are read",
                         ErrorCode::UnsupportedFormat);
    }
    if (*version != 2 && *version != 3) {
        return makeError(path + ": GGUF version " + std::to_string(*version) +
                             (*version == 1 ? " (the 2023 draft; convert the model again)" : "") +
                             "; versions 2 and 3 are read",
                         ErrorCode::UnsupportedFormat);
    }
    g->m_version = *version;
    auto n_tensors = cur.u64("the header");
    if (!n_tensors) return n_tensors.error();
    auto n_kv = cur.u64("the header");
    if (!n_kv) return n_kv.error();
    // Smallest key/value: 8-byte key length, 4-byte type, a 1-byte value. Smallest tensor
    // info: 8-byte name length, 4-byte n_dims, 4-byte type, 8-byte offset.
    if (*n_kv > cur.left() / 13) {
        return makeError(path + ": the header claims " + withThousands(*n_kv) +
                             " metadata entries, more than its " + withThousands(cur.left()) +
                             " remaining bytes could hold — the file is truncated or corrupt",
                         ErrorCode::Corrupt);
    }
    if (*n_tensors > cur.left() / 24) {
        return makeError(path + ": the header claims " + withThousands(*n_tensors) +
                             " tensors, more than its " + withThousands(cur.left()) +
                             " remaining bytes could hold — the file is truncated or corrupt",
                         ErrorCode::Corrupt);
    }
    if (*n_kv > kMaxKeys || *n_tensors > kMaxTensors) {
        return makeError(path + ": " + withThousands(*n_kv) + " metadata entries and " +
                             withThousands(*n_tensors) + " tensors; at most " +
                             withThousands(kMaxKeys) + " and " + withThousands(kMaxTensors) +
                             " are read",
                         ErrorCode::TooLarge);
    }

    // Metadata.
    GgufFile::Impl& impl = *g->m_impl;
    impl.entries.reserve(static_cast<std::size_t>(*n_kv));
    g->m_keys.reserve(static_cast<std::size_t>(*n_kv));
    for (std::uint64_t i = 0; i < *n_kv; ++i) {
        const std::string where = "metadata entry " + std::to_string(i);
        auto key = cur.str(where + "'s key", kMaxKeyBytes);
        if (!key) return key.error();
        const std::string what = "metadata " + quoted(printable(*key));
        if (impl.by_key.find(*key) != impl.by_key.end()) {
            return makeError(path + ": " + what + " appears twice", ErrorCode::Corrupt);
        }
        auto type = cur.u32(what + "'s type");
        if (!type) return type.error();
        if (!isValueType(*type)) {
            return makeError(
                path + ": " + what + " has unknown value type " + std::to_string(*type),
                ErrorCode::Corrupt);
        }
        GgufFile::Entry e;
        e.type = static_cast<GgufType>(*type);
        if (e.type == GgufType::Array) {
            auto et = cur.u32(what + "'s element type");
            if (!et) return et.error();
            if (!isValueType(*et)) {
                return makeError(path + ": " + what + " is an array of unknown value type " +
                                     std::to_string(*et),
                                 ErrorCode::Corrupt);
            }
            e.element_type = static_cast<GgufType>(*et);
            if (e.element_type == GgufType::Array) {
                // Nothing llama.cpp writes nests arrays, and refusing them bounds the depth.
                return makeError(path + ": " + what + " is an array of arrays, which is not read",
                                 ErrorCode::Corrupt);
            }
            auto count = cur.u64(what + "'s length");
            if (!count) return count.error();
            if (*count > kMaxArrayElements) {
                return makeError(path + ": " + what + " claims " + withThousands(*count) +
                                     " elements; at most " + withThousands(kMaxArrayElements) +
                                     " are read",
                                 ErrorCode::TooLarge);
            }
            const std::uint64_t minSize =
                e.element_type == GgufType::String ? 8 : scalarSize(e.element_type);
            if (*count > cur.left() / minSize) {
                return makeError(
                    path + ": " + what + " claims " + withThousands(*count) + " elements of " +
                        toString(e.element_type) + ", more than " + "the " +
                        withThousands(cur.left()) +
                        " remaining bytes could hold — the file is truncated or corrupt",
                    ErrorCode::Corrupt);
            }
            e.count = *count;
            e.value_offset = cur.pos;
            if (e.element_type == GgufType::String) {
                for (std::uint64_t k = 0; k < *count; ++k) {
                    auto s = cur.str(what + "[" + std::to_string(k) + "]", cur.left());
                    if (!s) return s.error();
                }
            } else {
                cur.pos += *count * minSize;  // fits: checked above
            }
        } else if (e.type == GgufType::String) {
            e.value_offset = cur.pos;
            auto s = cur.str(what, cur.left());
            if (!s) return s.error();
        } else {
            const std::uint64_t n = scalarSize(e.type);
            if (Status s = cur.need(n, what + "'s value"); !s) return s.error();
            e.value_offset = cur.pos;
            cur.pos += n;
        }
        impl.by_key.emplace(std::string(*key), impl.entries.size());
        impl.entries.push_back(e);
        g->m_keys.emplace_back(*key);
    }

    // Alignment.
    if (g->has("general.alignment")) {
        auto a = g->getUInt("general.alignment");
        if (!a) return a.error();
        if (*a == 0 || (*a & (*a - 1)) != 0 || *a > kMaxAlignment) {
            return makeError(path + ": general.alignment " + std::to_string(*a) +
                                 " is not a power of two between 1 and 2^30",
                             ErrorCode::Corrupt);
        }
        g->m_alignment = *a;
    } else {
        g->m_alignment = kDefaultAlignment;
    }
    const std::uint64_t align = g->m_alignment;

    // Tensor infos.
    g->m_tensors.reserve(static_cast<std::size_t>(*n_tensors));
    std::vector<std::uint64_t> nbytes;
    nbytes.reserve(static_cast<std::size_t>(*n_tensors));
    for (std::uint64_t i = 0; i < *n_tensors; ++i) {
        const std::string where = "tensor info " + std::to_string(i);
        auto name = cur.str(where + "'s name", kMaxNameBytes);
        if (!name) return name.error();
        GgufTensorInfo t;
        t.name = std::string(*name);
        const std::string what = "tensor " + quoted(printable(t.name));
        if (impl.by_tensor.find(t.name) != impl.by_tensor.end()) {
            return makeError(path + ": " + what + " appears twice", ErrorCode::Corrupt);
        }
        auto n_dims = cur.u32(what + "'s number of dimensions");
        if (!n_dims) return n_dims.error();
        if (*n_dims > kMaxDims) {
            return makeError(path + ": " + what + " has " + std::to_string(*n_dims) +
                                 " dimensions; ggml allows at most 4",
                             ErrorCode::Corrupt);
        }
        std::uint64_t elements = 1;
        for (std::uint32_t d = 0; d < *n_dims; ++d) {
            auto dim = cur.u64(what + "'s shape");
            if (!dim) return dim.error();
            // ggml keeps element counts in int64_t.
            constexpr auto kMax =
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
            if (*dim > kMax || (*dim != 0 && elements > kMax / *dim)) {
                return makeError(path + ": " + what + "'s shape overflows 64 bits",
                                 ErrorCode::Corrupt);
            }
            elements *= *dim;
            t.shape.push_back(*dim);
        }
        t.n_elements = elements;
        auto type = cur.u32(what + "'s type");
        if (!type) return type.error();
        t.type = *type;
        const GgmlTypeInfo* info = ggmlTypeInfo(t.type);
        if (info == nullptr) {
            return makeError(path + ": " + what + " has unknown ggml type " +
                                 std::to_string(t.type) + " (a newer llama.cpp's, or corrupt)",
                             ErrorCode::Corrupt);
        }
        if (t.rowLength() % static_cast<std::uint64_t>(info->block_size) != 0) {
            return makeError(path + ": " + what + " of type " + std::string(info->name) +
                                 " has rows of " + std::to_string(t.rowLength()) +
                                 " values, not a multiple of its block size " +
                                 std::to_string(info->block_size),
                             ErrorCode::Corrupt);
        }
        auto offset = cur.u64(what + "'s offset");
        if (!offset) return offset.error();
        if (*offset % align != 0) {
            return makeError(path + ": " + what + "'s offset " + withThousands(*offset) +
                                 " is not a multiple of the alignment " + std::to_string(align),
                             ErrorCode::Corrupt);
        }
        t.offset = *offset;
        // elements / block_size · type_size cannot overflow: elements < 2^63, type_size ≤ 292
        // and block_size ≥ 32 whenever type_size > 8.
        const std::uint64_t blocks = elements / static_cast<std::uint64_t>(info->block_size);
        const std::uint64_t size = static_cast<std::uint64_t>(info->type_size);
        if (blocks > std::numeric_limits<std::uint64_t>::max() / size) {
            return makeError(path + ": " + what + " is too large", ErrorCode::Corrupt);
        }
        nbytes.push_back(blocks * size);
        impl.by_tensor.emplace(t.name, g->m_tensors.size());
        g->m_tensors.push_back(std::move(t));
    }

    // Data section: after the infos, padded to the alignment.
    const std::uint64_t infos_end = cur.pos;
    const std::uint64_t data_start = (infos_end + align - 1) / align * align;
    // A file without tensors (llama.cpp's vocabulary-only files) may end right after its infos.
    if (data_start > file.size() && !g->m_tensors.empty()) {
        return makeError(path + ": the data section would start at byte " +
                             withThousands(data_start) + ", past the end of the file (" +
                             withThousands(file.size()) + " bytes) — it is truncated",
                         ErrorCode::Corrupt);
    }
    g->m_data_offset = std::min(data_start, file.size());
    const std::uint64_t data_size = file.size() - g->m_data_offset;
    std::vector<std::size_t> order(g->m_tensors.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = 0; i < order.size(); ++i) {
        GgufTensorInfo& t = g->m_tensors[i];
        if (t.offset > data_size || nbytes[i] > data_size - t.offset) {
            return makeError(path + ": tensor " + quoted(printable(t.name)) + " (" + t.typeName() +
                                 " " + t.shapeText() + ", " + withThousands(nbytes[i]) +
                                 " bytes at data offset " + withThousands(t.offset) +
                                 ") runs past the end of the file (" + withThousands(data_size) +
                                 " bytes of data) — it is truncated or corrupt",
                             ErrorCode::Corrupt);
        }
        t.data = std::span<const std::byte>(file.data() + g->m_data_offset + t.offset,
                                            static_cast<std::size_t>(nbytes[i]));
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return g->m_tensors[a].offset < g->m_tensors[b].offset;
    });
    for (std::size_t k = 1; k < order.size(); ++k) {
        const GgufTensorInfo& prev = g->m_tensors[order[k - 1]];
        const GgufTensorInfo& next = g->m_tensors[order[k]];
        if (prev.offset + nbytes[order[k - 1]] > next.offset) {
            return makeError(path + ": tensors " + quoted(printable(prev.name)) + " and " +
                                 quoted(printable(next.name)) + " overlap (data offsets " +
                                 withThousands(prev.offset) + " + " +
                                 withThousands(nbytes[order[k - 1]]) + " bytes and " +
                                 withThousands(next.offset) + ")",
                             ErrorCode::Corrupt);
        }
    }
    return std::shared_ptr<const GgufFile>(std::move(g));
}

bool looksLikeGguf(const std::string& path) {
    // Only a regular file is opened: a FIFO would block the open.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    std::ifstream in(path, std::ios::binary);
    std::array<char, 4> magic{};
    if (!in.read(magic.data(), 4)) return false;
    return std::memcmp(magic.data(), "GGUF", 4) == 0;
}

}  // namespace attn
