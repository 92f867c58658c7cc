#pragma once
// What the model would write next: the greedy next token after the last position of a causal
// model with an LM head, and its five most likely tokens. Follows the Session, so switching
// heads off shows how the prediction changes.

#include <QStringList>
#include <QVector>
#include <QWidget>
#include <memory>
#include <string>

#include "attn/model.h"
#include "views/session_view.h"

class QCustomPlot;
class QLabel;

namespace attn::ui {

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

private:
    void rebuild();
    QCustomPlot* m_plot = nullptr;
    QStringList m_labels;
    QVector<double> m_probs;
    QString m_title;
    bool m_highlightFirst = true;
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

signals:
    /// After every refresh; token is empty when the model does not predict a next token.
    void predictionChanged(const QString& token, double probability);

private:
    void refresh(int parts) override;

    QLabel* m_heading = nullptr;
    QLabel* m_context = nullptr;
    QLabel* m_compare = nullptr;
    ProbabilityBars* m_bars = nullptr;
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
