#include "attn/formats/hf_llama.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <numbers>

#include "attn/formats/hf_tokenizer.h"
#include "hf_common.h"

namespace attn {

namespace {

namespace fs = std::filesystem;

// Bounds on what config.json may ask of us before anything is allocated (validate() checks the
// model config again; the tensors' shapes are checked against these before they are read).
constexpr int kMaxDim = 1 << 16;
constexpr int kMaxVocab = 1 << 21;
constexpr int kMaxLayers = 128;
constexpr int kMaxHeads = 256;
// float32 copies of the weights; 16 GB of them is more than this machine type has.
constexpr double kMaxFloats = 4294967296.0;

enum class Family { Llama, Mistral, Qwen2, Qwen3 };

struct FamilyName {
    const char* architecture;
    const char* model_type;
    Family family;
};

constexpr FamilyName kFamilies[] = {{"LlamaForCausalLM", "llama", Family::Llama},
                                    {"MistralForCausalLM", "mistral", Family::Mistral},
                                    {"Qwen2ForCausalLM", "qwen2", Family::Qwen2},
                                    {"Qwen3ForCausalLM", "qwen3", Family::Qwen3}};

std::string supportedList() {
    std::string out;
    for (const auto& f : kFamilies) {
        if (!out.empty()) out += ", ";
        out += f.architecture;
    }
    return out + ", GPT2LMHeadModel and BertModel";
}

// Which tensors a layer has, from config.json: the one place that knows Hugging Face's names
// and our fields. A packed half-precision loader replaces readLlamaWeights only.
struct LlamaLayout {
    int d = 0, H = 0, KV = 0, dh = 0, ff = 0, V = 0, L = 0;
    bool qkv_bias = false;  // q/k/v_proj.bias (Qwen2; Llama/Qwen3 with attention_bias)
    bool o_bias = false;    // o_proj.bias (Llama/Qwen3 with attention_bias)
    bool qk_norm = false;   // q_norm/k_norm (Qwen3)
    bool tied = false;      // lm_head is the token embedding
};

// Fills w from ts as layout says; every tensor's shape is checked before it is read. Layers
// are read on both cores; the first error (in layer order) is returned.
Status readLlamaWeights(const LlamaLayout& lay, const detail::TensorSource& ts, ModelWeights& w,
                        const LoadOptions& options) {
    const int q = lay.H * lay.dh, kv = lay.KV * lay.dh;
    // The LM head: stored unless tied (a tied checkpoint may still carry a copy; it is ignored).
    if (Status s = ts.weight("model.embed_tokens.weight", lay.V, lay.d, false, w.token_embedding);
        !s)
        return s;
    w.lm_head_tied = lay.tied;
    if (!lay.tied) {
        if (!ts.has("lm_head.weight")) {
            return makeError(ts.where() +
                                 ": tensor 'lm_head.weight' is missing and config.json does not "
                                 "say tie_word_embeddings",
                             ErrorCode::Corrupt);
        }
        // (vocab, d) row-major is our (d, vocab) column-major as it stands.
        if (Status s = ts.weight("lm_head.weight", lay.V, lay.d, true, w.lm_head); !s) return s;
    }
    if (Status s = ts.vector("model.norm.weight", lay.d, w.final_norm.gamma); !s) return s;

    w.layers.resize(static_cast<std::size_t>(lay.L));
    std::vector<std::string> errors(static_cast<std::size_t>(lay.L));
    std::atomic<bool> stopped{false};
    int done = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int l = 0; l < lay.L; ++l) {
        if (stopped.load(std::memory_order_relaxed)) continue;
        if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
            stopped.store(true);
            continue;
        }
        LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
        AttentionWeights& a = lw.self_attention;
        const std::string p = "model.layers." + std::to_string(l) + ".";
        Status st = Ok{};
        auto step = [&](const Status& s) {
            if (st && !s) st = s;
        };
        // nn.Linear (out, in) read transposed: our (in, out) matrix of X·W.
        // F16/BF16 stay as stored, widened a panel at a time by the products.
        auto linear = [&](const std::string& name, int out, int in, Weight& dst) {
            if (st) step(ts.weight(p + name, out, in, true, dst));
        };
        auto vec = [&](const std::string& name, int n, RowVec& dst) {
            if (st) step(ts.vector(p + name, n, dst));
        };
        vec("input_layernorm.weight", lay.d, lw.norm1.gamma);
        linear("self_attn.q_proj.weight", q, lay.d, a.W_Q);
        linear("self_attn.k_proj.weight", kv, lay.d, a.W_K);
        linear("self_attn.v_proj.weight", kv, lay.d, a.W_V);
        linear("self_attn.o_proj.weight", lay.d, q, a.W_O);
        if (lay.qkv_bias) {
            vec("self_attn.q_proj.bias", q, a.b_Q);
            vec("self_attn.k_proj.bias", kv, a.b_K);
            vec("self_attn.v_proj.bias", kv, a.b_V);
        }
        if (lay.o_bias) vec("self_attn.o_proj.bias", lay.d, a.b_O);
        if (lay.qk_norm) {
            vec("self_attn.q_norm.weight", lay.dh, a.q_norm);
            vec("self_attn.k_norm.weight", lay.dh, a.k_norm);
        }
        vec("post_attention_layernorm.weight", lay.d, lw.norm2.gamma);
        // SwiGLU: W2·(silu(x·W1) ∘ x·W3) with W1 = gate, W3 = up, W2 = down.
        linear("mlp.gate_proj.weight", lay.ff, lay.d, lw.ffn.W1);
        linear("mlp.up_proj.weight", lay.ff, lay.d, lw.ffn.W3);
        linear("mlp.down_proj.weight", lay.d, lay.ff, lw.ffn.W2);
        if (!st) errors[static_cast<std::size_t>(l)] = st.message();
#pragma omp critical(attn_hf_llama_progress)
        {
            ++done;  // under the lock: the fractions reported never decrease
            if (options.progress) options.progress(static_cast<double>(done) / (lay.L + 1));
        }
    }
    if (stopped.load() || (options.cancel != nullptr && options.cancel->load()))
        return makeError(ts.where() + ": opening was cancelled", ErrorCode::Cancelled);
    for (const auto& e : errors)
        if (!e.empty()) return makeError(e, ErrorCode::Corrupt);
    return Ok{};
}

