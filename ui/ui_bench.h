#pragma once
// attention-lab bench-ui: keystroke → repainted views latency (10 and 256 tokens), cold start to
// the first painted window, and exporting every head of a 4-layer × 4-head model as PNG.
// Prints medians; run by hand, never a pass/fail test.

namespace attn::ui {

/// Options: --runs N (default 40), --start-ns NS (CLOCK_REALTIME at launch, e.g. from
/// `date +%s%N`; otherwise the process start time from /proc is used), --json.
int runUiBench(int argc, char** argv);

}  // namespace attn::ui
