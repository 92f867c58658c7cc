#pragma once
// Layer rule (app/): every entry point and argv. May include: ui/*, engine, qt.

namespace attn::cli {

/// attention-lab generate --model SPEC (--text "..." | --text-file F | --ids 1,2,3) --tokens N
///   [--temperature T] [--seed S] [--top-k K] [--top-p P] [--ignore-eos] [--top N] [--json]
/// Prints the continuation as it is generated (greedy unless --temperature > 0); with --json,
/// every step's token, probability, top candidates and attention row of every layer and head.
int runGenerateCommand(int argc, char** argv);

/// attention-lab models [PATH ...] [--json]: the models found on this computer (Hugging Face
/// cache, Ollama, LM Studio; PATHs are extra files or folders), with architecture, size and
/// quantization. The places follow HF_HUB_CACHE / HF_HOME, OLLAMA_MODELS and HOME.
int runModelsCommand(int argc, char** argv);

}  // namespace attn::cli
