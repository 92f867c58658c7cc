#include "attn/formats/safetensors.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "json_util.h"
#include "mapped_file.h"

namespace attn {

namespace {

using detail::withThousands;
using json = nlohmann::json;

// Safetensors' own reference implementation refuses headers above 100 MB.
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeName {
    DType dtype;
    const char* name;
    std::size_t size;
};
constexpr DTypeName kDTypes[] = {
    {DType::F32, "F32", 4},   {DType::F16, "F16", 2},        {DType::BF16, "BF16", 2},
    {DType::F64, "F64", 8},   {DType::I64, "I64", 8},        {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},          {DType::U64, "U64", 8},
    {DType::U32, "U32", 4},   {DType::U16, "U16", 2},        {DType::U8, "U8", 1},
    {DType::Bool, "BOOL", 1}, {DType::F8E4M3, "F8_E4M3", 1}, {DType::F8E5M2, "F8_E5M2", 1},
};

std::uint64_t readLe64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
    return v;
}

std::uint16_t readLe16(const std::byte* p) {
    return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) |
                                      (static_cast<unsigned>(p[1]) << 8));
}

// Converts count elements of a float dtype to float.
void convertToFloat(DType dtype, const std::byte* src, std::size_t count, float* dst) {
    switch (dtype) {
        case DType::F32:
            // memcpy with a null pointer is undefined even for 0 bytes (an empty tensor has no
            // data and an empty destination may have no buffer).
            if (count > 0) std::memcpy(dst, src, count * sizeof(float));
            break;
        case DType::F16:
            for (std::size_t i = 0; i < count; ++i) dst[i] = halfToFloat(readLe16(src + 2 * i));
            break;
        case DType::BF16:
            for (std::size_t i = 0; i < count; ++i) dst[i] = bfloat16ToFloat(readLe16(src + 2 * i));
            break;
        default:
            break;  // callers check isFloatDType first
    }
}

// Faults in the pages of a fresh destination buffer in one system call: on this kind of VM a
// page fault costs microseconds, and a 124M-parameter model is 160 thousand fresh pages.
void prefaultForWrite(float* data, std::size_t count) {
#ifdef MADV_POPULATE_WRITE
    constexpr std::size_t kMin = std::size_t{4} << 20;
    const std::size_t bytes = count * sizeof(float);
    if (bytes < kMin) return;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto begin = reinterpret_cast<std::uintptr_t>(data);
    auto end = begin + bytes;
    begin = (begin + page - 1) / page * page;
    end = end / page * page;
    // Where whole 2 MiB pages fit, ask for them first: one fault per 2 MiB instead of 512.
    constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
    const std::uintptr_t hugeBegin = (begin + kHuge - 1) & ~(kHuge - 1);
    const std::uintptr_t hugeEnd = end & ~(kHuge - 1);
    if (hugeEnd > hugeBegin)
        // madvise takes page-aligned addresses, computed here as integers.
        (void)::madvise(reinterpret_cast<void*>(hugeBegin),  // NOLINT(performance-no-int-to-ptr)
                        hugeEnd - hugeBegin, MADV_HUGEPAGE);
    if (end > begin) {
        // Best effort: older kernels say EINVAL and the pages fault in on first write instead.
        (void)::madvise(reinterpret_cast<void*>(begin),  // NOLINT(performance-no-int-to-ptr)
                        end - begin, MADV_POPULATE_WRITE);
    }
#else
    (void)data;
    (void)count;
#endif
}

// Eigen's packet types (__m256 …) as template arguments: GCC warns that their alignment
// attribute is dropped there, which is harmless for values that live in registers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"

