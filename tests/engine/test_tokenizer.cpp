// Word tokenizer: words, punctuation, CJK, emoji, invalid UTF-8, spans, vocabulary lookup.

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "attn/tokenizer.h"

namespace attn {
namespace {

std::vector<std::string> texts(const std::vector<Token>& tokens) {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    for (const Token& t : tokens) out.push_back(t.text);
    return out;
}

std::vector<std::string> words(std::string_view text, bool lowercase = false) {
    return texts(tokenizeWords(text, WordTokenizerOptions{lowercase}));
}

// Well-formed UTF-8 per Unicode Table 3-7, written independently of the tokenizer's decoder.
bool isValidUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        // Length of the sequence and the allowed range of its second byte.
        std::size_t n = 0;
        unsigned lo = 0x80;
        unsigned hi = 0xBF;
        if (b < 0x80) {
            n = 1;
        } else if (b >= 0xC2 && b <= 0xDF) {
            n = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 3;
            lo = b == 0xE0 ? 0xA0 : 0x80;
            hi = b == 0xED ? 0x9F : 0xBF;
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 4;
            lo = b == 0xF0 ? 0x90 : 0x80;
            hi = b == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            const bool ok = k == 1 ? (c >= lo && c <= hi) : (c & 0xC0) == 0x80;
            if (!ok) return false;
        }
        i += n;
    }
    return true;
}

// Spans are ordered, do not overlap, lie inside the text, and are never empty.
void expectSaneSpans(std::string_view text, const std::vector<Token>& tokens) {
    std::size_t previousEnd = 0;
    for (const Token& t : tokens) {
        EXPECT_LE(previousEnd, t.begin) << "token '" << t.text << "'";
        EXPECT_LT(t.begin, t.end) << "token '" << t.text << "'";
        EXPECT_LE(t.end, text.size()) << "token '" << t.text << "'";
        EXPECT_FALSE(t.text.empty());
        EXPECT_TRUE(isValidUtf8(t.text)) << "token at " << t.begin;
        previousEnd = t.end;
    }
}

// For valid input without lower-casing, each token is exactly the bytes of its span.
void expectSpansMatchText(std::string_view text) {
    const std::vector<Token> tokens = tokenizeWords(text);
    expectSaneSpans(text, tokens);
    for (const Token& t : tokens) {
        EXPECT_EQ(text.substr(t.begin, t.end - t.begin), t.text) << "in '" << text << "'";
    }
}

struct Span {
    std::size_t begin;
    std::size_t end;
    bool operator==(const Span&) const = default;
};

std::vector<Span> spans(const std::vector<Token>& tokens) {
    std::vector<Span> out;
    for (const Token& t : tokens) out.push_back({t.begin, t.end});
    return out;
}

void PrintTo(const Span& s, std::ostream* os) { *os << "[" << s.begin << "," << s.end << ")"; }

TEST(TokenizeWords, EnglishSentenceGivesWordsAndFinalPoint) {
    const std::string text = "The black cat drank the milk.";
    const std::vector<Token> tokens = tokenizeWords(text);
    EXPECT_EQ(texts(tokens),
              (std::vector<std::string>{"The", "black", "cat", "drank", "the", "milk", "."}));
    EXPECT_EQ(
        spans(tokens),
        (std::vector<Span>{{0, 3}, {4, 9}, {10, 13}, {14, 19}, {20, 23}, {24, 28}, {28, 29}}));
    for (const Token& t : tokens) {
        EXPECT_EQ(t.id, -1);
        EXPECT_FALSE(t.unknown);
    }
}

