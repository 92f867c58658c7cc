#include "export/export.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileInfo>
#include <QFuture>
#include <QGridLayout>
#include <QImageWriter>
#include <QLabel>
#include <QLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QPointer>
#include <QRegularExpression>
#include <QResizeEvent>
#include <QSaveFile>
#include <QShortcut>
#include <QSvgGenerator>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "attn/analysis.h"
#include "common/token_labels.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {

namespace {

std::string str(const QString& s) { return s.toStdString(); }
QString quoted(const QString& s) { return QStringLiteral("“%1”").arg(QDir::toNativeSeparators(s)); }

// --- files -------------------------------------------------------------------------------------

// Opens a QSaveFile for path: it writes to a temporary file beside the target and renames it on
// commit, so a failure never leaves a partial file.
Status openSaveFile(QSaveFile& file, const QString& path) {
    if (path.trimmed().isEmpty()) return makeError("No file name given.");
    const QFileInfo info(path);
    if (info.isDir())
        return makeError(str(quoted(path) + " is a folder; give a file name inside it."));
    const QDir dir = info.absoluteDir();
    if (!dir.exists())
        return makeError(str("Cannot write " + quoted(path) + ": the folder " + quoted(dir.path()) +
                             " does not exist."));
    file.setFileName(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(str("Cannot write " + quoted(path) + ": " + file.errorString() + "."));
    return Ok{};
}

Status commit(QSaveFile& file, const QString& path) {
    if (!file.commit())
        return makeError(str("Cannot write " + quoted(path) + ": " + file.errorString() + "."));
    return Ok{};
}

Status writeBytes(const QString& path, const QByteArray& bytes) {
    QSaveFile file;
    if (Status s = openSaveFile(file, path); !s) return s;
    if (file.write(bytes) != bytes.size()) {
        file.cancelWriting();
        return makeError(str("Cannot write " + quoted(path) + ": " + file.errorString() + "."));
    }
    return commit(file, path);
}

// --- drawing a widget tree ---------------------------------------------------------------------

int screenDpi(const QWidget* w) {
    const int dpi = w->logicalDpiX();
    return dpi > 0 ? dpi : 96;
}

// The logical (screen-pixel) size the widget is laid out at so that it fills width × height
// pixels at the asked DPI. A font scale lays it out on a smaller canvas, so that once drawn
// scaled up to the pixel size its text is that much larger relative to the figure.
QSize logicalSize(const ImageOptions& o, int screen) {
    const double f = static_cast<double>(screen) / (o.dpi * o.fontScale);
    return {std::max(1, static_cast<int>(std::lround(o.width * f))),
            std::max(1, static_cast<int>(std::lround(o.height * f)))};
}

// Lays out w and everything inside it at w's current size, whether shown or not, without
// asking w's parent: a child exported at another size than the window gives it keeps that size
// while it is drawn. Sends the resize events a hidden widget keeps pending (as showing would).
void layoutTree(QWidget* w) {
    if (w->testAttribute(Qt::WA_PendingResizeEvent)) {
        w->setAttribute(Qt::WA_PendingResizeEvent, false);
        QResizeEvent event(w->size(), QSize());
        QCoreApplication::sendEvent(w, &event);
    }
    if (QLayout* layout = w->layout()) {
        layout->invalidate();
        layout->activate();
    }
    // A plot decides some things (tick labels that fit, margins) from its last layout: replot
    // twice so the second pass sees the axis rects at the new size. Queued: no repaint now.
    if (auto* plot = qobject_cast<QCustomPlot*>(w)) {
        plot->replot(QCustomPlot::rpQueuedRefresh);
        plot->replot(QCustomPlot::rpQueuedRefresh);
    }
    for (QObject* o : w->children()) {
        auto* child = qobject_cast<QWidget*>(o);
        if (child && !child->isWindow()) layoutTree(child);
    }
}

void settle(QWidget* w) {
    w->ensurePolished();
    layoutTree(w);
}

// Lays a widget out at a size for the time of one export, then puts it back.
//
// QWidget::render() on a hidden widget first re-runs the layouts from its window down, which
// would give a child back the size its window's layout wants. So a hidden child is pinned to
// the export size (min = max) while it is drawn; its window's size and its own limits are put
// back afterwards. A visible child keeps a plain resize until the next layout pass, which only
// comes after the export.
class LayoutAtSize {
public:
    LayoutAtSize(QWidget* w, QSize size)
        : m_w(w),
          m_window(w->window()),
          m_old(w->size()),
          m_oldMin(w->minimumSize()),
          m_oldMax(w->maximumSize()),
          m_windowSize(m_window->size()) {
        if (m_old == size) {
            settle(m_w);
            return;
        }
        m_changed = true;
        if (!m_w->isWindow() && !m_w->isVisible()) {
            m_pinned = true;
            m_w->setMinimumSize(size);
            m_w->setMaximumSize(size);
        }
        m_w->resize(size);
        settle(m_w);
    }
    ~LayoutAtSize() {
        if (!m_changed) return;
        if (m_pinned) {
            m_w->setMinimumSize(m_oldMin);
            m_w->setMaximumSize(m_oldMax);
        }
        m_w->resize(m_old);
        if (m_window != m_w && m_window->size() != m_windowSize) m_window->resize(m_windowSize);
        settle(m_w);
    }
    LayoutAtSize(const LayoutAtSize&) = delete;
    LayoutAtSize& operator=(const LayoutAtSize&) = delete;

private:
    QWidget* m_w;
    QWidget* m_window;
    QSize m_old, m_oldMin, m_oldMax, m_windowSize;
    bool m_changed = false;
    bool m_pinned = false;
};

// Draws w and its visible children. QCustomPlot draws itself through toPainter (vectors into SVG
// and PDF, and no stale paint buffer after a resize); other widgets through QWidget::render
// without children, so the walk reaches the plots inside them.
void paintTree(QCPPainter& p, QWidget* root, QWidget* w, const QPoint& offset) {
    if (auto* plot = qobject_cast<QCustomPlot*>(w)) {
        p.save();
        p.translate(offset);
        plot->toPainter(&p, w->width(), w->height());
        p.restore();
        return;
    }
    p.save();
    // No window background: a figure goes on white paper (the image is filled white; widgets
    // that fill their own background still do).
    w->render(&p, offset, QRegion(), QWidget::RenderFlags());
    p.restore();
    for (QObject* o : w->children()) {
        auto* child = qobject_cast<QWidget*>(o);
        if (!child || child->isWindow() || !child->isVisibleTo(root)) continue;
        p.save();
        // Clip to the parent, not the child: text drawn larger than the screen metrics it was
        // laid out with may spill a pixel or two past a child's edge, but a scroll area's
        // content stays inside its viewport.
        p.setClipRect(QRect(offset, w->size()), Qt::IntersectClip);
        paintTree(p, root, child, offset + child->pos());
        p.restore();
    }
}

void setDpi(QImage& image, double dpi) {
    const int dpm = static_cast<int>(std::lround(dpi / 0.0254));
    image.setDotsPerMeterX(dpm);
    image.setDotsPerMeterY(dpm);
}

// A white frame around exported views, in logical pixels: the outermost text sits a little
// wider when drawn scaled than the screen metrics it was laid out with, and must not be cut.
constexpr int kPad = 6;

QSize inset(QSize logical, int pad) {
    return (logical - QSize(2 * pad, 2 * pad)).expandedTo(QSize(1, 1));
}

// The window's focus marks are for the person at the screen, not for a slide: while a figure
// is drawn, every heatmap's outlined cell and the step counter ("Step 8 / 26") are left out,
// and put back afterwards; with a caption, which names the layer, head and step, the step's
// own heading is left out too (it said the same again under the caption). Works on any tree,
// whatever a view chooses as its export target.
class FocusMarksHidden {
public:
    FocusMarksHidden(QWidget* root, bool captioned) {
        // Step by step knows its own marks (and stops its fade between steps).
        for (QWidget* a = root; a; a = a->parentWidget()) {
            if (auto* step = qobject_cast<StepView*>(a)) {
                if (!step->exportMode()) {
                    step->setExportMode(true);
                    m_step = step;
                }
                break;
            }
        }
        QList<HeatmapView*> maps = root->findChildren<HeatmapView*>();
        if (auto* self = qobject_cast<HeatmapView*>(root)) maps.prepend(self);
        for (HeatmapView* h : maps) {
            if (h->highlightRow() < 0 && h->highlightCol() < 0) continue;
            m_marks.push_back({h, h->highlightRow(), h->highlightCol()});
            h->setHighlight(-1, -1);
        }
        QList<QWidget*> marks = root->findChildren<QWidget*>(QStringLiteral("stepCounter"));
        if (captioned) marks << root->findChildren<QWidget*>(QStringLiteral("stepTitle"));
        for (QWidget* c : marks) {
            if (c->isHidden()) continue;
            c->hide();
            m_hidden.push_back(c);
        }
        if (!m_hidden.empty()) settle(root);  // the header row closes the counter's gap
    }
    ~FocusMarksHidden() {
        for (const Mark& m : m_marks)
            if (m.view) m.view->setHighlight(m.row, m.col);
        for (const QPointer<QWidget>& w : m_hidden)
            if (w) w->show();
        if (m_step) m_step->setExportMode(false);
    }
    FocusMarksHidden(const FocusMarksHidden&) = delete;
    FocusMarksHidden& operator=(const FocusMarksHidden&) = delete;

private:
    struct Mark {
        QPointer<HeatmapView> view;
        int row, col;
    };
    std::vector<Mark> m_marks;
    std::vector<QPointer<QWidget>> m_hidden;
    QPointer<StepView> m_step;
};

QFont captionFont(const QWidget* w) {
    QFont f = w->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.25);
    return f;
}

// Where things go in an exported picture, in the laid-out tree's logical pixels: the caption on
// top, then the part of the tree that is drawn (all of it, or its content when cropping),
// centred under a caption wider than itself.
struct Frame {
    QRect content;      // in the tree's coordinates
    QRectF caption;     // in the picture's coordinates
    QPointF contentAt;  // where content's top left goes
    QSizeF size;        // the whole picture
};

// The bounding box of what the tree draws (anything not near white), in its coordinates;
// empty when it draws nothing.
QRect drawnRect(QWidget* w) {
    QImage probe(w->size().expandedTo(QSize(1, 1)), QImage::Format_RGB32);
    setDpi(probe, screenDpi(w));
    probe.fill(Qt::white);
    {
        QCPPainter p(&probe);
        paintTree(p, w, w, QPoint(0, 0));
    }
    int left = probe.width(), right = -1, top = probe.height(), bottom = -1;
    for (int y = 0; y < probe.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(probe.constScanLine(y));
        for (int x = 0; x < probe.width(); ++x) {
            const QRgb c = line[x];
            if (qRed(c) >= 245 && qGreen(c) >= 245 && qBlue(c) >= 245) continue;
            left = std::min(left, x);
            right = std::max(right, x);
            top = std::min(top, y);
            bottom = std::max(bottom, y);
        }
    }
    if (right < 0) return {};
    return QRect(QPoint(left, top), QPoint(right, bottom));
}

Frame makeFrame(QWidget* w, const ImageOptions& o, int pad) {
    Frame f;
    const QRect full(QPoint(-pad, -pad), w->size() + QSize(2 * pad, 2 * pad));
    f.content = full;
    if (o.crop) {
        const QRect drawn = drawnRect(w);
        if (!drawn.isEmpty()) f.content = drawn.adjusted(-pad, -pad, pad, pad).intersected(full);
    }
    double width = f.content.width();
    double captionHeight = 0;
    if (!o.caption.isEmpty()) {
        const QFontMetricsF fm(captionFont(w));
        // A caption may widen a narrow crop up to the full width before it wraps.
        const double natural = fm.horizontalAdvance(o.caption) + 2 * pad + 2;
        width = std::max(width, std::min(natural, static_cast<double>(full.width())));
        const QRectF text = fm.boundingRect(QRectF(0, 0, width - 2 * pad, 1e6),
                                            Qt::TextWordWrap | Qt::AlignHCenter, o.caption);
        f.caption = QRectF(pad, pad, width - 2 * pad, std::ceil(text.height()));
        captionHeight = pad + f.caption.height();
    }
    f.contentAt = QPointF((width - f.content.width()) / 2.0, captionHeight);
    f.size = QSizeF(width, captionHeight + f.content.height());
    return f;
}

void paintFrame(QCPPainter& p, QWidget* w, const Frame& f, const ImageOptions& o) {
    p.fillRect(QRectF(QPointF(0, 0), f.size), Qt::white);
    if (!o.caption.isEmpty()) {
        p.save();
        p.setFont(captionFont(w));
        p.setPen(QColor(0x20, 0x20, 0x20));
        p.drawText(f.caption, Qt::TextWordWrap | Qt::AlignHCenter | Qt::AlignTop, o.caption);
        p.restore();
    }
    p.save();
    p.translate(f.contentAt - QPointF(f.content.topLeft()));
    p.setClipRect(f.content, Qt::IntersectClip);
    paintTree(p, w, w, QPoint(0, 0));
    p.restore();
}

// The scale from the laid-out tree to the asked pixels. A widget may refuse to shrink below its
// minimum size: then it is fitted into what was asked.
QSizeF pixelScale(const QWidget* w, QSize pixels, int pad, int reserved) {
    return {static_cast<double>(pixels.width()) / (w->width() + 2 * pad),
            static_cast<double>(pixels.height()) / (w->height() + 2 * pad + reserved)};
}

// The caption's height at the full width: the view is laid out below it, so that an uncropped
// picture with a caption is still exactly the asked size.
int captionReserve(const QWidget* w, const ImageOptions& o, int width, int pad) {
    if (o.caption.isEmpty()) return 0;
    const QFontMetricsF fm(captionFont(w));
    const QRectF text = fm.boundingRect(QRectF(0, 0, std::max(1, width - 2 * pad), 1e6),
                                        Qt::TextWordWrap | Qt::AlignHCenter, o.caption);
    return pad + static_cast<int>(std::ceil(text.height()));
}

// One export's state: the view laid out at the export size below the caption, its focus marks
// hidden, the frame and the scale to pixels. Everything is put back when it goes.
class Staged {
public:
    Staged(QWidget* w, QSize logical, QSize pixels, int pad, const ImageOptions& o)
        : reserved(captionReserve(w, o, logical.width(), pad)),
          m_at(w, inset(logical - QSize(0, reserved), pad)),
          m_marks(w, !o.caption.isEmpty()),
          frame(makeFrame(w, o, pad)),
          scale(pixelScale(w, pixels, pad, reserved)) {}

