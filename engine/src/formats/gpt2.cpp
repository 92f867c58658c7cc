#include "attn/formats/gpt2.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "attn/formats/hf_tokenizer.h"
#include "bpe_merge.h"
#include "hf_common.h"

namespace attn {

namespace {

namespace fs = std::filesystem;

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
// take the code points 256, 257, … in byte order.
std::array<UChar32, 256> makeByteToCodePoint() {
    std::array<UChar32, 256> table{};
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable =
            (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        table[static_cast<std::size_t>(b)] = printable ? b : next++;
    }
    return table;
}

const std::array<UChar32, 256>& byteToCodePoint() {
    static const std::array<UChar32, 256> table = makeByteToCodePoint();
    return table;
}

std::string utf8Of(UChar32 c) {
    char buf[4];
    int32_t len = 0;
    UBool error = false;
    U8_APPEND(reinterpret_cast<uint8_t*>(buf), len, 4, c, error);
    return error ? std::string() : std::string(buf, static_cast<std::size_t>(len));
}

enum class CharClass { Letter, Number, Space, Other };

CharClass classify(UChar32 c) {
    if (c < 0) return CharClass::Other;  // an invalid byte
    if (u_isUWhiteSpace(c)) return CharClass::Space;
    if (u_isalpha(c)) return CharClass::Letter;  // general category L*
    const int8_t t = u_charType(c);
    if (t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER)
        return CharClass::Number;
    return CharClass::Other;
}

}  // namespace

struct ByteLevelBpeTokenizer::Index {
    std::unordered_map<std::string, int> id_of;
    std::unordered_map<std::string, int> rank_of;  // "a b" → merge rank
};

std::string ByteLevelBpeTokenizer::byteToSymbol(unsigned char byte) {
    return utf8Of(byteToCodePoint()[byte]);
}

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(
    const std::vector<std::pair<std::string, int>>& vocab,
    const std::vector<std::pair<std::string, std::string>>& merges,
    std::vector<std::string> special_tokens) {
    auto index = std::make_shared<Index>();
    int max_id = -1;
    for (const auto& [tok, id] : vocab) max_id = std::max(max_id, id);
    m_tokens.assign(static_cast<std::size_t>(max_id) + 1, std::string());
    for (const auto& [tok, id] : vocab) {
        if (id < 0) continue;
        m_tokens[static_cast<std::size_t>(id)] = tok;
        index->id_of.emplace(tok, id);
    }
    for (std::size_t r = 0; r < merges.size(); ++r) {
        index->rank_of.emplace(merges[r].first + " " + merges[r].second, static_cast<int>(r));
    }
    for (auto& s : special_tokens) {
        if (!s.empty() && index->id_of.count(s) != 0) m_special.push_back(std::move(s));
    }
    m_index = std::move(index);
}

Result<std::shared_ptr<const ByteLevelBpeTokenizer>> ByteLevelBpeTokenizer::load(
    const std::string& vocabPath, const std::string& mergesPath) {
    auto vj = detail::readJsonFile(vocabPath);
    if (!vj) return vj.error();
    if (!vj->is_object() || vj->empty()) {
        return makeError(vocabPath + ": expected a JSON object of token → id");
    }
    std::vector<std::pair<std::string, int>> vocab;
    vocab.reserve(vj->size());
    // The ids index a table of tokens: they must lie near the number of entries (real files are
    // dense, 0 … n − 1), or a 15-byte {"a": 16777215} would reserve 16 million entries.
    const long long max_id = static_cast<long long>(vj->size()) + detail::kVocabIdSlack;
    for (const auto& [tok, id] : vj->items()) {
        if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= max_id) {
            return makeError(vocabPath + ": the id of token '" + detail::shortText(tok) + "' is " +
                             detail::jsonExcerpt(id) + ", expected a whole number from 0 to " +
                             std::to_string(max_id - 1) + " (for " + std::to_string(vj->size()) +
                             " tokens)");
        }
        vocab.emplace_back(tok, static_cast<int>(id.get<long long>()));
    }
    auto text = detail::readTextFile(mergesPath);
    if (!text) return text.error();
    std::vector<std::pair<std::string, std::string>> merges;
    std::size_t pos = 0;
    int line_no = 0;
    while (pos < text->size()) {
        std::size_t eol = text->find('\n', pos);
        if (eol == std::string::npos) eol = text->size();
        std::string line = text->substr(pos, eol - pos);
        pos = eol + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (line_no == 1 && line.rfind("#version", 0) == 0)) continue;
        const std::size_t sp = line.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size() ||
            line.find(' ', sp + 1) != std::string::npos) {
            return makeError(mergesPath + ": line " + std::to_string(line_no) +
                             " is not two tokens separated by one space");
        }
        merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
    return std::shared_ptr<const ByteLevelBpeTokenizer>(
        std::make_shared<ByteLevelBpeTokenizer>(vocab, merges));
}