Error configError(const detail::HfConfig& c, const std::string& what,
                  ErrorCode code = ErrorCode::Corrupt) {
    return makeError(c.path() + ": " + what, code);
}

// A token id field: a number, a list of numbers (Llama 3.1's several EOS; the first is kept)
// or null; -1 when absent.
Result<int> tokenId(const detail::HfConfig& c, const char* key, int V) {
    const auto& j = c.raw();
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return -1;
    const detail::json* v = &*it;
    if (v->is_array()) {
        if (v->empty()) return -1;
        v = &v->front();
    }
    if (!v->is_number_integer() || v->get<long long>() < 0 || v->get<long long>() >= V) {
        return configError(c, std::string("\"") + key + "\" is " + it->dump() +
                                  ", expected a token id from 0 to " + std::to_string(V - 1));
    }
    return static_cast<int>(v->get<long long>());
}

// rope_scaling → one divisor per RoPE pair (empty for none).
Result<std::vector<float>> ropeScaling(const detail::HfConfig& c, int dh, double theta) {
    const auto& j = c.raw();
    const auto it = j.find("rope_scaling");
    if (it == j.end() || it->is_null()) return std::vector<float>{};
    const detail::json& rs = *it;
    if (!rs.is_object()) return configError(c, "\"rope_scaling\" is not an object");
    auto text = [&](const char* key) -> std::string {
        const auto f = rs.find(key);
        return f != rs.end() && f->is_string() ? f->get<std::string>() : std::string();
    };
    std::string type = text("rope_type");
    if (type.empty()) type = text("type");
    if (type.empty()) return configError(c, "\"rope_scaling\" has no \"rope_type\" (or \"type\")");
    if (type == "default") return std::vector<float>{};
    auto number = [&](const char* key) -> Result<double> {
        const auto f = rs.find(key);
        if (f == rs.end() || !f->is_number()) {
            return configError(c, std::string("rope_scaling of type ") + detail::shortText(type) +
                                      " needs a number \"" + key + "\"");
        }
        const double v = f->get<double>();
        if (!(v > 0.0) || !std::isfinite(v)) {
            return configError(c, std::string("rope_scaling \"") + key + "\" is " + f->dump() +
                                      ", expected a positive number");
        }
        return v;
    };
    if (type == "linear") {
        auto factor = number("factor");
        if (!factor) return factor.error();
        // Positions ÷ factor is every angle ÷ factor.
        return std::vector<float>(static_cast<std::size_t>(dh / 2), static_cast<float>(*factor));
    }
    if (type == "llama3") {
        auto factor = number("factor");
        if (!factor) return factor.error();
        auto low = number("low_freq_factor");
        if (!low) return low.error();
        auto high = number("high_freq_factor");
        if (!high) return high.error();
        auto orig = number("original_max_position_embeddings");
        if (!orig) return orig.error();
        if (!(*high > *low)) {
            return configError(c, "rope_scaling high_freq_factor " + std::to_string(*high) +
                                      " must be larger than low_freq_factor " +
                                      std::to_string(*low));
        }
        return llama3RopeFreqFactors(dh, theta, *factor, *low, *high, *orig);
    }
    return configError(c,
                       "rope_scaling of type '" + detail::shortText(type) +
                           "' is not supported (we run llama3 and linear scaling, or none)",
                       ErrorCode::UnsupportedArchitecture);
}

}  // namespace

