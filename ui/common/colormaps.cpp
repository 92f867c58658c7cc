#include "common/colormaps.h"

#include <qcustomplot.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace attn::ui {

namespace {

struct Stop {
    double t;
    QRgb rgb;
};

// Nine evenly spaced samples of each published map; linear interpolation between them stays
// within a few levels of the full 256-entry tables, which is invisible at heatmap sizes.
constexpr std::array<Stop, 9> kViridis{{{0.000, 0x440154},
                                        {0.125, 0x472d7b},
                                        {0.250, 0x3b528b},
                                        {0.375, 0x2c728e},
                                        {0.500, 0x21918c},
                                        {0.625, 0x28ae80},
                                        {0.750, 0x5ec962},
                                        {0.875, 0xaadc32},
                                        {1.000, 0xfde725}}};
constexpr std::array<Stop, 9> kCividis{{{0.000, 0x00224e},
                                        {0.125, 0x123570},
                                        {0.250, 0x3b496c},
                                        {0.375, 0x575d6d},
                                        {0.500, 0x707173},
                                        {0.625, 0x8a8779},
                                        {0.750, 0xa69d75},
                                        {0.875, 0xc4b56c},
                                        {1.000, 0xfee838}}};
// ColorBrewer RdBu reversed: negative = blue, 0 = near white, positive = red. Readable with the
// common colour-vision deficiencies because the two arms differ in lightness as well as hue.
constexpr std::array<Stop, 9> kDiverging{{{0.000, 0x2166ac},
                                          {0.125, 0x4393c3},
                                          {0.250, 0x92c5de},
                                          {0.375, 0xd1e5f0},
                                          {0.500, 0xf7f7f7},
                                          {0.625, 0xfddbc7},
                                          {0.750, 0xf4a582},
                                          {0.875, 0xd6604d},
                                          {1.000, 0xb2182b}}};
constexpr std::array<Stop, 2> kGreys{{{0.0, 0xf7f7f7}, {1.0, 0x111111}}};

template <std::size_t N>
QColor interpolate(const std::array<Stop, N>& stops, double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
    for (std::size_t i = 1; i < N; ++i) {
        if (t <= stops[i].t) {
            const double f = (t - stops[i - 1].t) / (stops[i].t - stops[i - 1].t);
            const QColor a(stops[i - 1].rgb), b(stops[i].rgb);
            return QColor::fromRgbF(static_cast<float>(a.redF() + f * (b.redF() - a.redF())),
                                    static_cast<float>(a.greenF() + f * (b.greenF() - a.greenF())),
                                    static_cast<float>(a.blueF() + f * (b.blueF() - a.blueF())));
        }
    }
    return QColor(stops[N - 1].rgb);
}

template <std::size_t N>
void addStops(QCPColorGradient& g, const std::array<Stop, N>& stops) {
    QMap<double, QColor> m;
    for (const Stop& s : stops) m.insert(s.t, QColor(s.rgb));
    g.setColorStops(m);
}

QVector<QRgb> buildTable(ColorMapKind kind) {
    QVector<QRgb> t(256);
    for (int i = 0; i < 256; ++i) t[i] = colorAt(kind, i / 255.0).rgba();
    return t;
}

}  // namespace

QString toString(ColorMapKind kind) {
    switch (kind) {
        case ColorMapKind::Viridis:
            return QStringLiteral("viridis");
        case ColorMapKind::Cividis:
            return QStringLiteral("cividis");
        case ColorMapKind::Diverging:
            return QStringLiteral("diverging");
        case ColorMapKind::Greys:
            return QStringLiteral("greys");
    }
    return QStringLiteral("viridis");
}

QList<ColorMapKind> allColorMaps() {
    return {ColorMapKind::Viridis, ColorMapKind::Cividis, ColorMapKind::Greys,
            ColorMapKind::Diverging};
}

bool parseColorMap(const QString& name, ColorMapKind* out) {
    for (ColorMapKind k : allColorMaps()) {
        if (toString(k) == name) {
            *out = k;
            return true;
        }
    }
    return false;
}

QColor colorAt(ColorMapKind kind, double t) {
    switch (kind) {
        case ColorMapKind::Viridis:
            return interpolate(kViridis, t);
        case ColorMapKind::Cividis:
            return interpolate(kCividis, t);
        case ColorMapKind::Diverging:
            return interpolate(kDiverging, t);
        case ColorMapKind::Greys:
            return interpolate(kGreys, t);
    }
    return interpolate(kViridis, t);
}

QColor maskColor() { return QColor(0xc8, 0xc8, 0xc8); }

QColor textColorOn(const QColor& bg) {
    // Relative luminance (sRGB weights); 0.45 splits viridis between its dark and light halves.
    const double lum = 0.2126 * bg.redF() + 0.7152 * bg.greenF() + 0.0722 * bg.blueF();
    return lum > 0.45 ? QColor(Qt::black) : QColor(Qt::white);
}

QCPColorGradient makeGradient(ColorMapKind kind) {
    QCPColorGradient g;
    switch (kind) {
        case ColorMapKind::Viridis:
            addStops(g, kViridis);
            break;
        case ColorMapKind::Cividis:
            addStops(g, kCividis);
            break;
        case ColorMapKind::Diverging:
            addStops(g, kDiverging);
            break;
        case ColorMapKind::Greys:
            addStops(g, kGreys);
            break;
    }
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setLevelCount(256);
    g.setNanHandling(QCPColorGradient::nhNanColor);
    g.setNanColor(maskColor());
    return g;
}

const QVector<QRgb>& colorTable(ColorMapKind kind) {
    static const QVector<QRgb> viridis = buildTable(ColorMapKind::Viridis);
    static const QVector<QRgb> cividis = buildTable(ColorMapKind::Cividis);
    static const QVector<QRgb> diverging = buildTable(ColorMapKind::Diverging);
    static const QVector<QRgb> greys = buildTable(ColorMapKind::Greys);
    switch (kind) {
        case ColorMapKind::Viridis:
            return viridis;
        case ColorMapKind::Cividis:
            return cividis;
        case ColorMapKind::Diverging:
            return diverging;
        case ColorMapKind::Greys:
            return greys;
    }
    return viridis;
}

QImage matrixImage(const Eigen::MatrixXf& m, ColorMapKind kind, double lo, double hi) {
    const int rows = static_cast<int>(m.rows()), cols = static_cast<int>(m.cols());
    QImage img(std::max(cols, 1), std::max(rows, 1), QImage::Format_RGB32);
    img.fill(maskColor());
    const QVector<QRgb>& table = colorTable(kind);
    const QRgb masked = maskColor().rgb();
    const double span = hi > lo ? hi - lo : 1.0;
    for (int r = 0; r < rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(img.scanLine(r));
        for (int c = 0; c < cols; ++c) {
            const float v = m(r, c);
            if (!std::isfinite(v)) {
                line[c] = masked;
                continue;
            }
            const int i =
                std::clamp(static_cast<int>(std::lround((v - lo) / span * 255.0)), 0, 255);
            line[c] = table[i];
        }
    }
    return img;
}

}  // namespace attn::ui
