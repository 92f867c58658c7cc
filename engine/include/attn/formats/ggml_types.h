#pragma once
// ggml's tensor types: their numbers as GGUF files store them, names, and block layouts (how
// many values a block holds and how many bytes it takes). Dequantization into float32 for the
// types we read (attn/formats/ggml_quants.h) builds on this table.

#include <cstdint>
#include <string>
#include <string_view>

namespace attn {

/// ggml_type as stored in a GGUF tensor info. Numbers 4, 5 and 31–33, 36–38 were removed from
/// ggml and are not listed.
enum class GgmlType : std::uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39
};

/// The layout of one ggml type.
struct GgmlTypeInfo {
    std::string_view name;       ///< "Q4_K", as llama.cpp names it
    int block_size = 1;          ///< values per block (1 for plain numbers, 32 or 256 for quants)
    int type_size = 4;           ///< bytes per block
    bool dequantizable = false;  ///< we can widen it to float32 (ggml_quants.h)
};

/// The layout of ggml type number type; nullptr when it is not a type we know (a removed or a
/// newer one).
const GgmlTypeInfo* ggmlTypeInfo(std::uint32_t type);
inline const GgmlTypeInfo* ggmlTypeInfo(GgmlType type) {
    return ggmlTypeInfo(static_cast<std::uint32_t>(type));
}

/// "Q4_K"; "ggml type 99" for a number we do not know.
std::string ggmlTypeName(std::uint32_t type);
inline std::string ggmlTypeName(GgmlType type) {
    return ggmlTypeName(static_cast<std::uint32_t>(type));
}

}  // namespace attn
