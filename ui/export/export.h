#pragma once
// Layer rule (ui/export/): writes views. May include: views, session, widgets, common, engine, qt.
// Exports: any view as PNG, SVG or PDF at a chosen size and DPI; matrices as CSV or JSON; every
// head of a layer (or of the model) into a folder; the current view to the clipboard.
//
// Every writer goes through a QSaveFile: on any failure nothing is left behind, and the error
// comes back as an attn::Status with a message a person understands.
//
// Size and DPI: an image of width × height pixels at D dots per inch is laid out as the widget
// would be on a screen of D DPI, i.e. the widget is laid out at width·96/D × height·96/D logical
// pixels and drawn scaled up. So 96 DPI gives the most room, 192 DPI twice as large text and lines.
// PDF pages measure width/D × height/D inches. Plots (QCustomPlot) are drawn as vectors into SVG
// and PDF; other widgets are drawn through QWidget::render.

#include <Eigen/Dense>
#include <QImage>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>
#include <optional>

#include "attn/result.h"
#include "attn/trace.h"
#include "common/labelled_matrix.h"

class QWidget;

namespace attn::ui {

class HeatmapView;

enum class ExportFormat { Png, Svg, Pdf, Csv, Json };

QString toString(ExportFormat format);  ///< "png", "svg", "pdf", "csv", "json" (also the suffix)
/// Parses a format name, case-insensitive; false when unknown.
bool parseExportFormat(const QString& text, ExportFormat* out);
/// The format a file name's suffix asks for, if any.
std::optional<ExportFormat> formatFromPath(const QString& path);
bool isImageFormat(ExportFormat format);  ///< PNG, SVG, PDF

struct ImageOptions {
    int width = 1600;  ///< pixels (PNG), nominal pixels (SVG size, PDF page = width / dpi inches)
    int height = 1000;
    int dpi = 192;  ///< 96 = laid out at the pixel size; 192 = twice the text size
    QString title;  ///< SVG / PDF document title
};

/// Checks size and DPI; the message says what to change.
Status validate(const ImageOptions& options);

// --- images ----------------------------------------------------------------------------------

/// Renders widget (with its children) into a width × height image at options.dpi.
Result<QImage> renderImage(QWidget* widget, const ImageOptions& options);
/// Writes widget as PNG, SVG or PDF.
Status exportWidget(QWidget* widget, const QString& path, ExportFormat format,
                    const ImageOptions& options);

// --- matrices --------------------------------------------------------------------------------

/// CSV: a header row with the column labels (first cell empty), then one row per matrix row
/// starting with its label. Labels with commas, quotes, line breaks or edge spaces are quoted
/// ("" inside). Numbers round-trip floats; masked cells are written as -inf. UTF-8, no BOM.
QByteArray matrixToCsv(const LabelledMatrix& matrix);
/// JSON: {"name": ..., "rows": [...], "cols": [...], "values": [[...], ...]}; -inf and NaN
/// become null (JSON has no infinities).
QByteArray matrixToJson(const LabelledMatrix& matrix);
/// Writes a matrix as CSV or JSON; as PNG / SVG / PDF it is drawn as a heatmap.
Status exportMatrix(const LabelledMatrix& matrix, const QString& path, ExportFormat format,
                    const ImageOptions& options = {});

// --- attention heads -------------------------------------------------------------------------

/// Which matrix of a head: weights, scores, scaled, masked, or values (‖α_ij·v_j‖).
bool isHeadMatrixKind(const QString& what);
/// One head's matrix with query tokens as rows and key tokens as columns.
Result<LabelledMatrix> headMatrix(const Trace& trace, int layer, int head, const QString& what,
                                  bool decoder = false, bool cross = false);
/// A heatmap showing a head matrix with the colours that suit it (weights 0..1, scores signed).
std::unique_ptr<HeatmapView> makeHeatmap(const LabelledMatrix& matrix, const QString& what);
/// A grid of every head of one layer (titled "Head h"), for the "heads" image.
std::unique_ptr<QWidget> makeHeadGrid(const Trace& trace, int layer, const QString& what,
                                      bool decoder = false, bool cross = false);

struct AllHeadsOptions {
    int layer = -1;            ///< -1 = every layer of the stack
    QString what = "weights";  ///< see isHeadMatrixKind
    bool decoder = false;
    bool cross = false;
    ExportFormat format = ExportFormat::Png;
    ImageOptions image;
    std::function<bool(double)> progress;  ///< fraction done; return false to stop
};

/// Writes one file per layer × head into folder (created when missing), named
/// L{l}_H{h}_{what}.{suffix}. Returns the paths written. Stops at the first error.
Result<QStringList> exportAllHeads(const Trace& trace, const QString& folder,
                                   const AllHeadsOptions& options);

// --- clipboard -------------------------------------------------------------------------------

/// Puts the widget, as it looks now, on the clipboard as an image.
Status copyToClipboard(QWidget* widget);
/// Ctrl+C (QKeySequence::Copy) on view or its children copies target() to the clipboard.
void installCopyShortcut(QWidget* view, std::function<QWidget*()> target);

}  // namespace attn::ui
