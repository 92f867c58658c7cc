#pragma once
// File → Export…: format, size, DPI and path for one view (PNG, SVG, PDF) or its matrix (CSV,
// JSON), or every head of a layer / of the model into a folder. Pictures are slide-ready by
// default: cropped to the figure, titled (model, sentence, layer, head, step), named like
// english_L1_H2_softmax.png; "Large text" draws them with presentation-sized fonts. OK writes; on
// failure the dialog stays open and says why.

#include <QDialog>

#include "export/export.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace attn::ui {

class Session;

/// What the session shows, for a caption and a file name: the model's short name, the sentence,
/// and the current step of Step by step (its layer, and the focused head on attention steps).
/// view: the title of another view (e.g. "Lines") to name instead of the step; its layer and
/// head are the focused ones.
FigureCaption captionFromSession(const Session& session, const QString& view = {});

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    enum class Scope { View, LayerHeads, ModelHeads };

    /// target: the widget to draw (may be null); matrix: what CSV / JSON write (may be empty).
    explicit ExportDialog(QWidget* target, LabelledMatrix matrix = {}, QWidget* parent = nullptr);

    /// Offers "every head of this layer / of the model" from the session's trace and focus, and
    /// takes the caption and default file name from it (captionFromSession) unless setCaption
    /// was called.
    void setSession(Session* session);
    /// The caption drawn above the picture and the default file name. Callers whose view is not
    /// Step by step pass captionFromSession(session, tabTitle).
    void setCaption(const FigureCaption& caption);
    QString captionText() const;  ///< as it will be drawn (the user may edit or clear it)
    void setLargeText(bool on);   ///< presentation-sized fonts (ImageOptions::fontScale 1.5)
    bool largeText() const;

    void setScope(Scope scope);
    Scope scope() const;
    void setFormat(ExportFormat format);
    ExportFormat format() const;
    void setPath(const QString& path);
    QString path() const;
    /// Size, DPI, caption, crop and large text (fontScale > 1) as in options.
    void setImageOptions(const ImageOptions& options);
    ImageOptions imageOptions() const;

    /// Writes with the current settings (what OK does). Also sets the message line.
    Status exportNow();
    /// The files the last successful export wrote.
    QStringList writtenFiles() const { return m_written; }
    /// For the status bar: "Wrote english_L1_H2_softmax.png to /home/me/Pictures".
    QString statusMessage() const { return writtenSummary(m_written); }

public slots:
    void accept() override;

private:
    void updateControls();
    void browse();

    QWidget* m_target;
    LabelledMatrix m_matrix;
    Session* m_session = nullptr;
    QComboBox* m_scope = nullptr;
    QComboBox* m_format = nullptr;
    QSpinBox* m_width = nullptr;
    QSpinBox* m_height = nullptr;
    QSpinBox* m_dpi = nullptr;
    QLineEdit* m_path = nullptr;
    QLineEdit* m_caption = nullptr;
    QCheckBox* m_crop = nullptr;
    QCheckBox* m_large = nullptr;
    QLabel* m_message = nullptr;
    QStringList m_written;
    bool m_captionSet = false;
    bool m_pathEdited = false;  // the user typed or browsed a path: keep it
};

}  // namespace attn::ui
