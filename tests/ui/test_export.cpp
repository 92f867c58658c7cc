// Exports: every format is opened by a real reader (QImage, QXmlStreamReader, the PDF header,
// a CSV line count, QJsonDocument); unwritable paths give a message and leave no file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QVBoxLayout>
#include <QXmlStreamReader>
#include <cmath>
#include <limits>

#include "export/export.h"
#include "export/export_dialog.h"
#include "session/session.h"
#include "views/qk_inside_view.h"
#include "widgets/heatmap_view.h"

namespace attn::ui {
namespace {

const char* kSentence = "The black cat drank the milk";

class ExportTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(m_dir.isValid());
        m_session.setText(QString::fromUtf8(kSentence));
        m_session.runNow();
        m_session.waitForIdle();
        ASSERT_TRUE(m_session.trace()) << m_session.lastError().toStdString();
        ASSERT_EQ(m_session.trace()->tokenCount(), 6);
    }
    LabelledMatrix weights(int layer = 0, int head = 0) const {
        auto m = headMatrix(*m_session.trace(), layer, head, QStringLiteral("weights"));
        EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.message());
        return m.ok() ? *m : LabelledMatrix{};
    }
    QString path(const QString& name) const { return m_dir.filePath(name); }

    QTemporaryDir m_dir;
    Session m_session;
};

int distinctColours(const QImage& image) {
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
    return static_cast<int>(colours.size());
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// Every piece of text inside <text> (and <tspan>) elements of an SVG; fails on XML errors.
QString svgText(const QByteArray& svg, QString* error) {
    QXmlStreamReader xml(svg);
    QString text;
    int depth = 0;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement() && xml.name() == QLatin1String("text")) ++depth;
        if (xml.isEndElement() && xml.name() == QLatin1String("text")) --depth;
        if (xml.isCharacters() && depth > 0) text += xml.text().toString() + QLatin1Char(' ');
    }
    if (xml.hasError()) *error = xml.errorString();
    return text;
}

TEST_F(ExportTest, PngDecodesAtTheAskedSizeAndDpi) {
    auto view = makeHeatmap(weights(), QStringLiteral("weights"));
    ImageOptions o;
    o.width = 900;
    o.height = 640;
    o.dpi = 144;
    const QString file = path("weights.png");
    Status s = exportWidget(view.get(), file, ExportFormat::Png, o);
    ASSERT_TRUE(s.ok()) << s.message();
    QImage image(file);
    ASSERT_FALSE(image.isNull());
    EXPECT_EQ(image.size(), QSize(900, 640));
    EXPECT_NEAR(image.dotsPerMeterX() * 0.0254, 144.0, 0.5);
    EXPECT_GT(distinctColours(image), 20) << "a heatmap has many colours";

    // The same view at 96 DPI and a different size: the size follows the request.
    o.width = 500;
    o.height = 300;
    o.dpi = 96;
    ASSERT_TRUE(exportWidget(view.get(), path("small.png"), ExportFormat::Png, o).ok());
    EXPECT_EQ(QImage(path("small.png")).size(), QSize(500, 300));
}

TEST_F(ExportTest, SvgParsesAndCarriesTheTokensAsText) {
    auto view = makeHeatmap(weights(), QStringLiteral("weights"));
    ImageOptions o;
    o.width = 1000;
    o.height = 700;
    o.dpi = 144;
    const QString file = path("weights.svg");
    Status s = exportWidget(view.get(), file, ExportFormat::Svg, o);
    ASSERT_TRUE(s.ok()) << s.message();
    const QByteArray svg = readAll(file);
    ASSERT_FALSE(svg.isEmpty());
    QString error;
    const QString text = svgText(svg, &error);
    EXPECT_TRUE(error.isEmpty()) << error.toStdString();
    for (const char* token : {"The", "black", "cat", "drank", "milk"})
        EXPECT_TRUE(text.contains(QLatin1String(token)))
            << token << " not in SVG text: " << text.left(400).toStdString();
}

