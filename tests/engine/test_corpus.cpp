// The generated corpora: grammar properties, Spanish agreement, alignment, the held-out split.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "attn/corpus.h"

namespace attn {
namespace {

std::vector<Words> sample(std::uint64_t seed, int n, Split split = Split::Train) {
    SentenceSampler s(seed, split);
    std::vector<Words> out;
    for (int i = 0; i < n; ++i) out.push_back(s.next());
    return out;
}

Words split(const std::string& text) {
    Words w;
    std::string cur;
    for (char ch : text) {
        if (ch == ' ') {
            if (!cur.empty()) w.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    if (!cur.empty()) w.push_back(cur);
    return w;
}

// The noun (English) heading the noun phrase that starts at word i: skips an adjective.
std::string nounAfter(const Words& w, std::size_t i) {
    for (std::size_t j = i; j < w.size(); ++j)
        if (lexicon().noun(w[j])) return w[j];
    return {};
}

TEST(Corpus, EverySampledSentenceIsGrammaticalAndInTheVocabulary) {
    const std::vector<std::string> vocab = englishVocabulary();
    const std::set<std::string> known(vocab.begin(), vocab.end());
    for (const Words& w : sample(1, 3000)) {
        EXPECT_TRUE(isGrammatical(w)) << joinWords(w);
        for (const std::string& word : w) EXPECT_TRUE(known.count(word)) << word;
    }
}

TEST(Corpus, DrankIsFollowedByADrinkAndAteByAFood) {
    const std::set<std::string> drinks = {"milk", "water", "tea", "juice", "coffee"};
    const VerbEntry* ate = lexicon().verb("ate");
    ASSERT_NE(ate, nullptr);
    int drank = 0, eaten = 0;
    for (const Words& w : sample(2, 5000)) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            if (w[i] == "drank") {
                ++drank;
                EXPECT_TRUE(drinks.count(nounAfter(w, i + 1))) << joinWords(w);
            }
            if (w[i] == "ate") {
                ++eaten;
                const std::string food = nounAfter(w, i + 1);
                EXPECT_NE(std::find(ate->objects.begin(), ate->objects.end(), food),
                          ate->objects.end())
                    << joinWords(w);
            }
        }
    }
    EXPECT_GT(drank, 100);
    EXPECT_GT(eaten, 100);
}

TEST(Corpus, SubjectsChooseTheirVerbs) {
    // Only people read, write, open and buy; a cat may chase but never read.
    const std::set<std::string> people = {"boy", "girl", "man", "woman"};
    int reads = 0;
    for (const Words& w : sample(3, 5000)) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            if (w[i] == "read" || w[i] == "wrote" || w[i] == "opened" || w[i] == "bought") {
                ++reads;
                EXPECT_TRUE(people.count(nounAfter(w, 0))) << joinWords(w);
            }
        }
    }
    EXPECT_GT(reads, 100);
    EXPECT_FALSE(isGrammatical(split("the cat read the book")));
    EXPECT_TRUE(isGrammatical(split("the girl read the book")));
}

TEST(Corpus, ArticleAFollowsTheSoundOfTheNextWord) {
    int an = 0;
    for (const Words& w : sample(4, 5000)) {
        for (std::size_t i = 0; i + 1 < w.size(); ++i) {
            const bool vowel = std::string("aeiou").find(w[i + 1][0]) != std::string::npos;
            if (w[i] == "a") {
                EXPECT_FALSE(vowel) << joinWords(w);
            }
            if (w[i] == "an") {
                ++an;
                EXPECT_TRUE(vowel) << joinWords(w);
            }
        }
    }
    EXPECT_GT(an, 20);
    EXPECT_FALSE(isGrammatical(split("a girl ate a apple")));
    EXPECT_TRUE(isGrammatical(split("a girl ate an apple")));
    EXPECT_TRUE(isGrammatical(split("an old man slept .")));
}

