#include "views/generation_panel.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>

#include "common/token_labels.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

bool canGenerate(const attn::Model& m) {
    return m.config.architecture == attn::Architecture::Decoder && m.config.has_lm_head &&
           m.config.vocab_size > 0 && m.tokenizer;
}

/// A piece as a person reads it: a newline shows as ⏎ (a label holds one line).
QString readable(const QString& piece) {
    QString s = piece;
    s.replace(QLatin1Char('\n'), QStringLiteral("⏎"));
    return s;
}

}  // namespace

GenerationPanel::GenerationPanel(Session* session, QWidget* parent)
    : SessionView(session,
                  SessionChange::Trace | SessionChange::Generation | SessionChange::Focus |
                      SessionChange::Appearance | SessionChange::Model,
                  parent) {
    setObjectName(QStringLiteral("generationPanel"));
    auto* heading =
        new QLabel(tr("<b>Generate, and see the attention behind every token</b>"), this);
    heading->setWordWrap(true);

    m_generate = new QPushButton(tr("Generate"), this);
    m_generate->setObjectName(QStringLiteral("generate"));
    m_generate->setToolTip(
        tr("Continues the sentence token by token with a key/value cache: each new token computes "
           "only its own query, key and value and attends over every earlier position."));
    m_stop = new QPushButton(tr("Stop"), this);
    m_stop->setToolTip(tr("Stops after the current token; the tokens so far are kept."));
    m_tokens = new QSpinBox(this);
    m_tokens->setRange(1, 512);
    m_tokens->setValue(24);
    m_tokens->setSuffix(tr(" tokens"));
    m_tokens->setToolTip(tr("How many tokens to generate (fewer when the model ends its text)."));
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setRange(0.0, 5.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setDecimals(2);
    m_temperature->setPrefix(tr("T = "));
    m_temperature->setSpecialValueText(tr("greedy"));
    m_temperature->setToolTip(
        tr("Sampling temperature: greedy (0) always takes the most likely token; above 0 draws "
           "from softmax(logits / T), the same draw for the same seed."));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1'000'000);
    m_seed->setValue(1);
    m_seed->setPrefix(tr("seed "));
    m_seed->setToolTip(tr("The random seed of sampling: the same seed gives the same text."));
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("generationStatus"));
    m_status->setWordWrap(true);

    auto* controls = new QHBoxLayout;
    controls->setContentsMargins(0, 0, 0, 0);
    controls->addWidget(m_generate);
    controls->addWidget(m_tokens);
    controls->addWidget(m_temperature);
    controls->addWidget(m_seed);
    controls->addWidget(m_stop);
    controls->addStretch(1);

    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("generatedText"));
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setObjectName(QStringLiteral("generationStep"));
    m_slider->setToolTip(tr("Step through the generated tokens (← → when it has the focus)."));
    m_stepLabel = new QLabel(this);
    auto* stepRow = new QHBoxLayout;
    stepRow->setContentsMargins(0, 0, 0, 0);
    stepRow->addWidget(m_stepLabel);
    stepRow->addWidget(m_slider, 1);
    m_candidates = new QLabel(this);
    m_candidates->setWordWrap(true);
    m_map = new HeatmapView(this);
    m_map->setObjectName(QStringLiteral("generationAttention"));
    m_map->setRange(0.0, 1.0);
    m_map->setKeepAspect(false);
    m_map->setColorBarLabel(tr("weight"));
    m_map->setMinimumHeight(160);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(heading);
    layout->addLayout(controls);
    layout->addWidget(m_status);
    layout->addWidget(m_text);
    layout->addLayout(stepRow);
    layout->addWidget(m_candidates);
    layout->addWidget(m_map, 1);

    connect(m_generate, &QPushButton::clicked, this, &GenerationPanel::startGeneration);
    connect(m_stop, &QPushButton::clicked, this, [this] {
        if (m_session) m_session->cancelGeneration();
    });
    connect(m_slider, &QSlider::valueChanged, this, [this] { showStep(); });
    connect(m_map, &HeatmapView::cellClicked, this, [this](int row, int) {
        if (m_session) m_session->setHead(m_session->focus().layer, row);
    });
    if (m_session)
        connect(m_session, &Session::generationProgress, this, [this](int done, int total) {
            m_status->setText(tr("Generating… %1 of %2 tokens").arg(done).arg(total));
        });
    refreshNow();
}

