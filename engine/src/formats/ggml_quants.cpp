#include "attn/formats/ggml_quants.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "attn/formats/safetensors.h"

namespace attn {

namespace {

constexpr int kQK = 32;    // QK4_0 = QK8_0
constexpr int kQKK = 256;  // QK_K: super-blocks of the k-quants

std::uint16_t le16(const std::byte* p) {
    return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) |
                                      (static_cast<unsigned>(p[1]) << 8));
}
void put16(std::byte* p, std::uint16_t v) {
    p[0] = static_cast<std::byte>(v & 0xFF);
    p[1] = static_cast<std::byte>(v >> 8);
}
std::uint8_t u8(const std::byte* p, int i) { return static_cast<std::uint8_t>(p[i]); }

// ---- dequantization, one block at a time; y receives block_size values

void dequantQ8_0(const std::byte* b, float* y) {
    const float d = halfToFloat(le16(b));
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(static_cast<std::int8_t>(b[2 + j]));
}

void dequantQ4_0(const std::byte* b, float* y) {
    const float d = halfToFloat(le16(b));
    const std::byte* qs = b + 2;
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = d * static_cast<float>((u8(qs, j) & 0x0F) - 8);
        y[j + kQK / 2] = d * static_cast<float>((u8(qs, j) >> 4) - 8);
    }
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block (ggml's get_scale_min_k4):
// sub-blocks 0–3 keep theirs in the low 6 bits of bytes 0–3 (scales) and 4–7 (mins);
// sub-blocks 4–7 put their low 4 bits in bytes 8–11 and their top 2 bits in the top bits of
// bytes 0–3 (scales) and 4–7 (mins).
void scaleMinK4(int j, const std::byte* q, int* sc, int* m) {
    if (j < 4) {
        *sc = u8(q, j) & 63;
        *m = u8(q, j + 4) & 63;
    } else {
        *sc = (u8(q, j + 4) & 0x0F) | ((u8(q, j - 4) >> 6) << 4);
        *m = (u8(q, j + 4) >> 4) | ((u8(q, j) >> 6) << 4);
    }
}

// Q4_K and Q5_K share their layout: d, dmin, 12 bytes of 6-bit scales and mins, then four
// chunks of 64 values, 32 bytes whose low nibbles are sub-block 2c and high nibbles 2c+1. Q5_K
// adds 32 bytes qh before the nibbles: the fifth bit of value l of sub-block s is bit s of qh[l].
template <bool kFifthBit>
void dequantK4or5(const std::byte* b, float* y, const std::byte* qh, const std::byte* qs) {
    const float d = halfToFloat(le16(b));
    const float dmin = halfToFloat(le16(b + 2));
    const std::byte* scales = b + 4;
    for (int c = 0; c < 4; ++c) {
        int sc0, m0, sc1, m1;
        scaleMinK4(2 * c, scales, &sc0, &m0);
        scaleMinK4(2 * c + 1, scales, &sc1, &m1);
        const float d0 = d * static_cast<float>(sc0), min0 = dmin * static_cast<float>(m0);
        const float d1 = d * static_cast<float>(sc1), min1 = dmin * static_cast<float>(m1);
        const std::byte* q = qs + 32 * c;
        for (int l = 0; l < 32; ++l) {
            const int h0 = kFifthBit ? (u8(qh, l) >> (2 * c)) & 1 : 0;
            const int h1 = kFifthBit ? (u8(qh, l) >> (2 * c + 1)) & 1 : 0;
            y[64 * c + l] = d0 * static_cast<float>((u8(q, l) & 0x0F) + 16 * h0) - min0;
            y[64 * c + 32 + l] = d1 * static_cast<float>((u8(q, l) >> 4) + 16 * h1) - min1;
        }
    }
}

void dequantQ4_K(const std::byte* b, float* y) { dequantK4or5<false>(b, y, nullptr, b + 16); }

void dequantQ5_K(const std::byte* b, float* y) { dequantK4or5<true>(b, y, b + 16, b + 48); }

void dequantQ6_K(const std::byte* b, float* y) {
    const std::byte* ql = b;
    const std::byte* qh = b + 128;
    const std::byte* sc = b + 192;
    const float d = halfToFloat(le16(b + 208));
    // Two halves of 128 values; in half h, value l + 32k (l < 32, k < 4) takes its low 4 bits
    // from ql[64h + l + 32(k&1)] (low nibble for k < 2, high for k ≥ 2), its high 2 bits from
    // bits 2k..2k+1 of qh[32h + l], and the scale of its 16 values, scales[8h + (l + 32k)/16].
    // Runs of 16 values share a scale and are contiguous in ql, qh and y: loops the compiler
    // vectorises (the products widen these blocks a panel at a time, every pass).
    for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 4; ++k) {
            for (int r = 0; r < 2; ++r) {
                const int p0 = 32 * k + 16 * r;
                const float ds =
                    d * static_cast<float>(static_cast<std::int8_t>(sc[8 * h + p0 / 16]));
                const std::byte* lo = ql + 64 * h + 32 * (k & 1) + 16 * r;
                const std::byte* hi = qh + 32 * h + 16 * r;
                float* out = y + 128 * h + p0;
                for (int l = 0; l < 16; ++l) {
                    const int low = static_cast<std::uint8_t>(lo[l]);
                    const int lo4 = k < 2 ? (low & 0x0F) : (low >> 4);
                    const int q =
                        (lo4 | (((static_cast<std::uint8_t>(hi[l]) >> (2 * k)) & 3) << 4)) - 32;
                    out[l] = ds * static_cast<float>(q);
                }
            }
        }
    }
}

