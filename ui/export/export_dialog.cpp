#include "export/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressDialog>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "session/session.h"

namespace attn::ui {

namespace {

const ExportFormat kFormats[] = {ExportFormat::Png, ExportFormat::Svg, ExportFormat::Pdf,
                                 ExportFormat::Csv, ExportFormat::Json};

QString describe(ExportFormat f) {
    switch (f) {
        case ExportFormat::Png:
            return QObject::tr("PNG image");
        case ExportFormat::Svg:
            return QObject::tr("SVG vector image");
        case ExportFormat::Pdf:
            return QObject::tr("PDF document");
        case ExportFormat::Csv:
            return QObject::tr("CSV table (the matrix)");
        case ExportFormat::Json:
            return QObject::tr("JSON (the matrix)");
    }
    return {};
}

QString defaultFolder() {
    QString dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (dir.isEmpty() || !QDir(dir).exists()) dir = QDir::homePath();
    return dir;
}

bool isAttentionStep(StepKind k) {
    return k == StepKind::Projections || k == StepKind::Scores || k == StepKind::Scaled ||
           k == StepKind::Masked || k == StepKind::Weights || k == StepKind::WeightedSum;
}

}  // namespace

FigureCaption captionFromSession(const Session& session, const QString& view) {
    FigureCaption c;
    const TracePtr trace = session.trace();
    const QString modelName = trace && trace->model
                                  ? QString::fromStdString(trace->model->config.name)
                                  : QString::fromStdString(session.config().name);
    c.model = modelShortName(modelName);
    c.sentence = session.text();
    const Session::Focus& f = session.focus();
    if (!view.isEmpty()) {
        c.layer = trace ? f.layer : -1;
        c.head = trace ? f.head : -1;
        c.decoder = f.decoder;
        c.cross = f.cross;
        c.step = view;
        c.slug = view.toLower();
        return c;
    }
    const Step* step = session.currentStep();
    if (!step) return c;
    c.layer = step->layer;
    c.decoder = step->decoder;
    c.cross = step->cross;
    if (step->layer >= 0 && isAttentionStep(step->kind)) c.head = f.head;
    // "Layer 1 self-attention: Softmax → weights" → "Softmax → weights": the layer is its own part.
    QString title = QString::fromStdString(step->title);
    if (step->layer >= 0 && title.contains(QLatin1Char(':')))
        title = title.section(QLatin1Char(':'), 1).trimmed();
    c.step = title;
    c.slug = stepSlug(step->kind);
    return c;
}

ExportDialog::ExportDialog(QWidget* target, LabelledMatrix matrix, QWidget* parent)
    : QDialog(parent), m_target(target), m_matrix(std::move(matrix)) {
    setWindowTitle(tr("Export"));
    setMinimumWidth(520);
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_scope = new QComboBox(this);
    m_scope->addItem(tr("This view"), static_cast<int>(Scope::View));
    form->addRow(tr("What:"), m_scope);
    m_format = new QComboBox(this);
    for (ExportFormat f : kFormats) m_format->addItem(describe(f), static_cast<int>(f));
    form->addRow(tr("Format:"), m_format);

    auto* size = new QHBoxLayout;
    m_width = new QSpinBox(this);
    m_width->setRange(16, 20000);
    m_width->setSuffix(tr(" px"));
    m_height = new QSpinBox(this);
    m_height->setRange(16, 20000);
    m_height->setSuffix(tr(" px"));
    size->addWidget(m_width);
    size->addWidget(new QLabel(QStringLiteral("×"), this));
    size->addWidget(m_height);
    size->addStretch(1);
    form->addRow(tr("Size:"), size);
    m_dpi = new QSpinBox(this);
    m_dpi->setRange(24, 2400);
    m_dpi->setSuffix(tr(" DPI"));
    m_dpi->setToolTip(
        tr("96 lays the view out at the pixel size; 192 draws text and lines twice "
           "as large (a sharp copy of what is on screen)"));
    form->addRow(tr("Resolution:"), m_dpi);

    m_caption = new QLineEdit(this);
    m_caption->setPlaceholderText(tr("no title"));
    m_caption->setToolTip(tr("Drawn above the figure; clear it for none"));
    form->addRow(tr("Title:"), m_caption);
    m_crop = new QCheckBox(tr("Crop to the figure (leave out the empty part of the pane)"), this);
    m_crop->setChecked(true);
    form->addRow(QString(), m_crop);
    m_large = new QCheckBox(tr("Large text, as in presentation mode"), this);
    form->addRow(QString(), m_large);

    auto* pathRow = new QHBoxLayout;
    m_path = new QLineEdit(this);
    auto* browseButton = new QPushButton(tr("Browse…"), this);
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browseButton);
    form->addRow(tr("Save to:"), pathRow);
    layout->addLayout(form);

    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_message);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    auto* copyButton = buttons->addButton(tr("Copy image"), QDialogButtonBox::ActionRole);
    copyButton->setEnabled(m_target != nullptr);
    layout->addWidget(buttons);

    // Defaults: twice the on-screen size at 192 DPI, a sharp copy of what one sees.
    ImageOptions o;
    if (m_target && m_target->width() > 100 && m_target->height() > 80) {
        o.width = m_target->width() * 2;
        o.height = m_target->height() * 2;
    }
    o.dpi = 192;
    o.crop = true;  // slide-ready: the figure, not the pane
    setImageOptions(o);
    QString base = m_matrix.name.isEmpty() ? QStringLiteral("attention-lab") : m_matrix.name;
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]+")), QStringLiteral("_"));
    setFormat(m_target ? ExportFormat::Png : ExportFormat::Csv);
    m_path->setText(
        QDir(defaultFolder()).filePath(base + QStringLiteral(".") + toString(format())));
    connect(m_path, &QLineEdit::textEdited, this, [this] { m_pathEdited = true; });

    connect(m_scope, &QComboBox::currentIndexChanged, this, [this] { updateControls(); });
    connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
        // Keep the file name, change its suffix.
        if (scope() == Scope::View) {
            QFileInfo info(m_path->text());
            if (!m_path->text().isEmpty())
                m_path->setText(info.dir().filePath(info.completeBaseName() + QStringLiteral(".") +
                                                    toString(format())));
        }
        updateControls();
    });
    connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(buttons, &QDialogButtonBox::accepted, this, &ExportDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ExportDialog::reject);
    connect(copyButton, &QPushButton::clicked, this, [this] {
        Status s = copyToClipboard(m_target);
        m_message->setText(s ? tr("Copied the view to the clipboard.")
                             : QString::fromStdString(s.message()));
    });
    updateControls();
}

