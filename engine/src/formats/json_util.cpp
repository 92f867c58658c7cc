#include "json_util.h"

#include "hf_common.h"  // sanitizeUtf8

namespace attn::detail {

namespace {

// Byte offset of the first place where the nesting goes deeper than max_depth, or npos. Strings
// are skipped (a bracket inside one does not nest), escapes included.
std::size_t tooDeepAt(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return i;
        } else if (c == ']' || c == '}') {
            --depth;  // unbalanced text is left for the parser to name
        }
    }
    return std::string_view::npos;
}

}  // namespace

Result<nlohmann::json> parseJsonText(std::string_view text, const std::string& where,
                                     ErrorCode code, int max_depth) {
    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return makeError(where + ": has a NUL byte at offset " + std::to_string(nul) +
                             " — JSON text has none (a damaged file, or not JSON)",
                         code);
    }
    if (const std::size_t at = tooDeepAt(text, max_depth); at != std::string_view::npos) {
        return makeError(where + ": JSON nested more than " + std::to_string(max_depth) +
                             " levels deep (at offset " + std::to_string(at) +
                             ") — no model file nests like that",
                         code);
    }
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                             /*allow_exceptions=*/false);
    if (j.is_discarded()) return makeError(where + ": not valid JSON", code);
    return j;
}

std::string jsonExcerpt(const nlohmann::json& value) {
    if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        return "\"" + shortText(s, 40) + "\"";
    }
    if (value.is_object()) return "an object of " + std::to_string(value.size()) + " entries";
    if (value.is_array()) return "a list of " + std::to_string(value.size()) + " entries";
    return value.dump();  // a number, true, false or null: short
}

std::string shortText(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return sanitizeUtf8(text);
    // Cut on a character boundary so the excerpt itself stays valid UTF-8.
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return sanitizeUtf8(text.substr(0, cut)) + "… (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace attn::detail
