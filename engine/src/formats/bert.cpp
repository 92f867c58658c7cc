#include "attn/formats/bert.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <filesystem>
#include <unordered_map>

#include "hf_common.h"

namespace attn {

namespace {

namespace fs = std::filesystem;
using detail::json;

// The code-point tests of BERT's tokenization.py.
bool isBertWhitespace(UChar32 c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
    return u_charType(c) == U_SPACE_SEPARATOR || u_isUWhiteSpace(c);
}

bool isBertControl(UChar32 c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    const int8_t t = u_charType(c);  // general category C*
    return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_UNASSIGNED ||
           t == U_PRIVATE_USE_CHAR || t == U_SURROGATE;
}

bool isBertPunctuation(UChar32 c) {
    // ASCII non-letters/digits count as punctuation even where Unicode says symbol ("$", "^").
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
        return true;
    const int8_t t = u_charType(c);
    return t == U_DASH_PUNCTUATION || t == U_START_PUNCTUATION || t == U_END_PUNCTUATION ||
           t == U_CONNECTOR_PUNCTUATION || t == U_OTHER_PUNCTUATION || t == U_INITIAL_PUNCTUATION ||
           t == U_FINAL_PUNCTUATION;
}

bool isCjk(UChar32 c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void appendUtf8(std::string& out, UChar32 c) {
    char buf[4];
    int32_t len = 0;
    UBool error = false;
    U8_APPEND(reinterpret_cast<uint8_t*>(buf), len, 4, c, error);
    if (!error) out.append(buf, static_cast<std::size_t>(len));
}

// Lower-cases (full mapping, root locale) and/or strips accents (NFD, drop Mn) one code point.
void normalizeCodePoint(UChar32 c, bool lower, bool strip, std::vector<UChar32>& out) {
    out.clear();
    if (c < 0x80) {
        out.push_back(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
        return;
    }
    UChar buf[8];
    int32_t len = 0;
    U16_APPEND_UNSAFE(buf, len, c);
    UChar tmp[32];
    UErrorCode err = U_ZERO_ERROR;
    if (lower) {
        const int32_t n = u_strToLower(tmp, 32, buf, len, "", &err);
        if (U_SUCCESS(err) && n <= 32) {
            std::copy(tmp, tmp + n, buf + 0);
            len = std::min<int32_t>(n, 8);
        }
        err = U_ZERO_ERROR;
    }
    const UChar* src = buf;
    int32_t src_len = len;
    if (strip) {
        const UNormalizer2* nfd = unorm2_getNFDInstance(&err);
        int32_t n = 0;
        if (U_SUCCESS(err)) n = unorm2_normalize(nfd, buf, len, tmp, 32, &err);
        if (U_SUCCESS(err)) {
            src = tmp;
            src_len = n;
        }
    }
    int32_t i = 0;
    while (i < src_len) {
        UChar32 d;
        U16_NEXT(src, i, src_len, d);
        if (strip && u_charType(d) == U_NON_SPACING_MARK) continue;
        out.push_back(d);
    }
}

}  // namespace

struct WordPieceTokenizer::NormChar {
    UChar32 c;
    std::size_t begin, end;  // source bytes
};

struct WordPieceTokenizer::Index {
    std::unordered_map<std::string, int> id_of;
};

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options)
    : m_vocab(std::move(vocab)), m_options(options) {
    auto index = std::make_shared<Index>();
    index->id_of.reserve(m_vocab.size());
    for (int id = 0; id < static_cast<int>(m_vocab.size()); ++id) {
        index->id_of.emplace(m_vocab[static_cast<std::size_t>(id)], id);  // first id wins
    }
    auto find = [&](const char* s) {
        const auto it = index->id_of.find(s);
        return it == index->id_of.end() ? -1 : it->second;
    };
    m_cls = find("[CLS]");
    m_sep = find("[SEP]");
    m_unk = find("[UNK]");
    m_mask = find("[MASK]");
    m_pad = find("[PAD]");
    for (const char* s : {"[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]"}) {
        if (find(s) >= 0) m_special.emplace_back(s);
    }
    m_index = std::move(index);
}

Result<std::shared_ptr<const WordPieceTokenizer>> WordPieceTokenizer::load(
    const std::string& vocabPath, WordPieceOptions options) {
    auto text = detail::readTextFile(vocabPath);
    if (!text) return text.error();
    std::vector<std::string> vocab;
    std::size_t pos = 0;
    while (pos < text->size()) {
        std::size_t eol = text->find('\n', pos);
        if (eol == std::string::npos) eol = text->size();
        std::string line = text->substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        vocab.push_back(std::move(line));
        pos = eol + 1;
    }
    if (vocab.empty()) return makeError(vocabPath + ": the vocabulary is empty");
    auto tok = std::make_shared<WordPieceTokenizer>(std::move(vocab), options);
    if (tok->unkId() < 0) return makeError(vocabPath + ": has no [UNK] token");
    return std::shared_ptr<const WordPieceTokenizer>(std::move(tok));
}

int WordPieceTokenizer::idOf(std::string_view piece) const {
    const auto it = m_index->id_of.find(std::string(piece));
    return it == m_index->id_of.end() ? -1 : it->second;
}

std::string WordPieceTokenizer::decode(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    return m_vocab[static_cast<std::size_t>(id)];
}

std::string WordPieceTokenizer::decodeIds(const std::vector<int>& ids) const {
    std::string out;
    for (int id : ids) {
        if (id == m_cls || id == m_sep || id == m_pad) continue;
        const std::string piece = decode(id);
        if (piece.rfind("##", 0) == 0) {
            out += piece.substr(2);
        } else {
            if (!out.empty()) out += ' ';
            out += piece;
        }
    }
    return out;
}

void WordPieceTokenizer::basic(std::string_view text, std::size_t offset,
                               std::vector<std::vector<NormChar>>& words) const {
    std::vector<NormChar> word;
    auto flush = [&] {
        if (!word.empty()) words.push_back(std::move(word));
        word.clear();
    };
    const auto* s = reinterpret_cast<const uint8_t*>(text.data());
    const auto n = static_cast<int32_t>(text.size());
    std::vector<UChar32> norm;
    int32_t i = 0;
    while (i < n) {
        const int32_t start = i;
        UChar32 c;
        U8_NEXT(s, i, n, c);
        const std::size_t b = offset + static_cast<std::size_t>(start);
        const std::size_t e = offset + static_cast<std::size_t>(i);
        if (c <= 0 || c == 0xFFFD || isBertControl(c)) continue;  // dropped, word goes on
        if (isBertWhitespace(c)) {
            flush();
            continue;
        }
        if (m_options.split_cjk && isCjk(c)) {
            flush();
            words.push_back({NormChar{c, b, e}});
            continue;
        }
        normalizeCodePoint(c, m_options.lowercase, m_options.strip_accents, norm);
        for (UChar32 d : norm) {
            if (isBertPunctuation(d)) {
                flush();
                words.push_back({NormChar{d, b, e}});
            } else {
                word.push_back(NormChar{d, b, e});
            }
        }
    }
    flush();
}

std::vector<Token> WordPieceTokenizer::basicTokenize(std::string_view text) const {
    std::vector<std::vector<NormChar>> words;
    basic(text, 0, words);
    std::vector<Token> out;
    for (const auto& w : words) {
        Token t;
        for (const NormChar& ch : w) appendUtf8(t.text, ch.c);
        t.begin = w.front().begin;
        t.end = w.back().end;
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<Token> WordPieceTokenizer::encode(std::string_view text) const {
    std::vector<Token> out;
    auto special = [&](int id, const std::string& shown, std::size_t b, std::size_t e) {
        Token t;
        t.id = id;
        t.text = shown;
        t.begin = b;
        t.end = e;
        out.push_back(std::move(t));
    };
    if (m_cls >= 0 && m_options.add_cls_sep) special(m_cls, "[CLS]", 0, 0);

    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t hit = std::string_view::npos;
        const std::string* sp = nullptr;
        for (const auto& s : m_special) {
            const std::size_t h = text.find(s, pos);
            if (h < hit) {
                hit = h;
                sp = &s;
            }
        }
        const std::size_t stop = sp != nullptr ? hit : text.size();
        std::vector<std::vector<NormChar>> words;
        basic(text.substr(pos, stop - pos), pos, words);
        for (const auto& w : words) {
            const std::size_t n = w.size();
            auto unknownWord = [&] {
                Token t;
                t.id = m_unk;
                t.unknown = true;
                t.begin = w.front().begin;
                t.end = w.back().end;
                t.text = detail::sanitizeUtf8(text.substr(t.begin, t.end - t.begin));
                out.push_back(std::move(t));
            };
            if (static_cast<int>(n) > m_options.max_chars_per_word) {
                unknownWord();
                continue;
            }
            std::vector<Token> pieces;
            std::size_t start = 0;
            bool bad = false;
            while (start < n) {
                std::size_t end = n;
                int found = -1;
                std::string piece;
                while (start < end) {
                    piece = start > 0 ? "##" : "";
                    for (std::size_t k = start; k < end; ++k) appendUtf8(piece, w[k].c);
                    found = idOf(piece);
                    if (found >= 0) break;
                    --end;
                }
                if (found < 0) {
                    bad = true;
                    break;
                }
                Token t;
                t.id = found;
                t.text = piece;
                t.begin = w[start].begin;
                t.end = w[end - 1].end;
                pieces.push_back(std::move(t));
                start = end;
            }
            if (bad) {
                unknownWord();
            } else {
                for (auto& t : pieces) out.push_back(std::move(t));
            }
        }
        if (sp == nullptr) break;
        special(idOf(*sp), *sp, hit, hit + sp->size());
        pos = hit + sp->size();
    }
    if (m_sep >= 0 && m_options.add_cls_sep) special(m_sep, "[SEP]", text.size(), text.size());
    return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

Result<WordPieceOptions> readTokenizerOptions(const fs::path& dir) {
    WordPieceOptions o;
    std::error_code ec;
    const fs::path p = dir / "tokenizer_config.json";
    if (!fs::exists(p, ec)) return o;
    auto j = detail::readJsonFile(p.string());
    if (!j) return j.error();
    if (!j->is_object()) return makeError(p.string() + ": expected a JSON object");
    if (j->contains("do_lower_case") && j->at("do_lower_case").is_boolean())
        o.lowercase = j->at("do_lower_case").get<bool>();
    o.strip_accents = o.lowercase;  // BERT: strip_accents None follows lower-casing
    if (j->contains("strip_accents") && j->at("strip_accents").is_boolean())
        o.strip_accents = j->at("strip_accents").get<bool>();
    if (j->contains("tokenize_chinese_chars") && j->at("tokenize_chinese_chars").is_boolean())
        o.split_cjk = j->at("tokenize_chinese_chars").get<bool>();
    return o;
}

Result<std::shared_ptr<const WordPieceTokenizer>> loadBertTokenizer(const fs::path& dir) {
    auto options = readTokenizerOptions(dir);
    if (!options) return options.error();
    std::error_code ec;
    if (fs::exists(dir / "vocab.txt", ec)) {
        return WordPieceTokenizer::load((dir / "vocab.txt").string(), *options);
    }
    const fs::path tj = dir / "tokenizer.json";
    if (!fs::exists(tj, ec)) {
        return makeError((dir / "vocab.txt").string() + ": no such file (nor tokenizer.json)");
    }
    auto j = detail::readJsonFile(tj.string());
    if (!j) return j.error();
    const json* model = j->contains("model") ? &j->at("model") : nullptr;
    if (model == nullptr || !model->is_object() || !model->contains("vocab") ||
        !model->at("vocab").is_object()) {
        return makeError(tj.string() + ": has no WordPiece \"model\" with a \"vocab\"");
    }
    std::vector<std::string> vocab;
    // Ids near the number of entries (as in attn/formats/gpt2.cpp): a table is sized by them.
    const long long max_id =
        static_cast<long long>(model->at("vocab").size()) + detail::kVocabIdSlack;
    for (const auto& [piece, id] : model->at("vocab").items()) {
        if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= max_id) {
            return makeError(tj.string() + ": the id of '" + detail::shortText(piece) + "' is " +
                             detail::jsonExcerpt(id) + ", expected a whole number from 0 to " +
                             std::to_string(max_id - 1));
        }
        const auto k = static_cast<std::size_t>(id.get<long long>());
        if (vocab.size() <= k) vocab.resize(k + 1);
        vocab[k] = piece;
    }
    auto tok = std::make_shared<WordPieceTokenizer>(std::move(vocab), *options);
    if (tok->unkId() < 0) return makeError(tj.string() + ": has no [UNK] token");
    return std::shared_ptr<const WordPieceTokenizer>(std::move(tok));
}

}  // namespace

Result<std::shared_ptr<Model>> loadBertFolder(const std::string& folder) {
    const fs::path dir(folder);
    auto cfg = detail::HfConfig::load((dir / "config.json").string());
    if (!cfg) return cfg.error();
    const detail::HfConfig& c = *cfg;
    auto d = c.positiveInt("hidden_size");
    if (!d) return d.error();
    auto H = c.positiveInt("num_attention_heads");
    if (!H) return H.error();
    auto L = c.positiveInt("num_hidden_layers", 4096);
    if (!L) return L.error();
    auto F = c.positiveInt("intermediate_size");
    if (!F) return F.error();
    auto V = c.positiveInt("vocab_size");
    if (!V) return V.error();
    auto P = c.positiveInt("max_position_embeddings");
    if (!P) return P.error();
    auto types = c.countOr("type_vocab_size", 2);
    if (!types) return types.error();
    auto eps = c.positiveNumberOr("layer_norm_eps", 1e-12f);
    if (!eps) return eps.error();
    auto act = c.stringOr("hidden_act", "gelu");
    if (!act) return act.error();
    auto pos_type = c.stringOr("position_embedding_type", "absolute");
    if (!pos_type) return pos_type.error();
    if (*d % *H != 0) {
        return makeError(c.path() + ": hidden_size " + std::to_string(*d) +
                         " is not divisible by " + std::to_string(*H) +
                         " heads (num_attention_heads)");
    }
    if (*pos_type != "absolute") {
        return makeError(c.path() + ": position_embedding_type '" + detail::shortText(*pos_type) +
                         "' is not supported (only absolute)");
    }
    Activation activation;
    if (*act == "gelu") {
        activation = Activation::GELU;
    } else if (*act == "gelu_new" || *act == "gelu_pytorch_tanh") {
        activation = Activation::GELUTanh;
    } else if (*act == "relu") {
        activation = Activation::ReLU;
    } else {
        return makeError(c.path() + ": hidden_act '" + detail::shortText(*act) +
                         "' is not one we run (gelu, gelu_new, relu)");
    }

    auto tokenizer = loadBertTokenizer(dir);
    if (!tokenizer) return tokenizer.error();
    if ((*tokenizer)->vocabSize() > *V) {
        return makeError(folder + ": the tokenizer has " +
                         std::to_string((*tokenizer)->vocabSize()) +
                         " pieces but config.json says vocab_size " + std::to_string(*V));
    }

    auto src = detail::TensorSource::open(folder);
    if (!src) return src.error();
    detail::TensorSource& ts = *src;
    if (!ts.choosePrefix({"", "bert."}, "embeddings.word_embeddings.weight")) {
        return makeError(ts.where() +
                         ": tensor 'embeddings.word_embeddings.weight' (or with "
                         "'bert.') is missing — not a BERT checkpoint?");
    }

    auto model = std::make_shared<Model>();
    ModelConfig& mc = model->config;
    mc.name = detail::displayNameOfFolder(folder);
    mc.architecture = Architecture::Encoder;
    mc.d_model = *d;
    mc.n_heads = *H;
    mc.d_head = *d / *H;
    mc.n_layers = *L;
    mc.d_ff = *F;
    mc.vocab_size = *V;
    mc.type_vocab_size = *types;
    mc.max_len = *P;
    mc.positional = PositionalKind::Learned;
    mc.norm = NormKind::LayerNorm;
    mc.pre_norm = false;
    mc.embedding_norm = true;
    mc.final_norm = false;
    mc.norm_eps = *eps;
    mc.activation = activation;
    mc.has_lm_head = false;
    model->trained_attention.mask = MaskKind::None;

    const int D = *d;
    // Older TensorFlow conversions name LayerNorm parameters gamma/beta.
    auto norm = [&](const std::string& base, NormWeights& out) -> Status {
        const bool old = !ts.has(base + ".weight") && ts.has(base + ".gamma");
        if (auto s = ts.vector(base + (old ? ".gamma" : ".weight"), D, out.gamma); !s) return s;
        return ts.vector(base + (old ? ".beta" : ".bias"), D, out.beta);
    };
    ModelWeights& w = model->weights;
    w.layers.resize(static_cast<std::size_t>(*L));
    // Independent jobs on both cores: the embeddings, then one job per layer.
    constexpr int kFixedJobs = 2;
    const int jobs = kFixedJobs + *L;
    std::vector<std::string> errors(static_cast<std::size_t>(jobs));
#pragma omp parallel for schedule(dynamic, 1)
    for (int job = 0; job < jobs; ++job) {
        Status st = Ok{};
        auto step = [&](const Status& s) {
            if (st && !s) st = s;
        };
        if (job == 0) {
            step(ts.matrix("embeddings.word_embeddings.weight", *V, D, false, w.token_embedding));
        } else if (job == 1) {
            step(ts.matrix("embeddings.position_embeddings.weight", *P, D, false,
                           w.position_embedding));
            if (st && *types > 0) {
                step(ts.matrix("embeddings.token_type_embeddings.weight", *types, D, false,
                               w.token_type_embedding));
            }
            if (st) step(norm("embeddings.LayerNorm", w.embedding_norm));
        } else {
            const int l = job - kFixedJobs;
            LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
            AttentionWeights& a = lw.self_attention;
            const std::string p = "encoder.layer." + std::to_string(l) + ".";
            // nn.Linear (out, in) read transposed: (in, out) for X·W.
            step(ts.matrix(p + "attention.self.query.weight", D, D, true, a.W_Q));
            if (st) step(ts.vector(p + "attention.self.query.bias", D, a.b_Q));
            if (st) step(ts.matrix(p + "attention.self.key.weight", D, D, true, a.W_K));
            if (st) step(ts.vector(p + "attention.self.key.bias", D, a.b_K));
            if (st) step(ts.matrix(p + "attention.self.value.weight", D, D, true, a.W_V));
            if (st) step(ts.vector(p + "attention.self.value.bias", D, a.b_V));
            if (st) step(ts.matrix(p + "attention.output.dense.weight", D, D, true, a.W_O));
            if (st) step(ts.vector(p + "attention.output.dense.bias", D, a.b_O));
            if (st) step(norm(p + "attention.output.LayerNorm", lw.norm1));
            if (st) step(ts.matrix(p + "intermediate.dense.weight", *F, D, true, lw.ffn.W1));
            if (st) step(ts.vector(p + "intermediate.dense.bias", *F, lw.ffn.b1));
            if (st) step(ts.matrix(p + "output.dense.weight", D, *F, true, lw.ffn.W2));
            if (st) step(ts.vector(p + "output.dense.bias", D, lw.ffn.b2));
            if (st) step(norm(p + "output.LayerNorm", lw.norm2));
        }
        if (!st) errors[static_cast<std::size_t>(job)] = st.message();
    }
    for (const auto& e : errors)
        if (!e.empty()) return makeError(e);

    const WordPieceTokenizer& tok = **tokenizer;
    model->bos_id = tok.clsId();
    model->eos_id = tok.sepId();
    model->mask_id = tok.maskId();
    model->tokenizer = std::move(tokenizer).value();
    model->source_path = folder;
    return model;
}

}  // namespace attn
