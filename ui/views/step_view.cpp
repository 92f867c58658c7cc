#include "views/step_view.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QGraphicsOpacityEffect>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QPropertyAnimation>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStyle>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "attn/prediction.h"
#include "session/session.h"
#include "views/cell_explain.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

/// One matrix of a step as it is shown.
struct Panel {
    Mat m;  // (rows, cols)
    QStringList rows, cols;
    QString title, rowTitle, colTitle;
    bool weights = false;  // 0..1, sequential map; else signed, diverging map
    std::function<QString(int, int)> tooltip;
    bool pairCells = false;  // rows = queries, cols = keys: highlight the focused pair
};

struct Content {
    QList<Panel> panels;
    QStringList operators;  // between panels, e.g. "·", "="
    QString explain;
    bool tokens = false;
    // Three panels A × B = C where C has A's rows and B's columns: may be drawn as a product by
    // hand (A left of C, B above it).
    bool product = false;
    int concatHeads = 0;  // the concat step: heads side by side, d_head columns each
};

QStringList indices(int n) {
    QStringList out;
    out.reserve(n);
    for (int i = 0; i < n; ++i) out << QString::number(i);
    return out;
}

QString blockExplain(StepKind kind, const ModelConfig& c, const AttentionKnobs& k, const Step& s) {
    switch (kind) {
        case StepKind::Projections:
            return QObject::tr(
                       "Each token asks a question (its query q), offers a label (its key k) and "
                       "carries "
                       "content (its value v). Rows are tokens, columns are the d_k = %1 numbers "
                       "of this "
                       "head.")
                .arg(c.headDim());
        case StepKind::Scores:
            return QObject::tr(
                "Every query is compared with every key by a dot product: a large number means a "
                "good match. Rows are queries (who is looking), columns are keys (who is looked "
                "at).");
        case StepKind::Scaled:
            return k.scale && k.score == ScoreFunction::ScaledDot
                       ? QObject::tr(
                             "Dividing by √d_k keeps scores from growing with the size of "
                             "the vectors, so the softmax that follows does not saturate.")
                       : QObject::tr("Scaling is off: the scores go to the softmax as they are.");
        case StepKind::Masked: {
            const bool causal = !s.cross && (s.decoder || c.architecture == Architecture::Decoder ||
                                             k.mask == MaskKind::Causal);
            if (causal)
                return QObject::tr(
                    "A token may not look at later tokens: those scores become −∞ "
                    "(grey) and will get weight 0.");
            if (k.mask == MaskKind::Padding && !s.cross)
                return QObject::tr("Padding keys are hidden: their scores become −∞ (grey).");
            return QObject::tr("No mask: every token may look at every token.");
        }
        case StepKind::Weights:
            return k.temperature == 0.0f
                       ? QObject::tr(
                             "Temperature 0: each row puts all its weight on its largest "
                             "score — a hard look-up.")
                       : QObject::tr(
                             "Softmax turns each row into weights that are positive and sum "
                             "to 1: how much each query takes from each key.");
        case StepKind::WeightedSum:
            return QObject::tr(
                "Each token's new vector is the average of the value vectors, "
                "weighted by its row of attention weights.");
        case StepKind::Concat:
            return QObject::tr("The outputs of all heads are laid side by side.");
        case StepKind::OutputProjection:
            return QObject::tr("W_O mixes the heads' results back into d_model numbers per token.");
        case StepKind::AddNorm:
            return QObject::tr(
                "The attention output is added to what came in (the residual) and "
                "normalised.");
        default:
            return {};
    }
}

// What every builder reads: the trace, the step, and the labels of the step's rows and columns.
struct StepInputs {
    const Session& session;
    const Step& step;
    TracePtr tr;
    const ModelConfig& c;
    QStringList src;      // the source tokens
    QStringList queries;  // the tokens of the step's stack: the rows
    QStringList keys;     // the tokens looked at: the source in cross-attention, else queries
};

// A matrix with a row per token and a column per dimension.
Panel tokenPanel(const Mat& m, const QString& title, const QStringList& rows) {
    Panel p;
    p.m = m;
    p.rows = rows;
    p.cols = indices(static_cast<int>(m.cols()));
    p.title = title;
    p.rowTitle = QObject::tr("token");
    p.colTitle = QObject::tr("dimension");
    return p;
}

// --- before the first layer: tokens, embeddings, positions ---------------------------------

Content tokensContent() {
    Content out;
    out.tokens = true;
    out.explain = QObject::tr(
        "The text is cut into tokens. Each token becomes one row of "
        "every matrix that follows.");
    return out;
}

Content embeddingContent(const StepInputs& in) {
    Content out;
    const TracePtr tr = in.tr;
    const QStringList src = in.src;
    Panel p = tokenPanel(tr->embeddings, QObject::tr("E  (embeddings)"), src);
    p.tooltip = [tr, src](int r, int d) {
        return explainEmbeddingCell(*tr, false, src, r, d, StepKind::Embedding);
    };
    out.panels << p;
    out.explain = in.c.vocab_size == 0
                      ? QObject::tr(
                            "Each token becomes a vector of d_model = %1 numbers. "
                            "This untrained model derives it from the word itself, "
                            "so a word gets the same vector in any sentence.")
                            .arg(in.c.d_model)
                      : QObject::tr(
                            "Each token's row is looked up in the embedding table "
                            "(d_model = %1 numbers).")
                            .arg(in.c.d_model);
    return out;
}

Content positionalContent(const StepInputs& in) {
    Content out;
    const TracePtr tr = in.tr;
    const QStringList src = in.src;
    const ModelConfig& c = in.c;
    Panel e = tokenPanel(tr->embeddings, QObject::tr("E"), src);
    e.tooltip = [tr, src](int r, int d) {
        return explainEmbeddingCell(*tr, false, src, r, d, StepKind::Embedding);
    };
    if (c.positional == PositionalKind::Sinusoidal || c.positional == PositionalKind::Learned) {
        Panel pe = tokenPanel(tr->positional, QObject::tr("PE"), indices(tr->tokenCount()));
        pe.rowTitle = QObject::tr("position");
        pe.tooltip = [tr, src](int r, int d) {
            return explainEmbeddingCell(*tr, false, src, r, d, StepKind::Positional);
        };
        Panel x = tokenPanel(tr->input, QObject::tr("X = E + PE"), src);
        x.tooltip = [tr, src](int r, int d) {
            return explainEmbeddingCell(*tr, false, src, r, d, StepKind::LayerInput);
        };
        out.panels << e << pe << x;
        out.operators << QStringLiteral("+") << QStringLiteral("=");
        out.explain = QObject::tr(
            "Attention alone cannot see word order, so each position "
            "adds its own pattern of waves to the token's vector.");
    } else if (c.positional == PositionalKind::Rope) {
        out.panels << e;
        out.explain = QObject::tr(
            "RoPE adds nothing here: later, each query and key is "
            "rotated by an angle that grows with its position.");
    } else {
        out.panels << e;
        out.explain = QObject::tr(
            "No positional encoding: shuffling the words would give "
            "the same attention.");
    }
    return out;
}

// --- after the last layer: logits ----------------------------------------------------------

Content logitsContent(const StepInputs& in) {
    Content out;
    const TracePtr& tr = in.tr;
    const Mat& L = tr->logits;
    if (L.size() == 0) return out;
    auto tok = (tr->decoder_layers.empty() ? tr->model->tokenizer : tr->model->target_tokenizer);
    // An encoder (masked-word model) scores the word that belongs at each position, above all
    // at its [MASK]s; a decoder scores the token that comes next.
    const bool encoder = in.c.architecture == Architecture::Encoder;
    const std::vector<int> masks =
        encoder ? attn::maskPositions(tr->tokens, tr->model->mask_id) : std::vector<int>{};
    std::vector<int> rows = masks;
    if (rows.empty()) {
        rows.resize(static_cast<std::size_t>(L.rows()));
        std::iota(rows.begin(), rows.end(), 0);
    }
    // The vocabulary entries that score highest on the rows shown, best first.
    constexpr int kMaxCols = 30;
    const std::vector<int> cols = attn::columnsByScore(L, rows, kMaxCols);
    Mat m(static_cast<int>(rows.size()), static_cast<int>(cols.size()));
    QStringList names, rowNames;
    for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
        for (int k = 0; k < static_cast<int>(cols.size()); ++k) m(r, k) = L(rows[r], cols[k]);
        const int t = rows[r];
        rowNames << (masks.empty()
                         ? in.queries.value(t)
                         : QStringLiteral("%1 (t%2)").arg(in.queries.value(t)).arg(t + 1));
    }
    for (int k = 0; k < static_cast<int>(cols.size()); ++k)
        names << (tok ? QString::fromStdString(tok->decode(cols[k])) : QString::number(cols[k]));
    Panel p;
    p.m = m;
    p.rows = rowNames;
    p.cols = names;
    const QString what = encoder ? QObject::tr("masked-word scores") : QObject::tr("logits");
    p.title = L.cols() > kMaxCols ? QObject::tr("%1 (best %2 of %3 words, best first)")
                                        .arg(what)
                                        .arg(kMaxCols)
                                        .arg(L.cols())
                                  : QObject::tr("%1 (best first)").arg(what);
    p.rowTitle = encoder && !masks.empty() ? QObject::tr("[MASK] position") : QObject::tr("token");
    p.colTitle = encoder ? QObject::tr("word for this position") : QObject::tr("next token");
    out.panels << p;
    if (!encoder)
        out.explain = QObject::tr(
            "Each row scores every word of the vocabulary as the token that comes next; the "
            "last row is the model's guess for what follows the text.");
    else if (!masks.empty())
        out.explain = QObject::tr(
            "A masked-word model guesses the word hidden under each [MASK], using the words on "
            "both sides. Its best guesses come first.");
    else
        out.explain = QObject::tr(
            "A masked-word model scores, for each position, which word belongs there (it does "
            "not predict the next word). Write [MASK] in the text to hide a word and see its "
            "guesses.");
    return out;
}

