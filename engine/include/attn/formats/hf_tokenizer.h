#pragma once
// tokenizer.json as the Hugging Face tokenizers library writes it, for BPE models:
//  - byte-level BPE (GPT-2, Llama 3, Qwen2/3): pre_tokenizer Split with the model's own regex
//    (or ByteLevel with use_regex) and ByteLevel;
//  - SentencePiece-style BPE with "▁" and byte_fallback (Llama 2, TinyLlama, Mistral):
//    normalizer Prepend("▁") + Replace(" " → "▁"), or pre_tokenizer Metaspace.
// Read: model (vocab, merges as "a b" strings or [a, b] pairs, byte_fallback, unk_token,
// fuse_unk, ignore_merges), added_tokens (matched in the text before the model), normalizer
// (NFC/NFKC/NFD/NFKD, Lowercase, Prepend, Replace, Sequence), pre_tokenizer (Split Isolated,
// ByteLevel, Metaspace, Digits, Sequence), post_processor (TemplateProcessing: its special tokens
// before and after the text become BOS / EOS; ByteLevel; Sequence). Anything else is named in the
// error. See bpe_tokenizer.h for what encoding then does.

#include <memory>
#include <string>
#include <string_view>

#include "attn/formats/bpe_tokenizer.h"
#include "attn/result.h"

namespace attn {

/// Largest tokenizer.json we read (Qwen3's is 11 MB) and the deepest JSON nesting we accept
/// (real files nest 5 levels; the limit is checked before parsing, since the parser recurses).
constexpr std::size_t kMaxTokenizerJsonBytes = 256u << 20;
constexpr int kMaxTokenizerJsonDepth = 32;

/// Parses the text of a tokenizer.json; where names it in messages.
Result<std::shared_ptr<const BpeTokenizer>> parseHfTokenizerJson(std::string_view json,
                                                                 const std::string& where);
/// Reads a tokenizer.json file.
Result<std::shared_ptr<const BpeTokenizer>> loadHfTokenizer(const std::string& path);

}  // namespace attn
