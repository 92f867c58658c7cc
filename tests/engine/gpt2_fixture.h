#pragma once
// A random GPT-2 checkpoint in Hugging Face's on-disk layout (config.json, model.safetensors,
// vocab.json, merges.txt), for the GPT-2 tests and the GPT-2 benchmark. The weights stay in
// HF's own layout here (Conv1D (in, out) matrices, fused c_attn), so a reference forward pass
// over them checks the loader's mapping as well as the engine.

#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "attn/formats/gpt2.h"
#include "attn/formats/safetensors.h"

namespace attn::fixture {

struct Gpt2Shape {
    int d = 16;
    int heads = 4;
    int layers = 2;
    int vocab = 265;
    int positions = 32;
    float eps = 1e-5f;
};

struct Gpt2LayerHf {
    RowVec ln1_g, ln1_b;  // (d)
    Mat c_attn_w;         // (d, 3d): x·W gives [q | k | v]
    RowVec c_attn_b;      // (3d)
    Mat c_proj_w;         // (d, d)
    RowVec c_proj_b;      // (d)
    RowVec ln2_g, ln2_b;  // (d)
    Mat fc_w;             // (d, 4d)
    RowVec fc_b;          // (4d)
    Mat proj_w;           // (4d, d)
    RowVec proj_b;        // (d)
};

struct Gpt2Hf {
    Gpt2Shape shape;
    Mat wte;  // (vocab, d)
    Mat wpe;  // (positions, d)
    std::vector<Gpt2LayerHf> layers;
    RowVec lnf_g, lnf_b;  // (d)
};

inline Mat uniformMat(int rows, int cols, float scale, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-scale, scale);
    Mat m(rows, cols);
    float* p = m.data();
    for (Eigen::Index i = 0; i < m.size(); ++i) p[i] = u(rng);
    return m;
}

inline RowVec uniformVec(int n, float center, float scale, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-scale, scale);
    RowVec v(n);
    for (int i = 0; i < n; ++i) v(i) = center + u(rng);
    return v;
}

inline Gpt2Hf randomGpt2(const Gpt2Shape& s, unsigned seed) {
    std::mt19937 rng(seed);
    Gpt2Hf m;
    m.shape = s;
    const int d = s.d;
    const float w = 0.5f / std::sqrt(static_cast<float>(d));
    m.wte = uniformMat(s.vocab, d, 0.5f, rng);
    m.wpe = uniformMat(s.positions, d, 0.2f, rng);
    for (int l = 0; l < s.layers; ++l) {
        Gpt2LayerHf L;
        L.ln1_g = uniformVec(d, 1.0f, 0.2f, rng);
        L.ln1_b = uniformVec(d, 0.0f, 0.1f, rng);
        L.c_attn_w = uniformMat(d, 3 * d, 3 * w, rng);
        L.c_attn_b = uniformVec(3 * d, 0.0f, 0.1f, rng);
        L.c_proj_w = uniformMat(d, d, w, rng);
        L.c_proj_b = uniformVec(d, 0.0f, 0.1f, rng);
        L.ln2_g = uniformVec(d, 1.0f, 0.2f, rng);
        L.ln2_b = uniformVec(d, 0.0f, 0.1f, rng);
        // Large pre-activations, where GELU's tanh form and its erf form differ visibly.
        L.fc_w = uniformMat(d, 4 * d, 6 * w, rng);
        L.fc_b = uniformVec(4 * d, 0.0f, 1.0f, rng);
        L.proj_w = uniformMat(4 * d, d, w, rng);
        L.proj_b = uniformVec(d, 0.0f, 0.1f, rng);
        m.layers.push_back(std::move(L));
    }
    m.lnf_g = uniformVec(d, 1.0f, 0.2f, rng);
    m.lnf_b = uniformVec(d, 0.0f, 0.1f, rng);
    return m;
}

