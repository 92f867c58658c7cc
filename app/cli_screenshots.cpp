#include "cli_screenshots.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "export/export.h"
#include "export/export_dialog.h"
#include "session/session.h"
#include "views/step_view.h"
#include "window/application.h"
#include "window/layout_audit.h"
#include "window/main_window.h"

namespace attn::cli {

using namespace attn::ui;

namespace {

const char* kStories = "/work/shared/models/stories260K/stories260K.bin";

int fail(const std::string& message, int code) {
    std::cerr << "attention-lab screenshots: " << message << "\n";
    return code;
}

QString slug(const QString& s) {
    QString out = s.toLower();
    out.replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("-"));
    while (out.startsWith(QLatin1Char('-'))) out.remove(0, 1);
    while (out.endsWith(QLatin1Char('-'))) out.chop(1);
    return out.isEmpty() ? QStringLiteral("x") : out;
}

// Waits until the window's model is loaded and its trace is ready.
bool waitForModel(MainWindow& w, const QString& spec, int timeoutMs) {
    QElapsedTimer clock;
    clock.start();
    Session* s = w.session();
    while (clock.elapsed() < timeoutMs) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        const auto t = s->trace();
        if (!t || s->busy() || !t->model) continue;
        const bool untrained = t->model->config.name == "untrained";
        if ((spec == QLatin1String("untrained")) == untrained) return true;
    }
    return false;
}

struct Size {
    QSize px;
    QString name;
};

bool parseSizes(const std::string& text, std::vector<Size>* out) {
    for (const QString& part :
         QString::fromStdString(text).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QStringList wh = part.trimmed().split(QLatin1Char('x'));
        bool okW = false, okH = false;
        if (wh.size() != 2) return false;
        const int w = wh[0].toInt(&okW), h = wh[1].toInt(&okH);
        if (!okW || !okH || w < 320 || h < 240 || w > 8000 || h > 8000) return false;
        out->push_back({QSize(w, h), part.trimmed()});
    }
    return !out->empty();
}

}  // namespace

std::string screenshotsCommandUsage() {
    return R"(Usage: attention-lab screenshots --out DIR [options]

Opens the window (off screen) for each model at each size, normal and presentation, shows
every view and every step of Step by step, saves each as DIR/<model>/<size>-<mode>/NN-<view>.png
and checks each with the layout audit: labels dropped without an on-screen notice, clipped or
elided text, a figure that leaves more than half its pane empty, a window larger than the screen.
Writes DIR/report.txt and DIR/report.json (findings, smallest cell and label counts per step)
and DIR/summary.txt (the same per step, without the findings' details).

  --models A,B,...   default: builtin:english,untrained and stories260K when present
                     (/work/shared/models/stories260K/stories260K.bin)
  --sizes WxH,...    default: 1024x768,1920x1080
  --modes normal,presentation   (default both)
  --text "..."       the sentence (default: the example sentence)
  --no-images        audit only
  --exports          also export each step's figure as File → Export does (cropped, titled,
                     named like english_L1_H2_softmax.png) into DIR/<model>/exports/<size>-<mode>/

Exit status: 0 no findings, 1 findings (or a file could not be written), 2 bad arguments.
)";
}

