#pragma once
// Translation mode: the main sentence (the Sentence box), read as English, its greedy Spanish
// translation by our encoder–decoder, and which English word each Spanish word looked at
// (cross-attention). Beside it, "fill the [MASK]" on a word of the same sentence with the
// English masked-word model.
//
// The models: the Session's model when it is of the right kind (e.g. after "use this model" in
// Watch it learn), otherwise the shipped ones (builtin:translation, builtin:english), loaded in
// the background.

#include <QFutureWatcher>
#include <QTimer>
#include <QWidget>
#include <memory>
#include <optional>

#include "attn/evaluate.h"
#include "views/session_view.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSplitter;

namespace attn::ui {

class FillMaskPanel;
class HeatmapView;
class ProbabilityBars;
class Session;

class TranslateView : public SessionView {
    Q_OBJECT
public:
    explicit TranslateView(Session* session, QWidget* parent = nullptr);
    ~TranslateView() override;

    /// Without a session (tools, tests): the sentence to translate, at once. With one, the view
    /// translates the session's text (the main sentence) and this text is not used.
    void setSource(const QString& english);
    QString source() const;
    /// The Spanish words joined by spaces, or empty.
    QString translationText() const;
    const std::optional<attn::Translation>& translation() const { return m_translation; }

    /// Layer (0-based) and head of the cross-attention; head -1 = mean over heads.
    void setCrossHead(int layer, int head);
    HeatmapView* crossView() const { return m_cross; }

    /// The sentence of the fill panel (the session's text replaces it on its next change);
    /// a sentence without "[MASK]" hides one of its words.
    void setMaskText(const QString& text);
    QStringList maskWords() const;
    QVector<double> maskProbabilities() const;
    ProbabilityBars* maskBars() const;
    FillMaskPanel* fillPanel() const { return m_fillPanel; }

    /// Models to use instead of the session's or the shipped ones (nullptr = back to those).
    void setTranslationModel(std::shared_ptr<const attn::Model> model);
    void setEnglishModel(std::shared_ptr<const attn::Model> model);
    std::shared_ptr<const attn::Model> translationModel() const { return m_translator; }
    std::shared_ptr<const attn::Model> englishModel() const { return m_english; }
    /// Blocks until the shipped models have loaded (or failed) and are in use (tests).
    void waitForModels();
    /// True when a model for this kind of view can be used: the right architecture, a word
    /// vocabulary and an output layer.
    static bool isTranslationModel(const attn::Model& model);
    static bool isMaskedWordModel(const attn::Model& model);

signals:
    void translationChanged(const QString& spanish);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    using LoadResult = attn::Result<std::shared_ptr<const attn::Model>>;
    void loadShipped(const QString& name);
    void refresh(int parts) override;
    void onSessionModel();
    void translateNow();
    void fillNow();
    void showCross();
    void refreshCrossChoices();
    void fitChoices();

    std::shared_ptr<const attn::Model> m_translator;  // in use
    std::shared_ptr<const attn::Model> m_english;     // in use
    std::shared_ptr<const attn::Model> m_shippedTranslator, m_shippedEnglish;
    std::shared_ptr<const attn::Model> m_userTranslator, m_userEnglish;  // set by setter
    QString m_translatorError, m_englishError;
    QList<QFutureWatcher<LoadResult>*> m_loads;
    std::optional<attn::Translation> m_translation;
    QString m_localSource;       // the text without a session
    QString m_translatedSource;  // what m_translation is the translation of
    double m_outputPointSize = 0;

    QLabel* m_source = nullptr;
    QLabel* m_output = nullptr;
    QLabel* m_note = nullptr;
    QComboBox* m_layer = nullptr;
    QComboBox* m_head = nullptr;
    QWidget* m_crossControls = nullptr;  // "Cross-attention of" + layer + head
    HeatmapView* m_cross = nullptr;
    FillMaskPanel* m_fillPanel = nullptr;
    QSplitter* m_split = nullptr;
};

}  // namespace attn::ui