    const int reserved;

private:
    LayoutAtSize m_at;
    FocusMarksHidden m_marks;

public:
    const Frame frame;
    const QSizeF scale;
};

QSize scaledSize(const QSizeF& size, const QSizeF& scale) {
    return {std::max(1, static_cast<int>(std::lround(size.width() * scale.width()))),
            std::max(1, static_cast<int>(std::lround(size.height() * scale.height())))};
}

// Renders w, laid out at `logical` less a frame of `pad`, into an image of at most `pixels`
// (exactly, unless cropping).
QImage renderTree(QWidget* w, QSize logical, QSize pixels, double dpi, int pad,
                  const ImageOptions& o) {
    const Staged staged(w, logical, pixels, pad, o);
    const Frame& frame = staged.frame;
    const QSizeF& scale = staged.scale;
    QImage image(scaledSize(frame.size, scale), QImage::Format_ARGB32_Premultiplied);
    // Text converts points to pixels at the device's DPI; keep the screen's so text keeps its size
    // relative to the layout, and let the painter's scale do the enlarging.
    setDpi(image, screenDpi(w));
    image.fill(Qt::white);
    {
        QCPPainter p(&image);
        p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing |
                         QPainter::SmoothPixmapTransform);
        if (scale.width() > 1.01 || scale.height() > 1.01)
            p.setMode(QCPPainter::pmNonCosmetic);  // lines scale too
        p.scale(scale.width(), scale.height());
        paintFrame(p, w, frame, o);
    }
    setDpi(image, dpi);  // what the file says
    return image;
}

