#include "attn/trace.h"

#include <cmath>
#include <sstream>

#include "attn/generate.h"

namespace attn {

namespace {

std::string fmtBytes(double bytes) {
    std::ostringstream s;
    s.precision(3);
    if (bytes >= 1e9)
        s << bytes / 1e9 << " GB";
    else
        s << bytes / 1e6 << " MB";
    return s.str();
}

struct Runner {
    std::shared_ptr<const Model> model;
    const RunOptions& opt;
    Trace& tr;
    int blocksDone = 0;
    int blocksTotal = 1;
    bool keepDetail = true;
    std::vector<bool> keepWeights;  // per first-stack layer; empty = every layer keeps them

    bool cancelled() const { return opt.cancel && opt.cancel->load(std::memory_order_relaxed); }
    void tick() {
        ++blocksDone;
        if (opt.progress) opt.progress(static_cast<double>(blocksDone) / blocksTotal);
    }

    Result<Mat> embed(const std::vector<Token>& tokens, bool target) {
        const ModelConfig& c = model->config;
        const ModelWeights& w = model->weights;
        // The token table may be packed: only the rows of these tokens are widened.
        const Weight& tokenTable = w.token_embedding;
        const Mat& targetTable = w.target_embedding;
        const Eigen::Index tableRows = target ? targetTable.rows() : tokenTable.rows();
        const bool noTable = target ? targetTable.size() == 0 : tokenTable.size() == 0;
        const int T = static_cast<int>(tokens.size());
        Mat E(T, c.d_model);  // (T, d_model)
        for (int t = 0; t < T; ++t) {
            const Token& tok = tokens[t];
            if (noTable) {
                E.row(t) = hashedEmbedding(tok.text, c.d_model, c.seed + (target ? 7919 : 0));
            } else if (tok.id < 0 || tok.id >= tableRows) {
                std::ostringstream m;
                m << "Token '" << tok.text << "' has id " << tok.id
                  << ", outside the model's vocabulary of " << tableRows << " tokens.";
                return makeError(m.str());
            } else if (target) {
                E.row(t) = targetTable.row(tok.id);
            } else {
                E.row(t) = tokenTable.widenRow(tok.id);
            }
        }
        return E;
    }

    Mat positional(int T) {
        const ModelConfig& c = model->config;
        switch (c.positional) {
            case PositionalKind::Sinusoidal:
                return sinusoidalEncoding(T, c.d_model, c.pe_base);
            case PositionalKind::Learned:
                return model->weights.position_embedding.topRows(T);
            case PositionalKind::Rope:
            case PositionalKind::None:
                break;
        }
        return Mat::Zero(T, c.d_model);
    }

    std::vector<bool> enabledHeads(int blockIndex) const {
        std::vector<bool> on(model->config.n_heads, true);
        for (auto [b, h] : opt.disabled_heads)
            if (b == blockIndex && h >= 0 && h < static_cast<int>(on.size())) on[h] = false;
        return on;
    }

    AttentionTrace block(const AttentionConfig& ac, const AttentionWeights& w, const Mat& Xq,
                         const Mat& Xkv, const MaskSpec& mask, int layer, bool decoder,
                         bool cross = false) {
        AttendOptions ao;
        ao.keep_detail = keepDetail;
        ao.focus_head = (layer == opt.focus_layer) ? opt.focus_head : -1;
        ao.head_enabled = enabledHeads(headBlockIndex(model->config, layer, decoder, cross));
        AttentionTrace at = attend(ac, w, Xq, Xkv, mask, ao);
        if (!decoder && !keepWeights.empty() && !keepWeights[static_cast<std::size_t>(layer)]) {
            for (HeadTrace& h : at.heads) {
                h.weights = Mat();
                h.scores = h.scaled = h.masked = Mat();
                h.detailed = false;
                h.weights_kept = false;
            }
        }
        return at;
    }

