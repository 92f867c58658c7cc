#include "cli_export.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>

#include "attn/model.h"
#include "cli_common.h"
#include "export/export.h"
#include "widgets/heatmap_view.h"

namespace attn::cli {

using namespace attn::ui;

namespace {

const std::vector<std::string> kExportValueOptions = {"text",   "view",   "layer",  "head",
                                                      "format", "out",    "width",  "height",
                                                      "dpi",    "source", "target", "title"};
const std::vector<std::string> kExportFlagOptions = {"help",  "no-scale",     "decoder",
                                                     "cross", "presentation", "crop"};

Result<int> toInt(const Args& a, const std::string& k, int def, int lo, int hi) {
    return intOption(a, k, def, lo, hi);
}

bool looksLikeFolder(const QString& path) {
    return path.endsWith(QLatin1Char('/')) || QFileInfo(path).isDir();
}

// The positional encoding the text got, as a labelled matrix.
Result<LabelledMatrix> positionalMatrix(const Trace& trace) {
    if (!trace.model) return makeError("The trace has no model.");
    const ModelConfig& c = trace.model->config;
    LabelledMatrix m;
    const int T = trace.tokenCount();
    for (int t = 0; t < T; ++t)
        m.rows << QStringLiteral("%1 %2").arg(t).arg(QString::fromStdString(trace.tokens[t].text));
    switch (c.positional) {
        case PositionalKind::None:
            return makeError(
                "This model adds no positional encoding (--pe none): nothing to "
                "export for --view pe.");
        case PositionalKind::Rope: {
            const int d = c.headDim();
            m.values.resize(T, d / 2);  // (T, d_head/2): angle of pair i at position t
            for (int t = 0; t < T; ++t)
                for (int i = 0; i < d / 2; ++i) m.values(t, i) = ropeAngle(t, i, d, c.rope_theta);
            m.name = QStringLiteral("RoPE angles");
            break;
        }
        default:
            m.values = trace.positional;  // (T, d_model)
            m.name = QStringLiteral("positional encoding");
            break;
    }
    for (int i = 0; i < m.values.cols(); ++i) m.cols << QString::number(i);
    if (m.rows.size() != m.values.rows()) m.rows.clear();
    return m;
}

int fail(const std::string& message, int code) {
    std::cerr << "attention-lab export: " << message << "\n";
    return code;
}

}  // namespace

std::string exportCommandUsage() {
    return R"(Usage: attention-lab export --text "..." --out PATH [options]

Writes one view of the sentence's attention to a file, without opening a window.

  --view weights|scores|pe|values|heads   what to draw (default weights)
        weights  softmax weights of one head      scores  raw scores of one head
        values   ‖α_ij·v_j‖ of one head            pe      the positional encoding used
        heads    a grid of every head of the layer; with --out a folder (existing, or ending
                 in /) one file per head: L{layer}_H{head}_weights.{format}
  --layer L     layer, counted from 1 as in the window (default 1); with --view heads and a
                folder also 'all'
  --head H      head, counted from 1 as in the window (default 1)
  --format png|svg|pdf|csv|json   (default: from the --out suffix)
  --width W --height H --dpi D    image size in pixels and resolution (default 1600×1000 at
                192 DPI: text twice its screen size). CSV and JSON ignore them.
  --decoder --cross               the decoder stack / its cross-attention (encoder–decoder)
  --title TEXT    a title drawn above the figure
  --crop          cut the picture down to the figure (smaller than --width × --height)
  --presentation  presentation-sized text (1.5 times as large relative to the figure)

Model options: --model untrained|builtin:english|PATH --d-model D --heads H --layers N
  --kv-heads K --seed S --mask none|causal|padding --pe sinusoidal|learned|rope|none
  --score scaled-dot|dot|cosine|general|additive --projection embeddings|qk|qkv
  --temperature T --no-scale

Exit status: 0 written, 1 the file could not be written, 2 bad arguments.
)";
}

