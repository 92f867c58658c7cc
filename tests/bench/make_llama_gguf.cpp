// Writes a random model with Llama-3.2-1B's shapes as a Q4_K_M-style GGUF file, for
// bench_llama (scripts/bench-models makes it). As llama-quantize's Q4_K_M mix: Q4_K for most
// 2-D weights, Q6_K for the (tied) token embedding and for attn_v / ffn_down of the layers
// llama.cpp gives more bits (the first and last eighth and every third between), F32 norms.
// Llama 3's rope_scaling (type llama3, factor 32, low/high frequency factors 1 and 4, original
// context 8192) goes in as rope_freqs.weight, as convert_hf_to_gguf writes it.
//
//   make_llama_gguf OUT.gguf [--layers N] [--vocab V] [--seed S]
//
// The file is streamed tensor by tensor (about 0.8 GB; never the whole file in memory).

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "../engine/gguf_test_writer.h"
#include "attn/formats/ggml_quants.h"
#include "attn/formats/ggml_types.h"
#include "bench_random.h"

namespace {

using attn::GgmlType;
using attn::testing::GgufWriter;

struct Shape {
    int d = 2048, ff = 8192, H = 32, KV = 8, dh = 64, L = 16, V = 128256;
};

struct TensorSpec {
    TensorSpec(std::string n, std::vector<std::uint64_t> s, GgmlType t, float sc, bool nm = false)
        : name(std::move(n)), shape(std::move(s)), type(t), scale(sc), norm(nm) {}
    std::string name;
    std::vector<std::uint64_t> shape;  // ggml order
    GgmlType type;
    float scale;  // values uniform in ±scale (norms: 1 ± scale)
    bool norm = false;
    std::vector<float> values;  // given values (rope_freqs)
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
};

// llama.cpp's use_more_bits(i, n): the layers Q4_K_M gives Q6_K attn_v and ffn_down.
bool moreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Hugging Face's _compute_llama3_parameters, as one divisor per frequency pair.
std::vector<float> llama3Factors(int dh, double theta) {
    const double factor = 32, low = 1, high = 4, original = 8192;
    const double lowWave = original / low, highWave = original / high;
    std::vector<float> out;
    for (int i = 0; i < dh / 2; ++i) {
        const double freq = 1.0 / std::pow(theta, 2.0 * i / dh);
        const double wave = 2 * M_PI / freq;
        double divisor = 1;
        if (wave > lowWave) {
            divisor = factor;
        } else if (wave >= highWave) {
            const double smooth = (original / wave - low) / (high - low);
            divisor = 1.0 / ((1 - smooth) / factor + smooth);
        }
        out.push_back(static_cast<float>(divisor));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s OUT.gguf [--layers N] [--vocab V] [--seed S]\n", argv[0]);
        return 2;
    }
    const std::string out = argv[1];
    Shape S;
    std::uint64_t seed = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--layers") S.L = std::atoi(argv[i + 1]);
        if (a == "--vocab") S.V = std::atoi(argv[i + 1]);
        if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
    }
    const double theta = 500000.0;
    const auto u = [](int x) { return static_cast<std::uint64_t>(x); };

    std::vector<TensorSpec> specs;
    // Scales: like a trained model's (embedding ~0.02, projections ~1/√d) so that attention is
    // not flat and activations stay finite through 16 layers.
    const float proj = 1.0f / std::sqrt(static_cast<float>(S.d));
    specs.push_back(TensorSpec("token_embd.weight", {u(S.d), u(S.V)}, GgmlType::Q6_K, 0.05f));
    for (int l = 0; l < S.L; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const GgmlType vd = moreBits(l, S.L) ? GgmlType::Q6_K : GgmlType::Q4_K;
        specs.push_back(TensorSpec(p + "attn_norm.weight", {u(S.d)}, GgmlType::F32, 0.1f, true));
        specs.push_back(
            TensorSpec(p + "attn_q.weight", {u(S.d), u(S.H * S.dh)}, GgmlType::Q4_K, 4 * proj));
        specs.push_back(
            TensorSpec(p + "attn_k.weight", {u(S.d), u(S.KV * S.dh)}, GgmlType::Q4_K, 4 * proj));
        specs.push_back(TensorSpec(p + "attn_v.weight", {u(S.d), u(S.KV * S.dh)}, vd, proj));
        specs.push_back(
            TensorSpec(p + "attn_output.weight", {u(S.H * S.dh), u(S.d)}, GgmlType::Q4_K, proj));
        specs.push_back(TensorSpec(p + "ffn_norm.weight", {u(S.d)}, GgmlType::F32, 0.1f, true));
        specs.push_back(TensorSpec(p + "ffn_gate.weight", {u(S.d), u(S.ff)}, GgmlType::Q4_K, proj));
        specs.push_back(TensorSpec(p + "ffn_up.weight", {u(S.d), u(S.ff)}, GgmlType::Q4_K, proj));
        specs.push_back(TensorSpec(p + "ffn_down.weight", {u(S.ff), u(S.d)}, vd, proj / 2));
    }
    specs.push_back(TensorSpec("output_norm.weight", {u(S.d)}, GgmlType::F32, 0.1f, true));
    TensorSpec freqs("rope_freqs.weight", {u(S.dh / 2)}, GgmlType::F32, 0.0f);
    freqs.values = llama3Factors(S.dh, theta);
    specs.push_back(freqs);