TEST(Corpus, RejectsSentencesOutsideTheGrammar) {
    for (const char* bad :
         {"the cat drank the bread", "the milk drank the water", "cat drank milk",
          "the ball is blue blue", "the blue ball is blue", "the cat ran the ball", "the cat drank",
          "a ball is blue", "", ".", "the cat drank the milk . ."})
        EXPECT_FALSE(isGrammatical(split(bad))) << bad;
}

TEST(Translation, TheExamplesOfTheBrief) {
    EXPECT_EQ(joinWords(translateToSpanish(split("the ball is blue")).target), "la bola es azul");
    EXPECT_EQ(joinWords(translateToSpanish(split("the blue ball")).target), "la bola azul");
    EXPECT_EQ(joinWords(translateToSpanish(split("the black cat drank the milk")).target),
              "el gato negro bebió la leche");
    // Personal "a" before a person or animal object, contracted with "el".
    EXPECT_EQ(joinWords(translateToSpanish(split("the dog chased the cat")).target),
              "el perro persiguió al gato");
    EXPECT_EQ(joinWords(translateToSpanish(split("the boy saw a white cow .")).target),
              "el niño vio a una vaca blanca .");
    // "agua" is feminine but takes "el"/"un"; its adjectives stay feminine.
    EXPECT_EQ(joinWords(translateToSpanish(split("a small girl drank the white water")).target),
              "una niña pequeña bebió el agua blanca");
}

TEST(Translation, AlignmentPointsAtTheTranslatedWord) {
    const TranslationPair p = translateToSpanish(split("the black cat drank the milk"));
    // el gato negro bebió la leche
    EXPECT_EQ(p.alignment, (std::vector<int>{0, 2, 1, 3, 4, 5}));
    EXPECT_EQ(p.content, (std::vector<bool>{false, true, true, true, false, true}));
    const TranslationPair q = translateToSpanish(split("the cow saw a dog ."));
    // la vaca vio a un perro .
    EXPECT_EQ(joinWords(q.target), "la vaca vio a un perro .");
    EXPECT_EQ(q.alignment, (std::vector<int>{0, 1, 2, -1, 3, 4, 5}));
}

TEST(Translation, SpanishArticlesAndAdjectivesAgreeInGender) {
    const Lexicon& lx = lexicon();
    auto nounByEs = [&](const std::string& es) -> const NounEntry* {
        for (const auto& n : lx.nouns)
            if (n.es == es) return &n;
        return nullptr;
    };
    auto adjectiveGender = [&](const std::string& es, bool* fem) {
        for (const auto& a : lx.adjectives) {
            if (a.es_m == a.es_f && a.es_m == es) return true;  // "azul": both genders
            if (a.es_f == es) return *fem = true, true;
            if (a.es_m == es) return *fem = false, true;
        }
        return false;
    };
    int checked = 0;
    for (const Words& w : sample(5, 3000)) {
        const TranslationPair p = translateToSpanish(w);
        const Words& t = p.target;
        ASSERT_EQ(t.size(), p.alignment.size());
        const NounEntry* subject = nullptr;
        for (std::size_t i = 0; i < t.size(); ++i) {
            const NounEntry* n = nounByEs(t[i]);
            if (!n) continue;
            if (!subject) subject = n;
            ASSERT_GT(i, 0u);
            const std::string& art = t[i - 1];
            const bool femArticle = art == "la" || art == "una";
            EXPECT_EQ(femArticle, n->feminine && !n->stressed_a) << joinWords(t);
            if (art == "al") {
                EXPECT_FALSE(n->feminine) << joinWords(t);
            }
            bool fem = false;
            if (i + 1 < t.size() && adjectiveGender(t[i + 1], &fem)) {
                const std::string& adj = t[i + 1];
                const bool both =
                    std::any_of(lx.adjectives.begin(), lx.adjectives.end(),
                                [&](const auto& a) { return a.es_m == a.es_f && a.es_m == adj; });
                if (!both) {
                    EXPECT_EQ(fem, n->feminine) << joinWords(t);
                }
                ++checked;
            }
        }
        // Copula: the predicate adjective agrees with the subject.
        const auto es = std::find(t.begin(), t.end(), "es");
        bool fem = false;
        if (es != t.end() && es + 1 != t.end() && subject && adjectiveGender(*(es + 1), &fem)) {
            const std::string& adj = *(es + 1);
            const bool both =
                std::any_of(lx.adjectives.begin(), lx.adjectives.end(),
                            [&](const auto& a) { return a.es_m == a.es_f && a.es_m == adj; });
            if (!both) {
                EXPECT_EQ(fem, subject->feminine) << joinWords(t);
            }
        }
        // Every aligned target word points inside the source.
        for (int a : p.alignment) EXPECT_LT(a, static_cast<int>(w.size()));
    }
    EXPECT_GT(checked, 500);
}

