#pragma once
// Tooltip text that spells out the arithmetic behind one cell, e.g.
//   q_milk · k_drank = 0.31·0.12 + 0.50·(−0.20) + … = 2.41;  ÷ √4 = 1.21;  softmax → 0.42
// Every number comes from the trace; these functions only lay the terms out (rich text).

#include <QString>
#include <QStringList>

#include "attn/trace.h"

namespace attn::ui {

/// A number as the tooltips write it: 2 decimals, U+2212 minus, "−∞" for masked.
QString fmtNum(float v);
/// Same, in parentheses when negative (for products: "0.31·(−0.20)").
QString fmtFactor(float v);
/// Escaped token text for rich text.
QString tokenHtml(const QString& token);

/// Terms a_0·b_0 + a_1·b_1 + … (all of them for short vectors, the first and last few otherwise).
QString dotTerms(const Eigen::VectorXf& a, const Eigen::VectorXf& b);

/// A score / scaled / masked / weight cell (i = query row, j = key column) of one head.
QString explainAttentionCell(const HeadTrace& head, const AttentionConfig& config,
                             const QStringList& queries, const QStringList& keys, int i, int j,
                             StepKind stage);

/// z_i[d] = Σ_j A_ij·v_j[d] for the weighted-sum step.
QString explainWeightedSumCell(const HeadTrace& head, const QStringList& queries,
                               const QStringList& keys, int i, int d);

/// Q / K / V cell: which row of which projection.
QString explainProjectionCell(char which, const Mat& m, const QStringList& tokens, int row, int d,
                              ProjectionMode mode);

/// Embedding (E), positional (PE) and input (X = E + PE) cells.
QString explainEmbeddingCell(const Trace& trace, bool target, const QStringList& tokens, int row,
                             int d, StepKind which);

}  // namespace attn::ui
