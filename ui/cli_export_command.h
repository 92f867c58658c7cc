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

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "attn/result.h"
#include "attn/trace.h"

namespace attn::ui {

/// The parsed command line: --name value pairs and bare --flags (without the dashes).
struct ExportArgs {
    std::map<std::string, std::string> values;
    std::vector<std::string> flags;
    bool has(const std::string& k) const { return values.count(k) > 0; }
    std::string get(const std::string& k, const std::string& def = {}) const;
    bool flag(const std::string& k) const;
};

/// Turns the text and model options into a trace. The default builds an untrained model from
/// --d-model --heads --layers --kv-heads --seed --mask --pe --score --projection --temperature
/// --no-scale and knows no model files; the application installs its full resolver
/// (builtin:english, files, --source/--target) with setExportTraceSource.
using ExportTraceSource = std::function<Result<TracePtr>(const ExportArgs& args)>;
void setExportTraceSource(ExportTraceSource source);

/// The usage text.
std::string exportCommandUsage();

/// Runs the command; argv[0] is the program, argv[1] may be "export". Returns 0 on success,
/// 1 when writing failed, 2 for bad arguments. Messages go to stderr, "Wrote …" to stdout.
int runExportCommand(int argc, char** argv);

}  // namespace attn::ui
