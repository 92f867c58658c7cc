// The next token: top-k of softmax(logits).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "attn/prediction.h"

using namespace attn;

TEST(Prediction, TopKByHand) {
    // exp(logits) = (1, 2, 3, 1), Σ = 7: probabilities 1/7, 2/7, 3/7, 1/7.
    RowVec logits(4);
    logits << 0.0f, std::log(2.0f), std::log(3.0f), 0.0f;
    const auto top = topK(logits, 2);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].id, 2);
    EXPECT_NEAR(top[0].probability, 3.0f / 7.0f, 1e-6f);
    EXPECT_EQ(top[1].id, 1);
    EXPECT_NEAR(top[1].probability, 2.0f / 7.0f, 1e-6f);
}

TEST(Prediction, EqualLogitsKeepTheLowerIdFirst) {
    RowVec logits(4);
    logits << 0.0f, std::log(2.0f), std::log(3.0f), 0.0f;
    const auto all = topK(logits, 10);  // more than the vocabulary: every entry once
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[2].id, 0);
    EXPECT_EQ(all[3].id, 3);
    EXPECT_NEAR(all[2].probability, 1.0f / 7.0f, 1e-6f);
}

TEST(Prediction, AllOfTheVocabularySumsToOneInOrder) {
    RowVec logits(50);
    for (int i = 0; i < 50; ++i) logits(i) = std::sin(1.7f * i) * 4.0f;
    const auto all = topK(logits, 50);
    ASSERT_EQ(all.size(), 50u);
    double sum = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        sum += all[i].probability;
        if (i > 0) {
            EXPECT_GE(all[i - 1].probability, all[i].probability);
        }
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(Prediction, LargeLogitsDoNotOverflowAndShiftsDoNotMatter) {
    // softmax(1000, 1001) = (1/(1+e), e/(1+e)) = (0.268941, 0.731059); exp(1001) alone is inf.
    RowVec logits(2);
    logits << 1000.0f, 1001.0f;
    const auto top = topK(logits, 2);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].id, 1);
    EXPECT_NEAR(top[0].probability, 0.731059f, 1e-5f);
    EXPECT_NEAR(top[1].probability, 0.268941f, 1e-5f);
    RowVec shifted = logits.array() - 1000.0f;
    EXPECT_NEAR(topK(shifted, 1)[0].probability, top[0].probability, 1e-6f);
}

TEST(Prediction, MaskedEntriesGetZeroAndBadRowsGiveNothing) {
    const float inf = std::numeric_limits<float>::infinity();
    RowVec logits(2);
    logits << 0.0f, -inf;
    const auto top = topK(logits, 2);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].id, 0);
    EXPECT_FLOAT_EQ(top[0].probability, 1.0f);
    EXPECT_FLOAT_EQ(top[1].probability, 0.0f);

    EXPECT_TRUE(topK(RowVec(), 5).empty());
    EXPECT_TRUE(topK(logits, 0).empty());
    RowVec bad(2);
    bad << std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(topK(bad, 1).empty());
    bad << -inf, -inf;  // every entry masked
    EXPECT_TRUE(topK(bad, 1).empty());
}

TEST(Prediction, StrongestColumnsByHand) {
    // Column maxima: 1, 5, 2, 4, 3 → the two strongest are ids 1 and 3, in id order.
    Mat L(2, 5);         // (T, vocab)
    L << 1, 5, 0, 4, 3,  //
        0, 0, 2, 0, -1;
    EXPECT_EQ(strongestColumns(L, 2), (std::vector<int>{1, 3}));
    EXPECT_EQ(strongestColumns(L, 3), (std::vector<int>{1, 3, 4}));
    EXPECT_EQ(strongestColumns(L, 9), (std::vector<int>{0, 1, 2, 3, 4}));  // all, vocab ≤ k
}

TEST(Prediction, ColumnsByScoreAreBestFirstOverTheChosenRows) {
    Mat L(2, 5);         // (T, vocab)
    L << 1, 5, 0, 4, 3,  //
        0, 0, 2, 0, 6;
    // Every row: maxima 1, 5, 2, 4, 6 → best first, not in id order.
    EXPECT_EQ(columnsByScore(L, {}, 3), (std::vector<int>{4, 1, 3}));
    // Only row 1 (say the [MASK]): 6, 2, then the ties at 0 by lower id.
    EXPECT_EQ(columnsByScore(L, {1}, 4), (std::vector<int>{4, 2, 0, 1}));
    // Rows out of range are ignored; k larger than the vocabulary gives it all.
    EXPECT_EQ(columnsByScore(L, {7}, 9).size(), 5u);
    EXPECT_TRUE(columnsByScore(L, {0}, 0).empty());
}

TEST(Prediction, MaskPositionsFindTheMaskTokens) {
    std::vector<Token> t(4);
    t[0].id = 3;
    t[1].id = 9;
    t[2].id = 5;
    t[3].id = 9;
    EXPECT_EQ(maskPositions(t, 9), (std::vector<int>{1, 3}));
    EXPECT_TRUE(maskPositions(t, -1).empty());
}
