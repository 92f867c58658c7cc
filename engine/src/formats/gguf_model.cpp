#include "attn/formats/gguf_model.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "attn/formats/ggml_quants.h"
#include "attn/formats/ggml_types.h"
#include "attn/formats/gguf_tokenizer.h"
#include "json_util.h"

namespace attn {

namespace {

namespace fs = std::filesystem;

// Bounds on what a file may ask of us before anything is allocated (validate() checks the
// model config itself again).
constexpr std::int64_t kMaxDim = 1 << 16;
constexpr std::int64_t kMaxVocab = 1 << 21;
constexpr std::int64_t kMaxLayers = 128;
constexpr std::int64_t kMaxHeads = 256;
// float32 copies of the weights; 16 GB of them is more than this machine type has.
constexpr std::uint64_t kMaxFloats = 1ull << 32;

struct Loader {
    const GgufFile& f;
    std::string arch;
    std::shared_ptr<const GgufFile> owner;  // what packed weights keep alive (the map)
    bool pack = true;                       // keep quantized and half weights as stored
    std::uint64_t floats = 0;               // float32 values allocated so far

    std::string key(const std::string& k) const { return arch + "." + k; }

    Error corrupt(const std::string& what) const {
        return makeError(f.path() + ": " + what, ErrorCode::Corrupt);
    }

    // A required positive integer within [1, max].
    Result<int> count(const std::string& k, std::int64_t max) const {
        if (!f.has(k))
            return corrupt("has no " + k + " (needed by architecture " + detail::shortText(arch) +
                           ")");
        auto v = f.getInt(k);
        if (!v) return v.error();
        if (*v < 1 || *v > max) {
            return corrupt(k + " = " + std::to_string(*v) + " is outside 1.." +
                           std::to_string(max));
        }
        return static_cast<int>(*v);
    }
    Result<int> countOr(const std::string& k, std::int64_t max, int fallback) const {
        if (!f.has(k)) return fallback;
        return count(k, max);
    }

    const GgufTensorInfo* find(const std::string& name) const { return f.tensor(name); }

    // Whether a tensor stays as stored: every type but F32 (which a product reads fastest as
    // it is, copied once) when packing is on.
    bool packs(const GgufTensorInfo& t) const {
        return pack && t.type != static_cast<std::uint32_t>(GgmlType::F32);
    }

    // Checks a tensor's ggml shape and type and that the floats fit our budget (packed
    // tensors allocate none).
    Result<const GgufTensorInfo*> check(const std::string& name,
                                        const std::vector<std::uint64_t>& shape,
                                        bool packable = false) {
        const GgufTensorInfo* t = f.tensor(name);
        if (t == nullptr) return corrupt("has no tensor '" + name + "'");
        if (t->shape != shape) {
            GgufTensorInfo want;
            want.shape = shape;
            return corrupt("tensor '" + name + "' has shape " + t->shapeText() + ", expected " +
                           want.shapeText());
        }
        if (!canDequantize(t->type)) {
            return makeError(f.path() + ": tensor '" + name + "' is stored as " + t->typeName() +
                                 ", which is not read yet (we read F32, F16, BF16, Q8_0, Q4_0, "
                                 "Q4_K, Q5_K and Q6_K)",
                             ErrorCode::UnsupportedFormat);
        }
        if (packable && packs(*t)) return t;
        floats += t->n_elements;
        if (floats > kMaxFloats) {
            return makeError(f.path() + ": the model needs more than " +
                                 std::to_string(kMaxFloats * 4 >> 30) +
                                 " GB as float32; it is too large to open",
                             ErrorCode::TooLarge);
        }
        return t;
    }