int ByteLevelBpeTokenizer::idOf(std::string_view token) const {
    const auto it = m_index->id_of.find(std::string(token));
    return it == m_index->id_of.end() ? -1 : it->second;
}

const std::string& ByteLevelBpeTokenizer::tokenString(int id) const {
    static const std::string kEmpty;
    if (id < 0 || id >= vocabSize()) return kEmpty;
    return m_tokens[static_cast<std::size_t>(id)];
}

std::string ByteLevelBpeTokenizer::symbolsToBytes(std::string_view token) {
    static const std::unordered_map<UChar32, unsigned char> byte_of = [] {
        std::unordered_map<UChar32, unsigned char> m;
        for (int b = 0; b < 256; ++b)
            m.emplace(byteToCodePoint()[static_cast<std::size_t>(b)],
                      static_cast<unsigned char>(b));
        return m;
    }();
    std::string out;
    const auto* s = reinterpret_cast<const uint8_t*>(token.data());
    const auto n = static_cast<int32_t>(token.size());
    int32_t i = 0;
    while (i < n) {
        const int32_t start = i;
        UChar32 c;
        U8_NEXT(s, i, n, c);
        const auto it = c < 0 ? byte_of.end() : byte_of.find(c);
        if (it != byte_of.end()) {
            out += static_cast<char>(it->second);
        } else {
            out.append(
                token.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start)));
        }
    }
    return out;
}

std::string ByteLevelBpeTokenizer::decode(int id) const { return symbolsToBytes(tokenString(id)); }

std::string ByteLevelBpeTokenizer::decodeIds(const std::vector<int>& ids) const {
    std::string out;
    for (int id : ids) out += decode(id);
    return out;
}

std::vector<std::pair<std::size_t, std::size_t>> ByteLevelBpeTokenizer::splitPieces(
    std::string_view text) {
    struct Cp {
        UChar32 c;
        std::size_t begin;
        CharClass cls;
    };
    std::vector<Cp> cps;
    cps.reserve(text.size());
    {
        const auto* s = reinterpret_cast<const uint8_t*>(text.data());
        const auto n = static_cast<int32_t>(text.size());
        int32_t i = 0;
        while (i < n) {
            const int32_t start = i;
            UChar32 c;
            U8_NEXT(s, i, n, c);
            cps.push_back(Cp{c, static_cast<std::size_t>(start), classify(c)});
        }
    }
    const std::size_t n = cps.size();
    auto byteAt = [&](std::size_t k) { return k < n ? cps[k].begin : text.size(); };
    auto runEnd = [&](std::size_t k, CharClass cls) {
        while (k < n && cps[k].cls == cls) ++k;
        return k;
    };
    auto is = [&](std::size_t k, char ch) { return k < n && cps[k].c == ch; };

    std::vector<std::pair<std::size_t, std::size_t>> pieces;
    std::size_t i = 0;
    while (i < n) {
        std::size_t end = i;
        // 's|'t|'re|'ve|'m|'ll|'d
        if (is(i, '\'')) {
            if (is(i + 1, 's') || is(i + 1, 't') || is(i + 1, 'm') || is(i + 1, 'd')) {
                end = i + 2;
            } else if ((is(i + 1, 'r') && is(i + 2, 'e')) || (is(i + 1, 'v') && is(i + 2, 'e')) ||
                       (is(i + 1, 'l') && is(i + 2, 'l'))) {
                end = i + 3;
            }
        }
        // ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+': an optional ASCII space, then a run.
        if (end == i) {
            const std::size_t k =
                (is(i, ' ') && i + 1 < n && cps[i + 1].cls != CharClass::Space) ? i + 1 : i;
            if (cps[k].cls != CharClass::Space) end = runEnd(k, cps[k].cls);
        }
        // \s+(?!\S)|\s+ : a whitespace run leaves its last character to the next piece when
        // something other than whitespace follows (so " word" keeps its space).
        if (end == i) {
            const std::size_t j = runEnd(i, CharClass::Space);
            end = (j < n && j - i >= 2) ? j - 1 : j;
        }
        pieces.emplace_back(byteAt(i), byteAt(end));
        i = end;
    }
    return pieces;
}

