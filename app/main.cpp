// attention-lab: with no command it opens the window; with a command it works in the terminal.

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "cli_export.h"
#include "cli_generate.h"
#include "cli_screenshots.h"
#include "cli_tokenize.h"
#include "cli_trace.h"
#include "cli_train.h"
#include "window_main.h"

namespace {

void printHelp() {
    std::cout << R"(Attention Lab )" ATTN_VERSION
                 R"( — see transformer attention work, step by step.

Usage:
  attention-lab                      open the window
  attention-lab --model SPEC --text "..." --view TITLE [--presentation]   open it on a model, a sentence, a view
  attention-lab trace --text "..."   print every step of attention on a sentence (or --ids 1,2,3)
  attention-lab trace --source "..." --target "..."   encoder–decoder (cross-attention)
  attention-lab export --text "..." --view weights|scores|pe|values|heads --format png|svg|pdf|csv|json --out PATH
                    [--layer L --head H] (counted from 1, as in the window)
  attention-lab screenshots --out DIR   every view and step at 1024×768 and 1920×1080, audited
  attention-lab tokenize --model tokenizer.json|FILE.gguf|FOLDER|SPEC --text "..." [--json]
                    ids and pieces of a text (also --text-file FILE)
  attention-lab generate --model SPEC --text "..." --tokens N [--temperature T --seed S
                    --top-k K --top-p P] [--json]   continue a prompt (also --text-file, --ids),
                    keeping every generated token's attention
  attention-lab models [PATH ...] [--json]   the models on this computer (Hugging Face cache,
                    Ollama, LM Studio) with architecture, quantization and size
  attention-lab train --corpus english|translation --out FILE
  attention-lab translate --text "the ball is blue" [--json]
  attention-lab fill --text "the black cat drank the [MASK]"
  attention-lab evaluate --model builtin:english|builtin:translation

Model options (trace, export): --model untrained|builtin:english|builtin:translation|PATH
  --layers N --heads H --kv-heads K --d-model D --seed S --mask none|causal|padding
  --pe sinusoidal|learned|rope|none --score scaled-dot|dot|cosine|general|additive
  --projection embeddings|qk|qkv --temperature T (0 = hard look-up) --no-scale --json

Each command takes --help.
)";
}

// libgomp reads OMP_WAIT_POLICY once, before main, and by default its idle threads spin for a
// while after each parallel region: on a 2-core machine that steals the GUI thread's core.
// Start again with the passive policy unless the user chose one.
void ensurePassiveOpenMp(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure; then run as we are
}

}  // namespace

int main(int argc, char** argv) {
    ensurePassiveOpenMp(argv);
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        printHelp();
        return 0;
    }
    if (cmd == "--version" || cmd == "-v") {
        std::cout << "attention-lab " ATTN_VERSION "\n";
        return 0;
    }
    if (cmd == "trace") return attn::cli::runTraceCommand(argc, argv);
    if (cmd == "train") return attn::cli::runTrainCommand(argc, argv);
    if (cmd == "translate") return attn::cli::runTranslateCommand(argc, argv);
    if (cmd == "fill") return attn::cli::runFillCommand(argc, argv);
    if (cmd == "evaluate") return attn::cli::runEvaluateCommand(argc, argv);
    if (cmd == "export") return attn::cli::runExportCommand(argc, argv);
    if (cmd == "tokenize") return attn::cli::runTokenizeCommand(argc, argv);
    if (cmd == "generate") return attn::cli::runGenerateCommand(argc, argv);
    if (cmd == "models") return attn::cli::runModelsCommand(argc, argv);
    if (cmd == "screenshots") return attn::cli::runScreenshotsCommand(argc, argv);
    if (!cmd.empty() && cmd[0] != '-') {
        std::cerr << "attention-lab: unknown command '" << cmd << "'. Try --help.\n";
        return 2;
    }
    return attn::app::runWindow(argc, argv);
}
