#pragma once
// Strict, bounded JSON for the format readers: a file's JSON is checked for NUL bytes and for
// nesting depth before nlohmann parses it (its dump() and comparisons recurse, so a value nested
// 60 000 deep would overflow the stack in whatever touches it later), and messages quote a bad
// value by a short excerpt, never by dumping it whole. Private to the engine.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "attn/result.h"

namespace attn::detail {

/// Deeper nesting than any real config, tokenizer or header has (they use 4 or 5 levels).
inline constexpr int kMaxJsonDepth = 64;

/// How far the ids of a vocabulary (vocab.json, tokenizer.json) may run past its number of
/// entries: real files are dense, and a table is sized by the largest id.
inline constexpr long long kVocabIdSlack = 1024;

/// Parses text as one JSON value. Refused, with a message starting with where: a NUL byte
/// anywhere (nlohmann would stop reading there and ignore the rest), nesting deeper than
/// max_depth (tokenizer.json allows less), invalid JSON or anything but white space after the
/// value.
Result<nlohmann::json> parseJsonText(std::string_view text, const std::string& where,
                                     ErrorCode code = ErrorCode::Corrupt,
                                     int max_depth = kMaxJsonDepth);

/// A bad value as a message shows it: numbers, booleans and null as written, a string by its
/// first 40 bytes in quotes (with its length when cut), an object or array by its kind and size.
std::string jsonExcerpt(const nlohmann::json& value);

/// Text from a file (a key, a tensor name) cut to its first max_bytes bytes for a message, with
/// "… (N bytes)" when cut and invalid UTF-8 replaced.
std::string shortText(std::string_view text, std::size_t max_bytes = 60);

}  // namespace attn::detail
