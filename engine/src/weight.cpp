#include "attn/weight.h"

#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include <cassert>
#include <cstring>
#include <span>

#include "attn/formats/ggml_quants.h"
#include "attn/formats/ggml_types.h"
#include "attn/formats/safetensors.h"

namespace attn {

namespace {

std::uint16_t le16(const std::byte* p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);  // little-endian host (x86-64, arm64)
    return v;
}

// F16 and BF16 are the types a product widens most often (every value of a half-precision
// model, every product); the library's one-at-a-time conversions took 1.5 ns per value.
void widenF16(const std::byte* p, Eigen::Index n, float* y) {
    Eigen::Index i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i));
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
    }
#endif
    for (; i < n; ++i) y[i] = halfToFloat(le16(p + 2 * i));
}

void widenBF16(const std::byte* p, Eigen::Index n, float* y) {
    // A bfloat16 is the top half of a float32.
    for (Eigen::Index i = 0; i < n; ++i) {
        const std::uint32_t bits = static_cast<std::uint32_t>(le16(p + 2 * i)) << 16;
        std::memcpy(y + i, &bits, 4);
    }
}

}  // namespace

void PackedMatrix::widenLines(Eigen::Index first, Eigen::Index count, float* out) const {
    assert(first >= 0 && count >= 0 && first + count <= lines);
    const std::byte* p = data + static_cast<std::size_t>(first) * line_bytes;
    const Eigen::Index n = count * length;
    switch (static_cast<GgmlType>(type)) {
        case GgmlType::F32:
            if (n > 0) std::memcpy(out, p, static_cast<std::size_t>(n) * sizeof(float));
            return;
        case GgmlType::F16:
            widenF16(p, n, out);
            return;
        case GgmlType::BF16:
            widenBF16(p, n, out);
            return;
        default: {
            // The loaders made the view only for types dequantize reads, with whole blocks per
            // line, so this cannot fail.
            [[maybe_unused]] const Status s = dequantize(
                type, std::span<const std::byte>(p, static_cast<std::size_t>(count) * line_bytes),
                std::span<float>(out, static_cast<std::size_t>(n)));
            assert(s);
        }
    }
}

Weight Weight::packed(PackedMatrix view, Lines lines) {
    Weight w;
    w.m_packed = std::make_shared<const PackedMatrix>(std::move(view));
    w.m_lines = lines;
    return w;
}

Eigen::Index Weight::rows() const {
    if (!m_packed) return m_dense.rows();
    return m_lines == Lines::AreColumns ? m_packed->length : m_packed->lines;
}

Eigen::Index Weight::cols() const {
    if (!m_packed) return m_dense.cols();
    return m_lines == Lines::AreColumns ? m_packed->lines : m_packed->length;
}

std::size_t Weight::storedBytes() const {
    return m_packed ? m_packed->bytes() : static_cast<std::size_t>(m_dense.size()) * sizeof(float);
}

const Mat& Weight::dense() const {
    assert(!m_packed && "a packed weight has no dense matrix: widen it (toDense, widenCols)");
    return m_dense;
}

Mat& Weight::dense() {
    assert(!m_packed && "a packed weight has no dense matrix: widen it (toDense, widenCols)");
    return m_dense;
}

float Weight::operator()(Eigen::Index r, Eigen::Index c) const {
    if (!m_packed) return m_dense(r, c);
    const Eigen::Index line = m_lines == Lines::AreColumns ? c : r;
    const Eigen::Index at = m_lines == Lines::AreColumns ? r : c;
    Vec buffer(m_packed->length);
    m_packed->widenLines(line, 1, buffer.data());
    return buffer(at);
}

RowVec Weight::widenRow(Eigen::Index r) const {
    if (!m_packed) return m_dense.row(r);
    if (m_lines == Lines::AreRows) {
        RowVec out(m_packed->length);
        m_packed->widenLines(r, 1, out.data());
        return out;
    }
    RowVec out(cols());
    Vec line(m_packed->length);
    for (Eigen::Index c = 0; c < cols(); ++c) {
        m_packed->widenLines(c, 1, line.data());
        out(c) = line(r);
    }
    return out;
}

Mat Weight::widenCols(Eigen::Index c0, Eigen::Index n) const {
    if (!m_packed) return m_dense.middleCols(c0, n);
    if (m_lines == Lines::AreColumns) {
        Mat out(rows(), n);  // column-major: the lines as they are
        m_packed->widenLines(c0, n, out.data());
        return out;
    }
    return toDense().middleCols(c0, n);
}

Mat Weight::toDense() const {
    if (!m_packed) return m_dense;
    Mat lines(m_packed->length, m_packed->lines);  // column j = line j
    m_packed->widenLines(0, m_packed->lines, lines.data());
    if (m_lines == Lines::AreColumns) return lines;
    return lines.transpose();
}

bool Weight::operator==(const Weight& other) const {
    if (rows() != other.rows() || cols() != other.cols()) return false;
    if (!m_packed && !other.m_packed) return m_dense == other.m_dense;
    return toDense() == other.toDense();
}

}  // namespace attn