// Encodes and writes a rendered image; safe on any thread (QImage, QImageWriter and QSaveFile
// are reentrant).
Status savePng(const QImage& image, const QString& path) {
    QSaveFile file;
    if (Status s = openSaveFile(file, path); !s) return s;
    QImageWriter writer(&file, "png");
    // Qt maps quality q to zlib level (100 − q)·9/91: 80 is level 1, several times faster than
    // the default level and hardly larger for heatmaps, which are mostly flat colour.
    writer.setQuality(80);
    if (!writer.write(image)) {
        file.cancelWriting();
        return makeError(str("Cannot write " + quoted(path) + ": " + writer.errorString() + "."));
    }
    return commit(file, path);
}

Status writePng(QWidget* w, const QString& path, const ImageOptions& o) {
    auto image = renderImage(w, o);
    if (!image) return image.error();
    return savePng(*image, path);
}

Status writeSvg(QWidget* w, const QString& path, const ImageOptions& o) {
    if (Status s = validate(o); !s) return s;
    const int screen = screenDpi(w);
    const QSize logical = logicalSize(o, screen);
    QSaveFile file;
    if (Status s = openSaveFile(file, path); !s) return s;
    {
        const Staged staged(w, logical, QSize(o.width, o.height), kPad, o);
        const Frame& frame = staged.frame;
        // The same picture as the PNG: its pixel size, stated at the asked DPI (width / dpi
        // inches), drawn in the tree's logical pixels at the screen's DPI so text keeps its size.
        const QSize pixels = scaledSize(frame.size, staged.scale);
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
        svg.setResolution(screen);
        svg.setSize(QSize(static_cast<int>(std::lround(pixels.width() * screen / double(o.dpi))),
                          static_cast<int>(std::lround(pixels.height() * screen / double(o.dpi)))));
        svg.setViewBox(QRectF(QPointF(0, 0), frame.size));
        svg.setTitle(o.title.isEmpty() ? QStringLiteral("Attention Lab") : o.title);
        svg.setDescription(o.caption.isEmpty() ? QStringLiteral("Exported from Attention Lab")
                                               : o.caption);
        QCPPainter p;
        if (!p.begin(&svg)) {
            file.cancelWriting();
            return makeError(str("Cannot draw the SVG for " + quoted(path) + "."));
        }
        p.setMode(QCPPainter::pmVectorized);
        p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
        paintFrame(p, w, frame, o);
        p.end();
    }
    return commit(file, path);
}

