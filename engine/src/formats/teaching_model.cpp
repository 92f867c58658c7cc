// Teaching models on disk: one safetensors file whose "__metadata__" carries the config (JSON),
// the vocabularies (JSON arrays) and the special token ids. docs/MODEL_FORMAT.md describes it.

#include "attn/formats/teaching_model.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "attn/corpus.h"
#include "attn/formats/safetensors.h"
#include "attn/weight_tensors.h"
#include "json_util.h"
#include "mapped_file.h"

namespace attn {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormatName = "attention-lab-teaching-model";
constexpr int kFormatVersion = 1;

template <class E>
bool parseByName(const std::string& text, E* out, std::initializer_list<E> all) {
    for (E e : all)
        if (toString(e) == text) {
            *out = e;
            return true;
        }
    return false;
}

// A float as the shortest decimal that reads back the same float: 1e-05, not 9.99999974e-06.
double tidy(float v) {
    char buf[32];
    for (int digits = 6; digits <= 9; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(v));
        if (std::strtof(buf, nullptr) == v) break;
    }
    return std::strtod(buf, nullptr);
}

// The attention knobs sit in the config object beside the shape, as they always have: in the
// file they say what the weights were trained with (Model::trained_attention), not what a run
// must use.
json configToJson(const ModelConfig& c, const AttentionKnobs& k) {
    return json{
        {"name", c.name},
        {"architecture", toString(c.architecture)},
        {"d_model", c.d_model},
        {"n_heads", c.n_heads},
        {"n_kv_heads", c.kvHeads()},
        {"d_head", c.headDim()},
        {"n_layers", c.n_layers},
        {"n_decoder_layers", c.n_decoder_layers},
        {"d_ff", c.ffDim()},
        {"vocab_size", c.vocab_size},
        {"target_vocab_size", c.target_vocab_size},
        {"type_vocab_size", c.type_vocab_size},
        {"max_len", c.max_len},
        {"positional", toString(c.positional)},
        {"pe_base", tidy(c.pe_base)},
        {"rope_theta", tidy(c.rope_theta)},
        {"norm", toString(c.norm)},
        {"pre_norm", c.pre_norm},
        {"embedding_norm", c.embedding_norm},
        {"final_norm", c.final_norm},
        {"norm_eps", tidy(c.norm_eps)},
        {"activation", toString(c.activation)},
        {"has_lm_head", c.has_lm_head},
        {"projection", toString(k.projection)},
        {"score", toString(k.score)},
        {"scale", k.scale},
        {"temperature", tidy(k.temperature)},
        {"mask", toString(k.mask)},
        {"seed", c.seed},
    };
}

struct StoredConfig {
    ModelConfig config;
    AttentionKnobs attention;  // absent keys: the defaults
};

// Every number of the config is checked for what its field needs before a weight is made from
// it: an integer written as an integer (64.5 is not silently 64), within a stated range, and a
// float finite and positive where it must be. The bounds are far above any teaching model.
class ConfigFields {
public:
    explicit ConfigFields(const json& j) : m_j(j) {}
    const std::string& error() const { return m_error; }

    int integer(const char* key, std::optional<int> fallback, long long lo, long long hi) {
        const auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) {
            if (!fallback) fail(std::string("\"") + key + "\" is missing");
            return fallback.value_or(0);
        }
        // Unsigned integers above the signed range are out of range whatever lo and hi are.
        if (!it->is_number_integer() ||
            (it->is_number_unsigned() &&
             it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) ||
            it->get<long long>() < lo || it->get<long long>() > hi) {
            fail(std::string("\"") + key + "\" is " + detail::jsonExcerpt(*it) +
                 ", expected a whole number from " + std::to_string(lo) + " to " +
                 std::to_string(hi));
            return fallback.value_or(0);
        }
        return static_cast<int>(it->get<long long>());
    }
    float number(const char* key, float fallback, bool positive) {
        const auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return fallback;
        const double v = it->is_number() ? it->get<double>() : std::nan("");
        if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max() ||
            (positive && !(v > 0.0))) {
            fail(std::string("\"") + key + "\" is " + detail::jsonExcerpt(*it) + ", expected a " +
                 (positive ? "finite number above 0" : "finite number"));
            return fallback;
        }
        return static_cast<float>(v);
    }
    std::uint64_t seed(const char* key, std::uint64_t fallback) {
        const auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null()) return fallback;
        if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<long long>() >= 0)) {
            fail(std::string("\"") + key + "\" is " + detail::jsonExcerpt(*it) +
                 ", expected a whole number from 0");
            return fallback;
        }
        return it->get<std::uint64_t>();
    }

