#include "window/layout_audit.h"

#include <qcustomplot.h>

#include <QAbstractButton>
#include <QAbstractScrollArea>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyle>
#include <QStyleOptionComboBox>
#include <QTabBar>
#include <QTextDocument>
#include <QToolButton>
#include <algorithm>
#include <map>
#include <set>

#include "session/session.h"
#include "views/generation_panel.h"
#include "views/prediction_view.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"
#include "window/main_window.h"

namespace attn::ui {

namespace {

const QChar kEllipsis(0x2026);

// "viewTabs/stepFigure/stepHeatmap1": the named ancestors up to the root, then the widget (its
// class when it has no name).
QString pathOf(const QWidget* w, const QWidget* root) {
    QStringList parts;
    parts << (w->objectName().isEmpty() ? QString::fromLatin1(w->metaObject()->className())
                                        : w->objectName());
    for (const QWidget* p = w->parentWidget(); p && p != root; p = p->parentWidget())
        if (!p->objectName().isEmpty() && !p->objectName().startsWith(QLatin1String("qt_")))
            parts.prepend(p->objectName());
    return parts.join(QLatin1Char('/'));
}

QRect inRoot(const QWidget* w, const QWidget* root, QRect r) {
    return QRect(w->mapTo(root, r.topLeft()), r.size());
}

// The widest line of plain text.
int textWidth(const QFontMetrics& fm, const QString& text) {
    int widest = 0;
    for (const QString& line : text.split(QLatin1Char('\n')))
        widest = std::max(widest, fm.horizontalAdvance(line));
    return widest;
}

QString withoutMnemonics(QString s) {
    s.replace(QStringLiteral("&&"), QStringLiteral("\x01"));
    s.remove(QLatin1Char('&'));
    s.replace(QStringLiteral("\x01"), QStringLiteral("&"));
    return s;
}

QString shortText(const QString& s) {
    const QString one = s.simplified();
    return one.size() > 40 ? one.left(39) + kEllipsis : one;
}

class Auditor {
public:
    Auditor(QWidget* root, const AuditOptions& o) : m_root(root), m_o(o) {}

    LayoutAudit run() {
        if (m_o.screen.isValid() &&
            (m_root->width() > m_o.screen.width() || m_root->height() > m_o.screen.height()))
            add(LayoutFinding::Kind::OffScreen, m_root,
                QStringLiteral("the window is %1×%2 but the screen is %3×%4 (minimum size %5×%6)")
                    .arg(m_root->width())
                    .arg(m_root->height())
                    .arg(m_o.screen.width())
                    .arg(m_o.screen.height())
                    .arg(m_root->minimumSizeHint().expandedTo(m_root->minimumSize()).width())
                    .arg(m_root->minimumSizeHint().expandedTo(m_root->minimumSize()).height()));
        visit(m_root);
        judgePanes();
        return std::move(m_audit);
    }

private:
    void add(LayoutFinding::Kind kind, const QWidget* w, const QString& detail) {
        m_audit.findings.push_back({kind, pathOf(w, m_root), detail, inRoot(w, m_root, w->rect())});
    }

    void visit(QWidget* w) {
        if (w != m_root && (w->isWindow() || !w->isVisibleTo(m_root))) return;
        if (w->width() <= 0 || w->height() <= 0) return;
        if (auto* h = qobject_cast<HeatmapView*>(w)) {
            heatmap(h);
            return;  // its plot is drawn, not made of widgets
        }
        if (auto* plot = qobject_cast<QCustomPlot*>(w)) {
            addFigure(plot, plot->rect());
            return;
        }
        if (auto* area = qobject_cast<QScrollArea*>(w)) scrollArea(area);
        if (auto* l = qobject_cast<QLabel*>(w)) label(l);
        if (auto* b = qobject_cast<QAbstractButton*>(w)) button(b);
        if (auto* t = qobject_cast<QTabBar*>(w)) tabs(t);
        if (auto* list = qobject_cast<QListWidget*>(w)) listItems(list);
        if (auto* c = qobject_cast<QComboBox*>(w)) combo(c);
        for (QObject* o : w->children())
            if (auto* child = qobject_cast<QWidget*>(o)) visit(child);
    }

