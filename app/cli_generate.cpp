#include "cli_generate.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attn/formats/discover.h"
#include "attn/generate.h"
#include "cli_common.h"

namespace attn::cli {

namespace {

using nlohmann::json;

bool wantsHelp(const Args& a) {
    return a.flag("help") || (a.positional.size() == 1 && a.positional[0] == "-h");
}

Result<float> floatOption(const Args& a, const std::string& k, float def, float lo, float hi,
                          bool loOpen, const std::string& what) {
    if (!a.has(k)) return def;
    const std::string s = a.get(k);
    char* end = nullptr;
    const float v = std::strtof(s.c_str(), &end);
    const bool aboveLo = loOpen ? v > lo : v >= lo;
    if (s.empty() || *end != '\0' || !std::isfinite(v) || !aboveLo || v > hi)
        return makeError("--" + k + " takes " + what + ", not '" + s + "'.");
    return v;
}

Result<std::uint64_t> seedOption(const Args& a) {
    if (!a.has("seed")) return std::uint64_t{1};
    const std::string s = a.get("seed");
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        return makeError("--seed takes a whole number ≥ 0, not '" + s + "'.");
    return v;
}

json modelJson(const Model& m) {
    const ModelConfig& c = m.config;
    json j{{"name", c.name},          {"architecture", toString(c.architecture)},
           {"layers", c.n_layers},    {"heads", c.n_heads},
           {"kv_heads", c.kvHeads()}, {"d_model", c.d_model},
           {"d_k", c.headDim()},      {"vocab_size", c.vocab_size},
           {"max_len", c.max_len}};
    if (!m.quantization.empty()) j["quantization"] = m.quantization;
    if (!m.source_path.empty()) j["path"] = m.source_path;
    return j;
}

json rowJson(const RowVec& r) {
    json a = json::array();
    for (Eigen::Index i = 0; i < r.size(); ++i) a.push_back(r(i));
    return a;
}

std::string pieceOf(const Model& m, int id) {
    return m.tokenizer ? m.tokenizer->decode(id) : "#" + std::to_string(id);
}

json generationJson(const Generation& g) {
    const Model& m = *g.model;
    json j;
    j["model"] = modelJson(m);
    json prompt = json::array();
    std::string promptText;
    for (const Token& t : g.prompt) {
        prompt.push_back({{"id", t.id}, {"text", t.text}});
        promptText += t.text;
    }
    j["prompt"] = {{"text", g.prompt_trace ? g.prompt_trace->text : promptText},
                   {"tokens", std::move(prompt)}};
    j["sampling"] = {{"temperature", g.sampling.temperature},
                     {"top_k", g.sampling.top_k},
                     {"top_p", g.sampling.top_p},
                     {"seed", g.sampling.seed}};
    j["text"] = g.text();
    j["stopped_by"] = toString(g.stopped_by);
    j["seconds"] = g.seconds;
    json steps = json::array();
    for (std::size_t i = 0; i < g.steps.size(); ++i) {
        const GenerationStep& st = g.steps[i];
        json top = json::array();
        for (auto [id, p] : st.top)
            top.push_back({{"id", id}, {"piece", pieceOf(m, id)}, {"prob", p}});
        json layers = json::array();
        for (std::size_t l = 0; l < st.attention.size(); ++l) {
            json heads = json::array();
            for (const RowVec& r : st.attention[l]) heads.push_back(rowJson(r));
            layers.push_back({{"layer", l}, {"heads", std::move(heads)}});
        }
        steps.push_back({{"index", i},
                         {"token", st.token},
                         {"piece", st.piece},
                         {"position", st.position},
                         {"prob", st.prob},
                         {"sample_prob", st.sample_prob},
                         {"top", std::move(top)},
                         {"attention", std::move(layers)}});
    }
    j["steps"] = std::move(steps);
    return j;
}

void printGenerateHelp() {
    std::cout
        << "attention-lab generate --model SPEC (--text \"...\" | --text-file FILE | --ids 1,2,3)\n"
           "                      [--tokens N] [--temperature T] [--seed S] [--top-k K]\n"
           "                      [--top-p P] [--ignore-eos] [--top N] [--json]\n"
           "  continues the prompt with a key/value cache, N tokens (default 32) or until the\n"
           "  model's end token (unless --ignore-eos). --temperature 0 (default) is greedy; above\n"
           "  0 it samples from softmax(logits / T), keeping the K most probable (--top-k) and\n"
           "  the fewest whose probabilities reach P (--top-p), reproducibly by --seed.\n"
           "  Prints the continuation as it comes; --json prints every step instead: its token,\n"
           "  probability, the --top N (default 5) candidates, and the attention row of every\n"
           "  layer and head (the weights of the query that chose the token over every earlier\n"
           "  position). --mask, --score, --projection, --no-scale change attention as in trace.\n";
}

void printModelsHelp() {
    std::cout
        << "attention-lab models [PATH ...] [--json]\n"
           "  lists the models on this computer: the Hugging Face cache ($HF_HUB_CACHE, "
           "$HF_HOME/hub\n"
           "  or ~/.cache/huggingface/hub), Ollama ($OLLAMA_MODELS or ~/.ollama/models), LM "
           "Studio\n"
           "  (~/.lmstudio/models, ~/.cache/lm-studio/models), and every PATH (a GGUF or llama2.c\n"
           "  file, a model folder, or a folder holding such files). Each with its name,\n"
           "  architecture, quantization, size on disk and the path --model takes; broken\n"
           "  entries say what is wrong.\n";
}

std::string humanSize(std::uint64_t bytes) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1);
    if (bytes >= (1ull << 30))
        s << double(bytes) / double(1ull << 30) << " GB";
    else if (bytes >= (1ull << 20))
        s << double(bytes) / double(1ull << 20) << " MB";
    else
        s << double(bytes) / 1024.0 << " KB";
    return s.str();
}

}  // namespace

