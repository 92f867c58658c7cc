#include "attn/formats/hf_tokenizer.h"

#include <map>
#include <utility>
#include <vector>

#include "hf_common.h"

namespace attn {

namespace {

using detail::json;
using Config = BpeTokenizerConfig;

constexpr std::string_view kMarker = "\xE2\x96\x81";  // "▁"
// GPT-2's pattern, which the ByteLevel pre-tokenizer uses when use_regex is true.
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
constexpr long long kMaxId = 1 << 24;

// Reads tokenizer.json into a BpeTokenizerConfig; every failure names the file and the part.
class Reader {
public:
    explicit Reader(const std::string& where) : m_where(where) {}

    Status read(const json& j, Config& c) {
        if (!j.is_object()) return fail("is not a JSON object");
        const json* model = find(j, "model");
        if (model == nullptr || !model->is_object()) return fail("has no \"model\" object");
        const std::string type = str(*model, "type", "");
        if (type != "BPE") {
            return fail("has a model of type \"" + (type.empty() ? "(none)" : type) +
                            "\"; only BPE tokenizer.json files are read",
                        ErrorCode::UnsupportedFormat);
        }
        if (auto s = readVocab(*model, c); !s) return s;
        if (auto s = readAdded(j, c); !s) return s;
        if (auto s = readModelOptions(*model, c); !s) return s;
        if (auto s = readNormalizer(find(j, "normalizer"), c); !s) return s;
        if (auto s = readPreTokenizer(find(j, "pre_tokenizer"), c); !s) return s;
        if (auto s = readPostProcessor(find(j, "post_processor"), c); !s) return s;
        c.kind = m_byte_level ? Config::Kind::ByteLevel : Config::Kind::SentencePiece;
        if (!m_byte_level) {
            // Without a ByteLevel step the vocabulary is SentencePiece-style ("▁the"); decoders
            // say so too, but the pre-tokenizer decides what the model sees.
            c.name = "SentencePiece BPE";
        } else {
            c.name = "byte-level BPE";
        }
        return Ok{};
    }

private:
    Error fail(const std::string& what, ErrorCode code = ErrorCode::Corrupt) const {
        return makeError(m_where + ": " + what, code);
    }
    static const json* find(const json& j, const char* key) {
        const auto it = j.find(key);
        return it == j.end() || it->is_null() ? nullptr : &*it;
    }
    static std::string str(const json& j, const char* key, const std::string& fallback) {
        const json* v = find(j, key);
        return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
    }
    static bool flag(const json& j, const char* key, bool fallback) {
        const json* v = find(j, key);
        return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
    }

    Status setToken(Config& c, long long id, const std::string& tok) {
        if (id < 0 || id >= kMaxId) {
            return fail("the id of token \"" + tok + "\" is " + std::to_string(id) +
                        ", expected a whole number from 0 to " + std::to_string(kMaxId - 1));
        }
        const auto i = static_cast<std::size_t>(id);
        if (i >= c.tokens.size()) c.tokens.resize(i + 1);
        if (c.tokens[i].empty()) c.tokens[i] = tok;
        return Ok{};
    }

    Status readVocab(const json& model, Config& c) {
        const json* vocab = find(model, "vocab");
        if (vocab == nullptr || !vocab->is_object() || vocab->empty()) {
            return fail("the model has no \"vocab\" object of token → id");
        }
        for (const auto& [tok, id] : vocab->items()) {
            if (!id.is_number_integer())
                return fail("the id of token \"" + tok + "\" is not a whole number");
            if (auto s = setToken(c, id.get<long long>(), tok); !s) return s;
        }
        const json* merges = find(model, "merges");
        if (merges == nullptr) return Ok{};
        if (!merges->is_array()) return fail("the model's \"merges\" is not an array");
        c.merges.reserve(merges->size());
        for (std::size_t r = 0; r < merges->size(); ++r) {
            const json& m = (*merges)[r];
            if (m.is_string()) {
                // "a b": the tokens themselves hold no ASCII space (it is "Ġ" or "▁" there).
                const std::string s = m.get<std::string>();
                const std::size_t sp = s.find(' ', 1);
                if (sp == std::string::npos || sp + 1 >= s.size()) {
                    return fail("merge " + std::to_string(r) + " (\"" + s +
                                "\") is not two tokens separated by a space");
                }
                c.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                c.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            } else {
                return fail("merge " + std::to_string(r) + " is neither \"a b\" nor [a, b]");
            }
        }
        return Ok{};
    }

