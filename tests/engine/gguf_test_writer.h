#pragma once
// A GGUF writer for tests: builds a file byte by byte as gguf.md lays it out, with knobs to
// break it (a wrong version, counts, offsets, alignment) for the reader's error paths.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "formats_test_util.h"

namespace attn::testing {

class GgufWriter {
public:
    // Raw little-endian pieces.
    static void put32(std::string& b, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
    static void put64(std::string& b, std::uint64_t v) {
        for (int i = 0; i < 8; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
    static void putStr(std::string& b, const std::string& s) {
        put64(b, s.size());
        b += s;
    }
    static void putF32(std::string& b, float f) {
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        put32(b, u);
    }

    // Metadata. type numbers are gguf_type's.
    void addRaw(const std::string& key, std::uint32_t type, const std::string& valueBytes) {
        std::string& b = m_kv;
        putStr(b, key);
        put32(b, type);
        b += valueBytes;
        ++m_n_kv;
    }
    void addU32(const std::string& key, std::uint32_t v) {
        std::string b;
        put32(b, v);
        addRaw(key, 4, b);
    }
    void addI32(const std::string& key, std::int32_t v) {
        std::string b;
        put32(b, static_cast<std::uint32_t>(v));
        addRaw(key, 5, b);
    }
    void addU64(const std::string& key, std::uint64_t v) {
        std::string b;
        put64(b, v);
        addRaw(key, 10, b);
    }
    void addI64(const std::string& key, std::int64_t v) {
        std::string b;
        put64(b, static_cast<std::uint64_t>(v));
        addRaw(key, 11, b);
    }
    void addU8(const std::string& key, std::uint8_t v) {
        addRaw(key, 0, std::string(1, static_cast<char>(v)));
    }
    void addI8(const std::string& key, std::int8_t v) {
        addRaw(key, 1, std::string(1, static_cast<char>(v)));
    }
    void addU16(const std::string& key, std::uint16_t v) {
        std::string b;
        b += static_cast<char>(v & 0xFF);
        b += static_cast<char>(v >> 8);
        addRaw(key, 2, b);
    }
    void addI16(const std::string& key, std::int16_t v) {
        std::string b;
        const auto u = static_cast<std::uint16_t>(v);
        b += static_cast<char>(u & 0xFF);
        b += static_cast<char>(u >> 8);
        addRaw(key, 3, b);
    }
    void addF32(const std::string& key, float v) {
        std::string b;
        putF32(b, v);
        addRaw(key, 6, b);
    }
    void addF64(const std::string& key, double v) {
        std::string b;
        std::uint64_t u;
        std::memcpy(&u, &v, 8);
        put64(b, u);
        addRaw(key, 12, b);
    }
    void addBool(const std::string& key, bool v) { addRaw(key, 7, std::string(1, v ? 1 : 0)); }
    void addString(const std::string& key, const std::string& v) {
        std::string b;
        putStr(b, v);
        addRaw(key, 8, b);
    }
    void addStringArray(const std::string& key, const std::vector<std::string>& v) {
        std::string b;
        put32(b, 8);
        put64(b, v.size());
        for (const auto& s : v) putStr(b, s);
        addRaw(key, 9, b);
    }
    void addF32Array(const std::string& key, const std::vector<float>& v) {
        std::string b;
        put32(b, 6);
        put64(b, v.size());
        for (float f : v) putF32(b, f);
        addRaw(key, 9, b);
    }
    void addI32Array(const std::string& key, const std::vector<std::int32_t>& v) {
        std::string b;
        put32(b, 5);
        put64(b, v.size());
        for (std::int32_t i : v) put32(b, static_cast<std::uint32_t>(i));
        addRaw(key, 9, b);
    }

    /// A tensor: shape in ggml order (ne[0] first), its ggml type and its bytes. The offset is
    /// the next aligned one unless given.
    void addTensor(const std::string& name, std::vector<std::uint64_t> shape, std::uint32_t type,
                   const std::string& bytes, std::uint64_t offset = UINT64_MAX) {
        Tensor t{name, std::move(shape), type, bytes, offset};
        m_tensors.push_back(std::move(t));
    }
    void addF32Tensor(const std::string& name, std::vector<std::uint64_t> shape,
                      const std::vector<float>& values) {
        std::string b;
        for (float f : values) putF32(b, f);
        addTensor(name, std::move(shape), 0, b);
    }

    // Knobs for broken files.
    std::uint32_t version = 3;
    std::uint64_t alignment = 32;  ///< the alignment the writer pads to (set general.alignment
                                   ///< yourself when it is not 32)
    std::uint64_t tensor_count_override = UINT64_MAX;
    std::uint64_t kv_count_override = UINT64_MAX;
    std::string magic = "GGUF";

    /// The whole file. infosEnd (if given) receives the byte where the tensor infos end,
    /// kvEnd where the metadata ends.
    std::string bytes(std::uint64_t* kvEnd = nullptr, std::uint64_t* infosEnd = nullptr) const {
        std::string b = magic;
        put32(b, version);
        put64(b, tensor_count_override != UINT64_MAX ? tensor_count_override : m_tensors.size());
        put64(b, kv_count_override != UINT64_MAX ? kv_count_override : m_n_kv);
        b += m_kv;
        if (kvEnd != nullptr) *kvEnd = b.size();
        std::vector<std::uint64_t> offsets;
        std::uint64_t next = 0;
        for (const Tensor& t : m_tensors) {
            const std::uint64_t off = t.offset != UINT64_MAX ? t.offset : next;
            offsets.push_back(off);
            next = (std::max(next, off + t.bytes.size()) + alignment - 1) / alignment * alignment;
        }
        for (std::size_t i = 0; i < m_tensors.size(); ++i) {
            const Tensor& t = m_tensors[i];
            putStr(b, t.name);
            put32(b, static_cast<std::uint32_t>(t.shape.size()));
            for (std::uint64_t d : t.shape) put64(b, d);
            put32(b, t.type);
            put64(b, offsets[i]);
        }
        if (infosEnd != nullptr) *infosEnd = b.size();
        if (m_tensors.empty()) return b;
        while (b.size() % alignment != 0) b += '\0';
        const std::size_t data = b.size();
        for (std::size_t i = 0; i < m_tensors.size(); ++i) {
            if (m_tensors[i].bytes.empty()) continue;  // an offset far away stays far away
            const std::size_t at = data + offsets[i];
            if (b.size() < at + m_tensors[i].bytes.size()) b.resize(at + m_tensors[i].bytes.size());
            std::memcpy(b.data() + at, m_tensors[i].bytes.data(), m_tensors[i].bytes.size());
        }
        return b;
    }
    void write(const std::string& path) const { writeFile(path, bytes()); }

private:
    struct Tensor {
        std::string name;
        std::vector<std::uint64_t> shape;
        std::uint32_t type;
        std::string bytes;
        std::uint64_t offset;
    };
    std::string m_kv;
    std::uint64_t m_n_kv = 0;
    std::vector<Tensor> m_tensors;
};

}  // namespace attn::testing