// ---- quantization (round to nearest), one block at a time

void quantQ8_0(const float* x, std::byte* b) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::abs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put16(b, floatToHalf(d));
    for (int j = 0; j < kQK; ++j) {
        const int q = static_cast<int>(std::lround(x[j] * id));
        b[2 + j] = static_cast<std::byte>(static_cast<std::int8_t>(std::clamp(q, -127, 127)));
    }
}

void quantQ4_0(const float* x, std::byte* b) {
    // As ggml's reference: the value of largest magnitude maps to −8, so d may be negative.
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; ++j) {
        if (std::abs(x[j]) > amax) {
            amax = std::abs(x[j]);
            max = x[j];
        }
    }
    const float d = max / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put16(b, floatToHalf(d));
    auto q = [&](float v) {
        return static_cast<unsigned>(
            std::clamp(static_cast<int>(std::floor(v * id + 8.5f)), 0, 15));
    };
    for (int j = 0; j < kQK / 2; ++j)
        b[2 + j] = static_cast<std::byte>(q(x[j]) | (q(x[j + kQK / 2]) << 4));
}

// Packs eight 6-bit scales and mins into 12 bytes, the inverse of scaleMinK4.
void packScalesK4(const int* sc, const int* m, std::byte* q) {
    std::array<unsigned, 12> out{};
    for (int j = 0; j < 4; ++j) {
        out[j] = static_cast<unsigned>(sc[j]) & 63;
        out[j + 4] = static_cast<unsigned>(m[j]) & 63;
    }
    for (int j = 4; j < 8; ++j) {
        out[j + 4] =
            (static_cast<unsigned>(sc[j]) & 0x0F) | ((static_cast<unsigned>(m[j]) & 0x0F) << 4);
        out[j - 4] |= (static_cast<unsigned>(sc[j]) >> 4) << 6;
        out[j] |= (static_cast<unsigned>(m[j]) >> 4) << 6;
    }
    for (int j = 0; j < 12; ++j) q[j] = static_cast<std::byte>(out[static_cast<std::size_t>(j)]);
}

