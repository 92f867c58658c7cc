#pragma once
// The tokenizer stored in a GGUF file's metadata (tokenizer.ggml.*), built the way llama.cpp's
// llama-vocab.cpp reads it:
//  - "gpt2": byte-level BPE; tokenizer.ggml.pre names the pre-tokenizer, i.e. the list of
//    regular expressions applied in turn (gpt-2, llama-bpe / llama3, qwen2, deepseek-llm,
//    deepseek-coder, falcon, starcoder, …: ggufPrePatterns), merges by rank;
//  - "llama": SentencePiece BPE by piece score, "▁" for spaces, a "▁" in front of the text and
//    after every special token (add_space_prefix, default on), <0xHH> byte fallback;
//  - "bert": WordPiece (the file writes word-initial pieces as "▁piece" and continuations
//    bare; we turn them back into BERT's "piece" / "##piece").
// Control tokens (token type 3) are matched in the text before the model when parse_special is
// on, user-defined ones (type 4) always. BOS/EOS follow add_bos_token / add_eos_token (llama.cpp's
// defaults when absent: BOS for "llama", [CLS] … [SEP] for "bert").

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

class GgufFile;

/// tokenizer.ggml.* as plain values (the GGUF reader fills it; tests may too).
struct GgufVocab {
    std::string model;                ///< tokenizer.ggml.model
    std::string pre;                  ///< tokenizer.ggml.pre ("" when absent)
    std::vector<std::string> tokens;  ///< tokenizer.ggml.tokens
    std::vector<float> scores;        ///< tokenizer.ggml.scores (may be empty)
    /// tokenizer.ggml.token_type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused,
    /// 6 byte (may be empty: all normal)
    std::vector<int> token_types;
    std::vector<std::string> merges;  ///< tokenizer.ggml.merges, "a b"
    int bos_id = -1, eos_id = -1, unk_id = -1, sep_id = -1, pad_id = -1, cls_id = -1, mask_id = -1;
    std::optional<bool> add_bos, add_eos, add_space_prefix;
};

struct GgufTokenizerOptions {
    bool add_special = true;    ///< BOS/EOS ([CLS]/[SEP]) as the file asks
    bool parse_special = true;  ///< control tokens written in the text become those tokens
};

/// llama.cpp's regular expressions for a tokenizer.ggml.pre value (ICU syntax); an unknown
/// pre type is an error that names it.
Result<std::vector<std::string>> ggufPrePatterns(const std::string& pre);

/// Builds the tokenizer; where names the file in messages.
Result<std::shared_ptr<const TextTokenizer>> tokenizerFromGgufVocab(
    const GgufVocab& vocab, const std::string& where, const GgufTokenizerOptions& options = {});

/// Reads tokenizer.ggml.* from an open GGUF file (model and tokens required, the rest
/// optional); a value of the wrong type is an error naming the key.
Result<GgufVocab> readGgufVocab(const GgufFile& file);

/// readGgufVocab, then tokenizerFromGgufVocab.
Result<std::shared_ptr<const TextTokenizer>> tokenizerFromGguf(
    const GgufFile& file, const GgufTokenizerOptions& options = {});

}  // namespace attn