    GgufWriter g;
    g.addString("general.architecture", "llama");
    g.addString("general.name", "random-llama-3.2-1b-shape");
    g.addU32("general.file_type", 15);  // Q4_K_M
    g.addU32("llama.block_count", u(S.L));
    g.addU32("llama.context_length", 131072);
    g.addU32("llama.embedding_length", u(S.d));
    g.addU32("llama.feed_forward_length", u(S.ff));
    g.addU32("llama.attention.head_count", u(S.H));
    g.addU32("llama.attention.head_count_kv", u(S.KV));
    g.addU32("llama.rope.dimension_count", u(S.dh));
    g.addF32("llama.rope.freq_base", static_cast<float>(theta));
    g.addF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    g.addU32("llama.vocab_size", u(S.V));
    // A SentencePiece-style vocabulary of placeholder pieces: the benchmark runs token ids.
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    while (static_cast<int>(tokens.size()) < S.V)
        tokens.push_back("t" + std::to_string(tokens.size()));
    g.addString("tokenizer.ggml.model", "llama");
    g.addStringArray("tokenizer.ggml.tokens", tokens);
    g.addF32Array("tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.0f));
    g.addU32("tokenizer.ggml.bos_token_id", 1);
    g.addU32("tokenizer.ggml.eos_token_id", 2);

    std::uint64_t next = 0;
    for (TensorSpec& t : specs) {
        std::uint64_t n = 1;
        for (std::uint64_t x : t.shape) n *= x;
        t.bytes = attn::ggmlBytes(static_cast<std::uint32_t>(t.type), n);
        t.offset = next;
        next = (next + t.bytes + g.alignment - 1) / g.alignment * g.alignment;
        // The writer lays out the infos; the data is streamed below at the same offsets.
        g.addTensor(t.name, t.shape, static_cast<std::uint32_t>(t.type), std::string(), t.offset);
    }
    const std::string header = g.bytes();  // ends padded to the alignment: the data section
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f) {
        std::fprintf(stderr, "cannot write %s\n", out.c_str());
        return 1;
    }
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    attn::bench::Rng rng(seed);
    std::uint64_t written = 0;
    for (const TensorSpec& t : specs) {
        const std::uint64_t rowLen = t.shape[0];
        const std::uint64_t rows = t.shape.size() > 1 ? t.shape[1] : 1;
        // A few rows at a time: quantize works on whole rows (multiples of the block).
        const std::uint64_t chunk = std::max<std::uint64_t>(1, (1u << 20) / rowLen);
        std::vector<float> values;
        for (std::uint64_t r0 = 0; r0 < rows; r0 += chunk) {
            const std::uint64_t m = std::min(chunk, rows - r0);
            values.resize(m * rowLen);
            for (std::size_t i = 0; i < values.size(); ++i) {
                if (!t.values.empty())
                    values[i] = t.values[i];
                else
                    values[i] = (t.norm ? 1.0f : 0.0f) + t.scale * rng.uniform();
            }
            auto q = attn::quantize(static_cast<std::uint32_t>(t.type), values);
            if (!q) {
                std::fprintf(stderr, "%s: %s\n", t.name.c_str(), q.message().c_str());
                return 1;
            }
            f.write(reinterpret_cast<const char*>(q->data()),
                    static_cast<std::streamsize>(q->size()));
            written += q->size();
        }
        const std::uint64_t pad = (g.alignment - t.bytes % g.alignment) % g.alignment;
        const std::string zeros(pad, '\0');
        f.write(zeros.data(), static_cast<std::streamsize>(pad));
        written += pad;
    }
    f.close();
    if (!f) {
        std::fprintf(stderr, "writing %s failed\n", out.c_str());
        return 1;
    }
    std::printf("%s: %d layers, vocab %d, %.1f MB\n", out.c_str(), S.L, S.V,
                static_cast<double>(header.size() + written) / 1e6);
    return 0;
}
