#include "views/prediction_view.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>

#include "attn/prediction.h"

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

// --- PredictionView --------------------------------------------------------------------------

PredictionView::PredictionView(Session* session, QWidget* parent)
    // Disabled heads come with a new trace, so Trace is all it shows.
    : SessionView(session, SessionChange::Trace, parent) {
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

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_heading);
    layout->addWidget(m_context);
    layout->addWidget(m_bars, 1);
    layout->addWidget(m_compare);

    refreshNow();
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
        emit predictionChanged(QString(), 0.0);
    };
    if (!trace || !trace->model) return none(tr("No trace yet."));
    const attn::Model& model = *trace->model;
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
    m_bars->setVisible(true);

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
