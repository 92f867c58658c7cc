#include "cli_common.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attn/generate.h"
#include "attn/open_model.h"

namespace attn::cli {

bool Args::flag(const std::string& k) const {
    return std::find(flags.begin(), flags.end(), k) != flags.end();
}
std::string Args::get(const std::string& k, const std::string& def) const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
}

Result<Args> parseArgs(int argc, char** argv, int first,
                       const std::vector<std::string>& allowedValues,
                       const std::vector<std::string>& allowedFlags) {
    Args a;
    for (int i = first; i < argc; ++i) {
        std::string s = argv[i];
        if (s.rfind("--", 0) != 0) {
            a.positional.push_back(s);
            continue;
        }
        std::string name = s.substr(2), value;
        bool inlineValue = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inlineValue = true;
        }
        if (std::find(allowedFlags.begin(), allowedFlags.end(), name) != allowedFlags.end()) {
            a.flags.push_back(name);
            continue;
        }
        if (std::find(allowedValues.begin(), allowedValues.end(), name) == allowedValues.end())
            return makeError("Unknown option --" + name + ". See --help.");
        if (!inlineValue) {
            if (i + 1 >= argc) return makeError("Option --" + name + " needs a value.");
            value = argv[++i];
        }
        a.values[name] = value;
    }
    return a;
}

Result<std::vector<std::string>> splitWords(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    bool inWord = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            else if (c == '\\' && quote == '"' && i + 1 < text.size())
                word += text[++i];
            else
                word += c;
        } else if (c == '"' || c == '\'') {
            quote = c;
            inWord = true;
        } else if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
            inWord = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (inWord) words.push_back(std::move(word));
            word.clear();
            inWord = false;
        } else {
            word += c;
            inWord = true;
        }
    }
    if (quote) return makeError(std::string("Unclosed ") + quote + " in \"" + text + "\".");
    if (inWord) words.push_back(std::move(word));
    return words;
}

Result<Args> parseWords(const std::vector<std::string>& words,
                        const std::vector<std::string>& allowedValues,
                        const std::vector<std::string>& allowedFlags) {
    std::vector<std::string> storage = words;  // parseArgs takes char**
    std::vector<char*> argv;
    argv.reserve(storage.size());
    for (std::string& w : storage) argv.push_back(w.data());
    return parseArgs(static_cast<int>(argv.size()), argv.data(), 0, allowedValues, allowedFlags);
}

Result<Args> argsOnTop(const Args& a, const std::vector<std::string>& words,
                       const std::vector<std::string>& allowedValues,
                       const std::vector<std::string>& allowedFlags) {
    auto b = parseWords(words, allowedValues, allowedFlags);
    if (!b) return b.error();
    if (!b->positional.empty())
        return makeError("Unexpected word '" + b->positional[0] +
                         "' in the options of the second run (quote a text: --text \"...\").");
    Args merged = a;
    static const char* kTextOptions[] = {"text", "ids", "source", "target", "text-file"};
    const bool newText = std::any_of(std::begin(kTextOptions), std::end(kTextOptions),
                                     [&](const char* k) { return b->has(k); });
    if (newText)
        for (const char* k : kTextOptions) merged.values.erase(k);
    for (const auto& [k, v] : b->values) merged.values[k] = v;
    for (const std::string& f : b->flags) {
        if (f == "scale") {
            std::erase(merged.flags, std::string("no-scale"));
            continue;
        }
        merged.flags.push_back(f);
    }
    return merged;
}

const std::vector<std::string>& modelOptionNames() {
    static const std::vector<std::string> names = {
        "layers", "heads",      "kv-heads",    "d-model", "mask",  "pe",
        "score",  "projection", "temperature", "seed",    "model", "decoder-layers"};
    return names;
}

Result<int> intOption(const Args& a, const std::string& k, int def, int lo, int hi) {
    if (!a.has(k)) return def;
    const std::string s = a.get(k);
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return makeError("--" + k + " takes a whole number, not '" + s + "'.");
    if (v < lo || v > hi)
        return makeError("--" + k + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi) + ", not " + s + ".");
    return v;
}

