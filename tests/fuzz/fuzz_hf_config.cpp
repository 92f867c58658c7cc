// config.json of a Hugging Face folder (Llama family, GPT-2, BERT): the fuzzed config.json
// beside fixed, valid tokenizer and weight files, opened through loadModel so that the
// model_type dispatch and each family's checks of the config against the weights run.
#include <filesystem>

#include "attn/formats/load.h"
#include "fuzz_util.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The llama-f32 test model without its config: its weights and tokenizer stay, and a BERT
    // vocab.txt and GPT-2 vocab.json/merges.txt join them so the other families get further.
    const fs::path from = attn::fuzz::sourceDir() / "tests/data/models/hf/llama-f32";
    const fs::path to = attn::fuzz::workDir() / "cfg";
    std::error_code ec;
    fs::create_directories(to, ec);
    for (const auto& e : fs::directory_iterator(from, ec))
        if (e.path().filename() != "config.json")
            fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing,
                          ec);
    attn::fuzz::writeFile("cfg/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n##s\n");
    attn::fuzz::writeFile("cfg/vocab.json", R"({"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3})");
    attn::fuzz::writeFile("cfg/merges.txt", "#version: 0.2\na b\n");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    attn::fuzz::writeFile("cfg/config.json", {reinterpret_cast<const char*>(data), size});
    (void)attn::loadModel((attn::fuzz::workDir() / "cfg").string());
    return 0;
}
