#include "views/rollout_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>
#include <algorithm>

#include "common/token_labels.h"
#include "session/session.h"
#include "views/heads_common.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

RolloutView::RolloutView(Session* session, QWidget* parent)
    : SessionView(session,
                  SessionChange::Trace | SessionChange::Derived | SessionChange::Appearance,
                  parent) {
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setRange(1, 1);
    m_slider->setPageStep(1);
    m_slider->setTickPosition(QSlider::TicksBelow);
    m_slider->setToolTip(tr("Roll attention out through the layers up to this one"));
    m_layerLabel = new QLabel(this);
    m_layerLabel->setMinimumWidth(
        m_layerLabel->fontMetrics().horizontalAdvance(tr("after layer 88 of 88")));
    m_stack = new QComboBox(this);
    m_stack->addItem(tr("Encoder"), false);
    m_stack->addItem(tr("Decoder (self-attention)"), true);
    m_stack->setVisible(false);
    m_caption = new QLabel(this);
    m_caption->setWordWrap(true);
    m_heatmap = new HeatmapView(this);
    m_heatmap->setAxisTitles(tr("token"), tr("input token it draws from"));

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Layers:"), this));
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_layerLabel);
    controls->addWidget(m_stack);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_caption);
    layout->addWidget(m_heatmap, 1);

    connect(m_slider, &QSlider::valueChanged, this, [this](int v) { showLayer(v - 1); });
    connect(m_stack, &QComboBox::currentIndexChanged, this,
            [this] { requestRefresh(SessionChange::Trace); });
    refreshNow();
}

int RolloutView::layer() const { return m_slider->value() - 1; }

void RolloutView::setLayer(int layer) {
    m_slider->setValue(std::clamp(layer + 1, m_slider->minimum(), m_slider->maximum()));
}

void RolloutView::refresh(int) {
    // Presentation mode: the heatmap's labels and numbers grow with the rest of the window.
    if (m_session) {
        m_heatmap->setFontScale(m_session->fontScale());
        m_heatmap->setColorMap(m_session->colorMap());
        m_heatmap->setShowNumbers(m_session->showNumbers());
    }
    attn::TracePtr trace = m_session ? m_session->trace() : nullptr;
    const bool seq2seq = trace && !trace->decoder_layers.empty();
    m_stack->setVisible(seq2seq);
    const bool decoder = seq2seq && m_stack->currentData().toBool();
    if (!trace || (decoder ? trace->decoder_layers.empty() : trace->layers.empty())) {
        setRollout(nullptr, trace, decoder);
        return;
    }
    auto rollout = m_session->rollout(decoder);
    if (!rollout) {
        // Long input: the session computes it in the background and says Derived when done.
        const int T = decoder ? static_cast<int>(trace->target_tokens.size()) : trace->tokenCount();
        m_caption->setText(tr("Computing the rollout of %1 tokens…").arg(T));
        return;
    }
    setRollout(std::move(rollout), trace, decoder);
}

void RolloutView::waitForIdle() {
    if (m_session) m_session->waitForIdle();
}

void RolloutView::setRollout(std::shared_ptr<const std::vector<attn::Mat>> rollout,
                             attn::TracePtr trace, bool decoder) {
    m_rollout = std::move(rollout);
    m_trace = std::move(trace);
    m_decoder = decoder;
    const int L = layerCount();
    const bool atLast = m_slider->value() == m_slider->maximum();
    {
        QSignalBlocker block(m_slider);
        m_slider->setRange(1, std::max(L, 1));
        // Follow the top layer unless the user chose an earlier one.
        if (atLast) m_slider->setValue(m_slider->maximum());
        m_slider->setEnabled(L > 1);
    }
    showLayer(m_slider->value() - 1);
}

void RolloutView::showLayer(int layer) {
    const int L = layerCount();
    if (L == 0) {
        m_layerLabel->setText(QString());
        m_heatmap->setMatrix(Eigen::MatrixXf(), {}, {});
        m_heatmap->setTitle(tr("Attention rollout"));
        m_caption->setText(tr("No layers to roll out yet."));
        return;
    }
    layer = std::clamp(layer, 0, L - 1);
    m_layerLabel->setText(tr("after layer %1 of %2").arg(layer + 1).arg(L));
    const QStringList labels = m_decoder ? tokenLabels(m_trace->target_text, m_trace->target_tokens)
                                         : tokenLabels(m_trace->text, m_trace->tokens);
    m_heatmap->setTitle(tr("Rollout through layers 1–%1").arg(layer + 1));
    const attn::Mat& R = (*m_rollout)[static_cast<std::size_t>(layer)];  // (T, T)
    // From 0, so a pale cell means "little", not "the least of similar values".
    m_heatmap->setRange(0.0, R.size() ? std::max(1e-6, double(R.maxCoeff())) : 1.0);
    m_heatmap->setMatrix(R, labels, labels);
    const QString caption =
        tr("Each layer's attention, averaged over heads and mixed half-and-half "
           "with the residual path (0.5·A + 0.5·I), multiplied through the layers: "
           "row = a token after layer %1, column = how much of it comes from each "
           "input token.")
            .arg(layer + 1);
    m_caption->setText(m_session ? withAlteredNotice(caption, *m_session) : caption);
}

}  // namespace attn::ui
