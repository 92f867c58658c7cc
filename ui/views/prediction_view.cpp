#include "views/prediction_view.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>
#include <algorithm>

#include "attn/corpus.h"
#include "attn/evaluate.h"
#include "attn/prediction.h"
#include "attn/tokenizer.h"
#include "views/generation_panel.h"

namespace attn::ui {

QString visibleToken(const std::string& text) {
    QString s = QString::fromStdString(text);
    s.replace(QLatin1Char('\n'), QStringLiteral("⏎"));
    s.replace(QLatin1Char('\t'), QStringLiteral("⇥"));
    return QStringLiteral("“%1”").arg(s);
}

// --- ProbabilityBars -------------------------------------------------------------------------

ProbabilityBars::ProbabilityBars(QWidget* parent) : QWidget(parent) {
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumHeight(120);
    m_plot->setBackground(palette().base());
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    rebuild();
}

void ProbabilityBars::setItems(const QStringList& labels, const QVector<double>& probabilities) {
    Q_ASSERT(labels.size() == probabilities.size());
    m_labels = labels;
    m_probs = probabilities;
    rebuild();
}

void ProbabilityBars::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    // Presentation mode: the labels and percentages are drawn with this widget's font.
    if (event->type() == QEvent::FontChange) rebuild();
}

void ProbabilityBars::setTitle(const QString& title) {
    m_title = title;
    rebuild();
}

void ProbabilityBars::rebuild() {
    QCustomPlot* p = m_plot;
    p->clearPlottables();
    p->clearItems();
    if (p->plotLayout()->rowCount() > 1) {
        p->plotLayout()->removeAt(0);
        p->plotLayout()->simplify();
    }
    if (!m_title.isEmpty()) {
        p->plotLayout()->insertRow(0);
        QFont f = font();
        f.setBold(true);
        p->plotLayout()->addElement(0, 0, new QCPTextElement(p, m_title, f));
    }
    const int n = static_cast<int>(m_labels.size());
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < n; ++i) ticker->addTick(i, m_labels[i]);
    p->yAxis->setTicker(ticker);
    p->yAxis->setRangeReversed(true);  // the most likely on top
    p->yAxis->setRange(-0.6, std::max(n, 1) - 0.4);
    p->yAxis->setTickLength(0, 0);
    p->yAxis->setTickPen(Qt::NoPen);
    p->yAxis->setSubTicks(false);
    p->yAxis->setBasePen(Qt::NoPen);
    p->yAxis->grid()->setVisible(false);
    p->yAxis->setTickLabelFont(font());
    p->xAxis->setVisible(false);
    p->xAxis->grid()->setVisible(false);
    p->xAxis->setRange(0, 1.22);  // room for the percentage after a full bar

    auto addBars = [&](const QColor& color) {
        auto* bars = new QCPBars(p->yAxis, p->xAxis);
        bars->setWidth(0.7);
        bars->setPen(Qt::NoPen);
        bars->setBrush(color);
        return bars;
    };
    QCPBars* first = addBars(m_highlightFirst ? QColor(0xe0, 0x6c, 0x1f) : QColor(70, 110, 180));
    QCPBars* rest = addBars(QColor(70, 110, 180));
    for (int i = 0; i < n; ++i) {
        (i == 0 ? first : rest)->addData(i, m_probs[i]);
        auto* label = new QCPItemText(p);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->position->setType(QCPItemPosition::ptPlotCoords);
        label->position->setCoords(m_probs[i] + 0.02, i);
        const double pct = 100.0 * m_probs[i];
        label->setText(pct >= 10 ? QStringLiteral("%1%").arg(pct, 0, 'f', 0)
                                 : QStringLiteral("%1%").arg(pct, 0, 'f', 1));
        label->setFont(font());
        label->setColor(palette().text().color());
        label->setClipToAxisRect(false);
    }
    p->replot(QCustomPlot::rpQueuedReplot);
}

