// Model discovery: fixed-depth walks of the places people keep models, reading only metadata.

#include "attn/formats/discover.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "attn/formats/gguf.h"
#include "attn/formats/gguf_model.h"
#include "attn/formats/llama2c.h"
#include "attn/formats/load.h"
#include "attn/result.h"
#include "json_util.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;

std::string toString(ModelSource source) {
    switch (source) {
        case ModelSource::HuggingFaceCache:
            return "Hugging Face cache";
        case ModelSource::Ollama:
            return "Ollama";
        case ModelSource::LmStudio:
            return "LM Studio";
        case ModelSource::File:
            return "file";
    }
    return "?";
}

namespace {

// A manifest or config.json is a few kilobytes; anything this large is not one.
constexpr std::uintmax_t kMaxJsonBytes = 4u << 20;
// Entries read from one folder: a hub cache or a Downloads folder is large, never this large.
constexpr std::size_t kMaxFolderEntries = 20000;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
}

// The entries of one folder (no recursion), sorted, at most kMaxFolderEntries; empty when it
// cannot be read.
std::vector<fs::directory_entry> listFolder(const fs::path& dir) {
    std::vector<fs::directory_entry> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return out;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec || out.size() >= kMaxFolderEntries) break;
        out.push_back(*it);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.path() < b.path(); });
    return out;
}

bool isDir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}
bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}
std::uint64_t sizeOf(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);  // follows symlinks (the hub's snapshot → blob links)
    return ec ? 0 : static_cast<std::uint64_t>(n);
}

bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Result<json> readJson(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    if (ec) return makeError(p.string() + ": cannot be read", ErrorCode::NotFound);
    if (n > kMaxJsonBytes)
        return makeError(p.string() + ": " + std::to_string(n) +
                             " bytes, too large for a JSON manifest or config (at most 4 MB)",
                         ErrorCode::Corrupt);
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in && !in.eof()) return makeError(p.string() + ": cannot be read", ErrorCode::NotFound);
    auto parsed = detail::parseJsonText(s.str(), p.string());  // bounded nesting, no NUL
    if (!parsed) return parsed.error();
    json j = std::move(parsed).value();
    if (!j.is_object()) return makeError(p.string() + ": not a JSON object", ErrorCode::Corrupt);
    return j;
}