Result<int> oneBasedOption(const Args& a, const std::string& k, const std::string& noun, int def1,
                           int hi1) {
    auto v = intOption(a, k, def1);
    if (!v) return v.error();
    if (*v < 1)
        return makeError("--" + k + " " + std::to_string(*v) + ": " + noun +
                         " count from 1, as in the window (the first is --" + k + " 1).");
    if (*v > hi1)
        return makeError("--" + k + " " + std::to_string(*v) + " is too large (at most " +
                         std::to_string(hi1) + ").");
    return *v - 1;
}

namespace {
Result<int> toInt(const Args& a, const std::string& k, int def) { return intOption(a, k, def); }
}  // namespace

Result<ModelConfig> configFromArgs(const Args& a, ModelConfig c) {
    auto layers = toInt(a, "layers", c.n_layers);
    if (!layers) return layers.error();
    auto heads = toInt(a, "heads", c.n_heads);
    if (!heads) return heads.error();
    auto kv = toInt(a, "kv-heads", c.n_kv_heads);
    if (!kv) return kv.error();
    auto d = toInt(a, "d-model", c.d_model);
    if (!d) return d.error();
    auto dl = toInt(a, "decoder-layers", c.n_decoder_layers);
    if (!dl) return dl.error();
    c.n_layers = *layers;
    c.n_heads = *heads;
    c.n_kv_heads = *kv;
    c.d_model = *d;
    c.n_decoder_layers = *dl;
    if (a.has("seed")) {
        auto s = toInt(a, "seed", 1);
        if (!s || *s < 0) return makeError("--seed takes a whole number ≥ 0.");
        c.seed = static_cast<std::uint64_t>(*s);
    }
    if (a.has("pe") && !parsePositionalKind(a.get("pe"), &c.positional))
        return makeError("--pe takes sinusoidal, learned, rope or none, not '" + a.get("pe") +
                         "'.");
    if (Status s = validate(c); !s) return s.error();
    return c;
}

Result<AttentionKnobs> knobsFromArgs(const Args& a, AttentionKnobs k) {
    if (a.has("mask") && !parseMaskKind(a.get("mask"), &k.mask))
        return makeError("--mask takes none, causal or padding, not '" + a.get("mask") + "'.");
    if (a.has("score") && !parseScoreFunction(a.get("score"), &k.score))
        return makeError("--score takes scaled-dot, dot, cosine, general or additive, not '" +
                         a.get("score") + "'.");
    if (a.has("projection") && !parseProjectionMode(a.get("projection"), &k.projection))
        return makeError("--projection takes embeddings, qk or qkv, not '" + a.get("projection") +
                         "'.");
    if (a.has("temperature")) {
        const std::string s = a.get("temperature");
        char* end = nullptr;
        const float t = std::strtof(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !std::isfinite(t) || t < 0)
            return makeError("--temperature takes a number ≥ 0 (0 = hard look-up), not '" + s +
                             "'.");
        k.temperature = t;
    }
    if (a.flag("no-scale")) k.scale = false;
    return k;
}

Result<RunOptions> runOptionsFromArgs(const Args& a, const Model& model) {
    auto knobs = knobsFromArgs(a, model.trained_attention);
    if (!knobs) return knobs.error();
    RunOptions opt;
    opt.attention = *knobs;
    return opt;
}

Result<std::shared_ptr<const Model>> resolveModel(const Args& a, bool wantSeq2Seq) {
    const std::string spec = a.get("model", "untrained");
    OpenOptions open;
    if (spec == "untrained") {
        ModelConfig base;
        if (wantSeq2Seq) base.architecture = Architecture::EncoderDecoder;
        auto cfg = configFromArgs(a, base);
        if (!cfg) return cfg.error();
        open.untrained = *cfg;
    }
    auto model = openModel(spec, open);
    if (!model) return model.error();
    if (spec != "untrained") {
        // The shape options may repeat a loaded model's shape, never change it.
        const ModelConfig& have = (*model)->config;
        auto cfg = configFromArgs(a, have);
        if (!cfg) return cfg.error();
        if (cfg->n_layers != have.n_layers || cfg->n_heads != have.n_heads ||
            cfg->d_model != have.d_model || cfg->n_kv_heads != have.n_kv_heads ||
            cfg->n_decoder_layers != have.n_decoder_layers)
            return makeError(
                "--layers, --decoder-layers, --heads, --kv-heads and --d-model describe an "
                "untrained model; a loaded model keeps its own shape.");
        if (cfg->positional != have.positional)
            return makeError(
                "--pe describes an untrained model; a loaded model keeps the positions it was "
                "trained with.");
    }
    return model;
}