void ExportDialog::setSession(Session* session) {
    m_session = session;
    while (m_scope->count() > 1) m_scope->removeItem(1);
    if (session && session->trace()) {
        const int layer = session->focus().layer;
        // Counted from 1, as the window says "Layer 1".
        m_scope->addItem(tr("Every head of layer %1 (one file each)").arg(layer + 1),
                         static_cast<int>(Scope::LayerHeads));
        m_scope->addItem(tr("Every head of the model (one file each)"),
                         static_cast<int>(Scope::ModelHeads));
    }
    if (session) {
        if (!m_captionSet) {
            setCaption(captionFromSession(*session));
            m_captionSet = false;  // still the session's: a later setCaption replaces it
        }
        // In presentation mode the view's own fonts are already large: scaling the export as
        // well would enlarge them twice.
        m_large->setToolTip(session->fontScale() > 1.0
                                ? tr("The window is in presentation mode: its text is large "
                                     "already")
                                : tr("Text 1.5 times as large relative to the figure"));
    }
    updateControls();
}

void ExportDialog::setCaption(const FigureCaption& caption) {
    m_captionSet = true;
    m_caption->setText(attn::ui::captionText(caption));
    if (!m_pathEdited && scope() == Scope::View) {
        const QString dir = QFileInfo(m_path->text()).dir().path();
        m_path->setText(QDir(dir.isEmpty() ? defaultFolder() : dir)
                            .filePath(defaultFileName(caption, format())));
    }
}

QString ExportDialog::captionText() const { return m_caption->text().trimmed(); }
void ExportDialog::setLargeText(bool on) { m_large->setChecked(on); }
bool ExportDialog::largeText() const { return m_large->isChecked(); }

void ExportDialog::setScope(Scope s) {
    const int i = m_scope->findData(static_cast<int>(s));
    if (i >= 0) m_scope->setCurrentIndex(i);
}

ExportDialog::Scope ExportDialog::scope() const {
    return static_cast<Scope>(m_scope->currentData().toInt());
}

void ExportDialog::setFormat(ExportFormat f) {
    const int i = m_format->findData(static_cast<int>(f));
    if (i >= 0) m_format->setCurrentIndex(i);
}

ExportFormat ExportDialog::format() const {
    return static_cast<ExportFormat>(m_format->currentData().toInt());
}