// --- FillMaskPanel ---------------------------------------------------------------------------

bool isMaskedWordModel(const attn::Model& m) {
    return m.config.architecture == attn::Architecture::Encoder && m.config.has_lm_head &&
           m.mask_id >= 0 && dynamic_cast<const attn::VocabTokenizer*>(m.tokenizer.get());
}

namespace {
const QString kMask = QStringLiteral("[MASK]");
}

FillMaskPanel::FillMaskPanel(QWidget* parent) : QWidget(parent) {
    m_hide = new QComboBox(this);
    m_hide->setObjectName(QStringLiteral("hiddenWord"));
    m_hide->setToolTip(tr("The word of your sentence the model must guess"));
    m_hideRow = new QWidget(this);
    auto* row = new QHBoxLayout(m_hideRow);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(tr("Hide the word"), m_hideRow));
    row->addWidget(m_hide);
    row->addStretch(1);
    m_maskChoice = new QComboBox(this);
    m_maskChoice->setVisible(false);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setTextFormat(Qt::PlainText);
    m_bars = new ProbabilityBars(this);
    m_bars->setMinimumHeight(150);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_hideRow);
    layout->addWidget(m_maskChoice);
    layout->addWidget(m_note);
    layout->addWidget(m_bars, 1);
    layout->addStretch(0);
    connect(m_hide, &QComboBox::currentIndexChanged, this, &FillMaskPanel::fillNow);
    connect(m_maskChoice, &QComboBox::currentIndexChanged, this, &FillMaskPanel::fillNow);
    fillNow();
}

void FillMaskPanel::setModel(std::shared_ptr<const attn::Model> model, const QString& whyNot) {
    m_model = std::move(model);
    m_whyNot = whyNot;
    fillNow();
}

void FillMaskPanel::setSentence(const QString& text) {
    if (text == m_sentence && !m_masked.isEmpty()) return;
    const int old = m_hide->currentIndex();
    const int oldCount = m_hide->count();
    m_sentence = text;
    m_spans.clear();
    if (!text.contains(kMask)) {
        static const QRegularExpression word(QStringLiteral("\\w+(?:['’]\\w+)?"));
        for (auto it = word.globalMatch(text); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            m_spans << Span{m.capturedStart(), m.capturedLength()};
        }
    }
    {
        const QSignalBlocker block(m_hide);
        m_hide->clear();
        for (const Span& sp : m_spans) m_hide->addItem(text.mid(sp.begin, sp.length));
        // The same choice while one edits the sentence; the last word for a new one.
        const int n = static_cast<int>(m_spans.size());
        m_hide->setCurrentIndex(oldCount == n && old >= 0 && old < n ? old : n - 1);
    }
    m_hideRow->setVisible(!m_spans.isEmpty());
    fillNow();
}

QStringList FillMaskPanel::hideableWords() const {
    QStringList out;
    for (int i = 0; i < m_hide->count(); ++i) out << m_hide->itemText(i);
    return out;
}

void FillMaskPanel::setHiddenWord(int index) { m_hide->setCurrentIndex(index); }
int FillMaskPanel::hiddenWord() const { return m_spans.isEmpty() ? -1 : m_hide->currentIndex(); }
QStringList FillMaskPanel::words() const { return m_bars->labels(); }
QVector<double> FillMaskPanel::probabilities() const { return m_bars->probabilities(); }
QString FillMaskPanel::note() const { return m_note->text(); }