    // A view or panel wider than its pane: it has to be scrolled sideways to be seen whole
    // (the figure's right edge, the buttons at the end of a row are off the pane).
    void scrollArea(QScrollArea* area) {
        const QWidget* inner = area->widget();
        if (!area->widgetResizable() || !inner || !inner->isVisibleTo(area)) return;
        const int need = inner->minimumSizeHint().expandedTo(inner->minimumSize()).width();
        const int have = area->viewport()->width();
        if (need > have + 1)
            add(LayoutFinding::Kind::Overflow, area,
                QStringLiteral("“%1” needs %2 px across, its pane has %3 (scrolls sideways)")
                    .arg(inner->objectName().isEmpty()
                             ? QString::fromLatin1(inner->metaObject()->className())
                             : inner->objectName())
                    .arg(need)
                    .arg(have));
    }

    // --- dropped labels and the figures' sizes ---

    void heatmap(HeatmapView* h) {
        const int rows = static_cast<int>(h->matrix().rows());
        const int cols = static_cast<int>(h->matrix().cols());
        if (rows == 0 || cols == 0) return;
        FigureStats s;
        s.widget = pathOf(h, m_root);
        s.title = h->title();
        s.rows = rows;
        s.cols = cols;
        s.shownRows = h->shownRowLabels();
        s.shownCols = h->shownColLabels();
        s.notice = h->thinningNoticeShown();
        s.cellPx = h->cellSizePx();
        s.cells = inRoot(h, m_root, h->cellsRect());
        m_audit.figures.push_back(s);
        if ((s.shownRows < rows || s.shownCols < cols) && !s.notice)
            add(LayoutFinding::Kind::DroppedLabels, h,
                QStringLiteral("“%1” shows %2 of %3 row and %4 of %5 column labels and does not "
                               "say so")
                    .arg(shortText(h->title()))
                    .arg(s.shownRows)
                    .arg(rows)
                    .arg(s.shownCols)
                    .arg(cols));
        if (!h->title().isEmpty() && !h->titleFits())
            add(LayoutFinding::Kind::ClippedText, h,
                QStringLiteral("the title “%1” is wider than its plot (%2 px)")
                    .arg(shortText(h->title()))
                    .arg(h->width()));
        // The figure: the cells and the labels, titles and colour scale around them (rows on the
        // left, columns and the title on top, the scale on the right).
        const QRect cells = h->cellsRect();
        if (cells.isEmpty()) return;
        const QSize m = h->marginsAroundCells();
        const QRect figure = cells
                                 .adjusted(-m.width() * 6 / 10, -m.height() * 6 / 10,
                                           m.width() * 4 / 10, m.height() * 4 / 10)
                                 .intersected(h->rect());
        addFigure(h, figure);
    }

    void addFigure(QWidget* w, const QRect& r) {
        QWidget* pane = paneOf(w);
        m_panes[pane].push_back(inPane(w, r));
        for (QWidget* a = w->parentWidget(); a && a != pane; a = a->parentWidget())
            m_figureHolders.insert(a);
    }

    // A label is part of a figure (its title, formula, explanation) when it shares a holder with
    // one below the pane; a label of the pane's own controls row ("Head:") is not.
    bool besideFigure(const QWidget* label, const QWidget* pane) const {
        for (QWidget* a = label->parentWidget(); a && a != pane; a = a->parentWidget())
            if (m_figureHolders.count(a)) return true;
        return false;
    }

    // --- clipped text ---

    void clipped(const QWidget* w, const QString& text, int need, int have) {
        add(LayoutFinding::Kind::ClippedText, w,
            QStringLiteral("“%1” needs %2 px, has %3").arg(shortText(text)).arg(need).arg(have));
    }

    // A widget whose parent cuts it (it reaches past the edge of what can be seen) clips its
    // text even when the widget itself is wide enough.
    int visibleWidth(const QWidget* w) const {
        const QRegion visible = w->visibleRegion();
        return visible.isEmpty() ? w->width() : visible.boundingRect().width();
    }

