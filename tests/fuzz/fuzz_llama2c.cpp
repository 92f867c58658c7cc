// A llama2.c checkpoint and its tokenizer.bin: checkpoint @@@@ tokenizer @@@@ text.
#include "attn/formats/llama2c.h"
#include "attn/model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = attn::fuzz::splitParts(data, size, 3);
    const std::string ckpt = attn::fuzz::writeFile("model.bin", parts[0]);
    const std::string tok = attn::fuzz::writeFile("tokenizer.bin", parts[1]);
    if (auto t = attn::Llama2cTokenizer::load(tok); t) {
        const auto ids = (*t)->encodeIds(parts[2]);
        (void)(*t)->decodeIds(ids);
    }
    auto model = attn::loadLlama2c(ckpt, tok);
    if (!model) return 0;
    (void)(*model)->tokenizer->encode(parts[2]);
    return 0;
}