Status writePdf(QWidget* w, const QString& path, const ImageOptions& o) {
    if (Status s = validate(o); !s) return s;
    const int screen = screenDpi(w);
    const QSize logical = logicalSize(o, screen);
    QSaveFile file;
    if (Status s = openSaveFile(file, path); !s) return s;
    {
        const Staged staged(w, logical, QSize(o.width, o.height), kPad, o);
        const Frame& frame = staged.frame;
        const QSize pixels = scaledSize(frame.size, staged.scale);
        QPdfWriter pdf(&file);
        pdf.setCreator(QStringLiteral("Attention Lab"));
        pdf.setTitle(o.title.isEmpty() ? QStringLiteral("Attention Lab") : o.title);
        pdf.setResolution(screen);
        const QSizeF points(pixels.width() * 72.0 / o.dpi, pixels.height() * 72.0 / o.dpi);
        pdf.setPageSize(QPageSize(points, QPageSize::Point, QString(), QPageSize::ExactMatch));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        QCPPainter p;
        if (!p.begin(&pdf)) {
            file.cancelWriting();
            return makeError(str("Cannot draw the PDF for " + quoted(path) + "."));
        }
        p.setMode(QCPPainter::pmVectorized);
        p.setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
        p.scale(static_cast<double>(pdf.width()) / frame.size.width(),
                static_cast<double>(pdf.height()) / frame.size.height());
        paintFrame(p, w, frame, o);
        p.end();
    }
    return commit(file, path);
}

// --- numbers and labels ------------------------------------------------------------------------

QString csvField(const QString& s) {
    const bool needs = s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) ||
                       s.contains(QLatin1Char('\n')) || s.contains(QLatin1Char('\r')) ||
                       (!s.isEmpty() && (s.front().isSpace() || s.back().isSpace()));
    if (!needs) return s;
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

QString number(float v) {
    if (std::isnan(v)) return QStringLiteral("nan");
    if (std::isinf(v)) return v < 0 ? QStringLiteral("-inf") : QStringLiteral("inf");
    return QString::number(static_cast<double>(v), 'g', std::numeric_limits<float>::max_digits10);
}

