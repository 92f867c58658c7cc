#include "attn/formats/bpe_tokenizer.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "attn/formats/gpt2.h"
#include "bpe_merge.h"
#include "hf_common.h"

namespace attn {

namespace {

constexpr std::string_view kMarker = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space
constexpr std::size_t kMaxTokens = 1u << 24;
constexpr std::size_t kMaxPatterns = 64;

std::uint64_t pairKey(int left, int right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
}

// A segment after normalization: every byte of text remembers the input bytes [begin, end) it
// came from (empty for inserted bytes such as the dummy-prefix "▁").
struct Normalized {
    std::string text;
    std::vector<std::size_t> begin, end;

    void append(std::string_view bytes, std::size_t b, std::size_t e) {
        text.append(bytes);
        begin.insert(begin.end(), bytes.size(), b);
        end.insert(end.end(), bytes.size(), e);
    }
    // The input span of normalized bytes [b, e): the union of the non-empty spans.
    std::pair<std::size_t, std::size_t> span(std::size_t b, std::size_t e) const {
        std::size_t lo = SIZE_MAX, hi = 0;
        for (std::size_t k = b; k < e; ++k) {
            if (begin[k] == end[k]) continue;
            lo = std::min(lo, begin[k]);
            hi = std::max(hi, end[k]);
        }
        if (lo == SIZE_MAX) return {begin[b], begin[b]};
        return {lo, hi};
    }
};

std::size_t utf8CharLength(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80         ? 1
                            : (c >> 5) == 6  ? 2
                            : (c >> 4) == 14 ? 3
                            : (c >> 3) == 30 ? 4
                                             : 1;
    return std::min(len, s.size() - i);
}

}  // namespace

struct BpeTokenizer::Tables {
    std::unordered_map<std::string, int> id_of;  // every token (first id wins)
    std::vector<char> matchable;                 // id → plain text may become this id
    std::unordered_map<std::uint64_t, std::pair<int, int>> merge_of;  // (l, r) → (rank, id)
    std::array<int, 256> byte_id{};  // byte → its symbol (ByteLevel) or <0xHH> piece, or -1
    std::vector<int> byte_of;        // id → byte of a <0xHH> piece, or -1
    std::vector<std::unique_ptr<icu::RegexPattern>> patterns;
    std::vector<BpeTokenizerConfig::Added> added;  // the ones matched in text
    const icu::Normalizer2* nfc = nullptr;         // the Unicode normalization asked for, if any