const std::vector<std::string>& hfLlamaArchitectures() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& f : kFamilies) v.emplace_back(f.architecture);
        return v;
    }();
    return names;
}

bool isHfLlamaModelType(std::string_view model_type) {
    return std::any_of(std::begin(kFamilies), std::end(kFamilies),
                       [&](const FamilyName& f) { return model_type == f.model_type; });
}

std::vector<float> llama3RopeFreqFactors(int d_head, double theta, double factor,
                                         double low_freq_factor, double high_freq_factor,
                                         double original_max_position_embeddings) {
    const double low_freq_wavelen = original_max_position_embeddings / low_freq_factor;
    const double high_freq_wavelen = original_max_position_embeddings / high_freq_factor;
    std::vector<float> out(static_cast<std::size_t>(d_head / 2));
    for (int i = 0; i < d_head / 2; ++i) {
        const double inv_freq = std::pow(theta, -2.0 * i / d_head);
        const double wavelen = 2.0 * std::numbers::pi / inv_freq;
        double scaled;  // the new inverse frequency
        if (wavelen < high_freq_wavelen) {
            scaled = inv_freq;
        } else if (wavelen > low_freq_wavelen) {
            scaled = inv_freq / factor;
        } else {
            const double smooth = (original_max_position_embeddings / wavelen - low_freq_factor) /
                                  (high_freq_factor - low_freq_factor);
            scaled = (1.0 - smooth) * inv_freq / factor + smooth * inv_freq;
        }
        out[static_cast<std::size_t>(i)] = static_cast<float>(inv_freq / scaled);
    }
    return out;
}

