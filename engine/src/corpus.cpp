// The grammar of our corpora (docs/GRAMMAR.md is the description a person reads; this file is
// the definition). Sentence forms:
//   transitive    NP(subject) VERB NP(object)      "the black cat drank the milk"
//   intransitive  NP(subject) VERB                 "a dog ran"
//   copula        the [ADJ] NOUN is ADJ            "the ball is blue"
//   phrase        NP                               "the blue ball"
// with NP = DET [ADJ] NOUN, DET = the | a | an, and an optional final ".".

#include "attn/corpus.h"

#include <algorithm>
#include <cassert>
#include <set>
#include <unordered_set>

#include "attn/tokenizer.h"

namespace attn {

std::string toString(WordClass c) {
    switch (c) {
        case WordClass::Special:
            return "special";
        case WordClass::Determiner:
            return "determiner";
        case WordClass::Noun:
            return "noun";
        case WordClass::Verb:
            return "verb";
        case WordClass::Adjective:
            return "adjective";
        case WordClass::Copula:
            return "copula";
        case WordClass::Preposition:
            return "preposition";
        case WordClass::Punctuation:
            return "punctuation";
    }
    return "?";
}

namespace {

Lexicon buildLexicon() {
    Lexicon lx;
    // en, es, feminine, animate, stressed_a
    lx.nouns = {
        // animals and people: the subjects, and objects that take the personal "a"
        {"cat", "gato", false, true, false},
        {"dog", "perro", false, true, false},
        {"bird", "pájaro", false, true, false},
        {"horse", "caballo", false, true, false},
        {"mouse", "ratón", false, true, false},
        {"cow", "vaca", true, true, false},
        {"boy", "niño", false, true, false},
        {"girl", "niña", true, true, false},
        {"man", "hombre", false, true, false},
        {"woman", "mujer", true, true, false},
        // drinks
        {"milk", "leche", true, false, false},
        {"water", "agua", true, false, true},
        {"tea", "té", false, false, false},
        {"juice", "jugo", false, false, false},
        {"coffee", "café", false, false, false},
        // food
        {"fish", "pescado", false, false, false},
        {"bread", "pan", false, false, false},
        {"apple", "manzana", true, false, false},
        {"cake", "pastel", false, false, false},
        {"cheese", "queso", false, false, false},
        {"soup", "sopa", true, false, false},
        {"grass", "hierba", true, false, false},
        {"egg", "huevo", false, false, false},
        // things
        {"ball", "bola", true, false, false},
        {"book", "libro", false, false, false},
        {"letter", "carta", true, false, false},
        {"box", "caja", true, false, false},
        {"car", "coche", false, false, false},
        {"hat", "sombrero", false, false, false},
        {"cup", "taza", true, false, false},
        {"door", "puerta", true, false, false},
        {"key", "llave", true, false, false},
        {"chair", "silla", true, false, false},
    };
    const std::vector<std::string> animals = {"cat", "dog", "bird", "horse", "mouse", "cow"};
    const std::vector<std::string> people = {"boy", "girl", "man", "woman"};
    std::vector<std::string> everyone = animals;
    everyone.insert(everyone.end(), people.begin(), people.end());
    auto plus = [](std::vector<std::string> a, const std::vector<std::string>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    lx.verbs = {
        {"drank", "bebió", everyone, {"milk", "water", "tea", "juice", "coffee"}},
        {"ate",
         "comió",
         everyone,
         {"fish", "bread", "apple", "cake", "cheese", "soup", "grass", "egg"}},
        {"chased",
         "persiguió",
         {"cat", "dog", "horse", "boy", "girl"},
         {"ball", "mouse", "bird", "cat", "dog", "car"}},
        {"saw", "vio", everyone, plus(everyone, {"car", "ball", "door"})},
        {"found",
         "encontró",
         everyone,
         {"ball", "book", "key", "hat", "box", "cup", "letter", "egg"}},
        {"carried",
         "llevó",
         plus(people, {"horse", "dog"}),
         {"box", "ball", "book", "cup", "chair", "hat", "letter", "key"}},
        {"read", "leyó", people, {"book", "letter"}},
        {"wrote", "escribió", people, {"letter", "book"}},
        {"opened", "abrió", people, {"door", "box", "book", "letter"}},
        {"bought",
         "compró",
         people,
         {"bread", "cake", "cheese", "book", "car", "hat", "milk", "coffee", "ball", "cup"}},
        {"slept", "durmió", everyone, {}},
        {"ran", "corrió", everyone, {}},
        {"jumped", "saltó", everyone, {}},
    };
    lx.adjectives = {
        {"black", "negro", "negra"},     {"white", "blanco", "blanca"},
        {"red", "rojo", "roja"},         {"blue", "azul", "azul"},
        {"green", "verde", "verde"},     {"yellow", "amarillo", "amarilla"},
        {"brown", "marrón", "marrón"},   {"big", "grande", "grande"},
        {"small", "pequeño", "pequeña"}, {"old", "viejo", "vieja"},
        {"new", "nuevo", "nueva"},
    };
    return lx;
}

template <class E>
const E* findEn(const std::vector<E>& v, std::string_view en) {
    for (const E& e : v)
        if (e.en == en) return &e;
    return nullptr;
}

bool contains(const std::vector<std::string>& v, std::string_view w) {
    return std::find(v.begin(), v.end(), w) != v.end();
}

bool startsWithVowel(std::string_view w) {
    return !w.empty() && std::string_view("aeiou").find(w[0]) != std::string_view::npos;
}

// splitmix64 step: small, well mixed, identical on every platform.
std::uint64_t splitmix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Words withoutPeriod(const Words& w) {
    if (!w.empty() && w.back() == ".") return Words(w.begin(), w.end() - 1);
    return w;
}

// A parsed noun phrase DET [ADJ] NOUN.
struct NounPhrase {
    int det = -1, adj = -1, noun = -1;  // word indices; adj -1 when absent
    const NounEntry* entry = nullptr;
    const AdjectiveEntry* adjective = nullptr;
};

// Parses DET [ADJ] NOUN at words[i...]; false when it is not one.
bool parseNounPhrase(const Words& w, std::size_t i, NounPhrase* np, std::size_t* next) {
    const Lexicon& lx = lexicon();
    if (i >= w.size()) return false;
    const std::string& det = w[i];
    if (det != "the" && det != "a" && det != "an") return false;
    np->det = static_cast<int>(i);
    std::size_t j = i + 1;
    if (j < w.size() && lx.adjective(w[j])) {
        np->adj = static_cast<int>(j);
        np->adjective = lx.adjective(w[j]);
        ++j;
    }
    if (j >= w.size() || !lx.noun(w[j])) return false;
    np->noun = static_cast<int>(j);
    np->entry = lx.noun(w[j]);
    // "a" before a consonant sound, "an" before a vowel.
    if (det != "the" && (det == "an") != startsWithVowel(w[i + 1])) return false;
    *next = j + 1;
    return true;
}

enum class Form { Transitive, Intransitive, Copula, Phrase };

struct Parse {
    Form form = Form::Transitive;
    NounPhrase subject, object;
    const VerbEntry* verb = nullptr;
    int verb_index = -1;
    const AdjectiveEntry* predicate = nullptr;
    int predicate_index = -1;
};

bool parseSentence(const Words& words, Parse* p) {
    const Lexicon& lx = lexicon();
    const Words w = withoutPeriod(words);
    std::size_t i = 0;
    if (!parseNounPhrase(w, 0, &p->subject, &i)) return false;
    if (i >= w.size()) {
        p->form = Form::Phrase;
        return true;
    }
    p->verb_index = static_cast<int>(i);
    if (w[i] == "is") {
        p->form = Form::Copula;
        if (i + 2 != w.size() || w[p->subject.det] != "the") return false;
        p->predicate = lx.adjective(w[i + 1]);
        p->predicate_index = static_cast<int>(i + 1);
        return p->predicate && p->predicate != p->subject.adjective;
    }
    p->verb = lx.verb(w[i]);
    if (!p->verb || !contains(p->verb->subjects, p->subject.entry->en)) return false;
    if (p->verb->objects.empty()) {
        p->form = Form::Intransitive;
        return i + 1 == w.size();
    }
    p->form = Form::Transitive;
    std::size_t end = 0;
    if (!parseNounPhrase(w, i + 1, &p->object, &end) || end != w.size()) return false;
    return contains(p->verb->objects, p->object.entry->en);
}

std::string spanishArticle(const std::string& det, const NounEntry& n) {
    const bool fem = n.feminine && !n.stressed_a;
    if (det == "the") return fem ? "la" : "el";
    return fem ? "una" : "un";
}

}  // namespace

const NounEntry* Lexicon::noun(std::string_view en) const { return findEn(nouns, en); }
const VerbEntry* Lexicon::verb(std::string_view en) const { return findEn(verbs, en); }
const AdjectiveEntry* Lexicon::adjective(std::string_view en) const {
    return findEn(adjectives, en);
}

WordClass Lexicon::englishClass(std::string_view w) const {
    if (w == "the" || w == "a" || w == "an") return WordClass::Determiner;
    if (w == "is") return WordClass::Copula;
    if (w == ".") return WordClass::Punctuation;
    if (noun(w)) return WordClass::Noun;
    if (verb(w)) return WordClass::Verb;
    if (adjective(w)) return WordClass::Adjective;
    return WordClass::Special;
}

const Lexicon& lexicon() {
    static const Lexicon lx = buildLexicon();
    return lx;
}

namespace {
std::vector<std::string> withSpecials(const std::set<std::string>& words) {
    std::vector<std::string> v = {kPadToken, kUnkToken, kMaskToken, kBosToken, kEosToken};
    v.insert(v.end(), words.begin(), words.end());
    return v;
}
}  // namespace

std::vector<std::string> englishVocabulary() {
    const Lexicon& lx = lexicon();
    std::set<std::string> words = {"the", "a", "an", "is", "."};
    for (const auto& n : lx.nouns) words.insert(n.en);
    for (const auto& v : lx.verbs) words.insert(v.en);
    for (const auto& a : lx.adjectives) words.insert(a.en);
    return withSpecials(words);
}

std::vector<std::string> spanishVocabulary() {
    const Lexicon& lx = lexicon();
    std::set<std::string> words = {"el", "la", "un", "una", "a", "al", "es", "."};
    for (const auto& n : lx.nouns) words.insert(n.es);
    for (const auto& v : lx.verbs) words.insert(v.es);
    for (const auto& a : lx.adjectives) {
        words.insert(a.es_m);
        words.insert(a.es_f);
    }
    return withSpecials(words);
}

std::string joinWords(const Words& words) {
    std::string s;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i) s += ' ';
        s += words[i];
    }
    return s;
}