TEST_F(ExportTest, PdfHasAHeaderAndAPage) {
    auto view = makeHeatmap(weights(), QStringLiteral("weights"));
    const QString file = path("weights.pdf");
    Status s = exportWidget(view.get(), file, ExportFormat::Pdf, ImageOptions{});
    ASSERT_TRUE(s.ok()) << s.message();
    const QByteArray pdf = readAll(file);
    EXPECT_TRUE(pdf.startsWith("%PDF")) << pdf.left(16).toStdString();
    EXPECT_TRUE(
        QString::fromLatin1(pdf).contains(QRegularExpression(QStringLiteral("/Type\\s*/Page[^s]"))))
        << "no page object";
    EXPECT_TRUE(pdf.trimmed().endsWith("%%EOF"));
}

TEST_F(ExportTest, CsvHasHeaderAndOneLinePerQuery) {
    const LabelledMatrix m = weights();
    const QString file = path("weights.csv");
    Status s = exportMatrix(m, file, ExportFormat::Csv);
    ASSERT_TRUE(s.ok()) << s.message();
    const QString csv = QString::fromUtf8(readAll(file));
    const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    ASSERT_EQ(lines.size(), 7);  // header + T rows
    EXPECT_EQ(lines[0], QStringLiteral(",The,black,cat,drank,the,milk"));
    EXPECT_TRUE(lines[3].startsWith(QStringLiteral("cat,")));
    // The numbers read back as the weights.
    const QStringList cells = lines[3].split(QLatin1Char(','));
    ASSERT_EQ(cells.size(), 7);
    for (int j = 0; j < 6; ++j) EXPECT_FLOAT_EQ(cells[j + 1].toFloat(), m.values(2, j));
}

TEST(MatrixCsv, QuotesLabelsWithCommasQuotesAndEdgeSpaces) {
    LabelledMatrix m;
    m.values = Eigen::MatrixXf::Zero(2, 2);
    m.values(1, 0) = -std::numeric_limits<float>::infinity();
    m.rows = {QStringLiteral("a,b"), QStringLiteral("say \"hi\"")};
    m.cols = {QStringLiteral(" lead"), QStringLiteral("кот")};
    const QString csv = QString::fromUtf8(matrixToCsv(m));
    EXPECT_EQ(csv, QStringLiteral(",\" lead\",кот\n\"a,b\",0,0\n\"say \"\"hi\"\"\",-inf,0\n"));
}

TEST_F(ExportTest, JsonHasTheShapeAndTheNumbers) {
    LabelledMatrix m = weights();
    m.values(0, 5) = -std::numeric_limits<float>::infinity();  // as a masked cell
    const QString file = path("weights.json");
    Status s = exportMatrix(m, file, ExportFormat::Json);
    ASSERT_TRUE(s.ok()) << s.message();
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(readAll(file), &err);
    ASSERT_EQ(err.error, QJsonParseError::NoError) << err.errorString().toStdString();
    const QJsonObject o = doc.object();
    const QJsonArray rows = o["rows"].toArray(), cols = o["cols"].toArray(),
                     values = o["values"].toArray();
    ASSERT_EQ(rows.size(), 6);
    ASSERT_EQ(cols.size(), 6);
    ASSERT_EQ(values.size(), 6);
    EXPECT_EQ(rows[2].toString(), QStringLiteral("cat"));
    EXPECT_EQ(cols[5].toString(), QStringLiteral("milk"));
    for (int i = 0; i < 6; ++i) {
        const QJsonArray row = values[i].toArray();
        ASSERT_EQ(row.size(), 6);
        for (int j = 0; j < 6; ++j) {
            if (i == 0 && j == 5)
                EXPECT_TRUE(row[j].isNull()) << "-inf is written as null";
            else
                EXPECT_NEAR(row[j].toDouble(), m.values(i, j), 1e-6);
        }
    }
    EXPECT_EQ(o["name"].toString(), QStringLiteral("Layer 1 · head 1 · weights"));
}