    int plainId(std::string_view s) const {
        const auto it = id_of.find(std::string(s));
        if (it == id_of.end() || matchable[static_cast<std::size_t>(it->second)] == 0) return -1;
        return it->second;
    }
};

BpeTokenizer::BpeTokenizer(BpeTokenizerConfig config, std::shared_ptr<const Tables> tables)
    : m_config(std::move(config)), m_tables(std::move(tables)) {}

Result<std::shared_ptr<const BpeTokenizer>> BpeTokenizer::create(BpeTokenizerConfig config,
                                                                 const std::string& where) {
    using Kind = BpeTokenizerConfig::Kind;
    const std::size_t n = config.tokens.size();
    if (n == 0) return makeError(where + ": the vocabulary is empty", ErrorCode::Corrupt);
    if (n > kMaxTokens) {
        return makeError(where + ": " + std::to_string(n) + " tokens, more than the " +
                             std::to_string(kMaxTokens) + " we allow",
                         ErrorCode::TooLarge);
    }
    const int vocab = static_cast<int>(n);
    auto inRange = [&](int id) { return id >= 0 && id < vocab; };
    for (const auto& [what, id] : {std::pair<const char*, int>{"BOS", config.bos_id},
                                   {"EOS", config.eos_id},
                                   {"unknown token", config.unk_id}}) {
        if (id != -1 && !inRange(id)) {
            return makeError(where + ": the " + std::string(what) + " id " + std::to_string(id) +
                                 " is outside the vocabulary of " + std::to_string(n),
                             ErrorCode::Corrupt);
        }
    }
    if (config.add_bos && config.bos_id < 0) {
        return makeError(where + ": asks for a BOS token but names none", ErrorCode::Corrupt);
    }
    if (config.add_eos && config.eos_id < 0) {
        return makeError(where + ": asks for an EOS token but names none", ErrorCode::Corrupt);
    }
    if (!config.scores.empty() && config.scores.size() != n) {
        return makeError(where + ": " + std::to_string(config.scores.size()) + " scores for " +
                             std::to_string(n) + " tokens",
                         ErrorCode::Corrupt);
    }
    if (config.split_patterns.size() > kMaxPatterns) {
        return makeError(where + ": too many pre-tokenizer patterns");
    }

    auto t = std::make_shared<Tables>();
    t->id_of.reserve(n);
    t->matchable.assign(n, 1);
    t->byte_of.assign(n, -1);
    t->byte_id.fill(-1);
    for (int id = 0; id < vocab; ++id) {
        const std::string& tok = config.tokens[static_cast<std::size_t>(id)];
        if (tok.empty()) {
            t->matchable[static_cast<std::size_t>(id)] = 0;
            continue;
        }
        t->id_of.emplace(tok, id);
        if (config.kind == Kind::SentencePiece) {
            const int b = detail::bytePieceValue(tok);
            if (b >= 0) {
                t->byte_of[static_cast<std::size_t>(id)] = b;
                t->matchable[static_cast<std::size_t>(id)] = 0;
                if (t->byte_id[static_cast<std::size_t>(b)] < 0)
                    t->byte_id[static_cast<std::size_t>(b)] = id;
            }
        }
    }
    for (int id : config.unmatchable_ids) {
        if (inRange(id)) t->matchable[static_cast<std::size_t>(id)] = 0;
    }
    if (config.unk_id >= 0) t->matchable[static_cast<std::size_t>(config.unk_id)] = 0;
    if (config.kind == Kind::ByteLevel) {
        for (int b = 0; b < 256; ++b) {
            const std::string sym =
                ByteLevelBpeTokenizer::byteToSymbol(static_cast<unsigned char>(b));
            const auto it = t->id_of.find(sym);
            t->byte_id[static_cast<std::size_t>(b)] = it == t->id_of.end() ? -1 : it->second;
        }
    }
    t->merge_of.reserve(config.merges.size());
    for (std::size_t r = 0; r < config.merges.size(); ++r) {
        const auto& [a, b] = config.merges[r];
        const auto ia = t->id_of.find(a);
        const auto ib = t->id_of.find(b);
        const auto im = t->id_of.find(a + b);
        // A merge whose parts or result are not tokens can never apply to real symbols.
        if (ia == t->id_of.end() || ib == t->id_of.end() || im == t->id_of.end()) continue;
        t->merge_of.emplace(pairKey(ia->second, ib->second),
                            std::make_pair(static_cast<int>(r), im->second));
    }
    for (const std::string& p : config.split_patterns) {
        UErrorCode status = U_ZERO_ERROR;
        UParseError parse{};
        std::unique_ptr<icu::RegexPattern> pattern(
            icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(p), 0, parse, status));
        if (U_FAILURE(status) || pattern == nullptr) {
            return makeError(where + ": the pre-tokenizer pattern " + p +
                             " is not a regular expression ICU reads (" + u_errorName(status) +
                             " at offset " + std::to_string(parse.offset) + ")");
        }
        t->patterns.push_back(std::move(pattern));
    }
    for (const auto& a : config.added) {
        if (!inRange(a.id)) {
            return makeError(where + ": the added token " + a.content + " has id " +
                                 std::to_string(a.id) + ", outside the vocabulary",
                             ErrorCode::Corrupt);
        }
        if (a.content.empty()) continue;
        if (a.special && !config.parse_special) continue;
        t->added.push_back(a);
    }
    if (config.normalization != BpeTokenizerConfig::Normalization::None) {
        using N = BpeTokenizerConfig::Normalization;
        UErrorCode status = U_ZERO_ERROR;
        switch (config.normalization) {
            case N::NFC:
                t->nfc = icu::Normalizer2::getNFCInstance(status);
                break;
            case N::NFKC:
                t->nfc = icu::Normalizer2::getNFKCInstance(status);
                break;
            case N::NFD:
                t->nfc = icu::Normalizer2::getNFDInstance(status);
                break;
            case N::NFKD:
                t->nfc = icu::Normalizer2::getNFKDInstance(status);
                break;
            case N::None:
                break;
        }
        if (U_FAILURE(status) || t->nfc == nullptr)
            return makeError(where + ": ICU lacks the Unicode normalization asked for");
    }
    if (config.name.empty()) {
        config.name = config.kind == Kind::ByteLevel ? "byte-level BPE" : "SentencePiece BPE";
    }
    return std::shared_ptr<const BpeTokenizer>(
        std::make_shared<BpeTokenizer>(std::move(config), std::move(t)));
}

