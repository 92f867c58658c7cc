// Rewrites a GGUF file with its 2-D weights in another ggml type (Q8_0, Q4_0, Q4_K …), by our
// reference quantizer (attn/formats/ggml_quants.h): a real trained model in a quantized form,
// for the screenshots of a quantized model's heads and for checking how far quantization moves
// its attention. Metadata is copied key by key; tensors whose rows are not a whole number of
// the type's blocks (and every 1-D tensor: norms, rope factors) stay as they were.
//
//   requantize_gguf IN.gguf OUT.gguf TYPE        # TYPE: q8_0, q4_0, q4_k, q5_k, q6_k, f16, bf16

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "../engine/gguf_test_writer.h"
#include "attn/formats/ggml_quants.h"
#include "attn/formats/ggml_types.h"
#include "attn/formats/gguf.h"

namespace {

using attn::GgufFile;
using attn::GgufType;

// Copies one metadata value, whatever its type; false (with a message) for what we cannot.
bool copyValue(const GgufFile& in, const std::string& key, attn::testing::GgufWriter& out) {
    const auto type = in.typeOf(key);
    const auto fail = [&](const std::string& why) {
        std::fprintf(stderr, "%s: %s\n", key.c_str(), why.c_str());
        return false;
    };
    switch (*type) {
        case GgufType::String: {
            auto v = in.getString(key);
            if (!v) return fail(v.message());
            out.addString(key, *v);
            return true;
        }
        case GgufType::Float32:
        case GgufType::Float64: {
            auto v = in.getFloat(key);
            if (!v) return fail(v.message());
            out.addF32(key, static_cast<float>(*v));
            return true;
        }
        case GgufType::Bool: {
            auto v = in.getBool(key);
            if (!v) return fail(v.message());
            out.addBool(key, *v);
            return true;
        }
        case GgufType::Array: {
            const auto elem = in.arrayTypeOf(key);
            if (elem == GgufType::String) {
                auto v = in.getStringArray(key);
                if (!v) return fail(v.message());
                out.addStringArray(key, *v);
            } else if (elem == GgufType::Float32 || elem == GgufType::Float64) {
                auto v = in.getFloatArray(key);
                if (!v) return fail(v.message());
                out.addF32Array(key, *v);
            } else {
                auto v = in.getIntArray(key);
                if (!v) return fail(v.message());
                out.addI32Array(key, std::vector<std::int32_t>(v->begin(), v->end()));
            }
            return true;
        }
        default: {  // every integer type: written as uint32 or int32, as readers accept any
            if (key == "general.alignment") return true;  // the writer sets its own
            auto v = in.getInt(key);
            if (!v) return fail(v.message());
            if (*v >= 0 && *v <= 0xFFFFFFFF)
                out.addU32(key, static_cast<std::uint32_t>(*v));
            else
                out.addI64(key, *v);
            return true;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s IN.gguf OUT.gguf TYPE (q8_0, q4_0, q4_k, …)\n", argv[0]);
        return 2;
    }
    std::string want = argv[3];
    std::transform(want.begin(), want.end(), want.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::uint32_t type = 0;
    bool known = false;
    for (std::uint32_t t = 0; t < 64; ++t) {
        if (attn::canDequantize(t) && attn::ggmlTypeName(t) == want) {
            type = t;
            known = true;
        }
    }
    if (!known) {
        std::fprintf(stderr, "%s: unknown or unsupported type '%s'\n", argv[0], argv[3]);
        return 2;
    }
    auto in = attn::openGguf(argv[1]);
    if (!in) {
        std::fprintf(stderr, "%s\n", in.message().c_str());
        return 1;
    }
    const GgufFile& f = **in;
    attn::testing::GgufWriter out;
    for (const std::string& key : f.keys())
        if (!copyValue(f, key, out)) return 1;

    int changed = 0;
    for (const attn::GgufTensorInfo& t : f.tensors()) {
        const auto block = static_cast<std::uint64_t>(attn::ggmlTypeInfo(type)->block_size);
        const bool convert = t.shape.size() == 2 && t.rowLength() % block == 0 &&
                             t.ggmlType() != static_cast<attn::GgmlType>(type);
        if (!convert) {
            out.addTensor(t.name, t.shape, t.type,
                          std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
            continue;
        }
        auto values = attn::dequantizeTensor(t);
        if (!values) {
            std::fprintf(stderr, "%s: %s\n", t.name.c_str(), values.message().c_str());
            return 1;
        }
        auto q = attn::quantize(type, *values);
        if (!q) {
            std::fprintf(stderr, "%s: %s\n", t.name.c_str(), q.message().c_str());
            return 1;
        }
        out.addTensor(t.name, t.shape, type,
                      std::string(reinterpret_cast<const char*>(q->data()), q->size()));
        ++changed;
    }
    const std::string bytes = out.bytes();
    std::ofstream o(argv[2], std::ios::binary | std::ios::trunc);
    o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    o.close();
    if (!o) {
        std::fprintf(stderr, "writing %s failed\n", argv[2]);
        return 1;
    }
    std::printf("%s: %d of %zu tensors in %s, %.1f KB\n", argv[2], changed, f.tensors().size(),
                want.c_str(), static_cast<double>(bytes.size()) / 1024.0);
    return 0;
}