int runScreenshotsCommand(int argc, char** argv) {
    const int first = argc > 1 && std::string(argv[1]) == "screenshots" ? 2 : 1;
    auto parsed = parseArgs(argc, argv, first, {"out", "models", "sizes", "modes", "text"},
                            {"help", "no-images", "exports"});
    if (!parsed) return fail(parsed.message(), 2);
    const Args& a = *parsed;
    if (a.flag("help") || (a.positional.size() == 1 && a.positional[0] == "-h")) {
        std::cout << screenshotsCommandUsage();
        return 0;
    }
    if (!a.positional.empty()) return fail("Unexpected '" + a.positional.front() + "'.", 2);
    if (!a.has("out")) return fail("Give the output folder with --out DIR.", 2);
    std::vector<Size> sizes;
    if (!parseSizes(a.get("sizes", "1024x768,1920x1080"), &sizes))
        return fail("--sizes takes WIDTHxHEIGHT[,WIDTHxHEIGHT…], e.g. 1024x768,1920x1080.", 2);
    std::vector<bool> modes;
    for (const QString& m :
         QString::fromStdString(a.get("modes", "normal,presentation")).split(QLatin1Char(','))) {
        if (m == QLatin1String("normal"))
            modes.push_back(false);
        else if (m == QLatin1String("presentation"))
            modes.push_back(true);
        else
            return fail("--modes takes normal and/or presentation, not '" + m.toStdString() + "'.",
                        2);
    }
    QStringList models;
    if (a.has("models")) {
        models =
            QString::fromStdString(a.get("models")).split(QLatin1Char(','), Qt::SkipEmptyParts);
    } else {
        models << QStringLiteral("builtin:english") << QStringLiteral("untrained");
        if (QFileInfo::exists(QString::fromLatin1(kStories)))
            models << QString::fromLatin1(kStories);
    }
    const QString out = QString::fromStdString(a.get("out"));
    if (!QDir().mkpath(out)) return fail("Cannot create the folder " + out.toStdString() + ".", 1);
    const bool images = !a.flag("no-images");
    const bool exports = a.flag("exports");

    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    // A private settings folder: the sweep must neither read nor change the user's settings.
    static int qtArgc = 1;
    static char name[] = "attention-lab";
    static char* qtArgv[] = {name, nullptr};
    std::unique_ptr<QApplication> ownApp;
    if (!QCoreApplication::instance()) ownApp = std::make_unique<QApplication>(qtArgc, qtArgv);
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& msg) {
        if (type == QtCriticalMsg || type == QtFatalMsg)
            std::cerr << "attention-lab screenshots: " << msg.toStdString() << "\n";
    });
    setUpApplication();

    nlohmann::json report = nlohmann::json::array();
    QStringList text;
    QStringList summary;  // the per-step lines without the findings' details
    int findings = 0, shots = 0;
    bool writeFailed = false;
    for (const QString& spec : models) {
        MainWindow w(nullptr, /*persistent=*/false);
        w.resize(sizes.front().px);
        w.show();
        w.applyStartOptions(spec, QString::fromStdString(a.get("text")), QString(),
                            QStringLiteral("Step by step"));
        if (!waitForModel(w, spec, 120000))
            return fail("The model " + spec.toStdString() +
                            " did not open: " + w.session()->lastError().toStdString(),
                        1);
        const QString model =
            slug(QFileInfo(spec).completeBaseName().isEmpty() ? spec
                                                              : QFileInfo(spec).completeBaseName())
                .remove(QStringLiteral("builtin-"));
        for (const Size& size : sizes) {
            for (bool presentation : modes) {
                const QString mode =
                    presentation ? QStringLiteral("presentation") : QStringLiteral("normal");
                const QString dir = QDir(out).filePath(model + QLatin1Char('/') + size.name +
                                                       QLatin1Char('-') + mode);
                if (images) QDir().mkpath(dir);
                text << QStringLiteral("== %1 %2 %3").arg(model, size.name, mode);
                summary << text.back();
                int clean = 0, taken = 0;
                SweepOptions o;
                o.size = size.px;
                o.presentation = presentation;
                o.grab = images;
                // Learn trains a model when shown: its pictures change by the second.
                o.skipViews << QStringLiteral("Learn");
                int n = 0;
                o.each = [&](const SweepShot& s) {
                    const QString file =
                        QStringLiteral("%1-%2%3.png")
                            .arg(n++, 2, 10, QLatin1Char('0'))
                            .arg(slug(s.view), s.step >= 0
                                                   ? QStringLiteral("-step%1").arg(
                                                         s.step + 1, 2, 10, QLatin1Char('0'))
                                                   : QString());
                    if (images && !s.image.save(QDir(dir).filePath(file))) writeFailed = true;
                    if (exports && s.step >= 0) {
                        const QString exportDir =
                            QDir(out).filePath(model + QStringLiteral("/exports/") + size.name +
                                               QLatin1Char('-') + mode);
                        QDir().mkpath(exportDir);
                        const FigureCaption caption = captionFromSession(*w.session());
                        ImageOptions io;
                        io.width = 1600;
                        io.height = 1000;
                        io.dpi = 192;
                        io.crop = true;
                        io.caption = captionText(caption);
                        // In presentation mode the window's fonts are already large.
                        const Status st = exportWidget(
                            w.stepView()->exportTarget(),
                            QDir(exportDir).filePath(
                                QStringLiteral("%1-").arg(s.step + 1, 2, 10, QLatin1Char('0')) +
                                defaultFileName(caption, ExportFormat::Png)),
                            ExportFormat::Png, io);
                        if (!st) {
                            std::cerr << st.message() << "\n";
                            writeFailed = true;
                        }
                    }
                    nlohmann::json shot;
                    shot["model"] = model.toStdString();
                    shot["size"] = size.name.toStdString();
                    shot["window"] = {s.size.width(), s.size.height()};
                    shot["mode"] = mode.toStdString();
                    shot["view"] = s.view.toStdString();
                    if (s.step >= 0) {
                        shot["step"] = s.step + 1;
                        shot["step_title"] = s.stepTitle.toStdString();
                    }
                    if (images)
                        shot["file"] = (model + QLatin1Char('/') + size.name + QLatin1Char('-') +
                                        mode + QLatin1Char('/') + file)
                                           .toStdString();
                    shot["smallest_cell_px"] = s.audit.smallestCellPx();
                    nlohmann::json figs = nlohmann::json::array();
                    QStringList labels;
                    for (const FigureStats& f : s.audit.figures) {
                        figs.push_back(
                            {{"widget", f.widget.toStdString()},
                             {"title", f.title.toStdString()},
                             {"rows", f.rows},
                             {"cols", f.cols},
                             {"shown_rows", f.shownRows},
                             {"shown_cols", f.shownCols},
                             {"notice", f.notice},
                             {"cell_px", f.cellPx},
                             {"cells",
                              {f.cells.x(), f.cells.y(), f.cells.width(), f.cells.height()}}});
                        labels << QStringLiteral("%1/%2×%3/%4")
                                      .arg(f.shownRows)
                                      .arg(f.rows)
                                      .arg(f.shownCols)
                                      .arg(f.cols);
                    }
                    shot["figures"] = std::move(figs);
                    nlohmann::json fs = nlohmann::json::array();
                    for (const LayoutFinding& f : s.audit.findings)
                        fs.push_back({{"kind", toString(f.kind).toStdString()},
                                      {"widget", f.widget.toStdString()},
                                      {"detail", f.detail.toStdString()}});
                    shot["findings"] = std::move(fs);
                    findings += static_cast<int>(s.audit.findings.size());
                    report.push_back(std::move(shot));
                    text << QStringLiteral("%1%2  cell %3 px  labels %4%5")
                                .arg(s.view, s.step >= 0 ? QStringLiteral(" · step %1 %2")
                                                               .arg(s.step + 1)
                                                               .arg(s.stepTitle)
                                                         : QString())
                                .arg(s.audit.smallestCellPx(), 0, 'f', 1)
                                .arg(labels.isEmpty() ? QStringLiteral("-")
                                                      : labels.join(QLatin1Char(' ')),
                                     s.audit.ok() ? QString() : QStringLiteral("  PROBLEMS"));
                    summary << text.back();
                    ++taken;
                    if (s.audit.ok()) ++clean;
                    for (const LayoutFinding& f : s.audit.findings)
                        text << QStringLiteral("    %1  %2: %3")
                                    .arg(toString(f.kind), f.widget, f.detail);
                    ++shots;
                    return true;
                };
                sweepMainWindow(w, o);
                summary
                    << QStringLiteral("-- %1 of %2 shots without findings").arg(clean).arg(taken);
            }
        }
    }
    const auto write = [&](const QString& name, const QByteArray& bytes) {
        QSaveFile f(QDir(out).filePath(name));
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit())
            writeFailed = true;
    };
    text.prepend(QStringLiteral("%1 shots, %2 findings").arg(shots).arg(findings));
    write(QStringLiteral("report.txt"),
          (text.join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8());
    summary.prepend(text.front());
    write(QStringLiteral("summary.txt"),
          (summary.join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8());
    const std::string json =
        report.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    write(QStringLiteral("report.json"),
          QByteArray(json.data(), static_cast<qsizetype>(json.size())));
    std::cout << shots << " shots, " << findings << " findings; report in "
              << QDir(out).filePath(QStringLiteral("report.txt")).toStdString() << "\n";
    if (writeFailed)
        return fail("Some files could not be written in " + out.toStdString() + ".", 1);
    return findings == 0 ? 0 : 1;
}

}  // namespace attn::cli
