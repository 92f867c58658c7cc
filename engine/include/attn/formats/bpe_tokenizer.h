#pragma once
// The BPE tokenizers of today's models, configured by plain values so that tokenizer.json
// (hf_tokenizer.h) and GGUF metadata (gguf_tokenizer.h) both build one:
//
//  1. Added / special tokens are cut out of the text first (leftmost, longest among those
//     starting at the same place); they never go through the steps below.
//  2. Each remaining segment is normalized: NFC (or NFKC, NFD, NFKD), lower case, then "▁" put in
//  front (SentencePiece's dummy
//     prefix: Hugging Face's Prepend normalizer, GGUF's add_space_prefix), then spaces
//     replaced by "▁". Every normalized byte remembers which input bytes it came from, so
//     tokens keep exact spans in the text the user typed.
//  3. Pre-tokenization: ICU regular expressions applied one after the other; each cuts every
//     current piece into its matches and the text between them (Hugging Face's Split with
//     behavior "Isolated", llama.cpp's list of regex_exprs per pre type). \p{L}, \p{N} and
//     look-ahead are ICU's own.
//  4. BPE inside each piece:
//     - ByteLevel: one symbol per byte in GPT-2's byte↔unicode form ("Ġ" for a space);
//     - SentencePiece: one symbol per character; a character not in the vocabulary becomes its
//       <0xHH> byte pieces (byte_fallback) or the unknown token.
//     Adjacent symbols merge by merge rank (merges given) or else by the score of the joined
//     piece (llama.cpp's SentencePiece), best first, leftmost first among equals. With
//     ignore_merges a piece that is itself a token is taken whole (Llama 3).
//  5. BOS / EOS around the whole text when asked (TemplateProcessing, add_bos_token).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

struct BpeTokenizerConfig {
    enum class Kind { ByteLevel, SentencePiece };
    Kind kind = Kind::ByteLevel;
    std::string name;  ///< shown in the UI, e.g. "byte-level BPE (qwen2)"

    /// id → token as the vocabulary stores it ("Ġthe", "▁the", "<0x0A>"); "" for an unused id.
    std::vector<std::string> tokens;
    /// Merges in rank order (first = merged first). Empty: merge by scores instead.
    std::vector<std::pair<std::string, std::string>> merges;
    /// id → score, for SentencePiece vocabularies without merges (higher merges first).
    std::vector<float> scores;
    /// Ids that plain text never turns into (control tokens, <0xHH> pieces, <unk>): left out of
    /// the text → id lookup of the merge step.
    std::vector<int> unmatchable_ids;

    /// ICU patterns applied in turn (step 3). Empty: the whole segment is one piece.
    std::vector<std::string> split_patterns;
    bool ignore_merges = false;
    bool byte_fallback = false;
    int unk_id = -1;        ///< SentencePiece: a character with no piece and no byte fallback
    bool fuse_unk = false;  ///< consecutive unknown characters become one unknown token

    // Step 2.
    enum class Normalization { None, NFC, NFKC, NFD, NFKD };
    Normalization normalization = Normalization::None;
    bool lowercase = false;       ///< after the Unicode normalization, code point by code point
    bool prepend_marker = false;  ///< "▁" in front of every non-empty segment
    /// "▁" in front only of the first segment and of segments right after a special token
    /// (llama.cpp's SentencePiece rule) — used with prepend_marker = false.
    bool prepend_marker_after_special = false;
    bool spaces_to_marker = false;  ///< " " → "▁"
    bool prefix_space = false;      ///< ByteLevel add_prefix_space: " " in front of a segment
                                    ///< that does not start with one

    /// Tokens matched in the raw text before anything else (step 1).
    struct Added {
        std::string content;
        int id = -1;
        bool special = true;  ///< shown as a special token; kept when parse_special is off only
                              ///< if false
    };
    std::vector<Added> added;
    bool parse_special = true;  ///< false: only added tokens with special == false are matched

    int bos_id = -1;
    int eos_id = -1;
    bool add_bos = false;
    bool add_eos = false;
};

class BpeTokenizer : public TextTokenizer {
public:
    /// Checks the configuration (ids in range, patterns that ICU compiles) and builds the
    /// lookup tables. where names the source (a file) in messages.
    static Result<std::shared_ptr<const BpeTokenizer>> create(BpeTokenizerConfig config,
                                                              const std::string& where);

    /// BOS/EOS as configured. Token text is what the token stands for, as UTF-8 ("▁" read as a
    /// space; U+FFFD for the bytes of a character it holds only part of: partial = true);
    /// BOS/EOS and special tokens show their content. Spans refer to text.
    std::vector<Token> encode(std::string_view text) const override;
    /// add_special = false leaves out BOS/EOS (Hugging Face's add_special_tokens=False).
    std::vector<Token> encode(std::string_view text, bool add_special) const;
    std::vector<int> encodeIds(std::string_view text, bool add_special = true) const;
    /// The text of one id: bytes for byte-level tokens and <0xHH> pieces, "▁" read as a space.
    std::string decode(int id) const override;
    int vocabSize() const override { return static_cast<int>(m_config.tokens.size()); }
    std::string name() const override { return m_config.name; }

    const BpeTokenizerConfig& config() const { return m_config; }
    int idOf(std::string_view token) const;  ///< -1 when absent

    struct Tables;
    BpeTokenizer(BpeTokenizerConfig config, std::shared_ptr<const Tables> tables);

private:
    void encodeSegment(std::string_view text, std::size_t begin, std::size_t end,
                       bool marker_in_front, std::vector<Token>& out) const;

    BpeTokenizerConfig m_config;
    std::shared_ptr<const Tables> m_tables;
};

}  // namespace attn