bool namesModel(const Args& a) {
    for (const char* k :
         {"model", "layers", "heads", "kv-heads", "d-model", "pe", "seed", "decoder-layers"})
        if (a.has(k)) return true;
    return false;
}

Result<TracePtr> traceFromArgs(const Args& a, std::shared_ptr<const Model> given) {
    const bool seq2seq = a.has("source") || a.has("target");
    if (seq2seq && !(a.has("source") && a.has("target")))
        return makeError("Encoder–decoder attention needs both --source and --target.");
    if (seq2seq && a.has("ids"))
        return makeError(
            "--ids gives the tokens of one text; it cannot go with --source/--target.");
    if (!seq2seq && !a.has("text") && !a.has("ids"))
        return makeError("Give the text with --text \"...\" (or token ids with --ids 1,2,3).");
    if (a.has("text") && a.has("ids")) return makeError("Give either --text or --ids, not both.");
    Result<std::shared_ptr<const Model>> model =
        given ? Result<std::shared_ptr<const Model>>(std::move(given)) : resolveModel(a, seq2seq);
    if (!model) return model.error();
    auto opt = runOptionsFromArgs(a, **model);
    if (!opt) return opt.error();
    if (seq2seq) return runSeq2Seq(*model, a.get("source"), a.get("target"), *opt);
    if (a.has("ids")) {
        auto ids = parseIdList(a.get("ids"));
        if (!ids) return ids.error();
        auto tokens = tokensFromIds(**model, *ids);
        if (!tokens) return tokens.error();
        return runTokens(*model, std::move(*tokens), *opt);
    }
    return run(*model, a.get("text"), *opt);
}

Result<std::string> textFromArgs(const Args& a) {
    namespace fs = std::filesystem;
    constexpr std::uintmax_t kMaxTextFileBytes = 64u << 20;
    if (a.has("text") == a.has("text-file"))
        return makeError("Give the text with --text \"...\" or --text-file FILE (one of them).");
    if (a.has("text")) return a.get("text");
    const std::string path = a.get("text-file");
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return makeError(path + ": no such file");
    if (fs::file_size(path, ec) > kMaxTextFileBytes)
        return makeError(path + ": larger than the 64 MB we tokenize at once");
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in && !in.eof()) return makeError(path + ": cannot be read");
    return s.str();
}

Result<std::vector<int>> parseIdList(const std::string& text, const std::string& option) {
    constexpr std::size_t kMaxIds = 1'000'000;
    std::vector<int> ids;
    std::size_t at = 0;
    const auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    while (true) {
        std::size_t end = text.find(',', at);
        if (end == std::string::npos) end = text.size();
        std::size_t b = at, e = end;
        while (b < e && isSpace(text[b])) ++b;
        while (e > b && isSpace(text[e - 1])) --e;
        const std::string item = text.substr(b, e - b);
        int v = 0;
        auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < 0)
            return makeError("--" + option + " takes token ids ≥ 0 separated by commas (1,2,3); '" +
                             item.substr(0, 40) + "' (number " + std::to_string(ids.size() + 1) +
                             ") is not one.");
        if (ids.size() >= kMaxIds) return makeError("--" + option + " takes at most 1000000 ids.");
        ids.push_back(v);
        if (end == text.size()) break;
        at = end + 1;
    }
    return ids;
}

Result<std::vector<Token>> tokensFromArgs(const Args& a, const Model& model) {
    const int given = int(a.has("text")) + int(a.has("text-file")) + int(a.has("ids"));
    if (given != 1)
        return makeError(
            "Give the prompt with one of --text \"...\", --text-file FILE or --ids 1,2,3.");
    if (a.has("ids")) {
        auto ids = parseIdList(a.get("ids"));
        if (!ids) return ids.error();
        return tokensFromIds(model, *ids);
    }
    auto text = textFromArgs(a);
    if (!text) return text.error();
    auto in = tokenizeInput(model, *text);
    if (!in) return in.error();
    return std::move(in->tokens);
}

}  // namespace attn::cli
