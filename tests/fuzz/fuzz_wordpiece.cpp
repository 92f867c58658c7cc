// BERT's WordPiece: vocab.txt @@@@ options byte @@@@ text to encode.
#include "attn/formats/bert.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = attn::fuzz::splitParts(data, size, 3);
    const std::string vocab = attn::fuzz::writeFile("vocab.txt", parts[0]);
    attn::WordPieceOptions o;
    const unsigned flags = parts[1].empty() ? 0u : static_cast<unsigned char>(parts[1][0]);
    o.lowercase = (flags & 1) != 0;
    o.strip_accents = (flags & 2) != 0;
    o.split_cjk = (flags & 4) == 0;
    auto tok = attn::WordPieceTokenizer::load(vocab, o);
    if (!tok) return 0;
    attn::fuzz::encodeAndDecode(**tok, parts[2]);
    return 0;
}