// Q4_K (levels 15) or Q5_K (levels 31): per sub-block of 32 an affine map x ≈ scale·q − min
// with min ≥ 0, then the 8 scales and mins quantized to 6 bits against d and dmin.
void quantK(const float* x, std::byte* b, int levels) {
    std::array<float, 8> scale{}, minv{};
    for (int s = 0; s < 8; ++s) {
        float lo = x[32 * s], hi = x[32 * s];
        for (int l = 0; l < 32; ++l) {
            lo = std::min(lo, x[32 * s + l]);
            hi = std::max(hi, x[32 * s + l]);
        }
        lo = std::min(lo, 0.0f);  // the format subtracts a non-negative min
        minv[static_cast<std::size_t>(s)] = -lo;
        scale[static_cast<std::size_t>(s)] = (hi - lo) / static_cast<float>(levels);
    }
    const float maxScale = *std::max_element(scale.begin(), scale.end());
    const float maxMin = *std::max_element(minv.begin(), minv.end());
    const float d = halfToFloat(floatToHalf(maxScale / 63.0f));
    const float dmin = halfToFloat(floatToHalf(maxMin / 63.0f));
    std::array<int, 8> sc{}, m{};
    for (std::size_t s = 0; s < 8; ++s) {
        sc[s] = d > 0 ? std::clamp(static_cast<int>(std::lround(scale[s] / d)), 0, 63) : 0;
        m[s] = dmin > 0 ? std::clamp(static_cast<int>(std::lround(minv[s] / dmin)), 0, 63) : 0;
    }
    put16(b, floatToHalf(d));
    put16(b + 2, floatToHalf(dmin));
    packScalesK4(sc.data(), m.data(), b + 4);
    const bool five = levels == 31;
    std::byte* qh = b + 16;
    std::byte* qs = five ? b + 48 : b + 16;
    if (five) std::fill(qh, qh + 32, std::byte{0});
    std::fill(qs, qs + 128, std::byte{0});
    for (int s = 0; s < 8; ++s) {
        const float ds = d * static_cast<float>(sc[static_cast<std::size_t>(s)]);
        const float ms = dmin * static_cast<float>(m[static_cast<std::size_t>(s)]);
        const int c = s / 2;
        for (int l = 0; l < 32; ++l) {
            int q = ds > 0 ? static_cast<int>(std::lround((x[32 * s + l] + ms) / ds)) : 0;
            q = std::clamp(q, 0, levels);
            const auto low = static_cast<unsigned>(q & 0x0F);
            std::byte& byte = qs[32 * c + l];
            byte |= static_cast<std::byte>(s % 2 == 0 ? low : low << 4);
            if (five && q >= 16) qh[l] |= static_cast<std::byte>(1u << s);
        }
    }
}

void quantQ6_K(const float* x, std::byte* b) {
    // 16 sub-blocks of 16: q in −32..31 against a signed 8-bit scale of d.
    std::array<float, 16> scale{};
    for (int s = 0; s < 16; ++s) {
        float amax = 0, max = 0;
        for (int l = 0; l < 16; ++l) {
            const float v = x[16 * s + l];
            if (std::abs(v) > amax) {
                amax = std::abs(v);
                max = v;
            }
        }
        // The largest value maps to −32 (as ggml's reference does for a signed range).
        scale[static_cast<std::size_t>(s)] = max / -32.0f;
    }
    float amaxScale = 0, maxScale = 0;
    for (float s : scale) {
        if (std::abs(s) > amaxScale) {
            amaxScale = std::abs(s);
            maxScale = s;
        }
    }
    const float d = halfToFloat(floatToHalf(maxScale / -128.0f));
    std::byte* ql = b;
    std::byte* qh = b + 128;
    std::byte* scb = b + 192;
    std::fill(b, b + 192, std::byte{0});
    std::array<int, 16> sc{};
    for (std::size_t s = 0; s < 16; ++s) {
        sc[s] = d != 0 ? std::clamp(static_cast<int>(std::lround(scale[s] / d)), -128, 127) : 0;
        scb[s] = static_cast<std::byte>(static_cast<std::int8_t>(sc[s]));
    }
    put16(b + 208, floatToHalf(d));
    for (int p = 0; p < kQKK; ++p) {
        const float ds = d * static_cast<float>(sc[static_cast<std::size_t>(p / 16)]);
        int q = ds != 0 ? static_cast<int>(std::lround(x[p] / ds)) : 0;
        q = std::clamp(q, -32, 31) + 32;  // 0..63
        const int h = p / 128, r = p % 128, k = r / 32, l = r % 32;
        const auto low = static_cast<unsigned>(q & 0x0F);
        ql[64 * h + l + 32 * (k & 1)] |= static_cast<std::byte>(k < 2 ? low : low << 4);
        qh[32 * h + l] |= static_cast<std::byte>((static_cast<unsigned>(q) >> 4) << (2 * k));
    }
}

