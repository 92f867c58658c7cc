#include "views/step_view.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QStyle>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
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
    // The vocabulary entries that score highest for some token.
    constexpr int kMaxCols = 30;
    const std::vector<int> cols = attn::strongestColumns(L, kMaxCols);
    Mat m(L.rows(), static_cast<int>(cols.size()));
    QStringList names;
    for (int k = 0; k < static_cast<int>(cols.size()); ++k) {
        m.col(k) = L.col(cols[k]);
        names << (tok ? QString::fromStdString(tok->decode(cols[k])) : QString::number(cols[k]));
    }
    Panel p;
    p.m = m;
    p.rows = in.queries;
    p.cols = names;
    p.title = L.cols() > kMaxCols
                  ? QObject::tr("logits (top %1 of %2 words)").arg(kMaxCols).arg(L.cols())
                  : QObject::tr("logits");
    p.rowTitle = QObject::tr("token");
    p.colTitle = QObject::tr("next word");
    out.panels << p;
    out.explain = QObject::tr(
        "Each row scores every word of the vocabulary as the next "
        "token.");
    return out;
}

// --- a layer's own steps: feed-forward, its input and output -------------------------------

Content feedForwardContent(const StepInputs& in, const LayerTrace& lt) {
    Content out;
    const Mat& x = in.step.decoder && lt.cross_attention ? lt.after_cross : lt.after_self;
    out.panels << tokenPanel(x, QObject::tr("x (after attention)"), in.queries)
               << tokenPanel(lt.ffn_output, QObject::tr("F = FFN(x)"), in.queries);
    out.operators << QStringLiteral("→");
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

Content projectionsContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
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
    return out;
}

Content scaledContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    const QString scaled = h.ac.scale && h.ac.score == ScoreFunction::ScaledDot
                               ? QStringLiteral("S' = S / √%1").arg(h.ac.d_head)
                               : QStringLiteral("S'");
    out.panels << pairPanel(in, h, hd.scores, QStringLiteral("S  (%1)").arg(h.name),
                            StepKind::Scores)
               << pairPanel(in, h, hd.scaled, scaled, StepKind::Scaled);
    out.operators << QStringLiteral("→");
    return out;
}

Content maskedContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    out.panels << pairPanel(in, h, hd.scaled, QStringLiteral("S'  (%1)").arg(h.name),
                            StepKind::Scaled)
               << pairPanel(in, h, hd.masked, QObject::tr("S' masked"), StepKind::Masked);
    out.operators << QStringLiteral("→");
    return out;
}

