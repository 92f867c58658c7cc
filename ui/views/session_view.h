#pragma once
// The refresh rule every view keeps: it listens to Session::changed, ignores a change that
// touches nothing it shows, refreshes at once when visible and, when hidden (another tab), only
// remembers what changed and refreshes once when it is shown.

#include <QWidget>

#include "session/session.h"

namespace attn::ui {

class SessionView : public QWidget {
    Q_OBJECT
public:
    /// How many times the view has refreshed (tests count one per keystroke).
    int rebuildCount() const { return m_rebuilds; }
    /// Parts changed while hidden, waiting for the next show (0 = up to date).
    int pendingParts() const { return m_pending; }

protected:
    /// parts: the SessionChange parts this view shows; other changes are ignored. The view
    /// starts out of date (every part pending): it refreshes when first shown, or in its
    /// constructor through refreshNow().
    SessionView(Session* session, int parts, QWidget* parent = nullptr);

    /// Brings the view up to date with what changed (SessionChange parts, only those the view
    /// listens to; SessionChange::All on the first refresh).
    virtual void refresh(int parts) = 0;
    /// Refreshes now with everything pending plus parts, visible or not (a constructor, or
    /// a getter a test calls on a view that was never shown).
    void refreshNow(int parts = 0);
    /// A change of the view's own controls: refreshes now when visible, else when shown.
    void requestRefresh(int parts);

    void showEvent(QShowEvent* event) override;

    Session* m_session = nullptr;

private:
    void onChanged(const SessionChange& change);

    int m_parts = 0;
    int m_pending = SessionChange::All;
    int m_rebuilds = 0;
};

}  // namespace attn::ui
