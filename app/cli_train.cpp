// train, translate, fill and evaluate: the terminal side of our own teaching models.

#include "cli_train.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attn/evaluate.h"
#include "attn/formats/teaching_model.h"
#include "attn/open_model.h"
#include "attn/train.h"
#include "cli_common.h"

namespace attn::cli {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kExampleSentence = "the black cat drank the milk";

bool wantsHelp(int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") return true;
    }
    return false;
}

// Exit status as in trace and export: 2 = what was typed cannot be used (an unknown option, a
// bad value, a model that cannot be opened, text the model cannot take); 1 = the work failed.
int refuse(const std::string& command, const std::string& message) {
    std::cerr << "attention-lab " << command << ": " << message << "\n";
    return 2;
}

int fail(const std::string& command, const std::string& message) {
    std::cerr << "attention-lab " << command << ": " << message << "\n";
    return 1;
}

template <class T>
Result<T> number(const Args& a, const std::string& key, T def) {
    if (!a.has(key)) return def;
    const std::string s = a.get(key);
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return makeError("--" + key + " takes a number, not '" + s + "'.");
    return v;
}

Result<float> realNumber(const Args& a, const std::string& key, float def) {
    if (!a.has(key)) return def;
    const std::string s = a.get(key);
    try {
        std::size_t used = 0;
        const float v = std::stof(s, &used);
        if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
        return v;
    } catch (const std::exception&) {
        return makeError("--" + key + " takes a number, not '" + s + "'.");
    }
}

json tokensJson(const std::vector<Token>& tokens) {
    json arr = json::array();
    for (const Token& t : tokens)
        arr.push_back({{"text", t.text},
                       {"id", t.id},
                       {"unknown", t.unknown},
                       {"begin", t.begin},
                       {"end", t.end}});
    return arr;
}

json matrixJson(const Mat& m) {
    json rows = json::array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        json row = json::array();
        for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(m(i, j));
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string percent(double x) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << 100.0 * x << "%";
    return s.str();
}

std::string unknownNote(const std::vector<Token>& tokens) {
    std::string words;
    for (const Token& t : tokens)
        if (t.unknown) words += (words.empty() ? "'" : ", '") + t.text + "'";
    if (words.empty()) return {};
    const bool one = words.find(',') == std::string::npos;
    return "note: the model never saw " + words +
           (one ? "; it reads it as [UNK]." : "; it reads them as [UNK].");
}

// --- evaluate --------------------------------------------------------------------------------

json headPreferencesJson(const std::string& text, const std::string& query,
                         const std::vector<HeadPreference>& prefs) {
    json heads = json::array();
    for (const auto& p : prefs)
        heads.push_back({{"layer", p.layer},
                         {"head", p.head},
                         {"to_drank", p.weight_a},
                         {"to_black", p.weight_b},
                         {"prefers_drank", p.prefers_a()}});
    return {{"text", text}, {"query", query}, {"heads", heads}};
}

void printHeadPreferences(const std::string& text, const std::string& query,
                          const std::vector<HeadPreference>& prefs, const std::string& stack) {
    std::cout << "\nOn \"" << text << "\" (" << stack << " self-attention), weight from \"" << query
              << "\" to \"drank\" and to \"black\":\n";
    int count = 0;
    for (const auto& p : prefs) {
        std::cout << "  layer " << p.layer + 1 << " head " << p.head + 1 << ":  drank "
                  << std::fixed << std::setprecision(3) << p.weight_a << "   black " << p.weight_b
                  << (p.prefers_a() ? "   ← more on drank" : "") << "\n";
        count += p.prefers_a();
    }
    std::cout << "  " << count << " of " << prefs.size() << " heads put more weight from \""
              << query << "\" on \"drank\" than on \"black\".\n";
}

constexpr const char* kMaskedSentence = "the black cat drank the [MASK]";

