#pragma once
// A plain value shared by the views and the exports.

#include <Eigen/Dense>
#include <QString>
#include <QStringList>

namespace attn::ui {

/// A matrix with its row and column labels, as the views and the exports pass it around.
struct LabelledMatrix {
    Eigen::MatrixXf values;  // (rows, cols): row = query token, column = key token (for attention)
    QStringList rows;        ///< size rows() or empty (indices are written)
    QStringList cols;        ///< size cols() or empty
    QString name;            ///< e.g. "L0 H1 weights"; titles and file names
};

}  // namespace attn::ui