QString labelOr(const QStringList& labels, int i) {
    return i < labels.size() ? labels[i] : QString::number(i);
}

}  // namespace

// --- formats -----------------------------------------------------------------------------------

QString toString(ExportFormat format) {
    switch (format) {
        case ExportFormat::Png:
            return QStringLiteral("png");
        case ExportFormat::Svg:
            return QStringLiteral("svg");
        case ExportFormat::Pdf:
            return QStringLiteral("pdf");
        case ExportFormat::Csv:
            return QStringLiteral("csv");
        case ExportFormat::Json:
            return QStringLiteral("json");
    }
    return {};
}

bool parseExportFormat(const QString& text, ExportFormat* out) {
    for (ExportFormat f : {ExportFormat::Png, ExportFormat::Svg, ExportFormat::Pdf,
                           ExportFormat::Csv, ExportFormat::Json}) {
        if (text.compare(toString(f), Qt::CaseInsensitive) == 0) {
            *out = f;
            return true;
        }
    }
    return false;
}

std::optional<ExportFormat> formatFromPath(const QString& path) {
    ExportFormat f;
    if (parseExportFormat(QFileInfo(path).suffix(), &f)) return f;
    return std::nullopt;
}

bool isImageFormat(ExportFormat format) {
    return format == ExportFormat::Png || format == ExportFormat::Svg ||
           format == ExportFormat::Pdf;
}

Status validate(const ImageOptions& o) {
    if (o.width < 16 || o.height < 16 || o.width > 20000 || o.height > 20000)
        return makeError("Image size " + std::to_string(o.width) + "×" + std::to_string(o.height) +
                         " is out of range: use 16 to 20000 pixels a side.");
    if (static_cast<long long>(o.width) * o.height > 150'000'000LL)
        return makeError("An image of " + std::to_string(o.width) + "×" + std::to_string(o.height) +
                         " pixels is too large (150 megapixels at most).");
    if (o.dpi < 24 || o.dpi > 2400)
        return makeError("DPI " + std::to_string(o.dpi) + " is out of range: use 24 to 2400.");
    if (!(o.fontScale >= 0.5 && o.fontScale <= 4.0))
        return makeError("Font scale " + std::to_string(o.fontScale).substr(0, 4) +
                         " is out of range: use 0.5 to 4 (1.5 = presentation).");
    const QSize logical = logicalSize(o, 96);
    if (logical.width() < 120 || logical.height() < 80)
        return makeError("At " + std::to_string(o.dpi) + " DPI an image of " +
                         std::to_string(o.width) + "×" + std::to_string(o.height) +
                         " pixels is too small to lay the view out: make it larger or lower "
                         "the DPI.");
    return Ok{};
}

// --- captions and file names --------------------------------------------------------------------

QString modelShortName(const QString& modelName) {
    const QString lower = modelName.trimmed().toLower();
    if (lower.isEmpty()) return QStringLiteral("model");
    // The two teaching models share their first word; the translation one is known by its task.
    if (lower.contains(QLatin1String("translation"))) return QStringLiteral("translation");
    QString word = lower.section(QLatin1Char(' '), 0, 0);
    word.replace(QRegularExpression(QStringLiteral("[^a-z0-9_.-]+")), QStringLiteral("_"));
    return word.isEmpty() ? QStringLiteral("model") : word;
}

QString stepSlug(StepKind kind) {
    switch (kind) {
        case StepKind::Tokens:
            return QStringLiteral("tokens");
        case StepKind::Embedding:
            return QStringLiteral("embeddings");
        case StepKind::Positional:
            return QStringLiteral("positions");
        case StepKind::LayerInput:
            return QStringLiteral("input");
        case StepKind::Projections:
            return QStringLiteral("qkv");
        case StepKind::Scores:
            return QStringLiteral("scores");
        case StepKind::Scaled:
            return QStringLiteral("scaled");
        case StepKind::Masked:
            return QStringLiteral("mask");
        case StepKind::Weights:
            return QStringLiteral("softmax");
        case StepKind::WeightedSum:
            return QStringLiteral("weighted_sum");
        case StepKind::Concat:
            return QStringLiteral("concat");
        case StepKind::OutputProjection:
            return QStringLiteral("output_projection");
        case StepKind::AddNorm:
            return QStringLiteral("add_norm");
        case StepKind::FeedForward:
            return QStringLiteral("feed_forward");
        case StepKind::LayerOutput:
            return QStringLiteral("layer_output");
        case StepKind::Logits:
            return QStringLiteral("logits");
    }
    return QStringLiteral("step");
}

QString captionText(const FigureCaption& c) {
    QStringList parts;
    if (!c.model.isEmpty()) parts << c.model;
    if (!c.sentence.trimmed().isEmpty())
        parts << QStringLiteral("“%1”").arg(c.sentence.simplified());
    if (c.layer >= 0)
        parts << (c.decoder ? QObject::tr("Decoder layer %1") : QObject::tr("Layer %1"))
                         .arg(c.layer + 1) +
                     (c.cross ? QObject::tr(" (cross-attention)") : QString());
    if (c.head >= 0) parts << QObject::tr("Head %1").arg(c.head + 1);
    if (!c.step.isEmpty()) parts << c.step;
    return parts.join(QStringLiteral(" · "));
}

