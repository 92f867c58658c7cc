// A GGUF file: the container, then the model and the tokenizer read from it.
#include "attn/formats/gguf.h"
#include "attn/formats/gguf_model.h"
#include "attn/formats/gguf_tokenizer.h"
#include "attn/model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path =
        attn::fuzz::writeFile("model.gguf", {reinterpret_cast<const char*>(data), size});
    auto file = attn::openGguf(path);
    if (!file) return 0;
    for (const auto& k : (*file)->keys()) (void)(*file)->describe(k);
    (void)attn::ggufQuantization(**file);
    if (auto tok = attn::loadGgufTokenizer(**file); tok) {
        (void)(*tok)->encode("Hello world, ünïcode 日本 🙂");
    }
    (void)attn::loadGgufModel(*file);
    return 0;
}
