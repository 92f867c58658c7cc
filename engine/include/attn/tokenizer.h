#pragma once
// Tokenizers turn text into tokens that keep their byte span in the text.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attn/result.h"

namespace attn {

/// One token of a text. [begin, end) is its byte span in the UTF-8 text it came from
/// (begin == end for tokens the tokenizer inserts, such as [CLS] or <bos>).
struct Token {
    std::string text;  ///< what the UI shows (UTF-8)
    std::size_t begin = 0;
    std::size_t end = 0;
    int id = -1;           ///< vocabulary id, or -1 when the model has no vocabulary
    bool unknown = false;  ///< the word is not in the model's vocabulary
    /// The token holds only some of the bytes of a character (byte-level BPE or a byte-fallback
    /// piece such as <0xF0>): its span starts or ends inside a UTF-8 character. Its text shows
    /// U+FFFD for those bytes; groupPartialCharacters puts such tokens back together.
    bool partial = false;
};

/// Sets Token::partial on every token whose non-empty span starts or ends inside a UTF-8
/// character of text (tokenizers call it; spans must refer to text).
void markPartialCharacters(std::string_view text, std::vector<Token>& tokens);

/// Consecutive tokens that together cover whole characters.
struct TokenGroup {
    std::size_t first = 0;  ///< index of the first token
    std::size_t count = 0;  ///< number of tokens (1 for a token that stands alone)
    std::size_t begin = 0;  ///< byte span in the text
    std::size_t end = 0;
    std::string text;  ///< the characters the tokens make together (UTF-8)
};

/// Groups tokens for display: a token that is not partial is a group of its own; a run of
/// partial tokens becomes one group as soon as their bytes end on a character boundary
/// (e.g. the four byte tokens of 🦙 become one group showing "🦙"). Tokens must be in text
/// order.
std::vector<TokenGroup> groupPartialCharacters(std::string_view text,
                                               const std::vector<Token>& tokens);

struct WordTokenizerOptions {
    bool lowercase = false;  ///< lower-case with ICU (root locale, full mapping: ΟΔΟΣ → οδος)
};

/// Words and punctuation, Unicode-aware through ICU: letters and digits group into words
/// (Cyrillic, accented Latin), each CJK ideograph is its own token, emoji sequences (ZWJ,
/// skin tones, flags) stay whole, every other symbol or punctuation mark is a token of its own.
/// Invalid UTF-8 is replaced by U+FFFD in token text; spans still refer to the input bytes.
std::vector<Token> tokenizeWords(std::string_view text, const WordTokenizerOptions& options = {});

/// A model's tokenizer: text → tokens with ids, id → text.
class TextTokenizer {
public:
    virtual ~TextTokenizer() = default;
    virtual std::vector<Token> encode(std::string_view text) const = 0;
    virtual std::string decode(int id) const = 0;
    virtual int vocabSize() const = 0;
    /// Short name shown in the UI, e.g. "words", "byte-level BPE", "WordPiece".
    virtual std::string name() const = 0;
};

/// Words from tokenizeWords with no vocabulary: ids stay -1 (the untrained model embeds
/// each token by a hash of its text).
class WordTokenizer : public TextTokenizer {
public:
    explicit WordTokenizer(WordTokenizerOptions options = {}) : m_options(options) {}
    std::vector<Token> encode(std::string_view text) const override;
    std::string decode(int id) const override;
    int vocabSize() const override { return 0; }
    std::string name() const override { return "words"; }

private:
    WordTokenizerOptions m_options;
};

/// Words from tokenizeWords looked up in a fixed vocabulary; unseen words get unkId and
/// unknown = true. Used by our own trained models.
class VocabTokenizer : public TextTokenizer {
public:
    VocabTokenizer(std::vector<std::string> vocab, int unkId, WordTokenizerOptions options = {});
    std::vector<Token> encode(std::string_view text) const override;
    std::string decode(int id) const override;
    int vocabSize() const override { return static_cast<int>(m_vocab.size()); }
    std::string name() const override { return "word vocabulary"; }
    int idOf(std::string_view word) const;  ///< -1 when absent
    const std::vector<std::string>& vocab() const { return m_vocab; }
    int unkId() const { return m_unk; }

private:
    std::vector<std::string> m_vocab;
    int m_unk;
    WordTokenizerOptions m_options;
    struct Index;
    std::shared_ptr<const Index> m_index;
};

/// Number of Unicode code points in a UTF-8 string (invalid bytes count one each).
std::size_t utf8Length(std::string_view text);

}  // namespace attn
