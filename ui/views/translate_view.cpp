#include "views/translate_view.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>

#include "attn/analysis.h"
#include "attn/corpus.h"
#include "attn/formats/teaching_model.h"
#include "attn/open_model.h"
#include "attn/tokenizer.h"
#include "session/session.h"
#include "views/prediction_view.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

const char* const kDefaultSource = "the ball is blue";
const char* const kDefaultMask = "the cat drank the [MASK]";

bool hasWordVocabulary(const attn::Model& m) {
    return dynamic_cast<const attn::VocabTokenizer*>(m.tokenizer.get()) != nullptr;
}

QString tokenLabel(const attn::Token& t) {
    return t.unknown ? QString::fromUtf8(attn::kUnkToken) : QString::fromStdString(t.text);
}

QString sourceWord(const attn::Token& t, std::string_view text) {
    // The original spelling of an unknown word, from its span in the input.
    if (t.end > t.begin && t.end <= text.size())
        return QString::fromUtf8(text.data() + t.begin, static_cast<qsizetype>(t.end - t.begin));
    return QString::fromStdString(t.text);
}

}  // namespace

bool TranslateView::isTranslationModel(const attn::Model& m) {
    return m.config.architecture == attn::Architecture::EncoderDecoder && m.config.has_lm_head &&
           m.target_tokenizer && hasWordVocabulary(m) && m.bos_id >= 0 && m.eos_id >= 0;
}

bool TranslateView::isMaskedWordModel(const attn::Model& m) { return ui::isMaskedWordModel(m); }

TranslateView::TranslateView(Session* session, QWidget* parent)
    : SessionView(session, SessionChange::Model | SessionChange::Trace | SessionChange::Appearance,
                  parent),
      m_localSource(QString::fromUtf8(kDefaultSource)) {
    // --- translation: of the main sentence (the box on the left), not a box of its own ---
    m_source = new QLabel(this);
    m_source->setObjectName(QStringLiteral("translateSource"));
    m_source->setWordWrap(true);
    m_source->setTextFormat(Qt::PlainText);
    m_source->setToolTip(tr("The sentence of the Sentence box on the left"));
    m_output = new QLabel(this);
    m_outputPointSize = m_output->font().pointSizeF() * 1.35;
    QFont big = m_output->font();
    big.setPointSizeF(m_outputPointSize);
    big.setBold(true);
    m_output->setFont(big);
    m_output->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_output->setWordWrap(true);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_layer = new QComboBox(this);
    m_layer->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_head = new QComboBox(this);
    m_head->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_cross = new HeatmapView(this);
    m_cross->setRange(0.0, 1.0);
    m_cross->setAxisTitles(tr("Spanish word being written"), tr("English word"));

    auto* transBox = new QGroupBox(tr("Translate English → Spanish"), this);
    auto* form = new QFormLayout;
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    form->addRow(tr("English:"), m_source);
    form->addRow(tr("Spanish:"), m_output);
    m_crossControls = new QWidget(transBox);
    auto* pick = new QHBoxLayout(m_crossControls);
    pick->setContentsMargins(0, 0, 0, 0);
    pick->addWidget(new QLabel(tr("Cross-attention of"), m_crossControls));
    pick->addWidget(m_layer);
    pick->addWidget(m_head);
    pick->addStretch(1);
    auto* transLayout = new QVBoxLayout(transBox);
    transLayout->addLayout(form);
    transLayout->addWidget(m_note);
    transLayout->addWidget(m_crossControls);
    transLayout->addWidget(m_cross, 1);
    transLayout->addStretch(0);  // takes the room while the heatmap is hidden

    // --- fill the [MASK]: a word of the same sentence ---
    m_fillPanel = new FillMaskPanel(this);
    m_fillPanel->setSentence(session ? session->text() : QString::fromUtf8(kDefaultMask));
    auto* maskBox = new QGroupBox(tr("Fill the [MASK]"), this);
    auto* maskLayout = new QVBoxLayout(maskBox);
    maskLayout->addWidget(m_fillPanel, 1);

    auto* split = new QSplitter(Qt::Horizontal, this);
    m_split = split;
    split->addWidget(transBox);
    split->addWidget(maskBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);
    auto* root = new QVBoxLayout(this);
    root->setContentsMargins(4, 4, 4, 4);
    root->addWidget(split);

    connect(m_layer, &QComboBox::currentIndexChanged, this, &TranslateView::showCross);
    connect(m_head, &QComboBox::currentIndexChanged, this, &TranslateView::showCross);
    loadShipped(QStringLiteral("translation"));
    loadShipped(QStringLiteral("english"));
    refreshNow();
}

