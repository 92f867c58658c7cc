#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace attn::detail {

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        reset();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
    if (m_data != nullptr) {
        ::munmap(const_cast<std::byte*>(m_data), static_cast<std::size_t>(m_size));
    }
    m_data = nullptr;
    m_size = 0;
}

Result<MappedFile> MappedFile::open(const std::string& path, bool populate) {
    // stat before open: open(2) on a FIFO blocks until a writer comes, which may be never.
    struct stat before {};
    if (::stat(path.c_str(), &before) != 0) {
        const int err = errno;
        if (err == ENOENT) return makeError(path + ": no such file", ErrorCode::NotFound);
        return makeError(path + ": cannot open (" + std::strerror(err) + ")");
    }
    if (!S_ISREG(before.st_mode)) return makeError(path + ": not a regular file");
    // O_NONBLOCK too: if the path is swapped for a FIFO between stat and open, open returns at
    // once and the fstat below refuses it.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) return makeError(path + ": no such file", ErrorCode::NotFound);
        return makeError(path + ": cannot open (" + std::strerror(err) + ")");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        return makeError(path + ": cannot read its size (" + std::strerror(err) + ")");
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError(path + ": not a regular file");
    }
    MappedFile file;
    file.m_size = static_cast<std::uint64_t>(st.st_size);
    if (file.m_size > 0) {
        int flags = MAP_PRIVATE;
        if (populate) flags |= MAP_POPULATE;
        void* p = ::mmap(nullptr, static_cast<std::size_t>(file.m_size), PROT_READ, flags, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            file.m_size = 0;
            return makeError(path + ": cannot map into memory (" + std::strerror(err) + ")");
        }
        file.m_data = static_cast<const std::byte*>(p);
    }
    ::close(fd);  // the mapping stays valid
    return file;
}

std::string withThousands(std::uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    const int len = static_cast<int>(digits.size());
    for (int i = 0; i < len; ++i) {
        if (i > 0 && (len - i) % 3 == 0) out += ',';
        out += digits[static_cast<std::size_t>(i)];
    }
    return out;
}

}  // namespace attn::detail