TEST(Split, HeldOutIsDisjointFromTraining) {
    std::set<std::string> train;
    for (const Words& w : sample(6, 20000)) {
        EXPECT_FALSE(isHeldOut(w));
        std::string key = joinWords(w);
        if (!w.empty() && w.back() == ".") key = joinWords(Words(w.begin(), w.end() - 1));
        train.insert(key);
    }
    const std::vector<Words> test = heldOutEnglish(500);
    ASSERT_EQ(test.size(), 500u);
    std::set<std::string> distinct;
    for (const Words& w : test) {
        EXPECT_TRUE(isHeldOut(w));
        EXPECT_TRUE(isGrammatical(w));
        Words bare = w;
        if (bare.back() == ".") bare.pop_back();
        EXPECT_EQ(train.count(joinWords(bare)), 0u) << joinWords(w);
        distinct.insert(joinWords(bare));
    }
    EXPECT_EQ(distinct.size(), 500u);
    // The split does not depend on a final ".".
    Words a = split("the cat ran"), b = split("the cat ran .");
    EXPECT_EQ(isHeldOut(a), isHeldOut(b));
}

TEST(Split, AboutOneSentenceInTenIsHeldOut) {
    // Every "the [ADJ] NOUN is ADJ" sentence of the grammar: the hash should hold out ~10%.
    const Lexicon& lx = lexicon();
    int held = 0, total = 0;
    for (const auto& n : lx.nouns)
        for (const auto& a : lx.adjectives)
            for (const auto& b : lx.adjectives) {
                if (a.en == b.en) continue;
                const Words w = {"the", a.en, n.en, "is", b.en};
                ASSERT_TRUE(isGrammatical(w));
                held += isHeldOut(w);
                ++total;
            }
    const double fraction = static_cast<double>(held) / total;
    EXPECT_GT(fraction, 0.08) << held << " of " << total;
    EXPECT_LT(fraction, 0.12) << held << " of " << total;
}

TEST(Sampler, IsReproducibleAndSeeded) {
    EXPECT_EQ(sample(42, 50), sample(42, 50));
    EXPECT_NE(sample(42, 50), sample(43, 50));
    EXPECT_EQ(heldOutEnglish(100, 9), heldOutEnglish(100, 9));
}

TEST(Vocabulary, SpecialTokensComeFirst) {
    for (const auto& v : {englishVocabulary(), spanishVocabulary()}) {
        ASSERT_GT(v.size(), 5u);
        EXPECT_EQ(v[kPadId], "[PAD]");
        EXPECT_EQ(v[kUnkId], "[UNK]");
        EXPECT_EQ(v[kMaskId], "[MASK]");
        EXPECT_EQ(v[kBosId], "<bos>");
        EXPECT_EQ(v[kEosId], "<eos>");
        EXPECT_EQ(std::set<std::string>(v.begin(), v.end()).size(), v.size()) << "duplicates";
    }
    const auto es = spanishVocabulary();
    for (const char* w : {"bebió", "leche", "negra", "al", "es", "agua"})
        EXPECT_NE(std::find(es.begin(), es.end(), w), es.end()) << w;
}

}  // namespace
}  // namespace attn
