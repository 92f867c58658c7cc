// Word tokenizer: UTF-8 → grapheme clusters (ICU) → words, ideographs, emoji and marks.
//
// How text is split, in order:
//  1. The UTF-8 bytes are decoded by hand into UTF-16 with a map from every UTF-16 unit back to
//     its byte offset. Each byte that does not start a well-formed sequence (Unicode Table 3-7:
//     no overlongs, no surrogates, nothing above U+10FFFF) becomes one U+FFFD, so spans stay exact
//     and utf8Length agrees with the tokenizer.
//  2. ICU's grapheme-cluster BreakIterator cuts the text into user-perceived characters, which
//     keeps "e" + combining accent, emoji ZWJ sequences, skin tones, flags and keycaps whole.
//  3. Each cluster is classified by its base code point, and runs of word clusters are merged:
//     - letters, digits and marks (any script except the CJK ones below) form words;
//     - Han ideographs, Hiragana and Katakana are one token per cluster (CJK has no spaces, and
//       the UI shows attention between single characters);
//     - emoji (Extended_Pictographic, regional-indicator flags, keycaps) are one token each;
//     - every other punctuation mark or symbol is one token each, U+FFFD included;
//     - whitespace, control characters and U+200B ZERO WIDTH SPACE are dropped.
//     Joiners that stay inside a word (our choice, in the spirit of UAX #29):
//     - an apostrophe (' or U+2019) between two letters: "don't", "l'homme", "rock'n'roll";
//     - '.' or ',' (or the Arabic decimal and thousands separators) between two digits: "3.14",
//       "1,000";
//     - an invisible format character (soft hyphen, word joiner) between two word parts.
//     Anywhere else these are tokens of their own (the apostrophe, the point) or dropped (format).
//  4. Lower-casing, when asked, uses ICU's full lower-case mapping with the root locale
//     (UnicodeString::toLower): "Чёрный" → "чёрный", "ΟΔΟΣ" → "οδος" with a final sigma, "ß"
//     stays "ß". We chose it over case folding because the UI shows the result to people.
//
// Scripts written without spaces other than CJK (Thai, Lao, Khmer, Myanmar) come out as one
// long word per run; a dictionary segmenter would be needed to split them.

#include "attn/tokenizer.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utext.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>

