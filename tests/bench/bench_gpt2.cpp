// GPT-2-small-shaped checkpoint (124M parameters: 12 layers, d 768, 12 heads, vocab 50257,
// 1024 positions) with random weights, written in Hugging Face's layout to a temp folder.
// Measures opening it (loadModel) and tracing 128 tokens with every head kept, and prints the
// resident memory after loading next to the file size.
//
// Targets (2 cores): trace ≤ 150 ms median, open ≤ 300 ms, RSS ≤ file size + 200 MB.
// Run: build/<dir>/tests/bench/bench_gpt2 --benchmark_repetitions=5
// With ATTN_BENCH_GPT2_DIR=<folder> the checkpoint is written there once and reused (kept).

#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "../engine/gpt2_fixture.h"
#include "attn/formats/load.h"
#include "attn/trace.h"

namespace {

namespace fs = std::filesystem;

fs::path g_folder;
std::shared_ptr<const attn::Model> g_model;

double rssMb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
    }
    return -1;
}

// Writes the checkpoint in a child process, so that building 0.5 GB of random weights does
// not stay in this process's resident memory and distort the RSS figure.
bool writeCheckpoint(const fs::path& folder) {
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        attn::fixture::Gpt2Shape s;
        s.d = 768;
        s.heads = 12;
        s.layers = 12;
        s.vocab = 50257;
        s.positions = 1024;
        const auto weights = attn::fixture::randomGpt2(s, 1234);
        const auto st = attn::fixture::writeGpt2Folder(folder.string(), weights, {});
        if (!st) std::fprintf(stderr, "%s\n", st.message().c_str());
        ::_exit(st ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void BM_OpenGpt2Small(benchmark::State& state) {
    for (auto _ : state) {
        auto model = attn::loadModel(g_folder.string());
        if (!model) {
            state.SkipWithError(model.message().c_str());
            return;
        }
        benchmark::DoNotOptimize(model->get());
        // Freeing the model (a quarter of the time) is not part of opening it.
        state.PauseTiming();
        model = attn::makeError("released");
        state.ResumeTiming();
    }
}
BENCHMARK(BM_OpenGpt2Small)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

void BM_TraceGpt2Small(benchmark::State& state) {
    const int T = static_cast<int>(state.range(0));
    std::mt19937 rng(5);
    std::vector<attn::Token> tokens;
    for (int t = 0; t < T; ++t) {
        attn::Token tok;
        tok.id = static_cast<int>(rng() % 50257);
        tok.text = "t";
        tokens.push_back(tok);
    }
    attn::RunOptions options;  // every head keeps scores, scaled, masked and weights
    for (auto _ : state) {
        auto trace = attn::runTokens(g_model, tokens, options);
        if (!trace) {
            state.SkipWithError(trace.message().c_str());
            return;
        }
        if (!(*trace)->layers.front().self_attention.heads.back().detailed) {
            state.SkipWithError("a head dropped its detail");
            return;
        }
        benchmark::DoNotOptimize(trace->get());
    }
}
BENCHMARK(BM_TraceGpt2Small)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    // ATTN_BENCH_GPT2_DIR: an existing folder to use (kept), e.g. for profiling the open alone.
    const char* given = std::getenv("ATTN_BENCH_GPT2_DIR");
    const bool keep = given != nullptr && fs::exists(fs::path(given) / "model.safetensors");
    if (keep) {
        g_folder = given;
    } else {
        std::string tmpl = (fs::temp_directory_path() / "attn_bench_gpt2_XXXXXX").string();
        if (given != nullptr) {
            fs::create_directories(given);
            tmpl = given;
        } else if (::mkdtemp(tmpl.data()) == nullptr) {
            std::fprintf(stderr, "mkdtemp failed\n");
            return 1;
        }
        g_folder = tmpl;
        std::printf("writing a random GPT-2-small checkpoint to %s …\n", g_folder.c_str());
        if (!writeCheckpoint(g_folder)) {
            std::fprintf(stderr, "could not write the checkpoint\n");
            if (given == nullptr) fs::remove_all(g_folder);
            return 1;
        }
    }
    const bool remove_after = given == nullptr;
    const double file_mb =
        static_cast<double>(fs::file_size(g_folder / "model.safetensors")) / (1024.0 * 1024.0);
    const double before = rssMb();
    auto model = attn::loadModel(g_folder.string());
    if (!model) {
        std::fprintf(stderr, "%s\n", model.message().c_str());
        if (remove_after) fs::remove_all(g_folder);
        return 1;
    }
    g_model = *model;
    const double after = rssMb();
    std::printf(
        "model.safetensors %.0f MB; RSS before load %.0f MB, after load %.0f MB "
        "(target ≤ file + 200 = %.0f MB)\n",
        file_mb, before, after, file_mb + 200);

    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g_model.reset();
    if (remove_after) fs::remove_all(g_folder);
    return 0;
}
