#pragma once
// Layer rule (ui/widgets/): draw what they are given. May include: common, engine, qt.
// A tab widget whose bar never scrolls: the tabs that fit are shown in order, the rest are
// listed under a "N more ▾" button at the bar's end (as browsers and IDEs do), so on a 1024×768
// projector no tab hides behind scroll arrows. The current tab is always in the bar: choosing a
// tab from the menu (or by its shortcut) brings it in, in place of the last one that fitted.

#include <QList>
#include <QTabWidget>

class QMenu;
class QToolButton;

class OverflowTabWidget : public QTabWidget {
    Q_OBJECT
public:
    explicit OverflowTabWidget(QWidget* parent = nullptr);

    /// Indices of the tabs that are not in the bar (reached from the "more" button), in order.
    QList<int> overflowTabs() const;
    QToolButton* moreButton() const { return m_more; }

protected:
    void resizeEvent(QResizeEvent* event) override;
    void tabInserted(int index) override;
    void tabRemoved(int index) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    class Bar;
    void refit();
    void refitLater();
    void fillMenu();

    Bar* m_bar = nullptr;
    QToolButton* m_more = nullptr;
    QMenu* m_menu = nullptr;
    bool m_fitting = false;
    bool m_refitQueued = false;
};