void FillMaskPanel::fillNow() {
    m_masked.clear();
    QString hidden;
    const int at = hiddenWord();
    if (at >= 0 && at < m_spans.size()) {
        const Span sp = m_spans[at];
        hidden = m_sentence.mid(sp.begin, sp.length);
        m_masked = m_sentence.left(sp.begin) + kMask + m_sentence.mid(sp.begin + sp.length);
    } else if (m_sentence.contains(kMask)) {
        m_masked = m_sentence;
    }
    auto clear = [&](const QString& why) {
        m_note->setText(why);
        m_bars->setItems({}, {});
        m_bars->setVisible(false);
        m_maskChoice->setVisible(false);
    };
    if (!m_model) return clear(m_whyNot);
    if (m_masked.isEmpty()) return clear(tr("Type a sentence: the model guesses a hidden word."));
    attn::Result<attn::FillResult> r = attn::fillMask(*m_model, m_masked.toStdString(), 5);
    if (!r) return clear(QString::fromStdString(r.message()));
    const attn::FillResult& fill = r.value();
    const int masks = static_cast<int>(fill.predictions.size());
    if (masks == 0) return clear(tr("There is no [MASK] to fill."));
    {
        const QSignalBlocker block(m_maskChoice);
        const int old = m_maskChoice->currentIndex();
        if (m_maskChoice->count() != masks) {
            m_maskChoice->clear();
            for (int i = 0; i < masks; ++i)
                m_maskChoice->addItem(tr("[MASK] number %1").arg(i + 1));
        }
        m_maskChoice->setCurrentIndex(old >= 0 && old < masks ? old : 0);
        m_maskChoice->setVisible(masks > 1);
    }
    const auto& p = fill.predictions[static_cast<std::size_t>(
        std::clamp(m_maskChoice->currentIndex(), 0, masks - 1))];
    QStringList words;
    QVector<double> probs;
    for (const attn::FillCandidate& c : p.candidates) {  // best first
        words << QString::fromStdString(c.word);
        probs << c.probability;
    }
    m_bars->setItems(words, probs);
    m_bars->setVisible(true);
    QStringList seen;
    for (const attn::Token& t : fill.tokens)
        seen << (t.unknown ? QString::fromUtf8(attn::kUnkToken) : QString::fromStdString(t.text));
    QString note = tr("The model reads: %1").arg(seen.join(QLatin1Char(' ')));
    if (!hidden.isEmpty()) {
        const bool right =
            !words.isEmpty() && words.front().compare(hidden, Qt::CaseInsensitive) == 0;
        note += QLatin1Char('\n') + (right ? tr("The hidden word was “%1”: its first guess.")
                                           : tr("The hidden word was “%1”."))
                                        .arg(hidden);
    }
    m_note->setText(note);
}

// --- PredictionView --------------------------------------------------------------------------

PredictionView::PredictionView(Session* session, QWidget* parent)
    // Disabled heads come with a new trace; a generation folds the next-token bars away.
    : SessionView(session, SessionChange::Trace | SessionChange::Generation, parent) {
    m_heading = new QLabel(tr("Next token"), this);
    QFont hf = m_heading->font();
    hf.setBold(true);
    m_heading->setFont(hf);
    m_context = new QLabel(this);
    m_context->setWordWrap(true);
    m_context->setTextFormat(Qt::RichText);
    m_compare = new QLabel(this);
    m_compare->setWordWrap(true);
    m_bars = new ProbabilityBars(this);
    m_bars->setToolTip(
        tr("softmax of the last row of the logits: the five most likely next "
           "tokens"));

    m_appendRow = new QWidget(this);
    m_appendLayout = new QHBoxLayout(m_appendRow);
    m_appendLayout->setContentsMargins(0, 0, 0, 0);
    auto* appendLabel = new QLabel(tr("Append:"), m_appendRow);
    appendLabel->setToolTip(
        tr("Adds the token to the sentence; the model runs again on the longer text, so every "
           "view shows the new token's attention. Click again to go on, one token at a time."));
    m_appendLayout->addWidget(appendLabel);
    m_appendLayout->addStretch(1);
    m_fill = new FillMaskPanel(this);
    m_fill->setObjectName(QStringLiteral("fillMask"));

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_heading);
    layout->addWidget(m_context);
    layout->addWidget(m_bars, 1);
    layout->addWidget(m_appendRow);
    layout->addWidget(m_fill, 1);
    layout->addWidget(m_compare);
    m_generation = new GenerationPanel(session, this);
    layout->addWidget(m_generation, 4);  // its heatmap needs the height more than the bars

    refreshNow();
}

