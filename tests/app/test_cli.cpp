// The command line as a person meets it: the shared parser in process, and every command run as
// the real attention-lab binary in a child process, with its exit code, stdout and stderr. The
// --model resolver and trace --json's schema are tested through what the binary prints, so
// these tests hold whatever function the commands use inside.

#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QStringList>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli_common.h"

namespace attn::cli {
namespace {

using json = nlohmann::json;

const char* kSentence = "The black cat drank the milk";

// --- running the binary ----------------------------------------------------------------------

struct Outcome {
    bool finished = false;  // false: it did not end within the time limit
    bool crashed = false;   // ended by a signal
    int code = -1;
    std::string out, err;
};

// Offscreen Qt and passive OpenMP, as in ctest; the user's settings stay untouched.
QProcessEnvironment cliEnvironment() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("passive"));
    // builtin:NAME from this source tree, wherever the build folder is.
    env.insert(QStringLiteral("ATTN_RESOURCES_DIR"), QStringLiteral(ATTN_SOURCE_DIR "/resources"));
    return env;
}

Outcome runBinary(const QStringList& args, const QProcessEnvironment& env = cliEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(ATTN_CLI_BINARY), args);
    Outcome r;
    if (!p.waitForStarted(10000)) return r;
    p.closeWriteChannel();
    r.finished = p.waitForFinished(60000);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

QStringList qargs(std::initializer_list<const char*> words) {
    QStringList l;
    for (const char* w : words) l << QString::fromUtf8(w);
    return l;
}

// gtest's "contains" with the whole text in the failure message.
::testing::AssertionResult has(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << part << "' not in:\n" << text;
}

std::string describe(const Outcome& r) {
    return "exit " + std::to_string(r.code) + (r.crashed ? " (crashed)" : "") +
           (r.finished ? "" : " (timed out)") + "\nstdout: " + r.out.substr(0, 2000) +
           "\nstderr: " + r.err.substr(0, 2000);
}

// A refusal: exit 2, nothing on stdout, one line on stderr that starts with the command.
void expectRefused(const Outcome& r, const std::string& command, const std::string& part) {
    ASSERT_TRUE(r.finished && !r.crashed) << describe(r);
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_TRUE(r.out.empty()) << describe(r);
    EXPECT_TRUE(has(r.err, "attention-lab " + command + ": "));
    EXPECT_TRUE(has(r.err, part));
}

void expectOk(const Outcome& r) {
    ASSERT_TRUE(r.finished && !r.crashed) << describe(r);
    ASSERT_EQ(r.code, 0) << describe(r);
}

json parseJson(const Outcome& r) {
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out.substr(0, 500);
    return j;
}

// `trace --json ARGS`, parsed.
json traceJson(QStringList args) {
    args.prepend(QStringLiteral("--json"));
    args.prepend(QStringLiteral("trace"));
    const Outcome r = runBinary(args);
    EXPECT_TRUE(r.finished && !r.crashed && r.code == 0) << describe(r);
    if (r.code != 0) return json::object();
    return parseJson(r);
}

std::string englishModelPath() {
    return std::string(ATTN_SOURCE_DIR) + "/resources/models/english.safetensors";
}

// --- JSON matrices ---------------------------------------------------------------------------

constexpr std::size_t kRagged = std::numeric_limits<std::size_t>::max();

// (rows, cols) of an array of rows; cols = kRagged when rows differ in length or it is no matrix.
std::pair<std::size_t, std::size_t> shape(const json& m) {
    if (!m.is_array()) return {kRagged, kRagged};
    const std::size_t cols = m.empty() ? 0 : m[0].size();
    for (const json& row : m)
        if (!row.is_array() || row.size() != cols) return {m.size(), kRagged};
    return {m.size(), cols};
}

using Shape = std::pair<std::size_t, std::size_t>;

// A masked −∞ is written as null.
double cell(const json& v) {
    return v.is_null() ? -std::numeric_limits<double>::infinity() : v.get<double>();
}

// --- parseArgs, in process -------------------------------------------------------------------

Result<Args> parse(std::vector<std::string> words, int first = 2) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    return parseArgs(static_cast<int>(words.size()), argv.data(), first, {"text", "layers", "out"},
                     {"json", "no-scale"});
}

TEST(CliParseArgs, TakesValuesSeparatedAndInline) {
    auto a = parse({"attention-lab", "trace", "--text", "the cat sat", "--layers=3"});
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(a->get("text"), "the cat sat");
    EXPECT_EQ(a->get("layers"), "3");
    EXPECT_TRUE(a->has("layers"));
    EXPECT_FALSE(a->has("out"));
    EXPECT_EQ(a->get("out", "fallback"), "fallback");
    EXPECT_TRUE(a->flags.empty());
    EXPECT_TRUE(a->positional.empty());
}

TEST(CliParseArgs, InlineValueKeepsEveryCharacterAfterTheFirstEquals) {
    auto a = parse({"attention-lab", "trace", "--text=a=b c", "--out="});
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(a->get("text"), "a=b c");
    EXPECT_TRUE(a->has("out"));
    EXPECT_EQ(a->get("out", "unset"), "");
}

TEST(CliParseArgs, TheLastOfARepeatedOptionWins) {
    auto a = parse({"attention-lab", "trace", "--layers", "1", "--layers=4"});
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(a->get("layers"), "4");
}

TEST(CliParseArgs, KeepsFlagsAndPositionalWordsInOrder) {
    auto a = parse({"attention-lab", "trace", "first", "--json", "second", "--text", "t",
                    "--no-scale", "third"});
    ASSERT_TRUE(a) << a.message();
    EXPECT_EQ(a->positional, (std::vector<std::string>{"first", "second", "third"}));
    EXPECT_TRUE(a->flag("json"));
    EXPECT_TRUE(a->flag("no-scale"));
    EXPECT_FALSE(a->flag("text"));  // a value, not a flag
    EXPECT_EQ(a->get("text"), "t");
    EXPECT_FALSE(a->has("json"));  // a flag, not a value
}

TEST(CliParseArgs, StartsAtTheGivenIndex) {
    // argv[1] is the command; an option-like word before `first` is not read.
    auto a = parse({"attention-lab", "--bogus", "--json"}, 2);
    ASSERT_TRUE(a) << a.message();
    EXPECT_TRUE(a->flag("json"));
    auto b = parse({"attention-lab", "--bogus", "--json"}, 1);
    EXPECT_FALSE(b);
}

TEST(CliParseArgs, AnUnknownOptionIsNamed) {
    auto a = parse({"attention-lab", "trace", "--text", "t", "--layerz", "2"});
    ASSERT_FALSE(a);
    EXPECT_TRUE(has(a.message(), "--layerz"));
    auto b = parse({"attention-lab", "trace", "--colour=red"});
    ASSERT_FALSE(b);
    EXPECT_TRUE(has(b.message(), "--colour"));
    EXPECT_EQ(b.message().find("red"), std::string::npos) << b.message();  // the name, not value
}

