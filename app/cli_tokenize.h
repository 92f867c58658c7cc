#pragma once
// Layer rule (app/): every entry point and argv. May include: ui/*, engine, qt.

namespace attn::cli {

/// attention-lab tokenize --model SPEC (--text "..." | --text-file F) [--json] [--no-special]
/// SPEC: a tokenizer.json, a .gguf file (only its tokenizer.ggml.* metadata is read), a folder
/// with a tokenizer.json, or any --model the other commands take (the model's own tokenizer).
int runTokenizeCommand(int argc, char** argv);

}  // namespace attn::cli
