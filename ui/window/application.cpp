#include "window/application.h"

#include <QApplication>
#include <QFont>
#include <QFontDatabase>
#include <QIcon>

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

}  // namespace attn::ui
