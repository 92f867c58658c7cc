#pragma once
// Shared by the libFuzzer targets: the loaders under test read paths, so an input becomes one
// or more files in a private folder in /dev/shm (memory, not the disk). Inputs made of several
// files are split at marker lines (splitParts); scripts/fuzz-seeds writes seeds in that form.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace attn::fuzz {

/// A folder of its own per process, removed at exit.
inline const std::filesystem::path& workDir() {
    struct Dir {
        std::filesystem::path path;
        Dir() {
            std::error_code ec;
            std::filesystem::path base = "/dev/shm";
            if (!std::filesystem::is_directory(base, ec))
                base = std::filesystem::temp_directory_path();
            path = base / ("attn-fuzz-" + std::to_string(::getpid()));
            std::filesystem::create_directories(path, ec);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

inline std::string writeFile(const std::string& name, std::string_view bytes) {
    const std::filesystem::path p = workDir() / name;
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p.string();
}

inline void removeFile(const std::string& name) {
    std::error_code ec;
    std::filesystem::remove(workDir() / name, ec);
}

/// The input cut at every "\n@@@@\n": part 0, part 1, … (missing parts are empty).
inline std::vector<std::string_view> splitParts(const std::uint8_t* data, std::size_t size,
                                                std::size_t n) {
    static constexpr std::string_view kMarker = "\n@@@@\n";
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < n) {
        const std::size_t at = rest.find(kMarker);
        if (at == std::string_view::npos) break;
        parts.push_back(rest.substr(0, at));
        rest.remove_prefix(at + kMarker.size());
    }
    parts.push_back(rest);
    parts.resize(n);
    return parts;
}

/// The source tree (for fixed files a target needs beside the fuzzed one).
inline std::filesystem::path sourceDir() { return ATTN_SOURCE_DIR; }

/// Encodes text, checks every token's span lies inside it (abort: a finding) and decodes the
/// ids again: what each tokenizer target does once its files have loaded.
template <class Tokenizer>
void encodeAndDecode(const Tokenizer& tok, std::string_view text) {
    std::vector<int> ids;
    for (const auto& t : tok.encode(text)) {
        if (t.end > text.size()) std::abort();
        ids.push_back(t.id);
    }
    (void)tok.decodeIds(ids);
}

}  // namespace attn::fuzz