// A weight matrix as it is shown: rows and columns are dimensions.
Panel weightPanel(const Mat& w, const QString& title, const QString& rowTitle,
                  const QString& colTitle) {
    Panel p;
    p.m = w;
    p.rows = indices(static_cast<int>(w.rows()));
    p.cols = indices(static_cast<int>(w.cols()));
    p.title = title;
    p.rowTitle = rowTitle;
    p.colTitle = colTitle;
    return p;
}

// A model's weight, widened when it is packed (a quantized file's numbers as stored).
Panel weightPanel(const Weight& w, const QString& title, const QString& rowTitle,
                  const QString& colTitle) {
    return weightPanel(w.isPacked() ? w.toDense() : w.dense(), title, rowTitle, colTitle);
}

const LayerWeights* layerWeights(const StepInputs& in) {
    const auto& layers =
        in.step.decoder ? in.tr->model->weights.decoder_layers : in.tr->model->weights.layers;
    if (in.step.layer < 0 || in.step.layer >= static_cast<int>(layers.size())) return nullptr;
    return &layers[static_cast<std::size_t>(in.step.layer)];
}

// --- a layer's own steps: feed-forward, its input and output -------------------------------

Content feedForwardContent(const StepInputs& in, const LayerTrace& lt, bool weights) {
    Content out;
    const Mat& x = in.step.decoder && lt.cross_attention ? lt.after_cross : lt.after_self;
    out.panels << tokenPanel(x, QObject::tr("x (after attention)"), in.queries);
    const LayerWeights* lw = weights ? layerWeights(in) : nullptr;
    if (lw && lw->ffn.W1.size() > 0 && lw->ffn.W2.size() > 0) {
        // The two weight matrices the formula names, between what goes in and what comes out.
        out.panels << weightPanel(lw->ffn.W1, QObject::tr("W₁"), QObject::tr("d_model"),
                                  QObject::tr("d_ff"))
                   << weightPanel(lw->ffn.W2, QObject::tr("W₂"), QObject::tr("d_ff"),
                                  QObject::tr("d_model"));
        out.operators << QStringLiteral("·") << QStringLiteral("→") << QStringLiteral("→");
    } else {
        out.operators << QStringLiteral("→");
    }
    out.panels << tokenPanel(lt.ffn_output, QObject::tr("F = FFN(x)"), in.queries);
    out.explain = QObject::tr(
                      "Each token then goes, on its own, through the same small "
                      "two-layer network (d_ff = %1).")
                      .arg(in.c.ffDim());
    return out;
}

Content layerInputOutputContent(const StepInputs& in, const LayerTrace& lt) {
    Content out;
    const bool input = in.step.kind == StepKind::LayerInput;
    out.panels << tokenPanel(input ? lt.input : lt.output,
                             input ? QObject::tr("layer input") : QObject::tr("layer output"),
                             in.queries);
    out.explain = QObject::tr(
        "Added to its input and normalised, this is what the next "
        "layer reads.");
    return out;
}

// --- one head of an attention block: Q, K, V → scores → scaled → masked → weights → Z -------

// The head a per-head step shows, and what its tooltips need.
struct HeadInputs {
    std::shared_ptr<const HeadTrace> head;  // shared: the tooltips outlive the builder
    AttentionConfig ac;
    QString name;  // "head 2"
};

HeadInputs stepHead(const StepInputs& in, const AttentionTrace& block) {
    const Step& step = in.step;
    const Session::Focus& f = in.session.focus();
    const int headIndex = std::clamp(f.head, 0, static_cast<int>(block.heads.size()) - 1);
    // The head comes from the session (recomputed there, once, when the trace dropped detail).
    HeadInputs h;
    h.head = in.session.headDetail(step.layer, headIndex, step.decoder, step.cross);
    h.ac = in.tr->attentionConfigOf(step.decoder, step.cross);
    h.name = QObject::tr("head %1").arg(headIndex + 1);
    return h;
}

// A (query, key) matrix of the head at one stage of the pipeline.
Panel pairPanel(const StepInputs& in, const HeadInputs& h, const Mat& m, const QString& title,
                StepKind stage) {
    Panel p;
    p.m = m;
    p.rows = in.queries;
    p.cols = in.keys;
    p.title = title;
    p.rowTitle = QObject::tr("query");
    p.colTitle = QObject::tr("key");
    p.weights = stage == StepKind::Weights;
    p.pairCells = true;
    p.tooltip = [own = h.head, ac = h.ac, queries = in.queries, keys = in.keys, stage](int i,
                                                                                       int j) {
        return explainAttentionCell(*own, ac, queries, keys, i, j, stage);
    };
    return p;
}

// Q, K or V of the head.
Panel projectionPanel(const HeadInputs& h, char which, const Mat& m, const QStringList& rows,
                      const QString& title) {
    Panel p = tokenPanel(m, title, rows);
    p.tooltip = [own = h.head, which, rows, mode = h.ac.projection](int r, int d) {
        const Mat& src = which == 'Q' ? own->Q : which == 'K' ? own->K : own->V;
        return explainProjectionCell(which, src, rows, r, d, mode);
    };
    return p;
}

Content projectionsContent(const StepInputs& in, const HeadInputs& h, bool weights) {
    Content out;
    const HeadTrace& hd = *h.head;
    const LayerWeights* lw = weights ? layerWeights(in) : nullptr;
    const AttentionWeights* aw =
        lw ? (in.step.cross ? &lw->cross_attention : &lw->self_attention) : nullptr;
    const int dh = h.ac.d_head;
    const int qh = in.session.focus().head, kvh = hd.kv_head;
    auto slice = [dh](const Weight& w, int head) -> Mat {
        if (w.size() == 0 || (head + 1) * dh > w.cols()) return {};
        return w.widenCols(head * dh, dh);  // (d_model, d_head): this head's columns
    };
    if (aw && h.ac.projection != ProjectionMode::Embeddings) {
        const Mat wq = slice(aw->W_Q, qh), wk = slice(aw->W_K, kvh), wv = slice(aw->W_V, kvh);
        const QString d = QObject::tr("d_model"), k = QObject::tr("d_k");
        if (wq.size() > 0)
            out.panels << weightPanel(wq, QStringLiteral("W_Q  (%1)").arg(h.name), d, k);
        if (wk.size() > 0) out.panels << weightPanel(wk, QStringLiteral("W_K"), d, k);
        if (wv.size() > 0 && h.ac.projection == ProjectionMode::QKV)
            out.panels << weightPanel(wv, QStringLiteral("W_V"), d, k);
        if (!out.panels.isEmpty()) {
            for (int i = 1; i < out.panels.size(); ++i) out.operators << QString();
            out.explain =
                QObject::tr(
                    "The weights that make this head's query, key and value: each token's row is "
                    "multiplied by these d_model × d_k matrices (rows = the token's d_model "
                    "numbers, columns = the head's d_k = %1 numbers).")
                    .arg(dh);
            return out;
        }
    }
    out.panels << projectionPanel(h, 'Q', hd.Q, in.queries, QStringLiteral("Q  (%1)").arg(h.name))
               << projectionPanel(h, 'K', hd.K, in.keys, QStringLiteral("K"))
               << projectionPanel(h, 'V', hd.V, in.keys, QStringLiteral("V"));
    out.operators << QString() << QString();
    return out;
}

Content scoresContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    Panel q = projectionPanel(h, 'Q', hd.Q, in.queries, QStringLiteral("Q  (%1)").arg(h.name));
    Panel kt;
    kt.m = hd.K.transpose();  // (d_k, T_k)
    kt.rows = indices(static_cast<int>(kt.m.rows()));
    kt.cols = in.keys;
    kt.title = QStringLiteral("K\u1d40");
    kt.rowTitle = QObject::tr("dimension");
    kt.colTitle = QObject::tr("key");
    out.panels << q << kt
               << pairPanel(in, h, hd.scores, QStringLiteral("S = Q·K\u1d40"), StepKind::Scores);
    out.operators << QStringLiteral("×") << QStringLiteral("=");
    out.product = true;
    return out;
}