    // A weight stored [in, out] as the (in, out) matrix of X·W: its out rows of in values,
    // row-major, are that matrix column-major.
    // Quantized and half-precision ones stay in the map as they are (packed, zero-copy).
    Result<Weight> linear(const std::string& name, int in, int out) {
        auto t = check(name, {static_cast<std::uint64_t>(in), static_cast<std::uint64_t>(out)},
                       /*packable=*/true);
        if (!t) return t.error();
        if (packs(**t)) return packedView(**t, Weight::Lines::AreColumns);
        Mat W(in, out);
        Status s = dequantizeRows(**t, 0, static_cast<std::uint64_t>(out),
                                  std::span<float>(W.data(), static_cast<std::size_t>(W.size())));
        if (!s) return withPath(s.error());
        return Weight(std::move(W));
    }

    // A 2-D tensor's rows (ne[0] values each) as the lines of a packed weight. check() has
    // compared its shape and type; its data span is inside the map (gguf.cpp checked it).
    Result<Weight> packedView(const GgufTensorInfo& t, Weight::Lines lines) const {
        PackedMatrix p;
        p.type = t.type;
        p.length = static_cast<Eigen::Index>(t.rowLength());
        p.lines = static_cast<Eigen::Index>(t.rows());
        p.line_bytes = ggmlBytes(t.type, t.rowLength());
        if (p.line_bytes == 0 || p.line_bytes * t.rows() != t.data.size()) {
            return corrupt("tensor '" + t.name + "' of type " + t.typeName() + " holds " +
                           std::to_string(t.data.size()) + " bytes, which do not make " +
                           std::to_string(t.rows()) + " rows of " + std::to_string(t.rowLength()) +
                           " values");
        }
        p.data = t.data.data();
        p.owner = owner;
        return Weight::packed(std::move(p), lines);
    }

