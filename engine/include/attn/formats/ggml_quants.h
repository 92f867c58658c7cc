#pragma once
// ggml's number formats widened to float32, and a reference quantizer for each (used by tests
// and by tools that write GGUF files). Block layouts exactly as ggml-common.h declares them:
//
//   Q8_0 (32 values, 34 bytes): half d; int8 q[32]                    x = d·q
//   Q4_0 (32 values, 18 bytes): half d; uint8 qs[16]                  x = d·(nibble − 8); byte
//        j holds value j in its low nibble and value j+16 in its high nibble
//   Q4_K (256 values, 144 bytes): half d, dmin; uint8 scales[12]; uint8 qs[128]
//        8 sub-blocks of 32 with 6-bit scale sc and min m: x = d·sc·nibble − dmin·m
//   Q5_K (256 values, 176 bytes): as Q4_K plus uint8 qh[32] (the fifth bit) before qs
//   Q6_K (256 values, 210 bytes): uint8 ql[128] (low 4 bits), qh[64] (high 2 bits);
//        int8 scales[16] (one per 16 values); half d: x = d·scale·(q − 32)
//   F16, BF16: one 16-bit number per value; F32 as is.

#include <cstdint>
#include <span>
#include <vector>

#include "attn/formats/ggml_types.h"
#include "attn/formats/gguf.h"
#include "attn/result.h"

namespace attn {

// Half and bfloat16 conversions: halfToFloat, floatToHalf, bfloat16ToFloat, floatToBfloat16
// in attn/formats/safetensors.h.

/// Whether we widen this ggml type (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K).
bool canDequantize(std::uint32_t type);

/// Bytes that n values of type take; 0 when type is unknown or n is not a multiple of its
/// block size.
std::uint64_t ggmlBytes(std::uint32_t type, std::uint64_t n);

/// Widens n values of type from src (exactly ggmlBytes(type, n) bytes) into out (n floats).
/// Fails, naming the type, when we cannot dequantize it or the sizes do not match.
Status dequantize(std::uint32_t type, std::span<const std::byte> src, std::span<float> out);

/// Rows [first, first + count) of a tensor (a row is shape[0] values) into out
/// (count · shape[0] floats). The message names the tensor.
Status dequantizeRows(const GgufTensorInfo& tensor, std::uint64_t first, std::uint64_t count,
                      std::span<float> out);

/// The whole tensor as float32 (n_elements values, row after row). Fails for more than
/// max_values values (TooLarge) so that a corrupt shape cannot make us allocate the machine.
Result<std::vector<float>> dequantizeTensor(const GgufTensorInfo& tensor,
                                            std::uint64_t max_values = 1ull << 32);

/// Quantizes values (a multiple of the block size of type) with a plain round-to-nearest
/// quantizer that follows the block layout (not llama.cpp's importance-weighted search, so
/// its error is somewhat larger, never its layout). Fails for a type we cannot dequantize.
Result<std::vector<std::byte>> quantize(std::uint32_t type, std::span<const float> values);

}  // namespace attn
