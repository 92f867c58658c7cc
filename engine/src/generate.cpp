// Generation with a key/value cache. The prompt is one full trace (runTokens); its K and V
// (after RoPE) seed the cache. Each later token then goes through the layers alone, as run.c's
// forward() does in llama2.c: its own q, k, v per layer, k and v appended to the cache, one
// attention row per head over every earlier position, the feed-forward of one row, the logits.
// The primitives are the engine's own (linear, applyNorm, feedForward, applyRope), so a cached
// step gives the same numbers as a full recomputation of the sequence, to float rounding.

#include "attn/generate.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "attn/positional_encoding.h"

namespace attn {

std::string toString(StopReason reason) {
    switch (reason) {
        case StopReason::Length:
            return "length";
        case StopReason::Eos:
            return "eos";
        case StopReason::ContextFull:
            return "context";
        case StopReason::Cancelled:
            return "cancelled";
    }
    return "?";
}

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// A uniform double in [0, 1) from the top 53 bits: the same on every standard library
// (std::uniform_real_distribution's algorithm is not specified).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// softmax(logits / T) in double, T > 0.
std::vector<double> softmaxOf(const RowVec& logits, double T) {
    const Eigen::Index V = logits.size();
    std::vector<double> p(static_cast<std::size_t>(V));
    const double mx = static_cast<double>(logits.maxCoeff());
    double sum = 0.0;
    for (Eigen::Index i = 0; i < V; ++i) {
        p[i] = std::exp((static_cast<double>(logits(i)) - mx) / T);
        sum += p[i];
    }
    for (double& x : p) x /= sum;
    return p;
}

// The same RMSNorm of every head's slice of a row as attention.cpp's q_norm/k_norm (Qwen3).
void rmsNormHeads(Mat& X, const RowVec& gamma, float eps) {
    const Eigen::Index dh = gamma.size();
    for (Eigen::Index h = 0; h < X.cols() / dh; ++h) {
        auto block = X.middleCols(h * dh, dh);
        for (Eigen::Index t = 0; t < block.rows(); ++t) {
            auto row = block.row(t);
            const float ms = row.squaredNorm() / static_cast<float>(dh);
            row *= 1.0f / std::sqrt(ms + eps);
            row.array() *= gamma.array();
        }
    }
}

}  // namespace

int sampleToken(const RowVec& logits, const SamplingOptions& o, std::mt19937_64& rng,
                float* sample_prob) {
    assert(logits.size() > 0);
    if (!(o.temperature > 0.0f)) {
        Eigen::Index best = 0;
        logits.maxCoeff(&best);  // the first maximum, as llama2.c's argmax
        if (sample_prob) *sample_prob = 1.0f;
        return static_cast<int>(best);
    }
    const std::vector<double> p = softmaxOf(logits, o.temperature);
    std::vector<int> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    // Most probable first; ties by id so the order (and the draw) never depends on the sort.
    const auto better = [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
    std::size_t keep = order.size();
    if (o.top_k > 0 && static_cast<std::size_t>(o.top_k) < keep) keep = o.top_k;
    const bool nucleus = o.top_p > 0.0f && o.top_p < 1.0f;
    if (nucleus) {
        std::sort(order.begin(), order.end(), better);
    } else {
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep),
                          order.end(), better);
    }
    double mass = 0.0;
    std::size_t n = 0;
    for (; n < keep; ++n) {
        mass += p[order[n]];
        if (nucleus && mass >= o.top_p) {
            ++n;
            break;
        }
    }
    const double u = uniform01(rng) * mass;
    double acc = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        acc += p[order[i]];
        if (u < acc || i + 1 == n) {
            if (sample_prob) *sample_prob = static_cast<float>(p[order[i]] / mass);
            return order[i];
        }
    }
    return order[0];  // not reached: n ≥ 1
}

// ---------------------------------------------------------------------------------------------

std::string Generation::text() const {
    std::string s;
    for (const GenerationStep& st : steps) {
        if (stopped_by == StopReason::Eos && &st == &steps.back()) break;
        s += st.piece;
    }
    return s;
}

std::vector<int> Generation::ids() const {
    std::vector<int> v;
    v.reserve(prompt.size() + steps.size());
    for (const Token& t : prompt) v.push_back(t.id);
    for (const GenerationStep& st : steps) v.push_back(st.token);
    return v;
}