TEST(TokenizeWords, RussianWordsAndLowerCase) {
    const std::string text = "Чёрный кот пил молоко";  // Cyrillic letters are 2 bytes each
    const std::vector<Token> tokens = tokenizeWords(text);
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"Чёрный", "кот", "пил", "молоко"}));
    EXPECT_EQ(spans(tokens), (std::vector<Span>{{0, 12}, {13, 19}, {20, 26}, {27, 39}}));

    const std::vector<Token> lower = tokenizeWords(text, {.lowercase = true});
    ASSERT_EQ(lower.size(), 4u);
    EXPECT_EQ(lower[0].text, "чёрный");
    EXPECT_EQ(spans(lower), spans(tokens));  // lower-casing never moves a span
}

TEST(TokenizeWords, LowerCaseUsesFullMappingsAndFinalSigma) {
    EXPECT_EQ(words("THE Black CAT", true), (std::vector<std::string>{"the", "black", "cat"}));
    EXPECT_EQ(words("ΟΔΟΣ", true), (std::vector<std::string>{"οδος"}));  // final ς, not σ
    EXPECT_EQ(words("Straße", true), (std::vector<std::string>{"straße"}));
    EXPECT_EQ(words("ÉCOLE", true), (std::vector<std::string>{"école"}));
}

TEST(TokenizeWords, EachChineseIdeographIsAToken) {
    const std::vector<Token> tokens = tokenizeWords("黑猫喝牛奶");
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"黑", "猫", "喝", "牛", "奶"}));
    EXPECT_EQ(spans(tokens), (std::vector<Span>{{0, 3}, {3, 6}, {6, 9}, {9, 12}, {12, 15}}));
}

TEST(TokenizeWords, KanaAreSingleCharactersHangulFormsWords) {
    EXPECT_EQ(words("ねこラーメン"),
              (std::vector<std::string>{"ね", "こ", "ラ", "ー", "メ", "ン"}));
    EXPECT_EQ(words("안녕하세요 세계"), (std::vector<std::string>{"안녕하세요", "세계"}));
    EXPECT_EQ(words("abc猫def"), (std::vector<std::string>{"abc", "猫", "def"}));
}

TEST(TokenizeWords, EmojiSequencesStayWhole) {
    const std::string family = "👨\u200D👩\u200D👧";       // ZWJ sequence of 5 code points
    const std::string thumbs = "\U0001F44D\U0001F3FD";  // 👍🏽: skin-tone modifier
    const std::string spain = "\U0001F1EA\U0001F1F8";   // 🇪🇸: two regional indicators
    const std::string keycap = "1\uFE0F\u20E3";         // 1️⃣
    EXPECT_EQ(words(family), (std::vector<std::string>{family}));
    EXPECT_EQ(words(thumbs), (std::vector<std::string>{thumbs}));
    EXPECT_EQ(words(spain), (std::vector<std::string>{spain}));
    EXPECT_EQ(words(keycap), (std::vector<std::string>{keycap}));
    EXPECT_EQ(words("🇪🇸🇫🇷"), (std::vector<std::string>{"🇪🇸", "🇫🇷"}));
    EXPECT_EQ(words("👍👍"), (std::vector<std::string>{"👍", "👍"}));
    // An emoji glued to words still splits from them, and a keycap does not join digits.
    EXPECT_EQ(words("ok" + thumbs + "ok"), (std::vector<std::string>{"ok", thumbs, "ok"}));
    EXPECT_EQ(words("12" + keycap + "3"), (std::vector<std::string>{"12", keycap, "3"}));
    EXPECT_EQ(words("I ❤️ " + family + "!"),
              (std::vector<std::string>{"I", "❤️", family, "!"}));
}

TEST(TokenizeWords, MixedScriptsPunctuationAndEmoji) {
    const std::string text = "Hola, ¿qué tal? 猫🐈‍⬛ ok";
    const std::vector<Token> tokens = tokenizeWords(text);
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"Hola", ",", "¿", "qué", "tal", "?", "猫",
                                                       "🐈\u200D⬛", "ok"}));
    expectSpansMatchText(text);
}