TEST_F(ExportTest, UnwritablePathGivesAMessageAndNoFile) {
    auto view = makeHeatmap(weights(), QStringLiteral("weights"));
    const QString missing = path("no/such/folder/out.png");
    Status s = exportWidget(view.get(), missing, ExportFormat::Png, ImageOptions{});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("does not exist"), std::string::npos) << s.message();
    EXPECT_FALSE(QFileInfo::exists(missing));

    s = exportMatrix(weights(), path("no/such/out.csv"), ExportFormat::Csv);
    EXPECT_FALSE(s.ok());

    // A folder given as the file.
    s = exportMatrix(weights(), m_dir.path(), ExportFormat::Json);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("folder"), std::string::npos) << s.message();

    // A place nobody may create files in, not even root.
    s = exportWidget(view.get(), QStringLiteral("/proc/attention-lab-test.png"), ExportFormat::Png,
                     ImageOptions{});
    EXPECT_FALSE(s.ok());
    EXPECT_FALSE(QFileInfo::exists(QStringLiteral("/proc/attention-lab-test.png")));

    // A folder we may not write into: nothing is left behind, not even a temporary file.
    if (geteuid() != 0) {
        const QString locked = path("locked");
        ASSERT_TRUE(QDir().mkpath(locked));
        ASSERT_TRUE(QFile::setPermissions(locked, QFile::ReadOwner | QFile::ExeOwner));
        for (ExportFormat f : {ExportFormat::Png, ExportFormat::Svg, ExportFormat::Pdf}) {
            const QString file = locked + QStringLiteral("/out.") + toString(f);
            Status w = exportWidget(view.get(), file, f, ImageOptions{});
            EXPECT_FALSE(w.ok()) << toString(f).toStdString();
            if (!w.ok()) {
                EXPECT_NE(w.message().find("out."), std::string::npos) << w.message();
            }
        }
        EXPECT_FALSE(
            exportMatrix(weights(), locked + QStringLiteral("/m.csv"), ExportFormat::Csv).ok());
        EXPECT_TRUE(QDir(locked)
                        .entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::Hidden)
                        .isEmpty());
        QFile::setPermissions(locked, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    }
}

TEST_F(ExportTest, BadImageOptionsAreRefused) {
    auto view = makeHeatmap(weights(), QStringLiteral("weights"));
    ImageOptions o;
    o.width = 200;
    o.height = 100;
    o.dpi = 600;  // would lay the view out in 32 × 16 pixels
    Status s = exportWidget(view.get(), path("tiny.png"), ExportFormat::Png, o);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("DPI"), std::string::npos) << s.message();
    EXPECT_FALSE(QFileInfo::exists(path("tiny.png")));
    // A picture cannot be a CSV.
    EXPECT_FALSE(
        exportWidget(view.get(), path("view.csv"), ExportFormat::Csv, ImageOptions{}).ok());
}

TEST_F(ExportTest, AllHeadsGoIntoAFolderOneFileEach) {
    AllHeadsOptions o;
    o.image.width = 400;
    o.image.height = 300;
    o.image.dpi = 96;
    const QString folder = path("heads");
    auto files = exportAllHeads(*m_session.trace(), folder, o);
    ASSERT_TRUE(files.ok()) << files.message();
    const int heads = m_session.config().n_heads * m_session.config().n_layers;
    ASSERT_EQ(files->size(), heads);
    // File names count from 1, as the window does.
    EXPECT_TRUE(QFileInfo::exists(folder + QStringLiteral("/L1_H1_weights.png")));
    EXPECT_TRUE(QFileInfo::exists(folder + QStringLiteral("/L1_H2_weights.png")));
    EXPECT_FALSE(QFileInfo::exists(folder + QStringLiteral("/L0_H0_weights.png")));
    for (const QString& f : *files) EXPECT_EQ(QImage(f).size(), QSize(400, 300)) << f.toStdString();

    o.format = ExportFormat::Csv;
    o.what = QStringLiteral("scores");
    files = exportAllHeads(*m_session.trace(), folder, o);
    ASSERT_TRUE(files.ok()) << files.message();
    const QString csv = QString::fromUtf8(readAll(folder + QStringLiteral("/L1_H2_scores.csv")));
    EXPECT_EQ(csv.count(QLatin1Char('\n')), 7);

    o.layer = 5;
    EXPECT_FALSE(exportAllHeads(*m_session.trace(), folder, o).ok());
}

