// GPT-2's tokenizer files: vocab.json @@@@ merges.txt @@@@ text to encode.
#include "attn/formats/gpt2.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = attn::fuzz::splitParts(data, size, 3);
    const std::string vocab = attn::fuzz::writeFile("vocab.json", parts[0]);
    const std::string merges = attn::fuzz::writeFile("merges.txt", parts[1]);
    auto tok = attn::ByteLevelBpeTokenizer::load(vocab, merges);
    if (!tok) return 0;
    attn::fuzz::encodeAndDecode(**tok, parts[2]);
    return 0;
}