std::vector<Token> Generation::tokens(int n) const {
    std::vector<Token> out = prompt;
    std::size_t at = out.empty() ? 0 : out.back().end;
    const std::size_t count =
        n < 0 ? steps.size() : std::min(steps.size(), static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < count; ++i) {
        Token t;
        t.id = steps[i].token;
        t.text = steps[i].piece;
        t.begin = at;
        at += t.text.size();
        t.end = at;
        out.push_back(std::move(t));
    }
    return out;
}

Result<std::vector<Token>> tokensFromIds(const Model& model, const std::vector<int>& ids) {
    const int V = model.config.vocab_size;
    if (V <= 0)
        return makeError("The model '" + model.config.name +
                         "' has no vocabulary: give it text, not token ids.");
    std::vector<Token> tokens;
    std::string text;
    tokens.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const int id = ids[i];
        if (id < 0 || id >= V) {
            std::ostringstream m;
            m << "Token id " << id << " (number " << i + 1 << " of the list) is outside the "
              << "vocabulary of '" << model.config.name << "': ids go from 0 to " << V - 1 << ".";
            return makeError(m.str());
        }
        Token t;
        t.id = id;
        t.text = model.tokenizer ? model.tokenizer->decode(id) : "#" + std::to_string(id);
        t.begin = text.size();
        text += t.text;
        t.end = text.size();
        tokens.push_back(std::move(t));
    }
    markPartialCharacters(text, tokens);
    return tokens;
}

// ---------------------------------------------------------------------------------------------

struct Generator::Impl {
    std::shared_ptr<const Model> model;
    GenerateOptions opt;
    AttentionConfig ac;  // of every self-attention block
    Generation gen;
    std::mt19937_64 rng;
    int capacity = 0;  // positions the cache holds: prompt + max_new_tokens − 1, ≤ max_len
    int length = 0;    // positions filled
    int kvHeads = 0;   // key/value heads held by the cache (query heads in the raw form)
    bool embeddingsMode = false;
    int window = 0;  // ModelConfig::sliding_window (0 = none)
    // Per layer: (capacity, kvHeads·d_head), row = position; K after RoPE. In the QK form
    // V is K itself and V stays empty.
    std::vector<Mat> K, V;
    std::vector<std::vector<bool>> headEnabled;    // [layer][head]
    Mat positional;                                // (capacity, d_model) additive PE rows
    RowVec nextLogits;                             // (vocab) for the token to choose next
    std::vector<std::vector<RowVec>> pendingRows;  // [layer][head] of the last fed token
    bool finished = false;

    bool cancelled() const { return opt.cancel && opt.cancel->load(std::memory_order_relaxed); }

    void logitsOf(const Mat& hidden, RowVec& out) const {
        const ModelWeights& w = model->weights;
        Mat y;
        if (w.lm_head_tied)
            linear(hidden, w.token_embedding, w.lm_bias, y, /*transposedW=*/true);
        else
            linear(hidden, w.lm_head, w.lm_bias, y);
        out = y.row(0);
    }