TEST(CliParseArgs, AMissingValueIsNamed) {
    auto a = parse({"attention-lab", "trace", "--json", "--text"});
    ASSERT_FALSE(a);
    EXPECT_TRUE(has(a.message(), "--text"));
    EXPECT_TRUE(has(a.message(), "value"));
}

// --- the --model resolver, through trace --json ----------------------------------------------

TEST(CliModelResolver, UntrainedIsTheDefaultWithTheDocumentedShape) {
    const json j = traceJson(qargs({"--text", kSentence}));
    ASSERT_TRUE(j.contains("model"));
    const json& m = j.at("model");
    EXPECT_EQ(m.at("name"), "untrained");
    EXPECT_EQ(m.at("architecture"), "encoder");
    EXPECT_EQ(m.at("d_model"), 8);
    EXPECT_EQ(m.at("heads"), 2);
    EXPECT_EQ(m.at("layers"), 1);
    EXPECT_EQ(m.at("seed"), 1);
    EXPECT_EQ(m.at("vocab_size"), 0);  // hashed embeddings, no vocabulary
}

TEST(CliModelResolver, UntrainedTakesItsShapeFromTheOptions) {
    const json j =
        traceJson(qargs({"--text", kSentence, "--model", "untrained", "--layers", "3", "--heads",
                         "4", "--kv-heads", "2", "--d-model", "16", "--seed", "7"}));
    ASSERT_TRUE(j.contains("model"));
    const json& m = j.at("model");
    EXPECT_EQ(m.at("layers"), 3);
    EXPECT_EQ(m.at("heads"), 4);
    EXPECT_EQ(m.at("kv_heads"), 2);
    EXPECT_EQ(m.at("d_model"), 16);
    EXPECT_EQ(m.at("d_k"), 4);
    EXPECT_EQ(m.at("seed"), 7);
    ASSERT_EQ(j.at("layers").size(), 3u);
    ASSERT_EQ(j.at("layers").at(2).at("self_attention").at("heads").size(), 4u);
    EXPECT_EQ(shape(j.at("layers").at(2).at("self_attention").at("heads").at(3).at("q")),
              Shape(6, 4));
    // Another seed, other weights.
    const json other = traceJson(qargs({"--text", kSentence, "--layers", "3", "--heads", "4",
                                        "--kv-heads", "2", "--d-model", "16", "--seed", "8"}));
    EXPECT_NE(j.at("embeddings"), other.at("embeddings"));
}

TEST(CliModelResolver, BuiltinEnglishIsTheTrainedEncoder) {
    const json j = traceJson(qargs({"--text", "the black cat", "--model", "builtin:english"}));
    ASSERT_TRUE(j.contains("model"));
    const json& m = j.at("model");
    EXPECT_EQ(m.at("name"), "English masked-word model");
    EXPECT_EQ(m.at("architecture"), "encoder");
    EXPECT_EQ(m.at("d_model"), 64);
    EXPECT_EQ(m.at("heads"), 4);
    EXPECT_EQ(m.at("layers"), 2);
    EXPECT_GT(m.at("vocab_size").get<int>(), 10);
    for (const json& t : j.at("tokens")) {
        EXPECT_GE(t.at("id").get<int>(), 0) << t;  // a vocabulary, unlike the untrained model
        EXPECT_LT(t.at("id").get<int>(), m.at("vocab_size").get<int>()) << t;
    }
}

TEST(CliModelResolver, BuiltinTranslationIsTheEncoderDecoder) {
    const json j = traceJson(qargs({"--model", "builtin:translation", "--source",
                                    "the ball is blue", "--target", "la bola es azul"}));
    ASSERT_TRUE(j.contains("model"));
    EXPECT_EQ(j.at("model").at("name"), "English to Spanish translation model");
    EXPECT_EQ(j.at("model").at("architecture"), "encoder-decoder");
    EXPECT_EQ(j.at("layers").size(), 2u);
    EXPECT_EQ(j.at("decoder_layers").size(), 2u);
}

TEST(CliModelResolver, AFileIsTheSameModelAsItsBuiltinName) {
    ASSERT_TRUE(QFileInfo::exists(QString::fromStdString(englishModelPath())));
    const QStringList text = qargs({"trace", "--json", "--text", "the black cat drank the milk"});
    const Outcome byName = runBinary(text + qargs({"--model", "builtin:english"}));
    const Outcome byPath =
        runBinary(text + QStringList{"--model", QString::fromStdString(englishModelPath())});
    expectOk(byName);
    expectOk(byPath);
    EXPECT_GT(byName.out.size(), 10000u);
    EXPECT_TRUE(byName.out == byPath.out) << "the two traces differ";
}

TEST(CliModelResolver, AMissingFileIsNamed) {
    const QString missing = QDir::temp().filePath(QStringLiteral("no-such-model.safetensors"));
    ASSERT_FALSE(QFileInfo::exists(missing));
    const Outcome r = runBinary(qargs({"trace", "--text", "hi", "--model"}) << missing);
    expectRefused(r, "trace", missing.toStdString());
    EXPECT_TRUE(has(r.err, "no such file"));
}

TEST(CliModelResolver, AnUnknownBuiltinNameListsTheBuiltins) {
    const Outcome r = runBinary(qargs({"trace", "--text", "hi", "--model", "builtin:klingon"}));
    expectRefused(r, "trace", "'klingon'");
    EXPECT_TRUE(has(r.err, "builtin:english"));
    EXPECT_TRUE(has(r.err, "builtin:translation"));
}

TEST(CliModelResolver, ALoadedModelKeepsItsShape) {
    const Outcome r =
        runBinary(qargs({"trace", "--text", "hi", "--model", "builtin:english", "--layers", "3"}));
    expectRefused(r, "trace", "--layers");
    EXPECT_TRUE(has(r.err, "loaded model"));
}

TEST(CliModelResolver, ALoadedModelTakesTheAttentionOptions) {
    const json j = traceJson(qargs({"--text", "the black cat drank the milk", "--model",
                                    "builtin:english", "--mask", "causal", "--temperature", "2"}));
    ASSERT_TRUE(j.contains("model"));
    EXPECT_EQ(j.at("model").at("name"), "English masked-word model");
    EXPECT_EQ(j.at("model").at("mask"), "causal");
    EXPECT_DOUBLE_EQ(j.at("model").at("temperature").get<double>(), 2.0);
    const json& w = j.at("layers").at(1).at("self_attention").at("heads").at(2).at("weights");
    ASSERT_EQ(shape(w), Shape(6, 6));
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t k = i + 1; k < 6; ++k) EXPECT_EQ(w[i][k].get<double>(), 0.0) << i << k;
}