    void label(QLabel* l) {
        const QString text = l->text();
        if (text.isEmpty()) {
            return;
        }
        const QRect cr =
            l->contentsRect().adjusted(l->margin(), l->margin(), -l->margin(), -l->margin());
        const int have = std::min(cr.width() - std::max(0, l->indent()), visibleWidth(l));
        const bool rich = l->textFormat() == Qt::RichText ||
                          (l->textFormat() == Qt::AutoText && Qt::mightBeRichText(text));
        QString plain = text;
        int need = 0;
        if (rich) {
            QTextDocument doc;
            doc.setDefaultFont(l->font());
            doc.setDocumentMargin(0);
            doc.setHtml(text);
            plain = doc.toPlainText();
            need = static_cast<int>(std::ceil(doc.idealWidth()));
        } else {
            need = textWidth(l->fontMetrics(), text);
        }
        if (l->wordWrap()) {
            const int height = l->heightForWidth(l->width());
            if (height > l->height() + 2)
                add(LayoutFinding::Kind::ClippedText, l,
                    QStringLiteral("“%1” wraps to %2 px, has %3 px of height")
                        .arg(shortText(plain))
                        .arg(height)
                        .arg(l->height()));
        } else if (need > have + 1) {
            clipped(l, plain, need, have);
        }
        // Text elided by the view, with the full text kept in the tooltip.
        if (plain.trimmed().endsWith(kEllipsis) && l->toolTip().size() > plain.trimmed().size())
            add(LayoutFinding::Kind::ClippedText, l,
                QStringLiteral("“%1” is elided").arg(shortText(plain)));
        // Text is content of the pane it is in (a title, a formula, an explanation).
        // Only where the text is: an operator "+" centred in a tall label covers a line, not
        // the label's height.
        int textHeight = 0;
        if (l->wordWrap())
            textHeight = l->heightForWidth(l->width());
        else if (rich)
            textHeight =
                l->fontMetrics().height() * (1 + static_cast<int>(plain.count(QLatin1Char('\n'))));
        else
            textHeight =
                l->fontMetrics().height() * (1 + static_cast<int>(text.count(QLatin1Char('\n'))));
        const QSize textSize(std::min(need, cr.width()), std::min(textHeight, cr.height()));
        const QRect where = QStyle::alignedRect(l->layoutDirection(), l->alignment(), textSize, cr);
        m_labels.push_back({l, inPane(l, where)});
    }

    void button(QAbstractButton* b) {
        const QString text = withoutMnemonics(b->text());
        if (text.isEmpty()) return;
        if (auto* t = qobject_cast<QToolButton*>(b);
            t && t->toolButtonStyle() == Qt::ToolButtonIconOnly)
            return;
        int need = textWidth(b->fontMetrics(), text);
        if (!b->icon().isNull()) need += b->iconSize().width() + 4;
        const QStyle* st = b->style();
        if (qobject_cast<QCheckBox*>(b))
            need += st->pixelMetric(QStyle::PM_IndicatorWidth, nullptr, b) +
                    st->pixelMetric(QStyle::PM_CheckBoxLabelSpacing, nullptr, b);
        else if (qobject_cast<QRadioButton*>(b))
            need += st->pixelMetric(QStyle::PM_ExclusiveIndicatorWidth, nullptr, b) +
                    st->pixelMetric(QStyle::PM_RadioButtonLabelSpacing, nullptr, b);
        else if (qobject_cast<QPushButton*>(b))
            // The label is drawn inside the frame (SE_PushButtonContents); the margins of
            // sizeHint are comfort, not room the text needs.
            need += 2 * st->pixelMetric(QStyle::PM_DefaultFrameWidth, nullptr, b);
        else
            need += 4;
        const int have = std::min(b->width(), visibleWidth(b));
        if (need > have + 1) clipped(b, text, need, have);
    }

    void tabs(QTabBar* bar) {
        const QFontMetrics fm = bar->fontMetrics();
        for (int i = 0; i < bar->count(); ++i) {
            if (!bar->isTabVisible(i)) continue;
            const QString text = withoutMnemonics(bar->tabText(i));
            const QRect r = bar->tabRect(i);
            int need = fm.horizontalAdvance(text) + 4;
            if (!bar->tabIcon(i).isNull()) need += bar->iconSize().width() + 4;
            const QRect seen = r.intersected(bar->rect());
            if (seen.width() < r.width() - 1)
                m_audit.findings.push_back(
                    {LayoutFinding::Kind::ClippedText, pathOf(bar, m_root),
                     QStringLiteral("tab “%1” is cut by the edge of the tab bar (%2 of %3 px "
                                    "seen)")
                         .arg(shortText(text))
                         .arg(std::max(0, seen.width()))
                         .arg(r.width()),
                     inRoot(bar, m_root, r)});
            else if (need > r.width())
                m_audit.findings.push_back({LayoutFinding::Kind::ClippedText, pathOf(bar, m_root),
                                            QStringLiteral("tab “%1” needs %2 px, has %3")
                                                .arg(shortText(text))
                                                .arg(need)
                                                .arg(r.width()),
                                            inRoot(bar, m_root, r)});
        }
    }