TEST_F(ExportTest, HeadGridRendersEveryHead) {
    auto grid = makeHeadGrid(*m_session.trace(), 0, QStringLiteral("weights"));
    auto image = renderImage(grid.get(), ImageOptions{});
    ASSERT_TRUE(image.ok()) << image.message();
    EXPECT_EQ(image->size(), QSize(1600, 1000));
    EXPECT_GT(distinctColours(*image), 20);
}

TEST_F(ExportTest, CopyPutsTheViewOnTheClipboard) {
    QkInsideView view(&m_session);
    view.resize(700, 500);
    Status s = copyToClipboard(view.exportTarget());
    ASSERT_TRUE(s.ok()) << s.message();
    const QImage image = QGuiApplication::clipboard()->image();
    ASSERT_FALSE(image.isNull());
    const double ratio = std::max(1.0, view.exportTarget()->devicePixelRatioF());
    EXPECT_EQ(image.width(), std::lround(view.exportTarget()->width() * ratio));
    EXPECT_GT(distinctColours(image), 10);
}

TEST_F(ExportTest, DialogWritesWhatItIsSetTo) {
    auto view = makeHeatmap(weights(), QStringLiteral("weights"));
    ExportDialog dialog(view.get(), weights());
    dialog.setFormat(ExportFormat::Csv);
    dialog.setPath(path("dialog.csv"));
    Status s = dialog.exportNow();
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(dialog.writtenFiles(), QStringList{path("dialog.csv")});
    EXPECT_TRUE(QFileInfo::exists(path("dialog.csv")));

    dialog.setFormat(ExportFormat::Png);
    ImageOptions o;
    o.width = 640;
    o.height = 480;
    o.dpi = 96;
    dialog.setImageOptions(o);
    dialog.setPath(path("dialog.png"));
    ASSERT_TRUE(dialog.exportNow().ok());
    EXPECT_EQ(QImage(path("dialog.png")).size(), QSize(640, 480));

    dialog.setPath(path("missing/dialog.png"));
    EXPECT_FALSE(dialog.exportNow().ok());
    EXPECT_TRUE(dialog.writtenFiles().isEmpty());

    dialog.setSession(&m_session);
    dialog.setScope(ExportDialog::Scope::ModelHeads);
    dialog.setPath(path("dialog-heads"));
    ASSERT_TRUE(dialog.exportNow().ok());
    EXPECT_EQ(dialog.writtenFiles().size(), m_session.config().n_heads);
}

// --- slide-ready export ----------------------------------------------------------------------

TEST(FigureNames, FileNamesAndCaptionsCountFromOne) {
    FigureCaption c;
    c.model = modelShortName(QStringLiteral("English masked-word model"));
    c.sentence = QStringLiteral("the cat  sat");
    c.layer = 0;
    c.head = 1;
    c.step = QStringLiteral("Softmax → weights");
    c.slug = stepSlug(StepKind::Weights);
    EXPECT_EQ(defaultFileName(c, ExportFormat::Png), QStringLiteral("english_L1_H2_softmax.png"));
    EXPECT_EQ(captionText(c),
              QStringLiteral("english · “the cat sat” · Layer 1 · Head 2 · Softmax → weights"));
    EXPECT_EQ(modelShortName(QStringLiteral("English to Spanish translation model")),
              QStringLiteral("translation"));
    EXPECT_EQ(modelShortName(QStringLiteral("stories260K")), QStringLiteral("stories260k"));
    EXPECT_EQ(modelShortName(QStringLiteral("untrained")), QStringLiteral("untrained"));
    // Nothing about a layer or head: no L or H part, and never "A_softmax_S_".
    FigureCaption embed{
        QStringLiteral("english"),    {}, -1, -1, false, false, QStringLiteral("Embeddings"),
        stepSlug(StepKind::Embedding)};
    EXPECT_EQ(defaultFileName(embed, ExportFormat::Svg), QStringLiteral("english_embeddings.svg"));
    EXPECT_EQ(writtenSummary({QStringLiteral("/tmp/slides/english_L1_H2_softmax.png")}),
              QStringLiteral("Wrote english_L1_H2_softmax.png to /tmp/slides"));
    EXPECT_EQ(writtenSummary({QStringLiteral("/tmp/h/L1_H1_weights.png"),
                              QStringLiteral("/tmp/h/L1_H2_weights.png")}),
              QStringLiteral("Wrote 2 files (L1_H1_weights.png …) to /tmp/h"));
}

