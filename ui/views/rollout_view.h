#pragma once
// Attention rollout (Abnar & Zuidema 2020): how much each token draws from each input token
// through every layer up to a chosen one. A layer slider and one heatmap.

#include <QFutureWatcher>
#include <QWidget>
#include <vector>

#include "attn/analysis.h"

class QComboBox;
class QLabel;
class QSlider;

namespace attn::ui {

class HeatmapView;
class Session;

class RolloutView : public QWidget {
    Q_OBJECT
public:
    explicit RolloutView(Session* session, QWidget* parent = nullptr);
    ~RolloutView() override;

    /// Shows the rollout after layer `layer` (0-based; clamped).
    void setLayer(int layer);
    int layer() const;
    /// Layers of the current rollout (0 when there is none).
    int layerCount() const { return static_cast<int>(m_rollout.size()); }
    HeatmapView* heatmap() const { return m_heatmap; }
    /// Inputs with more tokens than this are computed in the background (T³ per layer).
    static constexpr int kSyncTokenLimit = 160;
    /// Blocks until a background computation has been shown (tests).
    void waitForIdle();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void recompute();
    void setRollout(std::vector<attn::Mat> rollout, attn::TracePtr trace, bool decoder);
    void showLayer(int layer);

    Session* m_session = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_layerLabel = nullptr;
    QComboBox* m_stack = nullptr;
    QLabel* m_caption = nullptr;
    HeatmapView* m_heatmap = nullptr;
    std::vector<attn::Mat> m_rollout;  // (T, T) after each layer
    attn::TracePtr m_trace;            // the trace m_rollout belongs to
    bool m_decoder = false;
    bool m_dirty = true;
    quint64 m_generation = 0;
    QFutureWatcher<std::vector<attn::Mat>>* m_watcher = nullptr;
};

}  // namespace attn::ui