namespace attn {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

struct DecodedCodePoint {
    char32_t cp = kReplacement;
    std::size_t length = 1;  // bytes consumed; 1 for an invalid byte
    bool valid = false;
};

// Decodes one code point at s[0..n), n >= 1, following the well-formed byte sequences of
// Unicode Table 3-7. An invalid sequence consumes exactly its first byte.
DecodedCodePoint decodeUtf8(const unsigned char* s, std::size_t n) {
    const unsigned char b0 = s[0];
    if (b0 < 0x80) return {b0, 1, true};

    std::size_t length = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80;  // allowed range of the second byte
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        cp = b0 & 0x0F;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlongs
        hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        cp = b0 & 0x07;
        lo = b0 == 0xF0 ? 0x90 : 0x80;  // no overlongs
        hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    } else {
        return {};
    }
    if (n < length || s[1] < lo || s[1] > hi) return {};
    cp = (cp << 6) | (s[1] & 0x3F);
    for (std::size_t i = 2; i < length; ++i) {
        if ((s[i] & 0xC0) != 0x80) return {};
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    return {cp, length, true};
}

// The input as UTF-16 for ICU, with the way back to the input bytes.
struct Utf16Text {
    std::u16string units;
    std::vector<std::size_t> byteOffset;    // (units.size() + 1): byte offset of each unit
    std::vector<std::size_t> invalidBytes;  // sorted offsets of bytes replaced by U+FFFD
};

Utf16Text toUtf16(std::string_view text) {
    Utf16Text out;
    out.units.reserve(text.size());  // never more units than bytes
    out.byteOffset.reserve(text.size() + 1);
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = 0;
    while (i < text.size()) {
        const DecodedCodePoint d = decodeUtf8(bytes + i, text.size() - i);
        if (!d.valid) out.invalidBytes.push_back(i);
        if (d.cp < 0x10000) {
            out.units.push_back(static_cast<char16_t>(d.cp));
            out.byteOffset.push_back(i);
        } else {
            out.units.push_back(static_cast<char16_t>(U16_LEAD(d.cp)));
            out.units.push_back(static_cast<char16_t>(U16_TRAIL(d.cp)));
            out.byteOffset.push_back(i);
            out.byteOffset.push_back(i);  // a span never ends inside a pair
        }
        i += d.length;
    }
    out.byteOffset.push_back(text.size());
    return out;
}

// One prototype per process; each call clones it, which shares ICU's immutable rule data and
// is safe from several threads. Null when ICU's data cannot be loaded.
std::unique_ptr<icu::BreakIterator> newGraphemeIterator() {
    static const std::unique_ptr<const icu::BreakIterator> prototype = [] {
        UErrorCode status = U_ZERO_ERROR;
        std::unique_ptr<icu::BreakIterator> it(
            icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
        if (U_FAILURE(status)) it.reset();
        return std::unique_ptr<const icu::BreakIterator>(std::move(it));
    }();
    if (!prototype) return nullptr;
    return std::unique_ptr<icu::BreakIterator>(prototype->clone());
}

// Cluster boundaries in UTF-16 units, 0 and units.size() included.
std::vector<std::int32_t> graphemeBoundaries(const std::u16string& units) {
    const auto length = static_cast<std::int32_t>(units.size());
    std::vector<std::int32_t> bounds;
    bounds.reserve(units.size() + 1);
    std::unique_ptr<icu::BreakIterator> it = newGraphemeIterator();
    UErrorCode status = U_ZERO_ERROR;
    UText utext = UTEXT_INITIALIZER;
    if (it) utext_openUChars(&utext, units.data(), length, &status);
    if (it && U_SUCCESS(status)) it->setText(&utext, status);
    if (it && U_SUCCESS(status)) {
        for (std::int32_t b = it->first(); b != icu::BreakIterator::DONE; b = it->next()) {
            bounds.push_back(b);
        }
    } else {
        // Without ICU data, fall back to one cluster per code point rather than fail.
        bounds.clear();
        std::int32_t i = 0;
        while (i < length) {
            bounds.push_back(i);
            U16_FWD_1(units.data(), i, length);
        }
        bounds.push_back(length);
    }
    it.reset();  // the iterator refers to utext
    utext_close(&utext);
    return bounds;
}

enum class Kind {
    Drop,        // whitespace, control characters
    Format,      // invisible format characters: kept only inside a word
    Word,        // letters, digits, marks
    Apostrophe,  // joins two letters
    NumberSep,   // '.' or ',': joins two digits
    Alone,       // ideographs, kana, emoji, punctuation, symbols
};

struct Cluster {
    std::int32_t begin = 0;  // [begin, end) in UTF-16 units
    std::int32_t end = 0;
    char32_t base = 0;  // first code point kept in the token
    Kind kind = Kind::Drop;
};

bool isDropped(char32_t c) {
    return u_isUWhiteSpace(static_cast<UChar32>(c)) ||
           u_charType(static_cast<UChar32>(c)) == U_CONTROL_CHAR || c == 0x200B;
}

bool isKanaOrHan(UChar32 c) {
    UErrorCode status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &status);
    if (script == USCRIPT_HAN || script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA) {
        return true;
    }
    // Common-script kana marks such as the prolonged sound mark "ー" belong with kana.
    return u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC) || uscript_hasScript(c, USCRIPT_HIRAGANA) ||
           uscript_hasScript(c, USCRIPT_KATAKANA);
}

Cluster classify(const std::u16string& units, std::int32_t begin, std::int32_t end) {
    const char16_t* s = units.data();
    Cluster cl{begin, end, 0, Kind::Drop};

    // A cluster can start with whitespace ("\r\n", or a space carrying a stray accent); the
    // whitespace goes, anything after it stays.
    std::int32_t i = begin;
    bool hadSpace = false;
    while (i < end) {
        std::int32_t next = i;
        UChar32 c = 0;
        U16_NEXT(s, next, end, c);
        if (!isDropped(static_cast<char32_t>(c))) break;
        hadSpace = true;
        i = next;
    }
    if (i == end) return cl;
    cl.begin = i;

    // Skip leading format characters to find the base (Arabic number signs precede digits).
    UChar32 base = 0;
    bool keycap = false;
    bool sawBase = false;
    for (std::int32_t j = i; j < end;) {
        UChar32 c = 0;
        U16_NEXT(s, j, end, c);
        if (c == 0x20E3) keycap = true;
        if (!sawBase && u_charType(c) != U_FORMAT_CHAR) {
            base = c;
            sawBase = true;
        }
    }
    if (!sawBase) {
        U16_GET(s, 0, i, end, base);
        cl.base = static_cast<char32_t>(base);
        cl.kind = hadSpace ? Kind::Drop : Kind::Format;
        return cl;
    }
    cl.base = static_cast<char32_t>(base);

    // Flags (regional-indicator pairs) are symbols (So) and fall through to Alone below.
    // The order of the tests matters (pictographs and ideographs before letters), so the two
    // Alone branches stay apart.
    // NOLINTBEGIN(bugprone-branch-clone)
    if (keycap || u_hasBinaryProperty(base, UCHAR_EXTENDED_PICTOGRAPHIC) || hadSpace ||
        isKanaOrHan(base)) {
        cl.kind = Kind::Alone;
    } else if (u_isalpha(base) || (U_GET_GC_MASK(base) & (U_GC_N_MASK | U_GC_M_MASK)) != 0) {
        cl.kind = Kind::Word;
    } else if (base == U'\'' || base == 0x2019) {
        cl.kind = Kind::Apostrophe;
    } else if (base == U'.' || base == U',' || base == 0x066B || base == 0x066C) {
        cl.kind = Kind::NumberSep;
    } else {
        cl.kind = Kind::Alone;
    }
    // NOLINTEND(bugprone-branch-clone)
    return cl;
}