int runExportCommand(int argc, char** argv) {
    std::vector<std::string> values = kExportValueOptions;
    values.insert(values.end(), modelOptionNames().begin(), modelOptionNames().end());
    const int first = argc > 1 && std::string(argv[1]) == "export" ? 2 : 1;
    auto parsed = parseArgs(argc, argv, first, values, kExportFlagOptions);
    if (!parsed) return fail(parsed.message(), 2);
    const Args& a = *parsed;
    if (a.flag("help") || (a.positional.size() == 1 && a.positional[0] == "-h")) {
        std::cout << exportCommandUsage();
        return 0;
    }
    if (!a.positional.empty())
        return fail(
            "Unexpected '" + a.positional.front() + "': every option starts with --. See --help.",
            2);
    if (a.flag("help")) {
        std::cout << exportCommandUsage();
        return 0;
    }
    if (!a.has("text") && !(a.has("source") && a.has("target")))
        return fail("Give the sentence with --text \"...\".", 2);
    if (!a.has("out")) return fail("Give the output file with --out PATH.", 2);

    const QString view = QString::fromStdString(a.get("view", "weights"));
    static const QStringList views = {"weights", "scores", "pe", "values", "heads"};
    if (!views.contains(view))
        return fail(
            "--view takes weights, scores, pe, values or heads, not '" + view.toStdString() + "'.",
            2);
    const QString out = QString::fromStdString(a.get("out"));
    const bool toFolder = view == QLatin1String("heads") && looksLikeFolder(out);

    ExportFormat format;
    if (a.has("format")) {
        if (!parseExportFormat(QString::fromStdString(a.get("format")), &format))
            return fail("--format takes png, svg, pdf, csv or json, not '" + a.get("format") + "'.",
                        2);
    } else if (auto f = formatFromPath(out); f && !toFolder) {
        format = *f;
    } else if (toFolder) {
        format = ExportFormat::Png;
    } else {
        return fail(
            "Say which format with --format, or end --out in .png, .svg, .pdf, .csv or "
            ".json.",
            2);
    }
    if (view == QLatin1String("heads") && !toFolder && !isImageFormat(format))
        return fail("--view heads as " + toString(format).toUpper().toStdString() +
                        " writes one file per head: give a folder with --out (ending in /).",
                    2);

    const bool allLayers = a.get("layer") == "all";
    if (allLayers && !toFolder)
        return fail("--layer all needs --view heads and a folder for --out.", 2);
    // --layer and --head count from 1, as the window, the titles and the file names do.
    auto layer = allLayers ? Result<int>(0) : oneBasedOption(a, "layer", "layers");
    if (!layer) return fail(layer.message(), 2);
    auto head = oneBasedOption(a, "head", "heads");
    if (!head) return fail(head.message(), 2);
    ImageOptions image;
    auto width = toInt(a, "width", image.width, 16, 20000);
    if (!width) return fail(width.message(), 2);
    auto height = toInt(a, "height", image.height, 16, 20000);
    if (!height) return fail(height.message(), 2);
    auto dpi = toInt(a, "dpi", image.dpi, 24, 2400);
    if (!dpi) return fail(dpi.message(), 2);
    image.width = *width;
    image.height = *height;
    image.dpi = *dpi;
    image.caption = QString::fromStdString(a.get("title"));
    image.crop = a.flag("crop");
    image.fontScale = a.flag("presentation") ? 1.5 : 1.0;
    if (isImageFormat(format)) {
        if (Status s = validate(image); !s) return fail(s.message(), 2);
    }
    const bool decoder = a.flag("decoder") || a.flag("cross");
    const bool cross = a.flag("cross");

    // Widgets need a QApplication; without a display, Qt's offscreen platform draws.
    std::unique_ptr<QApplication> ownApp;
    if (!QCoreApplication::instance()) {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") &&
            qEnvironmentVariableIsEmpty("DISPLAY") &&
            qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        static int qtArgc = 1;
        static char name[] = "attention-lab";
        static char* qtArgv[] = {name, nullptr};
        // Our messages say what went wrong; Qt's own notes (runtime dir, platform) are noise here.
        qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
            if (type == QtCriticalMsg || type == QtFatalMsg)
                std::cerr << "attention-lab export: " << msg.toStdString() << "\n";
        });
        ownApp = std::make_unique<QApplication>(qtArgc, qtArgv);
    } else if (!qobject_cast<QApplication*>(QCoreApplication::instance())) {
        return fail("Drawing needs a QApplication, but a QCoreApplication is running.", 1);
    }

    auto trace = traceFromArgs(a);
    if (!trace) return fail(trace.message(), 2);
    const Trace& t = **trace;

    Status result = Ok{};
    QStringList written;
    if (view == QLatin1String("heads")) {
        // A layer that does not exist is a bad argument, found before anything is written.
        if (!allLayers) {
            if (auto probe = headMatrix(t, *layer, 0, QStringLiteral("weights"), decoder, cross);
                !probe)
                return fail(probe.message(), 2);
        }
        if (toFolder) {
            AllHeadsOptions o;
            o.layer = allLayers ? -1 : *layer;
            o.format = format;
            o.image = image;
            o.decoder = decoder;
            o.cross = cross;
            auto files = exportAllHeads(t, out, o);
            if (files) written = *files;
            result = files ? Status(Ok{}) : Status(files.error());
        } else {
            auto grid = makeHeadGrid(t, *layer, QStringLiteral("weights"), decoder, cross);
            image.title = QStringLiteral("Layer %1 heads").arg(*layer + 1);
            result = exportWidget(grid.get(), out, format, image);
            written << out;
        }
    } else {
        Result<LabelledMatrix> m = view == QLatin1String("pe")
                                       ? positionalMatrix(t)
                                       : headMatrix(t, *layer, *head, view, decoder, cross);
        if (!m) return fail(m.message(), 2);
        if (isImageFormat(format)) {
            const QString what =
                view == QLatin1String("pe")
                    ? (t.model && t.model->config.positional == PositionalKind::Rope
                           ? QStringLiteral("positive")
                           : QStringLiteral("signed"))
                    : view;
            auto heat = makeHeatmap(*m, what);
            if (view == QLatin1String("pe"))
                heat->setAxisTitles(QObject::tr("position · token"),
                                    what == QLatin1String("positive") ? QObject::tr("pair i")
                                                                      : QObject::tr("dimension"));
            image.title = m->name;
            result = exportWidget(heat.get(), out, format, image);
        } else {
            result = exportMatrix(*m, out, format);
        }
        written << out;
    }
    if (!result) return fail(result.message(), 1);
    for (const QString& f : written) std::cout << "Wrote " << f.toStdString() << "\n";
    return 0;
}

}  // namespace attn::cli