void TranslateView::resizeEvent(QResizeEvent* event) {
    SessionView::resizeEvent(event);
    // Side by side when both panels fit the room the tab gives (the scroll area around the
    // view); else one above the other, so that a 1024-wide projector scrolls only downwards.
    const int room = parentWidget() ? parentWidget()->width() : width();
    int sideBySide = m_split->handleWidth() + 8;
    for (int i = 0; i < m_split->count(); ++i)
        sideBySide += m_split->widget(i)->minimumSizeHint().width();
    const Qt::Orientation o = room >= sideBySide ? Qt::Horizontal : Qt::Vertical;
    if (m_split->orientation() == o) return;
    m_split->setOrientation(o);
    // Stacked, the cross-attention keeps the height it needs to label every word: the tab
    // scrolls downwards instead of squeezing the figure.
    const double scale = m_session ? m_session->fontScale() : 1.0;
    m_split->widget(0)->setMinimumHeight(
        o == Qt::Vertical ? static_cast<int>(std::lround(480 * scale)) : 0);
    m_split->widget(1)->setMinimumHeight(
        o == Qt::Vertical ? static_cast<int>(std::lround(260 * scale)) : 0);
}

void TranslateView::refresh(int parts) {
    if (parts & SessionChange::Appearance) {
        const double scale = m_session ? m_session->fontScale() : 1.0;
        m_cross->setFontScale(scale);
        QFont big = m_output->font();
        big.setPointSizeF(m_outputPointSize * scale);
        m_output->setFont(big);
        QTimer::singleShot(0, this, &TranslateView::fitChoices);  // once the new fonts arrive
    }
    if (parts & (SessionChange::Model | SessionChange::Trace)) {
        onSessionModel();
        // The main sentence changed: translate it and offer its words to hide.
        if (!m_translation || source() != m_translatedSource) translateNow();
        if (m_session) m_fillPanel->setSentence(m_session->text());
    }
}

TranslateView::~TranslateView() {
    for (auto* w : m_loads) {
        w->disconnect(this);
        w->waitForFinished();
    }
}

void TranslateView::loadShipped(const QString& name) {
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    m_loads << watcher;
    const bool translation = name == QLatin1String("translation");
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, translation] {
        m_loads.removeAll(watcher);
        watcher->deleteLater();
        LoadResult r = watcher->result();
        QString& error = translation ? m_translatorError : m_englishError;
        if (r) {
            (translation ? m_shippedTranslator : m_shippedEnglish) = std::move(r.value());
            error.clear();
        } else {
            error = QString::fromStdString(r.message());
        }
        onSessionModel();
    });
    const std::string spec = "builtin:" + name.toStdString();
    watcher->setFuture(QtConcurrent::run([spec] { return attn::openModel(spec); }));
}

void TranslateView::waitForModels() {
    while (!m_loads.isEmpty()) {
        m_loads.front()->waitForFinished();
        QCoreApplication::processEvents();
    }
}

void TranslateView::setTranslationModel(std::shared_ptr<const attn::Model> model) {
    m_userTranslator = std::move(model);
    onSessionModel();
}

