#include "json_util.h"

#include <unicode/utf8.h>

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

std::string validUtf8Prefix(std::string_view bytes) {
    std::string out;
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

}  // namespace

Result<nlohmann::json> parseJsonText(std::string_view text, const std::string& where,
                                     ErrorCode code) {
    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return makeError(where + ": has a NUL byte at offset " + std::to_string(nul) +
                             " — JSON text has none (a damaged file, or not JSON)",
                         code);
    }
    if (const std::size_t at = tooDeepAt(text, kMaxJsonDepth); at != std::string_view::npos) {
        return makeError(where + ": JSON nested more than " + std::to_string(kMaxJsonDepth) +
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
    if (text.size() <= max_bytes) return validUtf8Prefix(text);
    // Cut on a character boundary so the excerpt itself stays valid UTF-8.
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return validUtf8Prefix(text.substr(0, cut)) + "… (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace attn::detail
