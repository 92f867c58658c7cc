#pragma once
// The left panel: the sentence (and target) boxes, example sentences, every model and attention
// control the engine offers, and a status area (validation messages, progress, cancel).
// Every change re-runs at once; invalid combinations show the engine's message, never crash.

#include <QList>
#include <QString>
#include <QWidget>
#include <optional>

#include "attn/model.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QGroupBox;

namespace attn::ui {

class Session;

struct ExampleSentence {
    QString title;  ///< shown in the menu
    QString source;
    QString target;  ///< non-empty: an encoder–decoder (translation) example
    /// The model the example is meant for ("builtin:english", "builtin:translation",
    /// "untrained"); empty = keep the model in use.
    QString model;
};

/// The built-in examples (resources/examples/examples.json; a fallback list if it is missing).
QList<ExampleSentence> exampleSentences();

class ControlsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ControlsPanel(Session* session, QWidget* parent = nullptr);

    /// The untrained model's shape the controls describe (the rest as the session's config).
    attn::ModelConfig configFromControls() const;
    /// The attention knobs the controls describe (run options: they never change the model).
    attn::AttentionKnobs knobsFromControls() const;
    /// Puts an example into the boxes and asks for its model (modelRequested); an untrained
    /// model switches to encoder–decoder for a translation.
    void loadExample(const ExampleSentence& example);
    /// The example of a row of examplesCombo() (row 0 is the prompt: nullopt).
    std::optional<ExampleSentence> exampleAt(int row) const;
    void setSourceText(const QString& text);
    void setTargetText(const QString& text);

    /// The config the untrained model had last (what "Untrained" returns to).
    const attn::ModelConfig& untrainedConfig() const { return m_untrained; }
    QPlainTextEdit* sourceEdit() const { return m_source; }
    QPlainTextEdit* targetEdit() const { return m_target; }
    QComboBox* examplesCombo() const { return m_examples; }
    QSpinBox* dModelSpin() const { return m_dModel; }
    QSpinBox* headsSpin() const { return m_heads; }
    QSpinBox* layersSpin() const { return m_layers; }
    QSlider* temperatureSlider() const { return m_temp; }
    QComboBox* projectionCombo() const { return m_projection; }
    QComboBox* scoreCombo() const { return m_score; }
    QCheckBox* scaleCheck() const { return m_scale; }
    QComboBox* maskCombo() const { return m_mask; }
    QLabel* statusLabel() const { return m_status; }
    QComboBox* architectureCombo() const { return m_arch; }
    /// What the model's kind means with the mask in use ("sees only the past" for an encoder
    /// with a causal mask); shown under the Kind box.
    QString kindText() const;
    QLabel* kindNote() const { return m_kindNote; }

signals:
    /// An example wants another model (a spec ModelActions::load or "untrained" takes).
    void modelRequested(const QString& spec);

public slots:
    /// Re-reads the session's config into the controls (after a model is loaded).
    void syncFromSession();

private:
    void structureChanged();  // the untrained model's shape: builds a new one
    void attentionChanged();  // run options: the same model runs again
    void updateLabels();
    void updateVisibility();
    void showStatus(const QString& error);
    void updateInfo();
    void updateKindNote();
    void applyFontScale();

    Session* m_session;
    bool m_syncing = false;
    attn::ModelConfig m_untrained;  // the last config of the untrained model (to return to)

    QPlainTextEdit* m_source = nullptr;
    QLabel* m_targetLabel = nullptr;
    QPlainTextEdit* m_target = nullptr;
    QComboBox* m_examples = nullptr;

    QLabel* m_modelLabel = nullptr;
    QPushButton* m_backToUntrained = nullptr;
    QGroupBox* m_structure = nullptr;
    QComboBox* m_arch = nullptr;
    QLabel* m_kindNote = nullptr;
    QList<ExampleSentence> m_exampleList;
    QSpinBox* m_dModel = nullptr;
    QSpinBox* m_heads = nullptr;
    QSpinBox* m_layers = nullptr;
    QSpinBox* m_seed = nullptr;
    QComboBox* m_projection = nullptr;
    QComboBox* m_score = nullptr;
    QCheckBox* m_scale = nullptr;
    QComboBox* m_mask = nullptr;
    QComboBox* m_pe = nullptr;
    QSlider* m_temp = nullptr;
    QLabel* m_tempLabel = nullptr;

    QLabel* m_status = nullptr;
    QLabel* m_info = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
};

}  // namespace attn::ui
