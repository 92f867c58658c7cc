#pragma once
#include <iosfwd>

#include "attn/trace.h"

namespace attn::cli {

/// attention-lab trace --text "..." [options] [--json]
int runTraceCommand(int argc, char** argv);

/// The trace as readable text (every step, every head), as `trace` prints it.
void printTrace(const Trace& trace, std::ostream& out);
/// The trace as one JSON document (see README for the keys).
void printTraceJson(const Trace& trace, std::ostream& out);

}  // namespace attn::cli
