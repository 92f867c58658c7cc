#include "window_main.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <QTimer>

#include "window/application.h"
#include "window/main_window.h"

namespace attn::app {

using attn::ui::MainWindow;
using attn::ui::setUpApplication;

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
    parser.addOptions({model, text, target, tab, presentation});
    parser.process(app);  // unknown options: a message and exit code 1
    MainWindow window;
    window.applyStartOptions(parser.value(model), parser.value(text), parser.value(target),
                             parser.value(tab));
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
