#pragma once
// Models stored in GGUF files: architectures `llama`, `qwen2` and `qwen3`, weights of types
// F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K. F32 tensors are copied into dense
// matrices; the others stay in the file's memory map as stored (packed Weights, attn/weight.h)
// and are widened a panel at a time by the products, unless LoadOptions::pack_weights is off.
//
// Tensors (ggml shapes, fastest dimension first; a weight [in, out] is nn.Linear's (out, in)
// row-major matrix, our X·W matrix read column-major): token_embd [d, vocab]; per layer N
// blk.N.attn_norm [d], attn_q [d, heads·d_head], attn_k/attn_v [d, kv_heads·d_head],
// attn_output [heads·d_head, d], ffn_norm [d], ffn_gate/ffn_up [d, d_ff], ffn_down [d_ff, d];
// qwen2 adds attn_q/k/v.bias, qwen3 attn_q_norm/attn_k_norm [d_head]; output_norm [d];
// output [d, vocab], or the token embedding when absent (tied).
//
// RoPE: llama.cpp's converter permutes the Q and K rows of `llama` models back into Meta's
// interleaved layout, so they rotate adjacent pairs (RopePairs::Adjacent, as llama2.c); `qwen2`
// and `qwen3` keep Hugging Face's layout and rotate halves (RopePairs::Halves, llama.cpp's
// NeoX mode). Either way the attention is the original model's.

#include <memory>
#include <string>

#include "attn/formats/gguf.h"
#include "attn/load_options.h"
#include "attn/model.h"
#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

/// Opens a GGUF model file. Another architecture is UnsupportedArchitecture naming it; a tensor
/// of a type we cannot widen is UnsupportedFormat naming the tensor and the type; missing or
/// misshapen tensors are Corrupt; a cancelled load is Cancelled. Model::quantization records
/// the file's type ("Q4_K_M"). Packed weights share ownership of the file's map.
Result<std::shared_ptr<Model>> loadGguf(const std::string& path, const LoadOptions& options = {});

/// The same from an open file.
Result<std::shared_ptr<Model>> loadGgufModel(const std::shared_ptr<const GgufFile>& file,
                                             const LoadOptions& options = {});

/// The tokenizer a GGUF file carries (tokenizer.ggml.*: "gpt2" byte-level BPE with its pre
/// type, "llama" SentencePiece, "bert" WordPiece; see gguf_tokenizer.h); another model is
/// UnsupportedFormat naming it.
Result<std::shared_ptr<const TextTokenizer>> loadGgufTokenizer(const GgufFile& file);

/// The file's quantization as llama.cpp names it: general.file_type ("Q4_K_M", "Q8_0", "F16"
/// …), else the type holding most of the 2-D weights' values.
std::string ggufQuantization(const GgufFile& file);

}  // namespace attn