// dst = columns [c0, c0 + cols) of a row-major matrix with rows rows and row stride ld,
// as a (rows, cols) column-major Mat; with transpose dst is (cols, rows).
void fillFromRowMajor(const float* src, Eigen::Index rows, Eigen::Index cols, Eigen::Index ld,
                      Eigen::Index c0, bool transpose, Mat& dst) {
    if (transpose) {
        dst.resize(cols, rows);
        prefaultForWrite(dst.data(), static_cast<std::size_t>(dst.size()));
        // Row r of the source is column r of dst.
        if (rows == 0 || cols == 0) return;  // no bytes, and memcpy(nullptr, …, 0) is undefined
        if (c0 == 0 && cols == ld) {
            std::memcpy(dst.data(), src, static_cast<std::size_t>(rows * cols) * sizeof(float));
        } else {
            for (Eigen::Index r = 0; r < rows; ++r)
                std::memcpy(dst.data() + r * cols, src + r * ld + c0,
                            static_cast<std::size_t>(cols) * sizeof(float));
        }
        return;
    }
    dst.resize(rows, cols);
    prefaultForWrite(dst.data(), static_cast<std::size_t>(dst.size()));
    // Blocked transpose: a 64×64 tile of the source rows and of the destination columns stays
    // in cache.
    // Inside a tile, square blocks of one SIMD packet's width are loaded as rows, transposed in
    // registers (Eigen's ptranspose) and stored as columns; the ragged edges go one by one.
    using Packet = Eigen::internal::packet_traits<float>::type;
    constexpr Eigen::Index kLanes = Eigen::internal::unpacket_traits<Packet>::size;
    constexpr Eigen::Index kBlock = 64;
    float* out = dst.data();
    for (Eigen::Index cb = 0; cb < cols; cb += kBlock) {
        const Eigen::Index ce = std::min(cb + kBlock, cols);
        for (Eigen::Index rb = 0; rb < rows; rb += kBlock) {
            const Eigen::Index re = std::min(rb + kBlock, rows);
            Eigen::Index cv = cb, rv = rb;  // end of the part done with packets
            if constexpr (kLanes > 1) {
                cv = cb + (ce - cb) / kLanes * kLanes;
                rv = rb + (re - rb) / kLanes * kLanes;
                for (Eigen::Index c = cb; c < cv; c += kLanes) {
                    for (Eigen::Index r = rb; r < rv; r += kLanes) {
                        Eigen::internal::PacketBlock<Packet, kLanes> block;
                        for (Eigen::Index i = 0; i < kLanes; ++i)
                            block.packet[i] =
                                Eigen::internal::ploadu<Packet>(src + (r + i) * ld + c0 + c);
                        Eigen::internal::ptranspose(block);
                        for (Eigen::Index j = 0; j < kLanes; ++j)
                            Eigen::internal::pstoreu(out + (c + j) * rows + r, block.packet[j]);
                    }
                }
            }
            for (Eigen::Index c = cb; c < ce; ++c) {
                float* d = out + c * rows;
                const float* s = src + c0 + c;
                for (Eigen::Index r = (c < cv ? rv : rb); r < re; ++r) d[r] = s[r * ld];
            }
        }
    }
}

#pragma GCC diagnostic pop

}  // namespace

std::string toString(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d.name;
    return "?";
}

bool parseDType(std::string_view text, DType* out) {
    for (const auto& d : kDTypes) {
        if (text == d.name) {
            *out = d.dtype;
            return true;
        }
    }
    return false;
}

std::size_t dtypeSize(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d.size;
    return 0;
}

bool isFloatDType(DType dtype) {
    return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

float halfToFloat(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu;
    std::uint32_t mant = h & 0x3FFu;
    std::uint32_t bits = 0;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;  // ±0
        } else {
            // Subnormal half: normalise into a float.
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400u) == 0);
            bits =
                sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13);  // inf or NaN
    } else {
        bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
    }
    return std::bit_cast<float>(bits);
}