std::string stringField(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Architecture and quantization of a GGUF file, from its header only.
void describeGguf(const fs::path& p, DiscoveredModel& m) {
    m.format = "gguf";
    m.size_bytes = sizeOf(p);
    auto file = openGguf(p.string());
    if (!file) {
        m.error = file.message();
        return;
    }
    auto arch = (*file)->getStringOr("general.architecture", "");
    if (arch) m.architecture = *arch;
    m.quantization = ggufQuantization(**file);
}

// A Hugging Face model folder (config.json beside its weights).
void describeHfFolder(const fs::path& dir, DiscoveredModel& m) {
    m.path = dir.string();
    std::uint64_t bytes = 0;
    bool safetensors = false, pytorch = false;
    for (const auto& e : listFolder(dir)) {
        if (!isFile(e.path())) continue;
        const std::string f = e.path().filename().string();
        bytes += sizeOf(e.path());
        if (endsWith(f, ".safetensors")) safetensors = true;
        if (endsWith(f, ".bin") && f.rfind("pytorch_model", 0) == 0) pytorch = true;
    }
    m.size_bytes = bytes;
    m.format = safetensors ? "safetensors" : pytorch ? "pytorch" : "";
    auto cfg = readJson(dir / "config.json");
    if (!cfg) {
        m.error = cfg.message();
        return;
    }
    const json& c = *cfg;
    if (auto a = c.find("architectures");
        a != c.end() && a->is_array() && !a->empty() && a->front().is_string())
        m.architecture = a->front().get<std::string>();
    else
        m.architecture = stringField(c, "model_type");
    if (auto q = c.find("quantization_config"); q != c.end() && q->is_object())
        m.quantization = stringField(*q, "quant_method");
    if (m.quantization.empty()) m.quantization = stringField(c, "torch_dtype");
    if (m.quantization.empty()) m.quantization = stringField(c, "dtype");
}

void describeFile(const fs::path& p, DiscoveredModel& m) {
    m.path = p.string();
    if (looksLikeGguf(p.string())) {
        describeGguf(p, m);
        return;
    }
    auto header = readLlama2cHeader(p.string());
    if (header) {
        m.format = "llama2.c";
        m.architecture = "llama";
        m.quantization = "F32";
        m.size_bytes = sizeOf(p);
        return;
    }
    m.size_bytes = sizeOf(p);
    m.error = p.string() + ": neither a GGUF file nor a llama2.c checkpoint";
}

// The snapshot a models--org--name folder opens: refs/main, else the newest.
fs::path chooseSnapshot(const fs::path& repo) {
    const fs::path snaps = repo / "snapshots";
    std::ifstream ref(repo / "refs" / "main");
    std::string hash;
    if (ref && std::getline(ref, hash)) {
        while (!hash.empty() && std::isspace(static_cast<unsigned char>(hash.back())))
            hash.pop_back();
        // A commit hash, never a path: "../x" must not leave the folder.
        const bool plain =
            !hash.empty() && hash.size() <= 64 &&
            std::all_of(hash.begin(), hash.end(), [](char ch) { return std::isalnum(ch) != 0; });
        if (plain && isDir(snaps / hash)) return snaps / hash;
    }
    fs::path best;
    fs::file_time_type bestTime{};
    for (const auto& e : listFolder(snaps)) {
        if (!isDir(e.path())) continue;
        std::error_code ec;
        const auto t = fs::last_write_time(e.path(), ec);
        if (best.empty() || (!ec && t > bestTime)) best = e.path(), bestTime = t;
    }
    return best;
}

struct Collector {
    const DiscoveryRoots& roots;
    std::vector<DiscoveredModel> out;
    std::set<std::string> seen;

    bool full() const { return out.size() >= roots.max_entries; }

    // Every entry of a root is listed (Ollama tags often share one blob, as `ollama list`
    // shows them); an extra path already listed under a root is left out.
    void add(DiscoveredModel m, bool extraPath = false) {
        if (full()) return;
        std::error_code ec;
        fs::path key = fs::weakly_canonical(m.path, ec);
        if (ec) key = m.path;
        const bool fresh = seen.insert(key.string()).second;
        if (extraPath && !fresh) return;
        out.push_back(std::move(m));
    }

    void huggingFace(const fs::path& root) {
        std::vector<DiscoveredModel> found;
        for (const auto& repo : listFolder(root)) {
            if (full() || out.size() + found.size() >= roots.max_entries) break;
            const std::string dir = repo.path().filename().string();
            if (dir.rfind("models--", 0) != 0 || !isDir(repo.path())) continue;
            std::string name = dir.substr(8);
            for (std::size_t at = name.find("--"); at != std::string::npos;
                 at = name.find("--", at + 1))
                name.replace(at, 2, "/");
            const fs::path snap = chooseSnapshot(repo.path());
            DiscoveredModel m;
            m.source = ModelSource::HuggingFaceCache;
            m.name = name;
            if (snap.empty()) {
                m.path = repo.path().string();
                m.error = repo.path().string() + ": no snapshot has been downloaded";
                found.push_back(std::move(m));
                continue;
            }
            if (isFile(snap / "config.json")) {
                describeHfFolder(snap, m);
                found.push_back(std::move(m));
                continue;
            }
            // A repository of GGUF files (…-GGUF): one entry per file.
            for (const auto& f : listFolder(snap)) {
                const std::string fn = f.path().filename().string();
                if (!endsWith(fn, ".gguf") || !isFile(f.path())) continue;
                DiscoveredModel g;
                g.source = ModelSource::HuggingFaceCache;
                g.name = name + "/" + fn;
                g.path = f.path().string();
                describeGguf(f.path(), g);
                found.push_back(std::move(g));
            }
        }
        addSorted(std::move(found));
    }

    void ollama(const fs::path& root) {
        std::vector<DiscoveredModel> found;
        const fs::path blobs = root / "blobs";
        // manifests/<host>/<namespace>/<model>/<tag>
        for (const auto& host : listFolder(root / "manifests")) {
            if (!isDir(host.path())) continue;
            for (const auto& ns : listFolder(host.path())) {
                if (!isDir(ns.path())) continue;
                for (const auto& model : listFolder(ns.path())) {
                    if (!isDir(model.path())) continue;
                    for (const auto& tag : listFolder(model.path())) {
                        if (out.size() + found.size() >= roots.max_entries) break;
                        if (!isFile(tag.path())) continue;
                        found.push_back(ollamaEntry(blobs, host.path().filename().string(),
                                                    ns.path().filename().string(),
                                                    model.path().filename().string(), tag.path()));
                    }
                }
            }
        }
        addSorted(std::move(found));
    }

    static DiscoveredModel ollamaEntry(const fs::path& blobs, const std::string& host,
                                       const std::string& ns, const std::string& model,
                                       const fs::path& manifest) {
        DiscoveredModel m;
        m.source = ModelSource::Ollama;
        const std::string tag = manifest.filename().string();
        if (host == "registry.ollama.ai")
            m.name = (ns == "library" ? "" : ns + "/") + model + ":" + tag;
        else
            m.name = host + "/" + ns + "/" + model + ":" + tag;
        m.path = manifest.string();
        auto j = readJson(manifest);
        if (!j) {
            m.error = j.message();
            return m;
        }
        const json* layer = nullptr;
        if (auto layers = j->find("layers"); layers != j->end() && layers->is_array()) {
            for (const json& l : *layers)
                if (l.is_object() &&
                    stringField(l, "mediaType") == "application/vnd.ollama.image.model")
                    layer = &l;
        }
        if (layer == nullptr) {
            m.error = manifest.string() + ": the manifest names no model layer";
            return m;
        }
        const std::string digest = stringField(*layer, "digest");
        // "sha256:" and 64 hex digits, never a path.
        const bool ok = digest.size() == 71 && digest.rfind("sha256:", 0) == 0 &&
                        std::all_of(digest.begin() + 7, digest.end(),
                                    [](char c) { return std::isxdigit(c) != 0; });
        if (!ok) {
            m.error = manifest.string() + ": the model layer's digest '" + digest.substr(0, 80) +
                      "' is not sha256:<64 hex digits>";
            return m;
        }
        const fs::path blob = blobs / ("sha256-" + digest.substr(7));
        m.path = blob.string();
        if (!isFile(blob)) {
            m.error = manifest.string() + ": its model blob " + blob.string() + " is missing";
            return m;
        }
        describeGguf(blob, m);
        return m;
    }

    void lmStudio(const fs::path& root) {
        std::vector<DiscoveredModel> found;
        for (const auto& pub : listFolder(root)) {
            if (!isDir(pub.path())) continue;
            for (const auto& repo : listFolder(pub.path())) {
                if (!isDir(repo.path())) continue;
                for (const auto& f : listFolder(repo.path())) {
                    if (out.size() + found.size() >= roots.max_entries) break;
                    const std::string fn = f.path().filename().string();
                    if (!endsWith(fn, ".gguf") || !isFile(f.path())) continue;
                    DiscoveredModel m;
                    m.source = ModelSource::LmStudio;
                    m.name = pub.path().filename().string() + "/" +
                             repo.path().filename().string() + "/" + fn;
                    m.path = f.path().string();
                    describeGguf(f.path(), m);
                    found.push_back(std::move(m));
                }
            }
        }
        addSorted(std::move(found));
    }

    void extra(const std::string& path) {
        const fs::path p(path);
        if (isDir(p) && !isFile(p / "config.json")) {
            // A folder of model files: the GGUF files and llama2.c checkpoints right inside.
            std::vector<DiscoveredModel> found;
            for (const auto& f : listFolder(p)) {
                if (out.size() + found.size() >= roots.max_entries) break;
                if (!isFile(f.path())) continue;
                const std::string fn = f.path().filename().string();
                const bool gguf = looksLikeGguf(f.path().string());
                if (!gguf && !(endsWith(fn, ".bin") && readLlama2cHeader(f.path().string())))
                    continue;
                found.push_back(describeModelPath(f.path().string()));
            }
            if (found.empty()) {
                DiscoveredModel m;
                m.name = p.filename().string();
                m.path = path;
                m.error = path + ": no model file (GGUF, llama2.c) or config.json in this folder";
                found.push_back(std::move(m));
            }
            addSorted(std::move(found), true);
            return;
        }
        add(describeModelPath(path), true);
    }

    void addSorted(std::vector<DiscoveredModel> found, bool extraPaths = false) {
        std::stable_sort(found.begin(), found.end(),
                         [](const auto& a, const auto& b) { return a.name < b.name; });
        for (auto& m : found) add(std::move(m), extraPaths);
    }
};

}  // namespace

