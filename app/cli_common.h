#pragma once
// Layer rule (app/): every entry point and argv. May include: ui/*, engine, qt.
// Shared pieces of the command line: argument parsing into a model config and run options, model
// resolution (through attn::openModel), matrix printing.

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attn/model.h"
#include "attn/result.h"
#include "attn/trace.h"

namespace attn::cli {

/// --name value pairs and bare --flags. Positional words are kept in order.
struct Args {
    std::map<std::string, std::string> values;
    std::vector<std::string> flags;
    std::vector<std::string> positional;

    bool has(const std::string& k) const { return values.count(k) > 0; }
    bool flag(const std::string& k) const;
    std::string get(const std::string& k, const std::string& def = {}) const;
};

/// Parses argv[first..]; every option must be among allowedValues (takes a value) or
/// allowedFlags. Unknown options are an error naming them.
Result<Args> parseArgs(int argc, char** argv, int first,
                       const std::vector<std::string>& allowedValues,
                       const std::vector<std::string>& allowedFlags);

/// --k as a whole number in [lo, hi] (def when absent); the message names the option.
Result<int> intOption(const Args& args, const std::string& k, int def,
                      int lo = std::numeric_limits<int>::min(),
                      int hi = std::numeric_limits<int>::max());

/// --k as a 1-based number, as the window shows it ("Layer 1", "Head 2"), returned 0-based for
/// the trace (def1 is 1-based too). 0 is refused with "layers count from 1" (noun: "layers",
/// "heads"); so is anything above hi1.
Result<int> oneBasedOption(const Args& args, const std::string& k, const std::string& noun,
                           int def1 = 1, int hi1 = 100000);

/// The words of one option's value split as a shell splits plain words: blanks separate, "…"
/// and '…' quote, a backslash escapes the next character. An unclosed quote is an error.
Result<std::vector<std::string>> splitWords(const std::string& text);

/// parseArgs over words (from splitWords) instead of argv.
Result<Args> parseWords(const std::vector<std::string>& words,
                        const std::vector<std::string>& allowedValues,
                        const std::vector<std::string>& allowedFlags);

/// The options of a second run (`--compare "--no-scale"`): a's options with words on top,
/// parsed by parseArgs with the same allowed options. A text option of the words (--text,
/// --ids, --source, --target) replaces all of a's; --scale undoes a's --no-scale.
Result<Args> argsOnTop(const Args& a, const std::vector<std::string>& words,
                       const std::vector<std::string>& allowedValues,
                       const std::vector<std::string>& allowedFlags);

/// The options every command that builds a model takes.
const std::vector<std::string>& modelOptionNames();

/// The untrained model's shape from --layers --heads --kv-heads --d-model --decoder-layers --pe
/// --seed; errors name the option.
Result<ModelConfig> configFromArgs(const Args& args, ModelConfig base = {});

/// The attention knobs from --mask --score --projection --temperature --no-scale over base;
/// errors name the option.
Result<AttentionKnobs> knobsFromArgs(const Args& args, AttentionKnobs base = {});

/// Run options for model: its trained_attention with the knobs the options name. They apply to
/// any model, loaded or untrained, and never copy it.
Result<RunOptions> runOptionsFromArgs(const Args& args, const Model& model);

/// --model untrained (default) | builtin:english | builtin:translation | PATH, opened by
/// attn::openModel (the untrained one from configFromArgs). The shape options on a loaded model
/// are an error: it keeps its own shape.
Result<std::shared_ptr<const Model>> resolveModel(const Args& args, bool wantSeq2Seq);

/// Runs the trace the options ask for (--text or --ids, or --source/--target), with model when
/// given (a second run of the same model object), else the model the options resolve to.
Result<TracePtr> traceFromArgs(const Args& args, std::shared_ptr<const Model> model = nullptr);

/// Whether args name the model or its shape (--model, --layers, --pe, --seed…), not only run
/// options.
bool namesModel(const Args& args);

/// The text of --text or --text-file (exactly one of them; a file of at most 64 MB).
Result<std::string> textFromArgs(const Args& args);

/// "1,2,3" (spaces allowed around the commas) as ids; the message names the option and the
/// first bad entry. At most 1,000,000 ids.
Result<std::vector<int>> parseIdList(const std::string& text, const std::string& option = "ids");

/// The tokens a command runs: exactly one of --text, --text-file (tokenized by the model) or
/// --ids (each checked against the model's vocabulary).
Result<std::vector<Token>> tokensFromArgs(const Args& args, const Model& model);

}  // namespace attn::cli