// Does `mid` glue the word cluster `prev` to the word cluster `next`?
bool joins(const Cluster& prev, const Cluster& mid, const Cluster& next) {
    switch (mid.kind) {
        case Kind::Format:
            return true;
        case Kind::Apostrophe:
            return u_isalpha(static_cast<UChar32>(prev.base)) &&
                   u_isalpha(static_cast<UChar32>(next.base));
        case Kind::NumberSep:
            return u_isdigit(static_cast<UChar32>(prev.base)) &&
                   u_isdigit(static_cast<UChar32>(next.base));
        default:
            return false;
    }
}

bool isAscii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

std::string tokenText(std::string_view text, const Utf16Text& u16, std::int32_t begin,
                      std::int32_t end, const WordTokenizerOptions& options) {
    const std::size_t b = u16.byteOffset[static_cast<std::size_t>(begin)];
    const std::size_t e = u16.byteOffset[static_cast<std::size_t>(end)];
    const std::string_view raw = text.substr(b, e - b);
    const auto firstInvalid = std::lower_bound(u16.invalidBytes.begin(), u16.invalidBytes.end(), b);
    const bool clean = firstInvalid == u16.invalidBytes.end() || *firstInvalid >= e;

    if (clean && !options.lowercase) return std::string(raw);
    if (clean && isAscii(raw)) {  // the common case, without a round trip through ICU
        std::string out(raw);
        for (char& c : out) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        return out;
    }
    icu::UnicodeString s(u16.units.data() + begin, end - begin);
    if (options.lowercase) s.toLower(icu::Locale::getRoot());
    std::string out;
    s.toUTF8String(out);
    return out;
}

}  // namespace

std::vector<Token> tokenizeWords(std::string_view text, const WordTokenizerOptions& options) {
    std::vector<Token> tokens;
    if (text.empty()) return tokens;

    const Utf16Text u16 = toUtf16(text);
    const std::vector<std::int32_t> bounds = graphemeBoundaries(u16.units);

    std::vector<Cluster> clusters;
    clusters.reserve(bounds.size());
    for (std::size_t k = 1; k < bounds.size(); ++k) {
        clusters.push_back(classify(u16.units, bounds[k - 1], bounds[k]));
    }

    auto emit = [&](std::int32_t begin, std::int32_t end) {
        Token t;
        t.text = tokenText(text, u16, begin, end, options);
        t.begin = u16.byteOffset[static_cast<std::size_t>(begin)];
        t.end = u16.byteOffset[static_cast<std::size_t>(end)];
        tokens.push_back(std::move(t));
    };

    const std::size_t n = clusters.size();
    for (std::size_t i = 0; i < n;) {
        const Cluster& first = clusters[i];
        if (first.kind == Kind::Drop || first.kind == Kind::Format) {
            ++i;
            continue;
        }
        if (first.kind != Kind::Word) {
            emit(first.begin, first.end);
            ++i;
            continue;
        }
        std::size_t last = i;  // last word cluster of the run
        for (;;) {
            if (last + 1 < n && clusters[last + 1].kind == Kind::Word) {
                last += 1;
            } else if (last + 2 < n && clusters[last + 2].kind == Kind::Word &&
                       joins(clusters[last], clusters[last + 1], clusters[last + 2])) {
                last += 2;
            } else {
                break;
            }
        }
        emit(first.begin, clusters[last].end);
        i = last + 1;
    }
    return tokens;
}