Content scaledContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    // "S / √16" would read as a number: name d_k and its root apart.
    const bool divides = h.ac.scale && h.ac.score == ScoreFunction::ScaledDot;
    const QString scaled = divides ? QObject::tr("S' = S / √d_k") : QObject::tr("S' = S");
    if (divides)
        out.explain = QObject::tr(
                          "Dividing by √d_k (here d_k = %1, so √d_k = %2) keeps scores from "
                          "growing with the size of the vectors, so the softmax that follows "
                          "does not saturate.")
                          .arg(h.ac.d_head)
                          .arg(std::sqrt(static_cast<double>(h.ac.d_head)), 0, 'g', 4);
    out.panels << pairPanel(in, h, hd.scores, QStringLiteral("S  (%1)").arg(h.name),
                            StepKind::Scores)
               << pairPanel(in, h, hd.scaled, scaled, StepKind::Scaled);
    out.operators << QStringLiteral("→");
    return out;
}

// Whether the block's mask hides anything (no mask: S' passes unchanged).
bool hasMask(const StepInputs& in) {
    return in.tr->maskOf(in.step.decoder, in.step.cross).kind != MaskKind::None;
}

Content maskedContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    if (!hasMask(in)) {
        // Two identical matrices would suggest a change: show the one that passes.
        out.panels << pairPanel(in, h, hd.masked, QObject::tr("S'  (no mask)"), StepKind::Masked);
        out.explain = QObject::tr(
            "No mask: S' passes unchanged — every token may look at every token, earlier and "
            "later ones alike.");
        return out;
    }
    out.panels << pairPanel(in, h, hd.scaled, QStringLiteral("S'  (%1)").arg(h.name),
                            StepKind::Scaled)
               << pairPanel(in, h, hd.masked, QObject::tr("S' masked"), StepKind::Masked);
    out.operators << QStringLiteral("→");
    return out;
}

Content weightsContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    out.panels
        << pairPanel(
               in, h, hd.masked,
               (hasMask(in) ? QObject::tr("S' masked  (%1)") : QObject::tr("S'  (%1)")).arg(h.name),
               StepKind::Masked)
        << pairPanel(in, h, hd.weights, QObject::tr("A = softmax(S')"), StepKind::Weights);
    out.operators << QStringLiteral("→");
    return out;
}

Content weightedSumContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    Panel a =
        pairPanel(in, h, hd.weights, QStringLiteral("A  (%1)").arg(h.name), StepKind::Weights);
    Panel v = projectionPanel(h, 'V', hd.V, in.keys, QStringLiteral("V"));
    Panel z = tokenPanel(hd.output, QStringLiteral("Z = A·V"), in.queries);
    z.tooltip = [own = h.head, queries = in.queries, keys = in.keys](int i, int d) {
        return explainWeightedSumCell(*own, queries, keys, i, d);
    };
    out.panels << a << v << z;
    out.operators << QStringLiteral("×") << QStringLiteral("=");
    out.product = true;
    return out;
}

// --- the heads together: concat → W_O → add & norm ------------------------------------------

Content concatContent(const StepInputs& in, const AttentionTrace& block) {
    Content out;
    // Z₁ … Z₈: the head count in subscript digits, as the first one.
    QString sub;
    for (const QChar d : QString::number(block.heads.size())) sub += QChar(0x2080 + d.digitValue());
    Panel p = tokenPanel(block.concat, QObject::tr("concat(Z₁ … Z%1)").arg(sub), in.queries);
    p.colTitle = QObject::tr("dimension (head 1 | head 2 | …)");
    out.panels << p;
    out.concatHeads = static_cast<int>(block.heads.size());
    return out;
}

Content outputProjectionContent(const StepInputs& in, const AttentionTrace& block, bool weights) {
    Content out;
    const LayerWeights* lw = weights ? layerWeights(in) : nullptr;
    const AttentionWeights* aw =
        lw ? (in.step.cross ? &lw->cross_attention : &lw->self_attention) : nullptr;
    out.panels << tokenPanel(block.concat, QObject::tr("concat"), in.queries);
    if (aw && aw->W_O.size() > 0) {
        out.panels << weightPanel(aw->W_O, QStringLiteral("W_O"), QObject::tr("concat dimension"),
                                  QObject::tr("d_model"));
        out.operators << QStringLiteral("×") << QStringLiteral("=");
        out.product = true;
    } else {
        out.operators << QStringLiteral("→");
    }
    out.panels << tokenPanel(block.projected,
                             aw && aw->b_O.size() > 0 ? QObject::tr("O = concat·W_O + b_O")
                                                      : QObject::tr("O = concat·W_O"),
                             in.queries);
    return out;
}

Content addNormContent(const StepInputs& in, const AttentionTrace& block, const LayerTrace& lt) {
    Content out;
    out.panels << tokenPanel(block.projected, QObject::tr("O"), in.queries)
               << tokenPanel(in.step.cross ? lt.after_cross : lt.after_self,
                             QObject::tr("norm(x + O)"), in.queries);
    out.operators << QStringLiteral("→");
    return out;
}

// The panels of a step of an attention block (its explanation is blockExplain's).
Content blockContent(const StepInputs& in, const AttentionTrace& block, const LayerTrace& lt,
                     bool weights) {
    switch (in.step.kind) {
        case StepKind::Concat:
            return concatContent(in, block);
        case StepKind::OutputProjection:
            return outputProjectionContent(in, block, weights);
        case StepKind::AddNorm:
            return addNormContent(in, block, lt);
        default:
            break;
    }
    const HeadInputs h = stepHead(in, block);
    switch (in.step.kind) {
        case StepKind::Projections:
            return projectionsContent(in, h, weights);
        case StepKind::Scores:
            return scoresContent(in, h);
        case StepKind::Scaled:
            return scaledContent(in, h);
        case StepKind::Masked:
            return maskedContent(in, h);
        case StepKind::Weights:
            return weightsContent(in, h);
        case StepKind::WeightedSum:
            return weightedSumContent(in, h);
        default:
            return {};
    }
}

// What a step shows: dispatches on the step's kind to one builder above.
Content buildContent(const Session& session, const Step& step, bool weights) {
    const TracePtr tr = session.trace();
    if (!tr) return {};
    const QStringList src = session.tokenLabels(false);
    const QStringList queries = session.tokenLabels(step.decoder);
    const StepInputs in{
        session, step, tr, tr->model->config, src, queries, step.cross ? src : queries};
    switch (step.kind) {
        case StepKind::Tokens:
            return tokensContent();
        case StepKind::Embedding:
            return embeddingContent(in);
        case StepKind::Positional:
            return positionalContent(in);
        case StepKind::Logits:
            return logitsContent(in);
        default:
            break;
    }
    if (step.layer < 0) return {};
    const LayerTrace& lt = tr->layer(step.layer, step.decoder);
    switch (step.kind) {
        case StepKind::FeedForward:
            return feedForwardContent(in, lt, weights);
        case StepKind::LayerInput:
        case StepKind::LayerOutput:
            return layerInputOutputContent(in, lt);
        default:
            break;
    }
    const AttentionTrace* block =
        step.cross ? (lt.cross_attention ? &*lt.cross_attention : nullptr) : &lt.self_attention;
    if (!block) return {};
    Content out = blockContent(in, *block, lt, weights);
    if (out.explain.isEmpty()) out.explain = blockExplain(step.kind, in.c, in.tr->attention, step);
    return out;
}

QString stepShortTitle(const Step& s) {
    const QString t = QString::fromStdString(s.title);
    const int colon = t.indexOf(QStringLiteral(": "));
    QString shortTitle = colon >= 0 ? t.mid(colon + 2) : t;
    // Decoder layers have two attention blocks; say which one.
    if (s.decoder && s.cross) shortTitle = QObject::tr("cross: %1").arg(shortTitle);
    return shortTitle;
}

/// The list groups steps by layer (self-attention, cross-attention and feed-forward together).
QString stepSection(const Step& s) {
    if (s.kind == StepKind::Logits) return QObject::tr("Output");
    if (s.layer < 0) return QObject::tr("Input");
    return s.decoder ? QObject::tr("Decoder layer %1").arg(s.layer + 1)
                     : QObject::tr("Layer %1").arg(s.layer + 1);
}

