// `attention-lab generate`, `trace --ids` and `attention-lab models`, run as the real binary in a
// child process: what a person sees on stdout and stderr, and the exit code.

#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "../engine/gguf_test_writer.h"

namespace attn::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kStoriesDir = ATTN_SHARED_DIR "/models/stories260K";
const std::string kStoriesBin = kStoriesDir + "/stories260K.bin";
const std::string kStoriesGguf = kStoriesDir + "/stories260K.gguf";
const std::string kExpectedStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

struct Outcome {
    bool finished = false;
    bool crashed = false;
    int code = -1;
    std::string out, err;
};

QProcessEnvironment cliEnvironment() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("passive"));
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

QStringList words(std::initializer_list<std::string> w) {
    QStringList l;
    for (const std::string& s : w) l << QString::fromStdString(s);
    return l;
}

std::string describe(const Outcome& r) {
    return "exit " + std::to_string(r.code) + (r.crashed ? " (crashed)" : "") +
           (r.finished ? "" : " (timed out)") + "\nstdout: " + r.out.substr(0, 2000) +
           "\nstderr: " + r.err.substr(0, 2000);
}

void expectRefused(const Outcome& r, const std::string& command, const std::string& part) {
    ASSERT_TRUE(r.finished && !r.crashed) << describe(r);
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_TRUE(r.out.empty()) << describe(r);
    EXPECT_NE(r.err.find("attention-lab " + command + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << "'" << part << "' not in: " << r.err;
}

json parseJson(const Outcome& r) {
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out.substr(0, 500);
    return j;
}

#define REQUIRE_STORIES()                                                                      \
    do {                                                                                       \
        if (!QFileInfo::exists(QString::fromStdString(kStoriesBin)) ||                         \
            !QFileInfo::exists(QString::fromStdString(kStoriesGguf))) {                        \
            if (std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true")      \
                FAIL() << "missing " << kStoriesDir;                                           \
            GTEST_SKIP() << "no stories260K under " << kStoriesDir << " — checks did NOT run"; \
        }                                                                                      \
    } while (0)

// --- generate ----------------------------------------------------------------------------------

TEST(CliGenerate, GreedyFromBosPrintsLlama2csStory) {
    REQUIRE_STORIES();
    for (const std::string& model : {kStoriesBin, kStoriesGguf}) {
        const Outcome r = runBinary(
            words({"generate", "--model", model, "--ids", "1", "--tokens", "60", "--ignore-eos"}));
        ASSERT_EQ(r.code, 0) << describe(r);
        EXPECT_EQ(r.out.substr(0, kExpectedStory.size() + 1), " " + kExpectedStory) << r.out;
        EXPECT_NE(r.err.find("60 tokens, stopped: length"), std::string::npos) << r.err;
    }
}

TEST(CliGenerate, TextAndTextFileGiveTheSameContinuation) {
    REQUIRE_STORIES();
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("prompt.txt"));
    {
        QFile f(file);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("Tom had a red ball");
    }
    const Outcome a = runBinary(words(
        {"generate", "--model", kStoriesBin, "--text", "Tom had a red ball", "--tokens", "20"}));
    const Outcome b = runBinary(words(
        {"generate", "--model", kStoriesBin, "--text-file", file.toStdString(), "--tokens", "20"}));
    ASSERT_EQ(a.code, 0) << describe(a);
    ASSERT_EQ(b.code, 0) << describe(b);
    EXPECT_EQ(a.out, b.out);
    EXPECT_GT(a.out.size(), 20u) << a.out;
}

TEST(CliGenerate, JsonHoldsEveryStepWithTheAttentionOfEveryHead) {
    REQUIRE_STORIES();
    const Outcome r = runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1,403",
                                       "--tokens", "6", "--json", "--top", "3"}));
    ASSERT_EQ(r.code, 0) << describe(r);
    const json j = parseJson(r);
    EXPECT_EQ(j.at("model").at("layers"), 5);
    EXPECT_EQ(j.at("model").at("heads"), 8);
    EXPECT_EQ(j.at("model").at("kv_heads"), 4);
    ASSERT_EQ(j.at("prompt").at("tokens").size(), 2u);
    EXPECT_EQ(j.at("prompt").at("tokens")[1].at("id"), 403);
    const json& steps = j.at("steps");
    ASSERT_EQ(steps.size(), 6u);
    EXPECT_EQ(j.at("stopped_by"), "length");
    std::string text;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const json& st = steps[i];
        text += st.at("piece").get<std::string>();
        EXPECT_EQ(st.at("position"), 1 + static_cast<int>(i));
        const double p = st.at("prob");
        EXPECT_GT(p, 0.0);
        EXPECT_LE(p, 1.0);
        ASSERT_EQ(st.at("top").size(), 3u);
        EXPECT_EQ(st.at("top")[0].at("id"), st.at("token"));  // greedy: the most probable
        ASSERT_EQ(st.at("attention").size(), 5u);
        for (const json& layer : st.at("attention")) {
            ASSERT_EQ(layer.at("heads").size(), 8u);
            for (const json& row : layer.at("heads")) {
                ASSERT_EQ(row.size(), 2u + i);  // the query sees itself and every earlier key
                double sum = 0;
                for (const json& w : row) sum += w.get<double>();
                EXPECT_NEAR(sum, 1.0, 1e-5);
            }
        }
    }
    EXPECT_EQ(j.at("text"), text);
}

