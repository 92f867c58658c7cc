#include "cli_export_command.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>

#include "attn/model.h"
#include "export.h"
#include "heatmap_view.h"

namespace attn::ui {

std::string ExportArgs::get(const std::string& k, const std::string& def) const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
}

bool ExportArgs::flag(const std::string& k) const {
    return std::find(flags.begin(), flags.end(), k) != flags.end();
}

namespace {

ExportTraceSource& traceSource() {
    static ExportTraceSource source;
    return source;
}

const std::vector<std::string> kValueOptions = {
    // export
    "text", "view", "layer", "head", "format", "out", "width", "height", "dpi",
    // model (the same names as the trace command)
    "model", "layers", "heads", "kv-heads", "d-model", "decoder-layers", "mask", "pe", "score",
    "projection", "temperature", "seed", "source", "target"};
const std::vector<std::string> kFlagOptions = {"help", "no-scale", "decoder", "cross"};

Result<ExportArgs> parse(int argc, char** argv) {
    ExportArgs a;
    int first = 1;
    if (argc > 1 && std::string(argv[1]) == "export") first = 2;
    for (int i = first; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "-h") s = "--help";
        if (s.rfind("--", 0) != 0)
            return makeError("Unexpected '" + s + "': every option starts with --. See --help.");
        std::string name = s.substr(2), value;
        bool inlineValue = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inlineValue = true;
        }
        if (std::find(kFlagOptions.begin(), kFlagOptions.end(), name) != kFlagOptions.end()) {
            a.flags.push_back(name);
            continue;
        }
        if (std::find(kValueOptions.begin(), kValueOptions.end(), name) == kValueOptions.end())
            return makeError("Unknown option --" + name + ". See --help.");
        if (!inlineValue) {
            if (i + 1 >= argc) return makeError("Option --" + name + " needs a value.");
            value = argv[++i];
        }
        a.values[name] = value;
    }
    return a;
}

Result<int> toInt(const ExportArgs& a, const std::string& k, int def, int lo, int hi) {
    if (!a.has(k)) return def;
    const std::string s = a.get(k);
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return makeError("--" + k + " takes a whole number, not '" + s + "'.");
    if (v < lo || v > hi)
        return makeError("--" + k + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi) + ", not " + s + ".");
    return v;
}

// An untrained model from the options: the default when the application installs no source.
Result<TracePtr> untrainedTrace(const ExportArgs& a) {
    if (a.has("source") || a.has("target"))
        return makeError(
            "--source/--target need the application's encoder–decoder support; "
            "use --text.");
    const std::string spec = a.get("model", "untrained");
    if (spec != "untrained")
        return makeError("Cannot open model '" + spec +
                         "' here: this export only builds untrained models (--model untrained).");
    ModelConfig c;
    struct IntOption {
        const char* name;
        int* target;
        int lo, hi;
    };
    const IntOption ints[] = {{"layers", &c.n_layers, 1, 64},
                              {"heads", &c.n_heads, 1, 128},
                              {"kv-heads", &c.n_kv_heads, 0, 128},
                              {"d-model", &c.d_model, 1, 8192}};
    for (const IntOption& o : ints) {
        auto v = toInt(a, o.name, *o.target, o.lo, o.hi);
        if (!v) return v.error();
        *o.target = *v;
    }
    auto seed = toInt(a, "seed", 1, 0, 2'000'000'000);
    if (!seed) return seed.error();
    c.seed = static_cast<std::uint64_t>(*seed);
    if (a.has("mask") && !parseMaskKind(a.get("mask"), &c.mask))
        return makeError("--mask takes none, causal or padding, not '" + a.get("mask") + "'.");
    if (a.has("pe") && !parsePositionalKind(a.get("pe"), &c.positional))
        return makeError("--pe takes sinusoidal, learned, rope or none, not '" + a.get("pe") +
                         "'.");
    if (a.has("score") && !parseScoreFunction(a.get("score"), &c.score))
        return makeError("--score takes scaled-dot, dot, cosine, general or additive, not '" +
                         a.get("score") + "'.");
    if (a.has("projection") && !parseProjectionMode(a.get("projection"), &c.projection))
        return makeError("--projection takes embeddings, qk or qkv, not '" + a.get("projection") +
                         "'.");
    if (a.has("temperature")) {
        const std::string s = a.get("temperature");
        char* end = nullptr;
        const float t = std::strtof(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !std::isfinite(t) || t < 0)
            return makeError("--temperature takes a number ≥ 0, not '" + s + "'.");
        c.temperature = t;
    }
    if (a.flag("no-scale")) c.scale = false;
    if (Status s = validate(c); !s) return s.error();
    auto model = makeUntrainedModel(c);
    if (!model) return model.error();
    return run(std::shared_ptr<const Model>(model.value()), a.get("text"));
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

void setExportTraceSource(ExportTraceSource source) { traceSource() = std::move(source); }

std::string exportCommandUsage() {
    return R"(Usage: attention-lab export --text "..." --out PATH [options]

Writes one view of the sentence's attention to a file, without opening a window.

  --view weights|scores|pe|values|heads   what to draw (default weights)
        weights  softmax weights of one head      scores  raw scores of one head
        values   ‖α_ij·v_j‖ of one head            pe      the positional encoding used
        heads    a grid of every head of the layer; with --out a folder (existing, or ending
                 in /) one file per head: L{layer}_H{head}_weights.{format}
  --layer L     layer (default 0); with --view heads and a folder also 'all'
  --head H      head (default 0)
  --format png|svg|pdf|csv|json   (default: from the --out suffix)
  --width W --height H --dpi D    image size in pixels and resolution (default 1600×1000 at
                192 DPI: text twice its screen size). CSV and JSON ignore them.
  --decoder --cross               the decoder stack / its cross-attention (encoder–decoder)

Model options: --model untrained|builtin:english|PATH --d-model D --heads H --layers N
  --kv-heads K --seed S --mask none|causal|padding --pe sinusoidal|learned|rope|none
  --score scaled-dot|dot|cosine|general|additive --projection embeddings|qk|qkv
  --temperature T --no-scale

Exit status: 0 written, 1 the file could not be written, 2 bad arguments.
)";
}

int runExportCommand(int argc, char** argv) {
    auto parsed = parse(argc, argv);
    if (!parsed) return fail(parsed.message(), 2);
    const ExportArgs& a = *parsed;
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
    auto layer = allLayers ? Result<int>(0) : toInt(a, "layer", 0, 0, 1000);
    if (!layer) return fail(layer.message(), 2);
    auto head = toInt(a, "head", 0, 0, 1000);
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

    auto trace = traceSource() ? traceSource()(a) : untrainedTrace(a);
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
            image.title = QStringLiteral("Layer %1 heads").arg(*layer);
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

}  // namespace attn::ui