void GenerationPanel::startGeneration() {
    if (!m_session) return;
    attn::SamplingOptions s;
    s.temperature = static_cast<float>(m_temperature->value());
    s.seed = static_cast<std::uint64_t>(m_seed->value());
    m_session->generate(m_tokens->value(), s);
}

void GenerationPanel::setTokenCount(int n) { m_tokens->setValue(n); }
void GenerationPanel::setTemperature(double t) { m_temperature->setValue(t); }
void GenerationPanel::setSeed(int seed) { m_seed->setValue(seed); }
void GenerationPanel::setShownStep(int index) { m_slider->setValue(index); }
int GenerationPanel::shownStep() const { return m_slider->value(); }
QString GenerationPanel::status() const { return m_status->text(); }
QString GenerationPanel::title() const {
    return m_map->isVisible() ? m_stepLabel->text() : QString();
}

int GenerationPanel::stepCount() const {
    const auto gen = m_session ? m_session->generation() : nullptr;
    return gen ? static_cast<int>(gen->steps.size()) : 0;
}

void GenerationPanel::refresh(int parts) {
    const attn::TracePtr trace = m_session ? m_session->trace() : nullptr;
    const bool able = trace && trace->model && canGenerate(*trace->model);
    setVisible(able);
    if (!able) return;
    const bool running = m_session->generating();
    m_generate->setEnabled(!running);
    m_stop->setEnabled(running);
    if (parts & SessionChange::Appearance) m_map->setFontScale(m_session->fontScale());

    const auto gen = m_session->generation();
    if (!gen) {
        m_generated.clear();
        m_labels.clear();
        m_text->clear();
        m_candidates->clear();
        m_stepLabel->clear();
        m_slider->setVisible(false);
        m_map->setVisible(false);
        if (running) {
            m_status->setText(tr("Generating…"));
        } else if (!m_session->generationError().isEmpty()) {
            m_status->setText(m_session->generationError());
        } else {
            m_status->setText(
                tr("Generate continues the sentence; then step through the tokens to see where "
                   "every head looked when each one was chosen."));
        }
        return;
    }

    if (parts & (SessionChange::Generation | SessionChange::Trace)) {
        // Positions: the prompt's tokens, then the generated pieces (raw bytes joined, so the
        // bytes of one character are labelled as that character).
        std::string joined = gen->prompt.empty() ? std::string() : trace->text;
        if (!gen->prompt.empty()) joined.resize(std::min(joined.size(), gen->prompt.back().end));
        std::vector<attn::Token> tokens = gen->tokens();
        for (std::size_t i = gen->prompt.size(); i < tokens.size(); ++i) joined += tokens[i].text;
        attn::markPartialCharacters(joined, tokens);
        m_labels = tokenLabels(joined, tokens);
        m_promptTokens = static_cast<int>(gen->prompt.size());
        m_generated = QString::fromStdString(gen->text());
        const int n = static_cast<int>(gen->steps.size());
        const QSignalBlocker block(m_slider);
        m_slider->setRange(0, std::max(0, n - 1));
        m_slider->setValue(std::max(0, n - 1));
        const double ms = gen->seconds * 1000.0;
        m_status->setText(
            tr("%n token(s) in %1 ms (%2 tokens/s) with a key/value cache; %3.", nullptr, n)
                .arg(ms, 0, 'f', 0)
                .arg(gen->seconds > 0 ? n / gen->seconds : 0.0, 0, 'f', 0)
                .arg(gen->stopped_by == attn::StopReason::Eos ? tr("the model ended its text")
                     : gen->stopped_by == attn::StopReason::Cancelled ? tr("stopped")
                     : gen->stopped_by == attn::StopReason::ContextFull
                         ? tr("the model's context is full")
                         : tr("as many as asked")));
    }
    m_slider->setVisible(gen->steps.size() > 1);
    showStep();
}

