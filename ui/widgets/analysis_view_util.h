#pragma once
// Small pieces shared by the analysis views (Query·key inside, Weighted value sums, Positional,
// Why √d_k): token pickers, series colours, number formatting, plot styling.

#include <QColor>
#include <QString>
#include <QStringList>

class QComboBox;
class QCustomPlot;
class QCPAxis;
class QHBoxLayout;
class QLabel;
class QVBoxLayout;
class QWidget;

namespace attn::ui::viewutil {

/// Fills a token picker with "i · token" entries and selects current, without emitting signals.
void fillTokenPicker(QComboBox* picker, const QStringList& labels, int current);

/// Colours that stay apart for colour-blind readers (Okabe–Ito).
QColor seriesColor(int index);

/// A number as the views print it: fixed with `decimals`, −∞ for minus infinity, a real minus sign.
QString formatNumber(double value, int decimals = 3);

/// Basic look for a plot: white background, readable fonts, no interactions.
void stylePlot(QCustomPlot* plot);
/// Moves the plot's legend out of the axis rect into one line above it (row 0 of the layout),
/// so it never hides data.
void legendAbove(QCustomPlot* plot);
/// Puts text labels at 0..n-1 on axis (rotated when there are many or they are long).
void setTextTicks(QCPAxis* axis, const QStringList& labels);

/// A bold heading label of the views.
QLabel* makeHeading(QWidget* parent);
/// A label for explanatory, selectable rich text.
QLabel* makeNote(QWidget* parent);

/// Adds "label" and a token picker sized to its entries to a row of controls.
QComboBox* addTokenPicker(QHBoxLayout* controls, QWidget* parent, const QString& label,
                          const QString& tooltip);

/// The white figure area of a view (what export and copy capture), with its heading on top.
/// Returns the widget; *layout receives its vertical layout and *heading the heading label.
QWidget* makeFigure(QWidget* parent, QVBoxLayout** layout, QLabel** heading);

}  // namespace attn::ui::viewutil
