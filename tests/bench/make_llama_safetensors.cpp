// Writes a random model with Llama-3.2-1B's shapes as a Hugging Face folder in BF16
// safetensors (config.json, model.safetensors, tokenizer.json), for bench_llama next to the
// Q4_K_M GGUF of make_llama_gguf (scripts/bench-models makes both). Tied embeddings and Llama
// 3's rope_scaling (type llama3, factor 32) as Llama-3.2-1B's config.json has them; the weights
// are uniform with the GGUF generator's scales, so attention is not flat through 16 layers.
//
//   make_llama_safetensors OUT_DIR --tokenizer TOKENIZER.json [--layers N] [--vocab V] [--seed S]
//
// The benchmark runs token ids, so any tokenizer.json the loader accepts will do (the script
// passes the committed tiny Llama one). model.safetensors (about 2.5 GB) is streamed tensor by
// tensor, never held in memory whole.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attn/formats/ggml_quants.h"
#include "attn/formats/ggml_types.h"
#include "bench_random.h"

namespace {

namespace fs = std::filesystem;

struct Shape {
    int d = 2048, ff = 8192, H = 32, KV = 8, dh = 64, L = 16, V = 128256;
};

struct TensorSpec {
    std::string name;
    std::vector<std::uint64_t> shape;  // PyTorch order (out, in)
    float scale;                       // values uniform in ±scale (norms: 1 ± scale)
    bool norm = false;
    std::uint64_t elements() const {
        std::uint64_t n = 1;
        for (std::uint64_t x : shape) n *= x;
        return n;
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: %s OUT_DIR --tokenizer TOKENIZER.json [--layers N] [--vocab V] "
                     "[--seed S]\n",
                     argv[0]);
        return 2;
    }
    const fs::path out = argv[1];
    Shape S;
    std::uint64_t seed = 1;
    std::string tokenizer;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--layers") S.L = std::atoi(argv[i + 1]);
        if (a == "--vocab") S.V = std::atoi(argv[i + 1]);
        if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
        if (a == "--tokenizer") tokenizer = argv[i + 1];
    }
    if (tokenizer.empty() || S.L <= 0 || S.V <= 3) {
        std::fprintf(stderr, "%s: --tokenizer is required; --layers and --vocab positive\n",
                     argv[0]);
        return 2;
    }
    std::error_code ec;
    fs::create_directories(out, ec);
    fs::copy_file(tokenizer, out / "tokenizer.json", fs::copy_options::overwrite_existing, ec);
    if (ec) {
        std::fprintf(stderr, "cannot copy %s: %s\n", tokenizer.c_str(), ec.message().c_str());
        return 1;
    }

    const nlohmann::json config = {
        {"architectures", {"LlamaForCausalLM"}},
        {"model_type", "llama"},
        {"hidden_size", S.d},
        {"intermediate_size", S.ff},
        {"num_hidden_layers", S.L},
        {"num_attention_heads", S.H},
        {"num_key_value_heads", S.KV},
        {"head_dim", S.dh},
        {"max_position_embeddings", 131072},
        {"rms_norm_eps", 1e-5},
        {"rope_theta", 500000.0},
        {"rope_scaling",
         {{"rope_type", "llama3"},
          {"factor", 32.0},
          {"low_freq_factor", 1.0},
          {"high_freq_factor", 4.0},
          {"original_max_position_embeddings", 8192}}},
        {"vocab_size", S.V},
        {"hidden_act", "silu"},
        {"bos_token_id", 1},
        {"eos_token_id", 2},
        {"tie_word_embeddings", true},
        {"torch_dtype", "bfloat16"},
    };
    std::ofstream(out / "config.json") << config.dump(2) << "\n";

    const auto u = [](int x) { return static_cast<std::uint64_t>(x); };
    const float proj = 1.0f / std::sqrt(static_cast<float>(S.d));
    std::vector<TensorSpec> specs;
    specs.push_back({"model.embed_tokens.weight", {u(S.V), u(S.d)}, 0.05f});
    for (int l = 0; l < S.L; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        specs.push_back({p + "input_layernorm.weight", {u(S.d)}, 0.1f, true});
        specs.push_back({p + "self_attn.q_proj.weight", {u(S.H * S.dh), u(S.d)}, 4 * proj});
        specs.push_back({p + "self_attn.k_proj.weight", {u(S.KV * S.dh), u(S.d)}, 4 * proj});
        specs.push_back({p + "self_attn.v_proj.weight", {u(S.KV * S.dh), u(S.d)}, proj});
        specs.push_back({p + "self_attn.o_proj.weight", {u(S.d), u(S.H * S.dh)}, proj});
        specs.push_back({p + "post_attention_layernorm.weight", {u(S.d)}, 0.1f, true});
        specs.push_back({p + "mlp.gate_proj.weight", {u(S.ff), u(S.d)}, proj});
        specs.push_back({p + "mlp.up_proj.weight", {u(S.ff), u(S.d)}, proj});
        specs.push_back({p + "mlp.down_proj.weight", {u(S.d), u(S.ff)}, proj / 2});
    }
    specs.push_back({"model.norm.weight", {u(S.d)}, 0.1f, true});

    nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
    std::uint64_t next = 0;
    for (const TensorSpec& t : specs) {
        const std::uint64_t bytes = 2 * t.elements();
        header[t.name] = {
            {"dtype", "BF16"}, {"shape", t.shape}, {"data_offsets", {next, next + bytes}}};
        next += bytes;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
    const fs::path file = out / "model.safetensors";
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    if (!f) {
        std::fprintf(stderr, "cannot write %s\n", file.c_str());
        return 1;
    }
    const std::uint64_t n = h.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    f.write(reinterpret_cast<const char*>(len), 8);
    f.write(h.data(), static_cast<std::streamsize>(h.size()));
    attn::bench::Rng rng(seed);
    std::vector<float> chunk;
    for (const TensorSpec& t : specs) {
        for (std::uint64_t done = 0, total = t.elements(); done < total;) {
            const std::uint64_t m = std::min<std::uint64_t>(total - done, 1u << 20);
            chunk.resize(m);
            for (float& x : chunk) x = (t.norm ? 1.0f : 0.0f) + t.scale * rng.uniform();
            // Rounded to nearest even, as torch's .to(torch.bfloat16).
            auto bf16 = attn::quantize(static_cast<std::uint32_t>(attn::GgmlType::BF16), chunk);
            if (!bf16) {
                std::fprintf(stderr, "%s: %s\n", t.name.c_str(), bf16.message().c_str());
                return 1;
            }
            f.write(reinterpret_cast<const char*>(bf16->data()),
                    static_cast<std::streamsize>(bf16->size()));
            done += m;
        }
    }
    f.close();
    if (!f) {
        std::fprintf(stderr, "writing %s failed\n", file.c_str());
        return 1;
    }
    std::printf("%s: %d layers, vocab %d, %.1f MB\n", out.c_str(), S.L, S.V,
                static_cast<double>(8 + h.size() + next) / 1e6);
    return 0;
}