    Result<RowVec> vector(const std::string& name, int n) {
        auto t = check(name, {static_cast<std::uint64_t>(n)});
        if (!t) return t.error();
        RowVec v(n);
        Status s =
            dequantizeRows(**t, 0, 1, std::span<float>(v.data(), static_cast<std::size_t>(n)));
        if (!s) return withPath(s.error());
        return v;
    }
    Error withPath(Error e) const {
        e.message = f.path() + ": " + e.message;
        return e;
    }
};

std::string fileTypeName(std::int64_t ft) {
    // llama_ftype (llama.h): what llama-quantize calls the mixes it writes.
    static const std::map<std::int64_t, std::string> kNames = {
        {0, "F32"},      {1, "F16"},      {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
        {8, "Q5_0"},     {9, "Q5_1"},     {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
        {13, "Q3_K_L"},  {14, "Q4_K_S"},  {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
        {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"}, {22, "IQ3_XS"},
        {23, "IQ3_XXS"}, {24, "IQ1_S"},   {25, "IQ4_NL"}, {26, "IQ3_S"},  {27, "IQ3_M"},
        {28, "IQ2_S"},   {29, "IQ2_M"},   {30, "IQ4_XS"}, {31, "IQ1_M"},  {32, "BF16"}};
    const auto it = kNames.find(ft);
    return it == kNames.end() ? std::string() : it->second;
}

}  // namespace

std::string ggufQuantization(const GgufFile& file) {
    if (file.has("general.file_type")) {
        auto ft = file.getInt("general.file_type");
        if (ft) {
            std::string name = fileTypeName(*ft);
            if (!name.empty()) return name;
        }
    }
    std::map<std::uint32_t, std::uint64_t> values;  // type → values in 2-D tensors
    for (const GgufTensorInfo& t : file.tensors())
        if (t.shape.size() >= 2) values[t.type] += t.n_elements;
    std::uint32_t best = 0;
    std::uint64_t most = 0;
    for (const auto& [type, n] : values) {
        if (n > most) {
            most = n;
            best = type;
        }
    }
    return ggmlTypeName(best);
}

Result<std::shared_ptr<const TextTokenizer>> loadGgufTokenizer(const GgufFile& f) {
    return tokenizerFromGguf(f);
}

Result<std::shared_ptr<Model>> loadGgufModel(const std::shared_ptr<const GgufFile>& file,
                                             const LoadOptions& options) {
    const GgufFile& f = *file;
    const auto cancelled = [&options] {
        return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
    };
    auto archName = f.getStringOr("general.architecture", "");
    if (!archName) return archName.error();
    if (archName->empty()) {
        return makeError(f.path() + ": has no general.architecture", ErrorCode::Corrupt);
    }
    const std::string& arch = *archName;
    if (arch != "llama" && arch != "qwen2" && arch != "qwen3") {
        return makeError(f.path() + ": architecture '" + detail::shortText(arch) +
                             "' is not supported (we read llama, qwen2 and qwen3)",
                         ErrorCode::UnsupportedArchitecture);
    }
    Loader ld{f, arch, file, options.pack_weights};

    // 1. Hyperparameters.
    auto d = ld.count(ld.key("embedding_length"), kMaxDim);
    if (!d) return d.error();
    auto L = ld.count(ld.key("block_count"), kMaxLayers);
    if (!L) return L.error();
    if (f.typeOf(ld.key("attention.head_count")) == GgufType::Array) {
        return makeError(f.path() + ": " + ld.key("attention.head_count") +
                             " differs per layer, which is not supported",
                         ErrorCode::UnsupportedArchitecture);
    }
    auto H = ld.count(ld.key("attention.head_count"), kMaxHeads);
    if (!H) return H.error();
    if (f.typeOf(ld.key("attention.head_count_kv")) == GgufType::Array) {
        return makeError(f.path() + ": " + ld.key("attention.head_count_kv") +
                             " differs per layer, which is not supported",
                         ErrorCode::UnsupportedArchitecture);
    }
    auto KV = ld.countOr(ld.key("attention.head_count_kv"), kMaxHeads, *H);
    if (!KV) return KV.error();
    auto ff = ld.count(ld.key("feed_forward_length"), 4 * kMaxDim);
    if (!ff) return ff.error();
    if (*H % *KV != 0) {
        return ld.corrupt(std::to_string(*H) + " heads cannot share " + std::to_string(*KV) +
                          " key/value heads");
    }
    const int defaultHead = *d % *H == 0 ? *d / *H : 0;
    auto dk = ld.countOr(ld.key("attention.key_length"), kMaxDim, defaultHead);
    if (!dk) return dk.error();
    auto dv = ld.countOr(ld.key("attention.value_length"), kMaxDim, *dk);
    if (!dv) return dv.error();
    if (*dk == 0) {
        return ld.corrupt("embedding_length " + std::to_string(*d) + " is not divisible by " +
                          std::to_string(*H) + " heads and attention.key_length is not given");
    }
    if (*dk != *dv) {
        return makeError(f.path() + ": key length " + std::to_string(*dk) +
                             " differs from value length " + std::to_string(*dv) +
                             ", which is not supported",
                         ErrorCode::UnsupportedArchitecture);
    }
    const int dh = *dk;
    if (dh % 2 != 0) return ld.corrupt("odd head size " + std::to_string(dh) + " for RoPE");
    auto ropeDims = ld.countOr(ld.key("rope.dimension_count"), kMaxDim, dh);
    if (!ropeDims) return ropeDims.error();
    if (*ropeDims != dh) {
        return makeError(f.path() + ": RoPE on " + std::to_string(*ropeDims) + " of " +
                             std::to_string(dh) +
                             " head dimensions (partial rotary) is not supported",
                         ErrorCode::UnsupportedArchitecture);
    }
    if (f.has(ld.key("rope.scaling.type"))) {
        auto type = f.getString(ld.key("rope.scaling.type"));
        if (!type) return type.error();
        auto factor = f.getFloatOr(ld.key("rope.scaling.factor"), 1.0);
        if (!factor) return factor.error();
        if (*type != "none" && *factor != 1.0) {
            return makeError(f.path() + ": RoPE scaling '" + detail::shortText(*type) +
                                 "' (factor " + std::to_string(*factor) + ") is not supported yet",
                             ErrorCode::UnsupportedArchitecture);
        }
    }
    auto theta = f.getFloatOr(ld.key("rope.freq_base"), 10000.0);
    if (!theta) return theta.error();
    const double defaultEps = arch == "llama" ? 1e-5 : 1e-6;
    auto eps = f.getFloatOr(ld.key("attention.layer_norm_rms_epsilon"), defaultEps);
    if (!eps) return eps.error();
    if (!(*theta > 1.0) || !(*eps >= 0.0) || *eps > 1.0) {
        return ld.corrupt("rope.freq_base " + std::to_string(*theta) +
                          " or layer_norm_rms_epsilon " + std::to_string(*eps) +
                          " is out of range");
    }
    const GgufTensorInfo* emb = f.tensor("token_embd.weight");
    if (emb == nullptr) return ld.corrupt("has no tensor 'token_embd.weight'");
    if (emb->shape.size() != 2 || emb->shape[0] != static_cast<std::uint64_t>(*d) ||
        emb->shape[1] < 1 || emb->shape[1] > static_cast<std::uint64_t>(kMaxVocab)) {
        return ld.corrupt("tensor 'token_embd.weight' has shape " + emb->shapeText() +
                          ", expected [" + std::to_string(*d) + ", vocabulary]");
    }
    const int V = static_cast<int>(emb->shape[1]);
    auto ctx = ld.countOr(ld.key("context_length"), std::numeric_limits<std::int32_t>::max(), 4096);
    if (!ctx) return ctx.error();

    // The tokenizer the file stores (gpt2 byte-level BPE with its pre type, llama
    // SentencePiece, bert WordPiece): gguf_tokenizer.h.
    auto vocab = readGgufVocab(f);
    if (!vocab) return vocab.error();
    if (vocab->tokens.size() > static_cast<std::size_t>(kMaxVocab)) {
        return ld.corrupt("tokenizer.ggml.tokens holds " + std::to_string(vocab->tokens.size()) +
                          " tokens, more than the " + std::to_string(kMaxVocab) + " we read");
    }
    auto tokenizer = tokenizerFromGgufVocab(*vocab, f.path());
    if (!tokenizer) return tokenizer.error();
    if ((*tokenizer)->vocabSize() > V) {
        return ld.corrupt("the tokenizer has " + std::to_string((*tokenizer)->vocabSize()) +
                          " tokens but the embedding only " + std::to_string(V));
    }

    auto model = std::make_shared<Model>();
    ModelConfig& mc = model->config;
    auto name = f.getStringOr("general.name", "");
    if (!name) return name.error();
    // stories260K.gguf and other conversions name the model after its architecture ("llama"):
    // the file's own name says more then.
    mc.name = !name->empty() && *name != arch ? *name : fs::path(f.path()).stem().string();
    mc.architecture = Architecture::Decoder;
    mc.d_model = *d;
    mc.n_heads = *H;
    mc.n_kv_heads = *KV;
    mc.d_head = dh;
    mc.n_layers = *L;
    mc.d_ff = *ff;
    mc.vocab_size = V;
    mc.max_len = *ctx;
    mc.positional = PositionalKind::Rope;
    mc.rope_theta = static_cast<float>(*theta);
    mc.rope_pairs = arch == "llama" ? RopePairs::Adjacent : RopePairs::Halves;
    mc.norm = NormKind::RMSNorm;
    mc.pre_norm = true;
    mc.final_norm = true;
    mc.norm_eps = static_cast<float>(*eps);
    mc.activation = Activation::SwiGLU;
    mc.has_lm_head = true;
    if (f.tensor("rope_freqs.weight") != nullptr) {
        // Llama 3.1+ keeps its rope_scaling as one divisor per frequency.
        auto factors = ld.vector("rope_freqs.weight", dh / 2);
        if (!factors) return factors.error();
        for (float v : *factors) {
            if (!(v > 0.0f) || !std::isfinite(v))
                return ld.corrupt("rope_freqs.weight holds " + std::to_string(v) +
                                  "; frequency factors must be positive");
        }
        mc.rope_freq_factors.assign(factors->data(), factors->data() + factors->size());
    }
    if (Status s = validate(mc); !s) return ld.corrupt(s.message());
    model->trained_attention.mask = MaskKind::Causal;

    // 2. Weights.
    ModelWeights& w = model->weights;
    {
        auto t = ld.check("token_embd.weight", emb->shape, /*packable=*/true);
        if (!t) return t.error();
        if (ld.packs(**t)) {
            // Token v's embedding is line v: a look-up widens the rows it needs.
            auto E = ld.packedView(**t, Weight::Lines::AreRows);
            if (!E) return E.error();
            w.token_embedding = std::move(E).value();
        }
    }
    if (w.token_embedding.empty()) {
        Mat E(*d, V);  // column v = embedding of token v
        Status s = dequantizeRows(*emb, 0, static_cast<std::uint64_t>(V),
                                  std::span<float>(E.data(), static_cast<std::size_t>(E.size())));
        if (!s) return ld.withPath(s.error());
        w.token_embedding = E.transpose();  // (vocab, d_model)
    }
    const int qDim = *H * dh;
    const int kvDim = *KV * dh;
    w.layers.resize(static_cast<std::size_t>(*L));
    for (int l = 0; l < *L; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
        AttentionWeights& a = lw.self_attention;
        // Results arrive as temporaries: taken by value and moved into their slot.
        auto take = [](auto& slot, auto r) -> Status {
            if (!r) return r.error();
            slot = std::move(r).value();
            return Ok{};
        };
        Status s = take(lw.norm1.gamma, ld.vector(p + "attn_norm.weight", *d));
        if (s) s = take(a.W_Q, ld.linear(p + "attn_q.weight", *d, qDim));
        if (s) s = take(a.W_K, ld.linear(p + "attn_k.weight", *d, kvDim));
        if (s) s = take(a.W_V, ld.linear(p + "attn_v.weight", *d, kvDim));
        if (s) s = take(a.W_O, ld.linear(p + "attn_output.weight", qDim, *d));
        if (s && arch == "qwen2") {
            s = take(a.b_Q, ld.vector(p + "attn_q.bias", qDim));
            if (s) s = take(a.b_K, ld.vector(p + "attn_k.bias", kvDim));
            if (s) s = take(a.b_V, ld.vector(p + "attn_v.bias", kvDim));
        }
        if (s && arch == "qwen3") {
            s = take(a.q_norm, ld.vector(p + "attn_q_norm.weight", dh));
            if (s) s = take(a.k_norm, ld.vector(p + "attn_k_norm.weight", dh));
        }
        if (s) s = take(lw.norm2.gamma, ld.vector(p + "ffn_norm.weight", *d));
        if (s) s = take(lw.ffn.W1, ld.linear(p + "ffn_gate.weight", *d, *ff));
        if (s) s = take(lw.ffn.W3, ld.linear(p + "ffn_up.weight", *d, *ff));
        if (s) s = take(lw.ffn.W2, ld.linear(p + "ffn_down.weight", *ff, *d));
        if (!s) return s.error();
        if (options.progress) options.progress(static_cast<double>(l + 1) / (*L + 1));
        if (cancelled())
            return makeError(f.path() + ": opening was cancelled", ErrorCode::Cancelled);
    }
    {
        auto g = ld.vector("output_norm.weight", *d);
        if (!g) return g.error();
        w.final_norm.gamma = std::move(g).value();
    }
    if (f.tensor("output.weight") != nullptr) {
        auto head = ld.linear("output.weight", *d, V);  // (d_model, vocab)
        if (!head) return head.error();
        w.lm_head = std::move(head).value();
    } else {
        w.lm_head_tied = true;  // the logits use token_embedding (Qwen2/3 small models, tied)
    }

    model->tokenizer = std::move(tokenizer).value();
    model->bos_id = vocab->bos_id;
    model->eos_id = vocab->eos_id;
    model->source_path = f.path();
    model->quantization = ggufQuantization(f);
    if (options.progress) options.progress(1.0);
    return model;
}

Result<std::shared_ptr<Model>> loadGguf(const std::string& path, const LoadOptions& options) {
    auto file = openGguf(path);
    if (!file) return file.error();
    return loadGgufModel(*file, options);
}

}  // namespace attn
