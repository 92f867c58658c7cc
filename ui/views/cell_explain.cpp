#include "views/cell_explain.h"

#include <cmath>

namespace attn::ui {

namespace {

const QString kMinus = QStringLiteral("\u2212");

QString sub(const QString& base, const QString& s) {
    return base + QStringLiteral("<sub>") + tokenHtml(s) + QStringLiteral("</sub>");
}

QString label(const QStringList& labels, int i) {
    return i >= 0 && i < labels.size() ? labels[i] : QString::number(i);
}

}  // namespace

QString fmtNum(float v) {
    if (std::isnan(v)) return QStringLiteral("NaN");
    if (std::isinf(v)) return v < 0 ? kMinus + QStringLiteral("\u221e") : QStringLiteral("\u221e");
    QString s = QString::number(static_cast<double>(v), 'f', std::fabs(v) >= 100 ? 1 : 2);
    if (s.startsWith(QLatin1Char('-'))) {
        s = s.mid(1);
        bool zero = true;
        for (QChar c : s)
            if (c != QLatin1Char('0') && c != QLatin1Char('.')) zero = false;
        if (!zero) s = kMinus + s;
    }
    return s;
}

QString fmtFactor(float v) {
    const QString s = fmtNum(v);
    return s.startsWith(kMinus) ? QStringLiteral("(") + s + QStringLiteral(")") : s;
}

QString tokenHtml(const QString& token) { return token.toHtmlEscaped(); }

QString dotTerms(const Eigen::VectorXf& a, const Eigen::VectorXf& b) {
    const int n = static_cast<int>(std::min(a.size(), b.size()));
    auto term = [&](int i) { return fmtFactor(a(i)) + QStringLiteral("\u00b7") + fmtFactor(b(i)); };
    QStringList parts;
    if (n <= 6) {
        for (int i = 0; i < n; ++i) parts << term(i);
    } else {
        parts << term(0) << term(1) << term(2) << QStringLiteral("\u2026") << term(n - 1);
    }
    return parts.join(QStringLiteral(" + "));
}

QString explainAttentionCell(const HeadTrace& h, const AttentionConfig& c,
                             const QStringList& queries, const QStringList& keys, int i, int j,
                             StepKind stage) {
    if (i < 0 || j < 0 || i >= h.weights.rows() || j >= h.weights.cols()) return {};
    const QString q = label(queries, i), k = label(keys, j);
    QStringList lines;
    lines << QStringLiteral("<b>query</b> %1 &nbsp;·&nbsp; <b>key</b> %2")
                 .arg(tokenHtml(q), tokenHtml(k));
    const bool detailed =
        h.scores.rows() == h.weights.rows() && h.scores.cols() == h.weights.cols();
    if (detailed) {
        const float s = h.scores(i, j);
        const QString qk =
            sub(QStringLiteral("q"), q) + QStringLiteral(" · ") + sub(QStringLiteral("k"), k);
        switch (c.score) {
            case ScoreFunction::Dot:
            case ScoreFunction::ScaledDot:
                if (i < h.Q.rows() && j < h.K.rows()) {
                    lines << qk + QStringLiteral(" = ") +
                                 dotTerms(h.Q.row(i).transpose(), h.K.row(j).transpose()) +
                                 QStringLiteral(" = <b>") + fmtNum(s) + QStringLiteral("</b>");
                } else {
                    lines << qk + QStringLiteral(" = <b>") + fmtNum(s) + QStringLiteral("</b>");
                }
                break;
            case ScoreFunction::Cosine:
                lines << QStringLiteral("cos = ") + qk + QStringLiteral(" / (‖q‖ ‖k‖) = <b>") +
                             fmtNum(s) + QStringLiteral("</b>");
                break;
            case ScoreFunction::General:
                lines << sub(QStringLiteral("q"), q) + QStringLiteral(" · W · ") +
                             sub(QStringLiteral("k"), k) + QStringLiteral("<sup>T</sup> = <b>") +
                             fmtNum(s) + QStringLiteral("</b>");
                break;
            case ScoreFunction::Additive:
                lines << QStringLiteral("v<sup>T</sup> tanh(W<sub>1</sub>") +
                             sub(QStringLiteral("q"), q) + QStringLiteral(" + W<sub>2</sub>") +
                             sub(QStringLiteral("k"), k) + QStringLiteral(") = <b>") + fmtNum(s) +
                             QStringLiteral("</b>");
                break;
        }
        if (stage != StepKind::Scores) {
            const float sc = h.scaled(i, j);
            const bool divides = c.scale && c.score == ScoreFunction::ScaledDot;
            QString line;
            if (divides) line = QStringLiteral("÷ √%1").arg(c.d_head);
            if (c.temperature != 1.0f && c.temperature != 0.0f)
                line += (line.isEmpty() ? QString() : QStringLiteral(" ")) +
                        QStringLiteral("÷ T (%1)").arg(fmtNum(c.temperature));
            if (!line.isEmpty())
                lines << line + QStringLiteral(" = <b>") + fmtNum(sc) + QStringLiteral("</b>");
            else if (stage == StepKind::Scaled)
                lines << QStringLiteral("no scaling: stays ") + fmtNum(sc);
        }
        if (stage == StepKind::Masked || stage == StepKind::Weights) {
            if (std::isinf(h.masked(i, j)) && h.masked(i, j) < 0)
                lines << QStringLiteral("masked: this query may not see this key → <b>−∞</b>");
        }
    }
    if (stage == StepKind::Weights || !detailed) {
        const float w = h.weights(i, j);
        if (c.temperature == 0.0f)
            lines << QStringLiteral("temperature 0: the largest score takes all → <b>%1</b>")
                         .arg(fmtNum(w));
        else
            lines << QStringLiteral(
                         "softmax over the row (e<sup>s</sup> / Σ e<sup>s</sup>) → <b>%1</b>")
                         .arg(fmtNum(w));
    }
    return lines.join(QStringLiteral("<br>"));
}

QString explainWeightedSumCell(const HeadTrace& h, const QStringList& queries,
                               const QStringList& keys, int i, int d) {
    if (i < 0 || d < 0 || i >= h.output.rows() || d >= h.output.cols()) return {};
    const QString q = label(queries, i);
    QStringList terms;
    const int T = static_cast<int>(h.weights.cols());
    auto term = [&](int j) {
        return fmtFactor(h.weights(i, j)) + QStringLiteral("·") + fmtFactor(h.V(j, d)) +
               QStringLiteral("<sub>") + tokenHtml(label(keys, j)) + QStringLiteral("</sub>");
    };
    if (T <= 6) {
        for (int j = 0; j < T; ++j) terms << term(j);
    } else {
        terms << term(0) << term(1) << term(2) << QStringLiteral("\u2026") << term(T - 1);
    }
    return QStringLiteral(
               "z<sub>%1</sub>[%2] = Σ<sub>j</sub> A<sub>%1,j</sub>·v<sub>j</sub>[%2]<br>= %3 = "
               "<b>%4</b>")
        .arg(tokenHtml(q))
        .arg(d)
        .arg(terms.join(QStringLiteral(" + ")), fmtNum(h.output(i, d)));
}

QString explainProjectionCell(char which, const Mat& m, const QStringList& tokens, int row, int d,
                              ProjectionMode mode) {
    if (row < 0 || d < 0 || row >= m.rows() || d >= m.cols()) return {};
    const QString lower = QString(QChar(which)).toLower();
    QString src;
    switch (mode) {
        case ProjectionMode::Embeddings:
            src = QStringLiteral("x (no weights)");
            break;
        case ProjectionMode::QK:
            src = which == 'V' ? QStringLiteral("k (V = K)")
                               : QStringLiteral("x·W<sub>%1</sub>").arg(QChar(which));
            break;
        case ProjectionMode::QKV:
            src = QStringLiteral("x·W<sub>%1</sub>").arg(QChar(which));
            break;
    }
    return QStringLiteral("%1<sub>%2</sub>[%3] = (%4)[%3] = <b>%5</b>")
        .arg(lower, tokenHtml(label(tokens, row)))
        .arg(d)
        .arg(src, fmtNum(m(row, d)));
}

QString explainEmbeddingCell(const Trace& trace, bool target, const QStringList& tokens, int row,
                             int d, StepKind which) {
    const Mat& E = target ? trace.target_embeddings : trace.embeddings;
    const Mat& P = target ? trace.target_positional : trace.positional;
    const Mat& X = target ? trace.target_input : trace.input;
    if (row < 0 || d < 0 || row >= E.rows() || d >= E.cols()) return {};
    const QString tok = tokenHtml(label(tokens, row));
    const ModelConfig& c = trace.model->config;
    switch (which) {
        case StepKind::Embedding:
            return QStringLiteral("e<sub>%1</sub>[%2] = <b>%3</b>")
                .arg(tok)
                .arg(d)
                .arg(fmtNum(E(row, d)));
        case StepKind::Positional: {
            if (row >= P.rows()) return {};
            if (c.positional == PositionalKind::Sinusoidal) {
                const int i = d / 2;
                return QStringLiteral("PE(t=%1, %2) = %3(%1 / %4<sup>2·%5/%6</sup>) = <b>%7</b>")
                    .arg(row)
                    .arg(d)
                    .arg(d % 2 == 0 ? QStringLiteral("sin") : QStringLiteral("cos"))
                    .arg(static_cast<double>(c.pe_base))
                    .arg(i)
                    .arg(c.d_model)
                    .arg(fmtNum(P(row, d)));
            }
            return QStringLiteral("p<sub>%1</sub>[%2] = <b>%3</b>")
                .arg(row)
                .arg(d)
                .arg(fmtNum(P(row, d)));
        }
        default: {
            if (row >= X.rows() || row >= P.rows()) return {};
            if (c.embedding_norm || c.type_vocab_size > 0)
                return QStringLiteral("x<sub>%1</sub>[%2] = norm(e + pe)[%2] = <b>%3</b>")
                    .arg(tok)
                    .arg(d)
                    .arg(fmtNum(X(row, d)));
            return QStringLiteral("x<sub>%1</sub>[%2] = e + pe = %3 + %4 = <b>%5</b>")
                .arg(tok)
                .arg(d)
                .arg(fmtNum(E(row, d)), fmtFactor(P(row, d)), fmtNum(X(row, d)));
        }
    }
}

}  // namespace attn::ui
