#include "widgets/overflow_tab_widget.h"

#include <QEvent>
#include <QMenu>
#include <QTabBar>
#include <QTimer>
#include <QToolButton>

// tabSizeHint is protected; the bar tells how wide a tab would be even while it is hidden.
class OverflowTabWidget::Bar : public QTabBar {
public:
    using QTabBar::QTabBar;
    int widthOf(int index) const { return tabSizeHint(index).width(); }
    // Without scroll buttons a bar asks for room for every tab; the window must not grow
    // for tabs that can move under "more": the current tab is all it needs.
    QSize minimumSizeHint() const override {
        QSize s = QTabBar::minimumSizeHint();
        if (count() > 0) s.setWidth(widthOf(std::max(0, currentIndex())));
        return s;
    }
};

OverflowTabWidget::OverflowTabWidget(QWidget* parent) : QTabWidget(parent) {
    m_bar = new Bar(this);
    m_bar->setObjectName(QStringLiteral("qt_tabwidget_tabbar"));
    setTabBar(m_bar);
    setUsesScrollButtons(false);
    setElideMode(Qt::ElideNone);
    m_menu = new QMenu(this);
    m_more = new QToolButton(this);
    m_more->setObjectName(QStringLiteral("moreTabs"));
    m_more->setPopupMode(QToolButton::InstantPopup);
    m_more->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_more->setAutoRaise(true);
    m_more->setMenu(m_menu);
    m_more->setToolTip(tr("The views that do not fit in the tab bar"));
    m_more->hide();
    setCornerWidget(m_more, Qt::TopRightCorner);
    connect(m_menu, &QMenu::aboutToShow, this, &OverflowTabWidget::fillMenu);
    connect(this, &QTabWidget::currentChanged, this, &OverflowTabWidget::refit);
    m_bar->installEventFilter(this);
}

QList<int> OverflowTabWidget::overflowTabs() const {
    QList<int> out;
    for (int i = 0; i < count(); ++i)
        if (!isTabVisible(i)) out << i;
    return out;
}

void OverflowTabWidget::resizeEvent(QResizeEvent* event) {
    QTabWidget::resizeEvent(event);
    refit();
}

void OverflowTabWidget::tabInserted(int index) {
    QTabWidget::tabInserted(index);
    refitLater();
}

void OverflowTabWidget::tabRemoved(int index) {
    QTabWidget::tabRemoved(index);
    refitLater();
}

bool OverflowTabWidget::eventFilter(QObject* watched, QEvent* event) {
    // A new font (presentation mode) or style changes every tab's width.
    if (watched == m_bar &&
        (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange))
        refitLater();
    return QTabWidget::eventFilter(watched, event);
}

void OverflowTabWidget::refitLater() {
    if (m_refitQueued) return;
    m_refitQueued = true;
    QTimer::singleShot(0, this, [this] {
        m_refitQueued = false;
        refit();
    });
}

void OverflowTabWidget::refit() {
    if (m_fitting || count() == 0) return;
    m_fitting = true;
    const int n = count();
    QList<int> widths(n);
    int total = 0;
    for (int i = 0; i < n; ++i) total += widths[i] = m_bar->widthOf(i);
    QList<bool> show(n, true);
    if (total > width()) {
        // Which tabs fit beside the button (sized for the largest count it could show).
        m_more->setText(tr("%n more", nullptr, n));
        const int room = std::max(0, width() - m_more->sizeHint().width() - 4);
        const int cur = std::max(0, currentIndex());
        int used = 0;
        for (int i = 0; i < n; ++i) {
            show[i] = used + widths[i] <= room;
            if (show[i]) used += widths[i];
        }
        // The current tab stays in the bar, in place of the last ones that fitted.
        if (!show[cur]) {
            used += widths[cur];
            show[cur] = true;
            for (int i = n - 1; i >= 0 && used > room; --i)
                if (show[i] && i != cur) {
                    show[i] = false;
                    used -= widths[i];
                }
        }
    }
    int hidden = 0;
    for (int i = 0; i < n; ++i) {
        if (isTabVisible(i) != show[i]) setTabVisible(i, show[i]);
        hidden += show[i] ? 0 : 1;
    }
    m_more->setText(tr("%n more", nullptr, hidden));
    m_more->setVisible(hidden > 0);
    m_fitting = false;
}

void OverflowTabWidget::fillMenu() {
    m_menu->clear();
    for (int i : overflowTabs()) {
        QAction* a = m_menu->addAction(tabText(i), this, [this, i] { setCurrentIndex(i); });
        a->setToolTip(tabToolTip(i));
    }
}