// --- every command, as the binary -----------------------------------------------------------

TEST(CliBinary, HelpListsEveryCommand) {
    for (const char* help : {"--help", "-h", "help"}) {
        const Outcome r = runBinary({QString::fromUtf8(help)});
        expectOk(r);
        EXPECT_TRUE(r.err.empty()) << r.err;
        EXPECT_TRUE(has(r.out, "Usage:"));
        for (const char* c : {"trace", "export", "train", "translate", "fill", "evaluate",
                              "tokenize", "generate", "models"})
            EXPECT_TRUE(has(r.out, std::string("attention-lab ") + c + " "));
    }
}

TEST(CliBinary, VersionIsOneLine) {
    for (const char* version : {"--version", "-v"}) {
        const Outcome r = runBinary({QString::fromUtf8(version)});
        expectOk(r);
        EXPECT_TRUE(QRegularExpression(QStringLiteral("^attention-lab \\d+\\.\\d+\\.\\d+\\n$"))
                        .match(QString::fromStdString(r.out))
                        .hasMatch())
            << r.out;
    }
}

// main starts itself again with OMP_WAIT_POLICY=passive when the variable is unset.
TEST(CliBinary, RunsOnceWithoutAnOpenMpPolicy) {
    QProcessEnvironment env = cliEnvironment();
    env.remove(QStringLiteral("OMP_WAIT_POLICY"));
    const Outcome r = runBinary(qargs({"--version"}), env);
    expectOk(r);
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(CliBinary, AnUnknownCommandExitsTwoAndNamesIt) {
    const Outcome r = runBinary(qargs({"tarce", "--text", "hi"}));
    ASSERT_TRUE(r.finished && !r.crashed) << describe(r);
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_TRUE(has(r.err, "unknown command 'tarce'"));
    EXPECT_TRUE(has(r.err, "--help"));
}

class CliEveryCommand : public ::testing::TestWithParam<const char*> {};

TEST_P(CliEveryCommand, HelpExitsZeroAndShowsTheUsage) {
    const std::string command = GetParam();
    const Outcome r = runBinary({QString::fromUtf8(GetParam()), QStringLiteral("--help")});
    expectOk(r);
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_TRUE(has(r.out, "attention-lab " + command + " --"));
    const Outcome h = runBinary({QString::fromUtf8(GetParam()), QStringLiteral("-h")});
    expectOk(h);
    EXPECT_EQ(h.out, r.out);
}

TEST_P(CliEveryCommand, AnUnknownOptionExitsTwoAndIsNamed) {
    // First, so that no other option of another command is refused before it.
    const Outcome r =
        runBinary({QString::fromUtf8(GetParam()), QStringLiteral("--bogus"), QStringLiteral("1"),
                   QStringLiteral("--text"), QStringLiteral("hi")});
    expectRefused(r, GetParam(), "--bogus");
}

TEST_P(CliEveryCommand, AMissingValueExitsTwoAndIsNamed) {
    // --seed takes a value in every command but translate and fill, which take --model.
    const std::string command = GetParam();
    const QString option = command == "translate" || command == "fill" ? QStringLiteral("--model")
                                                                       : QStringLiteral("--seed");
    const Outcome r = runBinary({QString::fromUtf8(GetParam()), option});
    expectRefused(r, command, option.toStdString());
    EXPECT_TRUE(has(r.err, "value"));
}

INSTANTIATE_TEST_SUITE_P(Commands, CliEveryCommand,
                         ::testing::Values("trace", "export", "train", "translate", "fill",
                                           "evaluate", "generate"));

// trace

TEST(CliTrace, ABadValueExitsTwoAndSaysWhatIsAllowed) {
    const Outcome r = runBinary(qargs({"trace", "--text", kSentence, "--mask", "wavy"}));
    expectRefused(r, "trace", "--mask");
    EXPECT_TRUE(has(r.err, "'wavy'"));
    EXPECT_TRUE(has(r.err, "causal"));
    const Outcome n = runBinary(qargs({"trace", "--text", kSentence, "--layers", "two"}));
    expectRefused(n, "trace", "--layers");
    EXPECT_TRUE(has(n.err, "'two'"));
}

TEST(CliTrace, WithoutTextItSaysHowToGiveIt) {
    expectRefused(runBinary(qargs({"trace"})), "trace", "--text");
    expectRefused(runBinary(qargs({"trace", "the", "cat"})), "trace", "'the'");
    expectRefused(runBinary(qargs({"trace", "--source", "the cat"})), "trace", "--target");
}

TEST(CliTrace, PrintsEveryStepOfEveryHead) {
    const Outcome r = runBinary(qargs({"trace", "--text", kSentence, "--heads", "2"}));
    expectOk(r);
    EXPECT_TRUE(r.err.empty()) << r.err;
    EXPECT_TRUE(has(r.out, "model 'untrained' (encoder, d_model 8, 2 heads, d_k 4, 1 layer(s)"));
    EXPECT_TRUE(has(r.out, "Tokens (6): [The] [black] [cat] [drank] [the] [milk]"));
    for (const char* part :
         {"embeddings E  (6×8)", "positional encoding PE  (6×8)", "input X = E + PE  (6×8)",
          "layer 1, self-attention, head 1 ──", "layer 1, self-attention, head 2 ──",
          "scores Q·Kᵀ (row = query, column = key)  (6×6)", "weights = softmax(masked)  (6×6)",
          "output = weights·V  (6×4)", "concat of heads  (6×8)", "projected (concat·W_O)  (6×8)",
          "entropy per query row (nats):"})
        EXPECT_TRUE(has(r.out, part));
    EXPECT_EQ(r.out.find("head 3"), std::string::npos);
}

TEST(CliTrace, MarksUnknownWordsInText) {
    const Outcome r =
        runBinary(qargs({"trace", "--text", "the zorg cat", "--model", "builtin:english"}));
    expectOk(r);
    EXPECT_TRUE(has(r.out, "Tokens (3): [the] [zorg ?] [cat]"));
}

// export (its formats are tested in test_cli_export.cpp; here: the binary's exit codes)

TEST(CliExport, ABadValueExitsTwoAndWritesNothing) {
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("w.png"));
    const Outcome r =
        runBinary(qargs({"export", "--text", kSentence, "--view", "nonsense", "--out"}) << out);
    expectRefused(r, "export", "--view");
    EXPECT_TRUE(has(r.err, "'nonsense'"));
    EXPECT_FALSE(QFileInfo::exists(out));
}