std::uint16_t floatToHalf(float value) {
    const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
    const std::uint16_t sign = static_cast<std::uint16_t>((f >> 16) & 0x8000u);
    const std::uint32_t absf = f & 0x7FFFFFFFu;
    if (absf >= 0x7F800000u) {  // inf or NaN
        return static_cast<std::uint16_t>(sign | 0x7C00u | (absf > 0x7F800000u ? 0x200u : 0u));
    }
    if (absf >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow
    if (absf < 0x38800000u) {
        // Subnormal or zero half: add the implicit bit and shift with round-to-nearest-even.
        if (absf < 0x33000000u) return sign;  // below half the smallest subnormal
        const std::uint32_t e = absf >> 23;
        const std::uint32_t m = (absf & 0x7FFFFFu) | 0x800000u;
        const std::uint32_t shift = 126 - e;  // 14..24
        std::uint32_t half_m = m >> shift;
        const std::uint32_t rem = m & ((1u << shift) - 1);
        const std::uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half_m & 1u))) ++half_m;
        return static_cast<std::uint16_t>(sign | half_m);
    }
    // Normal: rebias and round the 13 dropped bits to nearest even.
    std::uint32_t h = ((absf >> 13) - ((127u - 15u) << 10));
    const std::uint32_t rem = absf & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent
    return static_cast<std::uint16_t>(sign | h);
}