QString defaultFileName(const FigureCaption& c, ExportFormat format) {
    QStringList parts;
    parts << (c.model.isEmpty() ? QStringLiteral("attention-lab") : c.model);
    if (c.layer >= 0)
        parts << (c.decoder ? (c.cross ? QStringLiteral("X") : QStringLiteral("D"))
                            : QStringLiteral("L")) +
                     QString::number(c.layer + 1);
    if (c.head >= 0) parts << QStringLiteral("H%1").arg(c.head + 1);
    if (!c.slug.isEmpty()) parts << c.slug;
    QString base = parts.join(QLatin1Char('_'));
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]+")), QStringLiteral("_"));
    base.replace(QRegularExpression(QStringLiteral("_+")), QStringLiteral("_"));
    return base + QLatin1Char('.') + toString(format);
}

QString writtenSummary(const QStringList& paths) {
    if (paths.isEmpty()) return QObject::tr("Nothing was written.");
    const QFileInfo first(paths.front());
    const QString folder = QDir::toNativeSeparators(first.absolutePath());
    if (paths.size() == 1) return QObject::tr("Wrote %1 to %2").arg(first.fileName(), folder);
    return QObject::tr("Wrote %1 files (%2 …) to %3")
        .arg(paths.size())
        .arg(first.fileName(), folder);
}

// --- images --------------------------------------------------------------------------------------

Result<QImage> renderImage(QWidget* widget, const ImageOptions& options) {
    if (!widget) return makeError("There is no view to export.");
    if (Status s = validate(options); !s) return s.error();
    const QSize logical = logicalSize(options, screenDpi(widget));
    return renderTree(widget, logical, QSize(options.width, options.height), options.dpi, kPad,
                      options);
}

Status exportWidget(QWidget* widget, const QString& path, ExportFormat format,
                    const ImageOptions& options) {
    if (!widget) return makeError("There is no view to export.");
    switch (format) {
        case ExportFormat::Png:
            return writePng(widget, path, options);
        case ExportFormat::Svg:
            return writeSvg(widget, path, options);
        case ExportFormat::Pdf:
            return writePdf(widget, path, options);
        case ExportFormat::Csv:
        case ExportFormat::Json:
            return makeError("This view is a picture; " + str(toString(format).toUpper()) +
                             " needs a matrix. Choose PNG, SVG or PDF.");
    }
    return makeError("Unknown export format.");
}

// --- matrices ------------------------------------------------------------------------------------