TEST(CliGenerate, TheSameSeedGivesTheSameTextAnotherSeedAnother) {
    REQUIRE_STORIES();
    auto sample = [](const char* seed) {
        return runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1", "--tokens", "40",
                                "--temperature", "1.0", "--top-k", "40", "--seed", seed}));
    };
    const Outcome a = sample("7"), b = sample("7"), c = sample("8");
    ASSERT_EQ(a.code, 0) << describe(a);
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.out, c.out);
}

TEST(CliGenerate, BadIdsAndOptionsAreNamed) {
    REQUIRE_STORIES();
    expectRefused(runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1,9999"})),
                  "generate", "0 to 511");
    expectRefused(runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1,x,3"})),
                  "generate", "'x' (number 2)");
    expectRefused(
        runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1", "--top-p", "0"})),
        "generate", "--top-p");
    expectRefused(
        runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1", "--temperature", "-1"})),
        "generate", "--temperature");
    expectRefused(runBinary(words({"generate", "--model", kStoriesBin})), "generate",
                  "--text-file");
    expectRefused(
        runBinary(words({"generate", "--model", kStoriesBin, "--ids", "1", "--text", "a"})),
        "generate", "one of");
    // The default untrained model is an encoder without a vocabulary.
    expectRefused(runBinary(words({"generate", "--text", "the cat"})), "generate", "decoder");
}

// --- trace --ids -------------------------------------------------------------------------------

TEST(CliTraceIds, IdsRunInPlaceOfText) {
    REQUIRE_STORIES();
    const Outcome r =
        runBinary(words({"trace", "--model", kStoriesBin, "--ids", "1, 403,407", "--json"}));
    ASSERT_EQ(r.code, 0) << describe(r);
    const json j = parseJson(r);
    ASSERT_EQ(j.at("tokens").size(), 3u);
    EXPECT_EQ(j.at("tokens")[0].at("id"), 1);
    EXPECT_EQ(j.at("tokens")[1].at("id"), 403);
    EXPECT_EQ(j.at("tokens")[2].at("id"), 407);
    expectRefused(runBinary(words({"trace", "--model", kStoriesBin, "--ids", "1,512"})), "trace",
                  "outside the vocabulary");
    expectRefused(runBinary(words({"trace", "--model", kStoriesBin, "--ids", "1", "--text", "a"})),
                  "trace", "not both");
    expectRefused(runBinary(words({"trace", "--ids", "1,2"})), "trace", "no vocabulary");
}

// --- models -----------------------------------------------------------------------------------