QString tokenChips(const std::vector<TokenChip>& chips, double scale) {
    QString html = QStringLiteral("<div style='line-height:170%;'>");
    const int pt = static_cast<int>(13 * scale);
    for (const TokenChip& chip : chips) {
        // t₁ … tₙ, as every label a person reads; the tokens of one character share a chip
        // numbered by their range (t₃–t₆) and tinted.
        const QString index =
            chip.count > 1
                ? QStringLiteral("%1–%2").arg(chip.first + 1).arg(chip.first + chip.count)
                : QString::number(chip.first + 1);
        // A word the model does not know is greyed and marked "?": it reads [UNK] there.
        const QString background = chip.unknown            ? QStringLiteral("#e0e0e0")
                                   : chip.pieces.isEmpty() ? QStringLiteral("#e8eefc")
                                                           : QStringLiteral("#fbe9d0");
        const QString text =
            chip.text.toHtmlEscaped() + (chip.unknown ? QStringLiteral(" ?") : QString());
        html += QStringLiteral(
                    "<span style='background-color:%4; color:%5; font-size:%1pt;'>"
                    "&nbsp;%2&nbsp;</span><sub style='color:#777;'>%3</sub>&nbsp;&nbsp; ")
                    .arg(pt)
                    .arg(text, index, background,
                         chip.unknown ? QStringLiteral("#616161") : QStringLiteral("#1a237e"));
    }
    return html + QStringLiteral("</div>");
}

// --- laying the matrices out in their pane ---------------------------------------------------

/// What the layout knows of one matrix: its shape and the room its labels take.
struct Shape {
    int rows = 1, cols = 1;
    QSize margins;           // width and height around the cells (labels, title, colour scale)
    QPoint cellsOffset;      // where the cells begin inside the heatmap (0, 0: not measured yet)
    int minWidth = 0;        // the title's width: a narrower plot would cut it
    bool square = false;     // a (query, key) matrix of T × T: its cells stay (nearly) square
    bool tokenRows = false;  // rows labelled by tokens: each must be tall enough for its label
};

enum class Arrangement { Row, Column, Product };

struct Layout {
    Arrangement arrangement = Arrangement::Row;
    QList<QRect> boxes;  // per matrix, in pane coordinates
    QList<QRect> ops;    // per operator (empty rect: hidden)
    double score = -1;
};

// The cell sizes of every matrix for a cell height s of the main (last) matrix, a scale t of
// the others and a width / height ratio u of cells that need not be square. Matrices that
// share rows (in a row) or columns (in a column, or a product's result) share the cell size
// along them, so their rows and columns line up.
QList<QSizeF> cellSizes(const QList<Shape>& sh, Arrangement a, double s, double t, double u) {
    const int n = static_cast<int>(sh.size()), main = n - 1;
    QList<QSizeF> cells;
    // Square matrices bend at most to 3:2, and only when that fills the pane better.
    const double su = std::clamp(u, 0.67, 1.5);
    for (int i = 0; i < n; ++i) {
        const double base = (i == main ? 1.0 : t) * s;
        cells << QSizeF((sh[i].square ? su : u) * base, base);
    }
    auto alignRows = [&](int i, int with) {
        cells[i].setHeight(cells[with].height());
        if (sh[i].square) cells[i].setWidth(su * cells[i].height());
    };
    auto alignCols = [&](int i, int with) {
        cells[i].setWidth(cells[with].width());
        if (sh[i].square) cells[i].setHeight(cells[i].width() / su);
    };
    for (int i = 0; i < main; ++i) {
        if (a == Arrangement::Row && sh[i].rows == sh[main].rows) alignRows(i, main);
        if (a == Arrangement::Column && sh[i].cols == sh[main].cols) alignCols(i, main);
    }
    if (a == Arrangement::Product) {
        alignRows(0, 2);  // A has C's rows
        alignCols(1, 2);  // B has C's columns
    }
    return cells;
}

QSize boxOf(const Shape& sh, const QSizeF& cell) {
    return {std::max(sh.minWidth,
                     static_cast<int>(std::ceil(sh.cols * cell.width())) + sh.margins.width()),
            static_cast<int>(std::ceil(sh.rows * cell.height())) + sh.margins.height()};
}

// The size of the whole group, and where each box and operator goes (from (0, 0)).
QSize place(const QList<Shape>& sh, const QList<QSizeF>& cells, Arrangement a, QSize op, int gap,
            QList<QRect>* boxes, QList<QRect>* ops) {
    const int n = static_cast<int>(sh.size());
    QList<QSize> b;
    for (int i = 0; i < n; ++i) b << boxOf(sh[i], cells[i]);
    boxes->clear();
    ops->clear();
    if (a == Arrangement::Product) {
        // A left of C, B above C; their cells meet C's rows and columns.
        const int dy = sh[2].cellsOffset.y() - sh[0].cellsOffset.y();
        const int dx = sh[2].cellsOffset.x() - sh[1].cellsOffset.x();
        const int cx = b[0].width() + gap, cy = b[1].height() + gap;
        const QRect c(cx, cy, b[2].width(), b[2].height());
        const QRect bb(cx + dx, 0, b[1].width(), b[1].height());
        const QRect aa(0, cy + dy, b[0].width(), b[0].height());
        *boxes << aa << bb << c;
        for (int i = 0; i < n - 1; ++i) *ops << QRect();
        const QRect all = aa.united(bb).united(c);
        for (QRect& r : *boxes) r.translate(-all.left(), -all.top());
        return all.size();
    }
    if (a == Arrangement::Row) {
        int x = 0, h = 0;
        for (int i = 0; i < n; ++i) {
            if (i > 0) {
                *ops << QRect(x, 0, op.width(), op.height());
                x += op.width() + gap;
            }
            *boxes << QRect(QPoint(x, 0), b[i]);
            x += b[i].width() + gap;
            h = std::max(h, b[i].height());
        }
        return {x - gap, h};
    }
    // A column: the operators stand left of the matrix they lead to, taking no height.
    int y = 0, w = 0;
    const int x = op.width() > 0 ? op.width() : 0;
    for (int i = 0; i < n; ++i) {
        if (i > 0) *ops << QRect(0, y, op.width(), op.height());
        *boxes << QRect(QPoint(x, y), b[i]);
        y += b[i].height() + gap;
        w = std::max(w, x + b[i].width());
    }
    return {w, y - gap};
}

// How good a layout is: the cells' area (the main matrix's counts most), less for cells far
// from square, much less when the main matrix is not the largest.
double scoreOf(const QList<Shape>& sh, const QList<QSizeF>& cells, bool strict) {
    const int n = static_cast<int>(sh.size()), main = n - 1;
    double score = 0, largestOther = 0, mainArea = 0, smallest = 1e18, largest = 0;
    double mainCell = 0, largestOtherCell = 0;  // the area of one cell
    bool thinRows = false;
    for (int i = 0; i < n; ++i) {
        const double cw = cells[i].width(), ch = cells[i].height();
        // A column or row too thin to see (with half a pixel to spare: the labels' real
        // margins, measured after the plot is drawn, can take a few pixels more than planned).
        if (cw < 1.5 || ch < 4.5) return -1;
        // A row of tokens needs the height of its label (the labels shrink to 6 pt, no less).
        if (sh[i].tokenRows && ch < 10.0) thinRows = true;
        const double area = sh[i].rows * sh[i].cols * cw * ch;
        const double aspect = std::max(cw / ch, ch / cw);
        const double q = area / (1.0 + 0.15 * std::log2(aspect));
        score += (i == main ? 1.0 : 0.8) * q;
        smallest = std::min(smallest, area);
        largest = std::max(largest, area);
        if (i == main) {
            mainArea = area;
            mainCell = cw * ch;
        } else {
            largestOther = std::max(largestOther, area);
            largestOtherCell = std::max(largestOtherCell, cw * ch);
        }
    }
    // The result of the step is the largest picture (or about as large, when its shape makes
    // it thinner: Z = A·V has d_k columns against A's T).
    // A result whose cells are the largest is the largest picture for its shape (Z = A·V with
    // d_k = 8 columns against A's 17 keys): it need not cover as much as A.
    if (mainArea < 0.999 * largestOther) {
        const bool largestCells = mainCell >= 0.999 * largestOtherCell;
        if (strict && mainArea < 0.6 * largestOther && !largestCells) return -1;
        score *= largestCells ? 0.9 : 0.7;
    }
    if (thinRows) score *= 0.4;
    // No matrix crushed to make another large: the inputs must stay readable too.
    if (largest > 0) score *= std::pow(smallest / largest, 0.15);
    return score;
}

