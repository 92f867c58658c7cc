#pragma once
// Safetensors files (Hugging Face's weight format), read by us with strict checks.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON, then the data section.
// The JSON maps each tensor name to {"dtype": "F32", "shape": [rows, cols], "data_offsets":
// [begin, end]} with byte offsets relative to the data section; the optional key
// "__metadata__" maps strings to strings. Tensors are stored row-major (C order).
//
// The reader maps the file into memory (POSIX mmap) and converts F32, F16 and BF16 tensors to
// float. Tensors of other safetensors dtypes (I64 position ids that some BERT files carry, U8
// masks, ...) are listed and size-checked, but reading one as floats is an error that names
// its dtype; a dtype the format does not define is an error when the file is opened.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attn/attention.h"
#include "attn/result.h"

namespace attn {

namespace detail {
class MappedFile;
}

/// Element types of the safetensors format. Only F32, F16 and BF16 convert to float.
enum class DType {
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    Bool,
    F8E4M3,
    F8E5M2
};

/// The name the format uses ("F32", "BF16", "I64", ...).
std::string toString(DType dtype);
/// Parses a format name; false when the format does not define it.
bool parseDType(std::string_view text, DType* out);
/// Bytes per element.
std::size_t dtypeSize(DType dtype);
/// True for F32, F16 and BF16.
bool isFloatDType(DType dtype);

/// IEEE half ↔ float (round to nearest even; overflow → ±inf; NaN kept).
float halfToFloat(std::uint16_t bits);
std::uint16_t floatToHalf(float value);
/// bfloat16 ↔ float (round to nearest even; NaN kept).
float bfloat16ToFloat(std::uint16_t bits);
std::uint16_t floatToBfloat16(float value);

/// One entry of the header.
struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;  ///< empty = scalar
    std::uint64_t begin = 0;          ///< byte offsets into the data section, [begin, end)
    std::uint64_t end = 0;

    std::int64_t elementCount() const;
    /// "[768, 2304]"
    std::string shapeString() const;
};

/// An opened safetensors file. The mapping lives as long as the object.
class SafetensorsFile {
public:
    /// Opens and checks a file: header length inside the file (and at most 100 MB), valid JSON,
    /// known dtypes, shape × dtype size == byte span, spans inside the data section and not
    /// overlapping. Messages name the file and the problem.
    /// populate: map every page of the file now (one system call instead of a page fault per
    /// 4 KB) — faster when the whole file is about to be read, as a model loader does.
    static Result<std::shared_ptr<const SafetensorsFile>> open(const std::string& path,
                                                               bool populate = false);

    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return m_path; }
    std::uint64_t fileSize() const { return m_size; }
    /// Tensors in the order of their data offsets.
    const std::vector<TensorInfo>& tensors() const { return m_tensors; }
    /// nullptr when absent.
    const TensorInfo* find(std::string_view name) const;
    /// The "__metadata__" strings.
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    /// The raw bytes of a tensor (little-endian, row-major).
    std::span<const std::byte> bytes(const TensorInfo& info) const;

    /// All elements of a float tensor in stored (row-major) order, converted to float.
    Result<std::vector<float>> readFloats(std::string_view name) const;
    /// A 2-D float tensor stored (rows, cols) as Mat (rows, cols), or (cols, rows) with
    /// transpose. Reading a row-major (out, in) nn.Linear weight with transpose = true gives
    /// the (in, out) matrix that our X·W convention needs, in one straight copy.
    Result<Mat> readMatrix(std::string_view name, bool transpose = false) const;
    /// A 1-D float tensor.
    Result<RowVec> readVector(std::string_view name) const;

    /// Lower-level: fills dst with the tensor (as readMatrix does) for an already found entry;
    /// dst is resized. Any 2-D float tensor; the message names the file and the tensor.
    Status readMatrixInto(const TensorInfo& info, bool transpose, Mat& dst) const;
    /// Columns [col_begin, col_begin + col_count) of a 2-D tensor stored (rows, cols), as Mat
    /// (rows, col_count), or (col_count, rows) with transpose: one slice of a fused weight such
    /// as GPT-2's c_attn (d, 3d) = [W_Q | W_K | W_V], without a copy of the whole.
    Status readMatrixColumnsInto(const TensorInfo& info, Eigen::Index col_begin,
                                 Eigen::Index col_count, bool transpose, Mat& dst) const;

private:
    SafetensorsFile() = default;

    std::string m_path;
    std::unique_ptr<detail::MappedFile> m_file;  // the whole file, mapped
    const std::byte* m_map = nullptr;            // m_file's bytes
    std::uint64_t m_size = 0;
    std::uint64_t m_data_offset = 0;  // 8 + header length
    std::vector<TensorInfo> m_tensors;
    std::map<std::string, std::size_t, std::less<>> m_index;  // name → index in m_tensors
    std::map<std::string, std::string> m_metadata;
};

/// A 2-D tensor as a Weight, kept in the file's memory map when pack is true and it is F16 or
/// BF16 (zero-copy: the Weight shares ownership of file and is widened a panel at a time by
/// the products, attn/weight.h); F32 (or pack false) is read into a dense Mat. With
/// Weight::Lines::AreColumns a row-major (out, in) nn.Linear weight becomes the (in, out)
/// matrix of X·W (as readMatrix(name, true)); with AreRows a (vocab, d_model) embedding table
/// stays (vocab, d_model) (as readMatrix(name)). Messages name the file and the tensor.
Result<Weight> readWeight(const std::shared_ptr<const SafetensorsFile>& file, std::string_view name,
                          Weight::Lines lines, bool pack = true);

/// A float tensor to write: shape and its elements in row-major (C) order,
/// data.size() == product(shape). A matrix (rows, cols) is shape {rows, cols} with row r at
/// data[r·cols .. r·cols + cols); a vector is shape {n}.
struct TensorF32 {
    std::vector<std::int64_t> shape;
    std::vector<float> data;
};

/// A matrix as a (rows, cols) row-major tensor.
TensorF32 toTensor(const Mat& m);
/// A vector as a (n) tensor.
TensorF32 toTensor(const RowVec& v);

/// Writes a safetensors file: tensors in the given order, names unique, stored as dtype
/// (F32, F16 or BF16; conversion rounds to nearest even), metadata under "__metadata__". The
/// header is padded with spaces to a multiple of 8 bytes so that every F32 tensor is aligned.
/// The file is written beside the target and renamed into place, so a failed write leaves no
/// half file.
Status writeSafetensors(const std::string& path,
                        const std::vector<std::pair<std::string, TensorF32>>& tensors,
                        const std::map<std::string, std::string>& metadata = {},
                        DType dtype = DType::F32);

}  // namespace attn
