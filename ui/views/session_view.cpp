#include "views/session_view.h"

namespace attn::ui {

SessionView::SessionView(Session* session, int parts, QWidget* parent)
    : QWidget(parent), m_session(session), m_parts(parts) {
    if (m_session) connect(m_session, &Session::changed, this, &SessionView::onChanged);
}

void SessionView::onChanged(const SessionChange& change) {
    const int parts = change.parts & m_parts;
    if (parts == 0) return;
    requestRefresh(parts);
}

void SessionView::requestRefresh(int parts) {
    m_pending |= parts;
    if (isVisible()) refreshNow();
}

void SessionView::refreshNow(int parts) {
    const int todo = m_pending | parts;
    m_pending = 0;
    ++m_rebuilds;
    refresh(todo);
}

void SessionView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_pending != 0) refreshNow();
}

}  // namespace attn::ui
