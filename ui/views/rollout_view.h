#pragma once
// Attention rollout (Abnar & Zuidema 2020): how much each token draws from each input token
// through every layer up to a chosen one. A layer slider and one heatmap. The rollout is the
// Session's (computed once per trace, in the background for long inputs).

#include <QWidget>
#include <memory>
#include <vector>

#include "attn/analysis.h"
#include "views/session_view.h"

class QComboBox;
class QLabel;
class QSlider;

namespace attn::ui {

class HeatmapView;
class Session;

class RolloutView : public SessionView {
    Q_OBJECT
public:
    explicit RolloutView(Session* session, QWidget* parent = nullptr);

    /// Shows the rollout after layer `layer` (0-based; clamped).
    void setLayer(int layer);
    int layer() const;
    /// Layers of the current rollout (0 when there is none).
    int layerCount() const { return m_rollout ? static_cast<int>(m_rollout->size()) : 0; }
    HeatmapView* heatmap() const { return m_heatmap; }
    /// Blocks until a background computation has been shown (tests).
    void waitForIdle();

private:
    void refresh(int parts) override;
    void setRollout(std::shared_ptr<const std::vector<attn::Mat>> rollout, attn::TracePtr trace,
                    bool decoder);
    void showLayer(int layer);

    QSlider* m_slider = nullptr;
    QLabel* m_layerLabel = nullptr;
    QComboBox* m_stack = nullptr;
    QLabel* m_caption = nullptr;
    HeatmapView* m_heatmap = nullptr;
    std::shared_ptr<const std::vector<attn::Mat>> m_rollout;  // (T, T) after each layer
    attn::TracePtr m_trace;                                   // the trace m_rollout belongs to
    bool m_decoder = false;
};

}  // namespace attn::ui
