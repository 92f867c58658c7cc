#pragma once
// "Why √d_k": how the spread of q·k and the sharpness of the softmax change with d_k, scaled and
// unscaled, from random q, k ~ N(0, 1) (attn::scalingStudy). The current model's d_k is marked.

#include <QWidget>

#include "attn/scaling_study.h"
#include "common/labelled_matrix.h"
#include "views/session_view.h"

class QCustomPlot;
class QCPAxisRect;
class QLabel;
class QSpinBox;

namespace attn::ui {

class Session;

class ScalingView : public SessionView {
    Q_OBJECT
public:
    explicit ScalingView(Session* session, QWidget* parent = nullptr);

    const ScalingStudy& study() const { return m_study; }
    QWidget* exportTarget() const { return m_content; }
    /// One row per d_k; columns std / entropy / max weight, unscaled and scaled.
    LabelledMatrix exportMatrix() const;
    /// Keys per softmax and seed of the study.
    void setStudy(int keys, int seed);
    QCustomPlot* plot() const { return m_plot; }

private:
    void refresh(int parts) override;
    void runStudy();
    void redraw();

    QSpinBox* m_keys = nullptr;
    QSpinBox* m_seed = nullptr;
    QWidget* m_content = nullptr;
    QLabel* m_heading = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPAxisRect* m_stdRect = nullptr;
    QCPAxisRect* m_entropyRect = nullptr;
    QCPAxisRect* m_maxRect = nullptr;
    QLabel* m_note = nullptr;
    ScalingStudy m_study;
    QString m_error;
};

}  // namespace attn::ui
