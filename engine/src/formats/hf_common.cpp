#include "hf_common.h"

#include <unicode/utf8.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace attn::detail {

namespace fs = std::filesystem;

Result<std::string> readTextFile(const std::string& path, std::uint64_t max_bytes) {
    std::error_code ec;
    // stat before open: a FIFO or a device given as a file would block open(2) or never end.
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) return makeError(path + ": no such file", ErrorCode::NotFound);
    if (!fs::is_regular_file(st)) return makeError(path + ": not a regular file");
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) return makeError(path + ": cannot read its size");
    if (size > max_bytes) {
        return makeError(path + ": " + withThousands(size) + " bytes, more than the " +
                             withThousands(max_bytes) + " a file of this kind may have",
                         ErrorCode::Corrupt);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(path + ": cannot open");
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    if (in.bad() || static_cast<std::uintmax_t>(in.gcount()) != size)
        return makeError(path + ": reading failed");
    return text;
}

Result<json> readJsonFile(const std::string& path) {
    auto text = readTextFile(path);
    if (!text) return text.error();
    return parseJsonText(*text, path, ErrorCode::Invalid);
}

// ---------------------------------------------------------------------------------------------

Result<HfConfig> HfConfig::load(const std::string& path) {
    auto j = readJsonFile(path);
    if (!j) return j.error();
    if (!j->is_object()) return makeError(path + ": expected a JSON object");
    HfConfig c;
    c.m_path = path;
    c.m_json = std::move(j).value();
    return c;
}

bool HfConfig::has(const char* key) const {
    const auto it = m_json.find(key);
    return it != m_json.end() && !it->is_null();
}

Result<int> HfConfig::positiveInt(const char* key, int max) const {
    const auto it = m_json.find(key);
    if (it == m_json.end() || it->is_null()) {
        return makeError(m_path + ": \"" + key + "\" is missing");
    }
    if (!it->is_number_integer() || it->get<long long>() <= 0 || it->get<long long>() > max) {
        return makeError(m_path + ": \"" + key + "\" is " + jsonExcerpt(*it) +
                         ", expected a whole number from 1 to " + std::to_string(max));
    }
    return static_cast<int>(it->get<long long>());
}

Result<int> HfConfig::positiveIntOr(const char* key, int fallback, int max) const {
    if (!has(key)) return fallback;
    return positiveInt(key, max);
}

Result<int> HfConfig::countOr(const char* key, int fallback, int max) const {
    if (!has(key)) return fallback;
    const json& v = m_json.at(key);
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > max) {
        return makeError(m_path + ": \"" + key + "\" is " + jsonExcerpt(v) +
                         ", expected a whole number from 0 to " + std::to_string(max));
    }
    return static_cast<int>(v.get<long long>());
}

Result<float> HfConfig::numberOr(const char* key, float fallback) const {
    if (!has(key)) return fallback;
    const json& v = m_json.at(key);
    // A double beyond the float range would be undefined behaviour to convert.
    if (!v.is_number() || !std::isfinite(v.get<double>()) ||
        std::fabs(v.get<double>()) > std::numeric_limits<float>::max()) {
        return makeError(m_path + ": \"" + key + "\" is " + jsonExcerpt(v) +
                         ", expected a finite number");
    }
    return v.get<float>();
}

Result<float> HfConfig::positiveNumberOr(const char* key, float fallback) const {
    auto v = numberOr(key, fallback);
    if (!v) return v;
    // An epsilon of 0 divides by zero and a negative one takes a square root of a negative:
    // either gives a trace of NaN without a word.
    if (!(*v > 0.0f)) {
        return makeError(m_path + ": \"" + key + "\" is " + jsonExcerpt(m_json.at(key)) +
                         ", expected a number above 0");
    }
    return v;
}

Result<std::string> HfConfig::stringOr(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& v = m_json.at(key);
    if (!v.is_string()) {
        return makeError(m_path + ": \"" + key + "\" is " + jsonExcerpt(v) + ", expected a string");
    }
    return v.get<std::string>();
}

Result<bool> HfConfig::boolOr(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = m_json.at(key);
    if (!v.is_boolean()) {
        return makeError(m_path + ": \"" + key + "\" is " + jsonExcerpt(v) +
                         ", expected true or false");
    }
    return v.get<bool>();
}

