#pragma once
// Layer rule (engine/src/formats/): no training. May not include: attn/train, attn/evaluate.
// Opens a pretrained model from disk, whatever its format.

#include <memory>
#include <string>
#include <vector>

#include "attn/load_options.h"
#include "attn/model.h"
#include "attn/result.h"

namespace attn {

/// Opens the pretrained model at path (callers open models with openModel, attn/open_model.h,
/// which reads our own teaching models first and comes here for the rest):
/// - a GGUF file, known by its magic whatever its name (architectures llama, qwen2, qwen3; see
///   loadGguf in attn/formats/gguf_model.h);
/// - a llama2.c checkpoint file (its tokenizer beside it, see loadLlama2c);
/// - a Hugging Face folder with config.json: "model_type" "gpt2" or "bert", or the Llama
///   family by "architectures" (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
///   Qwen3ForCausalLM: loadHfLlamaFolder in attn/formats/hf_llama.h); another architecture is
///   an error naming it and the file; config.json, model.safetensors or
///   model.safetensors.index.json given as the path open their folder;
/// - a Hugging Face cache snapshot (…/models--org--name/snapshots/<hash>) or the
///   models--org--name folder itself (its refs/main snapshot, else the newest);
/// - a folder holding one llama2.c checkpoint, else one GGUF file;
/// - a .safetensors file: the Hugging Face folder it lies in.
/// Every failure is a message naming the file and the problem, with an ErrorCode (NotFound,
/// UnsupportedFormat, UnsupportedArchitecture, Corrupt; Invalid for a reader's other checks).
/// options: packing, progress and cancellation (attn/load_options.h; GGUF files report
/// progress per layer, the other formats at their end).
Result<std::shared_ptr<Model>> loadModel(const std::string& path, const LoadOptions& options = {});

/// The Hugging Face hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else
/// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (it may not exist).
std::string huggingFaceCacheDir();

/// Snapshot folders with a config.json under the hub cache
/// (models--*/snapshots/*), sorted; empty when there is no cache.
std::vector<std::string> listHuggingFaceCache();

}  // namespace attn
