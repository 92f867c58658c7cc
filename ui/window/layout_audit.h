#pragma once
// Layer rule (ui/window/): the window, controls, menus; no argv. May include: ui/*, engine, qt.
// The layout audit behind "screenshots as tests": walks every visible widget under a root and
// reports, from widget geometry alone, what a person in front of a projector would see wrong:
//   - dropped labels: a HeatmapView draws fewer row / column labels than its matrix has and
//     does not say so on screen (thinningNoticeShown());
//   - clipped text: a QLabel, button, tab, list item or combo box whose text is wider than the
//     room it has (QFontMetrics::horizontalAdvance), a wrapped label taller than its height, or
//     text elided with "…";
//   - an empty pane: the figures of a pane (a splitter, tab, dock or scroll area page) — their
//     heatmap cells with the margins their labels take, plus the pane's text — cover less than
//     minFill of the pane;
//   - a window larger than the screen it is meant for.
// It also lists each heatmap's cell size and label counts for the measured figures.

#include <QImage>
#include <QRect>
#include <QSize>
#include <QString>
#include <functional>
#include <vector>

class QWidget;

namespace attn::ui {

struct LayoutFinding {
    enum class Kind { DroppedLabels, ClippedText, EmptyPane, OffScreen, Overflow };
    Kind kind = Kind::ClippedText;
    QString widget;  ///< path of object names from the root: "viewTabs/stepFigure/stepHeatmap1"
    QString detail;  ///< what is wrong, with the numbers
    QRect rect;      ///< the widget in root coordinates
};

/// One visible heatmap as measured.
struct FigureStats {
    QString widget;
    QString title;
    int rows = 0, cols = 0;
    int shownRows = 0, shownCols = 0;
    bool notice = false;
    double cellPx = 0;
    QRect cells;  ///< in root coordinates
};

struct AuditOptions {
    double minFill = 0.5;  ///< a pane whose figures cover less than this is reported
    QSize screen;          ///< when set, a root larger than this is reported (OffScreen)
    int minPane = 120;     ///< panes smaller than this (either side) are not judged
};

struct LayoutAudit {
    std::vector<LayoutFinding> findings;
    std::vector<FigureStats> figures;

    bool ok() const { return findings.empty(); }
    int count(LayoutFinding::Kind kind) const;
    /// The smallest cell side of any heatmap (0 when there is none).
    double smallestCellPx() const;
    /// One line per finding: "clipped-text  viewTabs/stepTitle: …".
    QString text() const;
};

/// "dropped-labels", "clipped-text", "empty-pane", "off-screen".
QString toString(LayoutFinding::Kind kind);

/// Audits root and every widget under it that is visible to it (hidden tabs are skipped).
/// Lay the root out first (show it and process events).
LayoutAudit auditLayout(QWidget* root, const AuditOptions& options = {});

class MainWindow;

/// One state of the window as the sweep saw it.
struct SweepShot {
    QString view;   ///< tab title
    int step = -1;  ///< Step by step: the step index (0-based); -1 for other views
    QString stepTitle;
    QSize size;
    bool presentation = false;
    LayoutAudit audit;
    QImage image;  ///< QWidget::grab of the window (when asked)
};

struct SweepOptions {
    QSize size{1024, 768};
    bool presentation = false;
    bool grab = false;      ///< fill SweepShot::image
    bool everyStep = true;  ///< every step of Step by step (else the current one)
    QStringList skipViews;  ///< tab titles to leave out (e.g. "Learn", which trains)
    AuditOptions audit;     ///< screen is set to size when empty
    std::function<bool(const SweepShot&)> each;  ///< per shot; false stops the sweep
};

/// Puts window at options.size in the given mode (presentation fonts, not full screen, so that
/// the size holds), then shows every view (tab) and, in Step by step, every step, and audits
/// each. The window's session must have a trace. Returns how many shots were taken. Leaves the
/// window on the first tab, at step 1, in normal mode.
int sweepMainWindow(MainWindow& window, const SweepOptions& options);

/// Lets posted layout, resize and replot events run (a few rounds: heatmaps lay out in passes).
void settleEvents();

}  // namespace attn::ui
