#pragma once
// Layer rule (ui/widgets/): draw what they are given. May include: common, engine, qt.
// A labelled matrix heatmap (QCustomPlot colour map): rows = queries on the left, top row first,
// columns = keys along the top; numbers inside cells when they fit; a colour scale with values;
// a tooltip per cell from a provider; click/hover signals. Used by every view that shows a matrix
// and by the exports.
//
// Labels: every row and column is labelled while a readable font allows (the font shrinks and
// column labels turn first); beyond that one label in k is shown and a notice under the cells
// says so. Zoom: Ctrl+wheel or a pinch always zooms around the cursor; the plain wheel zooms
// only while labels are left out or the view is zoomed (else it scrolls the page); drag pans,
// double-click or 0 resets; labels come back as the zoomed cells grow.
// Exports: drawing through QCustomPlot::toPainter leaves out the hover and focus frames.

#include <Eigen/Dense>
#include <QSharedPointer>
#include <QStringList>
#include <QWidget>
#include <algorithm>
#include <functional>

#include "common/colormaps.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;
class QCPItemText;
class QCPAxisTickerText;
class QCPMarginGroup;
class QWheelEvent;

namespace attn::ui {

class CellOverlayLayer;

class HeatmapView : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapView(QWidget* parent = nullptr);

    /// m is (rows, cols); labels may be empty (then indices are shown). -inf cells (masked) are
    /// drawn in a neutral grey with "−∞" when numbers are shown.
    void setMatrix(const Eigen::MatrixXf& m, const QStringList& rowLabels,
                   const QStringList& colLabels);
    void setTitle(const QString& title);
    void setAxisTitles(const QString& rows, const QString& cols);
    /// Sequential maps (viridis, cividis, greys) or a diverging map centred on 0.
    void setColorMap(ColorMapKind kind);
    /// When on, the colour range is symmetric around 0 (for signed scores) whatever map is set.
    void setSymmetricRange(bool on);
    /// Fixed colour range (e.g. 0..1 for weights); unset = the data's min/max.
    void setRange(double lo, double hi);
    void clearRange();
    void setShowNumbers(bool on);                 ///< numbers in cells when they fit (default on)
    void setFontScale(double scale);              ///< presentation mode
    void setHighlight(int row, int col);          ///< outline one cell (-1 = none)
    int highlightRow() const { return m_hlRow; }  ///< exports hide the outline and restore it
    int highlightCol() const { return m_hlCol; }
    void setCellTooltipProvider(std::function<QString(int row, int col)> provider);
    /// Keep cells square for (T, T) matrices and within 3:1 otherwise (default on); off fills
    /// the widget.
    void setKeepAspect(bool on);
    /// Square cells of at most px pixels (0 = as large as the widget allows). Views with several
    /// matrices give them one size so shared rows and columns line up.
    void setCellSize(double px);
    /// Width and height the plot needs beyond the cells (labels, title, colour scale).
    QSize marginsAroundCells() const;
    /// What the colour scale measures ("weight", "score"), written along it.
    void setColorBarLabel(const QString& label);
    QString colorBarLabel() const { return m_colorBarLabel; }
    /// Whether exports (QCustomPlot::toPainter) draw the focus highlight too (default off: a
    /// figure carries none of the window's focus marks). Hover is never exported.
    void setFocusMarksInExport(bool on);

    /// Zoom: 1 = whole matrix. factor > 1 zooms in around `at` (widget coordinates; a null
    /// point = the centre of the cells).
    void zoomBy(double factor, QPointF at = {});
    void resetZoom();
    double zoom() const;
    /// The cells on screen: x = first column, y = first row, width × height cells.
    QRect visibleCells() const;

    const Eigen::MatrixXf& matrix() const { return m_matrix; }
    QStringList rowLabels() const { return m_rowLabels; }
    QStringList colLabels() const { return m_colLabels; }
    QString title() const { return m_title; }
    /// Whether the title is drawn whole (shrunk or broken in two lines if it had to be).
    bool titleFits() const { return m_titleFits; }
    /// The title as drawn: its point size and its lines (a long title in a narrow plot shrinks,
    /// then breaks in two).
    double titlePointSize() const;
    QString titleAsDrawn() const;
    QCustomPlot* plot() const { return m_plot; }
    QSize sizeHint() const override;

