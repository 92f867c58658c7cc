#include "attn/formats/gguf_tokenizer.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "attn/formats/bert.h"
#include "attn/formats/bpe_tokenizer.h"
#include "attn/formats/gguf.h"

namespace attn {

namespace {

constexpr std::string_view kMarker = "\xE2\x96\x81";  // "▁"

enum TokenType {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6
};

struct PreType {
    const char* type;                   // llama.cpp's LLAMA_VOCAB_PRE_TYPE_…, lower case
    std::vector<std::string> names;     // tokenizer.ggml.pre values
    bool ignore_merges;                 // a piece that is a token is taken whole
    std::vector<std::string> patterns;  // applied in turn (ICU syntax)
};

// The pre-tokenizers of llama.cpp's llama-vocab.cpp (llm_tokenizer_bpe and the loader's
// name → type table), written in ICU's syntax: non-ASCII characters as \x{…}.
const std::vector<PreType>& preTypes() {
    static const std::vector<PreType>
        table =
            {
                {"default",
                 {"default"},
                 false,
                 {R"re([\p{P}\$\+<=>\^~\|]+)re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
                  R"re(\p{N}+)re", R"re([0-9][0-9][0-9])re"}},
                {"minicpm5",
                 {"minicpm5"},
                 true,
                 {R"re(\p{N}{1,3})re",
                  R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"llama3",
                 {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                  "lfm2", "jina-v5-nano"},
                 true,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"deepseek_llm",
                 {"deepseek-llm"},
                 false,
                 {R"re([\r\n])re",
                  R"re(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)re",
                  R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re",
                  R"re(\s+$)re", R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re",
                  R"re(\p{N}+)re"}},
                {"deepseek_coder",
                 {"deepseek-coder"},
                 false,
                 {R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re",
                  R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re", R"re(\p{N})re"}},
                {"deepseek3_llm",
                 {"deepseek-v3"},
                 false,
                 {R"re(\p{N}{1,3})re",
                  R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re",
                  R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"youtu",
                 {"youtu"},
                 true,
                 {R"re([\x{AC00}-\x{D7A3}\x{3131}-\x{318E}]+|[\x{FF01}\x{2026}\x{201C}\x{201D}\x{2018}\x{2019}\x{2014}\x{FF1A}\x{FF1B}\x{FF0C}\x{3001}-\x{303F}\x{FE30}-\x{FE4F}]+|[\x{3105}-\x{312F}]+|[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re", R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"falcon",
                 {"falcon"},
                 false,
                 {R"re([\p{P}\$\+<=>\^~\|`]+)re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re",
                  R"re([0-9][0-9][0-9])re"}},
                {"mpt",
                 {"mpt"},
                 false,
                 {R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"starcoder",
                 {"starcoder"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"gpt2",
                 {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
                  "a.x-4.0", "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe",
                  "exaone4"},
                 false,
                 {R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"jais2",
                 {"jais-2"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})re"}},
                {"gemma4", {"gemma4", "granite-embed-multi-311m"}, false, {R"re([^\n]+|[\n]+)re"}},
                {"sarvam_moe", {"sarvam-moe"}, false, {R"re([^\n]+|[\n]+)re"}},
                {"whitespace", {"whitespace"}, false, {R"re(\S+)re"}},
                {"refact",
                 {"refact"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"command_r",
                 {"command-r"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"qwen2",
                 {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"qwen35",
                 {"qwen35"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"stablelm2",
                 {"stablelm2"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"olmo",
                 {"olmo"},
                 false,
                 {R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"dbrx",
                 {"dbrx"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"smaug",
                 {"smaug-bpe"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"poro",
                 {"poro-chat"},
                 false,
                 {R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re"}},
                {"chatglm4",
                 {"glm4", "chatglm-bpe"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"viking",
                 {"viking"},
                 false,
                 {R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re",
                  R"re(\p{N})re"}},
                {"jais",
                 {"jais"},
                 false,
                 {R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"tekken",
                 {"tekken"},
                 true,
                 {R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"smollm",
                 {"smollm"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"codeshell",
                 {"codeshell"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"bloom",
                 {"bloom"},
                 false,
                 {R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re"}},
                {"gpt3_finnish",
                 {"gpt3-finnish"},
                 false,
                 {R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re"}},
                {"exaone",
                 {"exaone"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"exaone_moe", {"exaone-moe"}, false, {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)re"}},
                {"chameleon",
                 {"chameleon"},
                 false,
                 {R"re(<sentinel:[0-9]+>)re", R"re((IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z)re",
                  R"re(([\t\n]|    |  ))re", R"re(\p{N})re", R"re([\p{P}!-/:-@\[-`{-~])re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"minerva",
                 {"minerva-7b"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"gpt4o",
                 {"gpt-4o", "llama4", "kanana2", "talkie"},
                 false,
                 {R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"granite_emb_multi",
                 {"granite-embed-multi-97m"},
                 true,
                 {R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"tiny_aya",
                 {"tiny_aya", "cohere2moe"},
                 false,
                 {R"re(\d{1,3}(?=(?:\d{3})*\b))re",
                  R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"superbpe", {"superbpe"}, false, {R"re(\p{N}+)re", R"re((?=(\d{3})+(?!\d)))re"}},
                {"trillion",
                 {"trillion"},
                 false,
                 {R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"granite_docling",
                 {"granite-docling"},
                 false,
                 {R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
                {"bailingmoe",
                 {"bailingmoe", "bailingmoe2", "llada-moe"},
                 false,
                 {R"re('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)re"}},
                {"seed_coder",
                 {"seed-coder"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"hunyuan",
                 {"hunyuan"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"hunyuan_dense", {"hunyuan-dense"}, false, {R"re(\p{N}{1,3})re", R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re", R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"joyai_llm",
                 {"joyai-llm"},
                 false,
                 {R"re(\p{N}{1,3})re",
                  R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re",
                  R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"kimi_k2", {"kimi-k2"}, false, {R"re(\p{Han}+)re"}},
                {"grok_2",
                 {"grok-2"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"afmoe",
                 {"afmoe"},
                 false,
                 {R"re(\p{AFMoE_digits})re",
                  R"re([\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{8C48}-\x{FAFF}\x{3040}-\x{309F}\x{30A0}-\x{30FF}\x{FF65}-\x{FF9F}\x{2F00}-\x{2FDF}\x{E40}-\x{E7F}\x{E80}-\x{EFF}\x{1780}-\x{17FF}\x{1000}-\x{109F}\x{AA60}-\x{AA7F}\x{A9E0}-\x{A9FF}\x{AC00}-\x{D7AF}\x{1100}-\x{11FF}]+)re",
                  R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"minimax_m2",
                 {"minimax-m2"},
                 false,
                 {R"re([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"solar_open",
                 {"solar-open"},
                 false,
                 {R"re((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"}},
                {"mellum2",
                 {"mellum2"},
                 false,
                 {R"re(\p{N})re",
                  R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re"}},
            };
    return table;
}

const PreType* findPreType(const std::string& pre) {
    for (const PreType& t : preTypes()) {
        for (const std::string& n : t.names) {
            if (n == pre) return &t;
        }
    }
    return nullptr;
}

int typeOf(const GgufVocab& v, std::size_t id) {
    return id < v.token_types.size() ? v.token_types[id] : kNormal;
}

Status checkIds(const GgufVocab& v, const std::string& where) {
    const auto n = static_cast<long long>(v.tokens.size());
    if (n == 0) return makeError(where + ": tokenizer.ggml.tokens is empty", ErrorCode::Corrupt);
    if (!v.scores.empty() && v.scores.size() != v.tokens.size()) {
        return makeError(where + ": " + std::to_string(v.scores.size()) +
                             " tokenizer.ggml.scores for " + std::to_string(n) + " tokens",
                         ErrorCode::Corrupt);
    }
    if (!v.token_types.empty() && v.token_types.size() != v.tokens.size()) {
        return makeError(where + ": " + std::to_string(v.token_types.size()) +
                             " tokenizer.ggml.token_type entries for " + std::to_string(n) +
                             " tokens",
                         ErrorCode::Corrupt);
    }
    // The ids the tokenizer uses; sep/pad/cls/mask are not read (WordPiece finds [CLS] and
    // [SEP] by name), so, as llama.cpp does, a wrong one there does not stop the file.
    for (const auto& [key, id] :
         std::initializer_list<std::pair<const char*, int>>{{"bos_token_id", v.bos_id},
                                                            {"eos_token_id", v.eos_id},
                                                            {"unknown_token_id", v.unk_id}}) {
        if (id < -1 || id >= n) {
            return makeError(where + ": tokenizer.ggml." + key + " is " + std::to_string(id) +
                                 ", outside the " + std::to_string(n) + " tokens",
                             ErrorCode::Corrupt);
        }
    }
    return Ok{};
}

// Control and user-defined tokens, matched in the text before the model.
std::vector<BpeTokenizerConfig::Added> addedTokens(const GgufVocab& v) {
    std::vector<BpeTokenizerConfig::Added> added;
    for (std::size_t id = 0; id < v.tokens.size(); ++id) {
        const int type = typeOf(v, id);
        if (type != kControl && type != kUserDefined) continue;
        added.push_back({v.tokens[id], static_cast<int>(id), type == kControl});
    }
    return added;
}

Result<std::shared_ptr<const TextTokenizer>> byteLevel(const GgufVocab& v, const std::string& where,
                                                       const GgufTokenizerOptions& o) {
    const std::string pre = v.pre.empty() ? "default" : v.pre;
    const PreType* type = findPreType(pre);
    if (type == nullptr) {
        return makeError(
            where + ": the pre-tokenizer \"" + pre + "\" (tokenizer.ggml.pre) is not one we know",
            ErrorCode::UnsupportedFormat);
    }
    BpeTokenizerConfig c;
    c.kind = BpeTokenizerConfig::Kind::ByteLevel;
    c.name = "byte-level BPE (" + pre + ")";
    c.tokens = v.tokens;
    c.merges.reserve(v.merges.size());
    for (std::size_t r = 0; r < v.merges.size(); ++r) {
        const std::string& m = v.merges[r];
        const std::size_t sp = m.find(' ', 1);
        if (sp == std::string::npos || sp + 1 >= m.size()) {
            return makeError(where + ": tokenizer.ggml.merges[" + std::to_string(r) + "] (\"" + m +
                                 "\") is not two tokens separated by a space",
                             ErrorCode::Corrupt);
        }
        c.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    c.split_patterns = type->patterns;
    c.ignore_merges = type->ignore_merges;
    c.added = addedTokens(v);
    c.parse_special = o.parse_special;
    c.bos_id = v.bos_id;
    c.eos_id = v.eos_id;
    c.add_bos = o.add_special && v.add_bos.value_or(false) && v.bos_id >= 0;
    c.add_eos = o.add_special && v.add_eos.value_or(false) && v.eos_id >= 0;
    auto tok = BpeTokenizer::create(std::move(c), where);
    if (!tok) return tok.error();
    return std::shared_ptr<const TextTokenizer>(*tok);
}

Result<std::shared_ptr<const TextTokenizer>> sentencePiece(const GgufVocab& v,
                                                           const std::string& where,
                                                           const GgufTokenizerOptions& o) {
    BpeTokenizerConfig c;
    c.kind = BpeTokenizerConfig::Kind::SentencePiece;
    c.name = "SentencePiece BPE";
    c.tokens = v.tokens;
    c.scores = v.scores;
    if (c.scores.empty()) c.scores.assign(v.tokens.size(), 0.0f);
    for (std::size_t id = 0; id < v.tokens.size(); ++id) {
        const int type = typeOf(v, id);
        if (type == kControl || type == kUnknown || type == kUnused || type == kByte)
            c.unmatchable_ids.push_back(static_cast<int>(id));
    }
    c.byte_fallback = true;
    c.unk_id = v.unk_id;
    c.spaces_to_marker = true;
    c.prepend_marker_after_special = v.add_space_prefix.value_or(true);
    c.added = addedTokens(v);
    c.parse_special = o.parse_special;
    c.bos_id = v.bos_id;
    c.eos_id = v.eos_id;
    c.add_bos = o.add_special && v.add_bos.value_or(true) && v.bos_id >= 0;
    c.add_eos = o.add_special && v.add_eos.value_or(false) && v.eos_id >= 0;
    auto tok = BpeTokenizer::create(std::move(c), where);
    if (!tok) return tok.error();
    return std::shared_ptr<const TextTokenizer>(*tok);
}

Result<std::shared_ptr<const TextTokenizer>> wordPiece(const GgufVocab& v,
                                                       const GgufTokenizerOptions& o) {
    // convert_hf_to_gguf writes BERT's "word" as "▁word" and "##ing" as "ing"; [CLS]-style
    // tokens stay as they are.
    std::vector<std::string> vocab;
    vocab.reserve(v.tokens.size());
    for (const std::string& t : v.tokens) {
        if (t.rfind(kMarker, 0) == 0) {
            vocab.push_back(t.substr(kMarker.size()));
        } else if (t.size() >= 2 && t.front() == '[' && t.back() == ']') {
            vocab.push_back(t);
        } else {
            vocab.push_back("##" + t);
        }
    }
    WordPieceOptions options;
    options.add_cls_sep = o.add_special;
    return std::shared_ptr<const TextTokenizer>(
        std::make_shared<WordPieceTokenizer>(std::move(vocab), options));
}

}  // namespace

Result<std::vector<std::string>> ggufPrePatterns(const std::string& pre) {
    const PreType* type = findPreType(pre.empty() ? "default" : pre);
    if (type == nullptr) {
        return makeError("the pre-tokenizer \"" + pre + "\" is not one we know",
                         ErrorCode::UnsupportedFormat);
    }
    return type->patterns;
}

Result<std::shared_ptr<const TextTokenizer>> tokenizerFromGgufVocab(
    const GgufVocab& vocab, const std::string& where, const GgufTokenizerOptions& options) {
    if (auto s = checkIds(vocab, where); !s) return s.error();
    if (vocab.model == "gpt2") return byteLevel(vocab, where, options);
    if (vocab.model == "llama") return sentencePiece(vocab, where, options);
    if (vocab.model == "bert") return wordPiece(vocab, options);
    return makeError(where + ": the tokenizer kind \"" + vocab.model +
                         "\" (tokenizer.ggml.model) is not supported; gpt2, llama and bert are",
                     ErrorCode::UnsupportedFormat);
}

Result<GgufVocab> readGgufVocab(const GgufFile& file) {
    GgufVocab v;
    auto model = file.getString("tokenizer.ggml.model");
    if (!model) return model.error();
    v.model = *model;
    auto pre = file.getStringOr("tokenizer.ggml.pre", "");
    if (!pre) return pre.error();
    v.pre = *pre;
    auto tokens = file.getStringArray("tokenizer.ggml.tokens");
    if (!tokens) return tokens.error();
    v.tokens = std::move(tokens).value();
    if (file.has("tokenizer.ggml.scores")) {
        auto scores = file.getFloatArray("tokenizer.ggml.scores");
        if (!scores) return scores.error();
        v.scores = std::move(scores).value();
    }
    if (file.has("tokenizer.ggml.token_type")) {
        auto types = file.getIntArray("tokenizer.ggml.token_type");
        if (!types) return types.error();
        v.token_types.reserve(types->size());
        for (const std::int64_t t : *types) {
            v.token_types.push_back(static_cast<int>(std::clamp<std::int64_t>(t, -1, 255)));
        }
    }
    if (file.has("tokenizer.ggml.merges")) {
        auto merges = file.getStringArray("tokenizer.ggml.merges");
        if (!merges) return merges.error();
        v.merges = std::move(merges).value();
    }
    for (const auto& [key, slot] : std::initializer_list<std::pair<const char*, int*>>{
             {"tokenizer.ggml.bos_token_id", &v.bos_id},
             {"tokenizer.ggml.eos_token_id", &v.eos_id},
             {"tokenizer.ggml.unknown_token_id", &v.unk_id},
             {"tokenizer.ggml.seperator_token_id", &v.sep_id},
             {"tokenizer.ggml.padding_token_id", &v.pad_id},
             {"tokenizer.ggml.cls_token_id", &v.cls_id},
             {"tokenizer.ggml.mask_token_id", &v.mask_id}}) {
        auto id = file.getIntOr(key, -1);
        if (!id) return id.error();
        // Converters write "none" as uint32 0xFFFFFFFF (or -1). Other out-of-range ids are
        // reported by tokenizerFromGgufVocab with the vocabulary size.
        if (*id == 0xFFFFFFFFLL || *id == -1) {
            *slot = -1;
        } else {
            *slot = static_cast<int>(std::clamp<std::int64_t>(*id, -2, 1 << 30));
        }
    }
    for (const auto& [key, slot] :
         std::initializer_list<std::pair<const char*, std::optional<bool>*>>{
             {"tokenizer.ggml.add_bos_token", &v.add_bos},
             {"tokenizer.ggml.add_eos_token", &v.add_eos},
             {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix}}) {
        if (!file.has(key)) continue;
        auto b = file.getBool(key);
        if (!b) return b.error();
        *slot = *b;
    }
    return v;
}

Result<std::shared_ptr<const TextTokenizer>> tokenizerFromGguf(
    const GgufFile& file, const GgufTokenizerOptions& options) {
    auto vocab = readGgufVocab(file);
    if (!vocab) return vocab.error();
    return tokenizerFromGgufVocab(*vocab, file.path(), options);
}

}  // namespace attn