    // One self-attention block for the new row h (1, d_model) at position pos; fills the
    // attention rows of every head and returns the projected output (1, d_model).
    Mat attendOne(int l, const AttentionWeights& w, const Mat& h, int pos,
                  std::vector<RowVec>& rows) {
        const int H = ac.n_heads, dh = ac.d_head;
        const int groups = embeddingsMode ? 1 : H / ac.n_kv_heads;
        Mat q, k, v;  // (1, H·dh), (1, kvHeads·dh) ×2
        if (embeddingsMode) {
            q = h;
            k = h;
        } else {
            linear(h, w.W_Q, w.b_Q, q);
            linear(h, w.W_K, w.b_K, k);
            if (ac.projection == ProjectionMode::QKV) linear(h, w.W_V, w.b_V, v);
            if (w.q_norm.size()) rmsNormHeads(q, w.q_norm, ac.qk_norm_eps);
            if (w.k_norm.size()) rmsNormHeads(k, w.k_norm, ac.qk_norm_eps);
        }
        if (ac.rope) {
            applyRope(q, dh, ac.rope_theta, pos, ac.rope_pairs, ac.rope_freq_factors);
            applyRope(k, dh, ac.rope_theta, pos, ac.rope_pairs, ac.rope_freq_factors);
        }
        if (embeddingsMode) v = h;  // V = X, never rotated
        K[l].row(pos) = k.row(0);
        const bool ownV = embeddingsMode || ac.projection == ProjectionMode::QKV;
        if (ownV) V[l].row(pos) = v.row(0);
        const Mat& Vsrc = ownV ? V[l] : K[l];
        const int T = pos + 1;

        float scale = 1.0f;
        if (ac.scale && ac.score == ScoreFunction::ScaledDot)
            scale /= std::sqrt(static_cast<float>(dh));
        if (ac.temperature > 0.0f) scale /= ac.temperature;

        Mat concat(1, H * dh);
        rows.resize(H);
        for (int hd = 0; hd < H; ++hd) {
            const int kv = hd / groups;
            const auto Kh = K[l].block(0, kv * dh, T, dh);  // (T, dh)
            const auto Vh = Vsrc.block(0, kv * dh, T, dh);  // (T, dh)
            const RowVec qh = q.block(0, hd * dh, 1, dh);   // (1, dh)
            RowVec s(T);                                    // (T): one score per key
            switch (ac.score) {
                case ScoreFunction::Dot:
                case ScoreFunction::ScaledDot:
                    s.noalias() = qh * Kh.transpose();
                    break;
                case ScoreFunction::Cosine: {
                    s.noalias() = qh * Kh.transpose();
                    const float qn = qh.norm();
                    for (int j = 0; j < T; ++j) s(j) /= std::max(qn * Kh.row(j).norm(), 1e-12f);
                    break;
                }
                case ScoreFunction::General:
                    s.noalias() = (qh * w.W_general.at(hd)) * Kh.transpose();
                    break;
                case ScoreFunction::Additive: {
                    const RowVec a = qh * w.W_add_q.at(hd);  // (d_a)
                    const Mat b = Kh * w.W_add_k.at(hd);     // (T, d_a)
                    const Vec& va = w.v_add.at(hd);
                    for (int j = 0; j < T; ++j)
                        s(j) = ((a + b.row(j)).array().tanh() * va.transpose().array()).sum();
                    break;
                }
            }
            if (scale != 1.0f) s *= scale;
            // Mistral's sliding window: keys window or more positions back are hidden.
            if (window > 0)
                for (int j = 0; j <= pos - window; ++j) s(j) = kNegInf;
            if (ac.temperature == 0.0f) {
                Eigen::Index best = 0;
                s.maxCoeff(&best);
                s.setZero();
                s(best) = 1.0f;
            } else {
                const float mx = s.maxCoeff();
                if (mx == kNegInf) {
                    s.setZero();
                } else {
                    s = (s.array() - mx).exp();
                    s /= s.sum();
                }
            }
            // Hidden keys weigh exactly 0 (a vectorised exp(-inf) may give a denormal).
            if (window > 0 && pos - window + 1 > 0) s.head(pos - window + 1).setZero();
            if (headEnabled[l][hd])
                concat.block(0, hd * dh, 1, dh).noalias() = s * Vh;
            else
                concat.block(0, hd * dh, 1, dh).setZero();
            rows[hd] = std::move(s);
        }
        if (embeddingsMode || w.W_O.size() == 0) return concat;
        Mat out;
        linear(concat, w.W_O, w.b_O, out);
        return out;
    }

    // Feeds token id at position pos through every layer; fills rows and nextLogits.
    void feed(int id, int pos, std::vector<std::vector<RowVec>>& rows) {
        const ModelConfig& c = model->config;
        const ModelWeights& w = model->weights;
        Mat x = w.token_embedding.widenRow(id);  // (1, d_model): packed tables widen one row
        x += positional.row(pos);
        if (c.type_vocab_size > 0 && w.token_type_embedding.rows() > 0)
            x += w.token_type_embedding.row(0);
        if (c.embedding_norm) applyNorm(c.norm, w.embedding_norm, c.norm_eps, x);
        rows.resize(c.n_layers);
        for (int l = 0; l < c.n_layers; ++l) {
            const LayerWeights& lw = w.layers[l];
            if (c.pre_norm) {
                Mat h = x;
                applyNorm(c.norm, lw.norm1, c.norm_eps, h);
                x += attendOne(l, lw.self_attention, h, pos, rows[l]);
                h = x;
                applyNorm(c.norm, lw.norm2, c.norm_eps, h);
                x += feedForward(c.activation, lw.ffn, h);
            } else {
                x += attendOne(l, lw.self_attention, x, pos, rows[l]);
                applyNorm(c.norm, lw.norm1, c.norm_eps, x);
                x += feedForward(c.activation, lw.ffn, x);
                applyNorm(c.norm, lw.norm2, c.norm_eps, x);
            }
        }
        if (c.final_norm) applyNorm(c.norm, w.final_norm, c.norm_eps, x);
        logitsOf(x, nextLogits);
        length = pos + 1;
    }