/// JSON string literal for any UTF-8 text (quotes, backslashes and controls escaped).
inline std::string jsonString(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

/// The tokenizer files: ids 0..255 are the bytes (by value), then extra tokens in order,
/// then "<|endoftext|>"; merges in rank order. Pads the vocabulary with "<pad{i}>" tokens up
/// to vocab entries.
struct Gpt2TokenizerFiles {
    std::vector<std::string> extra;  // merged tokens, in byte↔unicode form, ids 256, 257, …
    std::vector<std::pair<std::string, std::string>> merges;
};

inline std::string gpt2VocabJson(const Gpt2TokenizerFiles& t, int vocab) {
    std::ostringstream out;
    out << "{";
    int id = 0;
    auto add = [&](const std::string& tok) {
        out << (id > 0 ? ",\n" : "") << jsonString(tok) << ": " << id;
        ++id;
    };
    for (int b = 0; b < 256; ++b)
        add(ByteLevelBpeTokenizer::byteToSymbol(static_cast<unsigned char>(b)));
    for (const auto& e : t.extra) add(e);
    add("<|endoftext|>");
    while (id < vocab) add("<pad" + std::to_string(id) + ">");
    out << "}\n";
    return out.str();
}

inline std::string gpt2MergesTxt(const Gpt2TokenizerFiles& t) {
    std::string out = "#version: 0.2\n";
    for (const auto& [a, b] : t.merges) out += a + " " + b + "\n";
    return out;
}

inline std::string gpt2ConfigJson(const Gpt2Shape& s, const std::string& model_type = "gpt2") {
    std::ostringstream o;
    o << "{\n  \"model_type\": \"" << model_type
      << "\",\n  \"architectures\": [\"GPT2LMHeadModel\"],\n"
      << "  \"n_embd\": " << s.d << ",\n  \"n_head\": " << s.heads
      << ",\n  \"n_layer\": " << s.layers << ",\n  \"n_positions\": " << s.positions
      << ",\n  \"n_ctx\": " << s.positions << ",\n  \"vocab_size\": " << s.vocab
      << ",\n  \"layer_norm_epsilon\": " << s.eps
      << ",\n  \"activation_function\": \"gelu_new\",\n  \"n_inner\": null\n}\n";
    return o.str();
}

/// The tensors of model.safetensors under HF's names (with prefix, e.g. "transformer.").
inline std::vector<std::pair<std::string, TensorF32>> gpt2Tensors(const Gpt2Hf& m,
                                                                  const std::string& prefix) {
    std::vector<std::pair<std::string, TensorF32>> t;
    t.emplace_back(prefix + "wte.weight", toTensor(m.wte));
    t.emplace_back(prefix + "wpe.weight", toTensor(m.wpe));
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const Gpt2LayerHf& L = m.layers[l];
        const std::string h = prefix + "h." + std::to_string(l) + ".";
        t.emplace_back(h + "ln_1.weight", toTensor(L.ln1_g));
        t.emplace_back(h + "ln_1.bias", toTensor(L.ln1_b));
        t.emplace_back(h + "attn.c_attn.weight", toTensor(L.c_attn_w));
        t.emplace_back(h + "attn.c_attn.bias", toTensor(L.c_attn_b));
        t.emplace_back(h + "attn.c_proj.weight", toTensor(L.c_proj_w));
        t.emplace_back(h + "attn.c_proj.bias", toTensor(L.c_proj_b));
        t.emplace_back(h + "ln_2.weight", toTensor(L.ln2_g));
        t.emplace_back(h + "ln_2.bias", toTensor(L.ln2_b));
        t.emplace_back(h + "mlp.c_fc.weight", toTensor(L.fc_w));
        t.emplace_back(h + "mlp.c_fc.bias", toTensor(L.fc_b));
        t.emplace_back(h + "mlp.c_proj.weight", toTensor(L.proj_w));
        t.emplace_back(h + "mlp.c_proj.bias", toTensor(L.proj_b));
    }
    t.emplace_back(prefix + "ln_f.weight", toTensor(m.lnf_g));
    t.emplace_back(prefix + "ln_f.bias", toTensor(m.lnf_b));
    return t;
}

inline bool writeText(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    return std::fclose(f) == 0 && ok;
}

/// Writes the whole folder; the message says what failed.
inline Status writeGpt2Folder(const std::string& folder, const Gpt2Hf& m,
                              const Gpt2TokenizerFiles& tok, const std::string& prefix = "") {
    if (!writeText(folder + "/config.json", gpt2ConfigJson(m.shape)) ||
        !writeText(folder + "/vocab.json", gpt2VocabJson(tok, m.shape.vocab)) ||
        !writeText(folder + "/merges.txt", gpt2MergesTxt(tok))) {
        return makeError(folder + ": cannot write the text files");
    }
    return writeSafetensors(folder + "/model.safetensors", gpt2Tensors(m, prefix),
                            {{"format", "pt"}});
}

}  // namespace attn::fixture
