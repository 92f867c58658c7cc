// Sharded weights: model.safetensors.index.json @@@@ shard a @@@@ shard b, opened as a folder's
// tensor source (the code the Hugging Face loaders use).
#include "fuzz_util.h"
#include "hf_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = attn::fuzz::splitParts(data, size, 3);
    attn::fuzz::writeFile("idx/model.safetensors.index.json", parts[0]);
    attn::fuzz::writeFile("idx/model-00001-of-00002.safetensors", parts[1]);
    attn::fuzz::writeFile("idx/model-00002-of-00002.safetensors", parts[2]);
    auto src = attn::detail::TensorSource::open((attn::fuzz::workDir() / "idx").string());
    if (!src) return 0;
    (void)src->checkShards();
    (void)src->mainDType();
    attn::Mat m;
    (void)src->matrix("model.embed_tokens.weight", 64, 32, false, m);
    return 0;
}