    void addNorm(const NormWeights& nw, Mat& x) {
        applyNorm(model->config.norm, nw, model->config.norm_eps, x);
    }

    // One layer. memory: encoder output for cross-attention (nullptr otherwise).
    Status layer(const LayerWeights& lw, int l, bool decoder, const Mat& x_in, const Mat* memory,
                 const MaskSpec& selfMask, LayerTrace& lt) {
        const ModelConfig& c = model->config;
        const AttentionConfig ac = tr.attentionConfigOf(decoder, false);
        lt.input = x_in;
        Mat x = x_in;
        // Self-attention.
        if (c.pre_norm) {
            Mat h = x;
            addNorm(lw.norm1, h);
            lt.self_attention = block(ac, lw.self_attention, h, h, selfMask, l, decoder);
            x += lt.self_attention.projected;
        } else {
            lt.self_attention = block(ac, lw.self_attention, x, x, selfMask, l, decoder);
            x += lt.self_attention.projected;
            addNorm(lw.norm1, x);
        }
        lt.after_self = x;
        tick();
        if (cancelled()) return makeError("Cancelled.", ErrorCode::Cancelled);
        // Cross-attention: queries from the target, keys and values from the source.
        const NormWeights* ffnNorm = &lw.norm2;
        if (memory) {
            const AttentionConfig xc = tr.attentionConfigOf(true, true);
            MaskSpec none;
            if (c.pre_norm) {
                Mat h = x;
                addNorm(lw.norm2, h);
                lt.cross_attention = block(xc, lw.cross_attention, h, *memory, none, l, true, true);
                x += lt.cross_attention->projected;
            } else {
                lt.cross_attention = block(xc, lw.cross_attention, x, *memory, none, l, true, true);
                x += lt.cross_attention->projected;
                addNorm(lw.norm2, x);
            }
            lt.after_cross = x;
            ffnNorm = &lw.norm3;
            tick();
        }
        // Feed-forward.
        if (c.pre_norm) {
            Mat h = x;
            addNorm(*ffnNorm, h);
            lt.ffn_output = feedForward(c.activation, lw.ffn, h);
            x += lt.ffn_output;
        } else {
            lt.ffn_output = feedForward(c.activation, lw.ffn, x);
            x += lt.ffn_output;
            addNorm(*ffnNorm, x);
        }
        lt.output = std::move(x);
        if (cancelled()) return makeError("Cancelled.", ErrorCode::Cancelled);
        return Ok{};
    }