QByteArray matrixToCsv(const LabelledMatrix& m) {
    QString out;
    const int rows = static_cast<int>(m.values.rows());
    const int cols = static_cast<int>(m.values.cols());
    QStringList line;
    line << QString();
    for (int c = 0; c < cols; ++c) line << csvField(labelOr(m.cols, c));
    out += line.join(QLatin1Char(',')) + QLatin1Char('\n');
    for (int r = 0; r < rows; ++r) {
        line.clear();
        line << csvField(labelOr(m.rows, r));
        for (int c = 0; c < cols; ++c) line << number(m.values(r, c));
        out += line.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out.toUtf8();
}

QByteArray matrixToJson(const LabelledMatrix& m) {
    using nlohmann::json;
    const int rows = static_cast<int>(m.values.rows());
    const int cols = static_cast<int>(m.values.cols());
    json j;
    j["name"] = str(m.name);
    json r = json::array(), c = json::array(), v = json::array();
    for (int i = 0; i < rows; ++i) r.push_back(str(labelOr(m.rows, i)));
    for (int k = 0; k < cols; ++k) c.push_back(str(labelOr(m.cols, k)));
    for (int i = 0; i < rows; ++i) {
        json row = json::array();
        for (int k = 0; k < cols; ++k) {
            const float x = m.values(i, k);
            if (std::isfinite(x))
                row.push_back(static_cast<double>(x));
            else
                row.push_back(nullptr);
        }
        v.push_back(std::move(row));
    }
    j["rows"] = std::move(r);
    j["cols"] = std::move(c);
    j["values"] = std::move(v);
    const std::string text = j.dump(1);
    return QByteArray(text.data(), static_cast<qsizetype>(text.size()));
}

Status exportMatrix(const LabelledMatrix& matrix, const QString& path, ExportFormat format,
                    const ImageOptions& options) {
    if ((!matrix.rows.isEmpty() && matrix.rows.size() != matrix.values.rows()) ||
        (!matrix.cols.isEmpty() && matrix.cols.size() != matrix.values.cols()))
        return makeError("The labels do not match the matrix's shape.");
    switch (format) {
        case ExportFormat::Csv:
            return writeBytes(path, matrixToCsv(matrix));
        case ExportFormat::Json:
            return writeBytes(path, matrixToJson(matrix));
        default: {
            auto view = makeHeatmap(matrix, QStringLiteral("signed"));
            ImageOptions o = options;
            if (o.title.isEmpty()) o.title = matrix.name;
            return exportWidget(view.get(), path, format, o);
        }
    }
}

// --- heads
// -----------------------------------------------------------------------------------------

bool isHeadMatrixKind(const QString& what) {
    static const QStringList kinds = {"weights", "scores", "scaled", "masked", "values"};
    return kinds.contains(what);
}

Result<LabelledMatrix> headMatrix(const Trace& trace, int layer, int head, const QString& what,
                                  bool decoder, bool cross) {
    if (!isHeadMatrixKind(what))
        return makeError("Unknown matrix '" + str(what) +
                         "': use weights, scores, scaled, masked or values.");
    const auto& stack = decoder ? trace.decoder_layers : trace.layers;
    if (stack.empty())
        return makeError(decoder ? "This model has no decoder." : "The trace has no layers.");
    // Messages count from 1, as the window does.
    if (layer < 0 || layer >= static_cast<int>(stack.size()))
        return makeError("Layer " + std::to_string(layer + 1) + " does not exist: the model has " +
                         std::to_string(stack.size()) + " (1 to " + std::to_string(stack.size()) +
                         ").");
    const LayerTrace& lt = stack[static_cast<std::size_t>(layer)];
    if (cross && !lt.cross_attention) return makeError("This layer has no cross-attention.");
    const AttentionTrace& at = cross ? *lt.cross_attention : lt.self_attention;
    const int heads = static_cast<int>(at.heads.size());
    if (head < 0 || head >= heads)
        return makeError("Head " + std::to_string(head + 1) + " does not exist: layer " +
                         std::to_string(layer + 1) + " has " + std::to_string(heads) + " (1 to " +
                         std::to_string(heads) + ").");
    const HeadTrace& stored = at.heads[static_cast<std::size_t>(head)];

    LabelledMatrix m;
    const auto& qTokens = decoder ? trace.target_tokens : trace.tokens;
    const auto& qText = decoder ? trace.target_text : trace.text;
    const auto& kTokens = cross ? trace.tokens : qTokens;
    const auto& kText = cross ? trace.text : qText;
    m.rows = tokenLabels(qText, qTokens);
    m.cols = tokenLabels(kText, kTokens);
    if (what == QLatin1String("weights")) {
        // A trace over its memory budget kept the weights of some layers only.
        m.values = stored.weights_kept ? stored.weights
                                       : trace.headDetail(layer, head, decoder, cross).weights;
    } else if (what == QLatin1String("values")) {
        m.values = valueContributions(
            stored.weights_kept ? stored : trace.headDetail(layer, head, decoder, cross));
    } else {
        const HeadTrace detail = trace.headDetail(layer, head, decoder, cross);
        m.values = what == QLatin1String("scores")   ? detail.scores
                   : what == QLatin1String("scaled") ? detail.scaled
                                                     : detail.masked;
    }
    // The title counts from 1, as the window, the file names and --layer / --head do.
    const QString block =
        decoder ? (cross ? QStringLiteral(" · cross-attention") : QStringLiteral(" · decoder"))
                : QString();
    m.name =
        QStringLiteral("Layer %1 · head %2%3 · %4").arg(layer + 1).arg(head + 1).arg(block, what);
    if (m.rows.size() != m.values.rows()) m.rows.clear();
    if (m.cols.size() != m.values.cols()) m.cols.clear();
    return m;
}

std::unique_ptr<HeatmapView> makeHeatmap(const LabelledMatrix& m, const QString& what) {
    auto view = std::make_unique<HeatmapView>();
    view->setMatrix(m.values, m.rows, m.cols);
    view->setTitle(m.name);
    if (isHeadMatrixKind(what)) view->setAxisTitles(QObject::tr("query"), QObject::tr("key"));
    if (what == QLatin1String("weights")) {
        view->setColorMap(ColorMapKind::Viridis);
        view->setRange(0, 1);
    } else if (what == QLatin1String("values") || what == QLatin1String("positive")) {
        view->setColorMap(ColorMapKind::Viridis);
    } else {  // scores, scaled, masked, signed
        view->setColorMap(ColorMapKind::Diverging);
        view->setSymmetricRange(true);
    }
    return view;
}

std::unique_ptr<QWidget> makeHeadGrid(const Trace& trace, int layer, const QString& what,
                                      bool decoder, bool cross) {
    auto grid = std::make_unique<QWidget>();
    grid->setAutoFillBackground(true);
    auto* outer = new QVBoxLayout(grid.get());
    const auto& stack = decoder ? trace.decoder_layers : trace.layers;
    int heads = 0;
    if (layer >= 0 && layer < static_cast<int>(stack.size())) {
        const LayerTrace& lt = stack[static_cast<std::size_t>(layer)];
        const AttentionTrace* at =
            cross ? (lt.cross_attention ? &*lt.cross_attention : nullptr) : &lt.self_attention;
        heads = at ? static_cast<int>(at->heads.size()) : 0;
    }
    auto* title = new QLabel(QObject::tr("Layer %1 — %2 of every head").arg(layer + 1).arg(what));
    QFont f = title->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.2);
    title->setFont(f);
    outer->addWidget(title);
    auto* cells = new QGridLayout;
    outer->addLayout(cells, 1);
    const int columns = std::max(1, static_cast<int>(std::ceil(std::sqrt(heads))));
    for (int h = 0; h < heads; ++h) {
        auto m = headMatrix(trace, layer, h, what, decoder, cross);
        if (!m) continue;
        m->name = QObject::tr("Head %1").arg(h + 1);
        auto view = makeHeatmap(*m, what);
        cells->addWidget(view.release(), h / columns, h % columns);
    }
    return grid;
}

