#pragma once
// How tokens are written for a person: the labels every view and export puts on axes and chips.
// A byte-level tokenizer (GPT-2, Llama 3, Qwen) or a byte-fallback piece (<0xF0>) can cut one
// character into several tokens, each of which alone is only U+FFFD; those tokens are shown as
// the character they make together, numbered ("🦙 1/4" … "🦙 4/4" on an axis, one chip "🦙"
// spanning t₃–t₆ in a sentence). A word the model's vocabulary lacks is marked "animal ?" (the
// command line writes [animal ?]): the model reads [UNK] there, whatever the word.

#include <QString>
#include <QStringList>
#include <string_view>
#include <vector>

#include "attn/tokenizer.h"

namespace attn::ui {

/// One chip of a sentence: a token, or the tokens that together make one character.
struct TokenChip {
    QString text;          ///< what the chip shows
    int first = 0;         ///< index of its first token
    int count = 1;         ///< tokens it stands for
    bool unknown = false;  ///< the model reads [UNK] here
    QString pieces;        ///< for a group: each token's bytes in hex ("F0 9F | A6 99"); else empty
};

/// One label per token (text is what the tokens were made from; spans refer to it).
QStringList tokenLabels(std::string_view text, const std::vector<attn::Token>& tokens);

/// The chips of a sentence: one per token, except that the tokens of one character share one.
std::vector<TokenChip> tokenChips(std::string_view text, const std::vector<attn::Token>& tokens);

}  // namespace attn::ui
