#pragma once
// A weight matrix as the model keeps it: a dense float32 Mat (teaching models, training, small
// checkpoints) or a read-only packed view of the numbers as a file stores them (F16, BF16 or a
// ggml block type such as Q4_K), widened a panel at a time inside the products. A packed view
// shares ownership of the memory it points into (usually the file's memory map), so the map
// lives as long as any model that uses it.

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace attn {

using Mat = Eigen::MatrixXf;  // column-major; row = token unless said otherwise
using RowVec = Eigen::RowVectorXf;
using Vec = Eigen::VectorXf;

/// `lines` runs of `length` values each, one after another, in a ggml type (GgmlType numbers:
/// F32 0, F16 1, Q4_0 2, Q8_0 8, Q4_K 12, Q5_K 13, Q6_K 14, BF16 30). A line is what a GGUF
/// tensor calls a row and what a safetensors [out, in] weight calls a row: one output's
/// weights over every input.
struct PackedMatrix {
    std::uint32_t type = 0;             ///< ggml type of every value
    Eigen::Index length = 0;            ///< values per line (a multiple of the type's block)
    Eigen::Index lines = 0;             ///< number of lines
    std::size_t line_bytes = 0;         ///< bytes of one line
    const std::byte* data = nullptr;    ///< line i starts at data + i·line_bytes
    std::shared_ptr<const void> owner;  ///< keeps data alive (the memory map)

    /// Widens lines [first, first + count) into out (count·length floats, line after line).
    void widenLines(Eigen::Index first, Eigen::Index count, float* out) const;
    /// Bytes the view points at.
    std::size_t bytes() const { return line_bytes * static_cast<std::size_t>(lines); }
};

/// A matrix of weights, dense or packed. Dense weights behave as the Mat they hold (training
/// and the teaching models use nothing else); packed weights are read through rows(), cols(),
/// row(), middleCols() and toDense(), which widen what is asked for, and through linear()
/// and the attention projections, which widen a panel at a time. Copies share a packed view.
class Weight {
public:
    /// How a packed view's lines lie in the matrix.
    enum class Lines {
        AreColumns,  ///< a (K, N) matrix of X·W: line j is column j (GGUF/safetensors linears)
        AreRows      ///< a (vocab, d_model) table: line i is row i (token embeddings)
    };

    Weight() = default;
    Weight(Mat m) : m_dense(std::move(m)) {}  // NOLINT(google-explicit-constructor)
    template <class Derived>
    Weight(const Eigen::MatrixBase<Derived>& m)  // NOLINT(google-explicit-constructor)
        : m_dense(m) {}
    /// A packed view; the matrix is (length, lines) for AreColumns, (lines, length) for AreRows.
    static Weight packed(PackedMatrix view, Lines lines);

    Eigen::Index rows() const;
    Eigen::Index cols() const;
    Eigen::Index size() const { return rows() * cols(); }
    bool empty() const { return size() == 0; }

    bool isPacked() const { return m_packed != nullptr; }
    /// The packed view, or nullptr for a dense weight.
    const PackedMatrix* packedView() const { return m_packed.get(); }
    Lines lines() const { return m_lines; }
    /// ggml type of the stored values (F32 = 0 for a dense weight).
    std::uint32_t storedType() const { return m_packed ? m_packed->type : 0; }
    /// Bytes the weight takes in memory (packed: the bytes of the file it maps).
    std::size_t storedBytes() const;

    /// The dense matrix. Only for dense weights (asserts); training and teaching code use it.
    const Mat& dense() const;
    Mat& dense();
    operator const Mat&() const { return dense(); }  // NOLINT(google-explicit-constructor)
    operator Mat&() { return dense(); }              // NOLINT(google-explicit-constructor)
    /// The dense matrix's data (nullptr for a packed weight).
    const float* data() const { return m_packed ? nullptr : m_dense.data(); }

    /// Element (r, c), widened.
    float operator()(Eigen::Index r, Eigen::Index c) const;
    /// Row r widened (an embedding look-up widens only the rows it needs). Named apart from
    /// Mat::row so that no one writes into a widened copy by mistake.
    RowVec widenRow(Eigen::Index r) const;
    /// Columns [c0, c0 + n) widened, (rows, n).
    Mat widenCols(Eigen::Index c0, Eigen::Index n) const;
    /// The whole matrix widened to float32 (a copy; for views and tests of small models).
    Mat toDense() const;
    /// Wᵀ widened.
    Mat transpose() const { return toDense().transpose(); }

    /// Equal shapes and values (packed weights compare their widened values).
    bool operator==(const Weight& other) const;

private:
    Mat m_dense;
    std::shared_ptr<const PackedMatrix> m_packed;
    Lines m_lines = Lines::AreColumns;
};

}  // namespace attn