// HOME and the cache variables pointed at a fake tree.
QProcessEnvironment fakeHome(const QString& home) {
    QProcessEnvironment env = cliEnvironment();
    for (const char* v : {"HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "OLLAMA_MODELS"})
        env.remove(QString::fromUtf8(v));
    env.insert(QStringLiteral("HOME"), home);
    return env;
}

TEST(CliModels, ListsAnOllamaStoreAndItsModelGenerates) {
    REQUIRE_STORIES();
    QTemporaryDir dir;
    const fs::path home = dir.path().toStdString();
    const fs::path store = home / ".ollama" / "models";
    const std::string hex(64, 'e');
    fs::create_directories(store / "manifests" / "registry.ollama.ai" / "library" / "stories");
    fs::create_directories(store / "blobs");
    fs::copy_file(kStoriesGguf, store / "blobs" / ("sha256-" + hex));
    testing::writeFile(
        (store / "manifests" / "registry.ollama.ai" / "library" / "stories" / "260k").string(),
        R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:)" + hex +
            R"("}]})");
    // An LM Studio model of a hand-made GGUF header (listed, never opened here).
    fs::create_directories(home / ".lmstudio" / "models" / "me" / "tiny-GGUF");
    testing::GgufWriter g;
    g.addString("general.architecture", "qwen3");
    g.addU32("general.file_type", 15);
    g.write((home / ".lmstudio" / "models" / "me" / "tiny-GGUF" / "tiny-Q4_K_M.gguf").string());

    const QProcessEnvironment env = fakeHome(dir.path());
    const Outcome r =
        runBinary(words({"models", "--json", kStoriesBin, "/no/such/model.gguf"}), env);
    ASSERT_EQ(r.code, 0) << describe(r);
    const json j = parseJson(r);
    const json& list = j.at("models");
    ASSERT_EQ(list.size(), 4u) << r.out;
    EXPECT_EQ(list[0].at("name"), "stories:260k");
    EXPECT_EQ(list[0].at("source"), "Ollama");
    EXPECT_EQ(list[0].at("architecture"), "llama");
    EXPECT_EQ(list[0].at("quantization"), "F32");
    EXPECT_EQ(list[0].at("size_bytes"), fs::file_size(kStoriesGguf));
    EXPECT_EQ(list[1].at("name"), "me/tiny-GGUF/tiny-Q4_K_M.gguf");
    EXPECT_EQ(list[1].at("architecture"), "qwen3");
    EXPECT_EQ(list[1].at("quantization"), "Q4_K_M");
    EXPECT_EQ(list[2].at("format"), "llama2.c");
    EXPECT_TRUE(list[3].contains("error")) << list[3];

    // The path it lists is what --model takes.
    const Outcome gen =
        runBinary(words({"generate", "--model", list[0].at("path").get<std::string>(), "--ids", "1",
                         "--tokens", "12"}),
                  env);
    ASSERT_EQ(gen.code, 0) << describe(gen);
    EXPECT_EQ(gen.out.substr(0, 17), " Once upon a time") << gen.out;

    const Outcome plain = runBinary(words({"models"}), env);
    ASSERT_EQ(plain.code, 0) << describe(plain);
    EXPECT_NE(plain.out.find("stories:260k\n    Ollama · llama · F32 · gguf · 1.1 MB"),
              std::string::npos)
        << plain.out;
}

TEST(CliModels, NothingFoundSaysSo) {
    QTemporaryDir dir;
    const Outcome r = runBinary(words({"models"}), fakeHome(dir.path()));
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("No models found"), std::string::npos) << r.out;
    const Outcome h = runBinary(words({"models", "--help"}));
    ASSERT_EQ(h.code, 0);
    EXPECT_NE(h.out.find("attention-lab models [PATH"), std::string::npos) << h.out;
    const Outcome bad = runBinary(words({"models", "--bogus"}));
    expectRefused(bad, "models", "--bogus");
}

}  // namespace
}  // namespace attn::cli