bool PredictionView::showsFillMask() const { return !m_fill->isHidden(); }

QString PredictionView::appendPiece(int i) const { return m_pieces.value(i); }

void PredictionView::rebuildAppendButtons(const attn::Model& model, bool seq2seq) {
    for (QPushButton* b : m_appendButtons) delete b;
    m_appendButtons.clear();
    m_pieces.clear();
    m_appendToTarget = seq2seq;
    const auto& tokenizer = seq2seq ? model.target_tokenizer : model.tokenizer;
    // Word vocabularies write words without their spaces; sub-word pieces carry their own.
    const bool words = dynamic_cast<const attn::VocabTokenizer*>(tokenizer.get()) != nullptr;
    const QString text = seq2seq ? m_session->targetText() : m_session->text();
    for (int i = 0; i < m_tokens.size(); ++i) {
        const QString& t = m_tokens[i];
        // <eos>, </s>, [UNK], [PAD]: markers, not text to write.
        const bool special = t.isEmpty() ||
                             (t.startsWith(QLatin1Char('<')) && t.endsWith(QLatin1Char('>'))) ||
                             (t.startsWith(QLatin1Char('[')) && t.endsWith(QLatin1Char(']')));
        QString piece = t;
        if (words && !text.isEmpty() && !text.endsWith(QLatin1Char(' '))) piece.prepend(' ');
        auto* b = new QPushButton(tr("+ %1").arg(visibleToken(t.toStdString())), m_appendRow);
        b->setObjectName(QStringLiteral("append%1").arg(i));
        b->setEnabled(!special);
        b->setToolTip(special ? tr("%1 is a marker, not a word: there is nothing to append")
                                    .arg(visibleToken(t.toStdString()))
                              : tr("Append it to the %1 and run again")
                                    .arg(seq2seq ? tr("target") : tr("sentence")));
        m_appendLayout->insertWidget(m_appendLayout->count() - 1, b);
        m_appendButtons << b;
        m_pieces << piece;
        connect(b, &QPushButton::clicked, this,
                [this, piece] { emit appendRequested(piece, m_appendToTarget); });
    }
    m_appendRow->setVisible(!m_appendButtons.isEmpty());
}

QString PredictionView::message() const { return m_context->text(); }