// How many pixels have the focus outline's pink (0xff4081), give or take antialiasing.
int pinkPixels(const QImage& image) {
    int n = 0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (c.red() > 220 && c.green() > 40 && c.green() < 110 && c.blue() > 90 &&
                c.blue() < 170)
                ++n;
        }
    return n;
}

// A pane as the window has it: a figure at the top, the empty rest below, a focus outline and
// a step counter.
struct Pane {
    QWidget root;
    HeatmapView* map = nullptr;
    QLabel* counter = nullptr;
    QLabel* heading = nullptr;
    explicit Pane(const LabelledMatrix& m) {
        auto* layout = new QVBoxLayout(&root);
        counter = new QLabel(QStringLiteral("Step 8 / 26"), &root);
        counter->setObjectName(QStringLiteral("stepCounter"));
        layout->addWidget(counter);
        heading = new QLabel(QStringLiteral("Layer 1 self-attention: Softmax weights"), &root);
        heading->setObjectName(QStringLiteral("stepTitle"));
        layout->addWidget(heading);
        map = new HeatmapView(&root);
        map->setMatrix(m.values, m.rows, m.cols);
        map->setTitle(m.name);
        map->setFixedSize(360, 360);
        map->setHighlight(2, 3);
        layout->addWidget(map, 0, Qt::AlignLeft);
        layout->addStretch(1);
        root.resize(900, 900);
    }
};

TEST_F(ExportTest, SlideExportIsCroppedTitledAndWithoutFocusMarks) {
    Pane pane(weights());
    pane.root.show();
    QCoreApplication::processEvents();
    // On screen the outline is there.
    ASSERT_GT(pinkPixels(pane.root.grab().toImage()), 20);

    ImageOptions o;
    o.width = 900;
    o.height = 900;
    o.dpi = 96;
    o.crop = true;
    o.caption = QStringLiteral("english · “The black cat drank the milk” · Layer 1 · Head 1");
    ASSERT_TRUE(exportWidget(&pane.root, path("slide.png"), ExportFormat::Png, o).ok());
    const QImage png(path("slide.png"));
    ASSERT_FALSE(png.isNull());
    // The figure is 360 px of a 900 px pane: the empty lower half is gone.
    EXPECT_LT(png.height(), 900 / 2 + 120) << png.height();
    EXPECT_EQ(pinkPixels(png), 0);
    // Put back for the window.
    EXPECT_EQ(pane.map->highlightRow(), 2);
    EXPECT_EQ(pane.map->highlightCol(), 3);
    EXPECT_FALSE(pane.counter->isHidden());

    // SVG and PDF show the same thing: the caption, no counter, and the PNG's proportions.
    ASSERT_TRUE(exportWidget(&pane.root, path("slide.svg"), ExportFormat::Svg, o).ok());
    ASSERT_TRUE(exportWidget(&pane.root, path("slide.pdf"), ExportFormat::Pdf, o).ok());
    const QByteArray svg = readAll(path("slide.svg"));
    QString error;
    const QString text = svgText(svg, &error);
    ASSERT_TRUE(error.isEmpty()) << error.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("Layer 1 · Head 1"))) << text.toStdString();
    EXPECT_FALSE(text.contains(QStringLiteral("Step 8"))) << text.toStdString();
    // The caption names layer, head and step: the step's heading is not said again under it.
    EXPECT_FALSE(text.contains(QStringLiteral("self-attention"))) << text.toStdString();
    EXPECT_FALSE(pane.heading->isHidden()) << "put back for the window";
    const double pngRatio = static_cast<double>(png.width()) / png.height();
    QXmlStreamReader xml(svg);
    double svgRatio = 0;
    while (!xml.atEnd() && svgRatio == 0) {
        xml.readNext();
        if (xml.isStartElement() && xml.name() == QLatin1String("svg")) {
            const QStringList box =
                xml.attributes().value(QLatin1String("viewBox")).toString().split(QLatin1Char(' '));
            ASSERT_EQ(box.size(), 4);
            svgRatio = box[2].toDouble() / box[3].toDouble();
        }
    }
    EXPECT_NEAR(svgRatio, pngRatio, 0.01 * pngRatio);
    const QByteArray pdf = readAll(path("slide.pdf"));
    const QRegularExpression mediaBox(
        QStringLiteral("/MediaBox \\[\\s*0\\s+0\\s+([0-9.]+)\\s+([0-9.]+)"));
    const auto match = mediaBox.match(QString::fromLatin1(pdf));
    ASSERT_TRUE(match.hasMatch());
    EXPECT_NEAR(match.captured(1).toDouble() / match.captured(2).toDouble(), pngRatio,
                0.01 * pngRatio);
}

