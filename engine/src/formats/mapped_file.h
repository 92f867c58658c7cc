#pragma once
// A read-only memory map of a whole file (POSIX). Private to the format readers.

#include <cstddef>
#include <cstdint>
#include <string>

#include "attn/result.h"

namespace attn::detail {

class MappedFile {
public:
    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    /// Maps a regular file read-only. An empty file maps to data() == nullptr, size() == 0.
    /// populate: fault every page in now (faster when the whole file is read right away).
    static Result<MappedFile> open(const std::string& path, bool populate = false);

    const std::byte* data() const { return m_data; }
    std::uint64_t size() const { return m_size; }
    /// Releases the mapping early.
    void reset();

private:
    const std::byte* m_data = nullptr;
    std::uint64_t m_size = 0;
};

/// 1234567 → "1,234,567".
std::string withThousands(std::uint64_t n);

}  // namespace attn::detail
