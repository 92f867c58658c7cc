#include "views/heads_common.h"

#include <QObject>
#include <QStringList>
#include <array>
#include <cmath>

#include "session/session.h"

namespace attn::ui {

QColor headColor(int head) {
    // Tableau 10 with two more that stay apart from them; dark enough for lines on white.
    static const std::array<QColor, 12> kColours = {
        QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
        QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
        QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
        QColor(0x17, 0xbe, 0xcf), QColor(0x00, 0x00, 0x80), QColor(0x80, 0x80, 0x00)};
    if (head >= 0 && head < static_cast<int>(kColours.size()))
        return kColours[static_cast<std::size_t>(head)];
    const double hue = std::fmod(head * 0.618033988749895, 1.0);
    return QColor::fromHsvF(static_cast<float>(hue), 0.75f, 0.75f);
}

QString alteredNotice(const Session& session) {
    const auto& off = session.disabledHeads();
    if (off.empty()) return {};
    const auto model = session.model();
    const bool seq2seq = model && model->config.architecture == Architecture::EncoderDecoder;
    const int encoderLayers = model ? model->config.n_layers : 0;
    QStringList names;
    for (const auto& [block, head] : off) {
        if (names.size() == 4) {
            names << QStringLiteral("…");
            break;
        }
        if (!seq2seq || block < encoderLayers) {
            names << QObject::tr("L%1 H%2").arg(block + 1).arg(head + 1);
        } else {
            const int d = block - encoderLayers;
            names << QObject::tr("decoder L%1 %2 H%3")
                         .arg(d / 2 + 1)
                         .arg(d % 2 ? QObject::tr("cross") : QObject::tr("self"))
                         .arg(head + 1);
        }
    }
    return QObject::tr(
               "<span style='color:#a01818'><b>Model altered:</b> %n head(s) switched "
               "off (%1); every number here comes from the altered model.</span>",
               nullptr, static_cast<int>(off.size()))
        .arg(names.join(QStringLiteral(", ")));
}

}  // namespace attn::ui

#include <qcustomplot.h>

#include <QLabel>

namespace attn::ui {

namespace {

QFont sized(QFont f, double pt) {
    f.setPointSizeF(pt);
    return f;
}

void scaleElement(QCPLayoutElement* e, double s) {
    if (!e) return;
    if (auto* t = qobject_cast<QCPTextElement*>(e)) t->setFont(sized(t->font(), 10.5 * s));
    if (auto* grid = qobject_cast<QCPLayoutGrid*>(e))
        for (int i = 0; i < grid->elementCount(); ++i) scaleElement(grid->elementAt(i), s);
}

}  // namespace

QString withAlteredNotice(const QString& text, const Session& session) {
    const QString notice = alteredNotice(session);
    return notice.isEmpty() ? text : text + QStringLiteral(" &nbsp; ") + notice;
}

void scaleHeading(QLabel* heading, double fontScale) {
    if (!heading) return;
    QFont f = heading->font();
    f.setBold(true);
    f.setPointSizeF(10.5 * fontScale);
    heading->setFont(f);
}

void followFontScale(QCustomPlot* plot, const Session* session) {
    QObject::connect(plot, &QCustomPlot::beforeReplot, plot, [plot, session] {
        const double s = session->fontScale();
        for (QCPAxisRect* r : plot->axisRects())
            for (QCPAxis* a : r->axes()) {
                a->setTickLabelFont(sized(a->tickLabelFont(), 8.5 * s));
                a->setLabelFont(sized(a->labelFont(), 9.5 * s));
            }
        if (plot->legend) plot->legend->setFont(sized(plot->legend->font(), 9.0 * s));
        scaleElement(plot->plotLayout(), s);
        for (int i = 0; i < plot->itemCount(); ++i)
            if (auto* t = qobject_cast<QCPItemText*>(plot->item(i)))
                t->setFont(sized(t->font(), 9.0 * s));
    });
}

}  // namespace attn::ui