TEST(TokenizeWords, AccentedLatinWithCombiningMarks) {
    const std::string decomposed = "cafe\u0301";     // e + COMBINING ACUTE ACCENT
    const std::string stacked = "s\u0323\u0307ilo";  // s + dot below + dot above
    EXPECT_EQ(words("café naïve"), (std::vector<std::string>{"café", "naïve"}));
    EXPECT_EQ(words(decomposed + " " + stacked), (std::vector<std::string>{decomposed, stacked}));
    EXPECT_EQ(words(decomposed + "."), (std::vector<std::string>{decomposed, "."}));
    EXPECT_EQ(words("CAFE\u0301", true), (std::vector<std::string>{decomposed}));
    expectSpansMatchText(decomposed + ", " + stacked + "!");
}

TEST(TokenizeWords, EveryPunctuationMarkAndSymbolIsItsOwnToken) {
    EXPECT_EQ(words("Wait...!?"), (std::vector<std::string>{"Wait", ".", ".", ".", "!", "?"}));
    EXPECT_EQ(words("(a+b)=c"), (std::vector<std::string>{"(", "a", "+", "b", ")", "=", "c"}));
    EXPECT_EQ(words("«Да» — €5"), (std::vector<std::string>{"«", "Да", "»", "—", "€", "5"}));
}

TEST(TokenizeWords, ApostrophesBetweenLettersStayInTheWord) {
    EXPECT_EQ(words("don't"), (std::vector<std::string>{"don't"}));
    EXPECT_EQ(words("l’homme"), (std::vector<std::string>{"l’homme"}));
    EXPECT_EQ(words("dogs' bowl"), (std::vector<std::string>{"dogs", "'", "bowl"}));
    EXPECT_EQ(words("'tis"), (std::vector<std::string>{"'", "tis"}));
}

TEST(TokenizeWords, DecimalPointsBetweenDigitsStayInTheNumber) {
    EXPECT_EQ(words("pi is 3.14."), (std::vector<std::string>{"pi", "is", "3.14", "."}));
    EXPECT_EQ(words("1,000 and 1, 2"), (std::vector<std::string>{"1,000", "and", "1", ",", "2"}));
    EXPECT_EQ(words("end.Start"), (std::vector<std::string>{"end", ".", "Start"}));
    EXPECT_EQ(words("١٫٥"), (std::vector<std::string>{"١٫٥"}));  // Arabic-Indic 1.5
}

TEST(TokenizeWords, EmptyAndWhitespaceOnlyGiveNoTokens) {
    EXPECT_TRUE(tokenizeWords("").empty());
    EXPECT_TRUE(tokenizeWords("   ").empty());
    EXPECT_TRUE(tokenizeWords(" \t\r\n\u00A0\u3000\u2003 ").empty());  // incl. NBSP, ideographic
}

TEST(TokenizeWords, ControlsByteOrderMarkAndZeroWidthSpaceAreDropped) {
    const std::string withBom = "\xEF\xBB\xBFHello\tworld";
    const std::vector<Token> tokens = tokenizeWords(withBom);
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"Hello", "world"}));
    EXPECT_EQ(spans(tokens), (std::vector<Span>{{3, 8}, {9, 14}}));
    EXPECT_EQ(words(std::string("a\0b", 3)), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(words("one\u200Btwo"), (std::vector<std::string>{"one", "two"}));
    // A stray zero width joiner after a space clings to the space and goes with it.
    EXPECT_EQ(words("one \u200Dtwo"), (std::vector<std::string>{"one", "two"}));
    // A soft hyphen inside a word is invisible and keeps the word whole.
    EXPECT_EQ(words("co\u00ADoperate"), (std::vector<std::string>{"co\u00ADoperate"}));
}

