// tokenizer.json (Hugging Face BPE: byte-level and SentencePiece-style): json @@@@ text.
#include "attn/formats/hf_tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = attn::fuzz::splitParts(data, size, 2);
    auto tok = attn::parseHfTokenizerJson(parts[0], "tokenizer.json");
    if (!tok) return 0;
    const auto ids = (*tok)->encodeIds(parts[1]);
    for (int id : ids)
        if (id < 0 || id >= (*tok)->vocabSize()) std::abort();
    for (const auto& t : (*tok)->encode(parts[1]))
        if (t.end > parts[1].size()) std::abort();
    return 0;
}
