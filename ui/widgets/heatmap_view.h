#pragma once
// Layer rule (ui/widgets/): draw what they are given. May include: common, engine, qt.
// A labelled matrix heatmap (QCustomPlot colour map): rows = queries on the left, top row first,
// columns = keys along the top; numbers inside cells when they fit; a colour scale with values;
// a tooltip per cell from a provider; click/hover signals. Used by every view that shows a matrix
// and by the exports.

#include <Eigen/Dense>
#include <QStringList>
#include <QWidget>
#include <algorithm>
#include <functional>

#include "common/colormaps.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;

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

    const Eigen::MatrixXf& matrix() const { return m_matrix; }
    QStringList rowLabels() const { return m_rowLabels; }
    QStringList colLabels() const { return m_colLabels; }
    QString title() const { return m_title; }
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
    void updateTicks();
    /// Point size of token labels and axis titles before they shrink to fit small cells.
    double labelPointSize() const { return std::max(7.0, 9.0 * m_fontScale); }
    void replotOverlay();
    void requestReplot();
    bool layoutPlot();  ///< true when the plot's geometry changed
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
    CellOverlayLayer* m_overlay = nullptr;
    double m_useLo = 0, m_useHi = 1;
    int m_hoverRow = -1, m_hoverCol = -1;
    bool m_everPlotted = false;
    bool m_replotPending = false;
    bool m_keepAspect = true;
    double m_cellSize = 0;
    mutable double m_numberPt = 8.0;  // chosen by numbersFit()
    int m_layoutPasses = 0;
    int m_shownRowLabels = 0, m_shownColLabels = 0;
    bool m_thinningNotice = false;
    int m_lastShapeRows = -1, m_lastShapeCols = -1;
    int m_lastTickRows = -1, m_lastTickCols = -1;  // cache key of updateTicks
    double m_lastTickCellW = -1, m_lastTickCellH = -1;
};

}  // namespace attn::ui
