#pragma once
// File → Export…: format, size, DPI and path for one view (PNG, SVG, PDF) or its matrix (CSV,
// JSON), or every head of a layer / of the model into a folder. OK writes; on failure the dialog
// stays open and says why.

#include <QDialog>

#include "export/export.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace attn::ui {

class Session;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    enum class Scope { View, LayerHeads, ModelHeads };

    /// target: the widget to draw (may be null); matrix: what CSV / JSON write (may be empty).
    explicit ExportDialog(QWidget* target, LabelledMatrix matrix = {}, QWidget* parent = nullptr);

    /// Offers "every head of this layer / of the model" from the session's trace and focus.
    void setSession(Session* session);

    void setScope(Scope scope);
    Scope scope() const;
    void setFormat(ExportFormat format);
    ExportFormat format() const;
    void setPath(const QString& path);
    QString path() const;
    void setImageOptions(const ImageOptions& options);
    ImageOptions imageOptions() const;

    /// Writes with the current settings (what OK does). Also sets the message line.
    Status exportNow();
    /// The files the last successful export wrote.
    QStringList writtenFiles() const { return m_written; }

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
    QLabel* m_message = nullptr;
    QStringList m_written;
};

}  // namespace attn::ui