Result<QStringList> exportAllHeads(const Trace& trace, const QString& folder,
                                   const AllHeadsOptions& o) {
    if (folder.trimmed().isEmpty()) return makeError("No folder given.");
    if (!isHeadMatrixKind(o.what))
        return makeError("Unknown matrix '" + str(o.what) +
                         "': use weights, scores, scaled, masked or values.");
    if (isImageFormat(o.format)) {
        if (Status s = validate(o.image); !s) return s.error();
    }
    const auto& stack = o.decoder ? trace.decoder_layers : trace.layers;
    const int layers = static_cast<int>(stack.size());
    if (o.layer >= layers || o.layer < -1)
        return makeError("Layer " + std::to_string(o.layer + 1) +
                         " does not exist: the model has " + std::to_string(layers) + ".");
    const QFileInfo info(folder);
    if (info.exists() && !info.isDir())
        return makeError(str(quoted(folder) + " is a file, not a folder."));
    const int first = o.layer < 0 ? 0 : o.layer;
    const int last = o.layer < 0 ? layers - 1 : o.layer;

    int total = 0;
    for (int l = first; l <= last; ++l) {
        const LayerTrace& lt = stack[static_cast<std::size_t>(l)];
        const AttentionTrace* at =
            o.cross ? (lt.cross_attention ? &*lt.cross_attention : nullptr) : &lt.self_attention;
        total += at ? static_cast<int>(at->heads.size()) : 0;
    }
    if (total == 0) return makeError("There are no heads to export.");
    if (!QDir().mkpath(folder))
        return makeError(str("Cannot create the folder " + quoted(folder) + "."));

    QStringList written;
    QList<QFuture<Status>> pending;  // PNGs being written
    const auto finishPending = [&pending]() -> Status {
        Status first = Ok{};
        for (QFuture<Status>& f : pending) {
            const Status s = f.result();
            if (first && !s) first = s;
        }
        pending.clear();
        return first;
    };
    std::unique_ptr<HeatmapView> view;  // one view, refilled per head: layout is the slow part
    const QDir dir(folder);
    int done = 0;
    for (int l = first; l <= last; ++l) {
        const LayerTrace& lt = stack[static_cast<std::size_t>(l)];
        const AttentionTrace* at =
            o.cross ? (lt.cross_attention ? &*lt.cross_attention : nullptr) : &lt.self_attention;
        const int heads = at ? static_cast<int>(at->heads.size()) : 0;
        for (int h = 0; h < heads; ++h) {
            auto m = headMatrix(trace, l, h, o.what, o.decoder, o.cross);
            if (!m) return m.error();
            const QString path = dir.filePath(QStringLiteral("L%1_H%2_%3.%4")
                                                  .arg(l + 1)
                                                  .arg(h + 1)
                                                  .arg(o.what, toString(o.format)));
            Status s = Ok{};
            if (isImageFormat(o.format)) {
                if (!view) {
                    view = makeHeatmap(*m, o.what);
                } else {
                    view->setMatrix(m->values, m->rows, m->cols);
                    view->setTitle(m->name);
                }
                ImageOptions io = o.image;
                io.title = m->name;
                if (o.format == ExportFormat::Png) {
                    // Drawing needs this thread; compressing and writing the PNG do not, so
                    // they run beside the drawing of the next head.
                    auto image = renderImage(view.get(), io);
                    if (!image) return image.error();
                    pending << QtConcurrent::run(savePng, std::move(image).value(), path);
                } else {
                    s = exportWidget(view.get(), path, o.format, io);
                }
            } else {
                s = exportMatrix(*m, path, o.format);
            }
            if (!s) {
                (void)finishPending();
                return s.error();
            }
            written << path;
            ++done;
            if (o.progress && !o.progress(static_cast<double>(done) / total)) {
                (void)finishPending();
                return makeError("Export stopped after " + std::to_string(done) + " of " +
                                 std::to_string(total) + " heads.");
            }
        }
    }
    if (Status s = finishPending(); !s) return s.error();
    return written;
}

// --- clipboard
// -------------------------------------------------------------------------------------

Status copyToClipboard(QWidget* widget) {
    if (!widget) return makeError("There is no view to copy.");
    QClipboard* clipboard = QGuiApplication::clipboard();
    if (!clipboard) return makeError("There is no clipboard.");
    settle(widget->window());  // a hidden window lays out only when asked
    const double ratio = std::max(1.0, widget->devicePixelRatioF());
    const QSize logical = widget->size().expandedTo(QSize(16, 16));
    const QSize pixels(static_cast<int>(std::lround(logical.width() * ratio)),
                       static_cast<int>(std::lround(logical.height() * ratio)));
    QImage image =
        renderTree(widget, logical, pixels, screenDpi(widget) * ratio, 0, ImageOptions{});
    clipboard->setImage(image);
    return Ok{};
}

void installCopyShortcut(QWidget* view, std::function<QWidget*()> target) {
    auto* shortcut = new QShortcut(QKeySequence::Copy, view);
    shortcut->setContext(Qt::WidgetWithChildrenShortcut);
    QObject::connect(shortcut, &QShortcut::activated, view,
                     [target = std::move(target)] { (void)copyToClipboard(target()); });
}

}  // namespace attn::ui