    void topCandidates(const RowVec& logits, GenerationStep& st) const {
        const std::vector<double> p = softmaxOf(logits, 1.0);
        st.prob = static_cast<float>(p[static_cast<std::size_t>(st.token)]);
        const std::size_t k = std::min<std::size_t>(
            p.size(), static_cast<std::size_t>(std::max(0, opt.top_candidates)));
        std::vector<int> order(p.size());
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k),
                          order.end(),
                          [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        st.top.clear();
        for (std::size_t i = 0; i < k; ++i)
            st.top.emplace_back(order[i], static_cast<float>(p[order[i]]));
    }
};

Generator::Generator() : m(std::make_unique<Impl>()) {}
Generator::~Generator() = default;

Result<std::unique_ptr<Generator>> Generator::start(std::shared_ptr<const Model> model,
                                                    std::vector<Token> prompt,
                                                    const GenerateOptions& options) {
    if (!model) return makeError("No model is loaded.");
    const ModelConfig& c = model->config;
    const ModelWeights& w = model->weights;
    if (c.architecture != Architecture::Decoder)
        return makeError("Generation needs a decoder-only language model; '" + c.name + "' is " +
                         toString(c.architecture) + ".");
    const bool head = c.has_lm_head &&
                      ((w.lm_head_tied && w.token_embedding.size() != 0) || w.lm_head.size() != 0);
    if (!head || c.vocab_size <= 0 || w.token_embedding.rows() != c.vocab_size)
        return makeError(
            "Generation needs a model with a vocabulary and an output layer over "
            "it; '" +
            c.name + "' has none.");
    if (prompt.empty())
        return makeError("The prompt is empty: give at least one token to start from.");
    for (const Token& t : prompt) {
        if (t.id < 0 || t.id >= c.vocab_size) {
            std::ostringstream s;
            s << "Token '" << t.text << "' has id " << t.id << ", outside the vocabulary of "
              << c.vocab_size << " tokens.";
            return makeError(s.str());
        }
    }
    if (options.max_new_tokens < 0 || options.max_new_tokens > 1'000'000)
        return makeError("The number of tokens to generate must be between 0 and 1000000.");
    const SamplingOptions& so = options.sampling;
    if (!(so.temperature >= 0.0f) || !std::isfinite(so.temperature))
        return makeError("The sampling temperature must be 0 (greedy) or positive.");
    if (so.top_k < 0) return makeError("top-k must be 0 (all tokens) or positive.");
    if (!(so.top_p > 0.0f && so.top_p <= 1.0f))
        return makeError("top-p must be above 0 and at most 1.");
    if (c.positional == PositionalKind::Learned &&
        w.position_embedding.rows() < static_cast<Eigen::Index>(prompt.size()))
        return makeError("The prompt is longer than the model's learned positions.");

    RunOptions ro;
    ro.attention = options.attention;
    ro.disabled_heads = options.disabled_heads;
    ro.detail_limit_bytes = options.prompt_detail_limit_bytes;
    ro.cancel = options.cancel;
    auto trace = runTokens(model, std::move(prompt), ro);  // checks knobs, length, memory
    if (!trace) return trace.error();
    const Trace& tr = **trace;

    std::unique_ptr<Generator> g(new Generator());
    Impl& s = *g->m;
    s.opt = options;
    s.ac = tr.attentionConfigOf(false, false);
    s.gen.model = model;
    s.gen.prompt = tr.tokens;
    s.gen.prompt_trace = *trace;
    s.gen.sampling = so;
    s.rng.seed(so.seed);
    s.embeddingsMode = s.ac.projection == ProjectionMode::Embeddings;
    s.window = model->config.sliding_window;
    s.kvHeads = s.embeddingsMode ? s.ac.n_heads : s.ac.n_kv_heads;
    s.model = std::move(model);  // c and w still refer to it: the model itself stays put

    const int T = tr.tokenCount();
    int cap = T + std::max(0, options.max_new_tokens - 1);
    cap = std::min(cap, c.max_len);
    if (c.positional == PositionalKind::Learned)
        cap = std::min(cap, static_cast<int>(w.position_embedding.rows()));
    s.capacity = std::max(cap, T);
    s.length = T;
    switch (c.positional) {
        case PositionalKind::Sinusoidal:
            s.positional = sinusoidalEncoding(s.capacity, c.d_model, c.pe_base);
            break;
        case PositionalKind::Learned:
            s.positional = w.position_embedding.topRows(s.capacity);
            break;
        case PositionalKind::Rope:
        case PositionalKind::None:
            s.positional = Mat::Zero(s.capacity, c.d_model);
            break;
    }

    // The cache starts from the prompt trace: each key/value head's K and V (after RoPE) are
    // those of the first query head that reads it.
    const int dh = s.ac.d_head;
    const int groups = s.embeddingsMode ? 1 : s.ac.n_heads / s.ac.n_kv_heads;
    const bool ownV = s.embeddingsMode || s.ac.projection == ProjectionMode::QKV;
    s.K.assign(c.n_layers, Mat());
    s.V.assign(c.n_layers, Mat());
    s.headEnabled.assign(c.n_layers, std::vector<bool>(c.n_heads, true));
    for (auto [b, h] : options.disabled_heads)
        if (b >= 0 && b < c.n_layers && h >= 0 && h < c.n_heads) s.headEnabled[b][h] = false;
    for (int l = 0; l < c.n_layers; ++l) {
        s.K[l].resize(s.capacity, s.kvHeads * dh);
        if (ownV) s.V[l].resize(s.capacity, s.kvHeads * dh);
        const AttentionTrace& at = tr.layers[l].self_attention;
        for (int kv = 0; kv < s.kvHeads; ++kv) {
            const HeadTrace& ht = at.heads.at(kv * groups);
            s.K[l].block(0, kv * dh, T, dh) = ht.K;
            if (ownV) s.V[l].block(0, kv * dh, T, dh) = ht.V;
        }
    }
    s.nextLogits = tr.logits.row(T - 1);
    if (options.max_new_tokens == 0) s.finished = true;
    return g;
}