int evaluateEnglish(const std::shared_ptr<const Model>& model, int count, std::uint64_t seed,
                    bool asJson) {
    const MaskedWordEvaluation ev = evaluateMaskedWords(*model, count, seed);
    auto prefs = compareHeadAttention(model, kExampleSentence, "milk", "drank", "black");
    auto masked = compareHeadAttention(model, kMaskedSentence, "[MASK]", "drank", "black");
    if (asJson) {
        json j = {{"model", model->config.name},
                  {"held_out_sentences", ev.sentences},
                  {"predictions", ev.predictions},
                  {"accuracy", ev.accuracy},
                  {"grammatical", ev.grammatical},
                  {"determined_positions", ev.determined},
                  {"determined_accuracy", ev.determined_accuracy},
                  {"mean_grammatical_probability", ev.mean_grammatical_probability}};
        for (const auto& [name, s] : ev.by_class)
            j["by_class"][name] = {{"predictions", s.predictions},
                                   {"accuracy", s.accuracy},
                                   {"grammatical", s.grammatical}};
        j["heads_drank_vs_black"] = json::array();
        if (prefs)
            j["heads_drank_vs_black"].push_back(
                headPreferencesJson(kExampleSentence, "milk", prefs.value()));
        if (masked)
            j["heads_drank_vs_black"].push_back(
                headPreferencesJson(kMaskedSentence, "[MASK]", masked.value()));
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << model->config.name << " — masked-word prediction on " << ev.sentences
              << " held-out sentences (never seen in training), each word masked in turn ("
              << ev.predictions << " predictions):\n"
              << "  top word is the original word:        " << percent(ev.accuracy) << "\n"
              << "  top word makes a grammatical sentence: " << percent(ev.grammatical) << "\n"
              << "  where only one word fits (" << ev.determined
              << " positions): " << percent(ev.determined_accuracy) << " right\n"
              << "  mean probability on words that fit:    "
              << percent(ev.mean_grammatical_probability) << "\n"
              << "  by word class (original / grammatical):\n";
    for (const auto& [name, s] : ev.by_class)
        std::cout << "    " << std::left << std::setw(12) << name << std::right << std::setw(6)
                  << s.predictions << "  " << percent(s.accuracy) << " / " << percent(s.grammatical)
                  << "\n";
    if (prefs) printHeadPreferences(kExampleSentence, "milk", prefs.value(), "encoder");
    if (masked) printHeadPreferences(kMaskedSentence, "[MASK]", masked.value(), "encoder");
    return 0;
}

int evaluateTranslationModel(const std::shared_ptr<const Model>& model, int count,
                             std::uint64_t seed, bool asJson) {
    const TranslationEvaluation ev = evaluateTranslation(*model, count, seed);
    auto prefs = compareHeadAttention(model, kExampleSentence, "milk", "drank", "black");
    if (asJson) {
        json j = {{"model", model->config.name},
                  {"held_out_sentences", ev.sentences},
                  {"exact_sentence_accuracy", ev.exact},
                  {"next_word_accuracy", ev.word_accuracy},
                  {"content_words", ev.content_words},
                  {"alignment_mean_of_heads", ev.alignment_mean},
                  {"alignment_per_head", ev.alignment_per_head},
                  {"alignment_best_head", ev.alignment_best_head},
                  {"best_head", ev.best_head},
                  {"alignment_mean_of_heads_at_word_row", ev.alignment_mean_at_word},
                  {"failures", ev.failures}};
        if (prefs)
            j["encoder_heads_drank_vs_black"] =
                headPreferencesJson(kExampleSentence, "milk", prefs.value());
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    const int last = model->config.n_decoder_layers;
    std::cout << model->config.name << " — " << ev.sentences
              << " held-out sentences (never seen in training):\n"
              << "  exact sentence (greedy decoding):  " << percent(ev.exact) << "\n"
              << "  next word (reference prefix):      " << percent(ev.word_accuracy) << "\n"
              << "  cross-attention alignment over " << ev.content_words
              << " content words (decoder layer " << last
              << "; the row of the query that produces the word):\n"
              << "    mean of the heads:  " << percent(ev.alignment_mean) << "\n";
    for (std::size_t h = 0; h < ev.alignment_per_head.size(); ++h)
        std::cout << "    head " << h + 1 << ":             " << percent(ev.alignment_per_head[h])
                  << (static_cast<int>(h) == ev.best_head ? "   (best)" : "") << "\n";
    std::cout << "    mean of the heads, at the row that reads the word instead: "
              << percent(ev.alignment_mean_at_word) << "\n";
    if (!ev.failures.empty()) {
        std::cout << "  some wrong translations (got, wanted):\n";
        for (const auto& f : ev.failures) std::cout << "    " << f << "\n";
    }
    if (prefs) printHeadPreferences(kExampleSentence, "milk", prefs.value(), "encoder");
    return 0;
}

}  // namespace

int runTrainCommand(int argc, char** argv) {
    if (wantsHelp(argc, argv)) {
        std::cout << "attention-lab train --corpus english|translation --out FILE [--seed S] "
                     "[--steps N] [--batch N] [--lr X] [--quiet]\n"
                     "Trains a teaching model on our generated corpus (docs/GRAMMAR.md), saves it "
                     "as safetensors\n(docs/MODEL_FORMAT.md) and prints its held-out figures.\n";
        return 0;
    }
    auto args =
        parseArgs(argc, argv, 2, {"corpus", "out", "seed", "steps", "batch", "lr"}, {"quiet"});
    if (!args) return refuse("train", args.message());
    const Args& a = args.value();
    TrainOptions opt;
    if (!a.has("corpus") || !parseCorpusKind(a.get("corpus"), &opt.corpus))
        return refuse("train", "say which corpus: --corpus english or --corpus translation.");
    if (!a.has("out")) return refuse("train", "say where to save the model: --out FILE.");
    auto seed = number<std::uint64_t>(a, "seed", opt.seed);
    auto steps = number<int>(a, "steps", defaultSteps(opt.corpus));
    auto batch = number<int>(a, "batch", opt.batch_size);
    auto lr = realNumber(a, "lr", defaultLearningRate(opt.corpus));
    if (!seed) return refuse("train", seed.message());
    if (!steps) return refuse("train", steps.message());
    if (!batch) return refuse("train", batch.message());
    if (!lr) return refuse("train", lr.message());
    if (steps.value() <= 0) return refuse("train", "--steps must be at least 1.");
    if (batch.value() <= 0) return refuse("train", "--batch must be at least 1.");
    if (!(lr.value() > 0.0f)) return refuse("train", "--lr must be positive.");
    opt.seed = seed.value();
    opt.steps = steps.value();
    opt.batch_size = batch.value();
    opt.learning_rate = lr.value();
    const bool quiet = a.flag("quiet");

    auto trainer = Trainer::create(opt);
    if (!trainer) return fail("train", trainer.message());
    Trainer& t = *trainer.value();
    const ModelConfig& c = t.model().config;
    std::cout << "Training " << c.name << " (" << toString(c.architecture) << ", d_model "
              << c.d_model << ", " << c.n_heads << " heads, " << c.n_layers << " layer(s)";
    if (c.architecture == Architecture::EncoderDecoder)
        std::cout << " + " << c.n_decoder_layers << " decoder layer(s)";
    std::cout << ") for " << opt.steps << " steps of " << opt.batch_size << " sentences, seed "
              << opt.seed << ".\n";
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    double recent = 0.0;
    int recentCount = 0;
    const int every = std::max(1, opt.steps / 20);
    while (t.stepsDone() < t.totalSteps()) {
        const float lrNow = t.learningRate();
        const float loss = t.step();
        if (!std::isfinite(loss))
            return fail("train",
                        "the loss became " + std::to_string(loss) + "; try a smaller --lr.");
        recent += loss;
        ++recentCount;
        if (!quiet && (t.stepsDone() % every == 0 || t.stepsDone() == t.totalSteps())) {
            std::cout << "  step " << std::setw(5) << t.stepsDone() << "/" << t.totalSteps()
                      << "  loss " << std::fixed << std::setprecision(4) << recent / recentCount
                      << "  lr " << std::setprecision(5) << lrNow << "  grad norm "
                      << std::setprecision(3) << t.lastGradNorm() << "  " << std::setprecision(1)
                      << seconds() << " s\n";
            recent = 0.0;
            recentCount = 0;
        }
    }
    const double trainSeconds = seconds();
    std::shared_ptr<Model> model = t.snapshot();
    const json info = {
        {"corpus", toString(opt.corpus)},
        {"seed", opt.seed},
        {"steps", opt.steps},
        {"batch_size", opt.batch_size},
        {"learning_rate", std::round(static_cast<double>(opt.learning_rate) * 1e7) / 1e7},
        {"seconds", std::round(trainSeconds * 10.0) / 10.0},
        {"command", "attention-lab train --corpus " + toString(opt.corpus) + " --seed " +
                        std::to_string(opt.seed) + " --steps " + std::to_string(opt.steps)}};
    if (Status s = saveTeachingModel(*model, a.get("out"), {{"training", info.dump()}}); !s)
        return fail("train", s.message());
    std::cout << "Trained in " << std::fixed << std::setprecision(1) << trainSeconds << " s; saved "
              << a.get("out") << ".\n\n";
    if (opt.corpus == CorpusKind::English) return evaluateEnglish(model, 500, 2024, false);
    return evaluateTranslationModel(model, 500, 2024, false);
}

int runTranslateCommand(int argc, char** argv) {
    if (wantsHelp(argc, argv)) {
        std::cout << "attention-lab translate --text \"the ball is blue\" [--model "
                     "builtin:translation|PATH] [--json]\n"
                     "Translates English into Spanish with the trained encoder–decoder (greedy "
                     "decoding).\nWith --json: the tokens and the cross-attention of every head.\n";
        return 0;
    }
    auto args = parseArgs(argc, argv, 2, {"text", "model", "max-words"}, {"json"});
    if (!args) return refuse("translate", args.message());
    const Args& a = args.value();
    std::string text = a.get("text");
    if (!a.has("text")) {
        for (const std::string& p : a.positional) text += (text.empty() ? "" : " ") + p;
    }
    if (text.empty()) return refuse("translate", "give a sentence: --text \"the ball is blue\".");
    auto model = openModel(a.get("model", "builtin:translation"));
    if (!model) return refuse("translate", model.message());
    auto maxWords = number<int>(a, "max-words", 0);
    if (!maxWords) return refuse("translate", maxWords.message());
    auto tr = translate(*model.value(), text, maxWords.value());
    if (!tr) return refuse("translate", tr.message());
    const Translation& t = tr.value();
    if (!a.flag("json")) {
        std::cout << t.text << "\n";
        if (const std::string note = unknownNote(t.source_tokens); !note.empty())
            std::cerr << note << "\n";
        if (!t.finished) std::cerr << "note: stopped at the length limit without an end token.\n";
        return 0;
    }
    json layers = json::array();
    for (std::size_t l = 0; l < t.cross_attention.size(); ++l) {
        json heads = json::array();
        for (std::size_t h = 0; h < t.cross_attention[l].size(); ++h)
            heads.push_back({{"head", h}, {"weights", matrixJson(t.cross_attention[l][h])}});
        layers.push_back({{"layer", l}, {"heads", heads}});
    }
    const json j = {{"source", text},
                    {"source_tokens", tokensJson(t.source_tokens)},
                    {"translation", t.text},
                    {"words", t.words},
                    {"finished", t.finished},
                    {"decoder_inputs", t.decoder_inputs},
                    {"outputs", t.outputs},
                    {"cross_attention_rows",
                     "row t = decoder query at decoder_inputs[t], which "
                     "produced outputs[t]; columns = source_tokens"},
                    {"cross_attention", layers}};
    std::cout << j.dump(2) << "\n";
    return 0;
}

int runFillCommand(int argc, char** argv) {
    if (wantsHelp(argc, argv)) {
        std::cout << "attention-lab fill --text \"the black cat drank the [MASK]\" [--model "
                     "builtin:english|PATH] [--top N] [--json]\n"
                     "Lists the most probable words for each [MASK] with their probabilities.\n";
        return 0;
    }
    auto args = parseArgs(argc, argv, 2, {"text", "model", "top"}, {"json"});
    if (!args) return refuse("fill", args.message());
    const Args& a = args.value();
    std::string text = a.get("text");
    if (!a.has("text")) {
        for (const std::string& p : a.positional) text += (text.empty() ? "" : " ") + p;
    }
    if (text.empty())
        return refuse("fill", "give a sentence: --text \"the black cat drank the [MASK]\".");
    auto top = number<int>(a, "top", 5);
    if (!top) return refuse("fill", top.message());
    if (top.value() <= 0) return refuse("fill", "--top must be at least 1.");
    auto model = openModel(a.get("model", "builtin:english"));
    if (!model) return refuse("fill", model.message());
    auto r = fillMask(*model.value(), text, top.value());
    if (!r) return refuse("fill", r.message());
    if (a.flag("json")) {
        json preds = json::array();
        for (const auto& p : r->predictions) {
            json c = json::array();
            for (const auto& k : p.candidates)
                c.push_back({{"word", k.word}, {"probability", k.probability}});
            preds.push_back({{"position", p.position}, {"candidates", c}});
        }
        std::cout << json{{"text", text}, {"tokens", tokensJson(r->tokens)}, {"predictions", preds}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    const bool several = r->predictions.size() > 1;
    for (const auto& p : r->predictions) {
        if (several) std::cout << "[MASK] at token " << p.position + 1 << ":\n";
        for (const auto& k : p.candidates)
            std::cout << (several ? "  " : "") << std::left << std::setw(10) << k.word << std::right
                      << std::fixed << std::setprecision(3) << k.probability << "\n";
    }
    if (const std::string note = unknownNote(r->tokens); !note.empty()) std::cerr << note << "\n";
    return 0;
}

int runEvaluateCommand(int argc, char** argv) {
    if (wantsHelp(argc, argv)) {
        std::cout << "attention-lab evaluate --model builtin:english|builtin:translation|PATH "
                     "[--count N] [--seed S] [--json]\n"
                     "Measures a trained model on held-out sentences it never saw in training.\n";
        return 0;
    }
    auto args = parseArgs(argc, argv, 2, {"model", "count", "seed"}, {"json"});
    if (!args) return refuse("evaluate", args.message());
    const Args& a = args.value();
    if (!a.has("model"))
        return refuse("evaluate",
                      "say which model: --model builtin:english or builtin:translation.");
    auto count = number<int>(a, "count", 500);
    auto seed = number<std::uint64_t>(a, "seed", 2024);
    if (!count) return refuse("evaluate", count.message());
    if (!seed) return refuse("evaluate", seed.message());
    if (count.value() <= 0) return refuse("evaluate", "--count must be at least 1.");
    auto model = openModel(a.get("model"));
    if (!model) return refuse("evaluate", model.message());
    std::shared_ptr<const Model> m = model.value();
    if (m->config.architecture == Architecture::EncoderDecoder)
        return evaluateTranslationModel(m, count.value(), seed.value(), a.flag("json"));
    return evaluateEnglish(m, count.value(), seed.value(), a.flag("json"));
}

}  // namespace attn::cli
