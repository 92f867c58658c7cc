// The word tokenizer (ICU word breaks, lower-casing, emoji, CJK) and the vocabulary tokenizer
// over any bytes: spans must lie inside the text and in order.
#include <cstdlib>

#include "attn/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool lowercase = (data[0] & 1) != 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    attn::WordTokenizerOptions o;
    o.lowercase = lowercase;
    const auto tokens = attn::tokenizeWords(text, o);
    std::size_t last = 0;
    for (const auto& t : tokens) {
        if (t.begin > t.end || t.end > text.size() || t.begin < last) std::abort();
        last = t.begin;
    }
    (void)attn::groupPartialCharacters(text, tokens);
    (void)attn::utf8Length(text);
    static const attn::VocabTokenizer vocab({"[PAD]", "[UNK]", "the", "cat", "sat", ".", "é"}, 1,
                                            o);
    for (const auto& t : vocab.encode(text))
        if (t.end > text.size()) std::abort();
    return 0;
}
