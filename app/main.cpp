// attention-lab: with no command it opens the window; with a command it works in the terminal.

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <unistd.h>

#include "cli_common.h"
#include "cli_trace.h"

#if __has_include("cli_train.h")
#include "cli_train.h"
#define ATTN_HAVE_TRAIN_CLI 1
#endif
#ifdef ATTN_HAVE_UI
#if __has_include("app_window.h")
#include "app_window.h"
#define ATTN_HAVE_WINDOW 1
#endif
#if __has_include("cli_export_command.h")
#include "cli_export_command.h"
#define ATTN_HAVE_EXPORT 1
#endif
#if __has_include("ui_bench.h")
#include "ui_bench.h"
#define ATTN_HAVE_UI_BENCH 1
#endif
#endif

namespace {

void printHelp() {
    std::cout <<
        R"(Attention Lab )" ATTN_VERSION R"( — see transformer attention work, step by step.

Usage:
  attention-lab                      open the window
  attention-lab --model SPEC --text "..." --view TITLE [--presentation]   open it on a model, a sentence, a view
  attention-lab trace --text "..."   print every step of attention on a sentence
  attention-lab trace --source "..." --target "..."   encoder–decoder (cross-attention)
  attention-lab export --text "..." --view weights|scores|pe|values|heads --format png|svg|pdf|csv|json --out PATH
  attention-lab train --corpus english|translation --out FILE
  attention-lab translate --text "the ball is blue" [--json]
  attention-lab fill --text "the black cat drank the [MASK]"
  attention-lab evaluate --model builtin:english|builtin:translation
  attention-lab bench-ui             keystroke-to-repaint and export timings

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
#ifdef ATTN_HAVE_TRAIN_CLI
    if (cmd == "train") return attn::cli::runTrainCommand(argc, argv);
    if (cmd == "translate") return attn::cli::runTranslateCommand(argc, argv);
    if (cmd == "fill") return attn::cli::runFillCommand(argc, argv);
    if (cmd == "evaluate") return attn::cli::runEvaluateCommand(argc, argv);
#endif
#ifdef ATTN_HAVE_EXPORT
    attn::ui::setExportTraceSource([](const attn::ui::ExportArgs& e) {
        attn::cli::Args a;
        a.values = e.values;
        a.flags = e.flags;
        return attn::cli::traceFromArgs(a);
    });
    if (cmd == "export") return attn::ui::runExportCommand(argc, argv);
#endif
#ifdef ATTN_HAVE_UI_BENCH
    if (cmd == "bench-ui") return attn::ui::runUiBench(argc, argv);
#endif
    if (!cmd.empty() && cmd[0] != '-') {
        std::cerr << "attention-lab: unknown command '" << cmd << "'. Try --help.\n";
        return 2;
    }
#ifdef ATTN_HAVE_WINDOW
    return attn::ui::runWindow(argc, argv);
#else
    // No window in this build: show the trace of the default sentence in the terminal.
    const char* args[] = {argv[0], "trace", "--text", "The black cat drank the milk"};
    return attn::cli::runTraceCommand(4, const_cast<char**>(args));
#endif
}