float bfloat16ToFloat(std::uint16_t bits) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t floatToBfloat16(float value) {
    const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
    if ((f & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((f >> 16) | 0x40u);
    const std::uint32_t rounding = 0x7FFFu + ((f >> 16) & 1u);
    return static_cast<std::uint16_t>((f + rounding) >> 16);
}

std::int64_t TensorInfo::elementCount() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
}

std::string TensorInfo::shapeString() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

SafetensorsFile::~SafetensorsFile() = default;

Result<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::open(const std::string& path,
                                                                     bool populate) {
    auto mapped = detail::MappedFile::open(path, populate);
    if (!mapped) return mapped.error();
    // The file is there: whatever is wrong from here on is damage or another kind of file.
    const auto corrupt = [](std::string message) {
        return makeError(std::move(message), ErrorCode::Corrupt);
    };
    const std::uint64_t size = mapped->size();
    const std::byte* base = mapped->data();
    if (size < 8) {
        return corrupt(path + ": too short for a safetensors file (" + std::to_string(size) +
                       " bytes; the header length alone takes 8)");
    }
    const std::uint64_t header_len = readLe64(base);
    if (header_len > size - 8) {
        return corrupt(path + ": header length " + withThousands(header_len) +
                       " runs past the end of the file (" + withThousands(size) +
                       " bytes) — the file is truncated or not a safetensors file");
    }
    if (header_len > kMaxHeaderBytes) {
        return corrupt(path + ": header length " + withThousands(header_len) +
                       " is above the 100 MB limit — not a safetensors file?");
    }
    if (header_len < 2) {
        return corrupt(path + ": header of " + std::to_string(header_len) +
                       " bytes is too short for JSON");
    }
    const char* hbegin = reinterpret_cast<const char*>(base + 8);
    // Strict: a NUL byte or anything but spaces after the JSON is damage, not padding.
    auto parsed =
        detail::parseJsonText(std::string_view(hbegin, header_len), path + ": the header");
    if (!parsed) {
        return corrupt(parsed.message() + " — not a safetensors file?");
    }
    const json header = std::move(parsed).value();
    if (!header.is_object()) {
        return corrupt(path + ": the header is JSON but not an object of tensors");
    }

    auto file = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
    file->m_path = path;
    file->m_size = size;
    file->m_data_offset = 8 + header_len;
    const std::uint64_t data_size = size - file->m_data_offset;

    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object() && !entry.is_null()) {
                return corrupt(path + ": \"__metadata__\" must be an object of strings");
            }
            if (entry.is_object()) {
                for (const auto& [key, value] : entry.items()) {
                    if (!value.is_string()) {
                        return corrupt(path + ": metadata \"" + detail::shortText(key) +
                                       "\" is not a string");
                    }
                    file->m_metadata[key] = value.get<std::string>();
                }
            }
            continue;
        }
        const std::string where = path + ": tensor '" + detail::shortText(name) + "'";
        if (!entry.is_object()) return corrupt(where + " is not a JSON object");
        const auto dt = entry.find("dtype");
        const auto sh = entry.find("shape");
        const auto off = entry.find("data_offsets");
        if (dt == entry.end() || !dt->is_string())
            return corrupt(where + " has no \"dtype\" string");
        if (sh == entry.end() || !sh->is_array()) return corrupt(where + " has no \"shape\" list");
        if (off == entry.end() || !off->is_array() || off->size() != 2)
            return corrupt(where + " has no \"data_offsets\" pair [begin, end]");

        TensorInfo info;
        info.name = name;
        const std::string dtype_name = dt->get<std::string>();
        if (!parseDType(dtype_name, &info.dtype)) {
            return corrupt(where + " has dtype '" + detail::shortText(dtype_name) +
                           "', which the safetensors format does not define (we read F32, "
                           "F16 and BF16)");
        }
        // Element count with an overflow guard: no real tensor comes near 2^62 bytes.
        constexpr std::uint64_t kLimit = std::uint64_t{1} << 62;
        std::uint64_t count = 1;
        for (const auto& d : *sh) {
            if (!d.is_number_integer() || d.get<std::int64_t>() < 0) {
                return corrupt(where + " has a shape entry that is not a non-negative integer");
            }
            const auto v = d.get<std::uint64_t>();
            info.shape.push_back(static_cast<std::int64_t>(v));
            if (v != 0 && count > kLimit / v) {
                return corrupt(where + " has an impossibly large shape " + info.shapeString());
            }
            count *= v;
        }
        for (const auto& o : *off) {
            if (!o.is_number_integer() || o.get<std::int64_t>() < 0) {
                return corrupt(where + " has a data offset that is not a non-negative integer");
            }
        }
        info.begin = (*off)[0].get<std::uint64_t>();
        info.end = (*off)[1].get<std::uint64_t>();
        if (info.end < info.begin) {
            return corrupt(where + " has data offsets [" + std::to_string(info.begin) + ", " +
                           std::to_string(info.end) + "] that end before they begin");
        }
        if (info.end > data_size) {
            return corrupt(where + " has data offsets [" + withThousands(info.begin) + ", " +
                           withThousands(info.end) + "] outside the data section of " +
                           withThousands(data_size) + " bytes — the file is truncated?");
        }
        const std::uint64_t want = count * dtypeSize(info.dtype);
        if (want != info.end - info.begin) {
            return corrupt(where + ": shape " + info.shapeString() + " of " + toString(info.dtype) +
                           " needs " + withThousands(want) + " bytes but its data offsets span " +
                           withThousands(info.end - info.begin));
        }
        file->m_tensors.push_back(std::move(info));
    }

    std::sort(file->m_tensors.begin(), file->m_tensors.end(),
              [](const TensorInfo& a, const TensorInfo& b) {
                  return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
              });
    for (std::size_t i = 1; i < file->m_tensors.size(); ++i) {
        const TensorInfo& a = file->m_tensors[i - 1];
        const TensorInfo& b = file->m_tensors[i];
        if (b.begin < a.end) {
            return corrupt(path + ": tensors '" + a.name + "' [" + withThousands(a.begin) + ", " +
                           withThousands(a.end) + ") and '" + b.name + "' [" +
                           withThousands(b.begin) + ", " + withThousands(b.end) +
                           ") overlap in the data section");
        }
    }
    for (std::size_t i = 0; i < file->m_tensors.size(); ++i) {
        file->m_index.emplace(file->m_tensors[i].name, i);
    }
    file->m_file = std::make_unique<detail::MappedFile>(std::move(mapped).value());
    file->m_map = file->m_file->data();
    return std::shared_ptr<const SafetensorsFile>(std::move(file));
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& info) const {
    return {m_map + m_data_offset + info.begin, static_cast<std::size_t>(info.end - info.begin)};
}

