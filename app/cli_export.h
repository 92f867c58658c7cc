#pragma once
// `attention-lab export`: writes a view of a sentence's attention to a file without opening a
// window (works with no display: Qt's offscreen platform is used when neither DISPLAY nor
// WAYLAND_DISPLAY is set).
//
//   attention-lab export --text "..." --view weights|scores|pe|values|heads --out PATH
//       [--format png|svg|pdf|csv|json] [--layer L|all] [--head H]
//       [--width W --height H --dpi D] [model options]
//
// "heads" writes a grid image of every head of the layer, or, when --out is a folder (exists or
// ends in '/'), one file per head named L{l}_H{h}_weights.{format}.

#include <string>

namespace attn::cli {

/// The usage text.
std::string exportCommandUsage();

/// Runs the command; argv[0] is the program, argv[1] may be "export". The sentence and model
/// options go through the same parser and --model resolver as every other command
/// (cli_common.h). Returns 0 on success, 1 when writing failed, 2 for bad arguments. Messages
/// go to stderr, "Wrote …" to stdout.
int runExportCommand(int argc, char** argv);

}  // namespace attn::cli