// The best arrangement of the matrices in a pane of that size.
// keep: refit in this arrangement only (after a repaint measured the labels), so that the
// figure does not flip between arrangements as label margins change.
Layout bestLayout(const QList<Shape>& sh, QSize pane, QSize op, int gap, bool product,
                  const Arrangement* keep) {
    Layout best;
    if (sh.isEmpty() || pane.width() < 20 || pane.height() < 20) return best;
    QList<Arrangement> arrangements{Arrangement::Row, Arrangement::Column};
    if (product && sh.size() == 3) arrangements << Arrangement::Product;
    if (keep && arrangements.contains(*keep)) arrangements = {*keep};
    static const double us[] = {0.125, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0};
    static const double ts[] = {0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0};
    QList<QRect> boxes, ops;
    // First with the result the largest matrix; only when nothing fits so, without.
    for (bool strict : {true, false}) {
        if (best.score > 0) break;
        for (Arrangement a : arrangements) {
            for (double u : us) {
                for (double t : ts) {
                    if (sh.size() == 1 && t != 1.0) continue;
                    // Everything grows with s: the largest s that fits, by bisection.
                    double lo = 0, hi = 400;
                    for (int it = 0; it < 24; ++it) {
                        const double mid = (lo + hi) / 2;
                        const QSize size =
                            place(sh, cellSizes(sh, a, mid, t, u), a, op, gap, &boxes, &ops);
                        if (size.width() <= pane.width() && size.height() <= pane.height())
                            lo = mid;
                        else
                            hi = mid;
                    }
                    if (lo <= 0) continue;
                    const QList<QSizeF> cells = cellSizes(sh, a, lo, t, u);
                    double score = scoreOf(sh, cells, strict);
                    if (score <= 0) continue;
                    const QSize size = place(sh, cells, a, op, gap, &boxes, &ops);
                    // A layout whose matrices leave most of the pane empty loses to one that
                    // fills it, even with somewhat smaller cells (a narrow pane: a column of
                    // three matrices leaves both sides empty where a product would not).
                    double covered = 0;
                    for (const QRect& r : boxes) covered += double(r.width()) * r.height();
                    const double fill = covered / (double(pane.width()) * pane.height());
                    if (fill < 0.6) score *= std::pow(fill / 0.6, 2.0);
                    if (score <= best.score) continue;
                    best.arrangement = a;
                    best.score = score;
                    // Centred in the pane.
                    const QPoint at((pane.width() - size.width()) / 2,
                                    (pane.height() - size.height()) / 2);
                    best.boxes.clear();
                    best.ops.clear();
                    for (const QRect& r : boxes) best.boxes << r.translated(at);
                    for (const QRect& r : ops) best.ops << (r.isNull() ? r : r.translated(at));
                }
            }
        }
    }
    return best;
}

}  // namespace

QString StepView::formulaHtml(const QString& formula) {
    QString s = formula.toHtmlEscaped();
    // x^(…) → superscript, a_bc → subscript (names as the formulas write them).
    static const QRegularExpression sup(QStringLiteral("\\^\\(([^)]*)\\)"));
    s.replace(sup, QStringLiteral("<sup>\\1</sup>"));
    static const QRegularExpression subs(
        QStringLiteral("([A-Za-z\u0370-\u03ff'])_([A-Za-z0-9]+|\\{[^}]*\\})"));
    s.replace(subs, QStringLiteral("\\1<sub>\\2</sub>"));
    return s;
}

StepView::StepView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Trace | SessionChange::Focus | SessionChange::Appearance,
                  parent) {
    m_basePt = font().pointSizeF() > 0 ? font().pointSizeF() : 10.0;
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    m_split = new QSplitter(Qt::Horizontal, this);
    outer->addWidget(m_split);

    m_list = new QListWidget(m_split);
    m_list->setObjectName(QStringLiteral("stepList"));
    m_list->setMinimumWidth(150);
    // Step names wrap instead of ending in "…": "Softmax → weights" must be read whole.
    m_list->setWordWrap(true);
    m_list->setUniformItemSizes(false);
    m_list->setTextElideMode(Qt::ElideNone);
    m_list->setResizeMode(QListView::Adjust);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_split->addWidget(m_list);

    auto* right = new QWidget(m_split);
    auto* rv = new QVBoxLayout(right);
    rv->setContentsMargins(0, 0, 0, 0);
    rv->setSpacing(0);
    // The figure (title, formula, matrices) is what exports and copies show, without buttons.
    m_figure = new QWidget(right);
    m_figure->setObjectName(QStringLiteral("stepFigure"));
    m_figure->setAutoFillBackground(true);
    m_figure->setBackgroundRole(QPalette::Base);
    rv->addWidget(m_figure, 1);
    auto* v = new QVBoxLayout(m_figure);
    v->setContentsMargins(10, 6, 6, 6);
    v->setSpacing(4);
    auto* header = new QHBoxLayout;
    m_counter = new QLabel(m_figure);
    m_counter->setObjectName(QStringLiteral("stepCounter"));
    m_title = new QLabel(m_figure);
    m_title->setObjectName(QStringLiteral("stepTitle"));
    m_title->setWordWrap(true);
    header->addWidget(m_counter);
    header->addWidget(m_title, 1);
    v->addLayout(header);
    m_formula = new QLabel(m_figure);
    m_formula->setObjectName(QStringLiteral("stepFormula"));
    m_formula->setTextFormat(Qt::RichText);
    m_formula->setWordWrap(true);
    m_formula->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_formula);
    m_explain = new QLabel(m_figure);
    m_explain->setWordWrap(true);
    m_explain->setObjectName(QStringLiteral("stepExplain"));
    v->addWidget(m_explain);

    m_tokens = new QLabel(m_figure);
    m_tokens->setObjectName(QStringLiteral("stepTokens"));
    m_tokens->setTextFormat(Qt::RichText);
    m_tokens->setWordWrap(true);
    m_tokens->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_tokens->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_tokens, 1);

    // No layout manager: fitCells() places the matrices (in a row, a column or as a product)
    // at the sizes that fill the pane.
    m_matrices = new QWidget(m_figure);
    m_matrices->setObjectName(QStringLiteral("stepMatrices"));
    m_matrices->setMinimumSize(120, 120);
    m_matrices->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    for (int i = 0; i < kMaxPanels; ++i) {
        if (i > 0) {
            m_operators[i - 1] = new QLabel(m_matrices);
            m_operators[i - 1]->setAlignment(Qt::AlignCenter);
            m_operators[i - 1]->setObjectName(QStringLiteral("stepOperator"));
            m_operators[i - 1]->hide();
        }
        auto* map = new HeatmapView(m_matrices);
        map->setObjectName(QStringLiteral("stepHeatmap%1").arg(i));
        map->setKeepAspect(false);  // the box fitCells gives it is the cells' shape
        map->setMinimumSize(30, 30);
        map->hide();
        m_maps << map;
        connect(map, &HeatmapView::repainted, this, &StepView::alignOperators);
        connect(map, &HeatmapView::cellClicked, this, [this, map](int r, int c) {
            const Step* s = m_session->currentStep();
            if (!s) return;
            // Clicking a (query, key) cell focuses that pair everywhere.
            if (map->rowLabels() == m_session->queryLabels() &&
                map->matrix().rows() == map->rowLabels().size())
                m_session->setQuery(r);
            if (map->colLabels() == m_session->keyLabels() &&
                map->matrix().cols() == map->colLabels().size())
                m_session->setKey(c);
        });
    }
    m_headLines = new QWidget(m_matrices);
    m_headLines->setAttribute(Qt::WA_TransparentForMouseEvents);
    m_headLines->setAttribute(Qt::WA_NoSystemBackground);
    m_headLines->installEventFilter(this);
    m_headLines->hide();
    v->addWidget(m_matrices, 12);
    m_matrices->installEventFilter(this);
    // A new step fades in, so the eye follows the change rather than a jump.
    m_fade = new QGraphicsOpacityEffect(m_matrices);
    m_fade->setOpacity(1.0);
    m_fade->setEnabled(false);
    m_matrices->setGraphicsEffect(m_fade);
    m_fadeAnim = new QPropertyAnimation(m_fade, "opacity", this);
    m_fadeAnim->setDuration(220);
    m_fadeAnim->setStartValue(0.25);
    m_fadeAnim->setEndValue(1.0);
    m_fadeAnim->setEasingCurve(QEasingCurve::OutCubic);
    connect(m_fadeAnim, &QPropertyAnimation::finished, this, [this] { m_fade->setEnabled(false); });

    auto* nav = new QHBoxLayout;
    nav->setContentsMargins(10, 4, 6, 6);
    nav->setSpacing(6);
    m_prev =
        new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekBackward), tr("Previous"), right);
    m_play = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Play"), right);
    m_next = new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Next"), right);
    m_buttonNames = {m_prev->text(), m_play->text(), m_next->text()};
    m_prev->setToolTip(tr("Previous step (←)"));
    m_next->setToolTip(tr("Next step (→)"));
    m_play->setToolTip(tr("Play the steps one after another (Space)"));
    m_play->setCheckable(true);
    for (QPushButton* b : {m_prev, m_play, m_next}) b->setFocusPolicy(Qt::TabFocus);
    m_speed = new QComboBox(right);
    m_speed->addItem(tr("fast"), 600);
    m_speed->addItem(tr("normal"), 1400);
    m_speed->addItem(tr("slow"), 2800);
    m_speed->setCurrentIndex(1);
    m_speed->setToolTip(tr("Time per step while playing"));
    m_speed->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // "normal" whole at 1.5×
    m_showWeights = new QCheckBox(tr("Show weights"), right);
    m_showWeights->setObjectName(QStringLiteral("stepShowWeights"));
    m_showWeights->setToolTip(
        tr("Show W_Q, W_K, W_V, W_O and the feed-forward's W₁, W₂ in their steps"));
    m_showWeights->setFocusPolicy(Qt::TabFocus);
    // The speed, "Show weights" and the head chooser sit at the end of the row, or on a row of
    // their own when the pane is too narrow for both (a 1024×768 projector in presentation mode).
    m_navExtras = new QWidget(right);
    auto* extras = new QHBoxLayout(m_navExtras);
    extras->setContentsMargins(0, 0, 0, 0);
    extras->setSpacing(6);
    m_head = new QComboBox(m_navExtras);
    m_head->setToolTip(tr("Which head of this layer the matrices show"));
    m_showWeights->setParent(m_navExtras);
    m_speed->setParent(m_navExtras);
    extras->addWidget(m_speed);
    extras->addWidget(m_showWeights);
    extras->addWidget(new QLabel(tr("Head:"), m_navExtras));
    extras->addWidget(m_head);
    // In a narrow pane (a 1024×768 projector in presentation mode) the step list gives its
    // room to the figure and the steps are chosen here instead.
    m_stepChooser = new QComboBox(right);
    m_stepChooser->setObjectName(QStringLiteral("stepChooser"));
    m_stepChooser->setToolTip(tr("Go to a step"));
    m_stepChooser->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_stepChooser->hide();
    nav->addWidget(m_stepChooser);
    nav->addWidget(m_prev);
    nav->addWidget(m_play);
    nav->addWidget(m_next);
    nav->addStretch(1);
    nav->addWidget(m_navExtras);
    m_navRow1 = nav;
    m_navRow2 = new QHBoxLayout;
    m_navRow2->setContentsMargins(0, 0, 0, 0);
    m_navRow2->addStretch(1);
    rv->addLayout(nav);
    rv->addLayout(m_navRow2);
    right->installEventFilter(this);
    m_navRight = right;
    m_split->addWidget(right);
    m_split->setStretchFactor(0, 0);
    m_split->setStretchFactor(1, 1);
    m_split->setSizes({200, 800});

    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, [this] {
        const TracePtr t = m_session->trace();
        if (!t || m_session->focus().step >= static_cast<int>(t->steps.size()) - 1) {
            play(false);
            return;
        }
        m_session->nextStep();
    });
    connect(m_speed, &QComboBox::currentIndexChanged, this,
            [this] { m_timer->setInterval(m_speed->currentData().toInt()); });
    m_timer->setInterval(m_speed->currentData().toInt());
    connect(m_prev, &QPushButton::clicked, m_session, &Session::previousStep);
    connect(m_next, &QPushButton::clicked, m_session, &Session::nextStep);
    connect(m_play, &QPushButton::toggled, this, &StepView::play);
    connect(m_showWeights, &QCheckBox::toggled, this, &StepView::setShowWeights);
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0) return;
        const QVariant step = m_list->item(row)->data(Qt::UserRole);
        if (step.isValid()) m_session->setStep(step.toInt());
    });
    connect(m_stepChooser, &QComboBox::activated, this, [this](int i) {
        const QVariant step = m_stepChooser->itemData(i);
        if (step.isValid()) m_session->setStep(step.toInt());
    });
    connect(m_head, &QComboBox::activated, this, [this](int h) {
        const Session::Focus& f = m_session->focus();
        m_session->setHead(f.layer, h, f.decoder, f.cross);
    });

    applyAppearance();
}