void ByteLevelBpeTokenizer::encodePiece(std::string_view text, std::size_t offset,
                                        std::vector<Token>& out) const {
    // One symbol per byte, merged by rank (lowest first, leftmost among equals, as Hugging
    // Face's BPE does with a heap). Ranks are looked up by the byte↔unicode strings, so a
    // hand-made vocabulary that lacks a merged token still merges as merges.txt says.
    std::vector<std::string> byte_sym(text.size());
    std::vector<detail::BpeSymbol> sym(text.size());
    for (std::size_t k = 0; k < text.size(); ++k) {
        byte_sym[k] = byteToSymbol(static_cast<unsigned char>(text[k]));
        sym[k] = detail::BpeSymbol{idOf(byte_sym[k]), k, k + 1, true};
    }
    auto form = [&](std::size_t b, std::size_t e) {
        std::string s;
        for (std::size_t k = b; k < e; ++k) s += byte_sym[k];
        return s;
    };
    detail::bpeMerge(
        sym,
        [&](const detail::BpeSymbol& a,
            const detail::BpeSymbol& b) -> std::optional<detail::BpeMerge> {
            const std::string left = form(a.begin, a.end);
            const std::string right = form(b.begin, b.end);
            const auto it = m_index->rank_of.find(left + " " + right);
            if (it == m_index->rank_of.end()) return std::nullopt;
            return detail::BpeMerge{static_cast<double>(it->second), idOf(left + right)};
        });
    for (const detail::BpeSymbol& symbol : sym) {
        const std::size_t sb = symbol.begin + offset;
        const std::size_t se = symbol.end + offset;
        if (symbol.id >= 0) {
            Token t;
            t.id = symbol.id;
            t.begin = sb;
            t.end = se;
            out.push_back(std::move(t));
            continue;
        }
        // Not in the vocabulary (only with hand-made vocabularies): fall back to single bytes.
        for (std::size_t b = sb; b < se; ++b) {
            Token t;
            t.id = idOf(byteToSymbol(static_cast<unsigned char>(text[b - offset])));
            t.unknown = t.id < 0;
            if (t.id < 0) t.id = 0;
            t.begin = b;
            t.end = b + 1;
            out.push_back(std::move(t));
        }
    }
}

std::vector<Token> ByteLevelBpeTokenizer::encode(std::string_view text) const {
    std::vector<Token> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        // The next special token, if any.
        std::size_t hit = std::string_view::npos;
        const std::string* special = nullptr;
        for (const auto& s : m_special) {
            const std::size_t h = text.find(s, pos);
            if (h < hit) {
                hit = h;
                special = &s;
            }
        }
        const std::size_t stop = special != nullptr ? hit : text.size();
        const std::string_view segment = text.substr(pos, stop - pos);
        for (const auto& [b, e] : splitPieces(segment)) {
            encodePiece(segment.substr(b, e - b), pos + b, out);
        }
        if (special == nullptr) break;
        Token t;
        t.id = idOf(*special);
        t.text = *special;
        t.begin = hit;
        t.end = hit + special->size();
        out.push_back(std::move(t));
        pos = hit + special->size();
    }
    for (Token& t : out) {
        if (t.text.empty()) t.text = detail::sanitizeUtf8(text.substr(t.begin, t.end - t.begin));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct Gpt2Tokenizer {
    std::shared_ptr<const TextTokenizer> tokenizer;
    int eot = -1;  // <|endoftext|>, -1 when the vocabulary has none
};

Result<Gpt2Tokenizer> loadGpt2Tokenizer(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir / "vocab.json", ec) && fs::exists(dir / "merges.txt", ec)) {
        auto tok = ByteLevelBpeTokenizer::load((dir / "vocab.json").string(),
                                               (dir / "merges.txt").string());
        if (!tok) return tok.error();
        return Gpt2Tokenizer{*tok, (*tok)->idOf("<|endoftext|>")};
    }
    // Newer uploads may carry only the "fast" tokenizer.json.
    const fs::path tj = dir / "tokenizer.json";
    if (!fs::exists(tj, ec)) {
        return makeError((dir / "vocab.json").string() +
                         ": no such file (and no merges.txt or tokenizer.json either)");
    }
    auto tok = loadHfTokenizer(tj.string());
    if (!tok) return tok.error();
    return Gpt2Tokenizer{*tok, (*tok)->idOf("<|endoftext|>")};
}

}  // namespace