void ExportDialog::setPath(const QString& path) { m_path->setText(path); }
QString ExportDialog::path() const { return m_path->text().trimmed(); }

void ExportDialog::setImageOptions(const ImageOptions& o) {
    m_width->setValue(o.width);
    m_height->setValue(o.height);
    m_dpi->setValue(o.dpi);
    m_caption->setText(o.caption);
    m_crop->setChecked(o.crop);
    m_large->setChecked(o.fontScale > 1.0);
}

ImageOptions ExportDialog::imageOptions() const {
    ImageOptions o;
    o.width = m_width->value();
    o.height = m_height->value();
    o.dpi = m_dpi->value();
    o.title = m_matrix.name;
    o.caption = captionText();
    o.crop = m_crop->isChecked();
    o.fontScale = m_large->isChecked() ? 1.5 : 1.0;
    if (o.title.isEmpty()) o.title = o.caption;
    return o;
}

void ExportDialog::updateControls() {
    const bool heads = scope() != Scope::View;
    const bool haveMatrix = m_matrix.values.size() > 0;
    // Which formats make sense for what is being exported.
    for (int i = 0; i < m_format->count(); ++i) {
        const auto f = static_cast<ExportFormat>(m_format->itemData(i).toInt());
        const bool ok = heads || (isImageFormat(f) ? m_target != nullptr : haveMatrix);
        if (auto* model = qobject_cast<QStandardItemModel*>(m_format->model()))
            if (QStandardItem* item = model->item(i)) item->setEnabled(ok);
    }
    const bool image = isImageFormat(format());
    m_width->setEnabled(image);
    m_height->setEnabled(image);
    m_dpi->setEnabled(image);
    m_caption->setEnabled(image && !heads);
    m_crop->setEnabled(image);
    m_large->setEnabled(image);
    m_path->setPlaceholderText(heads ? tr("a folder; files are named L{layer}_H{head}_weights…")
                                     : tr("a file"));
}

void ExportDialog::browse() {
    if (scope() != Scope::View) {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Export into folder"), path().isEmpty() ? defaultFolder() : path());
        if (!dir.isEmpty()) {
            m_pathEdited = true;
            m_path->setText(dir);
        }
        return;
    }
    const QString suffix = toString(format());
    const QString file = QFileDialog::getSaveFileName(
        this, tr("Export"), path().isEmpty() ? defaultFolder() : path(),
        QStringLiteral("%1 (*.%2)").arg(describe(format()), suffix));
    if (file.isEmpty()) return;
    m_pathEdited = true;
    m_path->setText(QFileInfo(file).suffix().isEmpty() ? file + QStringLiteral(".") + suffix
                                                       : file);
}

Status ExportDialog::exportNow() {
    m_written.clear();
    const ExportFormat f = format();
    const QString target = path();
    Status result = Ok{};
    if (scope() == Scope::View) {
        if (isImageFormat(f)) {
            result = exportWidget(m_target, target, f, imageOptions());
        } else if (m_matrix.values.size() == 0) {
            result = makeError("This view has no matrix to write as " +
                               toString(f).toUpper().toStdString() + "; choose PNG, SVG or PDF.");
        } else {
            result = exportMatrix(m_matrix, target, f, imageOptions());
        }
        if (result) m_written << target;
    } else if (!m_session || !m_session->trace()) {
        result = makeError("There is no trace to export heads from.");
    } else {
        AllHeadsOptions o;
        o.format = f;
        o.image = imageOptions();
        o.image.caption.clear();  // each head's heatmap carries its own title
        o.decoder = m_session->focus().decoder;
        o.cross = m_session->focus().cross;
        o.layer = scope() == Scope::LayerHeads ? m_session->focus().layer : -1;
        QProgressDialog progress(tr("Exporting heads…"), tr("Stop"), 0, 1000, this);
        progress.setWindowModality(Qt::WindowModal);
        progress.setMinimumDuration(400);
        o.progress = [&progress](double fraction) {
            progress.setValue(static_cast<int>(fraction * 1000));
            return !progress.wasCanceled();
        };
        auto files = exportAllHeads(*m_session->trace(), target, o);
        if (files) m_written = *files;
        result = files ? Status(Ok{}) : Status(files.error());
    }
    if (result)
        m_message->setText(statusMessage());
    else
        m_message->setText(QStringLiteral("<span style='color:#b00020'>%1</span>")
                               .arg(QString::fromStdString(result.message()).toHtmlEscaped()));
    return result;
}

void ExportDialog::accept() {
    if (exportNow()) QDialog::accept();
}

}  // namespace attn::ui
