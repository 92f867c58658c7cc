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
    /// Drawn above the figure (word-wrapped), e.g. captionText(); empty = no caption.
    QString caption;
    /// Cut the picture down to what is drawn (plus a small white frame): the view is laid out at
    /// width × height and the empty rest (a pane's unused lower half) is left out, so the file
    /// is at most width × height. Off: exactly width × height.
    bool crop = false;
    /// Text size relative to the figure: 1.5 = presentation mode (the view is laid out on a
    /// smaller canvas and drawn scaled up, so text, lines and labels are 1.5 times as large).
    double fontScale = 1.0;
};

/// What a figure shows, for its caption and its file name. Layer and head count from 0 as the
/// trace stores them; the caption and file name count from 1, as the window does.
struct FigureCaption {
    QString model;     ///< short name: "english", "untrained", "stories260k" (modelShortName)
    QString sentence;  ///< the input text
    int layer = -1;    ///< -1 = not about one layer
    int head = -1;     ///< -1 = not about one head
    bool decoder = false;
    bool cross = false;
    QString step;  ///< what is shown, as a person reads it: "Softmax → weights"
    QString slug;  ///< the same for a file name: "softmax" (stepSlug)
};

/// A model's name as a file name word: "English masked-word model" → "english", "English to
/// Spanish translation model" → "translation", "stories260K" → "stories260k".
QString modelShortName(const QString& modelName);
/// The file name word of a pipeline step: Weights → "softmax", Scores → "scores", …
QString stepSlug(StepKind kind);
/// "english · “the cat sat” · Layer 1 · Head 2 · Softmax → weights" (the parts that are set).
QString captionText(const FigureCaption& caption);
/// "english_L1_H2_softmax.png": model, 1-based layer and head, slug; only safe characters.
QString defaultFileName(const FigureCaption& caption, ExportFormat format);
/// The status line after an export: "Wrote english_L1_H2_softmax.png to /home/me/Pictures" or
/// "Wrote 8 files (L1_H1_weights.png …) to /tmp/heads".
QString writtenSummary(const QStringList& paths);

/// Checks size and DPI; the message says what to change.
Status validate(const ImageOptions& options);

// --- images ----------------------------------------------------------------------------------

/// Renders widget (with its children) into a width × height image at options.dpi.
Result<QImage> renderImage(QWidget* widget, const ImageOptions& options);
/// Writes widget as PNG, SVG or PDF. While it is drawn, the window's focus marks are left out:
/// every HeatmapView's highlighted cell and the step counter (a child named "stepCounter").
/// PNG, SVG and PDF show the same picture (same crop, same caption, same proportions).
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
/// A grid of every head of one layer (titled "Head h", counting from 1), for the "heads" image.
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
/// L{l}_H{h}_{what}.{suffix} with l and h counting from 1 (as the window does). Returns the
/// paths written. Stops at the first error.
Result<QStringList> exportAllHeads(const Trace& trace, const QString& folder,
                                   const AllHeadsOptions& options);

// --- clipboard -------------------------------------------------------------------------------

/// Puts the widget, as it looks now, on the clipboard as an image.
Status copyToClipboard(QWidget* widget);
/// Ctrl+C (QKeySequence::Copy) on view or its children copies target() to the clipboard.
void installCopyShortcut(QWidget* view, std::function<QWidget*()> target);

}  // namespace attn::ui