QList<HeatmapView*> StepView::visibleHeatmaps() const {
    QList<HeatmapView*> out;
    for (HeatmapView* m : m_maps)
        if (!m->isHidden()) out << m;
    return out;
}

HeatmapView* StepView::mainHeatmap() const {
    const QList<HeatmapView*> v = visibleHeatmaps();
    return v.isEmpty() ? m_maps.first() : v.last();
}

bool StepView::playing() const { return m_timer->isActive(); }
QString StepView::titleText() const { return m_title->text(); }
QString StepView::formulaText() const { return m_formula->text(); }
QString StepView::explainText() const { return m_explain->text(); }

QStringList StepView::shownOperators() const {
    QStringList out;
    for (QLabel* l : m_operators)
        if (!l->isHidden()) out << l->text();
    return out;
}

void StepView::setShowWeights(bool on) {
    if (on == m_showWeightsOn) return;
    m_showWeightsOn = on;
    {
        const QSignalBlocker block(m_showWeights);
        m_showWeights->setChecked(on);
    }
    refreshNow();
}

void StepView::setExportMode(bool on) {
    if (on == m_exportMode) return;
    m_exportMode = on;
    if (on) {
        m_fadeAnim->stop();
        m_fade->setEnabled(false);
    }
    m_counter->setVisible(!on);
    // The focus frame is the window's, not the figure's.
    if (on) {
        for (HeatmapView* m : m_maps) m->setHighlight(-1, -1);
    } else {
        refreshNow();
    }
}

void StepView::setTransitions(bool on) {
    m_transitions = on;
    if (!on) {
        m_fadeAnim->stop();
        m_fade->setEnabled(false);
    }
}

bool StepView::transitionRunning() const {
    return m_fadeAnim->state() == QAbstractAnimation::Running;
}

QList<int> StepView::headBoundaries() const {
    QList<int> out;
    if (m_concatHeads < 2 || m_maps[0]->isHidden()) return out;
    const HeatmapView* map = m_maps[0];
    const QRect cells = map->cellsRect().translated(map->pos());
    const int cols = static_cast<int>(map->matrix().cols());
    if (cols <= 0 || cols % m_concatHeads != 0) return out;
    const double cw = double(cells.width()) / cols;
    const int dh = cols / m_concatHeads;
    for (int h = 1; h < m_concatHeads; ++h)
        out << cells.left() + static_cast<int>(std::lround(h * dh * cw));
    return out;
}

