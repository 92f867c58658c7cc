// Issue 12's large-model benchmark: opens a model file (make_llama_gguf's Llama-3.2-1B-shaped
// Q4_K_M GGUF, or any model spec), traces N tokens with every head kept, and prints the open
// time, the trace time (medians of --runs) and the resident memory after the trace (VmRSS and
// its peak VmHWM from /proc/self/status) next to the file's size.
//
// Targets: open ≤ 1 s, RSS after a 128-token trace ≤ file size + 500 MB, trace ≤ PyTorch's
// float32 forward of the same shapes with attention weights returned (llama_torch.py), same
// threads. Not Google Benchmark: resident memory is one process's story.
//
//   OMP_NUM_THREADS=2 bench_llama MODEL [--tokens 128] [--runs 5] [--dense]
//
// MODEL is a file (GGUF) or a folder (Hugging Face safetensors); its size is the files' sum.

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "attn/formats/load.h"
#include "attn/trace.h"

namespace {

double statusMb(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string k = std::string(key) + ":";
    while (std::getline(in, line))
        if (line.rfind(k, 0) == 0) return std::stod(line.substr(k.size())) / 1024.0;  // kB
    return -1;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double msSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL [--tokens N] [--runs R]\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    int T = 128, runs = 5;
    attn::LoadOptions load;  // --dense: every weight widened to float32 at load, for comparison
    for (int i = 2; i < argc; ++i)
        if (std::string(argv[i]) == "--dense") load.pack_weights = false;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--tokens") T = std::atoi(argv[i + 1]);
        if (a == "--runs") runs = std::atoi(argv[i + 1]);
    }
    // A Hugging Face folder's size is that of its files (config, weights, tokenizer).
    namespace fs = std::filesystem;
    std::error_code ec;
    std::uintmax_t bytes = 0;
    if (fs::is_directory(path, ec)) {
        for (const auto& e : fs::directory_iterator(path, ec))
            if (e.is_regular_file(ec)) bytes += e.file_size(ec);
    } else {
        bytes = fs::file_size(path, ec);
    }
    const double fileMb = static_cast<double>(bytes) / 1048576.0;

    // 1. Open, runs times (the file stays in the page cache after the first: warm opens).
    std::vector<double> openMs;
    std::shared_ptr<const attn::Model> model;
    for (int r = 0; r < runs; ++r) {
        model.reset();
        const auto t0 = std::chrono::steady_clock::now();
        auto m = attn::loadModel(path, load);
        openMs.push_back(msSince(t0));
        if (!m) {
            std::fprintf(stderr, "%s\n", m.message().c_str());
            return 1;
        }
        model = std::move(m).value();
    }
    const double rssOpen = statusMb("VmRSS");

    // 2. Trace T tokens, every head keeping scores, scaled, masked and weights.
    std::mt19937 rng(5);
    std::vector<attn::Token> tokens;
    for (int t = 0; t < T; ++t) {
        attn::Token tok;
        tok.id = static_cast<int>(rng() % static_cast<unsigned>(model->config.vocab_size));
        tok.text = "t";
        tokens.push_back(tok);
    }
    std::vector<double> traceMs;
    double rssTrace = 0, hwmTrace = 0;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        auto trace = attn::runTokens(model, tokens);
        traceMs.push_back(msSince(t0));
        if (!trace) {
            std::fprintf(stderr, "%s\n", trace.message().c_str());
            return 1;
        }
        const attn::HeadTrace& last = (*trace)->layers.back().self_attention.heads.back();
        if (!(*trace)->full_detail || !last.detailed || last.weights.rows() != T) {
            std::fprintf(stderr, "a head dropped its detail\n");
            return 1;
        }
        if (r == 0) {  // with the trace alive
            rssTrace = statusMb("VmRSS");
            hwmTrace = statusMb("VmHWM");
        }
    }
    const attn::Model& m = *model;
    std::printf("model %s: %s, %d layers, d %d, %d heads (%d kv), vocab %d, file %.0f MB\n",
                path.c_str(), m.quantization.c_str(), m.config.n_layers, m.config.d_model,
                m.config.n_heads, m.config.kvHeads(), m.config.vocab_size, fileMb);
    std::printf("threads %d, runs %d\n", omp_get_max_threads(), runs);
    std::printf("open: median %.1f ms (min %.1f, max %.1f)  target ≤ 1000 ms\n", median(openMs),
                *std::min_element(openMs.begin(), openMs.end()),
                *std::max_element(openMs.begin(), openMs.end()));
    std::printf("trace %d tokens: median %.1f ms (min %.1f, max %.1f)\n", T, median(traceMs),
                *std::min_element(traceMs.begin(), traceMs.end()),
                *std::max_element(traceMs.begin(), traceMs.end()));
    std::printf(
        "memory: RSS after open %.0f MB, after the trace %.0f MB (peak %.0f MB); target ≤ file + "
        "500 = %.0f MB\n",
        rssOpen, rssTrace, hwmTrace, fileMb + 500);
    std::printf("RESULT open_ms=%.1f trace_ms=%.1f rss_mb=%.0f hwm_mb=%.0f file_mb=%.0f\n",
                median(openMs), median(traceMs), rssTrace, hwmTrace, fileMb);
    return 0;
}