TEST(TokenizeWords, InvalidUtf8BecomesReplacementCharacterWithExactSpans) {
    const std::string fffd = "\uFFFD";
    const std::vector<Token> tokens = tokenizeWords("ab\377cd");  // \377 is the byte 0xFF
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"ab", fffd, "cd"}));
    EXPECT_EQ(spans(tokens), (std::vector<Span>{{0, 2}, {2, 3}, {3, 5}}));

    // A sequence cut short at the end: each of its bytes is one replacement.
    const std::vector<Token> cut = tokenizeWords("ok \xE2\x82");
    EXPECT_EQ(texts(cut), (std::vector<std::string>{"ok", fffd, fffd}));
    EXPECT_EQ(spans(cut), (std::vector<Span>{{0, 2}, {3, 4}, {4, 5}}));

    // Overlong '/', an encoded surrogate, a code point above U+10FFFF, a stray continuation.
    for (const std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80"}) {
        const std::vector<Token> t = tokenizeWords("x " + bad + " y");
        ASSERT_EQ(t.size(), bad.size() + 2) << "bytes of length " << bad.size();
        for (std::size_t i = 1; i + 1 < t.size(); ++i) {
            EXPECT_EQ(t[i].text, fffd);
            EXPECT_EQ(t[i].end - t[i].begin, 1u);
        }
        expectSaneSpans("x " + bad + " y", t);
    }

    // Lower-casing a word next to invalid bytes still gives valid UTF-8.
    EXPECT_EQ(words("ÀB\xFF", true), (std::vector<std::string>{"àb", fffd}));
}

TEST(TokenizeWords, RandomBytesNeverBreakSpans) {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string text(20000, '\0');
    for (char& c : text) c = static_cast<char>(byte(rng));
    for (bool lowercase : {false, true}) {
        const std::vector<Token> tokens = tokenizeWords(text, {.lowercase = lowercase});
        EXPECT_GT(tokens.size(), 1000u);
        expectSaneSpans(text, tokens);
    }
}

TEST(TokenizeWords, SpansCutTheTokenTextOutOfValidInput) {
    for (const char* text : {"The black cat drank the milk.", "Чёрный кот пил молоко", "黑猫喝牛奶",
                             "Hola, ¿qué tal? 猫🐈‍⬛ ok", "  leading and trailing  ",
                             "👨‍👩‍👧 and 👍🏽 in 🇪🇸!",
                             "don't stop: 3.14, 1,000 — ok?", "ΟΔΟΣ straße ǅemal"}) {
        expectSpansMatchText(text);
    }
}

TEST(TokenizeWords, LargeInputIsTokenizedCompletely) {
    // 11 tokens: The black cat drank the milk . Чёрный 猫 👍🏽 !
    const std::string unit = "The black cat drank the milk. Чёрный 猫 👍🏽! ";
    ASSERT_EQ(tokenizeWords(unit).size(), 11u);
    std::string text;
    std::size_t repeats = 0;
    while (text.size() < (1u << 20)) {
        text += unit;
        ++repeats;
    }
    const std::vector<Token> tokens = tokenizeWords(text, {.lowercase = true});
    ASSERT_EQ(tokens.size(), 11 * repeats);
    EXPECT_EQ(tokens[0].text, "the");
    EXPECT_EQ(tokens.back().text, "!");
    EXPECT_EQ(tokens.back().end, text.size() - 1);  // the trailing space is dropped
}

TEST(Utf8Length, CountsCodePointsAndInvalidBytesOneEach) {
    EXPECT_EQ(utf8Length(""), 0u);
    EXPECT_EQ(utf8Length("abc"), 3u);
    EXPECT_EQ(utf8Length("Чёрный"), 6u);
    EXPECT_EQ(utf8Length("黑猫"), 2u);
    EXPECT_EQ(utf8Length("👨\u200D👩\u200D👧"), 5u);
    EXPECT_EQ(utf8Length("\xFF\xFE"), 2u);
    EXPECT_EQ(utf8Length("a\xE2\x82"), 3u);  // truncated 3-byte sequence: 2 invalid bytes
}

