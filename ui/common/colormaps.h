#pragma once
// Layer rule (ui/common/): plain values every UI layer shares. May include: engine, qt.
// Colour maps shared by every view: colour-blind-safe sequential maps (viridis, cividis), a
// diverging blue–white–red map for signed values centred on 0, and greys. The same stops feed
// QCustomPlot gradients (heatmaps) and plain QImage painting (thumbnails, lines).

#include <Eigen/Dense>
#include <QColor>
#include <QImage>
#include <QList>
#include <QString>
#include <QVector>

class QCPColorGradient;

namespace attn::ui {

enum class ColorMapKind { Viridis, Cividis, Diverging, Greys };
QString toString(ColorMapKind kind);
/// Every colour map the user can pick, in menu order.
QList<ColorMapKind> allColorMaps();

/// The gradient for QCustomPlot colour maps; NaN (masked, −∞) cells are drawn in maskColor().
QCPColorGradient makeGradient(ColorMapKind kind);

/// Colour at t in [0, 1] (clamped) along the map.
QColor colorAt(ColorMapKind kind, double t);

/// Neutral grey used for masked (−∞) cells everywhere.
QColor maskColor();

/// Black or white, whichever reads better on background.
QColor textColorOn(const QColor& background);

/// A 256-entry lookup table (ARGB) for fast image painting.
const QVector<QRgb>& colorTable(ColorMapKind kind);

/// m (rows, cols) as an image with one pixel per cell, values mapped from [lo, hi];
/// non-finite cells get maskColor().
QImage matrixImage(const Eigen::MatrixXf& m, ColorMapKind kind, double lo, double hi);

/// Parses the name written by toString(ColorMapKind); false when unknown.
bool parseColorMap(const QString& name, ColorMapKind* out);

}  // namespace attn::ui
