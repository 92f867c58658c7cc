#include "window/controls_panel.h"

#include <QAbstractItemView>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSlider>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "session/session.h"
#include "views/cell_explain.h"

namespace attn::ui {

namespace {

QPlainTextEdit* makeTextBox(const QString& placeholder, QWidget* parent) {
    auto* e = new QPlainTextEdit(parent);
    e->setPlaceholderText(placeholder);
    e->setTabChangesFocus(true);
    QFont f = e->font();
    f.setPointSizeF(f.pointSizeF() * 1.25);
    e->setFont(f);
    const int lines = 3;
    e->setFixedHeight(QFontMetrics(f).lineSpacing() * lines + 14);
    return e;
}

bool isUntrained(const attn::Model* m) {
    return m && m->source_path.empty() && m->config.name == "untrained";
}

}  // namespace

QList<ExampleSentence> exampleSentences() {
    QList<ExampleSentence> out;
    QFile f(QStringLiteral(":/examples/examples.json"));
    if (f.open(QIODevice::ReadOnly)) {
        const QJsonArray arr = QJsonDocument::fromJson(f.readAll())
                                   .object()
                                   .value(QStringLiteral("examples"))
                                   .toArray();
        for (const QJsonValue v : arr) {  // QJsonArray iterates by value
            const QJsonObject o = v.toObject();
            ExampleSentence e{o.value(QStringLiteral("title")).toString(),
                              o.value(QStringLiteral("source")).toString(),
                              o.value(QStringLiteral("target")).toString(),
                              o.value(QStringLiteral("model")).toString()};
            if (e.title.isEmpty()) e.title = e.source;
            if (!e.source.isEmpty()) out << e;
        }
    }
    if (out.isEmpty()) {
        const QString english = QStringLiteral("builtin:english");
        out << ExampleSentence{QStringLiteral("The black cat drank the milk"),
                               QStringLiteral("The black cat drank the milk"),
                               {},
                               english}
            << ExampleSentence{QStringLiteral("The ball is blue → La bola es azul"),
                               QStringLiteral("The ball is blue"),
                               QStringLiteral("La bola es azul"),
                               QStringLiteral("builtin:translation")}
            << ExampleSentence{QStringLiteral("Bark is very cute and he is a dog"),
                               QStringLiteral("Bark is very cute and he is a dog"),
                               {},
                               english}
            << ExampleSentence{QStringLiteral("Чёрный кот пил молоко"),
                               QStringLiteral("Чёрный кот пил молоко"),
                               {},
                               QStringLiteral("untrained")}
            << ExampleSentence{QStringLiteral("黑猫喝牛奶"),
                               QStringLiteral("黑猫喝牛奶"),
                               {},
                               QStringLiteral("untrained")};
    }
    return out;
}

ControlsPanel::ControlsPanel(Session* session, QWidget* parent)
    : QWidget(parent), m_session(session) {
    m_untrained = session->config();
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(8, 8, 8, 8);
    v->setSpacing(8);

    // --- sentence ---
    auto* input = new QGroupBox(tr("Sentence"), this);
    auto* iv = new QVBoxLayout(input);
    iv->setSpacing(4);
    m_examples = new QComboBox(input);
    m_examples->setObjectName(QStringLiteral("examples"));
    // The prompt row ends without "…": an ellipsis would read as text cut short.
    m_examples->addItem(tr("Pick an example"));
    m_exampleList = exampleSentences();
    for (const ExampleSentence& e : m_exampleList) {
        m_examples->addItem(e.title);
        m_examples->setItemData(
            m_examples->count() - 1,
            e.model.isEmpty() ? tr("Keeps the model in use") : tr("Opens %1").arg(e.model),
            Qt::ToolTipRole);
    }
    iv->addWidget(m_examples);
    m_source = makeTextBox(tr("Type a sentence…"), input);
    m_source->setObjectName(QStringLiteral("sourceText"));
    iv->addWidget(m_source);
    m_targetLabel = new QLabel(tr("Target (the translation the decoder reads):"), input);
    m_targetLabel->setWordWrap(true);
    iv->addWidget(m_targetLabel);
    m_target = makeTextBox(tr("Type the translation…"), input);
    m_target->setObjectName(QStringLiteral("targetText"));
    iv->addWidget(m_target);
    v->addWidget(input);

    // --- model ---
    m_structure = new QGroupBox(tr("Model"), this);
    auto* grid = new QGridLayout(m_structure);
    grid->setVerticalSpacing(4);
    grid->setHorizontalSpacing(6);
    m_modelLabel = new QLabel(m_structure);
    m_modelLabel->setWordWrap(true);
    m_backToUntrained = new QPushButton(tr("Untrained"), m_structure);
    m_backToUntrained->setToolTip(tr("Go back to the small untrained model"));
    grid->addWidget(m_modelLabel, 0, 0, 1, 3);
    grid->addWidget(m_backToUntrained, 0, 3);
    m_arch = new QComboBox(m_structure);
    // Short names; what each sees (which depends on the mask too) is the note under the box.
    m_arch->addItem(tr("Encoder"), static_cast<int>(attn::Architecture::Encoder));
    m_arch->addItem(tr("Decoder"), static_cast<int>(attn::Architecture::Decoder));
    m_arch->addItem(tr("Encoder–decoder"), static_cast<int>(attn::Architecture::EncoderDecoder));
    grid->addWidget(new QLabel(tr("Kind"), m_structure), 1, 0);
    grid->addWidget(m_arch, 1, 1, 1, 3);
    m_kindNote = new QLabel(m_structure);
    m_kindNote->setObjectName(QStringLiteral("kindNote"));
    m_kindNote->setWordWrap(true);
    grid->addWidget(m_kindNote, 2, 0, 1, 4);
    m_dModel = new QSpinBox(m_structure);
    m_dModel->setRange(2, 512);
    m_dModel->setToolTip(tr("Numbers per token vector (d_model)"));
    m_heads = new QSpinBox(m_structure);
    m_heads->setRange(1, 16);
    m_heads->setToolTip(tr("Attention heads per layer; d_k = d_model / heads"));
    m_layers = new QSpinBox(m_structure);
    m_layers->setRange(1, 12);
    m_seed = new QSpinBox(m_structure);
    m_seed->setRange(0, 999999);
    m_seed->setToolTip(tr("Seed of the random weights: the same seed gives the same model"));
    auto* reroll = new QToolButton(m_structure);
    reroll->setText(tr("New"));
    reroll->setToolTip(tr("Another random model (new seed)"));
    // The seed and its button get a row of their own: the panel stays narrow enough for a
    // 1024-wide projector with presentation fonts.
    grid->addWidget(new QLabel(tr("d_model"), m_structure), 3, 0);
    grid->addWidget(m_dModel, 3, 1);
    grid->addWidget(new QLabel(tr("heads"), m_structure), 3, 2, Qt::AlignRight);
    grid->addWidget(m_heads, 3, 3);
    grid->addWidget(new QLabel(tr("layers"), m_structure), 4, 0);
    grid->addWidget(m_layers, 4, 1);
    grid->addWidget(new QLabel(tr("seed"), m_structure), 5, 0);
    auto* seedRow = new QHBoxLayout;
    seedRow->setSpacing(2);
    seedRow->addWidget(m_seed, 1);
    seedRow->addWidget(reroll);
    grid->addLayout(seedRow, 5, 1, 1, 3);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    v->addWidget(m_structure);

    // --- attention ---
    auto* att = new QGroupBox(tr("Attention"), this);
    auto* af = new QFormLayout(att);
    af->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    // A narrow panel (a 1024-wide projector, large fonts) puts the label above its box rather
    // than cutting the box's text short.
    af->setRowWrapPolicy(QFormLayout::WrapLongRows);
    af->setVerticalSpacing(4);
    m_projection = new QComboBox(att);
    m_projection->addItem(tr("Q = K = V = X (no weights)"),
                          static_cast<int>(attn::ProjectionMode::Embeddings));
    m_projection->addItem(tr("Q, K learned; V = K"), static_cast<int>(attn::ProjectionMode::QK));
    m_projection->addItem(tr("Q, K, V learned"), static_cast<int>(attn::ProjectionMode::QKV));
    af->addRow(tr("Projections"), m_projection);
    m_score = new QComboBox(att);
    m_score->addItem(tr("scaled dot q·k/√d_k"), static_cast<int>(attn::ScoreFunction::ScaledDot));
    m_score->addItem(tr("dot q·k"), static_cast<int>(attn::ScoreFunction::Dot));
    m_score->addItem(tr("cosine"), static_cast<int>(attn::ScoreFunction::Cosine));
    m_score->addItem(tr("general q·W·k"), static_cast<int>(attn::ScoreFunction::General));
    m_score->addItem(tr("additive vᵀtanh(W₁q+W₂k)"),
                     static_cast<int>(attn::ScoreFunction::Additive));
    af->addRow(tr("Score"), m_score);
    m_scale = new QCheckBox(tr("divide by √d_k"), att);
    af->addRow(QString(), m_scale);
    m_mask = new QComboBox(att);
    m_mask->addItem(tr("none"), static_cast<int>(attn::MaskKind::None));
    m_mask->addItem(tr("causal (no peeking ahead)"), static_cast<int>(attn::MaskKind::Causal));
    m_mask->addItem(tr("padding ([PAD] tokens)"), static_cast<int>(attn::MaskKind::Padding));
    af->addRow(tr("Mask"), m_mask);
    m_pe = new QComboBox(att);
    m_pe->addItem(tr("sinusoidal"), static_cast<int>(attn::PositionalKind::Sinusoidal));
    m_pe->addItem(tr("learned"), static_cast<int>(attn::PositionalKind::Learned));
    m_pe->addItem(tr("rotary (RoPE)"), static_cast<int>(attn::PositionalKind::Rope));
    m_pe->addItem(tr("none"), static_cast<int>(attn::PositionalKind::None));
    af->addRow(tr("Positions"), m_pe);
    m_temp = new QSlider(Qt::Horizontal, att);
    m_temp->setObjectName(QStringLiteral("temperature"));
    m_temp->setRange(0, 300);
    m_temp->setPageStep(25);
    m_temp->setToolTip(
        tr("Temperature: scores are divided by T before the softmax. Small T = sharp, "
           "large T = flat, 0 = hard look-up (all weight on the best key)."));
    m_tempLabel = new QLabel(att);
    m_tempLabel->setMinimumWidth(
        QFontMetrics(m_tempLabel->font()).horizontalAdvance(QStringLiteral("0 (hard)")) + 4);
    auto* tr_ = new QHBoxLayout;
    tr_->addWidget(m_temp, 1);
    tr_->addWidget(m_tempLabel);
    af->addRow(tr("Temperature"), tr_);
    v->addWidget(att);

    // --- status ---
    m_info = new QLabel(this);
    m_info->setObjectName(QStringLiteral("runInfo"));
    m_info->setWordWrap(true);
    m_info->setMinimumHeight(2 * m_info->fontMetrics().lineSpacing() + 2);
    m_info->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
    v->addWidget(m_info);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("statusMessage"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setStyleSheet(
        QStringLiteral("QLabel { color: #8a1c1c; background: #fdecea; border: 1px solid #f5c2c0; "
                       "border-radius: 3px; padding: 4px; }"));
    m_status->hide();
    v->addWidget(m_status);
    auto* busyRow = new QHBoxLayout;
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 100);
    m_progress->setTextVisible(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    busyRow->addWidget(m_progress, 1);
    busyRow->addWidget(m_cancel);
    v->addLayout(busyRow);
    m_progress->hide();
    m_cancel->hide();
    v->addStretch(1);

    // The choices are short enough to show whole (no "…"); the example titles are long, so
    // their box shows the prompt and its list opens as wide as the titles.
    for (QComboBox* c : {m_arch, m_projection, m_score, m_mask, m_pe})
        c->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_examples->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_examples->setMinimumContentsLength(12);

    syncFromSession();
    applyFontScale();

    // --- wiring ---
    connect(m_source, &QPlainTextEdit::textChanged, this,
            [this] { m_session->setText(m_source->toPlainText()); });
    connect(m_target, &QPlainTextEdit::textChanged, this,
            [this] { m_session->setTargetText(m_target->toPlainText()); });
    connect(m_examples, &QComboBox::activated, this, [this](int i) {
        if (const auto e = exampleAt(i)) loadExample(*e);
        const QSignalBlocker block(m_examples);
        m_examples->setCurrentIndex(0);
    });
    for (QSpinBox* s : {m_dModel, m_heads, m_layers, m_seed})
        connect(s, &QSpinBox::valueChanged, this, &ControlsPanel::structureChanged);
    for (QComboBox* c : {m_arch, m_pe})
        connect(c, &QComboBox::currentIndexChanged, this, &ControlsPanel::structureChanged);
    for (QComboBox* c : {m_projection, m_score, m_mask})
        connect(c, &QComboBox::currentIndexChanged, this, &ControlsPanel::attentionChanged);
    connect(m_scale, &QCheckBox::toggled, this, &ControlsPanel::attentionChanged);
    connect(m_temp, &QSlider::valueChanged, this, &ControlsPanel::attentionChanged);
    connect(reroll, &QToolButton::clicked, this, [this] {
        m_seed->setValue(static_cast<int>(QRandomGenerator::global()->bounded(1, 999999)));
    });
    connect(m_backToUntrained, &QPushButton::clicked, this,
            [this] { m_session->setConfig(m_untrained); });
    connect(m_cancel, &QPushButton::clicked, m_session, &Session::cancel);
    connect(m_session, &Session::changed, this,
            [this, base = m_source->font().pointSizeF()](const SessionChange& change) {
                if (change.has(SessionChange::Model)) syncFromSession();
                if (change.has(SessionChange::Appearance)) {
                    // The sentence is what a class reads first: it grows with presentation mode.
                    for (QPlainTextEdit* e : {m_source, m_target}) {
                        QFont f = e->font();
                        f.setPointSizeF(base * m_session->fontScale());
                        e->setFont(f);
                        e->setFixedHeight(QFontMetrics(f).lineSpacing() * 3 + 14);
                    }
                    applyFontScale();
                    // The application font reaches the boxes with posted events: measure
                    // again once they have arrived.
                    QTimer::singleShot(0, this, &ControlsPanel::applyFontScale);
                }
                if (change.has(SessionChange::Trace)) updateInfo();
            });
    connect(m_session, &Session::errorOccurred, this, &ControlsPanel::showStatus);
    connect(m_session, &Session::busyChanged, this, [this](bool busy) {
        m_progress->setVisible(busy);
        m_cancel->setVisible(busy);
        m_progress->setValue(0);
        if (busy) m_info->setText(tr("Computing…"));
    });
    connect(m_session, &Session::progress, this,
            [this](double f) { m_progress->setValue(static_cast<int>(std::lround(f * 100))); });
}

void ControlsPanel::setSourceText(const QString& text) {
    if (m_source->toPlainText() != text) m_source->setPlainText(text);
}

void ControlsPanel::setTargetText(const QString& text) {
    if (m_target->toPlainText() != text) m_target->setPlainText(text);
}

std::optional<ExampleSentence> ControlsPanel::exampleAt(int row) const {
    if (row <= 0 || row > m_exampleList.size()) return std::nullopt;
    return m_exampleList[row - 1];
}

void ControlsPanel::applyFontScale() {
    // Sizes measured from the font at construction follow the application font.
    m_tempLabel->setMinimumWidth(
        QFontMetrics(m_tempLabel->font()).horizontalAdvance(QStringLiteral("0 (hard)")) + 4);
    m_info->setMinimumHeight(2 * m_info->fontMetrics().lineSpacing() + 2);
    // A box never narrower than its longest choice: no choice is cut to "…".
    for (QComboBox* c : {m_arch, m_projection, m_score, m_mask, m_pe}) {
        c->setMinimumWidth(0);
        c->setMinimumWidth(c->sizeHint().width());
    }
    if (auto* view = m_examples->view()) {
        int widest = 0;
        for (int i = 0; i < m_examples->count(); ++i)
            widest =
                std::max(widest, view->fontMetrics().horizontalAdvance(m_examples->itemText(i)));
        view->setMinimumWidth(widest + 32);
    }
    updateGeometry();
}

QString ControlsPanel::kindText() const {
    return m_arch->currentText() + QStringLiteral(": ") + m_kindNote->text();
}

void ControlsPanel::updateKindNote() {
    const auto arch = static_cast<attn::Architecture>(m_arch->currentData().toInt());
    const bool causal = m_mask->currentData().toInt() == static_cast<int>(attn::MaskKind::Causal);
    QString note;
    switch (arch) {
        case attn::Architecture::Encoder:
            note = causal ? tr("the causal mask lets each token see only itself and the past")
                          : tr("each token sees every token, both ways");
            break;
        case attn::Architecture::Decoder:
            note = tr("each token sees only itself and the past");
            break;
        case attn::Architecture::EncoderDecoder:
            note = causal ? tr("the source sees only the past (causal mask); the target sees "
                               "its past and the whole source")
                          : tr("the source sees both ways; the target sees its past and the "
                               "whole source");
            break;
    }
    m_kindNote->setText(note);
}

void ControlsPanel::loadExample(const ExampleSentence& e) {
    const bool wantSeq2Seq = !e.target.isEmpty();
    setTargetText(e.target);
    setSourceText(e.source);
    // The window opens the example's model (at once for "untrained", else in the background;
    // the session re-runs these boxes when it arrives).
    if (!e.model.isEmpty()) emit modelRequested(e.model);
    if (wantSeq2Seq != m_session->isSeq2Seq() && isUntrained(m_session->model().get())) {
        const int idx = m_arch->findData(static_cast<int>(
            wantSeq2Seq ? attn::Architecture::EncoderDecoder : attn::Architecture::Encoder));
        m_arch->setCurrentIndex(idx);  // re-runs through structureChanged
    }
    m_session->runNow();
}

attn::ModelConfig ControlsPanel::configFromControls() const {
    attn::ModelConfig c = m_session->config();
    c.architecture = static_cast<attn::Architecture>(m_arch->currentData().toInt());
    c.d_model = m_dModel->value();
    c.n_heads = m_heads->value();
    c.n_layers = m_layers->value();
    c.n_decoder_layers = m_layers->value();
    c.seed = static_cast<std::uint64_t>(m_seed->value());
    c.positional = static_cast<attn::PositionalKind>(m_pe->currentData().toInt());
    return c;
}

attn::AttentionKnobs ControlsPanel::knobsFromControls() const {
    attn::AttentionKnobs k;
    k.projection = static_cast<attn::ProjectionMode>(m_projection->currentData().toInt());
    k.score = static_cast<attn::ScoreFunction>(m_score->currentData().toInt());
    k.scale = m_scale->isChecked();
    k.mask = static_cast<attn::MaskKind>(m_mask->currentData().toInt());
    k.temperature = static_cast<float>(m_temp->value() / 100.0);
    return k;
}

void ControlsPanel::updateLabels() {
    m_tempLabel->setText(m_temp->value() == 0 ? tr("0 (hard)")
                                              : QString::number(m_temp->value() / 100.0, 'f', 2));
    m_scale->setEnabled(m_score->currentData().toInt() ==
                        static_cast<int>(attn::ScoreFunction::ScaledDot));
    updateKindNote();
}

void ControlsPanel::structureChanged() {
    updateLabels();
    if (m_syncing) return;
    // The shape is the untrained model's only: a loaded model keeps its own (its controls are
    // greyed out, but the seed's "New" button can still fire).
    if (auto model = m_session->model(); model && !isUntrained(model.get())) return;
    const attn::ModelConfig c = configFromControls();
    m_untrained = c;
    m_session->setConfig(c);
    updateVisibility();
}

void ControlsPanel::attentionChanged() {
    updateLabels();
    if (m_syncing) return;
    // Any model, loaded or untrained: the same model object runs again with other options.
    const attn::AttentionKnobs k = knobsFromControls();
    if (k != m_session->attention()) m_session->setAttention(k);
}

void ControlsPanel::syncFromSession() {
    m_syncing = true;
    const attn::ModelConfig& c = m_session->config();
    auto setCombo = [](QComboBox* box, int value) {
        const int i = box->findData(value);
        if (i >= 0) box->setCurrentIndex(i);
    };
    setCombo(m_arch, static_cast<int>(c.architecture));
    // The untrained model's sizes stay small enough to show; a loaded model (greyed out) shows
    // its real ones, however large.
    {
        const auto current = m_session->model();
        const bool loaded = current && !isUntrained(current.get());
        m_dModel->setMaximum(loaded ? std::max(512, c.d_model) : 512);
        m_heads->setMaximum(loaded ? std::max(16, c.n_heads) : 16);
        m_layers->setMaximum(loaded ? std::max(12, c.n_layers) : 12);
    }
    m_dModel->setValue(c.d_model);
    m_heads->setValue(c.n_heads);
    m_layers->setValue(c.n_layers);
    m_seed->setValue(static_cast<int>(c.seed));
    const attn::AttentionKnobs& k = m_session->attention();
    setCombo(m_projection, static_cast<int>(k.projection));
    setCombo(m_score, static_cast<int>(k.score));
    m_scale->setChecked(k.scale);
    setCombo(m_mask, static_cast<int>(k.mask));
    setCombo(m_pe, static_cast<int>(c.positional));
    m_temp->setValue(static_cast<int>(std::lround(k.temperature * 100)));
    m_syncing = false;
    updateLabels();

    auto model = m_session->model();
    const bool untrained = !model || isUntrained(model.get());
    if (model && untrained) m_untrained = m_session->config();
    if (untrained) {
        m_modelLabel->setText(tr("Untrained: random weights from the seed."));
    } else {
        const attn::ModelConfig& mc = model->config;
        const QString name = QString::fromStdString(mc.name);
        QString label = tr("<b>%1</b> (%2 layers × %3 heads, d_model %4)")
                            .arg(name.toHtmlEscaped())
                            .arg(mc.n_layers)
                            .arg(mc.n_heads)
                            .arg(mc.d_model);
        // Grouped-query attention: say which heads share keys and values.
        if (mc.kvHeads() != mc.n_heads)
            label +=
                QStringLiteral("<br>") + tr("%1 query heads share %2 key/value heads (%3 each)")
                                             .arg(mc.n_heads)
                                             .arg(mc.kvHeads())
                                             .arg(mc.n_heads / std::max(mc.kvHeads(), 1));
        // A quantized file says so: the pictures come from its rounded weights.
        const QString stored = QString::fromStdString(model->quantization).toHtmlEscaped();
        if (stored == QLatin1String("F16") || stored == QLatin1String("BF16"))
            label += QStringLiteral("<br>") +
                     tr("Weights stored as %1 (half precision), computed in float32").arg(stored);
        else if (!stored.isEmpty() && stored != QLatin1String("F32"))
            label += QStringLiteral("<br>") +
                     tr("Weights stored as %1 (quantized file), computed in float32").arg(stored);
        m_modelLabel->setText(label);
    }
    m_backToUntrained->setVisible(!untrained);
    // A loaded model only has the weights it was trained with: general (q·W·k) and additive
    // scores need weights of their own, and a model trained with V = K has no W_V. Offer a
    // choice only when the engine says the model can run it: the knobs it was trained with
    // (which it can), with that one choice changed.
    auto offer = [&](QComboBox* box, auto apply) {
        auto* items = qobject_cast<QStandardItemModel*>(box->model());
        if (!items || !model) return;
        for (int i = 0; i < box->count(); ++i) {
            attn::AttentionKnobs choice = model->trained_attention;
            apply(choice, box->itemData(i).toInt());
            const attn::Status can = attn::checkAttentionKnobs(*model, choice);
            if (QStandardItem* it = items->item(i)) {
                it->setEnabled(can.ok());
                it->setToolTip(can.ok() ? QString() : QString::fromStdString(can.message()));
            }
        }
    };
    offer(m_score,
          [](attn::AttentionKnobs& c, int v) { c.score = static_cast<attn::ScoreFunction>(v); });
    offer(m_projection, [](attn::AttentionKnobs& c, int v) {
        c.projection = static_cast<attn::ProjectionMode>(v);
    });
    for (QWidget* w :
         std::initializer_list<QWidget*>{m_arch, m_dModel, m_heads, m_layers, m_seed, m_pe})
        w->setEnabled(untrained);
    updateVisibility();
}

void ControlsPanel::updateVisibility() {
    const bool seq2seq =
        m_session->isSeq2Seq() ||
        m_arch->currentData().toInt() == static_cast<int>(attn::Architecture::EncoderDecoder);
    m_targetLabel->setVisible(seq2seq);
    m_target->setVisible(seq2seq);
}

void ControlsPanel::showStatus(const QString& error) {
    m_status->setVisible(!error.isEmpty());
    m_status->setText(error);
    if (!error.isEmpty()) m_info->clear();
}

void ControlsPanel::updateInfo() {
    const TracePtr t = m_session->trace();
    if (!t) {
        m_info->clear();
        return;
    }
    const attn::ModelConfig& c = t->model->config;
    QString s = tr("%n token(s)", nullptr, t->tokenCount());
    if (!t->target_tokens.empty())
        s += tr(" → %n target token(s)", nullptr, static_cast<int>(t->target_tokens.size()));
    s += tr(" · %1 layer(s) × %2 head(s) · d_k = %3 · %4 ms")
             .arg(c.n_layers)
             .arg(c.n_heads)
             .arg(c.headDim())
             .arg(m_session->lastRunMs(), 0, 'f', m_session->lastRunMs() < 10 ? 2 : 0);
    s = s.toHtmlEscaped();
    // Words the model does not know all read as one [UNK] embedding: attention on them shows
    // their positions, not their meaning. Say which, and what helps.
    QStringList unknown;
    for (const auto* tokens : {&t->tokens, &t->target_tokens})
        for (const attn::Token& tok : *tokens)
            if (tok.unknown && !unknown.contains(QString::fromStdString(tok.text)))
                unknown << QString::fromStdString(tok.text);
    if (!unknown.isEmpty()) {
        constexpr int kListed = 6;
        const QString words =
            unknown.mid(0, kListed).join(QStringLiteral(", ")) +
            (unknown.size() > kListed
                 ? tr(" and %n more", nullptr, static_cast<int>(unknown.size()) - kListed)
                 : QString());
        s += QStringLiteral("<br><span style='color:#8a4b00;'>") +
             tr("Not in this model's vocabulary: <b>%1</b> (marked ?). The model reads each as "
                "[UNK], one shared vector, so their attention shows positions, not meaning. Use "
                "the model's own words (docs/GRAMMAR.md) or open a model that reads any text, "
                "such as stories260K.")
                 .arg(words.toHtmlEscaped()) +
             QStringLiteral("</span>");
    }
    m_info->setText(s);
}

}  // namespace attn::ui
