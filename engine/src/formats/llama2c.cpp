#include "attn/formats/llama2c.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <unordered_map>

#include "bpe_merge.h"
#include "mapped_file.h"

namespace attn {

namespace {

using detail::withThousands;
namespace fs = std::filesystem;

constexpr int kHeaderInts = 7;
constexpr std::uint64_t kHeaderBytes = kHeaderInts * 4;
// "ak42" read as a little-endian uint32: the magic of llama2.c's newer (version ≥ 1) exports.
constexpr std::uint32_t kVersionedMagic = 0x616b3432;

std::int32_t readLe32(const std::byte* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint32_t>(p[i]);
    return static_cast<std::int32_t>(v);
}

float readF32(const std::byte* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
}

Result<Llama2cConfig> parseHeader(const std::string& path, const std::byte* data,
                                  std::uint64_t size) {
    if (size >= 4 && static_cast<std::uint32_t>(readLe32(data)) == kVersionedMagic) {
        const int version = size >= 8 ? readLe32(data + 4) : -1;
        return makeError(path + ": a llama2.c export of version " + std::to_string(version) +
                             "; only the legacy float32 layout (export version 0) is read",
                         ErrorCode::UnsupportedFormat);
    }
    if (size < kHeaderBytes) {
        return makeError(path + ": " + std::to_string(size) +
                             " bytes is too short for a llama2.c checkpoint header (28 bytes)",
                         ErrorCode::UnsupportedFormat);
    }
    int h[kHeaderInts];
    for (int i = 0; i < kHeaderInts; ++i) h[i] = readLe32(data + 4 * i);
    Llama2cConfig c;
    c.dim = h[0];
    c.hidden_dim = h[1];
    c.n_layers = h[2];
    c.n_heads = h[3];
    c.n_kv_heads = h[4];
    c.shared_classifier = h[5] > 0;
    c.vocab_size = h[5] == std::numeric_limits<std::int32_t>::min() ? 0 : std::abs(h[5]);
    c.seq_len = h[6];
    constexpr int kMaxDim = 1 << 16;
    constexpr int kMaxCount = 1 << 20;
    auto bad = [&](const std::string& what) {
        // No magic number: a header with impossible sizes is most likely another kind of file.
        return makeError(path + ": not a llama2.c checkpoint (" + what + ")",
                         ErrorCode::UnsupportedFormat);
    };
    if (c.dim <= 0 || c.dim > kMaxDim) return bad("dim " + std::to_string(c.dim));
    if (c.hidden_dim <= 0 || c.hidden_dim > 4 * kMaxDim)
        return bad("hidden_dim " + std::to_string(c.hidden_dim));
    if (c.n_layers <= 0 || c.n_layers > 1024) return bad("n_layers " + std::to_string(c.n_layers));
    if (c.n_heads <= 0 || c.n_heads > c.dim) return bad("n_heads " + std::to_string(c.n_heads));
    if (c.n_kv_heads <= 0 || c.n_kv_heads > c.n_heads)
        return bad("n_kv_heads " + std::to_string(c.n_kv_heads));
    if (c.vocab_size <= 0 || c.vocab_size > kMaxCount)
        return bad("vocab_size " + std::to_string(h[5]));
    if (c.seq_len <= 0 || c.seq_len > kMaxCount) return bad("seq_len " + std::to_string(c.seq_len));
    if (c.dim % c.n_heads != 0) {
        return bad("dim " + std::to_string(c.dim) + " is not divisible by " +
                   std::to_string(c.n_heads) + " heads");
    }
    if (c.n_heads % c.n_kv_heads != 0) {
        return bad(std::to_string(c.n_heads) + " heads are not divisible by " +
                   std::to_string(c.n_kv_heads) + " key/value heads");
    }
    if (c.headSize() % 2 != 0) return bad("odd head size " + std::to_string(c.headSize()));
    if (c.expectedFileSize() != size) {
        return makeError(
            path + ": the header (dim " + std::to_string(c.dim) + ", hidden " +
                std::to_string(c.hidden_dim) + ", " + std::to_string(c.n_layers) + " layers, " +
                std::to_string(c.n_heads) + " heads, " + std::to_string(c.n_kv_heads) +
                " kv heads, vocab " + std::to_string(c.vocab_size) + ", seq_len " +
                std::to_string(c.seq_len) + ") implies " + withThousands(c.expectedFileSize()) +
                " bytes but the file has " + withThousands(size) +
                (size < c.expectedFileSize() ? " — truncated?" : " — not this format?"),
            ErrorCode::Corrupt);
    }
    return c;
}

}  // namespace

std::uint64_t Llama2cConfig::expectedFileSize() const {
    const std::uint64_t d = static_cast<std::uint64_t>(dim);
    const std::uint64_t hd = static_cast<std::uint64_t>(hidden_dim);
    const std::uint64_t L = static_cast<std::uint64_t>(n_layers);
    const std::uint64_t V = static_cast<std::uint64_t>(vocab_size);
    const std::uint64_t kv =
        static_cast<std::uint64_t>(n_kv_heads) * static_cast<std::uint64_t>(headSize());
    std::uint64_t floats = V * d             // token embedding
                           + L * d           // attention RMSNorm
                           + L * d * d       // wq
                           + 2 * L * kv * d  // wk, wv
                           + L * d * d       // wo
                           + L * d           // FFN RMSNorm
                           + 3 * L * hd * d  // w1, w2, w3
                           + d               // final RMSNorm
                           + static_cast<std::uint64_t>(seq_len) *
                                 static_cast<std::uint64_t>(headSize());  // two RoPE tables
    if (!shared_classifier) floats += V * d;
    return kHeaderBytes + 4 * floats;
}

Result<Llama2cConfig> readLlama2cHeader(const std::string& path) {
    auto file = detail::MappedFile::open(path);
    if (!file) return file.error();
    return parseHeader(path, file->data(), file->size());
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

struct Llama2cTokenizer::Index {
    std::unordered_map<std::string, int> id_of;
};

Llama2cTokenizer::Llama2cTokenizer(std::vector<std::string> pieces, std::vector<float> scores,
                                   int bos_id, int eos_id)
    : m_pieces(std::move(pieces)), m_scores(std::move(scores)), m_bos(bos_id), m_eos(eos_id) {
    m_scores.resize(m_pieces.size(), 0.0f);
    m_byte_id.assign(256, -1);
    m_byte_of.assign(m_pieces.size(), -1);
    auto index = std::make_shared<Index>();
    index->id_of.reserve(m_pieces.size());
    for (int id = 0; id < static_cast<int>(m_pieces.size()); ++id) {
        const std::string& p = m_pieces[static_cast<std::size_t>(id)];
        const int byte = detail::bytePieceValue(p);
        if (byte >= 0) {
            m_byte_of[static_cast<std::size_t>(id)] = byte;
            if (m_byte_id[static_cast<std::size_t>(byte)] < 0)
                m_byte_id[static_cast<std::size_t>(byte)] = id;
            continue;
        }
        if (id == 0 || id == m_bos || id == m_eos || p.empty()) continue;  // control pieces
        index->id_of.emplace(p, id);  // first id wins on duplicates
    }
    m_index = std::move(index);
}

Result<std::shared_ptr<const Llama2cTokenizer>> Llama2cTokenizer::load(const std::string& path,
                                                                       int expected_vocab) {
    auto file = detail::MappedFile::open(path);
    if (!file) return file.error();
    const std::byte* data = file->data();
    const std::uint64_t size = file->size();
    if (size < 4) {
        return makeError(path + ": " + std::to_string(size) +
                         " bytes is too short for a llama2.c tokenizer");
    }
    const std::int32_t max_len = readLe32(data);
    if (max_len <= 0 || max_len > (1 << 16)) {
        return makeError(path + ": not a llama2.c tokenizer (max token length " +
                         std::to_string(max_len) + ")");
    }
    std::vector<std::string> pieces;
    std::vector<float> scores;
    std::uint64_t pos = 4;
    while (pos < size &&
           (expected_vocab <= 0 || static_cast<int>(pieces.size()) < expected_vocab)) {
        const std::string where = path + ": token " + std::to_string(pieces.size());
        if (size - pos < 8) return makeError(where + " is cut off — the file is truncated");
        const float score = readF32(data + pos);
        const std::int32_t len = readLe32(data + pos + 4);
        pos += 8;
        if (len < 0 || len > max_len) {
            return makeError(where + " claims " + std::to_string(len) + " bytes, outside 0.." +
                             std::to_string(max_len));
        }
        if (size - pos < static_cast<std::uint64_t>(len)) {
            return makeError(where + " needs " + std::to_string(len) + " bytes but only " +
                             std::to_string(size - pos) + " are left — the file is truncated");
        }
        pieces.emplace_back(reinterpret_cast<const char*>(data + pos),
                            static_cast<std::size_t>(len));
        scores.push_back(score);
        pos += static_cast<std::uint64_t>(len);
    }
    if (expected_vocab > 0 && static_cast<int>(pieces.size()) < expected_vocab) {
        return makeError(path + ": holds " + std::to_string(pieces.size()) +
                         " tokens but the model needs " + std::to_string(expected_vocab));
    }
    if (pos != size) {
        return makeError(path + ": " + withThousands(size - pos) + " bytes follow the " +
                         std::to_string(expected_vocab) +
                         " tokens the model needs — a tokenizer for another model?");
    }
    if (pieces.size() < 3) {
        return makeError(path + ": holds only " + std::to_string(pieces.size()) + " tokens");
    }
    return std::shared_ptr<const Llama2cTokenizer>(
        std::make_shared<Llama2cTokenizer>(std::move(pieces), std::move(scores)));
}

const std::string& Llama2cTokenizer::piece(int id) const {
    static const std::string kEmpty;
    if (id < 0 || id >= vocabSize()) return kEmpty;
    return m_pieces[static_cast<std::size_t>(id)];
}

float Llama2cTokenizer::score(int id) const {
    if (id < 0 || id >= vocabSize()) return 0.0f;
    return m_scores[static_cast<std::size_t>(id)];
}

int Llama2cTokenizer::idOf(std::string_view text) const {
    const auto it = m_index->id_of.find(std::string(text));
    return it == m_index->id_of.end() ? -1 : it->second;
}

std::string Llama2cTokenizer::decode(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    if (id == m_bos) return "<s>";
    if (id == m_eos) return "</s>";
    if (id == 0) return "<unk>";
    const int byte = m_byte_of[static_cast<std::size_t>(id)];
    if (byte >= 0) return std::string(1, static_cast<char>(byte));
    return m_pieces[static_cast<std::size_t>(id)];
}

std::string Llama2cTokenizer::decodeIds(const std::vector<int>& ids) const {
    std::string out;
    bool at_start = true;  // right after BOS or at the beginning: drop the dummy-prefix space
    for (int id : ids) {
        if (id == m_bos) {
            at_start = true;
            continue;
        }
        if (id == m_eos || id < 0 || id >= vocabSize()) continue;
        std::string text = decode(id);
        if (at_start && m_byte_of[static_cast<std::size_t>(id)] < 0 && !text.empty() &&
            text[0] == ' ') {
            text.erase(0, 1);
        }
        at_start = false;
        out += text;
    }
    return out;
}

std::vector<int> Llama2cTokenizer::encodeIds(std::string_view text, bool bos) const {
    std::vector<int> ids;
    for (const Token& t : encode(text)) {
        if (!bos && t.id == m_bos && ids.empty()) continue;
        ids.push_back(t.id);
    }
    return ids;
}

std::vector<Token> Llama2cTokenizer::encode(std::string_view text) const {
    // The dummy-prefix space has an empty span; byte-fallback symbols never merge.
    std::vector<detail::BpeSymbol> syms;
    syms.reserve(text.size() + 1);
    if (!text.empty()) {
        const int space = idOf(" ");
        if (space >= 0) syms.push_back(detail::BpeSymbol{space, 0, 0, true});
    }
    std::size_t i = 0;
    while (i < text.size()) {
        // One UTF-8 character as llama2.c splits it: a lead byte and up to 3 continuation bytes.
        std::size_t len = 1;
        while (i + len < text.size() && len < 4 &&
               (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80)
            ++len;
        const int id = idOf(text.substr(i, len));
        if (id >= 0) {
            syms.push_back(detail::BpeSymbol{id, i, i + len, true});
        } else {
            for (std::size_t k = 0; k < len; ++k) {
                const int b = m_byte_id[static_cast<unsigned char>(text[i + k])];
                syms.push_back(detail::BpeSymbol{b >= 0 ? b : 0, i + k, i + k + 1, false});
            }
        }
        i += len;
    }
    // The pair whose joined piece has the highest score merges first (as llama2.c's full
    // rescan picks them).
    detail::bpeMerge(syms,
                     [&](const detail::BpeSymbol& a,
                         const detail::BpeSymbol& b) -> std::optional<detail::BpeMerge> {
                         const int merged = idOf(piece(a.id) + piece(b.id));
                         if (merged < 0) return std::nullopt;
                         return detail::BpeMerge{-static_cast<double>(score(merged)), merged};
                     });

    std::vector<Token> tokens;
    tokens.reserve(syms.size() + 1);
    Token bos;
    bos.text = "<s>";
    bos.id = m_bos;
    tokens.push_back(bos);
    for (const detail::BpeSymbol& s : syms) {
        Token t;
        t.id = s.id;
        t.begin = s.begin;
        t.end = s.end;
        // A byte-fallback piece is no unknown word: the model reads the exact byte (a part of
        // a character, marked partial below). Only a byte with no piece reads <unk>.
        t.unknown = s.id == 0;
        t.text = s.id == 0 ? std::string("<unk>") : piece(s.id);
        tokens.push_back(std::move(t));
    }
    markPartialCharacters(text, tokens);
    return tokens;
}

// ---------------------------------------------------------------------------------------------
// Model

Result<std::shared_ptr<Model>> loadLlama2c(const std::string& checkpointPath,
                                           const std::string& tokenizerPath) {
    auto file = detail::MappedFile::open(checkpointPath, /*populate=*/true);
    if (!file) return file.error();
    auto header = parseHeader(checkpointPath, file->data(), file->size());
    if (!header) return header.error();
    const Llama2cConfig& c = *header;

    std::string tok_path = tokenizerPath;
    if (tok_path.empty()) {
        const fs::path dir = fs::path(checkpointPath).parent_path();
        const fs::path candidates[] = {dir / ("tok" + std::to_string(c.vocab_size) + ".bin"),
                                       dir / "tokenizer.bin"};
        for (const auto& p : candidates) {
            std::error_code ec;
            if (fs::is_regular_file(p, ec)) {
                tok_path = p.string();
                break;
            }
        }
        if (tok_path.empty()) {
            return makeError(checkpointPath + ": no tokenizer beside it (looked for " +
                                 candidates[0].filename().string() + " and tokenizer.bin)",
                             ErrorCode::NotFound);
        }
    }
    auto tokenizer = Llama2cTokenizer::load(tok_path, c.vocab_size);
    if (!tokenizer) return tokenizer.error();

    auto model = std::make_shared<Model>();
    ModelConfig& mc = model->config;
    mc.name = fs::path(checkpointPath).stem().string();
    mc.architecture = Architecture::Decoder;
    mc.d_model = c.dim;
    mc.n_heads = c.n_heads;
    mc.n_kv_heads = c.n_kv_heads;
    mc.d_head = c.headSize();
    mc.n_layers = c.n_layers;
    mc.d_ff = c.hidden_dim;
    mc.vocab_size = c.vocab_size;
    mc.max_len = c.seq_len;
    mc.positional = PositionalKind::Rope;
    mc.rope_theta = 10000.0f;
    mc.norm = NormKind::RMSNorm;
    mc.pre_norm = true;
    mc.final_norm = true;
    mc.norm_eps = 1e-5f;
    mc.activation = Activation::SwiGLU;
    mc.has_lm_head = true;
    model->trained_attention.mask = MaskKind::Causal;

    const int d = c.dim;
    const int hd = c.hidden_dim;
    const int kv = c.n_kv_heads * c.headSize();
    const int L = c.n_layers;
    const int V = c.vocab_size;
    // Floats start right after the 28-byte header, so they are 4-byte aligned in the mapping.
    const float* p = reinterpret_cast<const float*>(file->data() + kHeaderBytes);
    // A row-major (out, in) matrix seen column-major is its transpose (in, out): the X·W
    // matrix we need, copied straight.
    auto linear = [](const float* src, int out, int in) {
        return Mat(Eigen::Map<const Mat>(src, in, out));
    };
    auto vec = [](const float* src, int n) { return RowVec(Eigen::Map<const RowVec>(src, n)); };

    ModelWeights& w = model->weights;
    const float* emb = p;
    // Stored (vocab, dim) row-major: column-major (dim, vocab) is the tied LM head as is.
    w.lm_head = Eigen::Map<const Mat>(emb, d, V);
    w.token_embedding = w.lm_head.transpose();
    p += static_cast<std::size_t>(V) * d;
    w.layers.resize(static_cast<std::size_t>(L));
    const float* rms_att = p;
    p += static_cast<std::size_t>(L) * d;
    const float* wq = p;
    p += static_cast<std::size_t>(L) * d * d;
    const float* wk = p;
    p += static_cast<std::size_t>(L) * kv * d;
    const float* wv = p;
    p += static_cast<std::size_t>(L) * kv * d;
    const float* wo = p;
    p += static_cast<std::size_t>(L) * d * d;
    const float* rms_ffn = p;
    p += static_cast<std::size_t>(L) * d;
    const float* w1 = p;
    p += static_cast<std::size_t>(L) * hd * d;
    const float* w2 = p;
    p += static_cast<std::size_t>(L) * d * hd;
    const float* w3 = p;
    p += static_cast<std::size_t>(L) * hd * d;
    const float* rms_final = p;
    p += d;
    p += static_cast<std::size_t>(c.seq_len) * c.headSize();  // RoPE tables: we compute our own
    const float* wcls = c.shared_classifier ? nullptr : p;

    for (int l = 0; l < L; ++l) {
        LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
        const std::size_t ls = static_cast<std::size_t>(l);
        lw.norm1.gamma = vec(rms_att + ls * d, d);
        lw.self_attention.W_Q = linear(wq + ls * d * d, d, d);    // (d_model, n_heads·d_head)
        lw.self_attention.W_K = linear(wk + ls * kv * d, kv, d);  // (d_model, n_kv·d_head)
        lw.self_attention.W_V = linear(wv + ls * kv * d, kv, d);  // (d_model, n_kv·d_head)
        lw.self_attention.W_O = linear(wo + ls * d * d, d, d);    // (n_heads·d_head, d_model)
        lw.norm2.gamma = vec(rms_ffn + ls * d, d);
        lw.ffn.W1 = linear(w1 + ls * hd * d, hd, d);  // (d_model, d_ff)
        lw.ffn.W2 = linear(w2 + ls * d * hd, d, hd);  // (d_ff, d_model)
        lw.ffn.W3 = linear(w3 + ls * hd * d, hd, d);  // (d_model, d_ff)
    }
    w.final_norm.gamma = vec(rms_final, d);
    if (wcls != nullptr) w.lm_head = linear(wcls, V, d);  // (d_model, vocab)

    model->tokenizer = std::move(tokenizer).value();
    model->bos_id = 1;
    model->eos_id = 2;
    model->source_path = checkpointPath;
    return model;
}

}  // namespace attn