Result<std::vector<float>> SafetensorsFile::readFloats(std::string_view name) const {
    const TensorInfo* info = find(name);
    if (info == nullptr) {
        return makeError(m_path + ": has no tensor '" + std::string(name) + "'");
    }
    if (!isFloatDType(info->dtype)) {
        return makeError(m_path + ": tensor '" + info->name + "' has dtype " +
                         toString(info->dtype) + "; only F32, F16 and BF16 can be read");
    }
    std::vector<float> out(static_cast<std::size_t>(info->elementCount()));
    convertToFloat(info->dtype, bytes(*info).data(), out.size(), out.data());
    return out;
}

Status SafetensorsFile::readMatrixInto(const TensorInfo& info, bool transpose, Mat& dst) const {
    if (info.shape.size() == 2) {
        return readMatrixColumnsInto(info, 0, static_cast<Eigen::Index>(info.shape[1]), transpose,
                                     dst);
    }
    return readMatrixColumnsInto(info, 0, 0, transpose, dst);  // reports the shape
}

Status SafetensorsFile::readMatrixColumnsInto(const TensorInfo& info, Eigen::Index col_begin,
                                              Eigen::Index col_count, bool transpose,
                                              Mat& dst) const {
    if (!isFloatDType(info.dtype)) {
        return makeError(m_path + ": tensor '" + info.name + "' has dtype " + toString(info.dtype) +
                         "; only F32, F16 and BF16 can be read");
    }
    if (info.shape.size() != 2) {
        return makeError(m_path + ": tensor '" + info.name + "' has shape " + info.shapeString() +
                         ", expected a matrix (2 dimensions)");
    }
    const auto rows = static_cast<Eigen::Index>(info.shape[0]);
    const auto cols = static_cast<Eigen::Index>(info.shape[1]);
    if (col_begin < 0 || col_count < 0 || col_begin + col_count > cols) {
        return makeError(m_path + ": tensor '" + info.name + "' has shape " + info.shapeString() +
                         ", too narrow for columns " + std::to_string(col_begin) + ".." +
                         std::to_string(col_begin + col_count));
    }
    const std::byte* src = bytes(info).data();
    if (info.dtype == DType::F32 && reinterpret_cast<std::uintptr_t>(src) % alignof(float) == 0) {
        fillFromRowMajor(reinterpret_cast<const float*>(src), rows, col_count, cols, col_begin,
                         transpose, dst);
    } else {
        std::vector<float> tmp(static_cast<std::size_t>(rows * cols));
        convertToFloat(info.dtype, src, tmp.size(), tmp.data());
        fillFromRowMajor(tmp.data(), rows, col_count, cols, col_begin, transpose, dst);
    }
    return Ok{};
}

Result<Mat> SafetensorsFile::readMatrix(std::string_view name, bool transpose) const {
    const TensorInfo* info = find(name);
    if (info == nullptr) {
        return makeError(m_path + ": has no tensor '" + std::string(name) + "'");
    }
    Mat m;
    if (auto st = readMatrixInto(*info, transpose, m); !st) return st.error();
    return m;
}

Result<RowVec> SafetensorsFile::readVector(std::string_view name) const {
    const TensorInfo* info = find(name);
    if (info == nullptr) {
        return makeError(m_path + ": has no tensor '" + std::string(name) + "'");
    }
    if (info->shape.size() != 1) {
        return makeError(m_path + ": tensor '" + info->name + "' has shape " + info->shapeString() +
                         ", expected a vector (1 dimension)");
    }
    auto floats = readFloats(name);
    if (!floats) return floats.error();
    return RowVec(
        Eigen::Map<const RowVec>(floats->data(), static_cast<Eigen::Index>(floats->size())));
}

TensorF32 toTensor(const Mat& m) {
    TensorF32 t;
    t.shape = {m.rows(), m.cols()};
    t.data.resize(static_cast<std::size_t>(m.size()));
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        t.data.data(), m.rows(), m.cols()) = m;
    return t;
}

TensorF32 toTensor(const RowVec& v) {
    TensorF32 t;
    t.shape = {v.size()};
    t.data.assign(v.data(), v.data() + v.size());
    return t;
}

