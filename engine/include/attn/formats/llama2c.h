#pragma once
// llama2.c checkpoints (Karpathy's "legacy" float32 export) and their tokenizer files.
//
// Checkpoint: 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size, seq_len; a negative vocab_size means the output layer has its own weights), then
// float32 arrays: token embedding (vocab, dim); attention RMSNorm (layer, dim); wq (layer, dim,
// dim); wk, wv (layer, n_kv_heads·head_size, dim); wo (layer, dim, dim); FFN RMSNorm (layer,
// dim); w1 (layer, hidden, dim); w2 (layer, dim, hidden); w3 (layer, hidden, dim); final RMSNorm
// (dim); two unused RoPE tables (seq_len, head_size/2) each; the classifier (vocab, dim) only
// when vocab_size was negative. Weight matrices are nn.Linear's (out, in) row-major, applied as
// out = W·x; our X·W convention takes their transpose.
//
// Tokenizer: int32 max token length, then for every token a float32 score, an int32 byte
// length and the bytes. Id 0 <unk>, 1 BOS, 2 EOS, "<0xHH>" pieces are byte fallbacks.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attn/model.h"
#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

/// The checkpoint header.
struct Llama2cConfig {
    int dim = 0;
    int hidden_dim = 0;
    int n_layers = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int vocab_size = 0;  ///< always positive here
    int seq_len = 0;
    bool shared_classifier = true;  ///< the output layer is the token embedding (tied)

    int headSize() const { return n_heads > 0 ? dim / n_heads : 0; }
    /// Bytes the whole file must have.
    std::uint64_t expectedFileSize() const;
};

/// Reads and checks the header of a checkpoint: sane, positive sizes; dim divisible by
/// n_heads, n_heads by n_kv_heads; file size exactly as the header implies (the message names
/// the file and both sizes).
Result<Llama2cConfig> readLlama2cHeader(const std::string& path);

/// SentencePiece-style BPE as llama2.c runs it: a space is put in front of the text (the
/// "dummy prefix"), every UTF-8 character becomes its piece (or its bytes as <0xHH> fallback
/// pieces), then the adjacent pair whose joined piece has the highest score is merged, again
/// and again. encode() starts with BOS (id 1). Token spans: a merged piece spans the bytes of
/// the characters it was made of; the dummy-prefix space and BOS have empty spans.
class Llama2cTokenizer : public TextTokenizer {
public:
    /// pieces[i] is the piece of id i (raw bytes), scores[i] its merge score.
    Llama2cTokenizer(std::vector<std::string> pieces, std::vector<float> scores, int bos_id = 1,
                     int eos_id = 2);

    /// Reads tok512.bin / tokenizer.bin. When expected_vocab > 0 the file must hold exactly that
    /// many tokens (the model's vocab_size).
    static Result<std::shared_ptr<const Llama2cTokenizer>> load(const std::string& path,
                                                                int expected_vocab = 0);

    std::vector<Token> encode(std::string_view text) const override;
    /// Ids only; bos = false leaves out the leading BOS.
    std::vector<int> encodeIds(std::string_view text, bool bos = true) const;
    /// The text of one id: byte pieces give their single byte, BOS/EOS give "<s>"/"</s>",
    /// <unk> gives "<unk>", others their piece (with its leading space).
    std::string decode(int id) const override;
    /// Text of a sequence as llama2.c prints it: BOS/EOS are dropped, the leading space of the
    /// piece right after BOS (or at the very start) is dropped, byte pieces become bytes.
    std::string decodeIds(const std::vector<int>& ids) const;
    int vocabSize() const override { return static_cast<int>(m_pieces.size()); }
    std::string name() const override { return "SentencePiece BPE"; }

    int bosId() const { return m_bos; }
    int eosId() const { return m_eos; }
    /// Raw piece of an id ("\n<s>\n" for BOS in llama2.c's files); empty when out of range.
    const std::string& piece(int id) const;
    float score(int id) const;
    /// -1 when text is not a piece (byte-fallback and control pieces are never matched).
    int idOf(std::string_view text) const;

private:
    std::vector<std::string> m_pieces;
    std::vector<float> m_scores;
    std::vector<int> m_byte_id;  // byte value → id of its <0xHH> piece, or -1
    std::vector<int> m_byte_of;  // id → byte value, or -1 when not a byte piece
    int m_bos;
    int m_eos;
    struct Index;
    std::shared_ptr<const Index> m_index;
};

/// Opens a llama2.c checkpoint into a Model: Decoder, pre-norm RMSNorm (eps 1e-5), SwiGLU,
/// RoPE on adjacent pairs (theta 10000), grouped key/value heads, final RMSNorm, LM head (the
/// transposed token embedding when shared). tokenizerPath empty: "tok<vocab>.bin", then
/// "tokenizer.bin" beside the checkpoint; without either the load fails with a message saying
/// where it looked.
Result<std::shared_ptr<Model>> loadLlama2c(const std::string& checkpointPath,
                                           const std::string& tokenizerPath = {});

}  // namespace attn