void TranslateView::setEnglishModel(std::shared_ptr<const attn::Model> model) {
    m_userEnglish = std::move(model);
    onSessionModel();
}

void TranslateView::onSessionModel() {
    // Which models to use: one given by the caller, else the session's when it is of the right
    // kind (the user trained or loaded it), else the shipped one.
    std::shared_ptr<const attn::Model> current = m_session ? m_session->model() : nullptr;
    auto pick = [&](const std::shared_ptr<const attn::Model>& user,
                    const std::shared_ptr<const attn::Model>& shipped,
                    bool (*fits)(const attn::Model&)) {
        if (user) return user;
        if (current && fits(*current)) return current;
        return shipped;
    };
    auto translator =
        pick(m_userTranslator, m_shippedTranslator, &TranslateView::isTranslationModel);
    auto english = pick(m_userEnglish, m_shippedEnglish, &TranslateView::isMaskedWordModel);
    const bool newTranslator = translator != m_translator || !m_translation;
    const bool newEnglish = english != m_english || m_fillPanel->model() != english;
    m_translator = std::move(translator);
    m_english = std::move(english);
    if (newTranslator) translateNow();
    if (newEnglish) fillNow();
}

QString TranslateView::source() const { return m_session ? m_session->text() : m_localSource; }

void TranslateView::setSource(const QString& english) {
    m_localSource = english;
    translateNow();
}

QString TranslateView::translationText() const {
    return m_translation ? QString::fromStdString(m_translation->text) : QString();
}

void TranslateView::translateNow() {
    m_translation.reset();
    m_translatedSource = source();
    m_source->setText(m_translatedSource);
    if (!m_translator) {
        m_output->setText(QStringLiteral("—"));
        m_note->setText(
            !m_loads.isEmpty()
                ? tr("Loading the translation model…")
                : tr("The translation model is not available: %1").arg(m_translatorError));
        m_note->setVisible(true);
        refreshCrossChoices();
        showCross();
        emit translationChanged(QString());
        return;
    }
    const std::string text = m_translatedSource.toStdString();
    attn::Result<attn::Translation> r = attn::translate(*m_translator, text);
    if (!r) {
        m_output->setText(QStringLiteral("—"));
        m_note->setText(QString::fromStdString(r.message()));
    } else {
        m_translation = std::move(r.value());
        m_output->setText(QString::fromStdString(m_translation->text));
        QStringList unknown;
        for (const attn::Token& t : m_translation->source_tokens)
            if (t.unknown) unknown << QStringLiteral("“%1”").arg(sourceWord(t, text));
        QStringList notes;
        if (!unknown.isEmpty())
            notes << tr("Not in the model's vocabulary, read as [UNK]: %1.")
                         .arg(unknown.join(QStringLiteral(", ")));
        if (!m_translation->finished)
            notes << tr("The model did not end the sentence; it stopped at the length limit.");
        m_note->setText(notes.join(QLatin1Char(' ')));
    }
    m_note->setVisible(!m_note->text().isEmpty());
    refreshCrossChoices();
    showCross();
    emit translationChanged(translationText());
}

void TranslateView::refreshCrossChoices() {
    const int layers = m_translator ? m_translator->config.n_decoder_layers : 0;
    const int heads = m_translator ? m_translator->config.n_heads : 0;
    if (m_layer->count() == layers && m_head->count() == (heads > 0 ? heads + 1 : 0)) return;
    const int oldLayer = m_layer->currentIndex(), oldHead = m_head->currentIndex();
    QSignalBlocker b1(m_layer), b2(m_head);
    m_layer->clear();
    m_head->clear();
    for (int l = 0; l < layers; ++l) m_layer->addItem(tr("decoder layer %1").arg(l + 1), l);
    if (heads > 0) m_head->addItem(tr("mean of the heads"), -1);
    for (int h = 0; h < heads; ++h) m_head->addItem(tr("head %1").arg(h + 1), h);
    // The last layer is where the alignment shows most clearly.
    m_layer->setCurrentIndex(oldLayer >= 0 && oldLayer < layers ? oldLayer : layers - 1);
    m_head->setCurrentIndex(oldHead >= 0 && oldHead <= heads ? oldHead : 0);
    fitChoices();
}