Status writeSafetensors(const std::string& path,
                        const std::vector<std::pair<std::string, TensorF32>>& tensors,
                        const std::map<std::string, std::string>& metadata, DType dtype) {
    if (!isFloatDType(dtype)) {
        return makeError(path + ": cannot write dtype " + toString(dtype) +
                         " (F32, F16 or BF16 only)");
    }
    const std::size_t esize = dtypeSize(dtype);
    json header = json::object();
    std::set<std::string> names;
    std::uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        if (name.empty() || name == "__metadata__" || !names.insert(name).second) {
            return makeError(path + ": tensor name '" + name + "' is empty, reserved or repeated");
        }
        std::uint64_t count = 1;
        for (std::int64_t d : t.shape) {
            if (d < 0) return makeError(path + ": tensor '" + name + "' has a negative dimension");
            count *= static_cast<std::uint64_t>(d);
        }
        if (count != t.data.size()) {
            return makeError(path + ": tensor '" + name + "' has " + std::to_string(t.data.size()) +
                             " values but its shape needs " + std::to_string(count));
        }
        const std::uint64_t bytes = count * esize;
        header[name] = {{"dtype", toString(dtype)},
                        {"shape", t.shape},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0) text += ' ';

    namespace fs = std::filesystem;
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return makeError(path + ": cannot create the file (" + tmp + ")");
        std::byte len[8];
        std::uint64_t n = text.size();
        for (auto& b : len) {
            b = static_cast<std::byte>(n & 0xFF);
            n >>= 8;
        }
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        std::vector<unsigned char> buf;
        for (const auto& [name, t] : tensors) {
            (void)name;
            if (dtype == DType::F32) {
                static_assert(std::endian::native == std::endian::little);
                out.write(reinterpret_cast<const char*>(t.data.data()),
                          static_cast<std::streamsize>(t.data.size() * sizeof(float)));
                continue;
            }
            buf.resize(t.data.size() * 2);
            for (std::size_t i = 0; i < t.data.size(); ++i) {
                const std::uint16_t h =
                    dtype == DType::F16 ? floatToHalf(t.data[i]) : floatToBfloat16(t.data[i]);
                buf[2 * i] = static_cast<unsigned char>(h & 0xFF);
                buf[2 * i + 1] = static_cast<unsigned char>(h >> 8);
            }
            out.write(reinterpret_cast<const char*>(buf.data()),
                      static_cast<std::streamsize>(buf.size()));
        }
        out.flush();
        if (!out) {
            out.close();
            std::error_code ec;
            fs::remove(tmp, ec);
            return makeError(path + ": writing failed (disk full?)");
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return makeError(path + ": cannot move the written file into place (" + ec.message() + ")");
    }
    return Ok{};
}

Result<Weight> readWeight(const std::shared_ptr<const SafetensorsFile>& file, std::string_view name,
                          Weight::Lines lines, bool pack) {
    const TensorInfo* info = file->find(name);
    if (info == nullptr)
        return makeError(file->path() + ": has no tensor '" + std::string(name) + "'");
    const bool half = info->dtype == DType::F16 || info->dtype == DType::BF16;
    if (!pack || !half || info->shape.size() != 2) {
        Mat m;
        if (Status st = file->readMatrixInto(*info, lines == Weight::Lines::AreColumns, m); !st)
            return st.error();
        return Weight(std::move(m));
    }
    // Row r of the stored (rows, cols) tensor is line r: an (out, in) linear's output r over
    // every input, or a table's row r. open() checked that shape × 2 bytes is the tensor's span.
    PackedMatrix p;
    p.type = info->dtype == DType::F16 ? 1u : 30u;  // GgmlType::F16, GgmlType::BF16
    p.lines = static_cast<Eigen::Index>(info->shape[0]);
    p.length = static_cast<Eigen::Index>(info->shape[1]);
    p.line_bytes = static_cast<std::size_t>(p.length) * 2;
    p.data = file->bytes(*info).data();
    p.owner = file;
    return Weight::packed(std::move(p), lines);
}

}  // namespace attn