// ---------------------------------------------------------------------------------------------

Result<TensorSource> TensorSource::open(const std::string& folder, bool populate) {
    const fs::path dir(folder);
    std::error_code ec;
    TensorSource src;
    const fs::path single = dir / "model.safetensors";
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(single, ec)) {
        auto f = SafetensorsFile::open(single.string(), populate);
        if (!f) return f.error();
        src.m_files.push_back(std::move(f).value());
        src.m_where = single.string();
        return src;
    }
    if (fs::exists(index, ec)) {
        auto j = readJsonFile(index.string());
        if (!j) return j.error();
        const auto wm = j->find("weight_map");
        if (wm == j->end() || !wm->is_object()) {
            return makeError(index.string() + ": has no \"weight_map\" object");
        }
        std::map<std::string, std::size_t> file_index;
        for (const auto& [name, file] : wm->items()) {
            if (!file.is_string()) {
                return makeError(index.string() + ": the shard of '" + shortText(name) +
                                 "' is not a string");
            }
            const std::string shard = file.get<std::string>();
            if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos) {
                return makeError(index.string() + ": shard name '" + shortText(shard) +
                                 "' points outside the folder");
            }
            auto it = file_index.find(shard);
            if (it == file_index.end()) {
                auto f = SafetensorsFile::open((dir / shard).string(), populate);
                if (!f) return f.error();
                src.m_files.push_back(std::move(f).value());
                it = file_index.emplace(shard, src.m_files.size() - 1).first;
            }
            src.m_shard_of[name] = it->second;
        }
        src.m_where = index.string();
        return src;
    }
    std::string hint;
    if (fs::exists(dir / "pytorch_model.bin", ec)) {
        hint = " (it has pytorch_model.bin, a pickle we do not read; convert it to safetensors)";
    }
    return makeError(single.string() + ": no such file" + hint, ErrorCode::NotFound);
}

Status TensorSource::checkShards() const {
    if (m_shard_of.empty()) return Ok{};
    for (const auto& [name, index] : m_shard_of) {
        if (m_files[index]->find(name) == nullptr) {
            return makeError(m_where + ": tensor '" + name + "' is mapped to " +
                                 m_files[index]->path() + ", which does not hold it",
                             ErrorCode::Corrupt);
        }
    }
    for (std::size_t i = 0; i < m_files.size(); ++i) {
        for (const TensorInfo& t : m_files[i]->tensors()) {
            const auto it = m_shard_of.find(t.name);
            if (it == m_shard_of.end()) {
                return makeError(m_files[i]->path() + ": holds tensor '" + t.name + "', which " +
                                     m_where + " does not list",
                                 ErrorCode::Corrupt);
            }
            if (it->second != i) {
                return makeError("tensor '" + t.name + "' is stored twice: in " +
                                     m_files[i]->path() + " and in " + m_files[it->second]->path(),
                                 ErrorCode::Corrupt);
            }
        }
    }
    return Ok{};
}

std::string TensorSource::mainDType() const {
    std::map<DType, std::int64_t> values;
    for (const auto& f : m_files)
        for (const TensorInfo& t : f->tensors())
            if (t.shape.size() == 2) values[t.dtype] += t.elementCount();
    DType best = DType::F32;
    std::int64_t most = -1;
    for (const auto& [d, n] : values) {
        if (n > most) {
            most = n;
            best = d;
        }
    }
    return toString(best);
}

bool TensorSource::choosePrefix(const std::vector<std::string>& prefixes,
                                const std::string& probe) {
    for (const auto& p : prefixes) {
        m_prefix = p;
        if (has(probe)) return true;
    }
    m_prefix.clear();
    return false;
}

const TensorInfo* TensorSource::find(const std::string& name, const SafetensorsFile** file) const {
    const std::string full = m_prefix + name;
    if (m_shard_of.empty()) {
        if (m_files.empty()) return nullptr;
        *file = m_files.front().get();
        return m_files.front()->find(full);
    }
    const auto it = m_shard_of.find(full);
    if (it == m_shard_of.end()) return nullptr;
    *file = m_files[it->second].get();
    return (*file)->find(full);
}

