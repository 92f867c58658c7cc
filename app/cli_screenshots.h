#pragma once
// attention-lab screenshots --out DIR: the window at 1024×768 and 1920×1080, normal and
// presentation, for each model; every view and every step of Step by step grabbed as a PNG and
// audited (ui/window/layout_audit); a report in DIR/report.txt and DIR/report.json.

#include <string>

namespace attn::cli {

std::string screenshotsCommandUsage();

/// Exit status: 0 no findings, 1 the audit found problems (or a file could not be written),
/// 2 bad arguments.
int runScreenshotsCommand(int argc, char** argv);

}  // namespace attn::cli
