#pragma once
// A labelled matrix heatmap (QCustomPlot colour map): rows = queries on the left, top row first,
// columns = keys along the top; numbers inside cells when they fit; a colour scale with values;
// a tooltip per cell from a provider; click/hover signals. Used by every view that shows a matrix
// and by the exports.

#include <QStringList>
#include <QWidget>
#include <functional>

#include <Eigen/Dense>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;

namespace attn::ui {

enum class ColorMapKind { Viridis, Cividis, Diverging, Greys };
QString toString(ColorMapKind kind);
/// Every colour map the user can pick, in menu order.
QList<ColorMapKind> allColorMaps();

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
    void setShowNumbers(bool on);           ///< numbers in cells when they fit (default on)
    void setFontScale(double scale);        ///< presentation mode
    void setHighlight(int row, int col);    ///< outline one cell (-1 = none)
    void setCellTooltipProvider(std::function<QString(int row, int col)> provider);

    const Eigen::MatrixXf& matrix() const { return m_matrix; }
    QStringList rowLabels() const { return m_rowLabels; }
    QStringList colLabels() const { return m_colLabels; }
    QString title() const { return m_title; }
    QCustomPlot* plot() const { return m_plot; }
    QSize sizeHint() const override;

signals:
    void cellClicked(int row, int col);
    void cellHovered(int row, int col);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void rebuild();
    bool cellAt(const QPoint& pos, int* row, int* col) const;

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
};

}  // namespace attn::ui
