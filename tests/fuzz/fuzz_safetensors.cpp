// A safetensors file: the header and every tensor read as floats and as a packed weight.
#include "attn/formats/safetensors.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path =
        attn::fuzz::writeFile("model.safetensors", {reinterpret_cast<const char*>(data), size});
    auto file = attn::SafetensorsFile::open(path, false);
    if (!file) return 0;
    for (const auto& t : (*file)->tensors()) {
        (void)(*file)->readFloats(t.name);
        if (t.shape.size() == 2) {
            (void)(*file)->readMatrix(t.name, (size & 1) != 0);
            (void)attn::readWeight(*file, t.name, attn::Weight::Lines::AreRows);
        } else if (t.shape.size() == 1) {
            (void)(*file)->readVector(t.name);
        }
    }
    return 0;
}