    Status readAdded(const json& j, Config& c) {
        const json* added = find(j, "added_tokens");
        if (added == nullptr) return Ok{};
        if (!added->is_array()) return fail("\"added_tokens\" is not an array");
        for (const json& a : *added) {
            const json* id = a.is_object() ? find(a, "id") : nullptr;
            const json* content = a.is_object() ? find(a, "content") : nullptr;
            if (id == nullptr || !id->is_number_integer() || content == nullptr ||
                !content->is_string()) {
                return fail(
                    "an entry of \"added_tokens\" has no whole-number \"id\" and text "
                    "\"content\"");
            }
            Config::Added t;
            t.content = content->get<std::string>();
            t.id = static_cast<int>(std::clamp<long long>(id->get<long long>(), -1, kMaxId));
            t.special = flag(a, "special", false);
            if (auto s = setToken(c, id->get<long long>(), t.content); !s) return s;
            m_special_ids[t.content] = t.id;
            c.added.push_back(std::move(t));
        }
        return Ok{};
    }

    Status readModelOptions(const json& model, Config& c) {
        c.byte_fallback = flag(model, "byte_fallback", false);
        c.fuse_unk = flag(model, "fuse_unk", false);
        c.ignore_merges = flag(model, "ignore_merges", false);
        if (!str(model, "continuing_subword_prefix", "").empty() ||
            !str(model, "end_of_word_suffix", "").empty()) {
            return fail(
                "the BPE model uses a continuing_subword_prefix or end_of_word_suffix, "
                "which is not supported",
                ErrorCode::UnsupportedFormat);
        }
        const std::string unk = str(model, "unk_token", "");
        if (!unk.empty()) {
            for (std::size_t id = 0; id < c.tokens.size(); ++id) {
                if (c.tokens[id] == unk) c.unk_id = static_cast<int>(id);
            }
            if (c.unk_id < 0) return fail("the unk_token \"" + unk + "\" is not in the vocabulary");
        }
        return Ok{};
    }

    // Nested Sequence steps are walked with an explicit stack (no recursion on file depth).
    template <class Step>
    Status walk(const json* root, const char* list_key, const char* what, const Step& step) {
        if (root == nullptr) return Ok{};
        std::vector<const json*> stack{root};
        std::vector<const json*> flat;
        while (!stack.empty()) {
            const json* n = stack.back();
            stack.pop_back();
            if (!n->is_object()) return fail(std::string("a ") + what + " is not an object");
            if (str(*n, "type", "") == "Sequence") {
                const json* list = find(*n, list_key);
                if (list == nullptr || !list->is_array()) {
                    return fail(std::string("a ") + what + " Sequence has no \"" + list_key + "\"");
                }
                for (auto it = list->rbegin(); it != list->rend(); ++it) stack.push_back(&*it);
                continue;
            }
            flat.push_back(n);
        }
        for (const json* n : flat) {
            if (auto s = step(*n, str(*n, "type", "")); !s) return s;
        }
        return Ok{};
    }

    Status unsupported(const char* what, const std::string& type) const {
        return fail(
            std::string("the ") + what + " \"" + detail::shortText(type) + "\" is not supported",
            ErrorCode::UnsupportedFormat);
    }

    Status readNormalizer(const json* n, Config& c) {
        return walk(
            n, "normalizers", "normalizer", [&](const json& s, const std::string& type) -> Status {
                using N = Config::Normalization;
                if (type == "NFC") {
                    c.normalization = N::NFC;
                } else if (type == "NFKC") {
                    c.normalization = N::NFKC;
                } else if (type == "NFD") {
                    c.normalization = N::NFD;
                } else if (type == "NFKD") {
                    c.normalization = N::NFKD;
                } else if (type == "Lowercase") {
                    c.lowercase = true;
                } else if (type == "Prepend" && str(s, "prepend", "") == kMarker) {
                    c.prepend_marker = true;
                } else if (type == "Replace") {
                    const json* pattern = find(s, "pattern");
                    if (pattern == nullptr || str(*pattern, "String", "") != " " ||
                        str(s, "content", "") != kMarker) {
                        return fail("only the Replace normalizer of \" \" by \"▁\" is supported",
                                    ErrorCode::UnsupportedFormat);
                    }
                    c.spaces_to_marker = true;
                } else {
                    return unsupported("normalizer", type);
                }
                return Ok{};
            });
    }