void GenerationPanel::showStep() {
    const auto gen = m_session ? m_session->generation() : nullptr;
    if (!gen || gen->steps.empty()) {
        m_map->setVisible(false);
        return;
    }
    const int k = std::clamp(m_slider->value(), 0, static_cast<int>(gen->steps.size()) - 1);
    const attn::GenerationStep& step = gen->steps[static_cast<std::size_t>(k)];
    const attn::Model& model = *gen->model;
    const int layers = static_cast<int>(step.attention.size());
    if (layers == 0) {
        m_map->setVisible(false);
        return;
    }
    const int layer = std::clamp(m_session->focus().layer, 0, layers - 1);
    const auto& rows = step.attention[static_cast<std::size_t>(layer)];
    const int heads = static_cast<int>(rows.size());
    const int cols = step.position + 1;
    Eigen::MatrixXf m = Eigen::MatrixXf::Zero(heads, cols);
    for (int h = 0; h < heads; ++h) {
        const attn::RowVec& r = rows[static_cast<std::size_t>(h)];
        const int n = std::min<int>(cols, static_cast<int>(r.size()));
        m.row(h).head(n) = r.head(n);
    }
    QStringList headLabels;
    const int group = std::max(1, model.config.n_heads / std::max(1, model.config.kvHeads()));
    for (int h = 0; h < heads; ++h)
        headLabels << (group > 1 ? tr("head %1 (kv %2)").arg(h + 1).arg(h / group + 1)
                                 : tr("head %1").arg(h + 1));
    const QStringList colLabels = m_labels.mid(0, cols);
    const int tokenIndex = m_promptTokens + k;  // where the chosen token sits
    const QString chosen = readable(m_labels.value(tokenIndex, QString::fromStdString(step.piece)));
    const QString from = readable(m_labels.value(step.position));
    m_map->setTitle(
        tr("Choosing “%1”: layer %2, every head attending from “%3” (t%4)")
            .arg(chosen, QString::number(layer + 1), from, QString::number(step.position + 1)));
    m_map->setAxisTitles(tr("head"), tr("earlier position (key)"));
    m_map->setColorMap(m_session->colorMap());
    m_map->setShowNumbers(m_session->showNumbers());
    m_map->setMatrix(m, headLabels, colLabels);
    m_map->setHighlight(std::clamp(m_session->focus().head, 0, heads - 1), -1);
    m_map->setVisible(true);
    m_stepLabel->setText(tr("Token %1 of %2").arg(k + 1).arg(gen->steps.size()));

    // The text so far: the prompt's end, the tokens before this one, this one marked, later
    // ones greyed.
    QString html;
    const int shownFrom = std::max(0, m_promptTokens - 12);
    if (shownFrom > 0) html += QStringLiteral("… ");
    for (int i = shownFrom; i < m_labels.size(); ++i) {
        const QString t = readable(m_labels[i]).toHtmlEscaped();
        if (i < m_promptTokens)
            html += QStringLiteral("<span style='color:#555;'>%1</span>").arg(t);
        else if (i == tokenIndex)
            html += QStringLiteral("<b style='color:#e06c1f; background:#fde7d6;'>%1</b>").arg(t);
        else if (i < tokenIndex)
            html += QStringLiteral("<span style='color:#1a237e;'>%1</span>").arg(t);
        else
            html += QStringLiteral("<span style='color:#aaa;'>%1</span>").arg(t);
        html += QStringLiteral("<span style='color:#ccc;'>|</span>");
    }
    m_text->setText(html);

    QStringList others;
    for (const auto& [id, p] : step.top) {
        if (id == step.token) continue;
        others << QStringLiteral("“%1” %2%")
                      .arg(readable(QString::fromStdString(model.tokenizer->decode(id))))
                      .arg(100.0 * p, 0, 'f', 1);
        if (others.size() == 4) break;
    }
    m_candidates->setText(
        tr("p(“%1”) = %2%%3")
            .arg(chosen)
            .arg(100.0 * step.prob, 0, 'f', 1)
            .arg(others.isEmpty()
                     ? QString()
                     : tr(" · runners-up: %1").arg(others.join(QStringLiteral(", ")))));
}

}  // namespace attn::ui