int BpeTokenizer::idOf(std::string_view token) const {
    const auto it = m_tables->id_of.find(std::string(token));
    return it == m_tables->id_of.end() ? -1 : it->second;
}

std::string BpeTokenizer::decode(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    const std::string& tok = m_config.tokens[static_cast<std::size_t>(id)];
    for (const auto& a : m_config.added) {
        if (a.id == id) return a.content;
    }
    if (m_config.kind == BpeTokenizerConfig::Kind::SentencePiece) {
        const int b = m_tables->byte_of[static_cast<std::size_t>(id)];
        if (b >= 0) return std::string(1, static_cast<char>(b));
        std::string out;
        for (std::size_t i = 0; i < tok.size();) {
            if (tok.compare(i, kMarker.size(), kMarker) == 0) {
                out += ' ';
                i += kMarker.size();
            } else {
                out += tok[i++];
            }
        }
        return out;
    }
    return ByteLevelBpeTokenizer::symbolsToBytes(tok);
}

std::vector<Token> BpeTokenizer::encode(std::string_view text) const { return encode(text, true); }

std::vector<int> BpeTokenizer::encodeIds(std::string_view text, bool add_special) const {
    std::vector<int> ids;
    for (const Token& t : encode(text, add_special)) ids.push_back(t.id);
    return ids;
}

std::vector<Token> BpeTokenizer::encode(std::string_view text, bool add_special) const {
    std::vector<Token> out;
    auto special = [&](int id, std::size_t b, std::size_t e) {
        Token t;
        t.id = id;
        t.begin = b;
        t.end = e;
        t.text = decode(id);
        out.push_back(std::move(t));
    };
    if (add_special && m_config.add_bos) special(m_config.bos_id, 0, 0);

    // Step 1: added tokens. next[k] caches where added token k next occurs from pos on, so the
    // scan stays linear in the text for each added token.
    const auto& added = m_tables->added;
    std::vector<std::size_t> next(added.size(), 0);
    std::vector<char> fresh(added.size(), 0);
    std::size_t pos = 0;
    bool after_special = true;  // the start of the text counts as "after a special token"
    while (pos <= text.size()) {
        std::size_t hit = std::string_view::npos;
        std::size_t best = 0;
        for (std::size_t k = 0; k < added.size(); ++k) {
            if (fresh[k] == 0 || (next[k] != std::string_view::npos && next[k] < pos)) {
                next[k] = text.find(added[k].content, pos);
                fresh[k] = 1;
            }
            if (next[k] == std::string_view::npos) continue;
            if (next[k] < hit ||
                (next[k] == hit && added[k].content.size() > added[best].content.size())) {
                hit = next[k];
                best = k;
            }
        }
        const std::size_t stop = hit == std::string_view::npos ? text.size() : hit;
        if (stop > pos) {
            encodeSegment(text, pos, stop, after_special, out);
            after_special = false;
        }
        if (hit == std::string_view::npos) break;
        special(added[best].id, hit, hit + added[best].content.size());
        after_special = true;
        pos = hit + added[best].content.size();
    }
    if (add_special && m_config.add_eos) special(m_config.eos_id, text.size(), text.size());
    markPartialCharacters(text, out);
    return out;
}

