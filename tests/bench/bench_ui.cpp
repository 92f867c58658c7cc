// bench_ui: cold start → first painted window, keystroke → repaint at 10 and 256 tokens, and
// export of every head, measured in a real window (xcb under Xvfb, or offscreen).
//
//   xvfb-run build/release/tests/bench/bench_ui --start-ns $(date +%s%N) [--runs N] [--json]

#include <qcustomplot.h>
#include <unistd.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QPlainTextEdit>
#include <QTemporaryDir>
#include <QTextCursor>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "export/export.h"
#include "session/session.h"
#include "views/step_view.h"
#include "widgets/heatmap_view.h"
#include "window/application.h"
#include "window/controls_panel.h"
#include "window/main_window.h"

namespace attn::ui {

namespace {

/// Counts paint events of a widget (the event is handled right after the filter returns).
class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject*, QEvent* e) override {
        if (e->type() == QEvent::Paint) ++paints;
        return false;
    }
};

double nowRealtimeNs() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

/// Milliseconds since this process started, from /proc (resolution 1/CLK_TCK, usually 10 ms).
double msSinceProcessStart() {
    QFile stat(QStringLiteral("/proc/self/stat")), up(QStringLiteral("/proc/uptime"));
    if (!stat.open(QIODevice::ReadOnly) || !up.open(QIODevice::ReadOnly)) return -1;
    const QByteArray s = stat.readAll();
    // Fields after the command name (which is in parentheses and may hold spaces).
    const QList<QByteArray> f = s.mid(s.lastIndexOf(')') + 2).split(' ');
    if (f.size() < 20) return -1;
    const double startTicks = f[19].toDouble();  // field 22 overall: starttime
    const double uptime = up.readAll().split(' ').value(0).toDouble();
    return (uptime - startTicks / double(sysconf(_SC_CLK_TCK))) * 1000.0;
}

bool waitForPaint(PaintCounter& counter, int before, int timeoutMs) {
    QElapsedTimer t;
    t.start();
    while (counter.paints == before) {
        if (t.elapsed() > timeoutMs) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    return true;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5))];
}

QString sentenceOf(int tokens) {
    const QStringList words =
        QStringLiteral(
            "the black cat drank the milk while the small dog watched from the warm kitchen and "
            "nobody said a word about it")
            .split(QLatin1Char(' '));
    QStringList out;
    for (int i = 0; i < tokens; ++i) out << words[i % words.size()];
    return out.join(QLatin1Char(' '));
}

struct Latency {
    double median = 0, p90 = 0;
    int tokens = 0, failed = 0;
};

Latency keystrokeLatency(MainWindow& w, PaintCounter& counter, int tokens, int runs) {
    Latency out;
    Session* s = w.session();
    QPlainTextEdit* edit = w.controls()->sourceEdit();
    edit->setPlainText(sentenceOf(tokens));
    s->runNow();
    s->waitForIdle();
    waitForPaint(counter, counter.paints, 2000);
    if (s->trace()) out.tokens = s->trace()->tokenCount();
    std::vector<double> ms;
    for (int i = 0; i < runs + 3; ++i) {
        QCoreApplication::processEvents();
        const int before = counter.paints;
        QElapsedTimer t;
        t.start();
        // One keystroke at the end of the text: "milk" → "milks" → "milk" …
        QTextCursor c = edit->textCursor();
        c.movePosition(QTextCursor::End);
        if (i % 2 == 0)
            c.insertText(QStringLiteral("s"));
        else
            c.deletePreviousChar();
        edit->setTextCursor(c);
        s->runNow();  // the benchmark skips the typing debounce
        const bool painted = waitForPaint(counter, before, 5000);
        const double elapsed = t.nsecsElapsed() / 1e6;
        if (!painted) ++out.failed;
        if (i >= 3) ms.push_back(elapsed);  // the first few warm caches
    }
    out.median = median(ms);
    out.p90 = percentile(ms, 0.9);
    return out;
}

}  // namespace

