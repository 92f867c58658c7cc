#pragma once
// Hugging Face folders of the Llama family: config.json whose "architectures" names
// LlamaForCausalLM (Llama 2, Llama 3.x, TinyLlama, SmolLM/SmolLM2), MistralForCausalLM
// (sliding window), Qwen2ForCausalLM (q/k/v biases) or Qwen3ForCausalLM (per-head q/k RMSNorm,
// explicit head_dim); weights in model.safetensors or the shards listed by
// model.safetensors.index.json, F32, F16 or BF16 (widened to float32 as they are read); the
// tokenizer in tokenizer.json beside them (attn/formats/hf_tokenizer.h).
//
// Conventions (modeling_llama.py and its siblings): pre-norm RMSNorm blocks, SwiGLU
// down(silu(gate(x)) ∘ up(x)), rotate-half RoPE (RopePairs::Halves) on every head's q and k,
// grouped-query attention (query head h reads key/value head h / (heads / kv_heads)), an LM head
// that is the token embedding when tie_word_embeddings is true. Tensors (nn.Linear weights are
// (out, in) row-major):
//   model.embed_tokens.weight (vocab, d); per layer N model.layers.N.
//   input_layernorm.weight (d), self_attn.{q,k,v}_proj.weight (heads·d_head | kv_heads·d_head, d),
//   self_attn.o_proj.weight (d, heads·d_head), optional self_attn.{q,k,v,o}_proj.bias,
//   self_attn.{q,k}_norm.weight (d_head, Qwen3), post_attention_layernorm.weight (d),
//   mlp.{gate,up}_proj.weight (d_ff, d), mlp.down_proj.weight (d, d_ff);
//   model.norm.weight (d); lm_head.weight (vocab, d) unless tied.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attn/load_options.h"
#include "attn/model.h"
#include "attn/result.h"

namespace attn {

/// The "architectures" values loadHfLlamaFolder reads, in the order messages list them.
const std::vector<std::string>& hfLlamaArchitectures();

/// Whether config.json's "model_type" is one of the family (llama, mistral, qwen2, qwen3), for
/// a config.json that has no "architectures".
bool isHfLlamaModelType(std::string_view model_type);

/// Opens a Hugging Face folder of the Llama family. config.json is checked strictly (every size
/// within bounds before anything is allocated, heads divisible by key/value heads, rope_scaling
/// of a type we run); an architecture outside the family is UnsupportedArchitecture naming it and
/// the ones we read. Weights: every tensor of the right shape (a mismatch names the tensor, its
/// shape and the one config.json implies), every shard of an index present and every tensor in
/// exactly one shard. Model::quantization is "F16" or "BF16" when most weights are stored so.
/// tokenizer.json must be there (NotFound otherwise: the views show tokens as text).
/// options.progress is called once per layer read; options.cancel stops between layers
/// (ErrorCode::Cancelled).
Result<std::shared_ptr<Model>> loadHfLlamaFolder(const std::string& folder,
                                                 const LoadOptions& options = {});

/// Llama 3.1's rope_scaling ("rope_type": "llama3") as one divisor per RoPE pair, the way
/// Hugging Face's _compute_llama3_parameters changes the inverse frequencies: pairs whose
/// wavelength 2π/ω exceeds original_max_position_embeddings / low_freq_factor are divided by
/// factor, those shorter than original_max_position_embeddings / high_freq_factor are kept,
/// and those between interpolate smoothly. Returns (d_head/2) values (ModelConfig::
/// rope_freq_factors).
std::vector<float> llama3RopeFreqFactors(int d_head, double theta, double factor,
                                         double low_freq_factor, double high_freq_factor,
                                         double original_max_position_embeddings);

}  // namespace attn
