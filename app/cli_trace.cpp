#include "cli_trace.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attn/analysis.h"
#include "attn/compare.h"
#include "attn/tokenizer.h"
#include "cli_common.h"

namespace attn::cli {

namespace {

std::vector<std::string> labels(const std::vector<Token>& tokens) {
    std::vector<std::string> l;
    l.reserve(tokens.size());
    for (const Token& t : tokens) l.push_back(t.text);
    return l;
}

std::string pad(const std::string& s, std::size_t width) {
    const std::size_t n = utf8Length(s);
    if (n >= width) {
        // Cut on a code-point boundary.
        std::string out;
        std::size_t count = 0;
        for (std::size_t i = 0; i < s.size() && count < width;) {
            std::size_t len = 1;
            const unsigned char c = static_cast<unsigned char>(s[i]);
            if (c >= 0xF0)
                len = 4;
            else if (c >= 0xE0)
                len = 3;
            else if (c >= 0xC0)
                len = 2;
            out += s.substr(i, len);
            i += len;
            ++count;
        }
        return out;
    }
    return s + std::string(width - n, ' ');
}

void printMatrix(std::ostream& out, const std::string& title, const Mat& m,
                 const std::vector<std::string>& rows, const std::vector<std::string>& cols,
                 int maxRows = 24, int maxCols = 16) {
    out << "  " << title << "  (" << m.rows() << "×" << m.cols() << ")\n";
    const int R = std::min<int>(static_cast<int>(m.rows()), maxRows);
    const int C = std::min<int>(static_cast<int>(m.cols()), maxCols);
    out << "    " << pad("", 10);
    for (int j = 0; j < C; ++j)
        out << ' ' << std::setw(8)
            << pad(j < static_cast<int>(cols.size()) ? cols[j] : "d" + std::to_string(j), 8);
    if (C < m.cols()) out << " …";
    out << '\n';
    for (int i = 0; i < R; ++i) {
        out << "    " << pad(i < static_cast<int>(rows.size()) ? rows[i] : std::to_string(i), 10);
        for (int j = 0; j < C; ++j) {
            const float v = m(i, j);
            if (std::isinf(v))
                out << ' ' << std::setw(8) << (v < 0 ? "-inf" : "inf");
            else
                out << ' ' << std::setw(8) << std::fixed << std::setprecision(3) << v;
        }
        if (C < m.cols()) out << " …";
        out << '\n';
    }
    if (R < m.rows()) out << "    … " << (m.rows() - R) << " more rows\n";
}

std::vector<std::string> dims(Eigen::Index n) {
    std::vector<std::string> d;
    for (Eigen::Index i = 0; i < n; ++i) d.push_back("d" + std::to_string(i));
    return d;
}

nlohmann::json matrixJson(const Mat& m) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        nlohmann::json row = nlohmann::json::array();
        for (Eigen::Index j = 0; j < m.cols(); ++j) {
            const float v = m(i, j);
            if (std::isfinite(v))
                row.push_back(v);
            else
                row.push_back(nullptr);  // −∞ of a mask: JSON has no infinity
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// The same fields as the tokens of `fill --json` and `translate --json`; unknown = the model's
// vocabulary lacks the word, so it reads [UNK] there.
nlohmann::json tokensJson(const std::vector<Token>& tokens) {
    nlohmann::json arr = nlohmann::json::array();
    for (const Token& t : tokens)
        arr.push_back({{"text", t.text},
                       {"id", t.id},
                       {"unknown", t.unknown},
                       {"begin", t.begin},
                       {"end", t.end}});
    return arr;
}

nlohmann::json attentionJson(const Trace& tr, int layer, bool decoder, bool cross) {
    const LayerTrace& lt = tr.layer(layer, decoder);
    const AttentionTrace& at = cross ? *lt.cross_attention : lt.self_attention;
    nlohmann::json j;
    nlohmann::json heads = nlohmann::json::array();
    for (int h = 0; h < static_cast<int>(at.heads.size()); ++h) {
        const HeadTrace ht = tr.headDetail(layer, h, decoder, cross);
        heads.push_back({{"head", h},
                         {"kv_head", ht.kv_head},
                         {"enabled", ht.enabled},
                         {"q", matrixJson(ht.Q)},
                         {"k", matrixJson(ht.K)},
                         {"v", matrixJson(ht.V)},
                         {"scores", matrixJson(ht.scores)},
                         {"scaled", matrixJson(ht.scaled)},
                         {"masked", matrixJson(ht.masked)},
                         {"weights", matrixJson(ht.weights)},
                         {"output", matrixJson(ht.output)}});
    }
    j["heads"] = std::move(heads);
    j["concat"] = matrixJson(at.concat);
    j["projected"] = matrixJson(at.projected);
    return j;
}

nlohmann::json layersJson(const Trace& tr, bool decoder) {
    nlohmann::json layers = nlohmann::json::array();
    const auto& ls = decoder ? tr.decoder_layers : tr.layers;
    for (int l = 0; l < static_cast<int>(ls.size()); ++l) {
        nlohmann::json layer;
        layer["layer"] = l;
        layer["input"] = matrixJson(ls[l].input);
        layer["self_attention"] = attentionJson(tr, l, decoder, false);
        if (ls[l].cross_attention) layer["cross_attention"] = attentionJson(tr, l, decoder, true);
        layer["after_attention"] = matrixJson(ls[l].after_self);
        layer["ffn_output"] = matrixJson(ls[l].ffn_output);
        layer["output"] = matrixJson(ls[l].output);
        layers.push_back(std::move(layer));
    }
    return layers;
}

void printAttention(std::ostream& out, const Trace& tr, int l, bool decoder, bool cross) {
    const LayerTrace& lt = tr.layer(l, decoder);
    const AttentionTrace& at = cross ? *lt.cross_attention : lt.self_attention;
    const auto qLabels = labels(decoder ? tr.target_tokens : tr.tokens);
    const auto kLabels = labels(decoder && !cross ? tr.target_tokens : tr.tokens);
    const AttentionConfig ac = tr.attentionConfigOf(decoder, cross);
    for (int h = 0; h < static_cast<int>(at.heads.size()); ++h) {
        const HeadTrace ht = tr.headDetail(l, h, decoder, cross);
        out << "\n  ── " << (decoder ? "decoder " : "") << "layer " << l + 1 << ", "
            << (cross ? "cross-attention" : "self-attention") << ", head " << h + 1;
        if (ac.n_kv_heads != ac.n_heads) out << " (key/value head " << ht.kv_head + 1 << ")";
        if (!ht.enabled) out << " [switched off]";
        out << " ──\n";
        printMatrix(out, "Q", ht.Q, qLabels, dims(ht.Q.cols()));
        printMatrix(out, "K", ht.K, kLabels, dims(ht.K.cols()));
        printMatrix(out, "V", ht.V, kLabels, dims(ht.V.cols()));
        printMatrix(out, "scores Q·Kᵀ (row = query, column = key)", ht.scores, qLabels, kLabels);
        printMatrix(out, "scaled", ht.scaled, qLabels, kLabels);
        printMatrix(out, "masked", ht.masked, qLabels, kLabels);
        printMatrix(out, "weights = softmax(masked)", ht.weights, qLabels, kLabels);
        printMatrix(out, "output = weights·V", ht.output, qLabels, dims(ht.output.cols()));
        const Vec ent = rowEntropy(ht.weights);
        out << "  entropy per query row (nats):";
        for (Eigen::Index i = 0; i < std::min<Eigen::Index>(ent.size(), 24); ++i)
            out << ' ' << std::fixed << std::setprecision(2) << ent(i);
        out << '\n';
    }
    printMatrix(out, "concat of heads", at.concat, qLabels, dims(at.concat.cols()));
    printMatrix(out, "projected (concat·W_O)", at.projected, qLabels, dims(at.projected.cols()));
}

}  // namespace

void printTrace(const Trace& tr, std::ostream& out) {
    const ModelConfig& c = tr.model->config;
    out << "Attention Lab trace — model '" << c.name << "' (" << toString(c.architecture)
        << ", d_model " << c.d_model << ", " << c.n_heads << " heads";
    if (c.kvHeads() != c.n_heads) out << " sharing " << c.kvHeads() << " key/value heads";
    out << ", d_k " << c.headDim() << ", " << c.n_layers << " layer(s), PE "
        << toString(c.positional) << ", score " << toString(tr.attention.score) << ", projection "
        << toString(tr.attention.projection) << ", seed " << c.seed;
    if (!tr.model->quantization.empty()) out << ", weights stored as " << tr.model->quantization;
    out << ")\n";
    out << "Steps:";
    for (std::size_t i = 0; i < tr.steps.size() && i < 14; ++i)
        out << (i ? " → " : " ") << tr.steps[i].title;
    if (tr.steps.size() > 14) out << " → … (" << tr.steps.size() << " steps)";
    out << "\n\nTokens (" << tr.tokens.size() << "):";
    for (const Token& t : tr.tokens) out << " [" << t.text << (t.unknown ? " ?" : "") << "]";
    out << '\n';
    const auto tl = labels(tr.tokens);
    printMatrix(out, "embeddings E", tr.embeddings, tl, dims(tr.embeddings.cols()));
    printMatrix(out, "positional encoding PE", tr.positional, tl, dims(tr.positional.cols()));
    printMatrix(out, "input X = E + PE", tr.input, tl, dims(tr.input.cols()));
    for (int l = 0; l < static_cast<int>(tr.layers.size()); ++l) {
        out << "\n══ " << (tr.decoder_layers.empty() ? "" : "encoder ") << "layer " << l + 1
            << " ══\n";
        printAttention(out, tr, l, false, false);
        printMatrix(out, "after add & norm", tr.layers[l].after_self, tl, dims(c.d_model));
        printMatrix(out, "layer output", tr.layers[l].output, tl, dims(c.d_model));
    }
    if (!tr.decoder_layers.empty()) {
        out << "\nTarget tokens (" << tr.target_tokens.size() << "):";
        for (const Token& t : tr.target_tokens) out << " [" << t.text << "]";
        out << '\n';
        for (int l = 0; l < static_cast<int>(tr.decoder_layers.size()); ++l) {
            out << "\n══ decoder layer " << l + 1 << " ══\n";
            printAttention(out, tr, l, true, false);
            printAttention(out, tr, l, true, true);
        }
    }
}

// The document printTraceJson prints (also run A and run B of --compare).
nlohmann::json traceJson(const Trace& tr) {
    const ModelConfig& c = tr.model->config;
    const AttentionKnobs& k = tr.attention;  // what this run used, in the model object as before
    nlohmann::json j;
    j["model"] = {{"name", c.name},
                  {"architecture", toString(c.architecture)},
                  {"d_model", c.d_model},
                  {"heads", c.n_heads},
                  {"kv_heads", c.kvHeads()},
                  {"d_k", c.headDim()},
                  {"layers", c.n_layers},
                  {"positional", toString(c.positional)},
                  {"score", toString(k.score)},
                  {"projection", toString(k.projection)},
                  {"scale", k.scale},
                  {"temperature", k.temperature},
                  {"mask", toString(k.mask)},
                  {"seed", c.seed}};
    j["model"]["vocab_size"] = c.vocab_size;
    if (!tr.model->quantization.empty()) j["model"]["quantization"] = tr.model->quantization;
    j["text"] = tr.text;
    j["tokens"] = tokensJson(tr.tokens);
    nlohmann::json spans = nlohmann::json::array();
    for (const Token& t : tr.tokens) spans.push_back({t.begin, t.end});
    j["token_spans"] = spans;
    j["embeddings"] = matrixJson(tr.embeddings);
    j["positional"] = matrixJson(tr.positional);
    j["input"] = matrixJson(tr.input);
    j["layers"] = layersJson(tr, false);
    if (!tr.decoder_layers.empty()) {
        j["target_text"] = tr.target_text;
        j["target_tokens"] = tokensJson(tr.target_tokens);
        j["decoder_layers"] = layersJson(tr, true);
    }
    nlohmann::json steps = nlohmann::json::array();
    for (const Step& s : tr.steps)
        steps.push_back({{"id", s.id}, {"title", s.title}, {"formula", s.formula}});
    j["steps"] = steps;
    return j;
}

void printTraceJson(const Trace& tr, std::ostream& out) {
    out << traceJson(tr).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

namespace {

// The heads two traces share: same stack, layer and head number (with weights of one shape
// only does a difference mean anything; the others say same_shape false).
template <typename F>
void forSharedHeads(const Trace& a, const Trace& b, F&& f) {
    for (int d = 0; d < 2; ++d) {
        const bool decoder = d == 1;
        const auto& la = decoder ? a.decoder_layers : a.layers;
        const auto& lb = decoder ? b.decoder_layers : b.layers;
        for (int l = 0; l < static_cast<int>(std::min(la.size(), lb.size())); ++l)
            for (int c = 0; c < 2; ++c) {
                const bool cross = c == 1;
                if (cross && (!la[l].cross_attention || !lb[l].cross_attention)) continue;
                const AttentionTrace& ba = cross ? *la[l].cross_attention : la[l].self_attention;
                const AttentionTrace& bb = cross ? *lb[l].cross_attention : lb[l].self_attention;
                const int heads = static_cast<int>(std::min(ba.heads.size(), bb.heads.size()));
                for (int h = 0; h < heads; ++h) f(l, h, decoder, cross);
            }
    }
}

// What B's run changes against A's, in words ("scale on → off").
std::vector<std::string> whatDiffers(const Trace& a, const Trace& b) {
    std::vector<std::string> d;
    const AttentionKnobs &ka = a.attention, &kb = b.attention;
    auto onOff = [](bool on) { return on ? std::string("on") : std::string("off"); };
    if (a.model != b.model && a.model->config.name != b.model->config.name)
        d.push_back("model " + a.model->config.name + " → " + b.model->config.name);
    else if (a.model != b.model)
        d.push_back("another model");
    if (a.text != b.text) d.push_back("text \"" + a.text + "\" → \"" + b.text + "\"");
    if (a.target_text != b.target_text) d.push_back("target text");
    if (ka.scale != kb.scale) d.push_back("scale " + onOff(ka.scale) + " → " + onOff(kb.scale));
    if (ka.mask != kb.mask) d.push_back("mask " + toString(ka.mask) + " → " + toString(kb.mask));
    if (ka.score != kb.score)
        d.push_back("score " + toString(ka.score) + " → " + toString(kb.score));
    if (ka.projection != kb.projection)
        d.push_back("projection " + toString(ka.projection) + " → " + toString(kb.projection));
    if (ka.temperature != kb.temperature) {
        std::ostringstream t;
        t << "temperature " << ka.temperature << " → " << kb.temperature;
        d.push_back(t.str());
    }
    return d;
}

nlohmann::json differenceJson(const Trace& a, const Trace& b) {
    nlohmann::json j;
    j["what_differs"] = whatDiffers(a, b);
    nlohmann::json heads = nlohmann::json::array();
    forSharedHeads(a, b, [&](int l, int h, bool decoder, bool cross) {
        const HeadTrace ha = a.headDetail(l, h, decoder, cross);
        const HeadTrace hb = b.headDetail(l, h, decoder, cross);
        nlohmann::json e = {{"layer", l}, {"head", h}, {"decoder", decoder}, {"cross", cross}};
        const MatrixDiff w = diffMatrices(ha.weights, hb.weights, 5);
        e["same_shape"] = w.same_shape;
        if (w.same_shape) {
            e["max_abs_delta"] = w.max_abs;
            e["weights_delta"] = matrixJson(w.delta);
            const MatrixDiff sc = diffMatrices(ha.scaled, hb.scaled, 0);
            e["scaled_delta"] = matrixJson(sc.delta);
            nlohmann::json largest = nlohmann::json::array();
            for (const CellChange& c : w.largest)
                largest.push_back(
                    {{"query", c.row}, {"key", c.col}, {"a", c.a}, {"b", c.b}, {"delta", c.delta}});
            e["largest"] = std::move(largest);
            nlohmann::json rows = nlohmann::json::array();
            for (const RowChange& r : weightRowChanges(ha.weights, hb.weights))
                rows.push_back({{"query", r.row},
                                {"entropy_a", r.entropy_a},
                                {"entropy_b", r.entropy_b},
                                {"entropy_delta", r.entropyDelta()},
                                {"argmax_a", r.argmax_a},
                                {"argmax_b", r.argmax_b}});
            e["rows"] = std::move(rows);
        }
        heads.push_back(std::move(e));
    });
    j["heads"] = std::move(heads);
    return j;
}

void printDifference(const Trace& a, const Trace& b, std::ostream& out) {
    out << "\n══ Difference B − A";
    const auto d = whatDiffers(a, b);
    for (std::size_t i = 0; i < d.size(); ++i) out << (i ? ", " : " (") << d[i];
    out << (d.empty() ? " (the runs are set up alike)" : ")") << " ══\n";
    forSharedHeads(a, b, [&](int l, int h, bool decoder, bool cross) {
        const HeadTrace ha = a.headDetail(l, h, decoder, cross);
        const HeadTrace hb = b.headDetail(l, h, decoder, cross);
        out << "\n  ── " << (decoder ? "decoder " : "") << "layer " << l + 1 << ", "
            << (cross ? "cross-attention" : "self-attention") << ", head " << h + 1 << " ──\n";
        const MatrixDiff w = diffMatrices(ha.weights, hb.weights, 5);
        if (!w.same_shape) {
            out << "  weights differ in shape: A " << ha.weights.rows() << "×" << ha.weights.cols()
                << ", B " << hb.weights.rows() << "×" << hb.weights.cols() << '\n';
            return;
        }
        const auto q = labels(decoder ? a.target_tokens : a.tokens);
        const auto k = labels(decoder && !cross ? a.target_tokens : a.tokens);
        printMatrix(out, "weights B − A", w.delta, q, k);
        out << "  largest changes (query → key: A → B, Δ):\n";
        for (const CellChange& c : w.largest)
            out << "    " << q[c.row] << " → " << k[c.col] << ": " << std::fixed
                << std::setprecision(3) << c.a << " → " << c.b << ", " << std::showpos << c.delta
                << std::noshowpos << '\n';
        for (const RowChange& r : weightRowChanges(ha.weights, hb.weights)) {
            out << "    " << pad(q[r.row], 10) << " entropy " << std::fixed << std::setprecision(2)
                << r.entropy_a << " → " << r.entropy_b;
            if (r.argmaxMoved())
                out << ", looks most at " << (r.argmax_a >= 0 ? k[r.argmax_a] : "—") << " → "
                    << (r.argmax_b >= 0 ? k[r.argmax_b] : "—");
            out << '\n';
        }
    });
}

}  // namespace

int runTraceCommand(int argc, char** argv) {
    std::vector<std::string> values = modelOptionNames();
    for (const char* v : {"text", "ids", "source", "target"}) values.push_back(v);
    values.push_back("compare");
    auto args = parseArgs(argc, argv, 2, values, {"json", "no-scale", "scale", "help"});
    if (!args) {
        std::cerr << "attention-lab trace: " << args.message() << '\n';
        return 2;
    }
    // -h as in every other command (parseArgs reads it as a positional word).
    if (args->flag("help") || (args->positional.size() == 1 && args->positional[0] == "-h")) {
        std::cout << "attention-lab trace --text \"...\" (or --ids 1,2,3) [--layers N --heads H "
                     "--d-model D "
                     "--mask none|causal|padding --pe sinusoidal|learned|rope|none --score "
                     "scaled-dot|dot|cosine|general|additive --projection embeddings|qk|qkv "
                     "--temperature T --seed S --no-scale --model untrained|builtin:NAME|PATH] "
                     "[--json] [--compare \"OPTIONS OF RUN B\"]\n       attention-lab trace "
                     "--source \"...\" --target \"...\"\n"
                     "  --compare \"--no-scale\" runs a second time with these options on top "
                     "(--scale undoes --no-scale; a --text replaces the text) and prints both "
                     "runs and their difference B − A.\n";
        return 0;
    }
    if (!args->positional.empty()) {
        std::cerr << "attention-lab trace: unexpected argument '" << args->positional[0]
                  << "' (quote the text: --text \"...\").\n";
        return 2;
    }
    auto trace = traceFromArgs(*args);
    if (!trace) {
        // Everything traceFromArgs refuses comes from what was typed (a bad value, a model that
        // cannot be opened, unusable text): bad arguments, as in export.
        std::cerr << "attention-lab trace: " << trace.message() << '\n';
        return 2;
    }
    if (!args->has("compare")) {
        if (args->flag("json"))
            printTraceJson(**trace, std::cout);
        else
            printTrace(**trace, std::cout);
        return 0;
    }
    // Run B: A's options with the --compare ones on top, parsed by the same parser.
    auto words = splitWords(args->get("compare"));
    if (!words) {
        std::cerr << "attention-lab trace: --compare: " << words.message() << '\n';
        return 2;
    }
    std::vector<std::string> valuesB = values;
    std::erase(valuesB, std::string("compare"));
    auto argsB = argsOnTop(*args, *words, valuesB, {"no-scale", "scale"});
    if (!argsB) {
        std::cerr << "attention-lab trace: --compare: " << argsB.message() << '\n';
        return 2;
    }
    argsB->values.erase("compare");
    // Options that name no other model run A's model object again (never a second copy).
    auto own = parseWords(*words, valuesB, {"no-scale", "scale"});
    const bool sameModel = own && !namesModel(*own);
    auto traceB = traceFromArgs(*argsB, sameModel ? (*trace)->model : nullptr);
    if (!traceB) {
        std::cerr << "attention-lab trace: --compare: " << traceB.message() << '\n';
        return 2;
    }
    if (args->flag("json")) {
        nlohmann::json j;
        j["a"] = traceJson(**trace);
        j["b"] = traceJson(**traceB);
        j["difference"] = differenceJson(**trace, **traceB);
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        std::cout << "═══ Run A ═══\n";
        printTrace(**trace, std::cout);
        std::cout << "\n═══ Run B ═══\n";
        printTrace(**traceB, std::cout);
        printDifference(**trace, **traceB, std::cout);
    }
    return 0;
}

}  // namespace attn::cli
