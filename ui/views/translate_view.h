#pragma once
// Translation mode: type English, read the greedy Spanish translation of our encoder–decoder,
// and see which English word each Spanish word looked at (cross-attention). Beside it, a small
// "fill the [MASK]" panel for the English masked-word model.
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

namespace attn::ui {

class HeatmapView;
class ProbabilityBars;
class Session;

class TranslateView : public SessionView {
    Q_OBJECT
public:
    explicit TranslateView(Session* session, QWidget* parent = nullptr);
    ~TranslateView() override;

    void setSource(const QString& english);  ///< translates at once
    QString source() const;
    /// The Spanish words joined by spaces, or empty.
    QString translationText() const;
    const std::optional<attn::Translation>& translation() const { return m_translation; }

    /// Layer (0-based) and head of the cross-attention; head -1 = mean over heads.
    void setCrossHead(int layer, int head);
    HeatmapView* crossView() const { return m_cross; }

    void setMaskText(const QString& text);  ///< fills at once
    QStringList maskWords() const;
    QVector<double> maskProbabilities() const;
    ProbabilityBars* maskBars() const { return m_bars; }

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

private:
    using LoadResult = attn::Result<std::shared_ptr<const attn::Model>>;
    void loadShipped(const QString& name);
    void refresh(int parts) override;
    void onSessionModel();
    void translateNow();
    void fillNow();
    void showCross();
    void refreshCrossChoices();

    std::shared_ptr<const attn::Model> m_translator;  // in use
    std::shared_ptr<const attn::Model> m_english;     // in use
    std::shared_ptr<const attn::Model> m_shippedTranslator, m_shippedEnglish;
    std::shared_ptr<const attn::Model> m_userTranslator, m_userEnglish;  // set by setter
    QString m_translatorError, m_englishError;
    QList<QFutureWatcher<LoadResult>*> m_loads;
    std::optional<attn::Translation> m_translation;
    std::optional<attn::FillResult> m_fill;

    QLineEdit* m_source = nullptr;
    QLabel* m_output = nullptr;
    QLabel* m_note = nullptr;
    QComboBox* m_layer = nullptr;
    QComboBox* m_head = nullptr;
    QWidget* m_crossControls = nullptr;  // "Cross-attention of" + layer + head
    HeatmapView* m_cross = nullptr;
    QLineEdit* m_maskText = nullptr;
    QComboBox* m_maskChoice = nullptr;
    QLabel* m_maskNote = nullptr;
    ProbabilityBars* m_bars = nullptr;
    QTimer m_translateTimer, m_fillTimer;
};

}  // namespace attn::ui
