#pragma once
// Layer rule (engine/src/formats/): no training. May not include: attn/train, attn/evaluate.
// Finds the models on this computer without loading them: the Hugging Face hub cache, Ollama's
// store (manifests pointing at GGUF blobs), LM Studio's models folders, and files or folders a
// caller names (the window's recent files). Only metadata is read: config.json, a GGUF header
// (memory-mapped; no tensor is touched), a llama2.c header.
//
// Strict and bounded: folders are read at fixed depths (never recursively, so a symlink loop
// cannot trap it), a JSON file above 4 MB is not parsed, at most max_entries models are listed,
// and a broken manifest, config or file is an entry with an error, never a failure of the whole
// listing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attn {

/// Where a found model lives.
enum class ModelSource { HuggingFaceCache, Ollama, LmStudio, File };
/// "Hugging Face cache", "Ollama", "LM Studio", "file".
std::string toString(ModelSource source);

/// One model found on disk.
struct DiscoveredModel {
    ModelSource source = ModelSource::File;
    /// What a person calls it: "org/name" (Hugging Face), "llama3.2:1b" (Ollama's
    /// library; "ns/model:tag" for another namespace), "publisher/repo/file.gguf" (LM Studio),
    /// the file or folder name otherwise.
    std::string name;
    std::string path;    ///< what openModel takes: a snapshot folder, a GGUF blob or file
    std::string format;  ///< "gguf", "safetensors", "llama2.c", "" when unknown
    /// general.architecture of a GGUF ("llama", "qwen2"), config.json's architectures[0]
    /// ("LlamaForCausalLM") else its model_type, "llama" for a llama2.c checkpoint; "" unknown.
    std::string architecture;
    /// GGUF file type ("Q4_K_M", "F16"), config.json's torch_dtype ("bfloat16"), "F32" for
    /// llama2.c; "" when unknown.
    std::string quantization;
    std::uint64_t size_bytes = 0;  ///< on disk: the weights files (blobs followed)
    std::string error;             ///< non-empty: listed, but broken (the message says why)
};

/// Roots to search; every one may be missing. Tests pass their own; defaultDiscoveryRoots
/// gives the usual places.
struct DiscoveryRoots {
    std::vector<std::string> hugging_face;  ///< hub cache folders (holding models--org--name)
    std::vector<std::string> ollama;        ///< Ollama models folders (holding manifests/, blobs/)
    std::vector<std::string> lm_studio;     ///< LM Studio models folders (publisher/repo/*.gguf)
    /// Files (GGUF, llama2.c) or folders (a Hugging Face model folder, else the GGUF and
    /// llama2.c files directly inside it).
    std::vector<std::string> extra;
    std::size_t max_entries = 2000;  ///< listing stops here
};

/// The usual places: huggingFaceCacheDir(); $OLLAMA_MODELS, else ~/.ollama/models and
/// /usr/share/ollama/.ollama/models (Linux service installs); ~/.lmstudio/models and
/// ~/.cache/lm-studio/models; extra as given.
DiscoveryRoots defaultDiscoveryRoots(std::vector<std::string> extra = {});

/// Every model under roots, in root order (Hugging Face, Ollama, LM Studio, extra), each
/// source sorted by name. Every entry of a root is listed (two Ollama tags may share a blob);
/// an extra path already listed under a root is not listed again.
std::vector<DiscoveredModel> discoverModels(const DiscoveryRoots& roots);

/// One file or folder described as discoverModels would list it (source File); error set when
/// it is not a model we can describe.
DiscoveredModel describeModelPath(const std::string& path);

}  // namespace attn