std::size_t utf8Length(std::string_view text) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++count) {
        i += decodeUtf8(bytes + i, text.size() - i).length;
    }
    return count;
}

// --- WordTokenizer ---------------------------------------------------------------------------

std::vector<Token> WordTokenizer::encode(std::string_view text) const {
    return tokenizeWords(text, m_options);
}

std::string WordTokenizer::decode(int /*id*/) const {
    return {};  // no vocabulary: every id, -1 included, has no text
}

// --- VocabTokenizer --------------------------------------------------------------------------

struct VocabTokenizer::Index {
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, int, Hash, std::equal_to<>> ids;
};

VocabTokenizer::VocabTokenizer(std::vector<std::string> vocab, int unkId,
                               WordTokenizerOptions options)
    : m_vocab(std::move(vocab)), m_unk(unkId), m_options(options) {
    auto index = std::make_shared<Index>();
    index->ids.reserve(m_vocab.size());
    for (std::size_t i = 0; i < m_vocab.size(); ++i) {
        index->ids.emplace(m_vocab[i], static_cast<int>(i));  // the first duplicate wins
    }
    m_index = std::move(index);
}

int VocabTokenizer::idOf(std::string_view word) const {
    const auto it = m_index->ids.find(word);
    return it == m_index->ids.end() ? -1 : it->second;
}

std::vector<Token> VocabTokenizer::encode(std::string_view text) const {
    std::vector<Token> words = tokenizeWords(text, m_options);
    // Special entries such as "[MASK]" or "[UNK]" stay one token when written without spaces.
    std::vector<Token> tokens;
    tokens.reserve(words.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i + 2 < words.size() && words[i].text == "[" && words[i + 2].text == "]" &&
            words[i].end == words[i + 1].begin && words[i + 1].end == words[i + 2].begin) {
            std::string whole(text.substr(words[i].begin, words[i + 2].end - words[i].begin));
            if (idOf(whole) < 0) {  // "[mask]" typed for "[MASK]"
                for (char& ch : whole)
                    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
            }
            if (idOf(whole) >= 0) {
                Token t;
                t.text = std::move(whole);
                t.begin = words[i].begin;
                t.end = words[i + 2].end;
                tokens.push_back(std::move(t));
                i += 2;
                continue;
            }
        }
        tokens.push_back(std::move(words[i]));
    }
    for (Token& t : tokens) {
        t.id = idOf(t.text);
        if (t.id < 0) {
            t.id = m_unk;
            t.unknown = true;
        }
    }
    return tokens;
}

std::string VocabTokenizer::decode(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    return m_vocab[static_cast<std::size_t>(id)];
}

namespace {

// boundary[i] is true when a character of text starts at byte i (and at text.size()).
std::vector<bool> characterBoundaries(std::string_view text) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    std::vector<bool> boundary(text.size() + 1, false);
    for (std::size_t i = 0; i < text.size();) {
        boundary[i] = true;
        i += decodeUtf8(bytes + i, text.size() - i).length;
    }
    boundary[text.size()] = true;
    return boundary;
}

}  // namespace

void markPartialCharacters(std::string_view text, std::vector<Token>& tokens) {
    const std::vector<bool> boundary = characterBoundaries(text);
    for (Token& t : tokens) {
        t.partial =
            t.begin < t.end && t.end <= text.size() && (!boundary[t.begin] || !boundary[t.end]);
    }
}

std::vector<TokenGroup> groupPartialCharacters(std::string_view text,
                                               const std::vector<Token>& tokens) {
    const std::vector<bool> boundary = characterBoundaries(text);
    std::vector<TokenGroup> groups;
    std::size_t i = 0;
    while (i < tokens.size()) {
        TokenGroup g;
        g.first = i;
        g.begin = tokens[i].begin;
        g.end = tokens[i].end;
        std::size_t j = i + 1;
        if (tokens[i].partial) {
            // Take partial tokens until the bytes so far end where a character ends.
            while (j < tokens.size() && tokens[j].partial &&
                   !(g.end <= text.size() && boundary[g.begin] && boundary[g.end])) {
                g.begin = std::min(g.begin, tokens[j].begin);
                g.end = std::max(g.end, tokens[j].end);
                ++j;
            }
        }
        g.count = j - i;
        if (g.count == 1 && !tokens[i].partial) {
            g.text = tokens[i].text;
        } else if (g.end <= text.size() && g.begin <= g.end) {
            g.text = std::string(text.substr(g.begin, g.end - g.begin));
        }
        groups.push_back(std::move(g));
        i = j;
    }
    return groups;
}

}  // namespace attn
