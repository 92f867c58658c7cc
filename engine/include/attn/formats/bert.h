#pragma once
// Hugging Face BERT folders: config.json, model.safetensors, vocab.txt (and optionally
// tokenizer_config.json for do_lower_case / strip_accents / tokenize_chinese_chars).
//
// Tokenizer: BERT's BasicTokenizer (drop control characters, whitespace → space, a space
// around every CJK ideograph, lower-case, strip accents by NFD and dropping Mn marks, split off
// every punctuation character), then WordPiece: greedy longest match from the left, later
// pieces prefixed "##", a word with no match at some point becomes [UNK]. [CLS] … [SEP] around.
// Special tokens written in the text ("[MASK]") are kept whole.
//
// Weights: HF names with or without the "bert." prefix; nn.Linear weights are (out, in).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attn/model.h"
#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

struct WordPieceOptions {
    bool lowercase = true;         ///< do_lower_case (bert-base-uncased)
    bool strip_accents = true;     ///< NFD and drop Mn marks (BERT: follows lowercase by default)
    bool split_cjk = true;         ///< tokenize_chinese_chars
    int max_chars_per_word = 100;  ///< longer words become [UNK]
    bool add_cls_sep = true;       ///< [CLS] … [SEP] around (add_special_tokens)
};

class WordPieceTokenizer : public TextTokenizer {
public:
    /// vocab[i] is the piece of id i ("##" marks a piece that continues a word).
    explicit WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options = {});

    /// Reads vocab.txt: one piece per line, the line number is the id.
    static Result<std::shared_ptr<const WordPieceTokenizer>> load(const std::string& vocabPath,
                                                                  WordPieceOptions options = {});

    /// [CLS] pieces… [SEP]. Token text is the vocabulary piece ("##ing"); an [UNK] shows the
    /// word it stands for, with unknown = true. Spans point at the original bytes (a piece of
    /// a lower-cased or accent-stripped word spans the characters it came from).
    std::vector<Token> encode(std::string_view text) const override;
    /// The words after the BasicTokenizer (before WordPiece), with spans.
    std::vector<Token> basicTokenize(std::string_view text) const;
    std::string decode(int id) const override;
    /// Pieces joined the way BERT's decode does: "##" pieces glued to the one before, others
    /// separated by a space, [CLS]/[SEP]/[PAD] dropped.
    std::string decodeIds(const std::vector<int>& ids) const;
    int vocabSize() const override { return static_cast<int>(m_vocab.size()); }
    std::string name() const override { return "WordPiece"; }

    int idOf(std::string_view piece) const;  ///< -1 when absent
    int clsId() const { return m_cls; }
    int sepId() const { return m_sep; }
    int unkId() const { return m_unk; }
    int maskId() const { return m_mask; }
    int padId() const { return m_pad; }
    const WordPieceOptions& options() const { return m_options; }

private:
    struct NormChar;
    void basic(std::string_view text, std::size_t offset,
               std::vector<std::vector<NormChar>>& words) const;

    std::vector<std::string> m_vocab;
    WordPieceOptions m_options;
    int m_cls = -1, m_sep = -1, m_unk = -1, m_mask = -1, m_pad = -1;
    std::vector<std::string> m_special;  // kept whole when written in the text
    struct Index;
    std::shared_ptr<const Index> m_index;
};

/// Opens a Hugging Face BERT folder (or a cache snapshot of one) into a Model: Encoder,
/// post-norm LayerNorm (layer_norm_eps, default 1e-12), GELU (erf), learned positions, token
/// type embeddings (type 0 for every token), LayerNorm on the embeddings, no LM head.
Result<std::shared_ptr<Model>> loadBertFolder(const std::string& folder);

}  // namespace attn