void TranslateView::fitChoices() {
    // Never narrower than the longest choice: "decoder laye…" says nothing.
    for (QComboBox* c : {m_layer, m_head}) {
        c->setMinimumWidth(0);
        c->setMinimumWidth(c->sizeHint().width());
    }
}

void TranslateView::setCrossHead(int layer, int head) {
    {
        QSignalBlocker b1(m_layer), b2(m_head);
        m_layer->setCurrentIndex(m_layer->findData(layer));
        m_head->setCurrentIndex(m_head->findData(head));
    }
    showCross();
}

void TranslateView::showCross() {
    const bool any = m_translation && !m_translation->cross_attention.empty();
    // Without a translation there is nothing to point at: the note above says why.
    m_cross->setVisible(any);
    m_crossControls->setVisible(any);
    if (!any) {
        m_cross->setMatrix(Eigen::MatrixXf(), {}, {});
        m_cross->setTitle(tr("Cross-attention"));
        return;
    }
    const auto& layers = m_translation->cross_attention;
    const int layer =
        std::clamp(m_layer->currentData().toInt(), 0, static_cast<int>(layers.size()) - 1);
    const int head = m_head->currentData().isValid() ? m_head->currentData().toInt() : -1;
    const auto& heads = layers[static_cast<std::size_t>(layer)];
    // (T_out, T_src): row = Spanish word being written, column = English word
    const Eigen::MatrixXf A = head >= 0 && head < static_cast<int>(heads.size())
                                  ? heads[static_cast<std::size_t>(head)]
                                  : attn::meanOfHeads(heads);
    QStringList rows, cols;
    for (const std::string& w : m_translation->outputs) rows << QString::fromStdString(w);
    for (const attn::Token& t : m_translation->source_tokens) cols << tokenLabel(t);
    m_cross->setMatrix(A, rows, cols);
    // Short lines: the title must fit above a narrow figure (a 1024-wide projector).
    m_cross->setTitle(
        head >= 0
            ? tr("Decoder layer %1, head %2\nwhere each Spanish word looked")
                  .arg(layer + 1)
                  .arg(head + 1)
            : tr("Decoder layer %1, mean of heads\nwhere each Spanish word looked").arg(layer + 1));
    QStringList reading;  // what the decoder had read when it wrote row r
    for (const std::string& w : m_translation->decoder_inputs) reading << QString::fromStdString(w);
    m_cross->setCellTooltipProvider([rows, cols, reading, A](int r, int c) {
        if (r < 0 || c < 0 || r >= A.rows() || c >= A.cols()) return QString();
        return tr("Writing “%1” (after reading “%2”): %3% of its attention on “%4”")
            .arg(rows.value(r), reading.value(r))
            .arg(100.0 * A(r, c), 0, 'f', 1)
            .arg(cols.value(c));
    });
}

// --- fill the [MASK] -------------------------------------------------------------------------

void TranslateView::setMaskText(const QString& text) { m_fillPanel->setSentence(text); }
QStringList TranslateView::maskWords() const { return m_fillPanel->words(); }
QVector<double> TranslateView::maskProbabilities() const { return m_fillPanel->probabilities(); }
ProbabilityBars* TranslateView::maskBars() const { return m_fillPanel->bars(); }

void TranslateView::fillNow() {
    if (m_english)
        m_fillPanel->setModel(m_english);
    else
        m_fillPanel->setModel(
            nullptr, !m_loads.isEmpty()
                         ? tr("Loading the English model…")
                         : tr("The English model is not available: %1").arg(m_englishError));
}

}  // namespace attn::ui