void StepView::play(bool on) {
    if (on == m_timer->isActive()) return;
    if (on) {
        const TracePtr t = m_session->trace();
        // Playing from the last step starts over.
        if (t && m_session->focus().step >= static_cast<int>(t->steps.size()) - 1)
            m_session->setStep(0);
        m_timer->start();
    } else {
        m_timer->stop();
    }
    {
        const QSignalBlocker block(m_play);
        m_play->setChecked(on);
    }
    m_buttonNames[1] = on ? tr("Pause") : tr("Play");
    if (navButtonsNamed()) m_play->setText(m_buttonNames[1]);
    m_play->setIcon(style()->standardIcon(on ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    emit playingChanged(on);
}

void StepView::fitCells() {
    // Placing a heatmap resizes it, and a heatmap lays itself out and repaints at once, which
    // asks for a fit again (alignOperators): that inner request is run after this one, never
    // in the middle of placing the matrices with a stale layout.
    if (m_inFit) {
        m_fitAgain = true;
        return;
    }
    m_inFit = true;
    for (int round = 0; round < 4; ++round) {
        m_fitAgain = false;
        fitOnce();
        if (!m_fitAgain) break;
    }
    m_inFit = false;
}

void StepView::fitOnce() {
    const QList<HeatmapView*> maps = visibleHeatmaps();
    m_fitMargins.clear();
    if (maps.isEmpty()) {
        m_arrangement.clear();
        m_headLines->hide();
        return;
    }
    QList<Shape> shapes;
    for (HeatmapView* m : maps) {
        Shape sh;
        sh.rows = std::max<int>(1, static_cast<int>(m->matrix().rows()));
        sh.cols = std::max<int>(1, static_cast<int>(m->matrix().cols()));
        sh.margins = m->marginsAroundCells();
        const QRect c = m->cellsRect();
        if (c.width() > 4 && c.height() > 4) sh.cellsOffset = c.topLeft();
        // (query, key) matrices keep square cells: a row and its column read the same.
        sh.square = sh.rows == sh.cols && m->rowLabels() == m_session->queryLabels() &&
                    m->colLabels() == m_session->keyLabels();
        const QStringList tokens = m_session->tokenLabels(false),
                          target = m_session->tokenLabels(true);
        sh.tokenRows = m->rowLabels() == m_session->queryLabels() ||
                       m->rowLabels() == m_session->keyLabels() || m->rowLabels() == tokens ||
                       m->rowLabels() == target;
        // The heatmap's title font (bold, 10.5 pt scaled): a plot narrower than it cuts it.
        QFont titleFont = m->font();
        titleFont.setPointSizeF(std::max(8.0, 10.5 * m_session->fontScale()));
        titleFont.setBold(true);
        sh.minWidth = QFontMetrics(titleFont).horizontalAdvance(m->title()) + 24;
        shapes << sh;
        m_fitMargins << sh.margins;
    }
    // An operator is wanted when it has a text; it shows where the arrangement has room for it.
    QSize op(0, 0);
    for (QLabel* l : m_operators)
        if (!l->text().isEmpty()) op = op.expandedTo(l->sizeHint() + QSize(8, 0));
    const int gap = static_cast<int>(4 * m_session->fontScale());
    const Arrangement shown = m_arrangement == QStringLiteral("product")  ? Arrangement::Product
                              : m_arrangement == QStringLiteral("column") ? Arrangement::Column
                                                                          : Arrangement::Row;
    const bool refit = m_fitPasses > 0 && !m_arrangement.isEmpty();
    Layout lay =
        bestLayout(shapes, m_matrices->size(), op, gap, m_productable, refit ? &shown : nullptr);
    if (lay.boxes.size() != maps.size()) {
        // A pane too small for any readable layout: equal shares side by side.
        lay = Layout{};
        const int w = std::max(30, m_matrices->width() / static_cast<int>(maps.size()));
        for (int i = 0; i < maps.size(); ++i)
            lay.boxes << QRect(i * w, 0, w, std::max(30, m_matrices->height()));
    }
    m_arrangement = lay.arrangement == Arrangement::Product  ? QStringLiteral("product")
                    : lay.arrangement == Arrangement::Column ? QStringLiteral("column")
                                                             : QStringLiteral("row");
    for (int i = 0; i < maps.size(); ++i) maps[i]->setGeometry(lay.boxes[i]);
    // Operator i stands between matrix i and matrix i + 1.
    for (int i = 0; i < kMaxPanels - 1; ++i) {
        QLabel* l = m_operators[i];
        const bool placed = !l->text().isEmpty() && i < lay.ops.size() && !lay.ops[i].isNull();
        l->setProperty("placed", placed);
        l->setVisible(placed);
        if (placed) l->setGeometry(lay.ops[i]);
    }
    alignOperators();
}

void StepView::alignOperators() {
    const QList<HeatmapView*> maps = visibleHeatmaps();
    // Once the plots have drawn, their real label margins are known: fit again if they differ
    // from those the layout assumed (a few times at most, labels may flip between layouts).
    if (m_fitMargins.size() == maps.size() && m_fitPasses < 3) {
        for (int i = 0; i < maps.size(); ++i) {
            const QSize d = maps[i]->marginsAroundCells() - m_fitMargins[i];
            if (std::abs(d.width()) > 2 || std::abs(d.height()) > 2) {
                ++m_fitPasses;
                fitCells();
                return;
            }
        }
    }
    // "+", "=", "→" level with the middle of the cells they stand between (a row), or at
    // the left edge of the cells below them (a column).
    for (int i = 0; i < kMaxPanels - 1; ++i) {
        QLabel* l = m_operators[i];
        const int next = i + 1;
        if (l->isHidden() || !l->property("placed").toBool() || next >= maps.size()) continue;
        const QRect cells = maps[next]->cellsRect().translated(maps[next]->pos());
        QRect g = l->geometry();
        // Level with the middle of the next matrix's cells: in a row between the matrices, in
        // a column in the gutter left of the matrix it leads to ("+ PE", "= X").
        g.moveTop(cells.center().y() - g.height() / 2);
        if (g != l->geometry()) l->setGeometry(g);
        l->raise();
    }
    placeHeadLines();
}

void StepView::placeHeadLines() {
    if (m_concatHeads < 2 || m_maps[0]->isHidden()) {
        m_headLines->hide();
        return;
    }
    const QRect cells = m_maps[0]->cellsRect().translated(m_maps[0]->pos());
    if (cells.width() < 4) return;
    m_headLines->setGeometry(cells.adjusted(0, 0, 1, 1));
    m_headLines->show();
    m_headLines->raise();
    m_headLines->update();
}

void StepView::fadeIn() {
    if (m_exportMode || !m_transitions || !isVisible()) return;
    m_fadeAnim->stop();
    m_fade->setEnabled(true);
    m_fade->setOpacity(0.25);
    m_fadeAnim->start();
}

void StepView::togglePlay() { play(!m_timer->isActive()); }

QSize StepView::minimumSizeHint() const {
    const QSize laid = SessionView::minimumSizeHint();
    return {std::min(laid.width(), 360), laid.height()};
}

void StepView::resizeEvent(QResizeEvent* event) {
    SessionView::resizeEvent(event);
    updateCompact();
}

void StepView::updateCompact() {
    // Below this width the list would leave the figure too little room.
    const bool compact = width() < std::lround(640 * m_session->fontScale());
    if (compact == m_compact) return;
    m_compact = compact;
    m_list->setVisible(!compact);
    m_stepChooser->setVisible(compact);
    placeNavExtras();
}

void StepView::placeNavExtras() {
    // Widths from the texts and size hints, which do not depend on where the extras sit or on
    // whether the buttons show their names: no back and forth. First choice one row with the
    // buttons' names, then one row with their icons only (the names are in their tooltips),
    // then the extras on a second row.
    const QMargins m = m_navRow1->contentsMargins();
    const int gap = m_navRow1->spacing();
    const int icon = m_prev->iconSize().width();
    const int pad = 2 * style()->pixelMetric(QStyle::PM_ButtonMargin, nullptr, m_prev) + 8;
    int named = 0, bare = 0;
    for (int i = 0; i < 3; ++i) {
        named += m_prev->fontMetrics().horizontalAdvance(m_buttonNames[i]) + icon + 4 + pad + gap;
        bare += icon + pad + gap;
    }
    const int rest = m.left() + m.right() + 12 + m_navExtras->sizeHint().width() +
                     (m_compact ? m_stepChooser->sizeHint().width() + gap : 0);
    const int room = m_navRight->width();
    const bool names = named + rest <= room || bare + rest > room;
    const bool twoRows = bare + rest > room;
    QPushButton* buttons[3] = {m_prev, m_play, m_next};
    for (int i = 0; i < 3; ++i) {
        const QString text = names ? m_buttonNames[i] : QString();
        if (buttons[i]->text() != text) buttons[i]->setText(text);
    }
    if (twoRows == (m_navRow2->indexOf(m_navExtras) >= 0)) return;
    if (twoRows) {
        m_navRow1->removeWidget(m_navExtras);
        m_navRow2->addWidget(m_navExtras);
        m_navRow2->setContentsMargins(10, 0, 6, 6);
    } else {
        m_navRow2->removeWidget(m_navExtras);
        m_navRow1->addWidget(m_navExtras);
        m_navRow2->setContentsMargins(0, 0, 0, 0);  // an empty row takes no height
    }
}

bool StepView::navButtonsNamed() const { return !m_prev->text().isEmpty(); }

bool StepView::navOnTwoRows() const { return m_navRow2->indexOf(m_navExtras) >= 0; }

bool StepView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_navRight && event->type() == QEvent::Resize) placeNavExtras();
    if (watched == m_matrices && event->type() == QEvent::Resize) {
        m_fitPasses = 0;
        fitCells();
    }
    if (watched == m_headLines && event->type() == QEvent::Paint) {
        // Where each head's d_head columns begin: a line between heads and its name on top.
        QPainter p(m_headLines);
        p.setRenderHint(QPainter::Antialiasing);
        const QList<int> xs = headBoundaries();
        const int x0 = m_headLines->x();
        QPen pen(QColor(20, 20, 20), std::max(2.0, 2.0 * m_session->fontScale()));
        p.setPen(pen);
        for (int x : xs) p.drawLine(x - x0, 0, x - x0, m_headLines->height());
        QFont f = font();
        f.setPointSizeF(std::max(7.0, 8.0 * m_session->fontScale()));
        f.setBold(true);
        p.setFont(f);
        const QFontMetrics fm(f);
        QList<int> starts{0};
        for (int x : xs) starts << x - x0;
        for (int h = 0; h < starts.size(); ++h) {
            const int end = h + 1 < starts.size() ? starts[h + 1] : m_headLines->width();
            const QString name =
                fm.horizontalAdvance(tr("head %1").arg(h + 1)) + 6 <= end - starts[h]
                    ? tr("head %1").arg(h + 1)
                    : QString::number(h + 1);
            const QRect box(starts[h] + 2, 2, fm.horizontalAdvance(name) + 6, fm.height() + 2);
            p.fillRect(box, QColor(255, 255, 255, 215));
            p.setPen(QColor(20, 20, 20));
            p.drawText(box, Qt::AlignCenter, name);
        }
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void StepView::applyAppearance() {
    const double s = m_session->fontScale();
    QFont f = font();
    f.setPointSizeF(m_basePt);
    QFont title = f;
    title.setPointSizeF(f.pointSizeF() * 1.35 * s);
    title.setBold(true);
    m_title->setFont(title);
    QFont counter = f;
    counter.setPointSizeF(f.pointSizeF() * 1.0 * s);
    m_counter->setFont(counter);
    m_counter->setStyleSheet(QStringLiteral("color: palette(mid); padding-right: 8px;"));
    QFont formula(QStringLiteral("DejaVu Serif"));
    formula.setPointSizeF(f.pointSizeF() * 1.45 * s);
    m_formula->setFont(formula);
    m_formula->setStyleSheet(QStringLiteral(
        "QLabel { background: palette(alternate-base); border-left: 4px solid #3b6fd6; "
        "padding: 6px 10px; }"));
    QFont ex = f;
    ex.setPointSizeF(f.pointSizeF() * 1.05 * s);
    m_explain->setFont(ex);
    QFont op = f;
    op.setPointSizeF(f.pointSizeF() * 2.0 * s);
    op.setBold(true);
    for (QLabel* l : m_operators) l->setFont(op);
    QFont list = f;
    list.setPointSizeF(f.pointSizeF() * s);
    m_list->setFont(list);
    QList<QWidget*> controls{m_prev, m_play, m_next, m_speed, m_stepChooser};
    controls << m_navExtras->findChildren<QWidget*>();  // "Show weights", "Head:", the chooser
    for (QWidget* w : controls) {
        QFont bf = w->font();
        bf.setPointSizeF(m_basePt * s);
        w->setFont(bf);
    }
    updateCompact();  // the threshold scales with the fonts
    placeNavExtras();
    for (HeatmapView* m : m_maps) {
        m->setFontScale(s);
        m->setShowNumbers(m_session->showNumbers());
    }
    m_shownSteps = -1;  // re-create list items with the new font
    m_fitPasses = 0;
}

void StepView::rebuildList() {
    const TracePtr t = m_session->trace();
    const QSignalBlocker block(m_list);
    const QSignalBlocker blockChooser(m_stepChooser);
    m_list->clear();
    m_stepChooser->clear();
    m_listTrace = t.get();
    if (!t) {
        m_shownSteps = 0;
        return;
    }
    QString section;
    QFont bold = m_list->font();
    bold.setBold(true);
    int widest = 0;
    const QFontMetrics fm(m_list->font()), fmBold(bold);
    for (std::size_t i = 0; i < t->steps.size(); ++i) {
        const Step& s = t->steps[i];
        const QString sec = stepSection(s);
        if (sec != section) {
            section = sec;
            auto* head = new QListWidgetItem(sec, m_list);
            head->setFlags(Qt::NoItemFlags);
            head->setFont(bold);
            widest = std::max(widest, fmBold.horizontalAdvance(sec));
            m_stepChooser->addItem(sec);
            if (auto* model = qobject_cast<QStandardItemModel*>(m_stepChooser->model())) {
                QStandardItem* h = model->item(m_stepChooser->count() - 1);
                h->setFlags(Qt::NoItemFlags);
                h->setFont(bold);
            }
        }
        const QString text = QStringLiteral("%1. %2").arg(i + 1).arg(stepShortTitle(s));
        m_stepChooser->addItem(text, static_cast<int>(i));
        auto* item = new QListWidgetItem(text, m_list);
        item->setData(Qt::UserRole, static_cast<int>(i));
        item->setToolTip(QString::fromStdString(s.formula));
        widest = std::max(widest, fm.horizontalAdvance(text));
    }
    m_shownSteps = static_cast<int>(t->steps.size());
    // As wide as the longest name, up to a fifth of the view (the figure needs the room);
    // longer names wrap.
    const int want =
        widest + 2 * m_list->frameWidth() + 16 + m_list->verticalScrollBar()->sizeHint().width();
    const int total = m_split->width() > 100 ? m_split->width() : width();
    const int listW = std::clamp(want, m_list->minimumWidth(), std::max(150, total / 5));
    const QList<int> sizes = m_split->sizes();
    if (sizes.size() == 2 && total > 100 && std::abs(sizes[0] - listW) > 4)
        m_split->setSizes({listW, std::max(100, total - listW)});
}

void StepView::refresh(int parts) {
    if (parts & SessionChange::Appearance) applyAppearance();
    const TracePtr t = m_session->trace();
    // The list follows the step structure, not the numbers: keep it while only text changes.
    bool sameSteps = t && m_shownSteps == static_cast<int>(t->steps.size()) && m_list->count() > 0;
    if (sameSteps) {
        const QVariant first = m_list->item(m_list->count() - 1)->data(Qt::UserRole);
        sameSteps = first.isValid() && first.toInt() == m_shownSteps - 1 &&
                    m_list->item(m_list->count() - 1)->toolTip() ==
                        QString::fromStdString(t->steps.back().formula);
    }
    if (!sameSteps) rebuildList();
    m_listTrace = t.get();
    m_fitPasses = 0;

    const Step* step = m_session->currentStep();
    m_prev->setEnabled(step && m_session->focus().step > 0);
    m_next->setEnabled(step && t &&
                       m_session->focus().step < static_cast<int>(t->steps.size()) - 1);
    m_play->setEnabled(step != nullptr);
    if (!step) {
        m_counter->clear();
        m_title->setText(tr("Type a sentence to begin"));
        m_formula->setText(QString());
        m_explain->setText(m_session->lastError());
        m_tokens->hide();
        for (HeatmapView* m : m_maps) m->hide();
        for (QLabel* l : m_operators) {
            l->setText(QString());
            l->hide();
        }
        m_concatHeads = 0;
        m_headLines->hide();
        m_shownStep = -1;
        return;
    }
    const int idx = m_session->focus().step;
    {
        const QSignalBlocker block(m_list);
        for (int r = 0; r < m_list->count(); ++r) {
            const QVariant d = m_list->item(r)->data(Qt::UserRole);
            if (d.isValid() && d.toInt() == idx) {
                m_list->setCurrentRow(r);
                m_list->scrollToItem(m_list->item(r));
                break;
            }
        }
    }
    {
        const QSignalBlocker block(m_stepChooser);
        m_stepChooser->setCurrentIndex(m_stepChooser->findData(idx));
    }
    m_counter->setText(tr("Step %1 / %2").arg(idx + 1).arg(t->steps.size()));
    m_counter->setVisible(!m_exportMode);
    m_title->setText(QString::fromStdString(step->title));
    m_formula->setText(formulaHtml(QString::fromStdString(step->formula)));

    // Head picker: the heads of this step's block.
    const AttentionTrace* b =
        step->layer >= 0 ? m_session->block(step->layer, step->decoder, step->cross) : nullptr;
    {
        const QSignalBlocker block(m_head);
        m_head->clear();
        const bool perHead =
            b && (step->kind == StepKind::Projections || step->kind == StepKind::Scores ||
                  step->kind == StepKind::Scaled || step->kind == StepKind::Masked ||
                  step->kind == StepKind::Weights || step->kind == StepKind::WeightedSum);
        if (perHead) {
            for (std::size_t h = 0; h < b->heads.size(); ++h) m_head->addItem(tr("%1").arg(h + 1));
            m_head->setCurrentIndex(m_session->focus().head);
        } else {
            // The step is not one head's (tokens, concat, feed-forward): say so, not a blank.
            m_head->addItem(QStringLiteral("\u2014"));
        }
        m_head->setEnabled(perHead);
    }
    // The weights toggle means something only where the step has weights.
    m_showWeights->setEnabled(step->kind == StepKind::Projections ||
                              step->kind == StepKind::OutputProjection ||
                              step->kind == StepKind::FeedForward);

    const Content content = buildContent(*m_session, *step, m_showWeightsOn);
    m_explain->setText(content.explain);
    m_tokens->setVisible(content.tokens);
    m_matrices->setVisible(!content.tokens);
    if (content.tokens)
        m_tokens->setText(tokenChips(m_session->tokenChips(false), m_session->fontScale()));
    if (content.tokens && m_session->isSeq2Seq())
        m_tokens->setText(m_tokens->text() + QStringLiteral("<p>") + tr("Target:") +
                          QStringLiteral("</p>") +
                          tokenChips(m_session->tokenChips(true), m_session->fontScale()));
    m_productable = content.product;
    m_concatHeads = content.concatHeads;
    const Session::Focus& f = m_session->focus();
    for (int i = 0; i < m_maps.size(); ++i) {
        HeatmapView* map = m_maps[i];
        if (i >= content.panels.size()) {
            map->hide();
            continue;
        }
        const Panel& p = content.panels[i];
        map->setTitle(p.title);
        map->setAxisTitles(p.rowTitle, p.colTitle);
        if (p.weights) {
            map->setColorMap(m_session->colorMap());
            map->setRange(0.0, 1.0);
        } else {
            map->clearRange();
            map->setColorMap(ColorMapKind::Diverging);
        }
        map->setCellTooltipProvider(p.tooltip);
        map->setMatrix(p.m, p.rows, p.cols);
        const bool hl = p.pairCells && !m_exportMode;
        map->setHighlight(hl ? f.query : -1, hl ? f.key : -1);
        map->show();
    }
    for (int i = 0; i < kMaxPanels - 1; ++i) {
        const bool on = i < content.operators.size() && i + 1 < content.panels.size() &&
                        !content.operators[i].isEmpty();
        m_operators[i]->setText(on ? content.operators[i] : QString());
        m_operators[i]->setVisible(on);
    }
    fitCells();  // a product drawn by hand shows no "×" and "=": the places say it
    // Walking to the next or previous step fades the new one in; a jump just shows it.
    if (m_shownStep >= 0 && std::abs(idx - m_shownStep) == 1) {
        fadeIn();
    } else if (idx != m_shownStep) {
        m_fadeAnim->stop();
        m_fade->setEnabled(false);
    }
    m_shownStep = idx;
}

}  // namespace attn::ui
