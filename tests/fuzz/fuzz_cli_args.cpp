// The command line's argument parser (app/cli_common, which needs no Qt): NUL-separated words
// become argv; then every option reader the commands use runs on the result.
#include <string>
#include <vector>

#include "cli_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> words{"attention-lab", "trace"};
    std::string cur;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            words.push_back(cur);
            cur.clear();
        } else {
            cur += static_cast<char>(data[i]);
        }
    }
    if (!cur.empty()) words.push_back(cur);
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    std::vector<std::string> values = attn::cli::modelOptionNames();
    for (const char* v : {"text", "ids", "layer", "head", "temperature", "mask", "score",
                          "projection", "source", "target"})
        values.emplace_back(v);
    auto args = attn::cli::parseArgs(static_cast<int>(words.size()), argv.data(), 2, values,
                                     {"no-scale", "json", "help"});
    if (!args) return 0;
    (void)attn::cli::intOption(*args, "steps", 10, 1, 1000);
    (void)attn::cli::oneBasedOption(*args, "layer", "layers");
    (void)attn::cli::oneBasedOption(*args, "head", "heads");
    (void)attn::cli::configFromArgs(*args);
    (void)attn::cli::knobsFromArgs(*args);
    if (args->has("ids")) (void)attn::cli::parseIdList(args->get("ids"));
    return 0;
}
