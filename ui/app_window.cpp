#include "app_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFont>
#include <QFontDatabase>
#include <QIcon>

#include "main_window.h"

// Resources of a static library are registered by hand (the linker drops unreferenced objects).
static void initResources() { Q_INIT_RESOURCE(resources); }

namespace attn::ui {

void setUpApplication() {
    initResources();
    QCoreApplication::setOrganizationName(QStringLiteral("AttentionLab"));
    QCoreApplication::setApplicationName(QStringLiteral("Attention Lab"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ATTN_VERSION));
    if (auto* app = qobject_cast<QApplication*>(QCoreApplication::instance())) {
        app->setWindowIcon(QIcon(QStringLiteral(":/icons/attention-lab.svg")));
        // Tokens come in any script: prefer a family with wide coverage and let fontconfig fall
        // back to Noto CJK for ideographs.
        QFont f = QApplication::font();
        const QStringList families = QFontDatabase::families();
        for (const QString& want : {QStringLiteral("Noto Sans"), QStringLiteral("DejaVu Sans")}) {
            if (families.contains(want)) {
                f.setFamilies({want, QStringLiteral("Noto Sans CJK SC")});
                break;
            }
        }
        if (f.pointSizeF() < 10) f.setPointSizeF(10);
        QApplication::setFont(f);
    }
}

int runWindow(int argc, char** argv) {
    QApplication app(argc, argv);
    setUpApplication();
    QCommandLineParser parser;
    parser.setApplicationDescription(QObject::tr("Attention Lab: transformer attention, step by step."));
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
    window.show();
    if (parser.isSet(presentation)) window.setPresentationMode(true);
    return QApplication::exec();
}

}  // namespace attn::ui