private:
    void fail(std::string message) {
        if (m_error.empty()) m_error = std::move(message);
    }
    const json& m_j;
    std::string m_error;
};

// Limits of the stored config (the window's and the trainer's models are far smaller).
constexpr int kMaxVocab = 1 << 24;
constexpr int kMaxLen = 1 << 20;
constexpr int kMaxTypeVocab = 1 << 16;
constexpr int kMaxFeedForward = 1 << 18;

Result<StoredConfig> configFromJson(const json& j) {
    if (!j.is_object())
        return makeError("The model config is not a JSON object.", ErrorCode::Corrupt);
    StoredConfig stored;
    ModelConfig& c = stored.config;
    AttentionKnobs& k = stored.attention;
    try {
        auto str = [&](const char* key, const std::string& def) {
            return j.contains(key) ? j.at(key).get<std::string>() : def;
        };
        c.name = str("name", c.name);
        ConfigFields f(j);
        c.d_model = f.integer("d_model", std::nullopt, 1, 16384);
        c.n_heads = f.integer("n_heads", std::nullopt, 1, 256);
        c.n_kv_heads = f.integer("n_kv_heads", 0, 0, 256);
        c.d_head = f.integer("d_head", 0, 0, 16384);
        c.n_layers = f.integer("n_layers", std::nullopt, 1, 128);
        c.n_decoder_layers = f.integer("n_decoder_layers", 1, 0, 128);
        c.d_ff = f.integer("d_ff", 0, 0, kMaxFeedForward);
        c.vocab_size = f.integer("vocab_size", std::nullopt, 1, kMaxVocab);
        c.target_vocab_size = f.integer("target_vocab_size", 0, 0, kMaxVocab);
        c.type_vocab_size = f.integer("type_vocab_size", 0, 0, kMaxTypeVocab);
        c.max_len = f.integer("max_len", c.max_len, 1, kMaxLen);
        c.pe_base = f.number("pe_base", c.pe_base, /*positive=*/true);
        c.rope_theta = f.number("rope_theta", c.rope_theta, /*positive=*/true);
        c.norm_eps = f.number("norm_eps", c.norm_eps, /*positive=*/true);
        k.temperature = f.number("temperature", 1.0f, /*positive=*/true);
        c.seed = f.seed("seed", std::uint64_t{1});
        if (!f.error().empty())
            return makeError("The model config: " + f.error() + ".", ErrorCode::Corrupt);
        c.pre_norm = j.value("pre_norm", false);
        c.embedding_norm = j.value("embedding_norm", false);
        c.final_norm = j.value("final_norm", false);
        c.has_lm_head = j.value("has_lm_head", true);
        k.scale = j.value("scale", true);
        const std::string arch = str("architecture", "encoder");
        const std::string pos = str("positional", "sinusoidal");
        const std::string norm = str("norm", "layernorm");
        const std::string act = str("activation", "relu");
        const std::string proj = str("projection", "qkv");
        const std::string score = str("score", "scaled-dot");
        const std::string mask = str("mask", "none");
        if (!parseByName(
                arch, &c.architecture,
                {Architecture::Encoder, Architecture::Decoder, Architecture::EncoderDecoder}))
            return makeError("Unknown architecture '" + detail::shortText(arch) + "'.");
        if (!parsePositionalKind(pos, &c.positional))
            return makeError("Unknown positional encoding '" + detail::shortText(pos) + "'.");
        if (!parseByName(norm, &c.norm, {NormKind::LayerNorm, NormKind::RMSNorm}))
            return makeError("Unknown norm '" + detail::shortText(norm) + "'.");
        if (!parseByName(
                act, &c.activation,
                {Activation::ReLU, Activation::GELU, Activation::GELUTanh, Activation::SwiGLU}))
            return makeError("Unknown activation '" + detail::shortText(act) + "'.");
        if (!parseProjectionMode(proj, &k.projection))
            return makeError("Unknown projection mode '" + detail::shortText(proj) + "'.",
                             ErrorCode::Corrupt);
        if (!parseScoreFunction(score, &k.score))
            return makeError("Unknown score function '" + detail::shortText(score) + "'.",
                             ErrorCode::Corrupt);
        if (!parseMaskKind(mask, &k.mask))
            return makeError("Unknown mask '" + detail::shortText(mask) + "'.", ErrorCode::Corrupt);
    } catch (const json::exception& e) {
        return makeError(
            std::string("The model config is incomplete or has a wrong type: ") + e.what(),
            ErrorCode::Corrupt);
    }
    if (Status s = validate(c); !s) return withCode(s.error(), ErrorCode::Corrupt);
    if (Status s = validate(c.attentionConfig(k)); !s)
        return withCode(s.error(), ErrorCode::Corrupt);
    return stored;
}

