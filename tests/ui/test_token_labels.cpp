// Tokens that are bytes of one character (byte-level BPE, SentencePiece byte fallback) are
// shown as that character, numbered, on every axis and as one chip in the sentence: a
// hand-made split, then stories260K's byte-fallback pieces through a real session and export.
// Words a model does not know are marked "?".

#include <gtest/gtest.h>

#include <QFile>
#include <filesystem>

#include "attn/open_model.h"
#include "common/token_labels.h"
#include "export/export.h"
#include "session/session.h"

namespace attn::ui {
namespace {

namespace fs = std::filesystem;

bool onCi() { return qgetenv("CI") == "true"; }

std::string storiesPath() {
    const std::string shared = qEnvironmentVariableIsEmpty("ATTN_SHARED_DIR")
                                   ? std::string(ATTN_SHARED_DIR)
                                   : qEnvironmentVariable("ATTN_SHARED_DIR").toStdString();
    return (fs::path(shared) / "models" / "stories260K" / "stories260K.bin").string();
}

Token piece(const char* text, std::size_t begin, std::size_t end, bool partial) {
    Token t;
    t.text = text;
    t.begin = begin;
    t.end = end;
    t.partial = partial;
    return t;
}

TEST(TokenLabels, BytesOfOneCharacterAreShownAsThatCharacterNumbered) {
    const std::string text = "a\xF0\x9F\xA6\x99!";  // "a🦙!"
    const std::vector<Token> tokens = {piece("a", 0, 1, false), piece("\xEF\xBF\xBD", 1, 3, true),
                                       piece("\xEF\xBF\xBD", 3, 5, true), piece("!", 5, 6, false)};
    const QString llama = QString::fromUtf8("\xF0\x9F\xA6\x99");
    EXPECT_EQ(tokenLabels(text, tokens), (QStringList{"a", llama + " 1/2", llama + " 2/2", "!"}));

    const std::vector<TokenChip> chips = tokenChips(text, tokens);
    ASSERT_EQ(chips.size(), 3u);
    EXPECT_EQ(chips[0].text, "a");
    EXPECT_EQ(chips[0].count, 1);
    EXPECT_TRUE(chips[0].pieces.isEmpty());
    EXPECT_EQ(chips[1].text, llama);
    EXPECT_EQ(chips[1].first, 1);
    EXPECT_EQ(chips[1].count, 2);
    EXPECT_EQ(chips[1].pieces, "F0 9F | A6 99");
    EXPECT_EQ(chips[2].first, 3);
}

TEST(TokenLabels, WholeTokensAndInsertedTokensKeepTheirOwnText) {
    const std::string text = "hi";
    const std::vector<Token> tokens = {piece("<s>", 0, 0, false), piece("hi", 0, 2, false)};
    EXPECT_EQ(tokenLabels(text, tokens), (QStringList{"<s>", "hi"}));
    EXPECT_EQ(tokenChips(text, tokens).size(), 2u);
}

TEST(TokenLabels, AWordTheModelDoesNotKnowIsMarked) {
    const std::string text = "the animal";
    Token animal = piece("animal", 4, 10, false);
    animal.unknown = true;
    const std::vector<Token> tokens = {piece("the", 0, 3, false), animal};
    EXPECT_EQ(tokenLabels(text, tokens), (QStringList{"the", "animal ?"}));
    const std::vector<TokenChip> chips = tokenChips(text, tokens);
    ASSERT_EQ(chips.size(), 2u);
    EXPECT_FALSE(chips[0].unknown);
    EXPECT_TRUE(chips[1].unknown);
    EXPECT_EQ(chips[1].text, "animal");
}

TEST(TokenLabels, StoriesByteFallbackPiecesAreGroupedInTheSessionAndTheExport) {
    if (!QFile::exists(QString::fromStdString(storiesPath()))) {
        if (onCi()) FAIL() << "stories260K missing: " << storiesPath();
        GTEST_SKIP() << "stories260K not found at " << storiesPath() << " — this check did NOT run";
    }
    auto model = openModel(storiesPath());
    ASSERT_TRUE(model) << model.message();
    Session s;
    s.setModel(std::move(model).value());
    s.setText(QString::fromUtf8("the \xF0\x9F\xA6\x99 ran"));
    s.runNow();
    s.waitForIdle();
    ASSERT_TRUE(s.trace()) << s.lastError().toStdString();

    // stories260K's 512 pieces have no emoji: SentencePiece falls back to its four bytes.
    const QString llama = QString::fromUtf8("\xF0\x9F\xA6\x99");
    const QStringList labels = s.tokenLabels(false);
    ASSERT_EQ(labels.size(), s.trace()->tokenCount());
    for (int k = 1; k <= 4; ++k)
        EXPECT_TRUE(labels.contains(QStringLiteral("%1 %2/4").arg(llama).arg(k)))
            << labels.join(" | ").toStdString();
    int grouped = 0;
    for (const TokenChip& chip : s.tokenChips(false))
        if (chip.text == llama) {
            ++grouped;
            EXPECT_EQ(chip.count, 4);
        }
    EXPECT_EQ(grouped, 1);
    for (const QString& l : labels) EXPECT_FALSE(l.contains(QChar(0xFFFD))) << l.toStdString();

    auto m = headMatrix(*s.trace(), 0, 0, QStringLiteral("weights"));
    ASSERT_TRUE(m) << m.message();
    EXPECT_EQ(m.value().rows, labels);
}

}  // namespace
}  // namespace attn::ui