    Result<Mat> stackInput(const std::vector<Token>& tokens, bool target, Mat* E, Mat* P) {
        auto e = embed(tokens, target);
        if (!e) return e.error();
        *E = std::move(e.value());
        *P = positional(static_cast<int>(tokens.size()));
        Mat X = *E + *P;
        const ModelWeights& w = model->weights;
        if (!target && model->config.type_vocab_size > 0 && w.token_type_embedding.rows() > 0)
            X.rowwise() += w.token_type_embedding.row(0);
        if (model->config.embedding_norm) addNorm(w.embedding_norm, X);
        return X;
    }
};

Status checkTokens(const Model& m, const std::vector<Token>& tokens, const char* what) {
    if (tokens.empty()) {
        return makeError(std::string("The ") + what +
                         " is empty: type a sentence to see its attention.");
    }
    if (static_cast<int>(tokens.size()) > m.config.max_len) {
        std::ostringstream s;
        s << "The " << what << " has " << tokens.size() << " tokens; this model takes at most "
          << m.config.max_len << ". Shorten the text.";
        return makeError(s.str());
    }
    return Ok{};
}

// The attention matrices a run keeps within budget: every head's weights when they fit, else
// the weights of the first-stack layers that fit (focus layer first). The decoder stack of an
// encoder–decoder model (teaching models, small) always keeps its own. Refuses a run that
// cannot stay within budget even with recomputation: one layer's heads are computed together,
// and a view recomputes one head's four (T, T) matrices beside them.
struct MemoryPlan {
    std::vector<bool> keep;  // per first-stack layer; empty = all
};

Result<MemoryPlan> planMemory(const ModelConfig& c, int T_src, int T_tgt, int focus_layer,
                              double budget) {
    const double heads = c.n_heads;
    const double layerBytes = heads * double(T_src) * T_src * 4.0;  // one layer's weights
    double decoderBytes = 0.0;
    if (c.architecture == Architecture::EncoderDecoder)
        decoderBytes =
            heads * c.n_decoder_layers * (double(T_tgt) * T_tgt + double(T_tgt) * T_src) * 4.0;
    const double total = layerBytes * c.n_layers + decoderBytes;
    const int T = std::max(T_src, T_tgt);
    MemoryPlan plan;
    if (total <= budget) return plan;
    const double headDetail = 4.0 * 4.0 * double(T) * T;
    const double least = layerBytes + decoderBytes + headDetail;
    if (least > budget) {
        std::ostringstream s;
        s << "This text is " << T << " tokens long: even recomputing layers on demand, its "
          << c.n_heads << " heads need " << fmtBytes(least)
          << " of attention matrices (every head's weights while a layer is computed), more than "
             "the memory budget of "
          << fmtBytes(budget) << " (keeping every layer would need " << fmtBytes(total)
          << "). Shorten the text or raise the budget.";
        return makeError(s.str(), ErrorCode::TooLarge);
    }
    plan.keep.assign(static_cast<std::size_t>(c.n_layers), false);
    // What stays: the decoder's, a recomputed head's detail, then whole layers while they fit.
    double used = decoderBytes + headDetail;
    const auto take = [&](int l) {
        if (l < 0 || l >= c.n_layers || plan.keep[static_cast<std::size_t>(l)]) return;
        if (used + layerBytes > budget) return;
        plan.keep[static_cast<std::size_t>(l)] = true;
        used += layerBytes;
    };
    take(focus_layer);
    for (int l = 0; l < c.n_layers; ++l) take(l);
    return plan;
}

double detailBytes(const ModelConfig& c, int T_src, int T_tgt) {
    // scores, scaled, masked and weights: four (T_q, T_k) matrices per head.
    double b = 4.0 * 4.0 * c.n_heads * c.n_layers * double(T_src) * T_src;
    if (c.architecture == Architecture::EncoderDecoder)
        b +=
            16.0 * c.n_heads * c.n_decoder_layers * (double(T_tgt) * T_tgt + double(T_tgt) * T_src);
    return b;
}

// Callers move their pointer in; it is copied into the trace and the runner.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
Result<TracePtr> runImpl(std::shared_ptr<const Model> model, std::vector<Token> src,
                         std::vector<Token> tgt, bool seq2seq, const RunOptions& opt,
                         std::string text, std::string target_text) {
    if (!model) return makeError("No model is loaded.");
    const ModelConfig& c = model->config;
    if (Status s = validate(c); !s) return s.error();
    const AttentionKnobs knobs = resolvedAttention(*model, opt);
    if (Status s = checkAttentionKnobs(*model, knobs); !s) return s.error();
    if (Status s = checkTokens(*model, src, seq2seq ? "source sentence" : "text"); !s)
        return s.error();
    if (seq2seq) {
        if (Status s = checkTokens(*model, tgt, "target sentence"); !s) return s.error();
    }
    const int T = static_cast<int>(src.size());
    const int Tt = static_cast<int>(tgt.size());
    auto plan = planMemory(c, T, Tt, opt.focus_layer, static_cast<double>(opt.memory_budget_bytes));
    if (!plan) return plan.error();

    auto trace = std::make_shared<Trace>();
    Trace& tr = *trace;
    tr.model = model;
    tr.text = std::move(text);
    tr.target_text = std::move(target_text);
    tr.tokens = std::move(src);
    tr.target_tokens = std::move(tgt);
    tr.attention = knobs;
    tr.disabled_heads = opt.disabled_heads;
    tr.full_detail =
        detailBytes(c, T, Tt) <=
            static_cast<double>(std::min(opt.detail_limit_bytes, opt.memory_budget_bytes)) &&
        plan->keep.empty();
    tr.all_weights_kept = plan->keep.empty();
    for (int l = 0; l < c.n_layers; ++l)
        if (plan->keep.empty() || plan->keep[static_cast<std::size_t>(l)])
            tr.kept_layers.push_back(l);

    Runner r{model, opt, tr, 0, 1, true, {}};
    r.keepDetail = tr.full_detail;
    r.keepWeights = std::move(plan->keep);
    r.blocksTotal = c.n_layers + (seq2seq ? 2 * c.n_decoder_layers : 0);

    // Encoder (or the only stack).
    auto X = r.stackInput(tr.tokens, false, &tr.embeddings, &tr.positional);
    if (!X) return X.error();
    tr.input = X.value();
    const MaskSpec selfMask = tr.maskOf(false, false);
    Mat x = tr.input;
    tr.layers.resize(c.n_layers);
    for (int l = 0; l < c.n_layers; ++l) {
        if (Status s =
                r.layer(model->weights.layers.at(l), l, false, x, nullptr, selfMask, tr.layers[l]);
            !s)
            return s.error();
        x = tr.layers[l].output;
    }
    if (c.final_norm && !seq2seq) r.addNorm(model->weights.final_norm, x);
    if (seq2seq && c.final_norm) r.addNorm(model->weights.final_norm, x);

    if (seq2seq) {
        const Mat memory = x;
        auto Y = r.stackInput(tr.target_tokens, true, &tr.target_embeddings, &tr.target_positional);
        if (!Y) return Y.error();
        tr.target_input = Y.value();
        Mat y = tr.target_input;
        const MaskSpec causal = tr.maskOf(true, false);
        tr.decoder_layers.resize(c.n_decoder_layers);
        for (int l = 0; l < c.n_decoder_layers; ++l) {
            if (Status s = r.layer(model->weights.decoder_layers.at(l), l, true, y, &memory, causal,
                                   tr.decoder_layers[l]);
                !s)
                return s.error();
            y = tr.decoder_layers[l].output;
        }
        if (c.final_norm) r.addNorm(model->weights.decoder_final_norm, y);
        x = std::move(y);
    }
    tr.final_hidden = std::move(x);
    const ModelWeights& mw = model->weights;
    if (opt.compute_logits && c.has_lm_head && mw.lm_head_tied && mw.token_embedding.size())
        linear(tr.final_hidden, mw.token_embedding, mw.lm_bias, tr.logits, /*transposedW=*/true);
    else if (opt.compute_logits && c.has_lm_head && mw.lm_head.size())
        linear(tr.final_hidden, mw.lm_head, mw.lm_bias, tr.logits);
    tr.steps = buildSteps(c, knobs, seq2seq);
    return TracePtr(trace);
}

}  // namespace

AttentionConfig Trace::attentionConfigOf(bool decoder, bool cross) const {
    AttentionConfig ac = model->config.attentionConfig(attention);
    if (cross) ac.rope = false;  // positions of source and target differ; RoPE is self-only
    (void)decoder;
    return ac;
}

MaskSpec Trace::maskOf(bool decoder, bool cross) const {
    MaskSpec m;
    const ModelConfig& c = model->config;
    if (cross) return m;
    const bool enc = c.architecture == Architecture::EncoderDecoder;
    if (decoder || c.architecture == Architecture::Decoder) {
        m.kind = MaskKind::Causal;
        m.window = c.sliding_window;
    } else {
        m.kind = attention.mask;
        if (m.kind == MaskKind::Padding) {
            m.key_padding.resize(tokens.size());
            for (std::size_t i = 0; i < tokens.size(); ++i)
                m.key_padding[i] = tokens[i].text == "[PAD]" || tokens[i].text == "<pad>";
        }
    }
    (void)enc;
    return m;
}

HeadTrace Trace::headDetail(int layer, int head, bool decoder, bool cross) const {
    const LayerTrace& lt = this->layer(layer, decoder);
    const AttentionTrace& at = cross ? lt.cross_attention.value() : lt.self_attention;
    HeadTrace h = at.heads.at(head);
    if (!h.detailed) {
        const LayerWeights& lw =
            decoder ? model->weights.decoder_layers.at(layer) : model->weights.layers.at(layer);
        attentionHeadDetail(attentionConfigOf(decoder, cross),
                            cross ? lw.cross_attention : lw.self_attention, head,
                            maskOf(decoder, cross), &h);
    }
    return h;
}

int headBlockIndex(const ModelConfig& config, int layer, bool decoder, bool cross) {
    if (!decoder || config.architecture != Architecture::EncoderDecoder) return layer;
    return config.n_layers + 2 * layer + (cross ? 1 : 0);
}

Result<RunInput> tokenizeInput(const Model& model, std::string_view text) {
    if (!model.tokenizer) return makeError("The model has no tokenizer.");
    RunInput in;
    in.text = std::string(text);
    in.tokens = model.tokenizer->encode(text);
    return in;
}

Result<RunInput> tokenizeSeq2SeqInput(const Model& model, std::string_view source,
                                      std::string_view target) {
    if (model.config.architecture != Architecture::EncoderDecoder)
        return makeError("Source → target attention needs an encoder–decoder model.");
    if (!model.tokenizer || !model.target_tokenizer)
        return makeError("The model has no tokenizer.");
    RunInput in;
    in.seq2seq = true;
    in.text = std::string(source);
    in.target_text = std::string(target);
    in.tokens = model.tokenizer->encode(source);
    in.target_tokens = model.target_tokenizer->encode(target);
    if (model.bos_id >= 0) {
        Token bos;
        bos.text = "<bos>";
        bos.id = model.bos_id;
        in.target_tokens.insert(in.target_tokens.begin(), bos);
    }
    return in;
}

Result<TracePtr> runInput(std::shared_ptr<const Model> model, RunInput in,
                          const RunOptions& options) {
    if (!model) return makeError("No model is loaded.");
    const bool seq2seq = in.seq2seq;
    return runImpl(std::move(model), std::move(in.tokens), std::move(in.target_tokens), seq2seq,
                   options, std::move(in.text), std::move(in.target_text));
}

Result<TracePtr> run(std::shared_ptr<const Model> model, std::string_view text,
                     const RunOptions& options) {
    if (!model) return makeError("No model is loaded.");
    Result<RunInput> in = tokenizeInput(*model, text);
    if (!in) return in.error();
    return runInput(std::move(model), std::move(in.value()), options);
}

Result<TracePtr> runTokens(std::shared_ptr<const Model> model, std::vector<Token> tokens,
                           const RunOptions& options) {
    std::string text;
    for (const Token& t : tokens) text += t.text;
    return runImpl(std::move(model), std::move(tokens), {}, false, options, std::move(text), {});
}

Result<TracePtr> runIds(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                        const RunOptions& options) {
    if (!model) return makeError("No model is loaded.");
    auto tokens = tokensFromIds(*model, ids);
    if (!tokens) return tokens.error();
    return runTokens(std::move(model), std::move(tokens).value(), options);
}

Result<TracePtr> runSeq2Seq(std::shared_ptr<const Model> model, std::string_view source,
                            std::string_view target, const RunOptions& options) {
    if (!model) return makeError("No model is loaded.");
    Result<RunInput> in = tokenizeSeq2SeqInput(*model, source, target);
    if (!in) return in.error();
    return runInput(std::move(model), std::move(in.value()), options);
}

AttentionKnobs resolvedAttention(const Model& model, const RunOptions& options) {
    return options.attention.value_or(model.trained_attention);
}

std::vector<Step> buildSteps(const ModelConfig& c, const AttentionKnobs& knobs, bool has_target) {
    std::vector<Step> steps;
    auto add = [&](std::string id, std::string title, std::string formula, StepKind kind,
                   int layer = -1, bool decoder = false, bool cross = false) {
        steps.push_back(
            Step{std::move(id), std::move(title), std::move(formula), kind, layer, decoder, cross});
    };
    add("tokens", "Tokens", "the text split into tokens t₁ … t_n", StepKind::Tokens);
    add("embed", "Embeddings", "E = embedding(t) — one vector of d_model numbers per token",
        StepKind::Embedding);
    switch (c.positional) {
        case PositionalKind::Sinusoidal:
            add("pos", "+ Positional encoding",
                "X = E + PE,  PE(t,2i) = sin(t/10000^(2i/d)),  PE(t,2i+1) = cos(t/10000^(2i/d))",
                StepKind::Positional);
            break;
        case PositionalKind::Learned:
            add("pos", "+ Learned positions", "X = E + P[t] (a learned row per position)",
                StepKind::Positional);
            break;
        case PositionalKind::Rope:
            add("pos", "Rotary positions (RoPE)",
                "X = E; later q and k are rotated pair by pair by angle t·θ^(−2i/d_k)",
                StepKind::Positional);
            break;
        case PositionalKind::None:
            add("pos", "No positional encoding", "X = E (word order is invisible to attention)",
                StepKind::Positional);
            break;
    }

    // "S / √d_k = √16" would read as S′ = 4: name d_k and its root apart.
    const int dk = c.headDim();
    std::string rootDk = std::to_string(std::sqrt(static_cast<double>(dk)));
    rootDk.erase(rootDk.find_last_not_of('0') + 1);
    if (!rootDk.empty() && rootDk.back() == '.') rootDk.pop_back();
    if (rootDk.size() > 5) rootDk = rootDk.substr(0, 5);
    const std::string sqrtDk = "√d_k   (d_k = " + std::to_string(dk) + ", √d_k = " + rootDk + ")";
    auto attentionSteps = [&](const std::string& p, int l, bool decoder, bool cross,
                              const std::string& label) {
        std::string qkv;
        const std::string qsrc = cross ? "Y" : "X";
        const std::string kvsrc = cross ? "M" : "X";
        switch (knobs.projection) {
            case ProjectionMode::Embeddings:
                qkv =
                    "Q = " + qsrc + ", K = V = " + kvsrc + " (raw embeddings, no learned weights)";
                break;
            case ProjectionMode::QK:
                qkv = "Q = " + qsrc + "·W_Q,  K = " + kvsrc + "·W_K,  V = K";
                break;
            case ProjectionMode::QKV:
                qkv = "Q = " + qsrc + "·W_Q,  K = " + kvsrc + "·W_K,  V = " + kvsrc + "·W_V";
                break;
        }
        if (cross) qkv += "   (queries from the target Y, keys and values from the source M)";
        if (c.positional == PositionalKind::Rope && !cross) qkv += ", then RoPE rotates Q and K";
        add(p + "qkv", label + ": Q, K, V projections", qkv, StepKind::Projections, l, decoder,
            cross);
        std::string score;
        switch (knobs.score) {
            case ScoreFunction::Dot:
            case ScoreFunction::ScaledDot:
                score = "S = Q·Kᵀ   (S_ij = q_i · k_j)";
                break;
            case ScoreFunction::Cosine:
                score = "S_ij = q_i·k_j / (‖q_i‖ ‖k_j‖)";
                break;
            case ScoreFunction::General:
                score = "S_ij = q_i · W · k_jᵀ";
                break;
            case ScoreFunction::Additive:
                score = "S_ij = vᵀ · tanh(W₁q_i + W₂k_j)";
                break;
        }
        add(p + "scores", label + ": Scores Q·Kᵀ", score, StepKind::Scores, l, decoder, cross);
        std::string scaled;
        const bool divides = knobs.scale && knobs.score == ScoreFunction::ScaledDot;
        if (divides)
            scaled = "S' = S / " + sqrtDk;
        else
            scaled = "S' = S (no √d_k scaling)";
        if (knobs.temperature == 0.0f)
            scaled += ", temperature 0: hard arg-max look-up";
        else if (knobs.temperature != 1.0f)
            scaled += " / T,  T = " + std::to_string(knobs.temperature).substr(0, 4);
        add(p + "scaled", label + (divides ? ": ÷ √d_k" : ": Scaling"), scaled, StepKind::Scaled, l,
            decoder, cross);
        const bool causal = !cross && (decoder || c.architecture == Architecture::Decoder ||
                                       knobs.mask == MaskKind::Causal);
        std::string masked = causal ? "S'_ij = −∞ for j > i (a token sees no future)"
                             : knobs.mask == MaskKind::Padding && !cross
                                 ? "S'_ij = −∞ where key j is padding"
                                 : "no mask: every query sees every key";
        add(p + "masked", label + ": Mask", masked, StepKind::Masked, l, decoder, cross);
        add(p + "weights", label + ": Softmax → weights",
            knobs.temperature == 0.0f ? "A_i = one-hot(argmax_j S'_ij)"
                                      : "A_ij = exp(S'_ij) / Σ_j exp(S'_ij)   (each row sums to 1)",
            StepKind::Weights, l, decoder, cross);
        add(p + "output", label + ": Weighted sum of values", "Z = A·V   (z_i = Σ_j A_ij v_j)",
            StepKind::WeightedSum, l, decoder, cross);
        add(p + "concat", label + ": Concatenate heads", "concat(Z_1, …, Z_h)", StepKind::Concat, l,
            decoder, cross);
        if (knobs.projection != ProjectionMode::Embeddings)
            add(p + "proj", label + ": Output projection W_O", "O = concat(Z_1 … Z_h)·W_O",
                StepKind::OutputProjection, l, decoder, cross);
        add(p + "addnorm", label + ": Add & norm",
            c.pre_norm ? "x = x + O   (the norm came before attention: pre-norm)"
                       : "x = " + toString(c.norm) + "(x + O)",
            StepKind::AddNorm, l, decoder, cross);
    };

    auto stack = [&](bool decoder, int layers) {
        for (int l = 0; l < layers; ++l) {
            const std::string pre = (decoder ? "D" : "L") + std::to_string(l) + ".";
            const std::string name =
                (decoder ? "Decoder layer " : "Layer ") + std::to_string(l + 1);
            attentionSteps(pre + "self.", l, decoder, false,
                           name + (decoder ? " masked self-attention" : " self-attention"));
            if (decoder && has_target)
                attentionSteps(pre + "cross.", l, decoder, true, name + " cross-attention");
            add(pre + "ffn", name + ": Feed-forward",
                c.activation == Activation::SwiGLU
                    ? "F = (silu(x·W₁) ∘ x·W₃)·W₂"
                    : "F = " + toString(c.activation) + "(x·W₁ + b₁)·W₂ + b₂",
                StepKind::FeedForward, l, decoder);
            add(pre + "out", name + ": Add & norm → next layer",
                c.pre_norm ? "x = x + F" : "x = " + toString(c.norm) + "(x + F)",
                StepKind::LayerOutput, l, decoder);
        }
    };
    stack(false, c.n_layers);
    if (has_target) stack(true, c.n_decoder_layers);
    // An encoder scores the word at each position (the masked word), not the next one.
    if (c.has_lm_head)
        add("logits",
            c.architecture == Architecture::Encoder ? "Masked-word scores" : "Next-token scores",
            "logits = x·W_vocab", StepKind::Logits);
    return steps;
}

}  // namespace attn