std::shared_ptr<const VocabTokenizer> tokenizerFrom(const std::vector<std::string>& vocab,
                                                    bool lowercase) {
    WordTokenizerOptions o;
    o.lowercase = lowercase;
    return std::make_shared<VocabTokenizer>(vocab, kUnkId, o);
}

int idIn(const std::vector<std::string>& vocab, const std::string& word) {
    for (std::size_t i = 0; i < vocab.size(); ++i)
        if (vocab[i] == word) return static_cast<int>(i);
    return -1;
}

}  // namespace

Status saveTeachingModel(const Model& model, const std::string& path,
                         const std::map<std::string, std::string>& extra) {
    const auto* src = dynamic_cast<const VocabTokenizer*>(model.tokenizer.get());
    if (!src) return makeError("Only models with a word vocabulary can be saved in this format.");
    const auto* tgt = dynamic_cast<const VocabTokenizer*>(model.target_tokenizer.get());
    if (model.config.architecture == Architecture::EncoderDecoder && !tgt)
        return makeError("The encoder–decoder model has no target vocabulary to save.");

    std::map<std::string, std::string> meta = extra;
    meta["format"] = kFormatName;
    meta["format_version"] = std::to_string(kFormatVersion);
    meta["config"] = configToJson(model.config, model.trained_attention).dump();
    meta["vocab"] = json(src->vocab()).dump();
    if (tgt) meta["target_vocab"] = json(tgt->vocab()).dump();
    meta["special_tokens"] = json{
        {"pad", kPadToken},
        {"unk", kUnkToken},
        {"mask", kMaskToken},
        {"bos", kBosToken},
        {"eos", kEosToken}}.dump();
    meta["lowercase"] = "true";

    std::vector<std::pair<std::string, TensorF32>> tensors;
    ModelWeights& w = const_cast<ModelWeights&>(model.weights);  // read only below
    for (const TensorRef& t : tensorsOf(w)) {
        if (t.vector) {
            tensors.emplace_back(t.name,
                                 toTensor(RowVec(Eigen::Map<const RowVec>(t.data, t.size()))));
        } else {
            tensors.emplace_back(t.name,
                                 toTensor(Mat(Eigen::Map<const Mat>(t.data, t.rows, t.cols))));
        }
    }
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::exists(parent, ec))
        return makeError("Cannot save the model: the folder " + parent.string() +
                         " does not exist.");
    return writeSafetensors(path, tensors, meta, DType::F32);
}

