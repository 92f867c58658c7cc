#pragma once
// Our own teaching models on disk (docs/MODEL_FORMAT.md): one safetensors file whose
// "__metadata__" carries the config (JSON), the vocabularies and the special token ids, read
// and written through the named tensors of weight_tensors.h. Also where the two shipped models
// (builtin:english, builtin:translation) are found. Stands on the model layer, not on training.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attn/model.h"
#include "attn/result.h"

namespace attn {

/// Reads a model written by saveTeachingModel (docs/MODEL_FORMAT.md). Messages say what is
/// wrong ("… is not an Attention Lab teaching model", "layers.0.ffn.W1 has shape …").
Result<std::shared_ptr<Model>> loadTeachingModel(const std::string& path);
/// Writes config, vocabularies and weights as one safetensors file; extra goes into the
/// "__metadata__" strings as well (e.g. how it was trained).
Status saveTeachingModel(const Model& model, const std::string& path,
                         const std::map<std::string, std::string>& extra = {});
/// The path of a shipped model, "english" or "translation"; empty when not found. Looks in, in
/// order: $ATTN_RESOURCES_DIR/models, resources/models beside the executable and in each of its
/// parent folders (build/<preset>/app → the source tree; also share/attention-lab/models for an
/// installed layout), then ./resources/models.
std::string builtinModelPath(const std::string& name);
/// The folders builtinModelPath searches, in order (for error messages).
std::vector<std::string> builtinModelSearchPath();
// Opening "builtin:english" and every other spec: openModel, attn/open_model.h.

}  // namespace attn