    void listItems(QListWidget* list) {
        // Long items that can be scrolled to, or that wrap, are not cut.
        if (list->wordWrap() || list->horizontalScrollBar()->isVisible()) return;
        const int have = list->viewport()->width();
        for (int i = 0; i < list->count(); ++i) {
            const QListWidgetItem* item = list->item(i);
            if (item->isHidden()) continue;
            // An item without a font of its own is drawn in the list's.
            const QFont font = item->data(Qt::FontRole).isValid() ? item->font() : list->font();
            int need = textWidth(QFontMetrics(font), item->text()) + 8;
            if (!item->icon().isNull()) need += list->iconSize().width() + 4;
            if (need > have + 1)
                m_audit.findings.push_back({LayoutFinding::Kind::ClippedText, pathOf(list, m_root),
                                            QStringLiteral("item “%1” needs %2 px, has %3")
                                                .arg(shortText(item->text()))
                                                .arg(need)
                                                .arg(have),
                                            inRoot(list, m_root, list->visualItemRect(item))});
        }
    }

    void combo(QComboBox* c) {
        const QString text = c->currentText();
        if (text.isEmpty()) return;
        QStyleOptionComboBox opt;
        opt.initFrom(c);
        opt.editable = c->isEditable();
        opt.currentText = text;
        opt.rect = c->rect();
        const QRect field =
            c->style()->subControlRect(QStyle::CC_ComboBox, &opt, QStyle::SC_ComboBoxEditField, c);
        int need = c->fontMetrics().horizontalAdvance(text);
        if (!c->itemIcon(c->currentIndex()).isNull()) need += c->iconSize().width() + 4;
        const int have = std::min(field.width(), visibleWidth(c));
        if (need > have + 1) clipped(c, text, need, have);
    }

    // --- empty panes ---

    // The pane a widget is in: the page of a splitter, tab stack or dock, the visible part of a
    // scroll area, or the root.
    QWidget* paneOf(QWidget* w) const {
        QWidget* a = w;
        while (a && a != m_root) {
            QWidget* p = a->parentWidget();
            if (!p) break;
            if (qobject_cast<QSplitter*>(p) || qobject_cast<QStackedWidget*>(p) ||
                qobject_cast<QDockWidget*>(p))
                return a;
            if (auto* sa = qobject_cast<QAbstractScrollArea*>(p); sa && sa->viewport() == a)
                return a;
            a = p;
        }
        return m_root;
    }

    QRect inPane(QWidget* w, QRect r) const {
        QWidget* pane = paneOf(w);
        return QRect(w->mapTo(pane, r.topLeft()), r.size()).intersected(pane->rect());
    }

    void judgePanes() {
        for (auto& [pane, figures] : m_panes) {
            if (pane->width() < m_o.minPane || pane->height() < m_o.minPane) continue;
            QRect content;
            for (const QRect& r : figures) content = content.united(r);
            for (const auto& [label, r] : m_labels)
                if (paneOf(label) == pane && besideFigure(label, pane)) content = content.united(r);
            content = content.intersected(pane->rect());
            const double fill = static_cast<double>(content.width()) * content.height() /
                                (static_cast<double>(pane->width()) * pane->height());
            if (fill < m_o.minFill)
                add(LayoutFinding::Kind::EmptyPane, pane,
                    QStringLiteral("its figures cover %1% of the %2×%3 pane (%4×%5 used)")
                        .arg(static_cast<int>(std::lround(fill * 100)))
                        .arg(pane->width())
                        .arg(pane->height())
                        .arg(content.width())
                        .arg(content.height()));
        }
    }

