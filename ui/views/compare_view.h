#pragma once
// Two heads side by side, each with its own picker, to compare what they attend to.

#include <QWidget>

class QComboBox;
class QLabel;

#include "views/session_view.h"

namespace attn::ui {

class HeatmapView;
class Session;

class CompareView : public SessionView {
    Q_OBJECT
public:
    explicit CompareView(Session* session, QWidget* parent = nullptr);
    HeatmapView* left() const { return m_maps[0]; }
    HeatmapView* right() const { return m_maps[1]; }
    QComboBox* picker(int side) const { return m_pick[side]; }

private:
    void refresh(int parts) override;
    void rebuildPickers();
    void redraw();

    QComboBox* m_what = nullptr;
    QComboBox* m_pick[2] = {nullptr, nullptr};
    HeatmapView* m_maps[2] = {nullptr, nullptr};
    QLabel* m_note = nullptr;
    QString m_pickerKey;  // stack shape the pickers were built for
};

}  // namespace attn::ui