int runGenerateCommand(int argc, char** argv) {
    std::vector<std::string> values = modelOptionNames();
    for (const char* v : {"text", "text-file", "ids", "tokens", "top-k", "top-p", "top"})
        values.push_back(v);
    auto args = parseArgs(argc, argv, 2, values, {"json", "no-scale", "ignore-eos", "help"});
    if (!args) {
        std::cerr << "attention-lab generate: " << args.message() << '\n';
        return 2;
    }
    if (wantsHelp(*args)) {
        printGenerateHelp();
        return 0;
    }
    auto fail = [](const std::string& message) {
        std::cerr << "attention-lab generate: " << message << '\n';
        return 2;
    };
    if (!args->positional.empty())
        return fail("unexpected argument '" + args->positional[0] +
                    "' (quote the text: --text \"...\").");
    GenerateOptions opt;
    auto tokens = intOption(*args, "tokens", 32, 0, 100000);
    if (!tokens) return fail(tokens.message());
    opt.max_new_tokens = *tokens;
    auto temperature =
        floatOption(*args, "temperature", 0.0f, 0.0f, 1e6f, false, "a number ≥ 0 (0 = greedy)");
    if (!temperature) return fail(temperature.message());
    opt.sampling.temperature = *temperature;
    auto topK = intOption(*args, "top-k", 0, 0);
    if (!topK) return fail(topK.message());
    opt.sampling.top_k = *topK;
    auto topP =
        floatOption(*args, "top-p", 1.0f, 0.0f, 1.0f, true, "a number above 0 and at most 1");
    if (!topP) return fail(topP.message());
    opt.sampling.top_p = *topP;
    auto seed = seedOption(*args);
    if (!seed) return fail(seed.message());
    opt.sampling.seed = *seed;
    auto top = intOption(*args, "top", 5, 0, 1000);
    if (!top) return fail(top.message());
    opt.top_candidates = *top;
    opt.stop_at_eos = !args->flag("ignore-eos");

    // --temperature and --seed are the sampler's here, not attention's or an untrained model's.
    Args modelArgs = *args;
    modelArgs.values.erase("temperature");
    modelArgs.values.erase("seed");
    auto model = resolveModel(modelArgs, false);
    if (!model) return fail(model.message());
    auto knobs = knobsFromArgs(modelArgs, (*model)->trained_attention);
    if (!knobs) return fail(knobs.message());
    opt.attention = *knobs;
    auto prompt = tokensFromArgs(*args, **model);
    if (!prompt) return fail(prompt.message());

    const bool asJson = args->flag("json");
    if (!asJson) {
        opt.on_step = [](const GenerationStep& st, int, int) {
            std::cout << st.piece << std::flush;
        };
    }
    auto gen = generate(*model, std::move(*prompt), opt);
    if (!gen) return fail(gen.message());
    if (asJson) {
        std::cout << generationJson(*gen).dump(-1, ' ', false, json::error_handler_t::replace)
                  << '\n';
        return 0;
    }
    std::cout << '\n';
    const double rate = gen->seconds > 0 ? double(gen->steps.size()) / gen->seconds : 0.0;
    std::cerr << "(" << gen->steps.size() << " tokens, stopped: " << toString(gen->stopped_by)
              << ", " << std::fixed << std::setprecision(0) << rate << " tokens/s)\n";
    return 0;
}

int runModelsCommand(int argc, char** argv) {
    auto args = parseArgs(argc, argv, 2, {}, {"json", "help"});
    if (!args) {
        std::cerr << "attention-lab models: " << args.message() << '\n';
        return 2;
    }
    if (wantsHelp(*args)) {
        printModelsHelp();
        return 0;
    }
    const std::vector<DiscoveredModel> found =
        discoverModels(defaultDiscoveryRoots(args->positional));
    if (args->flag("json")) {
        json list = json::array();
        for (const DiscoveredModel& m : found) {
            json j{{"name", m.name},
                   {"source", toString(m.source)},
                   {"path", m.path},
                   {"format", m.format},
                   {"architecture", m.architecture},
                   {"quantization", m.quantization},
                   {"size_bytes", m.size_bytes}};
            if (!m.error.empty()) j["error"] = m.error;
            list.push_back(std::move(j));
        }
        std::cout << json{{"models", std::move(list)}}.dump(1, ' ', false,
                                                            json::error_handler_t::replace)
                  << '\n';
        return 0;
    }
    if (found.empty()) {
        std::cout << "No models found (Hugging Face cache, Ollama, LM Studio). See --help.\n";
        return 0;
    }
    for (const DiscoveredModel& m : found) {
        std::cout << m.name << "\n    " << toString(m.source);
        if (!m.architecture.empty()) std::cout << " · " << m.architecture;
        if (!m.quantization.empty()) std::cout << " · " << m.quantization;
        if (!m.format.empty()) std::cout << " · " << m.format;
        std::cout << " · " << humanSize(m.size_bytes) << "\n    " << m.path << '\n';
        if (!m.error.empty()) std::cout << "    error: " << m.error << '\n';
    }
    return 0;
}

}  // namespace attn::cli