Result<std::shared_ptr<Model>> loadGpt2Folder(const std::string& folder) {
    const fs::path dir(folder);
    auto cfg = detail::HfConfig::load((dir / "config.json").string());
    if (!cfg) return cfg.error();
    const detail::HfConfig& c = *cfg;
    auto d = c.positiveInt("n_embd");
    if (!d) return d.error();
    auto H = c.positiveInt("n_head");
    if (!H) return H.error();
    auto L = c.positiveInt("n_layer", 4096);
    if (!L) return L.error();
    auto V = c.positiveInt("vocab_size");
    if (!V) return V.error();
    auto P = c.positiveIntOr("n_positions", 0);
    if (!P) return P.error();
    if (*P == 0) {
        P = c.positiveInt("n_ctx");
        if (!P) return P.error();
    }
    auto eps = c.positiveNumberOr("layer_norm_epsilon", 1e-5f);
    if (!eps) return eps.error();
    auto inner = c.positiveIntOr("n_inner", 4 * *d);
    if (!inner) return inner.error();
    auto act = c.stringOr("activation_function", "gelu_new");
    if (!act) return act.error();
    auto tied = c.boolOr("tie_word_embeddings", true);
    if (!tied) return tied.error();
    if (*d % *H != 0) {
        return makeError(c.path() + ": n_embd " + std::to_string(*d) + " is not divisible by " +
                         std::to_string(*H) + " heads (n_head)");
    }
    Activation activation;
    if (*act == "gelu_new" || *act == "gelu_pytorch_tanh" || *act == "gelu_fast") {
        activation = Activation::GELUTanh;
    } else if (*act == "gelu") {
        activation = Activation::GELU;
    } else if (*act == "relu") {
        activation = Activation::ReLU;
    } else {
        return makeError(c.path() + ": activation_function '" + detail::shortText(*act) +
                         "' is not one we run (gelu_new, gelu, relu)");
    }

    auto tokenizer = loadGpt2Tokenizer(dir);
    if (!tokenizer) return tokenizer.error();
    if (tokenizer->tokenizer->vocabSize() > *V) {
        return makeError(folder + ": the tokenizer has ids up to " +
                         std::to_string(tokenizer->tokenizer->vocabSize() - 1) +
                         " but config.json says vocab_size " + std::to_string(*V));
    }

    auto src = detail::TensorSource::open(folder);
    if (!src) return src.error();
    detail::TensorSource& ts = *src;
    if (!ts.choosePrefix({"", "transformer."}, "wte.weight")) {
        return makeError(ts.where() +
                         ": tensor 'wte.weight' (or 'transformer.wte.weight') is "
                         "missing — not a GPT-2 checkpoint?");
    }

    auto model = std::make_shared<Model>();
    ModelConfig& mc = model->config;
    mc.name = detail::displayNameOfFolder(folder);
    mc.architecture = Architecture::Decoder;
    mc.d_model = *d;
    mc.n_heads = *H;
    mc.d_head = *d / *H;
    mc.n_layers = *L;
    mc.d_ff = *inner;
    mc.vocab_size = *V;
    mc.max_len = *P;
    mc.positional = PositionalKind::Learned;
    mc.norm = NormKind::LayerNorm;
    mc.pre_norm = true;
    mc.final_norm = true;
    mc.norm_eps = *eps;
    mc.activation = activation;
    mc.has_lm_head = true;
    model->trained_attention.mask = MaskKind::Causal;

    ModelWeights& w = model->weights;
    const int D = *d;
    const int F = *inner;
    w.layers.resize(static_cast<std::size_t>(*L));

    // The LM head: lm_head.weight sits outside the "transformer." prefix when it is stored.
    const std::string prefix = ts.prefix();
    detail::TensorSource head_source = ts;
    head_source.setPrefix("");
    const bool own_head = head_source.has("lm_head.weight") && !*tied;

    // Independent jobs run on both cores: the two big embedding copies first, then one job per
    // layer. Errors are kept per job and the first one is reported.
    constexpr int kFixedJobs = 3;
    const int jobs = kFixedJobs + *L;
    std::vector<std::string> errors(static_cast<std::size_t>(jobs));
#pragma omp parallel for schedule(dynamic, 1)
    for (int job = 0; job < jobs; ++job) {
        Status st = Ok{};
        auto step = [&](const Status& s) {
            if (st && !s) st = s;
        };
        if (job == 0) {
            step(ts.matrix("wte.weight", *V, D, false, w.token_embedding));  // (vocab, d_model)
        } else if (job == 1) {
            // (d_model, vocab): stored (vocab, d) row-major is column-major (d, vocab) as is.
            // A tied head (GPT-2's usual case) is not copied: the logits use wte itself.
            if (own_head) step(head_source.matrix("lm_head.weight", *V, D, true, w.lm_head));
        } else if (job == 2) {
            step(ts.matrix("wpe.weight", *P, D, false, w.position_embedding));
        } else {
            const int l = job - kFixedJobs;
            LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
            AttentionWeights& a = lw.self_attention;
            const std::string h = "h." + std::to_string(l) + ".";
            RowVec bqkv;  // (3·d_model)
            step(ts.vector(h + "ln_1.weight", D, lw.norm1.gamma));
            if (st) step(ts.vector(h + "ln_1.bias", D, lw.norm1.beta));
            // c_attn (d_model, 3·d_model) = [W_Q | W_K | W_V], Conv1D: already x·W.
            const std::string qkv = h + "attn.c_attn.weight";
            if (st) step(ts.matrixColumns(qkv, D, 3 * D, 0, D, false, a.W_Q));
            if (st) step(ts.matrixColumns(qkv, D, 3 * D, D, D, false, a.W_K));
            if (st) step(ts.matrixColumns(qkv, D, 3 * D, 2 * D, D, false, a.W_V));
            if (st) step(ts.vector(h + "attn.c_attn.bias", 3 * D, bqkv));
            if (st) {
                a.b_Q = bqkv.segment(0, D);
                a.b_K = bqkv.segment(D, D);
                a.b_V = bqkv.segment(2 * D, D);
            }
            if (st) step(ts.matrix(h + "attn.c_proj.weight", D, D, false, a.W_O));
            if (st) step(ts.vector(h + "attn.c_proj.bias", D, a.b_O));
            if (st) step(ts.vector(h + "ln_2.weight", D, lw.norm2.gamma));
            if (st) step(ts.vector(h + "ln_2.bias", D, lw.norm2.beta));
            if (st) step(ts.matrix(h + "mlp.c_fc.weight", D, F, false, lw.ffn.W1));
            if (st) step(ts.vector(h + "mlp.c_fc.bias", F, lw.ffn.b1));
            if (st) step(ts.matrix(h + "mlp.c_proj.weight", F, D, false, lw.ffn.W2));
            if (st) step(ts.vector(h + "mlp.c_proj.bias", D, lw.ffn.b2));
        }
        if (!st) errors[static_cast<std::size_t>(job)] = st.message();
    }
    for (const auto& e : errors)
        if (!e.empty()) return makeError(e);

    w.lm_head_tied = !own_head;
    if (auto s = ts.vector("ln_f.weight", D, w.final_norm.gamma); !s) return s.error();
    if (auto s = ts.vector("ln_f.bias", D, w.final_norm.beta); !s) return s.error();

    model->eos_id = tokenizer->eot;
    model->tokenizer = tokenizer->tokenizer;
    model->source_path = folder;
    return model;
}

}  // namespace attn