TEST_F(ExportTest, PresentationTextIsLargerRelativeToTheFigure) {
    Pane pane(weights());
    ImageOptions o;
    o.width = 900;
    o.height = 900;
    o.dpi = 96;
    o.caption = QStringLiteral("english · Layer 1 · Head 1");
    // The caption's band: the first rows from the top that hold dark text.
    const auto captionBottom = [](const QImage& image) {
        int lastDark = -1;
        for (int y = 0; y < image.height() / 3; ++y) {
            bool dark = false;
            for (int x = 0; x < image.width() && !dark; ++x) dark = qGray(image.pixel(x, y)) < 100;
            if (dark)
                lastDark = y;
            else if (lastDark >= 0)
                return lastDark;
        }
        return lastDark;
    };
    auto normal = renderImage(&pane.root, o);
    o.fontScale = 1.5;
    auto large = renderImage(&pane.root, o);
    ASSERT_TRUE(normal.ok() && large.ok());
    EXPECT_EQ(large->size(), QSize(900, 900));  // the asked size; only the text is larger
    EXPECT_GT(captionBottom(*large), captionBottom(*normal) * 1.3);
    o.fontScale = 9;
    EXPECT_FALSE(validate(o).ok());
}

TEST_F(ExportTest, WithoutACaptionTheStepKeepsItsHeading) {
    Pane pane(weights());
    pane.root.show();
    QCoreApplication::processEvents();
    ImageOptions o;
    o.width = 900;
    o.height = 900;
    o.crop = true;
    ASSERT_TRUE(exportWidget(&pane.root, path("plain.svg"), ExportFormat::Svg, o).ok());
    QString error;
    const QString text = svgText(readAll(path("plain.svg")), &error);
    ASSERT_TRUE(error.isEmpty()) << error.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("self-attention"))) << text.toStdString();
    EXPECT_FALSE(text.contains(QStringLiteral("Step 8"))) << text.toStdString();
}

TEST_F(ExportTest, DialogNamesTheFileAfterTheStepAndCountsFromOne) {
    int weightsStep = -1;
    for (int i = 0; i < static_cast<int>(m_session.trace()->steps.size()); ++i)
        if (m_session.trace()->steps[i].kind == StepKind::Weights) {
            weightsStep = i;
            break;
        }
    ASSERT_GE(weightsStep, 0);
    m_session.setStep(weightsStep);
    Pane pane(weights());
    ExportDialog dialog(&pane.root, weights());
    dialog.setSession(&m_session);
    EXPECT_EQ(QFileInfo(dialog.path()).fileName(), QStringLiteral("untrained_L1_H1_softmax.png"));
    EXPECT_TRUE(dialog.captionText().contains(QStringLiteral("Layer 1 · Head 1 · Softmax")))
        << dialog.captionText().toStdString();
    auto* scope = dialog.findChild<QComboBox*>();
    ASSERT_TRUE(scope);
    bool sawLayer1 = false;
    for (int i = 0; i < scope->count(); ++i) {
        EXPECT_FALSE(scope->itemText(i).contains(QStringLiteral("layer 0")));
        sawLayer1 = sawLayer1 || scope->itemText(i).contains(QStringLiteral("layer 1"));
    }
    EXPECT_TRUE(sawLayer1);
    dialog.setPath(path("from-dialog.png"));
    ASSERT_TRUE(dialog.exportNow().ok());
    EXPECT_EQ(
        dialog.statusMessage(),
        QStringLiteral("Wrote from-dialog.png to %1").arg(QDir::toNativeSeparators(m_dir.path())));
}

}  // namespace
}  // namespace attn::ui