Error unsupported(std::uint32_t type) {
    return makeError("tensors of type " + ggmlTypeName(type) +
                         " cannot be read yet (we read F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K "
                         "and Q6_K)",
                     ErrorCode::UnsupportedFormat);
}

}  // namespace

bool canDequantize(std::uint32_t type) {
    const GgmlTypeInfo* info = ggmlTypeInfo(type);
    return info != nullptr && info->dequantizable;
}

std::uint64_t ggmlBytes(std::uint32_t type, std::uint64_t n) {
    const GgmlTypeInfo* info = ggmlTypeInfo(type);
    if (info == nullptr || n % static_cast<std::uint64_t>(info->block_size) != 0) return 0;
    return n / static_cast<std::uint64_t>(info->block_size) *
           static_cast<std::uint64_t>(info->type_size);
}

Status dequantize(std::uint32_t type, std::span<const std::byte> src, std::span<float> out) {
    if (!canDequantize(type)) return unsupported(type);
    const GgmlTypeInfo& info = *ggmlTypeInfo(type);
    const std::uint64_t n = out.size();
    if (n % static_cast<std::uint64_t>(info.block_size) != 0 || ggmlBytes(type, n) != src.size()) {
        return makeError(std::to_string(n) + " values of " + std::string(info.name) + " need " +
                         std::to_string(ggmlBytes(type, n)) + " bytes, not " +
                         std::to_string(src.size()));
    }
    const std::byte* p = src.data();
    float* y = out.data();
    const std::uint64_t blocks = n / static_cast<std::uint64_t>(info.block_size);
    const auto bs = static_cast<std::size_t>(info.block_size);
    const auto ts = static_cast<std::size_t>(info.type_size);
    switch (static_cast<GgmlType>(type)) {
        case GgmlType::F32:
            if (n > 0) std::memcpy(y, p, n * 4);  // little-endian host (x86-64, arm64)
            break;
        case GgmlType::F16:
            for (std::uint64_t i = 0; i < n; ++i) y[i] = halfToFloat(le16(p + 2 * i));
            break;
        case GgmlType::BF16:
            for (std::uint64_t i = 0; i < n; ++i) y[i] = bfloat16ToFloat(le16(p + 2 * i));
            break;
        case GgmlType::Q8_0:
            for (std::uint64_t i = 0; i < blocks; ++i) dequantQ8_0(p + i * ts, y + i * bs);
            break;
        case GgmlType::Q4_0:
            for (std::uint64_t i = 0; i < blocks; ++i) dequantQ4_0(p + i * ts, y + i * bs);
            break;
        case GgmlType::Q4_K:
            for (std::uint64_t i = 0; i < blocks; ++i) dequantQ4_K(p + i * ts, y + i * bs);
            break;
        case GgmlType::Q5_K:
            for (std::uint64_t i = 0; i < blocks; ++i) dequantQ5_K(p + i * ts, y + i * bs);
            break;
        case GgmlType::Q6_K:
            for (std::uint64_t i = 0; i < blocks; ++i) dequantQ6_K(p + i * ts, y + i * bs);
            break;
        default:
            return unsupported(type);
    }
    return Ok{};
}