Result<std::shared_ptr<Model>> loadHfLlamaFolder(const std::string& folder,
                                                 const LoadOptions& options) {
    const fs::path dir(folder);
    auto cfg = detail::HfConfig::load((dir / "config.json").string());
    if (!cfg) return cfg.error();
    const detail::HfConfig& c = *cfg;

    // 1. Which member of the family: "architectures", else "model_type".
    const FamilyName* fam = nullptr;
    std::string named;
    if (const auto a = c.raw().find("architectures"); a != c.raw().end() && !a->is_null()) {
        if (!a->is_array() || a->empty() || !a->front().is_string())
            return configError(c, "\"architectures\" is not a list of names");
        named = a->front().get<std::string>();
        for (const auto& f : kFamilies)
            if (named == f.architecture) fam = &f;
    } else {
        auto type = c.stringOr("model_type", "");
        if (!type) return type.error();
        named = *type;
        for (const auto& f : kFamilies)
            if (named == f.model_type) fam = &f;
    }
    if (fam == nullptr) {
        return configError(
            c, "architecture '" + named + "' is not supported (we read " + supportedList() + ")",
            ErrorCode::UnsupportedArchitecture);
    }
    const Family family = fam->family;

    // 2. Hyperparameters, each within bounds.
    auto d = c.positiveInt("hidden_size", kMaxDim);
    if (!d) return d.error();
    auto ff = c.positiveInt("intermediate_size", 4 * kMaxDim);
    if (!ff) return ff.error();
    auto L = c.positiveInt("num_hidden_layers", kMaxLayers);
    if (!L) return L.error();
    auto H = c.positiveInt("num_attention_heads", kMaxHeads);
    if (!H) return H.error();
    auto KV = c.positiveIntOr("num_key_value_heads", *H, kMaxHeads);
    if (!KV) return KV.error();
    auto V = c.positiveInt("vocab_size", kMaxVocab);
    if (!V) return V.error();
    if (*H % *KV != 0) {
        return configError(c, std::to_string(*H) + " attention heads cannot share " +
                                  std::to_string(*KV) + " key/value heads (num_key_value_heads)");
    }
    const int defaultHead = *d % *H == 0 ? *d / *H : 0;
    auto dh = c.positiveIntOr("head_dim", defaultHead, kMaxDim);
    if (!dh) return dh.error();
    if (*dh == 0) {
        return configError(c, "hidden_size " + std::to_string(*d) + " is not divisible by " +
                                  std::to_string(*H) + " heads and \"head_dim\" is not given");
    }
    if (*dh % 2 != 0) return configError(c, "odd head_dim " + std::to_string(*dh) + " for RoPE");
    auto ctx = c.positiveIntOr("max_position_embeddings", 4096, 1 << 30);
    if (!ctx) return ctx.error();
    auto eps = c.positiveNumberOr("rms_norm_eps", 1e-6f);
    if (!eps) return eps.error();
    auto theta = c.numberOr("rope_theta", 10000.0f);
    if (!theta) return theta.error();
    if (!(*theta > 1.0f) || !std::isfinite(*theta) || !(*eps >= 0.0f) || *eps > 1.0f) {
        return configError(c, "rope_theta " + std::to_string(*theta) + " or rms_norm_eps " +
                                  std::to_string(*eps) + " is out of range");
    }
    auto act = c.stringOr("hidden_act", "silu");
    if (!act) return act.error();
    if (*act != "silu") {
        return configError(
            c,
            "hidden_act '" + detail::shortText(*act) + "' is not supported (the family uses silu)",
            ErrorCode::UnsupportedArchitecture);
    }
    auto tied = c.boolOr("tie_word_embeddings", false);
    if (!tied) return tied.error();
    auto attnBias = c.boolOr("attention_bias", false);
    if (!attnBias) return attnBias.error();
    auto mlpBias = c.boolOr("mlp_bias", false);
    if (!mlpBias) return mlpBias.error();
    if (*mlpBias) {
        return configError(c, "mlp_bias is not supported", ErrorCode::UnsupportedArchitecture);
    }
    auto rotary = c.numberOr("partial_rotary_factor", 1.0f);
    if (!rotary) return rotary.error();
    if (*rotary != 1.0f) {
        return configError(c,
                           "partial_rotary_factor " + std::to_string(*rotary) +
                               " (RoPE on part of each head) is not supported",
                           ErrorCode::UnsupportedArchitecture);
    }
    int window = 0;
    if (family == Family::Mistral) {
        auto sw = c.positiveIntOr("sliding_window", 0, 1 << 30);
        if (!sw) return sw.error();
        window = *sw;
    } else if (family == Family::Qwen2 || family == Family::Qwen3) {
        // Qwen's window applies from layer max_window_layers on, when switched on.
        auto use = c.boolOr("use_sliding_window", false);
        if (!use) return use.error();
        if (*use) {
            return configError(c, "use_sliding_window (a window on some layers) is not supported",
                               ErrorCode::UnsupportedArchitecture);
        }
    }
    auto rope = ropeScaling(c, *dh, *theta);
    if (!rope) return rope.error();
    auto bos = tokenId(c, "bos_token_id", *V);
    if (!bos) return bos.error();
    auto eos = tokenId(c, "eos_token_id", *V);
    if (!eos) return eos.error();

    LlamaLayout lay;
    lay.d = *d;
    lay.H = *H;
    lay.KV = *KV;
    lay.dh = *dh;
    lay.ff = *ff;
    lay.V = *V;
    lay.L = *L;
    lay.tied = *tied;
    lay.qkv_bias = family == Family::Qwen2 || (family != Family::Mistral && *attnBias);
    lay.o_bias = (family == Family::Llama || family == Family::Qwen3) && *attnBias;
    lay.qk_norm = family == Family::Qwen3;
    const double floats = 2.0 * *V * *d + *L * (double(*d) * (*H + 2.0 * *KV) * *dh +
                                                double(*H) * *dh * *d + 3.0 * *d * *ff);
    if (floats > kMaxFloats) {
        return makeError(c.path() +
                             ": the model needs more than 16 GB as float32; it is too "
                             "large to open",
                         ErrorCode::TooLarge);
    }

    // 3. Tokenizer and weights.
    const fs::path tokPath = dir / "tokenizer.json";
    std::error_code ec;
    if (!fs::exists(tokPath, ec)) {
        return makeError(tokPath.string() + ": no such file (the folder needs its tokenizer)",
                         ErrorCode::NotFound);
    }
    auto tokenizer = loadHfTokenizer(tokPath.string());
    if (!tokenizer) return tokenizer.error();
    if ((*tokenizer)->vocabSize() > *V) {
        return makeError(tokPath.string() + ": the tokenizer has ids up to " +
                             std::to_string((*tokenizer)->vocabSize() - 1) +
                             " but config.json says vocab_size " + std::to_string(*V),
                         ErrorCode::Corrupt);
    }
    // Not populated: F16/BF16 weights stay mapped and are read by the products; float32 ones
    // fault their pages in as they are copied.
    auto src = detail::TensorSource::open(folder, /*populate=*/false);
    if (!src) return src.error();
    if (Status s = src->checkShards(); !s) return s.error();

    auto model = std::make_shared<Model>();
    ModelConfig& mc = model->config;
    mc.name = detail::displayNameOfFolder(folder);
    mc.architecture = Architecture::Decoder;
    mc.d_model = *d;
    mc.n_heads = *H;
    mc.n_kv_heads = *KV;
    mc.d_head = *dh;
    mc.n_layers = *L;
    mc.d_ff = *ff;
    mc.vocab_size = *V;
    mc.max_len = *ctx;
    mc.positional = PositionalKind::Rope;
    mc.rope_theta = *theta;
    mc.rope_pairs = RopePairs::Halves;  // rotate_half
    mc.rope_freq_factors = std::move(rope).value();
    mc.sliding_window = window;
    mc.norm = NormKind::RMSNorm;
    mc.pre_norm = true;
    mc.final_norm = true;
    mc.norm_eps = *eps;
    mc.activation = Activation::SwiGLU;
    mc.has_lm_head = true;
    if (Status s = validate(mc); !s) return configError(c, s.message());
    model->trained_attention.mask = MaskKind::Causal;

    // A tensor missing or misshapen: the folder contradicts its own config.json.
    if (Status s = readLlamaWeights(lay, *src, model->weights, options); !s)
        return s.code() == ErrorCode::Cancelled ? s.error()
                                                : makeError(s.message(), ErrorCode::Corrupt);

    model->tokenizer = std::move(tokenizer).value();
    model->bos_id = *bos;
    model->eos_id = *eos;
    model->source_path = folder;
    const std::string dtype = src->mainDType();
    if (dtype != "F32") model->quantization = dtype;
    return model;
}

}  // namespace attn