    ColorMapKind colorMap() const { return m_kind; }
    bool showNumbers() const { return m_showNumbers; }
    /// The colour range in use after the last setMatrix (data, fixed or symmetric).
    double rangeLow() const { return m_useLo; }
    double rangeHigh() const { return m_useHi; }
    /// Whether numbers currently fit in the cells at the widget's size.
    bool numbersFit() const;
    /// How many row / column labels are drawn now (fewer than the matrix has = thinned).
    int shownRowLabels() const { return m_shownRowLabels; }
    int shownColLabels() const { return m_shownColLabels; }
    /// Whether the view says on screen that labels were left out (zoom to reach them).
    bool thinningNoticeShown() const { return m_thinningNotice; }
    /// The cells' rectangle in this widget's coordinates (empty before the first layout).
    QRect cellsRect() const;
    /// The text under the cells that says labels are left out or the view is zoomed ("" = none).
    QString noticeText() const { return m_noticeText; }
    /// Point size of the token labels / the cell numbers now (after shrinking to fit).
    double labelFontPt() const;
    double numberFontPt() const;
    /// The colour scale: horizontal (under the cells) for short strips, else vertical.
    bool colorBarHorizontal() const { return m_barHorizontal; }
    /// Tick labels of the colour scale and where they are drawn (widget coordinates).
    QStringList colorBarTickLabels() const;
    QList<QRect> colorBarTickLabelRects() const;
    /// Whether the row title is written across (a strip too short to write it along the rows).
    bool rowTitleAcross() const { return m_rowTitleAcross; }
    /// The smaller side of one cell in pixels.
    double cellSizePx() const { return std::min(cellWidthPx(), cellHeightPx()); }
    /// The tooltip a cell shows (the provider's text, or "row × col = value").
    QString cellTooltip(int row, int col) const;
    /// Short text for a value as it appears in a cell ("0.42", "−∞").
    static QString formatValue(float v);

signals:
    void cellClicked(int row, int col);
    void cellHovered(int row, int col);  ///< (-1, -1) when the mouse leaves the matrix
    /// After the plot has painted new content (benchmarks wait for it).
    void repainted();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    friend class CellOverlayLayer;
    void rebuild();
    /// Lays the plot out now, from the widget's size and the content only (never from the
    /// previous layout), so the same matrix at the same size always gets the same labels.
    /// refit = size the plot around the cells again (else keep its geometry: zoom and pan).
    void relayout(bool refit = true);
    void runPlotLayout();
    /// Chooses label fonts, rotation, which labels, the colour-bar side and ticks and the notice
    /// for cells of cw × ch pixels.
    void planLabels(double cw, double ch);
    void planColorBar(double lengthPx);
    void setBarHorizontal(bool on);
    void styleScaleAxis();
    void contentChanged();
    void placeRowTitle();
    bool fitTitle(int room);  ///< true when the title's font or lines changed
    void applyView();
    void panBy(QPoint deltaPx);
    bool wheelZooms(const QWheelEvent* e) const;
    /// Point size of token labels and axis titles before they shrink to fit small cells.
    double labelPointSize() const { return std::max(7.0, 9.0 * m_fontScale); }
    void replotOverlay();
    void requestReplot();
    void applyFonts();
    bool cellAt(const QPoint& pos, int* row, int* col) const;
    double cellWidthPx() const;
    double cellHeightPx() const;

    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    Eigen::MatrixXf m_matrix;
    QStringList m_rowLabels, m_colLabels;
    QString m_title, m_rowTitle, m_colTitle;
    ColorMapKind m_kind = ColorMapKind::Viridis;
    bool m_symmetric = false;
    bool m_fixedRange = false;
    double m_lo = 0, m_hi = 1;
    bool m_showNumbers = true;
    double m_fontScale = 1.0;
    int m_hlRow = -1, m_hlCol = -1;
    std::function<QString(int, int)> m_tooltip;
    QCPTextElement* m_titleElement = nullptr;
    QCPTextElement* m_notice = nullptr;
    QCPItemText* m_rowTitleItem = nullptr;
    QSharedPointer<QCPAxisTickerText> m_scaleTicker;
    QCPMarginGroup* m_vGroup = nullptr;  // cells and a vertical colour bar: same top, bottom
    QCPMarginGroup* m_hGroup = nullptr;  // cells and a horizontal colour bar: same left, right
    QString m_colorBarLabel;
    bool m_barHorizontal = false;
    bool m_rowTitleAcross = false;
    bool m_titleFits = true;
    bool m_marksInExport = false;
    QString m_noticeText;
    bool m_inLayout = false;
    // The visible part of the matrix in cell coordinates (cell i spans i − 0.5 .. i + 0.5).
    double m_viewX0 = 0, m_viewX1 = 0, m_viewY0 = 0, m_viewY1 = 0;
    bool m_zoomed = false;
    QPoint m_pressPos;
    bool m_pressed = false, m_dragging = false;
    int m_pressRow = -1, m_pressCol = -1;
    QPoint m_lastDragPos;
    QStringList m_numberSamples;  // the widest texts a cell can show (extremes, −∞)
    bool m_laidOut = false;
    CellOverlayLayer* m_overlay = nullptr;
    double m_useLo = 0, m_useHi = 1;
    int m_hoverRow = -1, m_hoverCol = -1;
    bool m_everPlotted = false;
    bool m_replotPending = false;
    bool m_keepAspect = true;
    double m_cellSize = 0;
    mutable double m_numberPt = 8.0;  // chosen by numbersFit()
    QSize m_extra{110, 90};           // room around the cells in the last layout
    QSize m_extraSeen;                // the most room needed since the content was set
    int m_cellSizeCalls = 0;          // setCellSize calls since the content was set
    int m_shownRowLabels = 0, m_shownColLabels = 0;
    int m_rowStep = 1, m_colStep = 1;
    bool m_thinningNotice = false;
    int m_lastShapeRows = -1, m_lastShapeCols = -1;
};

}  // namespace attn::ui