TEST(WordTokenizer, EncodesWordsWithoutIdsAndDecodesNothing) {
    const WordTokenizer tokenizer({.lowercase = true});
    const std::vector<Token> tokens = tokenizer.encode("The Cat.");
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"the", "cat", "."}));
    for (const Token& t : tokens) EXPECT_EQ(t.id, -1);
    EXPECT_EQ(tokenizer.decode(-1), "");
    EXPECT_EQ(tokenizer.decode(0), "");
    EXPECT_EQ(tokenizer.vocabSize(), 0);
    EXPECT_EQ(tokenizer.name(), "words");
}

TEST(VocabTokenizer, LooksUpLowerCasedWordsAndMarksUnknownOnes) {
    const VocabTokenizer tokenizer({"<unk>", "the", "cat", "sat", "."}, 0, {.lowercase = true});
    const std::vector<Token> tokens = tokenizer.encode("The cat purred.");
    ASSERT_EQ(tokens.size(), 4u);
    EXPECT_EQ(texts(tokens), (std::vector<std::string>{"the", "cat", "purred", "."}));
    EXPECT_EQ(tokens[0].id, 1);
    EXPECT_EQ(tokens[1].id, 2);
    EXPECT_EQ(tokens[2].id, 0);
    EXPECT_EQ(tokens[3].id, 4);
    EXPECT_FALSE(tokens[0].unknown);
    EXPECT_FALSE(tokens[1].unknown);
    EXPECT_TRUE(tokens[2].unknown);
    EXPECT_FALSE(tokens[3].unknown);
    EXPECT_EQ(spans(tokens), (std::vector<Span>{{0, 3}, {4, 7}, {8, 14}, {14, 15}}));

    EXPECT_EQ(tokenizer.idOf("cat"), 2);
    EXPECT_EQ(tokenizer.idOf("Cat"), -1);  // idOf is exact; encode lower-cases first
    EXPECT_EQ(tokenizer.idOf("dog"), -1);
    EXPECT_EQ(tokenizer.decode(2), "cat");
    EXPECT_EQ(tokenizer.decode(-1), "");
    EXPECT_EQ(tokenizer.decode(5), "");
    EXPECT_EQ(tokenizer.vocabSize(), 5);
    EXPECT_EQ(tokenizer.unkId(), 0);
}

TEST(VocabTokenizer, WithoutLowerCaseLookupIsCaseSensitive) {
    const VocabTokenizer tokenizer({"[UNK]", "cat", "Кот"}, 0);
    const std::vector<Token> tokens = tokenizer.encode("Cat cat Кот кот");
    ASSERT_EQ(tokens.size(), 4u);
    EXPECT_EQ(tokens[0].id, 0);
    EXPECT_TRUE(tokens[0].unknown);
    EXPECT_EQ(tokens[1].id, 1);
    EXPECT_EQ(tokens[2].id, 2);
    EXPECT_EQ(tokens[3].id, 0);
    EXPECT_TRUE(tokens[3].unknown);
}

TEST(VocabTokenizer, BracketedSpecialEntriesStayOneToken) {
    const VocabTokenizer tokenizer({"[UNK]", "the", "[MASK]", "milk", "[", "]"}, 0,
                                   WordTokenizerOptions{true});
    const std::vector<Token> tokens = tokenizer.encode("the [MASK] [mask] [ milk ] [milk]");
    ASSERT_EQ(tokens.size(), 9u);
    EXPECT_EQ(tokens[1].text, "[MASK]");
    EXPECT_EQ(tokens[1].id, 2);
    EXPECT_EQ(tokens[1].begin, 4u);
    EXPECT_EQ(tokens[1].end, 10u);
    EXPECT_EQ(tokens[2].id, 2);      // lower-case spelling of the same entry
    EXPECT_EQ(tokens[3].text, "[");  // spaced brackets are ordinary punctuation
    EXPECT_EQ(tokens[4].id, 3);
    EXPECT_EQ(tokens[6].text, "[");  // "[milk]" is not an entry: three tokens
    EXPECT_EQ(tokens[7].id, 3);
}

}  // namespace
}  // namespace attn