    QWidget* m_root;
    AuditOptions m_o;
    LayoutAudit m_audit;
    std::map<QWidget*, std::vector<QRect>> m_panes;   // pane → its figures, in its coordinates
    std::vector<std::pair<QLabel*, QRect>> m_labels;  // every label's text, in its pane
    std::set<QWidget*> m_figureHolders;               // ancestors of a figure below its pane
};

}  // namespace

QString toString(LayoutFinding::Kind kind) {
    switch (kind) {
        case LayoutFinding::Kind::DroppedLabels:
            return QStringLiteral("dropped-labels");
        case LayoutFinding::Kind::ClippedText:
            return QStringLiteral("clipped-text");
        case LayoutFinding::Kind::EmptyPane:
            return QStringLiteral("empty-pane");
        case LayoutFinding::Kind::OffScreen:
            return QStringLiteral("off-screen");
        case LayoutFinding::Kind::Overflow:
            return QStringLiteral("overflow");
    }
    return {};
}

int LayoutAudit::count(LayoutFinding::Kind kind) const {
    return static_cast<int>(
        std::count_if(findings.begin(), findings.end(),
                      [kind](const LayoutFinding& f) { return f.kind == kind; }));
}

double LayoutAudit::smallestCellPx() const {
    double smallest = 0;
    for (const FigureStats& f : figures)
        if (f.cellPx > 0 && (smallest == 0 || f.cellPx < smallest)) smallest = f.cellPx;
    return smallest;
}

QString LayoutAudit::text() const {
    QStringList lines;
    for (const LayoutFinding& f : findings)
        lines << QStringLiteral("%1  %2: %3").arg(toString(f.kind), f.widget, f.detail);
    return lines.join(QLatin1Char('\n'));
}

LayoutAudit auditLayout(QWidget* root, const AuditOptions& options) {
    if (!root) return {};
    return Auditor(root, options).run();
}

void settleEvents() {
    for (int i = 0; i < 4; ++i) {
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
}

namespace {

void setMode(MainWindow& w, const SweepOptions& o) {
    w.setPresentationMode(o.presentation);
    // Presentation mode goes full screen; the sweep wants its fonts at a chosen size.
    w.showNormal();
    // The window finishes fitting its docks to the new fonts, and itself to the screen, a
    // moment later (timers of up to 150 ms): the audit looks at it after that moment, as a
    // person would, and then gives it the size under test (which may exceed the offscreen
    // screen; the audit is told the screen it stands for).
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 300) QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    w.resize(o.size);
    settleEvents();
}

}  // namespace

int sweepMainWindow(MainWindow& w, const SweepOptions& o) {
    Session* session = w.session();
    if (!w.isVisible()) w.show();
    // Each shot shows a step as it stands, not halfway through the fade from the last one.
    w.stepView()->setTransitions(false);
    setMode(w, o);
    AuditOptions ao = o.audit;
    if (!ao.screen.isValid()) ao.screen = o.size;
    int shots = 0;
    bool go = true;
    const auto shoot = [&](const QString& view, int step, const QString& stepTitle) {
        settleEvents();
        SweepShot s;
        s.view = view;
        s.step = step;
        s.stepTitle = stepTitle;
        s.size = w.size();
        s.presentation = o.presentation;
        s.audit = auditLayout(&w, ao);
        if (o.grab) s.image = w.grab().toImage();
        ++shots;
        if (o.each && !o.each(s)) go = false;
    };
    QTabWidget* tabs = w.tabs();
    for (int i = 0; i < tabs->count() && go; ++i) {
        const QString title = tabs->tabText(i);
        if (o.skipViews.contains(title)) continue;
        tabs->setCurrentIndex(i);
        QWidget* view = w.tabView(i);
        settleEvents();
        // The Predict tab of a model that writes text: generate a few tokens first, so the
        // shot shows the attention behind a generated token, not an empty panel.
        if (auto* predict = qobject_cast<PredictionView*>(view)) {
            GenerationPanel* gen = predict->generationPanel();
            if (gen && gen->isVisible() && !session->generation()) {
                gen->setTokenCount(12);
                gen->startGeneration();
                session->waitForGeneration();
                settleEvents();
                gen->setShownStep(gen->stepCount() / 2);
                settleEvents();
            }
        }
        const auto trace = session->trace();
        if (i == 0 && trace && o.everyStep) {
            const int steps = static_cast<int>(trace->steps.size());
            for (int k = 0; k < steps && go; ++k) {
                session->setStep(k);
                shoot(title, k,
                      QString::fromStdString(trace->steps[static_cast<std::size_t>(k)].title));
            }
        } else {
            const attn::Step* st = i == 0 ? session->currentStep() : nullptr;
            shoot(title, i == 0 ? session->focus().step : -1,
                  st ? QString::fromStdString(st->title) : QString());
        }
    }
    tabs->setCurrentIndex(0);
    session->setStep(0);
    if (o.presentation) w.setPresentationMode(false);
    w.stepView()->setTransitions(true);
    settleEvents();
    return shots;
}

}  // namespace attn::ui
