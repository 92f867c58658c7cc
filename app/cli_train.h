#pragma once
// The commands around our own trained models: train, translate, fill, evaluate.

namespace attn::cli {

/// attention-lab train --corpus english|translation --out FILE [--seed S] [--steps N]
///   [--batch N] [--lr X] [--quiet]
int runTrainCommand(int argc, char** argv);
/// attention-lab translate --text "the ball is blue" [--model builtin:translation|PATH] [--json]
int runTranslateCommand(int argc, char** argv);
/// attention-lab fill --text "the black cat drank the [MASK]" [--model builtin:english|PATH]
///   [--top N] [--json]
int runFillCommand(int argc, char** argv);
/// attention-lab evaluate --model builtin:english|builtin:translation|PATH [--count N]
///   [--seed S] [--json]
int runEvaluateCommand(int argc, char** argv);

}  // namespace attn::cli
