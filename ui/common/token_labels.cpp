#include "common/token_labels.h"

namespace attn::ui {

namespace {

bool isGroup(const attn::TokenGroup& g, const std::vector<attn::Token>& tokens) {
    return g.count > 1 || (g.count == 1 && tokens[g.first].partial);
}

/// A token's bytes in hex ("F0 9F"), or its text when its span is empty or outside text.
QString bytesOf(std::string_view text, const attn::Token& t) {
    if (t.begin >= t.end || t.end > text.size()) return QString::fromStdString(t.text);
    QStringList hex;
    for (std::size_t i = t.begin; i < t.end; ++i)
        hex << QStringLiteral("%1")
                   .arg(static_cast<unsigned char>(text[i]), 2, 16, QLatin1Char('0'))
                   .toUpper();
    return hex.join(QLatin1Char(' '));
}

}  // namespace

QStringList tokenLabels(std::string_view text, const std::vector<attn::Token>& tokens) {
    QStringList out;
    out.reserve(static_cast<int>(tokens.size()));
    for (const attn::TokenGroup& g : attn::groupPartialCharacters(text, tokens)) {
        if (!isGroup(g, tokens)) {
            const attn::Token& t = tokens[g.first];
            out << (t.unknown ? QString::fromStdString(t.text) + QStringLiteral(" ?")
                              : QString::fromStdString(t.text));
            continue;
        }
        const QString character = QString::fromStdString(g.text);
        for (std::size_t k = 0; k < g.count; ++k)
            out << (g.count == 1
                        ? character
                        : QStringLiteral("%1 %2/%3").arg(character).arg(k + 1).arg(g.count));
    }
    // Grouping covers every token; keep one label per token whatever happens.
    while (out.size() < static_cast<int>(tokens.size()))
        out << QString::fromStdString(tokens[static_cast<std::size_t>(out.size())].text);
    return out;
}

std::vector<TokenChip> tokenChips(std::string_view text, const std::vector<attn::Token>& tokens) {
    std::vector<TokenChip> out;
    for (const attn::TokenGroup& g : attn::groupPartialCharacters(text, tokens)) {
        TokenChip chip;
        chip.first = static_cast<int>(g.first);
        chip.count = static_cast<int>(g.count);
        if (!isGroup(g, tokens)) {
            chip.text = QString::fromStdString(tokens[g.first].text);
            chip.unknown = tokens[g.first].unknown;
        } else {
            chip.text = QString::fromStdString(g.text);
            QStringList pieces;
            for (std::size_t k = g.first; k < g.first + g.count; ++k)
                pieces << bytesOf(text, tokens[k]);
            chip.pieces = pieces.join(QStringLiteral(" | "));
        }
        out.push_back(std::move(chip));
    }
    return out;
}

}  // namespace attn::ui