TEST(CliExport, WritesTheWeightsOfAHead) {
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("w.json"));
    const Outcome r =
        runBinary(qargs({"export", "--text", kSentence, "--head", "1", "--out"}) << out);
    expectOk(r);
    EXPECT_EQ(r.out, "Wrote " + out.toStdString() + "\n");
    QFile f(out);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const json j = json::parse(f.readAll().toStdString(), nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    ASSERT_TRUE(j.contains("rows") && j.contains("cols")) << j.dump().substr(0, 300);
    EXPECT_EQ(j.at("rows").size(), 6u);
    EXPECT_EQ(j.at("cols").size(), 6u);
}

// --layer and --head count from 1, as the window shows them: the first head is --head 1, 0 is
// refused with the rule, and the title written into the file says the same number.
TEST(CliExport, LayerAndHeadCountFromOneAsInTheWindow) {
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("h.json"));
    const Outcome zero = runBinary(
        qargs({"export", "--text", kSentence, "--heads", "2", "--layer", "0", "--out"}) << out);
    expectRefused(zero, "export", "layers count from 1");
    const Outcome head0 = runBinary(
        qargs({"export", "--text", kSentence, "--heads", "2", "--head", "0", "--out"}) << out);
    expectRefused(head0, "export", "heads count from 1");
    EXPECT_FALSE(QFileInfo::exists(out));

    const Outcome second = runBinary(
        qargs({"export", "--text", kSentence, "--heads", "2", "--head", "2", "--out"}) << out);
    expectOk(second);
    QFile f(out);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const json j = json::parse(f.readAll().toStdString(), nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j.at("name"), "Layer 1 · head 2 · weights");

    const Outcome third = runBinary(
        qargs({"export", "--text", kSentence, "--heads", "2", "--head", "3", "--out"}) << out);
    expectRefused(third, "export", "Head 3 does not exist");
    EXPECT_TRUE(has(third.err, "(1 to 2)")) << third.err;
}

// train: one step of one sentence is the least it takes; then it evaluates on 500 held-out
// sentences (under a second).

TEST(CliTrain, ABadValueExitsTwoBeforeTraining) {
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("m.safetensors"));
    expectRefused(
        runBinary(qargs({"train", "--corpus", "english", "--steps", "0", "--out"}) << out), "train",
        "--steps");
    expectRefused(
        runBinary(qargs({"train", "--corpus", "english", "--lr", "fast", "--out"}) << out), "train",
        "'fast'");
    expectRefused(runBinary(qargs({"train", "--corpus", "klingon", "--out"}) << out), "train",
                  "--corpus english");
    expectRefused(runBinary(qargs({"train", "--corpus", "english"})), "train", "--out");
    EXPECT_FALSE(QFileInfo::exists(out));
}

TEST(CliTrain, AModelThatCannotBeSavedExitsOne) {
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("no/such/folder/m.safetensors"));
    const Outcome r = runBinary(
        qargs({"train", "--corpus", "english", "--steps", "1", "--batch", "1", "--quiet", "--out"})
        << out);
    ASSERT_TRUE(r.finished && !r.crashed) << describe(r);
    EXPECT_EQ(r.code, 1) << describe(r);  // the arguments were fine; the work failed
    EXPECT_TRUE(has(r.err, "attention-lab train: "));
    EXPECT_TRUE(has(r.err, dir.filePath(QStringLiteral("no/such/folder")).toStdString()));
    EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("no"))));
}

TEST(CliTrain, OneStepSavesAModelTheOtherCommandsOpen) {
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("m.safetensors"));
    const Outcome r = runBinary(qargs({"train", "--corpus", "english", "--steps", "1", "--batch",
                                       "1", "--seed", "3", "--quiet", "--out"})
                                << out);
    expectOk(r);
    EXPECT_TRUE(has(r.out, "for 1 steps of 1 sentences, seed 3."));
    EXPECT_TRUE(has(r.out, "saved " + out.toStdString() + "."));
    EXPECT_TRUE(has(r.out, "masked-word prediction on 500 held-out sentences"));
    EXPECT_EQ(r.out.find("  step "), std::string::npos) << "--quiet prints no steps";
    ASSERT_TRUE(QFileInfo(out).size() > 1000);

    const json j = traceJson(qargs({"--text", "the cat", "--model"}) << out);
    ASSERT_TRUE(j.contains("model"));
    EXPECT_EQ(j.at("model").at("name"), "English masked-word model");
    // One step from seed 3 is not the shipped model.
    const json shipped = traceJson(qargs({"--text", "the cat", "--model", "builtin:english"}));
    EXPECT_NE(j.at("embeddings"), shipped.at("embeddings"));
}

// translate

TEST(CliTranslate, ABadValueExitsTwo) {
    const Outcome r =
        runBinary(qargs({"translate", "--text", "the ball is blue", "--max-words", "many"}));
    expectRefused(r, "translate", "--max-words");
    EXPECT_TRUE(has(r.err, "'many'"));
    expectRefused(runBinary(qargs({"translate"})), "translate", "--text");
    const Outcome m =
        runBinary(qargs({"translate", "--text", "the ball", "--model", "builtin:klingon"}));
    expectRefused(m, "translate", "'klingon'");
    EXPECT_TRUE(has(m.err, "builtin:translation"));
    // The English model cannot translate: the message says which model can.
    expectRefused(
        runBinary(qargs({"translate", "--text", "the ball", "--model", "builtin:english"})),
        "translate", "translation");
}

TEST(CliTranslate, TranslatesASentence) {
    const Outcome r = runBinary(qargs({"translate", "--text", "the ball is blue"}));
    expectOk(r);
    EXPECT_EQ(r.out, "la bola es azul\n");
    EXPECT_TRUE(r.err.empty()) << r.err;
    const Outcome u = runBinary(qargs({"translate", "--text", "the zorg is blue"}));
    expectOk(u);
    EXPECT_TRUE(has(u.err, "never saw 'zorg'"));
}

TEST(CliTranslate, JsonHoldsTheCrossAttentionOfEveryHead) {
    const Outcome r = runBinary(qargs({"translate", "--text", "the ball is blue", "--json"}));
    expectOk(r);
    const json j = parseJson(r);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.at("translation"), "la bola es azul");
    EXPECT_EQ(j.at("finished"), true);
    ASSERT_EQ(j.at("source_tokens").size(), 4u);
    EXPECT_EQ(j.at("source_tokens").at(1).at("text"), "ball");
    EXPECT_EQ(j.at("source_tokens").at(1).at("unknown"), false);
    const std::size_t steps = j.at("outputs").size();
    EXPECT_EQ(j.at("decoder_inputs").size(), steps);
    ASSERT_EQ(j.at("cross_attention").size(), 2u);
    for (const json& layer : j.at("cross_attention")) {
        ASSERT_EQ(layer.at("heads").size(), 4u);
        for (const json& head : layer.at("heads")) {
            ASSERT_EQ(shape(head.at("weights")), Shape(steps, 4));
            for (const json& row : head.at("weights")) {
                double sum = 0;
                for (const json& v : row) sum += v.get<double>();
                EXPECT_NEAR(sum, 1.0, 1e-5);
            }
        }
    }
}

