#include "attn/formats/load.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "attn/formats/bert.h"
#include "attn/formats/gguf.h"
#include "attn/formats/gguf_model.h"
#include "attn/formats/gpt2.h"
#include "attn/formats/hf_llama.h"
#include "attn/formats/llama2c.h"
#include "hf_common.h"

namespace attn {

namespace {

namespace fs = std::filesystem;

// refs/main's snapshot, else the most recently written one; empty when none.
fs::path pickSnapshot(const fs::path& repo) {
    std::error_code ec;
    const auto ref = detail::readTextFile((repo / "refs" / "main").string());
    if (ref) {
        std::string hash = *ref;
        while (!hash.empty() && (hash.back() == '\n' || hash.back() == '\r' || hash.back() == ' '))
            hash.pop_back();
        fs::path snap = repo / "snapshots" / hash;
        if (!hash.empty() && hash.find('/') == std::string::npos && fs::is_directory(snap, ec))
            return snap;
    }
    fs::path best;
    fs::file_time_type best_time{};
    for (const auto& e : fs::directory_iterator(repo / "snapshots", ec)) {
        if (!e.is_directory(ec)) continue;
        const auto t = e.last_write_time(ec);
        if (best.empty() || t > best_time) {
            best = e.path();
            best_time = t;
        }
    }
    return best;
}

Result<std::shared_ptr<Model>> loadHfFolder(const fs::path& dir, const LoadOptions& options) {
    const fs::path config = dir / "config.json";
    auto cfg = detail::HfConfig::load(config.string());
    if (!cfg) return cfg.error();
    auto type = cfg->stringOr("model_type", "");
    if (!type) return type.error();
    if (*type == "gpt2") return loadGpt2Folder(dir.string());
    if (*type == "bert") return loadBertFolder(dir.string());
    // The Llama family is known by "architectures" (what transformers instantiates), else by
    // its model_type.
    std::string arch;
    if (const auto a = cfg->raw().find("architectures");
        a != cfg->raw().end() && a->is_array() && !a->empty() && a->front().is_string())
        arch = a->front().get<std::string>();
    const auto& ours = hfLlamaArchitectures();
    if (std::find(ours.begin(), ours.end(), arch) != ours.end() ||
        (arch.empty() && isHfLlamaModelType(*type)))
        return loadHfLlamaFolder(dir.string(), options);
    if (type->empty() && arch.empty()) {
        return makeError(config.string() +
                             ": has neither \"architectures\" nor \"model_type\" (we read "
                             "the Llama family, gpt2 and bert)",
                         ErrorCode::UnsupportedFormat);
    }
    std::string list;
    for (const auto& a : ours) list += a + ", ";
    const std::string named = detail::shortText(type->empty() ? arch : *type);
    const std::string also =
        !type->empty() && !arch.empty() ? detail::shortText(arch) + "; " : std::string();
    return makeError("unknown architecture '" + named + "' in " + config.string() + " (" + also +
                         "we read " + list + "gpt2 and bert)",
                     ErrorCode::UnsupportedArchitecture);
}

}  // namespace

namespace {
Result<std::shared_ptr<Model>> loadModelAt(const std::string& path, const LoadOptions& options);
}  // namespace

Result<std::shared_ptr<Model>> loadModel(const std::string& path, const LoadOptions& options) {
    if (options.cancel != nullptr && options.cancel->load())
        return makeError(path + ": opening was cancelled", ErrorCode::Cancelled);
    auto model = loadModelAt(path, options);
    if (model && options.progress) options.progress(1.0);
    return model;
}

namespace {
Result<std::shared_ptr<Model>> loadModelAt(const std::string& path, const LoadOptions& options) {
    if (path.empty()) return makeError("no model path given", ErrorCode::NotFound);
    std::error_code ec;
    const fs::path p(path);
    if (!fs::exists(p, ec))
        return makeError(path + ": no such file or folder", ErrorCode::NotFound);

    if (fs::is_directory(p, ec)) {
        if (fs::exists(p / "config.json", ec)) return loadHfFolder(p, options);
        if (fs::is_directory(p / "snapshots", ec)) {
            const fs::path snap = pickSnapshot(p);
            if (snap.empty())
                return makeError(path + ": the cache folder has no snapshot", ErrorCode::NotFound);
            if (!fs::exists(snap / "config.json", ec)) {
                return makeError((snap / "config.json").string() +
                                     ": no such file (the download is incomplete?)",
                                 ErrorCode::NotFound);
            }
            return loadHfFolder(snap, options);
        }
        // A folder holding a llama2.c checkpoint (stories260K/ with its tok512.bin).
        std::vector<fs::path> bins;
        std::vector<fs::path> ggufs;
        for (const auto& e : fs::directory_iterator(p, ec)) {
            if (!e.is_regular_file(ec)) continue;
            if (e.path().extension() == ".bin") bins.push_back(e.path());
            if (e.path().extension() == ".gguf") ggufs.push_back(e.path());
        }
        std::sort(bins.begin(), bins.end());
        for (const auto& b : bins) {
            if (readLlama2cHeader(b.string())) return loadLlama2c(b.string());
        }
        // Else a folder holding one GGUF file; with several, which one is the user's choice.
        if (ggufs.size() == 1) return loadGguf(ggufs.front().string(), options);
        if (ggufs.size() > 1) {
            return makeError(
                path + ": holds " + std::to_string(ggufs.size()) + " GGUF files; open one of them",
                ErrorCode::UnsupportedFormat);
        }
        return makeError(path +
                             ": holds no config.json (Hugging Face model), no llama2.c "
                             "checkpoint and no GGUF file",
                         ErrorCode::UnsupportedFormat);
    }

    const std::string name = p.filename().string();
    if (name == "config.json" || p.extension() == ".safetensors" ||
        name == "model.safetensors.index.json") {
        return loadModelAt(p.parent_path().string(), options);
    }
    // GGUF files are known by their magic, whatever their name (Ollama's blobs have none).
    if (looksLikeGguf(path)) return loadGguf(path, options);
    return loadLlama2c(path);
}
}  // namespace

std::string huggingFaceCacheDir() {
    auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v != nullptr ? std::string(v) : std::string();
    };
    if (auto v = env("HF_HUB_CACHE"); !v.empty()) return v;
    if (auto v = env("HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
    if (auto v = env("XDG_CACHE_HOME"); !v.empty())
        return (fs::path(v) / "huggingface" / "hub").string();
    if (auto v = env("HOME"); !v.empty())
        return (fs::path(v) / ".cache" / "huggingface" / "hub").string();
    return {};
}

std::vector<std::string> listHuggingFaceCache() {
    std::vector<std::string> out;
    const std::string root = huggingFaceCacheDir();
    if (root.empty()) return out;
    std::error_code ec;
    for (const auto& repo : fs::directory_iterator(root, ec)) {
        if (!repo.is_directory(ec) || repo.path().filename().string().rfind("models--", 0) != 0)
            continue;
        for (const auto& snap : fs::directory_iterator(repo.path() / "snapshots", ec)) {
            if (snap.is_directory(ec) && fs::exists(snap.path() / "config.json", ec))
                out.push_back(snap.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace attn