bool isHeldOut(const Words& english) {
    // FNV-1a over the words without the final ".", then one splitmix round to spread the bits.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const std::string& word : withoutPeriod(english)) {
        for (unsigned char ch : word) h = (h ^ ch) * 0x100000001b3ULL;
        h = (h ^ 0x20) * 0x100000001b3ULL;  // word separator
    }
    std::uint64_t s = h;
    return splitmix(s) % 100 < 10;
}

bool isGrammatical(const Words& english) {
    Parse p;
    return parseSentence(english, &p);
}

TranslationPair translateToSpanish(const Words& english) {
    Parse p;
    [[maybe_unused]] const bool ok = parseSentence(english, &p);
    assert(ok && "translateToSpanish needs a grammatical sentence");
    TranslationPair out;
    out.source = english;
    auto add = [&](std::string word, int src, bool content) {
        out.target.push_back(std::move(word));
        out.alignment.push_back(src);
        out.content.push_back(content);
    };
    auto nounPhrase = [&](const NounPhrase& np, const std::string& det, bool personalA) {
        const NounEntry& n = *np.entry;
        std::string article = spanishArticle(det, n);
        if (personalA) {
            if (article == "el") {
                add("al", np.det, false);  // a + el
            } else {
                add("a", -1, false);
                add(article, np.det, false);
            }
        } else {
            add(article, np.det, false);
        }
        add(n.es, np.noun, true);
        if (np.adjective) add(n.feminine ? np.adjective->es_f : np.adjective->es_m, np.adj, true);
    };
    nounPhrase(p.subject, english[p.subject.det], false);
    switch (p.form) {
        case Form::Copula: {
            add("es", p.verb_index, true);
            const bool fem = p.subject.entry->feminine;
            add(fem ? p.predicate->es_f : p.predicate->es_m, p.predicate_index, true);
            break;
        }
        case Form::Intransitive:
            add(p.verb->es, p.verb_index, true);
            break;
        case Form::Phrase:
            break;
        case Form::Transitive:
            add(p.verb->es, p.verb_index, true);
            nounPhrase(p.object, english[p.object.det], p.object.entry->animate);
            break;
    }
    if (!english.empty() && english.back() == ".")
        add(".", static_cast<int>(english.size()) - 1, false);
    return out;
}

