// The teaching-model file (safetensors whose metadata holds the config and the vocabulary).
#include "attn/formats/teaching_model.h"
#include "attn/model.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path =
        attn::fuzz::writeFile("teaching.safetensors", {reinterpret_cast<const char*>(data), size});
    auto model = attn::loadTeachingModel(path);
    if (!model) return 0;
    (void)(*model)->tokenizer->encode("the cat sat on the mat");
    return 0;
}
