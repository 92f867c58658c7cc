#pragma once
// The generators of random benchmark models (make_llama_gguf, make_llama_safetensors) draw
// their weights here: xorshift64*, a billion values in seconds, the same stream for a seed in
// both (so the two files of one shape hold the same numbers before rounding).

#include <cstdint>

namespace attn::bench {

struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    float uniform() {  // [-1, 1)
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        const std::uint64_t x = s * 2685821657736338717ull;
        return static_cast<float>(x >> 40) / static_cast<float>(1 << 23) - 1.0f;
    }
};

}  // namespace attn::bench