SentenceSampler::SentenceSampler(std::uint64_t seed, Split split)
    : m_state(seed * 0x2545f4914f6cdd1dULL + 0x1234567ULL), m_split(split) {}

std::uint64_t SentenceSampler::nextRandom() { return splitmix(m_state); }
double SentenceSampler::uniform() {
    return static_cast<double>(nextRandom() >> 11) * (1.0 / 9007199254740992.0);
}
int SentenceSampler::below(int n) {
    assert(n > 0);
    return static_cast<int>(nextRandom() % static_cast<std::uint64_t>(n));
}

Words SentenceSampler::next() {
    for (;;) {
        Words w = draw();
        if (isHeldOut(w) == (m_split == Split::HeldOut)) return w;
    }
}

Words SentenceSampler::draw() {
    const Lexicon& lx = lexicon();
    Words w;
    auto pick = [&](const std::vector<std::string>& v) -> const std::string& {
        return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))];
    };
    auto nounPhrase = [&](const std::string& noun, bool allowIndefinite, double pAdj,
                          const AdjectiveEntry* avoid) -> const AdjectiveEntry* {
        const std::size_t detAt = w.size();
        w.push_back(allowIndefinite && uniform() < 0.35 ? "a" : "the");
        const AdjectiveEntry* adj = nullptr;
        if (uniform() < pAdj) {
            do {
                adj = &lx.adjectives[static_cast<std::size_t>(
                    below(static_cast<int>(lx.adjectives.size())))];
            } while (adj == avoid);
            w.push_back(adj->en);
        }
        w.push_back(noun);
        if (w[detAt] == "a" && startsWithVowel(w[detAt + 1])) w[detAt] = "an";
        return adj;
    };

    const double form = uniform();
    if (form < 0.1) {
        // A noun phrase on its own: DET [ADJ] NOUN, any noun.
        const NounEntry& n =
            lx.nouns[static_cast<std::size_t>(below(static_cast<int>(lx.nouns.size())))];
        nounPhrase(n.en, true, 0.5, nullptr);
    } else if (form < 0.3) {
        // Copula: the [ADJ] NOUN is ADJ (two different adjectives).
        const NounEntry& n =
            lx.nouns[static_cast<std::size_t>(below(static_cast<int>(lx.nouns.size())))];
        const AdjectiveEntry* attr = nounPhrase(n.en, false, 0.3, nullptr);
        const AdjectiveEntry* pred = nullptr;
        do {
            pred = &lx.adjectives[static_cast<std::size_t>(
                below(static_cast<int>(lx.adjectives.size())))];
        } while (pred == attr);
        w.push_back("is");
        w.push_back(pred->en);
    } else {
        // The subject chooses the verb, the verb chooses the object.
        const bool transitive = form >= 0.45;
        std::vector<const VerbEntry*> verbs;
        std::vector<std::string> subjects;
        for (const auto& n : lx.nouns)
            if (n.animate) subjects.push_back(n.en);
        const std::string& subject = pick(subjects);
        for (const auto& v : lx.verbs)
            if (v.objects.empty() != transitive && contains(v.subjects, subject))
                verbs.push_back(&v);
        const VerbEntry& verb =
            *verbs[static_cast<std::size_t>(below(static_cast<int>(verbs.size())))];
        nounPhrase(subject, true, 0.4, nullptr);
        w.push_back(verb.en);
        if (transitive) nounPhrase(pick(verb.objects), true, 0.4, nullptr);
    }
    if (uniform() < 0.25) w.push_back(".");
    return w;
}

std::vector<Words> heldOutEnglish(int count, std::uint64_t seed) {
    SentenceSampler sampler(seed, Split::HeldOut);
    std::vector<Words> out;
    std::unordered_set<std::string> seen;
    // The sentence space holds tens of thousands of held-out sentences; give up on duplicates
    // after many tries so a huge count cannot loop forever.
    for (int tries = 0; static_cast<int>(out.size()) < count && tries < count * 50 + 1000;
         ++tries) {
        Words w = sampler.next();
        if (seen.insert(joinWords(withoutPeriod(w))).second) out.push_back(std::move(w));
    }
    return out;
}

std::vector<TranslationPair> heldOutTranslations(int count, std::uint64_t seed) {
    std::vector<TranslationPair> out;
    for (const Words& w : heldOutEnglish(count, seed)) out.push_back(translateToSpanish(w));
    return out;
}

std::vector<int> corpusIds(const VocabTokenizer& vocab, const Words& words) {
    std::vector<int> ids;
    ids.reserve(words.size());
    for (const std::string& w : words) {
        const int id = vocab.idOf(w);
        ids.push_back(id < 0 ? kUnkId : id);
    }
    return ids;
}

}  // namespace attn