int runUiBench(int argc, char** argv) {  // NOLINT(readability-function-size)
    const double launchNs = nowRealtimeNs();
    const double procMs = msSinceProcessStart();
    int runs = 40;
    double startNs = 0;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--start-ns") && i + 1 < argc)
            startNs = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--json"))
            json = true;
        else if (!std::strcmp(argv[i], "--help")) {
            std::printf(
                "bench_ui [--runs N] [--start-ns NS] [--json]\n"
                "  --start-ns: CLOCK_REALTIME in ns at launch, e.g. "
                "bench_ui --start-ns $(date +%%s%%N)\n");
            return 0;
        }
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");

    // Cold start: process start → QApplication → window → its first painted heatmap.
    QApplication app(argc, argv);
    setUpApplication();
    MainWindow window(nullptr, /*persistent=*/false);
    PaintCounter counter;
    // The window opens at step 1 (the token chips, no matrix): count paints of anything in the
    // step view, its heatmaps' plots included.
    for (QWidget* w : window.stepView()->findChildren<QWidget*>()) w->installEventFilter(&counter);
    window.show();
    const bool firstPaint = waitForPaint(counter, 0, 5000);
    if (!firstPaint) std::fprintf(stderr, "bench_ui: the window did not paint within 5 s\n");
    const double sinceLaunchMs = (nowRealtimeNs() - launchNs) / 1e6;
    const double coldMs = startNs > 0 ? (nowRealtimeNs() - startNs) / 1e6 : procMs + sinceLaunchMs;

    // Keystroke → repaint. Jump to the weights step so the main heatmap is a (T, T) matrix.
    window.session()->setStep(0);
    for (std::size_t i = 0;
         window.session()->trace() && i < window.session()->trace()->steps.size(); ++i)
        if (window.session()->trace()->steps[i].kind == StepKind::Weights) {
            window.session()->setStep(static_cast<int>(i));
            break;
        }
    QCoreApplication::processEvents();
    for (HeatmapView* h : window.stepView()->findChildren<HeatmapView*>())
        h->plot()->removeEventFilter(&counter);
    HeatmapView* main = window.stepView()->mainHeatmap();
    main->plot()->installEventFilter(&counter);
    const Latency l10 = keystrokeLatency(window, counter, 10, runs);
    const Latency l256 = keystrokeLatency(window, counter, 256, std::max(5, runs / 2));

    // Export all heads of a 4 × 4 model.
    double exportMs = -1, exportSmallMs = -1;
    int files = 0;
    QString exportError;
    {
        attn::ModelConfig c = window.session()->config();
        c.d_model = 16;
        c.n_heads = 4;
        c.n_layers = 4;
        c.architecture = attn::Architecture::Encoder;
        window.session()->setConfig(c);
        window.controls()->sourceEdit()->setPlainText(
            QStringLiteral("The black cat drank the milk"));
        window.session()->runNow();
        window.session()->waitForIdle();
        QTemporaryDir dir;
        if (auto t = window.session()->trace()) {
            AllHeadsOptions opt;
            opt.format = ExportFormat::Png;
            QElapsedTimer timer;
            timer.start();
            auto r = attn::ui::exportAllHeads(*t, dir.path() + QStringLiteral("/default"), opt);
            exportMs = timer.nsecsElapsed() / 1e6;
            if (r)
                files = static_cast<int>(r.value().size());
            else
                exportError = QString::fromStdString(r.message());
            opt.image.width = 800;
            opt.image.height = 800;
            opt.image.dpi = 96;
            timer.restart();
            auto r2 = attn::ui::exportAllHeads(*t, dir.path() + QStringLiteral("/small"), opt);
            exportSmallMs = timer.nsecsElapsed() / 1e6;
            if (!r2) exportError = QString::fromStdString(r2.message());
        }
    }

    if (json) {
        std::printf(
            "{\"cold_start_ms\": %.1f, \"keystroke_10_median_ms\": %.2f, \"keystroke_10_p90_ms\": "
            "%.2f, "
            "\"keystroke_256_median_ms\": %.2f, \"keystroke_256_p90_ms\": %.2f, "
            "\"export_all_heads_ms\": %.1f, \"export_all_heads_800px_ms\": %.1f, \"export_files\": "
            "%d}\n",
            coldMs, l10.median, l10.p90, l256.median, l256.p90, exportMs, exportSmallMs, files);
    } else {
        std::printf("Attention Lab UI benchmark (%s platform)\n",
                    qPrintable(QGuiApplication::platformName()));
        std::printf("  cold start → first painted window   %8.1f ms   (target ≤ 500)%s\n", coldMs,
                    startNs > 0 ? "" : "  [from /proc start time, ±10 ms]");
        std::printf(
            "  keystroke → repaint, %3d tokens      %8.2f ms   median, p90 %.2f (target ≤ 16)%s\n",
            l10.tokens, l10.median, l10.p90, l10.failed ? "  SOME RUNS DID NOT REPAINT" : "");
        std::printf(
            "  keystroke → repaint, %3d tokens      %8.2f ms   median, p90 %.2f (target ≤ 100)%s\n",
            l256.tokens, l256.median, l256.p90, l256.failed ? "  SOME RUNS DID NOT REPAINT" : "");
        if (exportMs >= 0) {
            std::printf(
                "  export all heads, 4×4, PNG 1600×1000@192  %8.1f ms   (%d files, target ≤ "
                "1000)\n",
                exportMs, files);
            std::printf("  export all heads, 4×4, PNG 800×800@96     %8.1f ms\n", exportSmallMs);
        } else {
            std::printf("  export all heads: not available in this build\n");
        }
        if (!exportError.isEmpty()) std::printf("  export error: %s\n", qPrintable(exportError));
    }
    return 0;
}

}  // namespace attn::ui

int main(int argc, char** argv) { return attn::ui::runUiBench(argc, argv); }
