#include "cli_tokenize.h"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attn/formats/bpe_tokenizer.h"
#include "attn/formats/gguf.h"
#include "attn/formats/gguf_tokenizer.h"
#include "attn/formats/hf_tokenizer.h"
#include "attn/tokenizer.h"
#include "cli_common.h"

namespace attn::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The tokenizer SPEC names: a tokenizer file directly, else the model's.
Result<std::shared_ptr<const TextTokenizer>> resolveTokenizer(const Args& args) {
    const std::string spec = args.get("model", "untrained");
    std::error_code ec;
    fs::path tj;
    if (fs::is_regular_file(spec, ec) && fs::path(spec).extension() == ".json") {
        tj = spec;
    } else if (fs::is_directory(spec, ec) &&
               fs::is_regular_file(fs::path(spec) / "tokenizer.json", ec)) {
        tj = fs::path(spec) / "tokenizer.json";
    }
    if (!tj.empty()) {
        auto tok = loadHfTokenizer(tj.string());
        if (!tok) return tok.error();
        return std::shared_ptr<const TextTokenizer>(*tok);
    }
    if (fs::is_regular_file(spec, ec) && looksLikeGguf(spec)) {
        // The weights are not needed: a 40 GB file tokenizes as fast as a vocabulary file.
        auto file = openGguf(spec);
        if (!file) return file.error();
        return tokenizerFromGguf(**file);
    }
    auto model = resolveModel(args, false);
    if (!model) return model.error();
    if (!(*model)->tokenizer) return makeError(spec + ": the model has no tokenizer");
    return (*model)->tokenizer;
}

// A piece as one printable line: control characters escaped, the rest as it is.
std::string printable(const std::string& s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    std::ostringstream hex;
                    hex << "\\x" << std::hex << std::setw(2) << std::setfill('0')
                        << static_cast<int>(static_cast<unsigned char>(c));
                    out += hex.str();
                } else {
                    out += c;
                }
        }
    }
    return out;
}

}  // namespace

int runTokenizeCommand(int argc, char** argv) {
    std::vector<std::string> values = modelOptionNames();
    for (const char* v : {"text", "text-file"}) values.push_back(v);
    auto args = parseArgs(argc, argv, 2, values, {"json", "help"});
    if (!args) {
        std::cerr << "attention-lab tokenize: " << args.message() << '\n';
        return 2;
    }
    if (args->flag("help") || (args->positional.size() == 1 && args->positional[0] == "-h")) {
        std::cout << "attention-lab tokenize --model tokenizer.json|FILE.gguf|FOLDER|SPEC "
                     "(--text \"...\" | --text-file FILE) [--json]\n"
                     "  prints every token: its id, its bytes in the text and its piece; a\n"
                     "  token that holds part of a character is marked with the character.\n";
        return 0;
    }
    if (!args->positional.empty()) {
        std::cerr << "attention-lab tokenize: unexpected argument '" << args->positional[0]
                  << "' (quote the text: --text \"...\").\n";
        return 2;
    }
    auto text = textFromArgs(*args);
    if (!text) {
        std::cerr << "attention-lab tokenize: " << text.message() << '\n';
        return 2;
    }
    auto tok = resolveTokenizer(*args);
    if (!tok) {
        std::cerr << "attention-lab tokenize: " << tok.message() << '\n';
        return 2;
    }
    const std::vector<Token> tokens = (*tok)->encode(*text);
    const std::vector<TokenGroup> groups = groupPartialCharacters(*text, tokens);
    std::vector<int> group_of(tokens.size(), -1);
    for (std::size_t g = 0; g < groups.size(); ++g)
        for (std::size_t k = 0; k < groups[g].count; ++k)
            group_of[groups[g].first + k] = static_cast<int>(g);

    if (args->flag("json")) {
        json out;
        out["tokenizer"] = (*tok)->name();
        out["vocab_size"] = (*tok)->vocabSize();
        json ids = json::array();
        json list = json::array();
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const Token& t = tokens[i];
            ids.push_back(t.id);
            json j{{"id", t.id}, {"text", t.text}, {"begin", t.begin}, {"end", t.end}};
            if (t.partial) {
                j["partial"] = true;
                j["character"] = groups[static_cast<std::size_t>(group_of[i])].text;
            }
            if (t.unknown) j["unknown"] = true;
            list.push_back(std::move(j));
        }
        out["ids"] = std::move(ids);
        out["tokens"] = std::move(list);
        std::cout << out.dump(1, ' ', false, json::error_handler_t::replace) << '\n';
        return 0;
    }
    std::cout << (*tok)->name() << ", " << tokens.size() << " tokens\n";
    std::cout << "ids:";
    for (const Token& t : tokens) std::cout << ' ' << t.id;
    std::cout << '\n';
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const Token& t = tokens[i];
        std::ostringstream span;
        span << t.begin << '-' << t.end;
        std::cout << std::setw(6) << i << std::setw(9) << t.id << "  " << std::left << std::setw(12)
                  << span.str() << std::right << " \"" << printable(t.text) << '"';
        if (t.partial) {
            std::cout << "  (part of \""
                      << printable(groups[static_cast<std::size_t>(group_of[i])].text) << "\")";
        }
        if (t.unknown) std::cout << "  (unknown)";
        std::cout << '\n';
    }
    return 0;
}

}  // namespace attn::cli