Status dequantizeRows(const GgufTensorInfo& t, std::uint64_t first, std::uint64_t count,
                      std::span<float> out) {
    const std::uint64_t rows = t.rows();
    const std::uint64_t len = t.rowLength();
    if (first > rows || count > rows - first) {
        return makeError("tensor '" + t.name + "' has " + std::to_string(rows) + " rows; rows " +
                         std::to_string(first) + "+" + std::to_string(count) + " asked for");
    }
    if (out.size() != count * len) {
        return makeError("tensor '" + t.name + "': " + std::to_string(count) + " rows of " +
                         std::to_string(len) + " values do not fit " + std::to_string(out.size()) +
                         " floats");
    }
    if (!canDequantize(t.type)) {
        Error e = unsupported(t.type);
        e.message = "tensor '" + t.name + "': " + e.message;
        return e;
    }
    const std::uint64_t rowBytes = ggmlBytes(t.type, len);
    if (rowBytes * rows != t.data.size()) {
        return makeError("tensor '" + t.name + "' holds " + std::to_string(t.data.size()) +
                             " bytes, not " + std::to_string(rowBytes * rows),
                         ErrorCode::Corrupt);
    }
    Status s = dequantize(t.type, t.data.subspan(first * rowBytes, count * rowBytes), out);
    if (!s) {
        Error e = s.error();
        e.message = "tensor '" + t.name + "': " + e.message;
        return e;
    }
    return Ok{};
}

Result<std::vector<float>> dequantizeTensor(const GgufTensorInfo& t, std::uint64_t max_values) {
    if (t.n_elements > max_values) {
        return makeError("tensor '" + t.name + "' " + t.shapeText() + " has " +
                             std::to_string(t.n_elements) + " values, more than the " +
                             std::to_string(max_values) + " read at once",
                         ErrorCode::TooLarge);
    }
    std::vector<float> out(static_cast<std::size_t>(t.n_elements));
    Status s = dequantizeRows(t, 0, t.rows(), out);
    if (!s) return s.error();
    return out;
}

Result<std::vector<std::byte>> quantize(std::uint32_t type, std::span<const float> values) {
    if (!canDequantize(type)) return unsupported(type);
    const GgmlTypeInfo& info = *ggmlTypeInfo(type);
    const std::uint64_t n = values.size();
    if (n % static_cast<std::uint64_t>(info.block_size) != 0) {
        return makeError(std::to_string(n) + " values are not a whole number of " +
                         std::string(info.name) + " blocks (" + std::to_string(info.block_size) +
                         " values)");
    }
    std::vector<std::byte> out(static_cast<std::size_t>(ggmlBytes(type, n)));
    const float* x = values.data();
    std::byte* b = out.data();
    const std::uint64_t blocks = n / static_cast<std::uint64_t>(info.block_size);
    const auto bs = static_cast<std::size_t>(info.block_size);
    const auto ts = static_cast<std::size_t>(info.type_size);
    switch (static_cast<GgmlType>(type)) {
        case GgmlType::F32:
            if (n > 0) std::memcpy(b, x, n * 4);
            break;
        case GgmlType::F16:
            for (std::uint64_t i = 0; i < n; ++i) put16(b + 2 * i, floatToHalf(x[i]));
            break;
        case GgmlType::BF16:
            for (std::uint64_t i = 0; i < n; ++i) put16(b + 2 * i, floatToBfloat16(x[i]));
            break;
        case GgmlType::Q8_0:
            for (std::uint64_t i = 0; i < blocks; ++i) quantQ8_0(x + i * bs, b + i * ts);
            break;
        case GgmlType::Q4_0:
            for (std::uint64_t i = 0; i < blocks; ++i) quantQ4_0(x + i * bs, b + i * ts);
            break;
        case GgmlType::Q4_K:
            for (std::uint64_t i = 0; i < blocks; ++i) quantK(x + i * bs, b + i * ts, 15);
            break;
        case GgmlType::Q5_K:
            for (std::uint64_t i = 0; i < blocks; ++i) quantK(x + i * bs, b + i * ts, 31);
            break;
        case GgmlType::Q6_K:
            for (std::uint64_t i = 0; i < blocks; ++i) quantQ6_K(x + i * bs, b + i * ts);
            break;
        default:
            return unsupported(type);
    }
    return out;
}

}  // namespace attn