void PredictionView::refresh(int) {
    m_tokens.clear();
    m_probs.clear();
    const attn::TracePtr trace = m_session ? m_session->trace() : nullptr;
    auto none = [&](const QString& why) {
        m_context->setText(why);
        m_compare->clear();
        m_bars->setItems({}, {});
        m_bars->setVisible(false);
        m_appendRow->setVisible(false);
        m_fill->setVisible(false);
        emit predictionChanged(QString(), 0.0);
    };
    if (!trace || !trace->model) return none(tr("No trace yet."));
    const attn::Model& model = *trace->model;
    if (isMaskedWordModel(model)) {
        // An encoder guesses hidden words: hide one word of the main sentence and ask.
        none(
            tr("This model reads the sentence both ways and guesses a hidden word. Choose the "
               "word to hide; the bars are its guesses, best first."));
        m_heading->setText(tr("Fill the mask"));
        m_fill->setVisible(true);
        if (m_fill->model() != trace->model) m_fill->setModel(trace->model);
        m_fill->setSentence(m_session->text());
        if (!m_session->disabledHeads().empty())
            m_compare->setText(tr("The guesses are those of the model with every head on."));
        return;
    }
    m_heading->setText(tr("Next token"));
    const bool seq2seq = model.config.architecture == attn::Architecture::EncoderDecoder;
    if (trace->logits.rows() == 0 || !model.config.has_lm_head) {
        return none(
            tr("This model has no output layer over a vocabulary, so it predicts no "
               "token. Load a trained model (e.g. llama2.c stories260K or GPT-2) to see "
               "what comes next."));
    }
    if (model.config.architecture == attn::Architecture::Encoder) {
        return none(
            tr("This model reads the sentence in both directions and guesses masked "
               "words, not the next one. Try the “fill the [MASK]” panel."));
    }
    const auto& tokenizer = seq2seq ? model.target_tokenizer : model.tokenizer;
    const auto& context = seq2seq ? trace->target_tokens : trace->tokens;
    if (!tokenizer || context.empty()) return none(tr("Type some text to see what comes next."));

    const attn::RowVec last = trace->logits.row(trace->logits.rows() - 1);  // (vocab)
    for (const attn::TokenProbability& c : attn::topK(last, 5)) {
        m_tokens << QString::fromStdString(tokenizer->decode(c.id));
        m_probs << c.probability;
    }
    if (m_tokens.isEmpty()) return none(tr("The scores of the last position are not numbers."));
    QStringList shown;
    for (const QString& t : m_tokens) shown << visibleToken(t.toStdString());
    m_bars->setItems(shown, m_probs);
    m_fill->setVisible(false);
    rebuildAppendButtons(model, seq2seq);
    // Once tokens are generated, their attention needs the height (a projector at 1024×768):
    // the bars and the append buttons fold away; the line above still names the next token.
    const bool generated = m_session->generation() != nullptr;
    m_bars->setVisible(!generated);
    if (generated) m_appendRow->setVisible(false);

    // "… the last few tokens → next", cut from the input text itself so sub-word tokens read
    // as the words they came from.
    const std::string& input = seq2seq ? trace->target_text : trace->text;
    const std::size_t from = context.size() > 10 ? context.size() - 10 : 0;
    std::size_t begin = input.size();
    for (std::size_t i = from; i < context.size(); ++i)
        if (context[i].end > context[i].begin) begin = std::min(begin, context[i].begin);
    if (from > 0) {
        // Start at a word, not in the middle of one.
        while (begin < input.size() && begin > 0 && input[begin - 1] != ' ') ++begin;
    }
    QString tailText;
    if (begin < input.size()) {
        tailText =
            QString::fromUtf8(input.data() + begin, static_cast<qsizetype>(input.size() - begin));
    } else {
        QStringList words;
        for (std::size_t i = from; i < context.size(); ++i)
            words << QString::fromStdString(context[i].text);
        tailText = words.join(QLatin1Char(' '));
    }
    const QString lead =
        (from > 0 ? QStringLiteral("… ") : QString()) + tailText.trimmed().toHtmlEscaped();
    m_context->setText(tr("%1 <b style=\"color:#e06c1f\">→ %2</b> &nbsp;(%3%)")
                           .arg(lead, visibleToken(m_tokens.front().toStdString()).toHtmlEscaped())
                           .arg(100.0 * m_probs.front(), 0, 'f', 1));

    // Compare with every head on, for the same model and input.
    const bool allOn = m_session->disabledHeads().empty();
    const std::string key = trace->text + '\x1f' + trace->target_text;
    if (allOn) {
        m_baseline = {trace->model, key, m_tokens.front(), m_probs.front()};
        m_compare->clear();
    } else {
        const int off = static_cast<int>(m_session->disabledHeads().size());
        const auto base = m_baseline.model.lock();
        if (base == trace->model && m_baseline.text == key) {
            const bool same = m_baseline.token == m_tokens.front();
            m_compare->setText(
                tr("%n head(s) switched off. With every head on: %1 (%2%)%3", nullptr, off)
                    .arg(visibleToken(m_baseline.token.toStdString()))
                    .arg(100.0 * m_baseline.probability, 0, 'f', 1)
                    .arg(same ? tr(" — the same token.") : tr(" — a different token.")));
        } else {
            m_compare->setText(tr("%n head(s) switched off.", nullptr, off));
        }
    }
    emit predictionChanged(m_tokens.front(), m_probs.front());
}

}  // namespace attn::ui