bool TensorSource::has(const std::string& name) const {
    const SafetensorsFile* f = nullptr;
    return find(name, &f) != nullptr;
}

std::string TensorSource::firstPresent(const std::vector<std::string>& names) const {
    for (const auto& n : names)
        if (has(n)) return n;
    return {};
}

Status TensorSource::matrix(const std::string& name, std::int64_t rows, std::int64_t cols,
                            bool transpose, Mat& out) const {
    return matrixColumns(name, rows, cols, 0, cols, transpose, out);
}

Status TensorSource::find2D(const std::string& name, std::int64_t rows, std::int64_t cols,
                            const SafetensorsFile** file, const TensorInfo** info) const {
    *info = find(name, file);
    if (*info == nullptr) {
        return makeError(m_where + ": tensor '" + m_prefix + name + "' is missing");
    }
    const TensorInfo& t = **info;
    if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols) {
        return makeError((*file)->path() + ": tensor '" + t.name + "' has shape " +
                         t.shapeString() + ", expected [" + std::to_string(rows) + ", " +
                         std::to_string(cols) + "] from config.json");
    }
    return Ok{};
}

Status TensorSource::matrixColumns(const std::string& name, std::int64_t rows, std::int64_t cols,
                                   std::int64_t col_begin, std::int64_t col_count, bool transpose,
                                   Mat& out) const {
    const SafetensorsFile* file = nullptr;
    const TensorInfo* info = nullptr;
    if (Status s = find2D(name, rows, cols, &file, &info); !s) return s;
    return file->readMatrixColumnsInto(*info, col_begin, col_count, transpose, out);
}

Status TensorSource::weight(const std::string& name, std::int64_t rows, std::int64_t cols,
                            bool transpose, Weight& out) const {
    const SafetensorsFile* file = nullptr;
    const TensorInfo* info = nullptr;
    if (Status s = find2D(name, rows, cols, &file, &info); !s) return s;
    for (const auto& f : m_files) {
        if (f.get() != file) continue;
        auto w = readWeight(f, info->name,
                            transpose ? Weight::Lines::AreColumns : Weight::Lines::AreRows);
        if (!w) return w.error();
        out = std::move(w.value());
        return Ok{};
    }
    return makeError(m_where + ": tensor '" + info->name + "' has no open file");
}

Status TensorSource::vector(const std::string& name, std::int64_t n, RowVec& out) const {
    const SafetensorsFile* file = nullptr;
    const TensorInfo* info = find(name, &file);
    if (info == nullptr) {
        return makeError(m_where + ": tensor '" + m_prefix + name + "' is missing");
    }
    if (info->shape.size() != 1 || info->shape[0] != n) {
        return makeError(file->path() + ": tensor '" + info->name + "' has shape " +
                         info->shapeString() + ", expected [" + std::to_string(n) +
                         "] from config.json");
    }
    auto v = file->readFloats(info->name);
    if (!v) return v.error();
    out = Eigen::Map<const RowVec>(v->data(), static_cast<Eigen::Index>(n));
    return Ok{};
}

// ---------------------------------------------------------------------------------------------

std::string displayNameOfFolder(const std::string& folder) {
    fs::path p = fs::path(folder).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    // …/models--org--name/snapshots/<hash>
    const fs::path parent = p.parent_path();
    if (parent.filename() == "snapshots") {
        std::string repo = parent.parent_path().filename().string();
        if (repo.rfind("models--", 0) == 0) {
            repo = repo.substr(8);
            std::string out;
            for (std::size_t i = 0; i < repo.size(); ++i) {
                if (repo.compare(i, 2, "--") == 0) {
                    out += '/';
                    ++i;
                } else {
                    out += repo[i];
                }
            }
            return out;
        }
    }
    return p.filename().string();
}

std::string sanitizeUtf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
    const auto n = static_cast<int32_t>(bytes.size());
    int32_t i = 0;
    while (i < n) {
        const int32_t start = i;
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0) {
            out += "\xEF\xBF\xBD";
        } else {
            out.append(bytes.data() + start, static_cast<std::size_t>(i - start));
        }
    }
    return out;
}

}  // namespace attn::detail