    Status readPreTokenizer(const json* n, Config& c) {
        return walk(
            n, "pretokenizers", "pre_tokenizer",
            [&](const json& s, const std::string& type) -> Status {
                if (type == "ByteLevel") {
                    m_byte_level = true;
                    c.prefix_space = flag(s, "add_prefix_space", false);
                    if (flag(s, "use_regex", true)) c.split_patterns.emplace_back(kGpt2Pattern);
                } else if (type == "Split") {
                    const json* pattern = find(s, "pattern");
                    if (pattern == nullptr || !pattern->is_object())
                        return fail("a Split pre-tokenizer has no pattern");
                    if (str(s, "behavior", "") != "Isolated" || flag(s, "invert", false)) {
                        return fail(
                            "only Split pre-tokenizers with behavior \"Isolated\" are supported",
                            ErrorCode::UnsupportedFormat);
                    }
                    if (const json* re = find(*pattern, "Regex");
                        re != nullptr && re->is_string()) {
                        c.split_patterns.push_back(re->get<std::string>());
                    } else if (const json* lit = find(*pattern, "String");
                               lit != nullptr && lit->is_string()) {
                        c.split_patterns.push_back("\\Q" + lit->get<std::string>() + "\\E");
                    } else {
                        return fail("a Split pattern is neither Regex nor String");
                    }
                } else if (type == "Metaspace") {
                    if (str(s, "replacement", std::string(kMarker)) != kMarker) {
                        return fail("a Metaspace replacement other than \"▁\" is not supported",
                                    ErrorCode::UnsupportedFormat);
                    }
                    c.spaces_to_marker = true;
                    const std::string scheme =
                        str(s, "prepend_scheme",
                            flag(s, "add_prefix_space", true) ? "always" : "never");
                    c.prepend_marker = scheme == "always";
                    c.prepend_marker_after_special = scheme == "first";
                    // Each "▁" starts a new word (merged with what follows it).
                    if (flag(s, "split", true))
                        c.split_patterns.emplace_back("\\u2581[^\\u2581]*|[^\\u2581]+");
                } else if (type == "Digits") {
                    c.split_patterns.emplace_back(flag(s, "individual_digits", false) ? "\\p{N}"
                                                                                      : "\\p{N}+");
                } else {
                    return unsupported("pre_tokenizer", type);
                }
                return Ok{};
            });
    }

    Status readPostProcessor(const json* n, Config& c) {
        return walk(
            n, "processors", "post_processor",
            [&](const json& s, const std::string& type) -> Status {
                if (type == "ByteLevel") return Ok{};
                if (type != "TemplateProcessing") return unsupported("post_processor", type);
                const json* single = find(s, "single");
                if (single == nullptr || !single->is_array())
                    return fail("a TemplateProcessing has no \"single\" template");
                bool seen_sequence = false;
                for (const json& item : *single) {
                    if (!item.is_object())
                        return fail("a TemplateProcessing item is not an object");
                    if (find(item, "Sequence") != nullptr) {
                        seen_sequence = true;
                        continue;
                    }
                    const json* sp = find(item, "SpecialToken");
                    if (sp == nullptr || !sp->is_object())
                        return fail(
                            "a TemplateProcessing item is neither Sequence nor SpecialToken");
                    const std::string name = str(*sp, "id", "");
                    int id = -1;
                    if (const json* st = find(s, "special_tokens");
                        st != nullptr && st->is_object()) {
                        const json* entry = find(*st, name.c_str());
                        const json* ids = entry != nullptr ? find(*entry, "ids") : nullptr;
                        if (ids != nullptr && ids->is_array() && ids->size() == 1 &&
                            (*ids)[0].is_number_integer()) {
                            id = static_cast<int>(
                                std::clamp<long long>((*ids)[0].get<long long>(), -1, kMaxId));
                        }
                    }
                    if (id < 0) {
                        const auto it = m_special_ids.find(name);
                        if (it != m_special_ids.end()) id = it->second;
                    }
                    if (id < 0)
                        return fail("the template's special token \"" + name + "\" has no id");
                    int& slot = seen_sequence ? c.eos_id : c.bos_id;
                    bool& add = seen_sequence ? c.add_eos : c.add_bos;
                    if (add)
                        return fail(
                            "templates with two special tokens on one side are not supported",
                            ErrorCode::UnsupportedFormat);
                    slot = id;
                    add = true;
                }
                return Ok{};
            });
    }

    std::string m_where;
    bool m_byte_level = false;
    std::map<std::string, int> m_special_ids;
};

}  // namespace

Result<std::shared_ptr<const BpeTokenizer>> parseHfTokenizerJson(std::string_view text,
                                                                 const std::string& where) {
    if (text.size() > kMaxTokenizerJsonBytes) {
        return makeError(where + ": " + std::to_string(text.size()) +
                             " bytes, larger than any tokenizer.json we read",
                         ErrorCode::TooLarge);
    }
    // NUL bytes, nesting and trailing garbage refused before parsing.
    auto j = detail::parseJsonText(text, where, ErrorCode::Corrupt, kMaxTokenizerJsonDepth);
    if (!j) return j.error();
    Config config;
    Reader reader(where);
    if (auto s = reader.read(*j, config); !s) return s.error();
    return BpeTokenizer::create(std::move(config), where);
}

Result<std::shared_ptr<const BpeTokenizer>> loadHfTokenizer(const std::string& path) {
    auto text = detail::readTextFile(path);
    if (!text) return text.error();
    return parseHfTokenizerJson(*text, path);
}

}  // namespace attn