// fill

TEST(CliFill, ABadValueExitsTwo) {
    const char* text = "the black cat drank the [MASK]";
    expectRefused(runBinary(qargs({"fill", "--text", text, "--top", "0"})), "fill", "--top");
    const Outcome r = runBinary(qargs({"fill", "--text", text, "--top", "five"}));
    expectRefused(r, "fill", "--top");
    EXPECT_TRUE(has(r.err, "'five'"));
    expectRefused(runBinary(qargs({"fill", "--text", "the black cat"})), "fill", "[MASK]");
}

TEST(CliFill, ListsTheMostProbableWordsInOrder) {
    const Outcome r = runBinary(qargs({"fill", "--text", "the black cat drank the [MASK]"}));
    expectOk(r);
    const QStringList lines =
        QString::fromStdString(r.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    ASSERT_EQ(lines.size(), 5) << r.out;  // --top defaults to 5
    std::set<QString> words;
    double previous = 1.0, sum = 0.0;
    for (const QString& line : lines) {
        const QStringList parts = line.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        ASSERT_EQ(parts.size(), 2) << line.toStdString();
        words.insert(parts[0]);
        bool ok = false;
        const double p = parts[1].toDouble(&ok);
        ASSERT_TRUE(ok) << line.toStdString();
        EXPECT_GT(p, 0.0);
        EXPECT_LE(p, previous);
        previous = p;
        sum += p;
    }
    EXPECT_EQ(words.size(), 5u);
    EXPECT_EQ(words.count(QStringLiteral("[MASK]")), 0u);
    EXPECT_LE(sum, 1.0 + 1e-3);

    const Outcome three =
        runBinary(qargs({"fill", "--text", "the black cat drank the [MASK]", "--top", "3"}));
    expectOk(three);
    EXPECT_EQ(three.out, lines.mid(0, 3).join(QLatin1Char('\n')).toStdString() + "\n");
}

TEST(CliFill, JsonNamesThePositionOfTheMask) {
    const Outcome r = runBinary(
        qargs({"fill", "--text", "the black cat drank the [MASK]", "--json", "--top", "2"}));
    expectOk(r);
    const json j = parseJson(r);
    ASSERT_TRUE(j.is_object());
    ASSERT_EQ(j.at("tokens").size(), 6u);
    EXPECT_EQ(j.at("tokens").at(5).at("text"), "[MASK]");
    ASSERT_EQ(j.at("predictions").size(), 1u);
    EXPECT_EQ(j.at("predictions").at(0).at("position"), 5);
    ASSERT_EQ(j.at("predictions").at(0).at("candidates").size(), 2u);
    EXPECT_GE(j.at("predictions").at(0).at("candidates").at(0).at("probability").get<double>(),
              j.at("predictions").at(0).at("candidates").at(1).at("probability").get<double>());
}

// evaluate: --count 1 measures one held-out sentence.

TEST(CliEvaluate, ABadValueExitsTwo) {
    expectRefused(runBinary(qargs({"evaluate", "--model", "builtin:english", "--count", "0"})),
                  "evaluate", "--count");
    const Outcome r =
        runBinary(qargs({"evaluate", "--model", "builtin:english", "--count", "lots"}));
    expectRefused(r, "evaluate", "--count");
    EXPECT_TRUE(has(r.err, "'lots'"));
    expectRefused(runBinary(qargs({"evaluate"})), "evaluate", "--model");
    const QString missing = QDir::temp().filePath(QStringLiteral("no-such-model.safetensors"));
    expectRefused(runBinary(qargs({"evaluate", "--model"}) << missing), "evaluate",
                  missing.toStdString());
}

TEST(CliEvaluate, MeasuresEachModelOnHeldOutSentences) {
    const Outcome e =
        runBinary(qargs({"evaluate", "--model", "builtin:english", "--count", "2", "--json"}));
    expectOk(e);
    const json je = parseJson(e);
    ASSERT_TRUE(je.is_object());
    EXPECT_EQ(je.at("model"), "English masked-word model");
    EXPECT_EQ(je.at("held_out_sentences"), 2);
    EXPECT_GT(je.at("predictions").get<int>(), 2);
    for (const char* k : {"accuracy", "grammatical", "determined_accuracy"}) {
        EXPECT_GE(je.at(k).get<double>(), 0.0) << k;
        EXPECT_LE(je.at(k).get<double>(), 1.0) << k;
    }
    EXPECT_FALSE(je.at("heads_drank_vs_black").empty());

    const Outcome t =
        runBinary(qargs({"evaluate", "--model", "builtin:translation", "--count", "1"}));
    expectOk(t);
    EXPECT_TRUE(has(t.out, "English to Spanish translation model — 1 held-out sentences"));
    EXPECT_TRUE(has(t.out, "exact sentence (greedy decoding):"));
}

// --- trace --json's schema -------------------------------------------------------------------

std::set<std::string> keys(const json& o) {
    std::set<std::string> k;
    for (auto it = o.begin(); it != o.end(); ++it) k.insert(it.key());
    return k;
}

// Every head of one attention block: its matrices, their shapes and what ties them together
// (scaled = scores × factor, weights = softmax of masked, rows of weights sum to 1).
void checkAttention(const json& block, std::size_t Tq, std::size_t Tk, int heads, int kvHeads,
                    std::size_t dK, std::size_t dModel, double factor) {
    EXPECT_EQ(keys(block), (std::set<std::string>{"heads", "concat", "projected"}));
    ASSERT_EQ(block.at("heads").size(), static_cast<std::size_t>(heads));
    EXPECT_EQ(shape(block.at("concat")), Shape(Tq, heads * dK));
    EXPECT_EQ(shape(block.at("projected")), Shape(Tq, dModel));
    for (int h = 0; h < heads; ++h) {
        const json& hd = block.at("heads")[h];
        SCOPED_TRACE("head " + std::to_string(h));
        EXPECT_EQ(keys(hd),
                  (std::set<std::string>{"head", "kv_head", "enabled", "q", "k", "v", "scores",
                                         "scaled", "masked", "weights", "output"}));
        EXPECT_EQ(hd.at("head"), h);
        EXPECT_EQ(hd.at("kv_head"), h / (heads / kvHeads));
        EXPECT_EQ(hd.at("enabled"), true);
        EXPECT_EQ(shape(hd.at("q")), Shape(Tq, dK));
        EXPECT_EQ(shape(hd.at("k")), Shape(Tk, dK));
        EXPECT_EQ(shape(hd.at("v")), Shape(Tk, dK));
        for (const char* m : {"scores", "scaled", "masked", "weights"})
            EXPECT_EQ(shape(hd.at(m)), Shape(Tq, Tk)) << m;
        EXPECT_EQ(shape(hd.at("output")), Shape(Tq, dK));
        if (shape(hd.at("weights")) != Shape(Tq, Tk) || shape(hd.at("masked")) != Shape(Tq, Tk))
            return;
        double worstSoftmax = 0, worstScale = 0;
        for (std::size_t i = 0; i < Tq; ++i) {
            double rowMax = -std::numeric_limits<double>::infinity(), sum = 0, weightSum = 0;
            for (std::size_t j = 0; j < Tk; ++j)
                rowMax = std::max(rowMax, cell(hd.at("masked")[i][j]));
            for (std::size_t j = 0; j < Tk; ++j)
                sum += std::exp(cell(hd.at("masked")[i][j]) - rowMax);
            for (std::size_t j = 0; j < Tk; ++j) {
                const double w = hd.at("weights")[i][j].get<double>();
                weightSum += w;
                EXPECT_GE(w, 0.0);
                worstSoftmax =
                    std::max(worstSoftmax,
                             std::abs(w - std::exp(cell(hd.at("masked")[i][j]) - rowMax) / sum));
                const double s = hd.at("scores")[i][j].get<double>();
                worstScale = std::max(worstScale,
                                      std::abs(hd.at("scaled")[i][j].get<double>() - s * factor) /
                                          std::max(1.0, std::abs(s)));
            }
            EXPECT_NEAR(weightSum, 1.0, 1e-5) << "row " << i;
        }
        EXPECT_LT(worstSoftmax, 1e-5) << "weights differ from softmax(masked)";
        EXPECT_LT(worstScale, 1e-5) << "scaled differs from scores × " << factor;
    }
}

void checkLayer(const json& layer, int index, std::size_t T, std::size_t dModel) {
    EXPECT_EQ(layer.at("layer"), index);
    for (const char* m : {"input", "after_attention", "ffn_output", "output"})
        EXPECT_EQ(shape(layer.at(m)), Shape(T, dModel)) << m;
}

TEST(CliTraceJson, EncoderTraceHasEveryDocumentedField) {
    const json j = traceJson(qargs({"--text", kSentence, "--layers", "2", "--heads", "4",
                                    "--kv-heads", "2", "--d-model", "16"}));
    EXPECT_EQ(keys(j),
              (std::set<std::string>{"model", "text", "tokens", "token_spans", "embeddings",
                                     "positional", "input", "layers", "steps"}));
    EXPECT_EQ(keys(j.at("model")),
              (std::set<std::string>{"name", "architecture", "d_model", "heads", "kv_heads", "d_k",
                                     "layers", "positional", "score", "projection", "scale",
                                     "temperature", "mask", "seed", "vocab_size"}));
    EXPECT_EQ(j.at("model").at("positional"), "sinusoidal");
    EXPECT_EQ(j.at("model").at("score"), "scaled-dot");
    EXPECT_EQ(j.at("model").at("projection"), "qkv");
    EXPECT_EQ(j.at("model").at("scale"), true);
    EXPECT_EQ(j.at("model").at("mask"), "none");
    EXPECT_DOUBLE_EQ(j.at("model").at("temperature").get<double>(), 1.0);
    EXPECT_EQ(j.at("text"), kSentence);
    for (const char* m : {"embeddings", "positional", "input"})
        EXPECT_EQ(shape(j.at(m)), Shape(6, 16)) << m;
    // X = E + PE
    double worst = 0;
    for (std::size_t t = 0; t < 6; ++t)
        for (std::size_t d = 0; d < 16; ++d)
            worst = std::max(worst, std::abs(j.at("input")[t][d].get<double>() -
                                             j.at("embeddings")[t][d].get<double>() -
                                             j.at("positional")[t][d].get<double>()));
    EXPECT_LT(worst, 1e-5);
    ASSERT_EQ(j.at("layers").size(), 2u);
    for (int l = 0; l < 2; ++l) {
        SCOPED_TRACE("layer " + std::to_string(l));
        const json& layer = j.at("layers")[l];
        EXPECT_EQ(keys(layer), (std::set<std::string>{"layer", "input", "self_attention",
                                                      "after_attention", "ffn_output", "output"}));
        checkLayer(layer, l, 6, 16);
        checkAttention(layer.at("self_attention"), 6, 6, 4, 2, 4, 16, 1.0 / std::sqrt(4.0));
    }
    EXPECT_EQ(j.at("layers").at(1).at("input"), j.at("layers").at(0).at("output"));
}

TEST(CliTraceJson, TokensCarryTextSpanIdAndUnknownFlag) {
    const std::string text = "The black cat drank the milk";
    const json j = traceJson(qargs({"--text", text.c_str()}));
    ASSERT_EQ(j.at("tokens").size(), 6u);
    ASSERT_EQ(j.at("token_spans").size(), 6u);
    const std::vector<std::string> words = {"The", "black", "cat", "drank", "the", "milk"};
    for (std::size_t i = 0; i < 6; ++i) {
        const json& t = j.at("tokens")[i];
        EXPECT_EQ(keys(t), (std::set<std::string>{"text", "id", "unknown", "begin", "end"}));
        EXPECT_EQ(t.at("text"), words[i]);
        EXPECT_EQ(t.at("id"), -1);  // no vocabulary
        EXPECT_EQ(t.at("unknown"), false);
        const auto b = t.at("begin").get<std::size_t>(), e = t.at("end").get<std::size_t>();
        EXPECT_EQ(text.substr(b, e - b), words[i]);
        EXPECT_EQ(j.at("token_spans")[i], json::array({b, e}));
    }
}

TEST(CliTraceJson, UnknownWordsAreFlagged) {
    const json j =
        traceJson(qargs({"--text", "the zorg cat drank the blorp", "--model", "builtin:english"}));
    ASSERT_EQ(j.at("tokens").size(), 6u);
    const std::vector<bool> unknown = {false, true, false, false, false, true};
    for (std::size_t i = 0; i < 6; ++i)
        EXPECT_EQ(j.at("tokens")[i].at("unknown").get<bool>(), unknown[i]) << j.at("tokens")[i];
    // Both unknown words read as the same [UNK] id, which no known word has.
    EXPECT_EQ(j.at("tokens").at(1).at("id"), j.at("tokens").at(5).at("id"));
    EXPECT_NE(j.at("tokens").at(1).at("id"), j.at("tokens").at(0).at("id"));
    EXPECT_NE(j.at("tokens").at(1).at("id"), j.at("tokens").at(2).at("id"));
    EXPECT_EQ(j.at("embeddings").at(1), j.at("embeddings").at(5));
}

TEST(CliTraceJson, CausalMaskIsNullAboveTheDiagonal) {
    const json j = traceJson(qargs({"--text", kSentence, "--mask", "causal"}));
    EXPECT_EQ(j.at("model").at("mask"), "causal");
    const json& block = j.at("layers").at(0).at("self_attention");
    checkAttention(block, 6, 6, 2, 2, 4, 8, 0.5);
    for (const json& hd : block.at("heads"))
        for (std::size_t i = 0; i < 6; ++i)
            for (std::size_t k = 0; k < 6; ++k) {
                EXPECT_EQ(hd.at("masked").at(i).at(k).is_null(), k > i) << i << "," << k;
                if (k > i) {
                    EXPECT_EQ(hd.at("weights").at(i).at(k).get<double>(), 0.0);
                }
            }
}

TEST(CliTraceJson, ScaleAndTemperatureReachTheScaledScores) {
    const json cold = traceJson(qargs({"--text", kSentence, "--temperature", "0.5"}));
    EXPECT_DOUBLE_EQ(cold.at("model").at("temperature").get<double>(), 0.5);
    checkAttention(cold.at("layers").at(0).at("self_attention"), 6, 6, 2, 2, 4, 8,
                   1.0 / (2.0 * 0.5));
    const json flat = traceJson(qargs({"--text", kSentence, "--no-scale"}));
    EXPECT_EQ(flat.at("model").at("scale"), false);
    checkAttention(flat.at("layers").at(0).at("self_attention"), 6, 6, 2, 2, 4, 8, 1.0);
}

TEST(CliTraceJson, StepsHaveIdTitleAndFormula) {
    const json j = traceJson(qargs({"--text", kSentence}));
    ASSERT_TRUE(j.at("steps").is_array());
    ASSERT_GE(j.at("steps").size(), 10u);
    EXPECT_EQ(j.at("steps").at(0).at("id"), "tokens");
    std::set<std::string> ids;
    for (const json& s : j.at("steps")) {
        EXPECT_EQ(keys(s), (std::set<std::string>{"id", "title", "formula"}));
        EXPECT_FALSE(s.at("title").get<std::string>().empty());
        ids.insert(s.at("id").get<std::string>());
    }
    EXPECT_EQ(ids.size(), j.at("steps").size()) << "step ids repeat";
}

TEST(CliTraceJson, SourceAndTargetAddTheDecoderAndItsCrossAttention) {
    const json j =
        traceJson(qargs({"--source", "the ball is blue", "--target", "la bola es muy azul",
                         "--layers", "1", "--decoder-layers", "2"}));
    EXPECT_EQ(keys(j),
              (std::set<std::string>{"model", "text", "tokens", "token_spans", "embeddings",
                                     "positional", "input", "layers", "steps", "target_text",
                                     "target_tokens", "decoder_layers"}));
    EXPECT_EQ(j.at("model").at("architecture"), "encoder-decoder");
    EXPECT_EQ(j.at("text"), "the ball is blue");
    EXPECT_EQ(j.at("target_text"), "la bola es muy azul");
    ASSERT_EQ(j.at("tokens").size(), 4u);
    ASSERT_EQ(j.at("target_tokens").size(), 5u);
    EXPECT_EQ(j.at("target_tokens").at(3).at("text"), "muy");
    EXPECT_EQ(j.at("target_tokens").at(3).at("unknown"), false);
    ASSERT_EQ(j.at("layers").size(), 1u);
    EXPECT_FALSE(j.at("layers").at(0).contains("cross_attention"));
    ASSERT_EQ(j.at("decoder_layers").size(), 2u);
    for (int l = 0; l < 2; ++l) {
        SCOPED_TRACE("decoder layer " + std::to_string(l));
        const json& layer = j.at("decoder_layers")[l];
        checkLayer(layer, l, 5, 8);
        // Self-attention over the target, causal: a word does not see the words after it.
        checkAttention(layer.at("self_attention"), 5, 5, 2, 2, 4, 8, 0.5);
        for (const json& hd : layer.at("self_attention").at("heads"))
            for (std::size_t i = 0; i < 5; ++i)
                for (std::size_t k = i + 1; k < 5; ++k)
                    EXPECT_EQ(hd.at("weights").at(i).at(k).get<double>(), 0.0);
        // Cross-attention: target queries over the source keys.
        ASSERT_TRUE(layer.contains("cross_attention"));
        checkAttention(layer.at("cross_attention"), 5, 4, 2, 2, 4, 8, 0.5);
    }
}

TEST(CliTraceJson, TheTrainedTranslationModelAlignsItsWords) {
    const json j = traceJson(qargs({"--model", "builtin:translation", "--source",
                                    "the ball is blue", "--target", "la bola es azul"}));
    ASSERT_EQ(j.at("target_tokens").size(), 5u);  // <bos> la bola es azul
    EXPECT_EQ(j.at("target_tokens").at(0).at("text"), "<bos>");
    const json& cross = j.at("decoder_layers").at(1).at("cross_attention");
    checkAttention(cross, 5, 4, 4, 4, 16, 64, 1.0 / 4.0);
    EXPECT_EQ(j.at("decoder_layers").at(1).at("self_attention").at("heads").size(), 4u);
}

// --- tokenize -------------------------------------------------------------------------------

const std::string kTokenizers = ATTN_SHARED_DIR "/tokenizers";

#define REQUIRE_SHARED_FILE(path)                                                         \
    do {                                                                                  \
        if (!QFileInfo::exists(QString::fromStdString(path))) {                           \
            if (std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true") \
                FAIL() << "missing " << (path);                                           \
            GTEST_SKIP() << "no " << (path) << " — the tokenize checks did NOT run";      \
        }                                                                                 \
    } while (0)

TEST(CliTokenize, GgufVocabularyGivesLlamaCppIdsWithBos) {
    const std::string gguf = kTokenizers + "/ggml-vocab-llama-spm.gguf";
    REQUIRE_SHARED_FILE(gguf);
    const Outcome r = runBinary(
        QStringList{"tokenize", "--model", QString::fromStdString(gguf), "--text", "Hello world"});
    ASSERT_TRUE(r.finished);
    ASSERT_EQ(r.code, 0) << r.err;
    // llama.cpp's ids for " Hello world" (its .out) after the BOS the file asks for.
    EXPECT_NE(r.out.find("ids: 1 15043 3186\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SentencePiece BPE, 3 tokens"), std::string::npos) << r.out;
}

TEST(CliTokenize, JsonMarksBytesOfOneCharacter) {
    const std::string tj = kTokenizers + "/hf/qwen3/tokenizer.json";
    REQUIRE_SHARED_FILE(tj);
    const Outcome r = runBinary(QStringList{"tokenize", "--model", QString::fromStdString(tj),
                                            "--text", QString::fromUtf8("a 🦙"), "--json"});
    ASSERT_TRUE(r.finished);
    ASSERT_EQ(r.code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j.at("tokenizer"), "byte-level BPE");
    ASSERT_EQ(j.at("ids").size(), j.at("tokens").size());
    int partial = 0;
    std::size_t end = 0;
    for (const json& t : j.at("tokens")) {
        end = std::max(end, t.at("end").get<std::size_t>());
        if (t.value("partial", false)) {
            ++partial;
            // The whole characters its run of tokens makes (here " 🦙": the space rides along).
            EXPECT_NE(t.at("character").get<std::string>().find("🦙"), std::string::npos) << t;
        }
    }
    EXPECT_GE(partial, 2) << "the llama emoji is split into byte tokens: " << r.out;
    EXPECT_EQ(end, std::string("a 🦙").size());
}

TEST(CliTokenize, NeedsExactlyOneTextAndAReadableModel) {
    Outcome r = runBinary(qargs({"tokenize", "--model", "untrained"}));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--text"), std::string::npos) << r.err;
    r = runBinary(qargs({"tokenize", "--model", "/no/such/tokenizer.json", "--text", "x"}));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("/no/such/tokenizer.json"), std::string::npos) << r.err;
    r = runBinary(qargs({"tokenize", "--text-file", "/no/such/file.txt"}));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("/no/such/file.txt"), std::string::npos) << r.err;
}

// --- trace --compare: two runs and their difference (issue 16) ------------------------------

TEST(CliSplitWords, SplitsAsAShellDoes) {
    auto w = splitWords(R"(--no-scale --text "the cat sat" --mask='causal' a\ b)");
    ASSERT_TRUE(w) << w.message();
    const std::vector<std::string> want = {"--no-scale", "--text", "the cat sat", "--mask=causal",
                                           "a b"};
    EXPECT_EQ(*w, want);
    EXPECT_TRUE(splitWords("").value().empty());
    auto bad = splitWords("--text \"unclosed");
    ASSERT_FALSE(bad);
    EXPECT_TRUE(has(bad.message(), "Unclosed"));
}

TEST(CliArgsOnTop, BsOptionsOverrideAsAndANewTextReplacesTheOld) {
    auto a = parse({"attention-lab", "trace", "--text", "the cat", "--layers", "2"});
    ASSERT_TRUE(a) << a.message();
    a->flags.push_back("no-scale");
    auto b = argsOnTop(*a, {"--layers", "3", "--scale"}, {"text", "layers", "ids"},
                       {"scale", "no-scale"});
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(b->get("layers"), "3");
    EXPECT_EQ(b->get("text"), "the cat");
    EXPECT_FALSE(b->flag("no-scale")) << "--scale undoes A's --no-scale";
    auto c = argsOnTop(*a, {"--ids", "1,2"}, {"text", "layers", "ids"}, {});
    ASSERT_TRUE(c) << c.message();
    EXPECT_FALSE(c->has("text")) << "B's --ids replaces A's --text";
    EXPECT_EQ(c->get("ids"), "1,2");
    auto d = argsOnTop(*a, {"--wavy"}, {"text"}, {});
    ASSERT_FALSE(d);
    EXPECT_TRUE(has(d.message(), "--wavy"));
}

TEST(CliTraceCompare, JsonHoldsBothRunsAndTheirDifference) {
    const json j = traceJson(qargs({"--text", kSentence, "--compare", "--no-scale"}));
    ASSERT_TRUE(j.contains("a") && j.contains("b") && j.contains("difference"));
    EXPECT_EQ(j["a"]["model"]["scale"], true);
    EXPECT_EQ(j["b"]["model"]["scale"], false);
    EXPECT_EQ(j["a"]["text"], j["b"]["text"]);
    const json& d = j["difference"];
    ASSERT_EQ(d["what_differs"].size(), 1u);
    EXPECT_EQ(d["what_differs"][0], "scale on → off");
    // Every head of the untrained model's layer, with Δ = B − A of its weights.
    const json& wa = j["a"]["layers"][0]["self_attention"]["heads"];
    const json& wb = j["b"]["layers"][0]["self_attention"]["heads"];
    ASSERT_EQ(d["heads"].size(), wa.size());
    double largest = 0;
    for (std::size_t h = 0; h < wa.size(); ++h) {
        const json& e = d["heads"][h];
        ASSERT_TRUE(e["same_shape"].get<bool>());
        EXPECT_EQ(shape(e["weights_delta"]), Shape(6, 6));
        double maxAbs = 0;
        for (std::size_t r = 0; r < 6; ++r)
            for (std::size_t c = 0; c < 6; ++c) {
                const double want = cell(wb[h]["weights"][r][c]) - cell(wa[h]["weights"][r][c]);
                EXPECT_NEAR(cell(e["weights_delta"][r][c]), want, 1e-5);
                maxAbs = std::max(maxAbs, std::abs(want));
            }
        EXPECT_NEAR(e["max_abs_delta"].get<double>(), maxAbs, 1e-5);
        ASSERT_FALSE(e["largest"].empty());
        EXPECT_NEAR(std::abs(e["largest"][0]["delta"].get<double>()), maxAbs, 1e-5);
        EXPECT_EQ(e["rows"].size(), 6u);
        largest = std::max(largest, maxAbs);
    }
    EXPECT_GT(largest, 1e-4) << "without ÷√d_k the weights must change";
}

TEST(CliTraceCompare, TextNamesBothRunsAndWhatDiffers) {
    const Outcome r =
        runBinary(qargs({"trace", "--text", kSentence, "--compare", "--mask causal"}));
    expectOk(r);
    EXPECT_TRUE(has(r.out, "═══ Run A ═══"));
    EXPECT_TRUE(has(r.out, "═══ Run B ═══"));
    EXPECT_TRUE(has(r.out, "Difference B − A (mask none → causal)"));
    EXPECT_TRUE(has(r.out, "weights B − A  (6×6)"));
}

TEST(CliTraceCompare, ABadOptionOfRunBExitsTwoAndIsNamed) {
    const Outcome r = runBinary(qargs({"trace", "--text", kSentence, "--compare", "--mask wavy"}));
    expectRefused(r, "trace", "--compare");
    EXPECT_TRUE(has(r.err, "'wavy'"));
    const Outcome u = runBinary(qargs({"trace", "--text", kSentence, "--compare", "--nope"}));
    expectRefused(u, "trace", "--nope");
}

}  // namespace
}  // namespace attn::cli
