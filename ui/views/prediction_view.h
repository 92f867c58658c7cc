#pragma once
// What the model would write next: the greedy next token after the last position of a causal
// model with an LM head, and its five most likely tokens, each of which can be appended to the
// sentence (generation, one token at a time). For a masked-word model (an encoder), the word it
// would put in place of one word of the sentence (fill the mask). Follows the Session, so
// switching heads off shows how the prediction changes.

#include <QStringList>
#include <QVector>
#include <QWidget>
#include <memory>
#include <string>

#include "attn/model.h"
#include "views/session_view.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QHBoxLayout;

namespace attn::ui {

class GenerationPanel;

/// Horizontal probability bars with the label of each bar on the left and its percentage at the
/// end (QCustomPlot). The first item is drawn on top.
class ProbabilityBars : public QWidget {
    Q_OBJECT
public:
    explicit ProbabilityBars(QWidget* parent = nullptr);
    /// probabilities in 0..1; labels and probabilities have the same length.
    void setItems(const QStringList& labels, const QVector<double>& probabilities);
    void setTitle(const QString& title);
    /// The first bar in an accent colour (the chosen word).
    void setHighlightFirst(bool on) { m_highlightFirst = on; }
    QStringList labels() const { return m_labels; }
    QVector<double> probabilities() const { return m_probs; }
    QCustomPlot* plot() const { return m_plot; }
    QSize sizeHint() const override { return {300, 170}; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    QCustomPlot* m_plot = nullptr;
    QStringList m_labels;
    QVector<double> m_probs;
    QString m_title;
    bool m_highlightFirst = true;
};

/// True when a model guesses masked words: an encoder with an output layer over a word
/// vocabulary and a [MASK] token.
bool isMaskedWordModel(const attn::Model& model);

/// Fill the mask on a sentence: the sentence as it is when it has a "[MASK]", else one of its
/// words (chosen in a box; the last by default) is hidden. The words come from attn::fillMask,
/// best first.
class FillMaskPanel : public QWidget {
    Q_OBJECT
public:
    explicit FillMaskPanel(QWidget* parent = nullptr);
    /// nullptr: says why not (whyNot) instead of guessing.
    void setModel(std::shared_ptr<const attn::Model> model, const QString& whyNot = {});
    std::shared_ptr<const attn::Model> model() const { return m_model; }
    void setSentence(const QString& text);  ///< fills at once
    QString sentence() const { return m_sentence; }
    /// The words one may hide (empty when the sentence has its own [MASK]).
    QStringList hideableWords() const;
    /// Hides word index of hideableWords() and fills at once.
    void setHiddenWord(int index);
    int hiddenWord() const;
    /// What the model reads ("the black cat drank the [MASK]").
    QString maskedText() const { return m_masked; }
    QStringList words() const;
    QVector<double> probabilities() const;
    ProbabilityBars* bars() const { return m_bars; }
    QComboBox* wordChoice() const { return m_hide; }
    QString note() const;

private:
    void fillNow();
    struct Span {
        qsizetype begin, length;
    };
    std::shared_ptr<const attn::Model> m_model;
    QString m_whyNot;
    QString m_sentence;
    QString m_masked;
    QList<Span> m_spans;  // the words of m_sentence
    QComboBox* m_hide = nullptr;
    QWidget* m_hideRow = nullptr;
    QComboBox* m_maskChoice = nullptr;  // several [MASK]s: which one
    QLabel* m_note = nullptr;
    ProbabilityBars* m_bars = nullptr;
};

/// The next token's candidates come from attn::topK (attn/prediction.h).
class PredictionView : public SessionView {
    Q_OBJECT
public:
    explicit PredictionView(Session* session, QWidget* parent = nullptr);

    /// True when the current trace gives a next-token prediction.
    bool hasPrediction() const { return !m_tokens.isEmpty(); }
    /// The greedy next token (as the tokenizer writes it) or empty.
    QString predictedToken() const { return m_tokens.isEmpty() ? QString() : m_tokens.front(); }
    QStringList topTokens() const { return m_tokens; }
    QVector<double> topProbabilities() const { return m_probs; }
    /// What the panel says when there is no prediction (or the context line).
    QString message() const;
    ProbabilityBars* bars() const { return m_bars; }
    /// Fill the mask on the main sentence (shown for masked-word models).
    FillMaskPanel* fillPanel() const { return m_fill; }
    bool showsFillMask() const;
    /// One button per candidate that appends it to the sentence (causal models).
    QList<QPushButton*> appendButtons() const { return m_appendButtons; }
    /// What appending candidate i adds to the text ("little" → " little" after a word).
    QString appendPiece(int i) const;
    /// Generate N tokens and step through their attention (causal models with an LM head).
    GenerationPanel* generationPanel() const { return m_generation; }

signals:
    /// After every refresh; token is empty when the model does not predict a next token.
    void predictionChanged(const QString& token, double probability);
    /// The user chose to append piece to the sentence (target = the decoder's target).
    void appendRequested(const QString& piece, bool target);

private:
    void refresh(int parts) override;
    void rebuildAppendButtons(const attn::Model& model, bool seq2seq);

    GenerationPanel* m_generation = nullptr;
    QLabel* m_heading = nullptr;
    QLabel* m_context = nullptr;
    QLabel* m_compare = nullptr;
    ProbabilityBars* m_bars = nullptr;
    QWidget* m_appendRow = nullptr;
    QHBoxLayout* m_appendLayout = nullptr;
    QList<QPushButton*> m_appendButtons;
    QStringList m_pieces;  // what each button appends
    bool m_appendToTarget = false;
    FillMaskPanel* m_fill = nullptr;
    QStringList m_tokens;
    QVector<double> m_probs;

    // The prediction with every head on, for the same model and text, so that switching heads
    // off can be compared with it.
    struct Baseline {
        std::weak_ptr<const attn::Model> model;  // weak: never keep a large old model alive
        std::string text;
        QString token;
        double probability = 0;
    } m_baseline;
};

/// Visible form of a token: quotes show its spaces, a newline shows as ⏎.
QString visibleToken(const std::string& text);

}  // namespace attn::ui
