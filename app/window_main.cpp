#include "window_main.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <QTimer>
#include <iostream>

#include "cli_common.h"
#include "session/session.h"
#include "window/application.h"
#include "window/compare_pane.h"
#include "window/controls_panel.h"
#include "window/main_window.h"
#include "window/model_actions.h"

namespace attn::app {

using attn::ui::MainWindow;
using attn::ui::setUpApplication;

namespace {

// Run B of --compare: the window's run with the options on top (the same parser as the
// command line's, so "--no-scale" means what it means to `trace --compare`).
Status startComparison(MainWindow& window, const std::string& options) {
    auto words = cli::splitWords(options);
    if (!words) return words.error();
    auto args = cli::parseWords(
        *words, {"mask", "score", "projection", "temperature", "text", "target", "model"},
        {"no-scale", "scale"});
    if (!args) return args.error();
    if (!args->positional.empty())
        return makeError("unexpected word '" + args->positional[0] + "' (quote a text).");
    // Run B starts as a copy of run A: of the model A asked for, not of the one before it.
    window.modelActions()->waitForIdle();
    window.startComparison();
    ui::Session* b = window.sessionB();
    ui::ComparePane* pane = window.comparePane();
    if (args->has("model")) {
        const QString spec = QString::fromStdString(args->get("model"));
        if (spec == QLatin1String("untrained"))
            pane->modelActions()->useUntrained();
        else
            pane->modelActions()->load(spec);
        pane->modelActions()->waitForIdle();
    }
    auto knobs = cli::knobsFromArgs(*args, b->attention());
    if (!knobs) return knobs.error();
    if (args->flag("scale")) knobs->scale = true;
    b->setAttention(*knobs);
    pane->controls()->syncFromSession();
    if (args->has("target"))
        pane->controls()->setTargetText(QString::fromStdString(args->get("target")));
    if (args->has("text"))
        pane->controls()->setSourceText(QString::fromStdString(args->get("text")));
    b->runNow();
    b->waitForIdle();
    return Ok{};
}

}  // namespace

int runWindow(int argc, char** argv) {
    QApplication app(argc, argv);
    setUpApplication();
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QObject::tr("Attention Lab: transformer attention, step by step."));
    parser.addHelpOption();
    const QCommandLineOption model(QStringLiteral("model"),
                                   QObject::tr("Model to open: untrained, builtin:english, "
                                               "builtin:translation, or a file or folder."),
                                   QStringLiteral("spec"));
    const QCommandLineOption text(QStringLiteral("text"), QObject::tr("Sentence to show."),
                                  QStringLiteral("text"));
    const QCommandLineOption target(QStringLiteral("target"),
                                    QObject::tr("Target sentence (encoder–decoder models)."),
                                    QStringLiteral("text"));
    const QCommandLineOption tab(QStringLiteral("view"),
                                 QObject::tr("View to show first, by its tab title, e.g. Lines."),
                                 QStringLiteral("title"));
    const QCommandLineOption presentation(
        QStringLiteral("presentation"),
        QObject::tr("Start in presentation mode (full screen, large fonts, high contrast; F11)."));
    const QCommandLineOption compare(
        QStringLiteral("compare"),
        QObject::tr("Open run B beside the first one with these options on top, e.g. "
                    "\"--no-scale\", \"--mask causal\", \"--temperature 0.1\", "
                    "\"--text '...'\", \"--model untrained\"."),
        QStringLiteral("options"));
    parser.addOptions({model, text, target, tab, presentation, compare});
    parser.process(app);  // unknown options: a message and exit code 1
    MainWindow window;
    window.applyStartOptions(parser.value(model), parser.value(text), parser.value(target),
                             parser.value(tab));
    if (parser.isSet(compare)) {
        if (Status st = startComparison(window, parser.value(compare).toStdString()); !st) {
            std::cerr << "attention-lab: --compare: " << st.message() << '\n';
            return 2;
        }
    }
    // Never larger than the screen (a 1024×768 projector); a window manager may still maximise.
    if (const QScreen* screen = window.screen())
        window.resize(window.size().boundedTo(screen->availableGeometry().size()));
    window.show();
    if (parser.isSet(presentation))
        window.setPresentationMode(true);
    else
        QTimer::singleShot(200, &window, &MainWindow::fitToScreen);  // once the frame is known
    return QApplication::exec();
}

}  // namespace attn::app