const GenerationStep* Generator::next() {
    Impl& s = *m;
    if (s.finished) return nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    const ModelConfig& c = s.model->config;
    const int index = static_cast<int>(s.gen.steps.size());
    GenerationStep st;
    st.position = s.length - 1;
    st.token = sampleToken(s.nextLogits, s.opt.sampling, s.rng, &st.sample_prob);
    st.piece =
        s.model->tokenizer ? s.model->tokenizer->decode(st.token) : "#" + std::to_string(st.token);
    s.topCandidates(s.nextLogits, st);
    if (index == 0) {
        // The first token is chosen by the prompt's last row: its attention is in the trace.
        const Trace& tr = *s.gen.prompt_trace;
        st.attention.resize(c.n_layers);
        for (int l = 0; l < c.n_layers; ++l) {
            const AttentionTrace& at = tr.layers[l].self_attention;
            st.attention[l].resize(at.heads.size());
            for (std::size_t h = 0; h < at.heads.size(); ++h)
                st.attention[l][h] = at.heads[h].weights.row(st.position);
        }
    } else {
        st.attention = std::move(s.pendingRows);
    }
    s.gen.steps.push_back(std::move(st));
    const GenerationStep& done = s.gen.steps.back();
    const int made = index + 1;
    // Reported before the next token is fed, so that a caller shows it at once (and a cancel
    // set in the callback stops before more work).
    if (s.opt.on_step) s.opt.on_step(done, made, s.opt.max_new_tokens);

    if (s.opt.stop_at_eos && s.model->eos_id >= 0 && done.token == s.model->eos_id) {
        s.gen.stopped_by = StopReason::Eos;
        s.finished = true;
    } else if (made >= s.opt.max_new_tokens) {
        s.gen.stopped_by = StopReason::Length;
        s.finished = true;
    } else if (s.length >= s.capacity) {
        s.gen.stopped_by = StopReason::ContextFull;
        s.finished = true;
    } else if (s.cancelled()) {
        s.gen.stopped_by = StopReason::Cancelled;
        s.finished = true;
    } else {
        // Feed the chosen token now: its attention row is the next step's.
        s.feed(done.token, s.length, s.pendingRows);
    }
    s.gen.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return &done;
}

bool Generator::done() const { return m->finished; }
const Generation& Generator::result() const { return m->gen; }

Result<Generation> generate(std::shared_ptr<const Model> model, std::vector<Token> prompt,
                            const GenerateOptions& options) {
    auto g = Generator::start(std::move(model), std::move(prompt), options);
    if (!g) return g.error();
    while ((*g)->next() != nullptr) {
    }
    return (*g)->result();
}

Result<Generation> generateFromText(std::shared_ptr<const Model> model, std::string_view text,
                                    const GenerateOptions& options) {
    if (!model) return makeError("No model is loaded.");
    auto in = tokenizeInput(*model, text);
    if (!in) return in.error();
    return generate(std::move(model), std::move(in->tokens), options);
}

}  // namespace attn