DiscoveredModel describeModelPath(const std::string& path) {
    DiscoveredModel m;
    m.source = ModelSource::File;
    const fs::path p(path);
    m.name = p.filename().string();
    if (m.name.empty()) m.name = p.parent_path().filename().string();
    m.path = path;
    if (isDir(p)) {
        if (isFile(p / "config.json")) {
            describeHfFolder(p, m);
        } else {
            m.error = path + ": a folder without config.json";
        }
        return m;
    }
    if (!isFile(p)) {
        m.error = path + ": no such file or folder";
        return m;
    }
    describeFile(p, m);
    return m;
}

DiscoveryRoots defaultDiscoveryRoots(std::vector<std::string> extra) {
    DiscoveryRoots r;
    if (auto hf = huggingFaceCacheDir(); !hf.empty()) r.hugging_face.push_back(hf);
    const std::string home = env("HOME");
    if (auto o = env("OLLAMA_MODELS"); !o.empty()) {
        r.ollama.push_back(o);
    } else {
        if (!home.empty()) r.ollama.push_back((fs::path(home) / ".ollama" / "models").string());
        r.ollama.emplace_back("/usr/share/ollama/.ollama/models");
    }
    if (!home.empty()) {
        r.lm_studio.push_back((fs::path(home) / ".lmstudio" / "models").string());
        r.lm_studio.push_back((fs::path(home) / ".cache" / "lm-studio" / "models").string());
    }
    r.extra = std::move(extra);
    return r;
}

std::vector<DiscoveredModel> discoverModels(const DiscoveryRoots& roots) {
    Collector c{roots, {}, {}};
    for (const auto& r : roots.hugging_face) c.huggingFace(r);
    for (const auto& r : roots.ollama) c.ollama(r);
    for (const auto& r : roots.lm_studio) c.lmStudio(r);
    for (const auto& e : roots.extra) {
        if (c.full()) break;
        c.extra(e);
    }
    return std::move(c.out);
}

}  // namespace attn
