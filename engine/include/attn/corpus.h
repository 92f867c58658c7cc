#pragma once
// Our own corpora, generated from a small grammar (docs/GRAMMAR.md): English sentences whose
// words depend on each other (subjects choose verbs, verbs choose objects, "a"/"an" follows the
// next word) and their Spanish translations (gender agreement, adjective after the noun,
// personal "a"), with a word alignment. A sentence belongs to the training or the held-out
// split by a hash of its words alone, so the split never depends on a seed or on sample order.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attn {

enum class WordClass {
    Special,
    Determiner,
    Noun,
    Verb,
    Adjective,
    Copula,
    Preposition,
    Punctuation
};

std::string toString(WordClass c);

/// One noun of the lexicon.
struct NounEntry {
    std::string en;           ///< "cat"
    std::string es;           ///< "gato"
    bool feminine = false;    ///< Spanish gender
    bool animate = false;     ///< takes the personal "a" as an object ("vio al gato")
    bool stressed_a = false;  ///< feminine noun that takes "el"/"un" ("el agua")
};

/// One verb: the past tense, which subjects may use it and which objects it takes.
struct VerbEntry {
    std::string en;                     ///< "drank"
    std::string es;                     ///< "bebió"
    std::vector<std::string> subjects;  ///< English nouns allowed as the subject
    std::vector<std::string>
        objects;  ///< English nouns allowed as the object; empty = intransitive
};

struct AdjectiveEntry {
    std::string en;    ///< "black"
    std::string es_m;  ///< "negro"
    std::string es_f;  ///< "negra"
};

/// The whole grammar's lexicon (fixed, the same in every run).
struct Lexicon {
    std::vector<NounEntry> nouns;
    std::vector<VerbEntry> verbs;
    std::vector<AdjectiveEntry> adjectives;

    const NounEntry* noun(std::string_view en) const;
    const VerbEntry* verb(std::string_view en) const;
    const AdjectiveEntry* adjective(std::string_view en) const;
    /// Word class of an English word; Special when it is not in the grammar.
    WordClass englishClass(std::string_view word) const;
};

const Lexicon& lexicon();

/// Special tokens, the first ids of every vocabulary we build, in this order.
inline constexpr const char* kPadToken = "[PAD]";
inline constexpr const char* kUnkToken = "[UNK]";
inline constexpr const char* kMaskToken = "[MASK]";
inline constexpr const char* kBosToken = "<bos>";
inline constexpr const char* kEosToken = "<eos>";
inline constexpr int kPadId = 0;
inline constexpr int kUnkId = 1;
inline constexpr int kMaskId = 2;
inline constexpr int kBosId = 3;
inline constexpr int kEosId = 4;

/// The five special tokens, then every English word of the grammar (sorted).
std::vector<std::string> englishVocabulary();
/// The five special tokens, then every Spanish word of the grammar (sorted).
std::vector<std::string> spanishVocabulary();

using Words = std::vector<std::string>;

class VocabTokenizer;
/// The ids of words under a corpus vocabulary; a word it lacks is kUnkId.
std::vector<int> corpusIds(const VocabTokenizer& vocab, const Words& words);

/// An English sentence with its Spanish translation.
struct TranslationPair {
    Words source;  ///< English words
    Words target;  ///< Spanish words
    /// For each target word: index of the source word it translates, or -1 (the personal "a").
    std::vector<int> alignment;
    /// For each target word: true for content words (noun, verb, adjective, "es").
    std::vector<bool> content;
};

/// Which part of the sentence space.
enum class Split { Train, HeldOut };

/// True when the sentence belongs to the held-out split: a hash of its words with any final
/// "." removed (so "the cat ran" and "the cat ran ." fall on the same side). About 10% of the
/// sentence space.
bool isHeldOut(const Words& english);

/// Spanish translation of a grammatical English sentence, with alignment. The sentence must be
/// grammatical (asserts otherwise).
TranslationPair translateToSpanish(const Words& english);

/// True when the words form a sentence of the grammar (docs/GRAMMAR.md).
bool isGrammatical(const Words& english);

/// Joins words with single spaces.
std::string joinWords(const Words& words);

/// Draws sentences of the grammar from a seeded stream, keeping only those of one split.
/// Reproducible: the same seed gives the same sequence on every machine (own PRNG, no
/// std:: distributions).
class SentenceSampler {
public:
    explicit SentenceSampler(std::uint64_t seed, Split split = Split::Train);
    Words next();
    std::uint64_t nextRandom();  ///< the underlying stream (for masking, shuffles)
    double uniform();            ///< in [0, 1)
    int below(int n);            ///< in [0, n)

private:
    Words draw();
    std::uint64_t m_state;
    Split m_split;
};

/// count distinct held-out sentences (the same list for the same seed and count).
std::vector<Words> heldOutEnglish(int count, std::uint64_t seed = 2024);
/// The translation pairs of heldOutEnglish(count, seed).
std::vector<TranslationPair> heldOutTranslations(int count, std::uint64_t seed = 2024);

}  // namespace attn
