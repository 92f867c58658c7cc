#pragma once
// Attention during generation (the Predict tab of a causal model with an LM head): generate N
// tokens after the sentence (greedy, or sampled with a temperature and a seed) with the
// engine's key/value cache, then step through them. For the token in view it shows the text
// so far with that token marked, and every head of the focused layer attending from the
// position that chose it over the prompt and the tokens generated before it (rows = heads,
// columns = positions), with the token's probability and the runners-up. The numbers are the
// engine's (attn::Generation, through the Session); the panel only lays them out.

#include <QStringList>

#include "views/session_view.h"

class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace attn::ui {

class HeatmapView;

class GenerationPanel : public SessionView {
    Q_OBJECT
public:
    explicit GenerationPanel(Session* session, QWidget* parent = nullptr);

    /// Starts generating with the panel's settings (as the Generate button does).
    void startGeneration();
    void setTokenCount(int n);
    void setTemperature(double t);
    void setSeed(int seed);
    /// Shows generated token index (0-based; clamped), as the slider does.
    void setShownStep(int index);
    int shownStep() const;
    /// Generated tokens available to step through (0 before a generation).
    int stepCount() const;
    /// The generated text as the panel shows it (joined pieces).
    QString generatedText() const { return m_generated; }
    HeatmapView* heatmap() const { return m_map; }
    QString status() const;
    QString title() const;

private:
    void refresh(int parts) override;
    void showStep();

    QPushButton* m_generate = nullptr;
    QPushButton* m_stop = nullptr;
    QSpinBox* m_tokens = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_seed = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_text = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_stepLabel = nullptr;
    QLabel* m_candidates = nullptr;
    HeatmapView* m_map = nullptr;
    QString m_generated;
    QStringList m_labels;  // every position of prompt + generation
    int m_promptTokens = 0;
};

}  // namespace attn::ui
