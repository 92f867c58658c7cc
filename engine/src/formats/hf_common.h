#pragma once
// Shared by the Hugging Face folder loaders (GPT-2, BERT): config.json reading, the weights
// file(s), tensor lookup with an optional name prefix and shape checks. Private to the engine.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attn/attention.h"
#include "attn/formats/safetensors.h"
#include "attn/result.h"
#include "json_util.h"
#include "mapped_file.h"

namespace attn::detail {

using json = nlohmann::json;

/// Reads a JSON file (at most 512 MB, strict: parseJsonText); the message names the file.
Result<json> readJsonFile(const std::string& path);

/// config.json with typed getters that name the file and key in their messages.
// NOLINTNEXTLINE(bugprone-exception-escape): its implicit moves (string, json) do not throw.
class HfConfig {
public:
    static Result<HfConfig> load(const std::string& path);
    const std::string& path() const { return m_path; }
    const json& raw() const { return m_json; }

    bool has(const char* key) const;
    /// A required positive integer, checked against an upper bound.
    Result<int> positiveInt(const char* key, int max = 1 << 24) const;
    /// An optional positive integer; fallback when absent or null.
    Result<int> positiveIntOr(const char* key, int fallback, int max = 1 << 24) const;
    /// An optional non-negative integer.
    Result<int> countOr(const char* key, int fallback, int max = 1 << 24) const;
    /// An optional finite number (in float range).
    Result<float> numberOr(const char* key, float fallback) const;
    /// An optional number above 0 (an epsilon, a base).
    Result<float> positiveNumberOr(const char* key, float fallback) const;
    Result<std::string> stringOr(const char* key, const std::string& fallback) const;
    Result<bool> boolOr(const char* key, bool fallback) const;

private:
    std::string m_path;
    json m_json;
};

/// The weights of a folder: model.safetensors, or the shards listed in
/// model.safetensors.index.json. Tensor names are looked up with a prefix ("transformer.",
/// "bert.") when the file uses one.
class TensorSource {
public:
    /// populate: fault every page in at open (right for weights copied to float32 at once, as
    /// GPT-2's and BERT's are); false leaves them to the first product that reads them (F16 and
    /// BF16 weights that stay mapped: opening a 2.4 GB folder then takes milliseconds).
    static Result<TensorSource> open(const std::string& folder, bool populate = true);

    /// Picks the first prefix under which probe exists ("" included in the candidates).
    /// Returns false when none has it.
    bool choosePrefix(const std::vector<std::string>& prefixes, const std::string& probe);
    const std::string& prefix() const { return m_prefix; }
    void setPrefix(std::string prefix) { m_prefix = std::move(prefix); }

    /// The entry of prefix + name (nullptr when absent) and the file that holds it.
    const TensorInfo* find(const std::string& name, const SafetensorsFile** file) const;
    bool has(const std::string& name) const;
    /// First of the names present, or empty.
    std::string firstPresent(const std::vector<std::string>& names) const;

    /// A 2-D tensor that must have stored shape (rows, cols). transpose as in
    /// SafetensorsFile::readMatrix.
    Status matrix(const std::string& name, std::int64_t rows, std::int64_t cols, bool transpose,
                  Mat& out) const;
    /// Columns [col_begin, col_begin + col_count) of a 2-D tensor of stored shape (rows, cols).
    Status matrixColumns(const std::string& name, std::int64_t rows, std::int64_t cols,
                         std::int64_t col_begin, std::int64_t col_count, bool transpose,
                         Mat& out) const;
    /// The same as a Weight: F16/BF16 stay in the file's memory map as stored (readWeight in
    /// attn/formats/safetensors.h), F32 is read into a dense matrix. transpose true: a
    /// row-major nn.Linear (out, in) becomes our (in, out) X·W matrix; false: an embedding
    /// table keeps its (vocab, d) shape.
    Status weight(const std::string& name, std::int64_t rows, std::int64_t cols, bool transpose,
                  Weight& out) const;
    /// A 1-D tensor of n floats.
    Status vector(const std::string& name, std::int64_t n, RowVec& out) const;
    /// Description for messages: the file path (or the index file for shards).
    const std::string& where() const { return m_where; }
    /// Sharded weights: every tensor the index maps is in the shard it names, and every tensor
    /// of every shard is mapped to that shard (a tensor stored in two shards is an error naming
    /// both). Ok for a single file.
    Status checkShards() const;
    /// The dtype of most of the values of the 2-D tensors ("F32", "BF16" …).
    std::string mainDType() const;

private:
    /// The entry of a 2-D tensor of stored shape (rows, cols), or a message naming what is off.
    Status find2D(const std::string& name, std::int64_t rows, std::int64_t cols,
                  const SafetensorsFile** file, const TensorInfo** info) const;

    std::vector<std::shared_ptr<const SafetensorsFile>> m_files;
    std::map<std::string, std::size_t> m_shard_of;  // tensor name → file index (sharded only)
    std::string m_prefix;
    std::string m_where;
};

/// "The folder's name" for display: for a Hugging Face cache snapshot
/// (…/models--org--name/snapshots/<hash>) it is "org/name".
std::string displayNameOfFolder(const std::string& folder);

/// Replaces invalid UTF-8 by U+FFFD (for token text shown in the UI).
std::string sanitizeUtf8(std::string_view bytes);

/// Reads a whole text file: a regular file (checked before it is opened) of at most max_bytes.
Result<std::string> readTextFile(const std::string& path,
                                 std::uint64_t max_bytes = std::uint64_t{512} << 20);

}  // namespace attn::detail