void BpeTokenizer::encodeSegment(std::string_view text, std::size_t begin, std::size_t end,
                                 bool after_special, std::vector<Token>& out) const {
    using Kind = BpeTokenizerConfig::Kind;
    const Tables& tb = *m_tables;
    const bool sp = m_config.kind == Kind::SentencePiece;

    // Step 2: normalize, keeping the input span of every byte.
    Normalized norm;
    {
        const std::string_view seg = text.substr(begin, end - begin);
        UErrorCode status = U_ZERO_ERROR;
        const icu::UnicodeString useg = icu::UnicodeString::fromUTF8(
            icu::StringPiece(seg.data(), static_cast<int32_t>(seg.size())));
        if (tb.nfc != nullptr && !tb.nfc->isNormalized(useg, status)) {
            // Chunks between NFC boundaries normalize on their own; every byte of a chunk
            // maps to the whole chunk's input span.
            std::size_t i = 0;
            while (i < seg.size()) {
                std::size_t j = i + utf8CharLength(seg, i);
                while (j < seg.size()) {
                    UChar32 c = 0;
                    std::size_t k = j;
                    U8_NEXT(reinterpret_cast<const uint8_t*>(seg.data()), k, seg.size(), c);
                    if (c < 0 || tb.nfc->hasBoundaryBefore(c)) break;
                    j = k;
                }
                icu::UnicodeString chunk = icu::UnicodeString::fromUTF8(
                    icu::StringPiece(seg.data() + i, static_cast<int32_t>(j - i)));
                UErrorCode st = U_ZERO_ERROR;
                const icu::UnicodeString normalized = tb.nfc->normalize(chunk, st);
                std::string bytes;
                (U_SUCCESS(st) ? normalized : chunk).toUTF8String(bytes);
                norm.append(bytes, begin + i, begin + j);
                i = j;
            }
        } else {
            for (std::size_t i = 0; i < seg.size(); ++i) {
                norm.append(seg.substr(i, 1), begin + i, begin + i + 1);
            }
        }
    }
    if (m_config.lowercase) {
        // Code point by code point (as Rust's char::to_lowercase), each keeping its span.
        Normalized lower;
        const auto* bytes = reinterpret_cast<const uint8_t*>(norm.text.data());
        const auto len = static_cast<int32_t>(norm.text.size());
        int32_t i = 0;
        while (i < len) {
            const int32_t start = i;
            UChar32 c = 0;
            U8_NEXT(bytes, i, len, c);
            const auto b = static_cast<std::size_t>(start);
            const auto e = static_cast<std::size_t>(i);
            if (c < 0) {
                lower.append(std::string_view(norm.text).substr(b, e - b), norm.begin[b],
                             norm.end[e - 1]);
                continue;
            }
            std::string l;
            icu::UnicodeString(c).toLower(icu::Locale::getRoot()).toUTF8String(l);
            lower.append(l, norm.begin[b], norm.end[e - 1]);
        }
        norm = std::move(lower);
    }
    if (norm.text.empty()) return;
    auto insertFront = [&](std::string_view bytes) {
        Normalized n2;
        n2.append(bytes, norm.begin[0], norm.begin[0]);
        n2.text += norm.text;
        n2.begin.insert(n2.begin.end(), norm.begin.begin(), norm.begin.end());
        n2.end.insert(n2.end.end(), norm.end.begin(), norm.end.end());
        norm = std::move(n2);
    };
    if (m_config.prefix_space && norm.text[0] != ' ') insertFront(" ");
    if (m_config.prepend_marker || (m_config.prepend_marker_after_special && after_special)) {
        insertFront(m_config.spaces_to_marker ? " " : kMarker);
    }
    if (m_config.spaces_to_marker) {
        Normalized n2;
        for (std::size_t k = 0; k < norm.text.size(); ++k) {
            n2.append(norm.text[k] == ' ' ? kMarker : std::string_view(&norm.text[k], 1),
                      norm.begin[k], norm.end[k]);
        }
        norm = std::move(n2);
    }
    const std::string& s = norm.text;

    // Step 3: pieces, as byte ranges of s.
    std::vector<std::pair<std::size_t, std::size_t>> pieces{{0, s.size()}};
    if (!tb.patterns.empty()) {
        icu::UnicodeString u;
        std::vector<std::size_t> u8_at;  // UTF-16 index → byte of s
        {
            const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
            const auto len = static_cast<int32_t>(s.size());
            int32_t i = 0;
            while (i < len) {
                const int32_t start = i;
                UChar32 c = 0;
                U8_NEXT(bytes, i, len, c);
                if (c < 0) c = 0xFFFD;
                const int before = u.length();
                u.append(c);
                for (int k = before; k < u.length(); ++k)
                    u8_at.push_back(static_cast<std::size_t>(start));
            }
            u8_at.push_back(s.size());
        }
        std::vector<std::pair<int32_t, int32_t>> upieces{{0, u.length()}};
        for (const auto& pattern : tb.patterns) {
            UErrorCode status = U_ZERO_ERROR;
            std::unique_ptr<icu::RegexMatcher> m(pattern->matcher(u, status));
            if (U_FAILURE(status) || m == nullptr) continue;
            std::vector<std::pair<int32_t, int32_t>> cut;
            for (const auto& [pb, pe] : upieces) {
                status = U_ZERO_ERROR;
                m->region(pb, pe, status);
                int32_t at = pb;
                while (U_SUCCESS(status) && m->find(status)) {
                    const int32_t ms = m->start(status);
                    const int32_t me = m->end(status);
                    if (U_FAILURE(status) || me <= ms) continue;
                    if (ms > at) cut.emplace_back(at, ms);
                    cut.emplace_back(ms, me);
                    at = me;
                }
                if (at < pe) cut.emplace_back(at, pe);
            }
            upieces = std::move(cut);
        }
        pieces.clear();
        for (const auto& [pb, pe] : upieces) {
            pieces.emplace_back(u8_at[static_cast<std::size_t>(pb)],
                                u8_at[static_cast<std::size_t>(pe)]);
        }
    }

    // Step 4: BPE inside each piece.
    auto emit = [&](int id, std::size_t b, std::size_t e, bool unknown) {
        const auto [ob, oe] = norm.span(b, e);
        Token t;
        t.id = id;
        t.begin = ob;
        t.end = oe;
        t.unknown = unknown;
        t.text = detail::sanitizeUtf8(decode(id));
        out.push_back(std::move(t));
    };
    auto byteLevelForm = [&](std::size_t b, std::size_t e) {
        std::string f;
        for (std::size_t k = b; k < e; ++k)
            f += ByteLevelBpeTokenizer::byteToSymbol(static_cast<unsigned char>(s[k]));
        return f;
    };
    std::vector<detail::BpeSymbol> syms;
    for (const auto& [pb, pe] : pieces) {
        if (pe <= pb) continue;
        if (m_config.ignore_merges) {
            const int whole =
                tb.plainId(sp ? std::string_view(s).substr(pb, pe - pb) : byteLevelForm(pb, pe));
            if (whole >= 0) {
                emit(whole, pb, pe, false);
                continue;
            }
        }
        syms.clear();
        if (!sp) {
            for (std::size_t k = pb; k < pe; ++k) {
                syms.push_back(detail::BpeSymbol{tb.byte_id[static_cast<unsigned char>(s[k])], k,
                                                 k + 1, true});
            }
        } else {
            for (std::size_t k = pb; k < pe;) {
                const std::size_t len = std::min(utf8CharLength(s, k), pe - k);
                const int id = tb.plainId(std::string_view(s).substr(k, len));
                if (id >= 0) {
                    syms.push_back(detail::BpeSymbol{id, k, k + len, true});
                } else if (m_config.byte_fallback &&
                           std::all_of(s.begin() + static_cast<std::ptrdiff_t>(k),
                                       s.begin() + static_cast<std::ptrdiff_t>(k + len),
                                       [&](char c) {
                                           return tb.byte_id[static_cast<unsigned char>(c)] >= 0;
                                       })) {
                    for (std::size_t q = k; q < k + len; ++q) {
                        syms.push_back(detail::BpeSymbol{
                            tb.byte_id[static_cast<unsigned char>(s[q])], q, q + 1, false});
                    }
                } else if (m_config.fuse_unk && !syms.empty() && !syms.back().mergeable &&
                           syms.back().id == m_config.unk_id && syms.back().end == k) {
                    syms.back().end = k + len;
                } else {
                    syms.push_back(detail::BpeSymbol{m_config.unk_id, k, k + len, false});
                }
                k += len;
            }
        }
        if (!m_config.merges.empty() || !sp) {
            detail::bpeMerge(syms,
                             [&](const detail::BpeSymbol& a,
                                 const detail::BpeSymbol& b) -> std::optional<detail::BpeMerge> {
                                 if (a.id < 0 || b.id < 0) return std::nullopt;
                                 const auto it = tb.merge_of.find(pairKey(a.id, b.id));
                                 if (it == tb.merge_of.end()) return std::nullopt;
                                 return detail::BpeMerge{static_cast<double>(it->second.first),
                                                         it->second.second};
                             });
        } else {
            detail::bpeMerge(
                syms,
                [&](const detail::BpeSymbol& a,
                    const detail::BpeSymbol& b) -> std::optional<detail::BpeMerge> {
                    const int id = tb.plainId(std::string_view(s).substr(a.begin, b.end - a.begin));
                    if (id < 0) return std::nullopt;
                    const float score = m_config.scores.empty()
                                            ? 0.0f
                                            : m_config.scores[static_cast<std::size_t>(id)];
                    return detail::BpeMerge{-static_cast<double>(score), id};
                });
        }
        for (const detail::BpeSymbol& sym : syms) {
            if (sym.id >= 0) {
                emit(sym.id, sym.begin, sym.end, !sym.mergeable && sym.id == m_config.unk_id);
                continue;
            }
            // No token for the symbol (a vocabulary without some byte): one token per byte
            // that has one, as llama.cpp does; the rest are left out and marked on a neighbour.
            for (std::size_t k = sym.begin; k < sym.end; ++k) {
                const int id = tb.byte_id[static_cast<unsigned char>(s[k])];
                if (id >= 0) emit(id, k, k + 1, false);
            }
        }
    }
}

}  // namespace attn