Content weightsContent(const StepInputs& in, const HeadInputs& h) {
    Content out;
    const HeadTrace& hd = *h.head;
    out.panels << pairPanel(in, h, hd.masked, QObject::tr("S' masked  (%1)").arg(h.name),
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
    return out;
}

// --- the heads together: concat → W_O → add & norm ------------------------------------------

Content concatContent(const StepInputs& in, const AttentionTrace& block) {
    Content out;
    out.panels << tokenPanel(block.concat, QObject::tr("concat(Z₁ … Z_%1)").arg(block.heads.size()),
                             in.queries);
    return out;
}

Content outputProjectionContent(const StepInputs& in, const AttentionTrace& block) {
    Content out;
    out.panels << tokenPanel(block.concat, QObject::tr("concat"), in.queries)
               << tokenPanel(block.projected, QObject::tr("O = concat·W_O"), in.queries);
    out.operators << QStringLiteral("→");
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
Content blockContent(const StepInputs& in, const AttentionTrace& block, const LayerTrace& lt) {
    switch (in.step.kind) {
        case StepKind::Concat:
            return concatContent(in, block);
        case StepKind::OutputProjection:
            return outputProjectionContent(in, block);
        case StepKind::AddNorm:
            return addNormContent(in, block, lt);
        default:
            break;
    }
    const HeadInputs h = stepHead(in, block);
    switch (in.step.kind) {
        case StepKind::Projections:
            return projectionsContent(in, h);
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
Content buildContent(const Session& session, const Step& step) {
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
            return feedForwardContent(in, lt);
        case StepKind::LayerInput:
        case StepKind::LayerOutput:
            return layerInputOutputContent(in, lt);
        default:
            break;
    }
    const AttentionTrace* block =
        step.cross ? (lt.cross_attention ? &*lt.cross_attention : nullptr) : &lt.self_attention;
    if (!block) return {};
    Content out = blockContent(in, *block, lt);
    out.explain = blockExplain(step.kind, in.c, in.tr->attention, step);
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

QString tokenChips(const QStringList& tokens, double scale) {
    QString html = QStringLiteral("<div style='line-height:170%;'>");
    const int pt = static_cast<int>(13 * scale);
    for (int i = 0; i < tokens.size(); ++i) {
        html += QStringLiteral(
                    "<span style='background-color:#e8eefc; color:#1a237e; font-size:%1pt;'>"
                    "&nbsp;%2&nbsp;</span><sub style='color:#777;'>%3</sub>&nbsp;&nbsp; ")
                    .arg(pt)
                    .arg(tokens[i].toHtmlEscaped())
                    .arg(i);
    }
    return html + QStringLiteral("</div>");
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
    m_list->setMinimumWidth(190);
    m_list->setUniformItemSizes(true);
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_split->addWidget(m_list);

    auto* right = new QWidget(m_split);
    auto* rv = new QVBoxLayout(right);
    rv->setContentsMargins(0, 0, 0, 0);
    rv->setSpacing(0);
    // The figure (title, formula, matrices) is what exports and copies show, without buttons.
    m_figure = new QWidget(m_figure);
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
    m_tokens->setTextFormat(Qt::RichText);
    m_tokens->setWordWrap(true);
    m_tokens->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_tokens->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_tokens, 1);

    m_matrices = new QWidget(m_figure);
    m_matrixLayout = new QHBoxLayout(m_matrices);
    m_matrixLayout->setContentsMargins(0, 0, 0, 0);
    m_matrixLayout->setSpacing(2);
    for (int i = 0; i < 3; ++i) {
        if (i > 0) {
            m_operators[i - 1] = new QLabel(m_matrices);
            m_operators[i - 1]->setAlignment(Qt::AlignTop | Qt::AlignHCenter);
            m_operators[i - 1]->setObjectName(QStringLiteral("stepOperator"));
            m_matrixLayout->addWidget(m_operators[i - 1]);
        }
        auto* map = new HeatmapView(m_matrices);
        map->setObjectName(QStringLiteral("stepHeatmap%1").arg(i));
        m_maps << map;
        m_matrixLayout->addWidget(map, 1);
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
    m_matrixLayout->insertStretch(0, 1);
    m_matrixLayout->addStretch(1);
    v->addWidget(m_matrices, 12);
    m_matrices->installEventFilter(this);

    auto* nav = new QHBoxLayout;
    nav->setContentsMargins(10, 4, 6, 6);
    nav->setSpacing(6);
    m_prev =
        new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekBackward), tr("Previous"), right);
    m_play = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Play"), right);
    m_next = new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Next"), right);
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
    m_head = new QComboBox(right);
    m_head->setToolTip(tr("Which head of this layer the matrices show"));
    nav->addWidget(m_prev);
    nav->addWidget(m_play);
    nav->addWidget(m_next);
    nav->addWidget(m_speed);
    nav->addStretch(1);
    nav->addWidget(new QLabel(tr("Head:"), right));
    nav->addWidget(m_head);
    rv->addLayout(nav);
    m_split->addWidget(right);
    m_split->setStretchFactor(0, 0);
    m_split->setStretchFactor(1, 1);
    m_split->setSizes({215, 800});

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
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0) return;
        const QVariant step = m_list->item(row)->data(Qt::UserRole);
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
    m_play->setText(on ? tr("Pause") : tr("Play"));
    m_play->setIcon(style()->standardIcon(on ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    emit playingChanged(on);
}

void StepView::fitCells() {
    // One cell size for every matrix of the step: the largest at which all fit side by side.
    const QList<HeatmapView*> maps = visibleHeatmaps();
    if (maps.isEmpty()) return;
    int opWidth = 0;
    for (QLabel* l : m_operators)
        if (!l->isHidden()) opWidth += l->sizeHint().width() + m_matrixLayout->spacing();
    double extraW = 0, cols = 0;
    double cell = 80 * m_session->fontScale();
    for (HeatmapView* m : maps) {
        const QSize extra = m->marginsAroundCells();
        extraW += extra.width() + m_matrixLayout->spacing();
        cols += std::max<Eigen::Index>(1, m->matrix().cols());
        const double rows = std::max<Eigen::Index>(1, m->matrix().rows());
        cell = std::min(cell, (m_matrices->height() - extra.height()) / rows);
    }
    cell = std::min(cell, (m_matrices->width() - opWidth - extraW) / cols);
    cell = std::max(std::floor(cell * 0.98), 2.0);  // the layout rounds widths; leave slack
    m_fitExtraW = static_cast<int>(extraW);
    for (HeatmapView* m : maps) {
        m->setCellSize(cell);
        const int want = static_cast<int>(std::max<Eigen::Index>(1, m->matrix().cols()) * cell +
                                          m->marginsAroundCells().width());
        m_matrixLayout->setStretchFactor(m, std::max(1, want));
        m->setMaximumWidth(std::max(60, want + 4));  // spare room goes around, not inside
    }
}

void StepView::alignOperators() {
    // Once the plots have drawn, their real label margins are known: fit again if they differ
    // from the estimate the cell size was computed with.
    int extraW = 0;
    for (HeatmapView* m : visibleHeatmaps())
        extraW += m->marginsAroundCells().width() + m_matrixLayout->spacing();
    if (std::abs(extraW - m_fitExtraW) > 2) fitCells();
    // The matrices hang from the top; put "·", "=" and "→" level with their middles.
    for (int i = 0; i < 2; ++i) {
        HeatmapView* left = m_maps[i];
        if (left->isHidden()) continue;
        const QRect ar = left->plot()->axisRect()->rect();
        const int mid = left->plot()->geometry().top() + ar.center().y();
        const int top = std::max(0, mid - m_operators[i]->fontMetrics().height() / 2);
        if (m_operators[i]->contentsMargins().top() != top)
            m_operators[i]->setContentsMargins(0, top, 0, 0);
    }
}

void StepView::togglePlay() { play(!m_timer->isActive()); }

bool StepView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_matrices && event->type() == QEvent::Resize) fitCells();
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
    for (HeatmapView* m : m_maps) {
        m->setFontScale(s);
        m->setShowNumbers(m_session->showNumbers());
    }
    m_shownSteps = -1;  // re-create list items with the new font
}

void StepView::rebuildList() {
    const TracePtr t = m_session->trace();
    const QSignalBlocker block(m_list);
    m_list->clear();
    m_listTrace = t.get();
    if (!t) {
        m_shownSteps = 0;
        return;
    }
    QString section;
    QFont bold = m_list->font();
    bold.setBold(true);
    for (std::size_t i = 0; i < t->steps.size(); ++i) {
        const Step& s = t->steps[i];
        const QString sec = stepSection(s);
        if (sec != section) {
            section = sec;
            auto* head = new QListWidgetItem(sec, m_list);
            head->setFlags(Qt::NoItemFlags);
            head->setFont(bold);
        }
        auto* item =
            new QListWidgetItem(QStringLiteral("%1. %2").arg(i + 1).arg(stepShortTitle(s)), m_list);
        item->setData(Qt::UserRole, static_cast<int>(i));
        item->setToolTip(QString::fromStdString(s.formula));
    }
    m_shownSteps = static_cast<int>(t->steps.size());
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
        for (QLabel* l : m_operators) l->hide();
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
    m_counter->setText(tr("Step %1 / %2").arg(idx + 1).arg(t->steps.size()));
    m_title->setText(QString::fromStdString(step->title));
    m_formula->setText(formulaHtml(QString::fromStdString(step->formula)));

    // Head picker: the heads of this step's block.
    {
        const QSignalBlocker block(m_head);
        m_head->clear();
        const AttentionTrace* b =
            step->layer >= 0 ? m_session->block(step->layer, step->decoder, step->cross) : nullptr;
        const bool perHead =
            b && (step->kind == StepKind::Projections || step->kind == StepKind::Scores ||
                  step->kind == StepKind::Scaled || step->kind == StepKind::Masked ||
                  step->kind == StepKind::Weights || step->kind == StepKind::WeightedSum);
        if (perHead) {
            for (std::size_t h = 0; h < b->heads.size(); ++h) m_head->addItem(tr("%1").arg(h + 1));
            m_head->setCurrentIndex(m_session->focus().head);
        }
        m_head->setEnabled(perHead);
    }

    const Content content = buildContent(*m_session, *step);
    m_explain->setText(content.explain);
    m_tokens->setVisible(content.tokens);
    if (content.tokens)
        m_tokens->setText(tokenChips(m_session->tokenLabels(false), m_session->fontScale()));
    if (content.tokens && m_session->isSeq2Seq())
        m_tokens->setText(m_tokens->text() + QStringLiteral("<p>") + tr("Target:") +
                          QStringLiteral("</p>") +
                          tokenChips(m_session->tokenLabels(true), m_session->fontScale()));
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
        map->setHighlight(p.pairCells ? f.query : -1, p.pairCells ? f.key : -1);
        map->show();
    }
    for (int i = 0; i < 2; ++i) {
        const bool on = i < content.operators.size() && i + 1 < content.panels.size();
        m_operators[i]->setVisible(on);
        if (on) m_operators[i]->setText(content.operators[i]);
    }
    fitCells();
}

}  // namespace attn::ui