Result<std::shared_ptr<Model>> loadTeachingModel(const std::string& path) {
    auto opened = SafetensorsFile::open(path);
    if (!opened) return opened.error();  // NotFound or Corrupt, set by the reader
    const SafetensorsFile& file = *opened.value();
    const auto& meta = file.metadata();
    auto get = [&](const char* key) -> const std::string* {
        const auto it = meta.find(key);
        return it == meta.end() ? nullptr : &it->second;
    };
    const std::string* format = get("format");
    // Not ours (UnsupportedFormat): openModel then reads the file as Hugging Face weights.
    if (!format || *format != kFormatName)
        return makeError(path +
                             " is not an Attention Lab teaching model (its metadata has no "
                             "\"format\": \"" +
                             kFormatName + "\").",
                         ErrorCode::UnsupportedFormat);
    if (const std::string* v = get("format_version"); !v || *v != std::to_string(kFormatVersion))
        return makeError(path + " is a teaching model of format version " +
                             (v ? detail::shortText(*v) : std::string("?")) +
                             "; this program reads version " + std::to_string(kFormatVersion) + ".",
                         ErrorCode::UnsupportedFormat);
    const std::string* configText = get("config");
    const std::string* vocabText = get("vocab");
    if (!configText || !vocabText)
        return makeError(path + " has no model config or vocabulary in its metadata.",
                         ErrorCode::Corrupt);

    // From here the file is one of ours: whatever is wrong with it is damage (Corrupt).
    const auto corrupt = [](std::string message) {
        return makeError(std::move(message), ErrorCode::Corrupt);
    };
    auto model = std::make_shared<Model>();
    std::vector<std::string> vocab, targetVocab;
    try {
        auto configJson = detail::parseJsonText(*configText, path + ": the config metadata");
        if (!configJson) return withCode(configJson.error(), ErrorCode::Corrupt);
        auto c = configFromJson(*configJson);
        if (!c) return makeError(path + ": " + c.message(), c.code());
        model->config = c->config;
        model->trained_attention = c->attention;
        auto vocabJson = detail::parseJsonText(*vocabText, path + ": the vocabulary metadata");
        if (!vocabJson) return withCode(vocabJson.error(), ErrorCode::Corrupt);
        vocab = vocabJson->get<std::vector<std::string>>();
        if (const std::string* t = get("target_vocab")) {
            auto targetJson = detail::parseJsonText(*t, path + ": the target vocabulary metadata");
            if (!targetJson) return withCode(targetJson.error(), ErrorCode::Corrupt);
            targetVocab = targetJson->get<std::vector<std::string>>();
        }
    } catch (const json::exception& e) {
        return corrupt(path + ": the metadata is not valid JSON (" + e.what() + ").");
    }
    ModelConfig& c = model->config;
    if (c.vocab_size <= 0 || !c.has_lm_head)
        return corrupt(path + ": a teaching model needs a vocabulary and an output layer.");
    const bool encdec = c.architecture == Architecture::EncoderDecoder;
    if (static_cast<int>(vocab.size()) != c.vocab_size)
        return corrupt(path + ": the vocabulary has " + std::to_string(vocab.size()) +
                       " words but the config says " + std::to_string(c.vocab_size) + ".");
    if (encdec && static_cast<int>(targetVocab.size()) != c.target_vocab_size)
        return corrupt(path + ": the target vocabulary has " + std::to_string(targetVocab.size()) +
                       " words but the config says " + std::to_string(c.target_vocab_size) + ".");
    if (model->trained_attention.temperature <= 0.0f)
        return corrupt(path + ": a teaching model needs temperature > 0.");
    if (idIn(vocab, kUnkToken) != kUnkId)
        return corrupt(path +
                       ": the vocabulary must start with [PAD], [UNK], [MASK], <bos>, <eos>.");

    // The config says how many weights there are; the file must be able to hold them before
    // any is made (a 300 KB file whose config says d_model 2048 × 16 layers would otherwise
    // have 7.7 GB allocated first). Every value takes at least 2 bytes (F16/BF16).
    ModelWeights& w = model->weights;
    const AttentionKnobs& trained = model->trained_attention;
    {
        const std::uint64_t values = parameterCount(c, trained, /*attention_bias=*/false);
        if (values > file.fileSize() / 2)
            return corrupt(path + ": its config needs " + detail::withThousands(values) +
                           " weights, at least " + detail::withThousands(2 * values) +
                           " bytes, but the file has only " +
                           detail::withThousands(file.fileSize()) + " bytes.");
    }
    // Read into a skeleton of the right shapes: every tensor the config needs must be there with
    // its shape; attention biases are optional.
    w = initWeights(c, trained, 0, /*attention_bias=*/true);
    const ModelWeights required = initWeights(c, trained, 0, /*attention_bias=*/false);
    std::map<std::string, std::pair<Eigen::Index, Eigen::Index>> requiredShapes;
    {
        ModelWeights r = required;
        for (const auto& t : tensorsOf(r)) requiredShapes[t.name] = {t.rows, t.cols};
    }
    for (const TensorRef& t : tensorsOf(w)) {
        const TensorInfo* info = file.find(t.name);
        if (!info) {
            if (requiredShapes.count(t.name))
                return corrupt(path + " lacks the tensor " + t.name + " that its config needs.");
            std::fill(t.data, t.data + t.size(), 0.0f);  // an absent bias: zeros, dropped below
            continue;
        }
        std::vector<std::int64_t> want;
        if (t.vector)
            want = {t.size()};
        else
            want = {t.rows, t.cols};
        if (info->shape != want) {
            std::ostringstream m;
            m << path << ": " << t.name << " has shape " << info->shapeString() << ", expected [";
            for (std::size_t i = 0; i < want.size(); ++i) m << (i ? ", " : "") << want[i];
            m << "] for this config.";
            return corrupt(m.str());
        }
        auto values = file.readFloats(t.name);
        if (!values) return values.error();
        if (t.vector) {
            std::copy(values->begin(), values->end(), t.data);
        } else {
            // Stored row-major; our Mat is column-major.
            Eigen::Map<Mat>(t.data, t.rows, t.cols) = Eigen::Map<
                const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                values->data(), t.rows, t.cols);
        }
    }
    // Biases the file did not carry are removed rather than kept as zeros.
    auto dropAbsent = [&](AttentionWeights& a, const std::string& p) {
        if (!file.find(p + "b_Q")) a.b_Q.resize(0);
        if (!file.find(p + "b_K")) a.b_K.resize(0);
        if (!file.find(p + "b_V")) a.b_V.resize(0);
        if (!file.find(p + "b_O")) a.b_O.resize(0);
    };
    for (std::size_t l = 0; l < w.layers.size(); ++l)
        dropAbsent(w.layers[l].self_attention, "layers." + std::to_string(l) + ".self_attention.");
    for (std::size_t l = 0; l < w.decoder_layers.size(); ++l) {
        const std::string p = "decoder_layers." + std::to_string(l) + ".";
        dropAbsent(w.decoder_layers[l].self_attention, p + "self_attention.");
        dropAbsent(w.decoder_layers[l].cross_attention, p + "cross_attention.");
    }
    std::set<std::string, std::less<>> known;
    for (const auto& r : tensorsOf(w)) known.insert(r.name);
    for (const auto& t : file.tensors()) {
        if (known.count(t.name) == 0)
            return corrupt(path + " has a tensor '" + detail::shortText(t.name) +
                           "' that this config does not use.");
    }

    const bool lowercase = get("lowercase") ? *get("lowercase") == "true" : true;
    model->tokenizer = tokenizerFrom(vocab, lowercase);
    if (encdec) {
        model->target_tokenizer = tokenizerFrom(targetVocab, lowercase);
        model->bos_id = idIn(targetVocab, kBosToken);
        model->eos_id = idIn(targetVocab, kEosToken);
    } else {
        model->mask_id = idIn(vocab, kMaskToken);
    }
    model->source_path = path;
    return model;
}

std::vector<std::string> builtinModelSearchPath() {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("ATTN_RESOURCES_DIR"); env && *env)
        dirs.push_back((fs::path(env) / "models").string());
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // The executable's folder and its parents: build/<preset>/app → the source tree, and an
        // installed layout (bin/ beside share/attention-lab/).
        for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
            dirs.push_back((dir / "resources" / "models").string());
            dirs.push_back((dir / "share" / "attention-lab" / "models").string());
            if (dir == dir.root_path()) break;
        }
    }
    const fs::path cwd = fs::current_path(ec);
    if (!ec) dirs.push_back((cwd / "resources" / "models").string());
    return dirs;
}

std::string builtinModelPath(const std::string& name) {
    if (name != "english" && name != "translation") return {};
    for (const std::string& dir : builtinModelSearchPath()) {
        const fs::path p = fs::path(dir) / (name + ".safetensors");
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
    }
    return {};
}

}  // namespace attn
