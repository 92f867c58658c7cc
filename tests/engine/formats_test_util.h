#pragma once
// Helpers shared by the test_formats_*.cpp tests: temp folders, raw files, random weights and
// the golden-comparison measure.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "attn/attention.h"

namespace attn::testing {

/// A fresh folder under the system temp dir, removed with everything in it at scope end.
class TempDir {
public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "attn_formats_XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        m_path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::string operator/(const std::string& name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

inline void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A safetensors file written byte by byte: 8-byte length (header.size() unless given), the
/// header text, then data.
inline void writeRawSafetensors(const std::string& path, const std::string& header,
                                const std::string& data, std::uint64_t header_len = UINT64_MAX) {
    std::uint64_t n = header_len == UINT64_MAX ? header.size() : header_len;
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) {
        bytes[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFF);
        n >>= 8;
    }
    writeFile(path, bytes + header + data);
}

/// Uniform random matrix in [-scale, scale], seeded.
inline Mat randomMat(int rows, int cols, float scale, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-scale, scale);
    Mat m(rows, cols);
    for (int c = 0; c < cols; ++c)
        for (int r = 0; r < rows; ++r) m(r, c) = u(rng);
    return m;
}

inline RowVec randomVec(int n, float center, float scale, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-scale, scale);
    RowVec v(n);
    for (int i = 0; i < n; ++i) v(i) = center + u(rng);
    return v;
}

/// Golden comparison in the ggml style: normalised mean squared error and the largest
/// absolute difference relative to the largest reference value.
struct Difference {
    double nmse = 0;
    double max_abs = 0;
    double max_rel = 0;  // max_abs / max |reference|
};

inline Difference compare(const Mat& got, const Mat& ref) {
    Difference d;
    if (got.rows() != ref.rows() || got.cols() != ref.cols()) {
        ADD_FAILURE() << "shape " << got.rows() << "x" << got.cols() << " vs " << ref.rows() << "x"
                      << ref.cols();
        d.nmse = d.max_abs = d.max_rel = INFINITY;
        return d;
    }
    double err = 0, norm = 0, peak = 0;
    for (Eigen::Index c = 0; c < ref.cols(); ++c) {
        for (Eigen::Index r = 0; r < ref.rows(); ++r) {
            const double e = static_cast<double>(got(r, c)) - ref(r, c);
            err += e * e;
            norm += static_cast<double>(ref(r, c)) * ref(r, c);
            d.max_abs = std::max(d.max_abs, std::abs(e));
            peak = std::max(peak, std::abs(static_cast<double>(ref(r, c))));
        }
    }
    d.nmse = norm > 0 ? err / norm : err;
    d.max_rel = peak > 0 ? d.max_abs / peak : d.max_abs;
    return d;
}

/// The shared folder (…/shared) beside the repository.
inline std::filesystem::path sharedDir() { return ATTN_SHARED_DIR; }

/// "1 2 3" for messages.
inline std::string idList(const std::vector<int>& ids) {
    std::string s;
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

/// True when running on CI, where missing shared files are a failure, not a skip.
inline bool onCi() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

}  // namespace attn::testing
