#pragma once
// Hugging Face GPT-2 folders: config.json, model.safetensors, vocab.json, merges.txt.
//
// Tokenizer: GPT-2's byte-level BPE. Text is cut into pieces by GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (matched by hand with ICU character classes), every byte of a piece is written as one
// printable character (GPT-2's byte↔unicode table, so a space shows as "Ġ"), then the pair
// with the lowest rank in merges.txt is merged everywhere in the piece, again and again.
//
// Weights: HF names with or without the "transformer." prefix. c_attn, c_proj and c_fc are
// Conv1D weights, already (in, out) for X·W.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attn/model.h"
#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

class ByteLevelBpeTokenizer : public TextTokenizer {
public:
    /// vocab: token (in byte↔unicode form, e.g. "Ġthe") and id; merges in rank order, each
    /// a pair of tokens in that form; special tokens (e.g. "<|endoftext|>") are matched in the
    /// text as a whole before anything else, when they are in the vocabulary.
    ByteLevelBpeTokenizer(const std::vector<std::pair<std::string, int>>& vocab,
                          const std::vector<std::pair<std::string, std::string>>& merges,
                          std::vector<std::string> special_tokens = {"<|endoftext|>"});

    /// Reads vocab.json and merges.txt (a "#version" first line is skipped).
    static Result<std::shared_ptr<const ByteLevelBpeTokenizer>> load(const std::string& vocabPath,
                                                                     const std::string& mergesPath);

    /// No BOS is added (GPT-2 does not add one). Token text is the piece of input it covers
    /// (invalid UTF-8 of a piece that splits a character shows as U+FFFD); spans are exact.
    std::vector<Token> encode(std::string_view text) const override;
    /// The bytes of one token (may be part of a UTF-8 character).
    std::string decode(int id) const override;
    std::string decodeIds(const std::vector<int>& ids) const;
    int vocabSize() const override { return static_cast<int>(m_tokens.size()); }
    std::string name() const override { return "byte-level BPE"; }

    /// Id of a token in byte↔unicode form, -1 when absent.
    int idOf(std::string_view token) const;
    /// The byte↔unicode form of an id ("Ġthe"); empty when absent.
    const std::string& tokenString(int id) const;

    /// GPT-2's pre-tokenization: [begin, end) byte spans of the pieces of text.
    static std::vector<std::pair<std::size_t, std::size_t>> splitPieces(std::string_view text);
    /// GPT-2's byte↔unicode table: the printable character (UTF-8) that stands for a byte.
    static std::string byteToSymbol(unsigned char byte);
    /// The bytes a token in byte↔unicode form stands for ("Ġthe" → " the"); characters
    /// outside the table are kept as they are.
    static std::string symbolsToBytes(std::string_view token);

private:
    void encodePiece(std::string_view text, std::size_t offset, std::vector<Token>& out) const;

    std::vector<std::string> m_tokens;  // id → token in byte↔unicode form ("" for gaps)
    std::vector<std::string> m_special;
    struct Index;
    std::shared_ptr<const Index> m_index;
};

/// Opens a Hugging Face GPT-2 folder (or a cache snapshot of one) into a Model: Decoder,
/// pre-norm LayerNorm (layer_norm_epsilon), GELU with tanh ("gelu_new"), learned positions
/// (n_positions), final LayerNorm, LM head tied to the token embedding (or lm_head.weight when
/// the file has one).
Result<std::shared_ptr<Model>> loadGpt2Folder(const std::string& folder);

}  // namespace attn
