#pragma once
// The one way in: every caller (command line, window, drag and drop, recent files, the Hugging
// Face cache menu) opens a model with openModel(spec). Failures carry an ErrorCode, so callers
// decide what to do by kind, never by the message text.

#include <memory>
#include <string>

#include "attn/load_options.h"
#include "attn/model.h"
#include "attn/result.h"

namespace attn {

struct OpenOptions {
    /// The shape of the model the spec "untrained" builds (its name becomes "untrained" and it
    /// gets no vocabulary unless this config has one).
    ModelConfig untrained;
    /// Packing, progress and cancellation of a model read from disk (attn/load_options.h).
    LoadOptions load;
};

/// Opens the model a spec names:
/// - "untrained": a seeded random model from options.untrained (makeUntrainedModel);
/// - "builtin:NAME": a shipped teaching model, builtin:english or builtin:translation
///   (UnknownBuiltin for another NAME, NotFound when its file is not installed);
/// - a .safetensors file: one of our teaching models; when the teaching reader says
///   UnsupportedFormat (not ours), the weights of the Hugging Face folder it lies in;
/// - a GGUF file (by its magic); any other file: a llama2.c checkpoint; config.json opens its
///   folder;
/// - a folder: a Hugging Face model (config.json with model_type gpt2 or bert), a cache entry
///   (…/models--org--name/snapshots/<hash> or models--org--name itself), or a folder holding a
///   llama2.c checkpoint.
/// Codes: NotFound (no such path, or a file the model needs is missing), UnknownBuiltin,
/// UnsupportedFormat (not a model we read), UnsupportedArchitecture (config.json names a
/// model_type we cannot run), Corrupt (a format we read, but broken or truncated), Invalid (a
/// bad untrained config). The model's source_path is the file or folder it came from.
Result<std::shared_ptr<const Model>> openModel(const std::string& spec,
                                               const OpenOptions& options = {});

}  // namespace attn
