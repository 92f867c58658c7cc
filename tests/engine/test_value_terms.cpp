// The weighted sum of values, term by term.

#include <gtest/gtest.h>

#include "attn/analysis.h"
#include "attn/model.h"
#include "attn/trace.h"
#include "attn/value_terms.h"

using namespace attn;

namespace {
HeadTrace handHead() {
    HeadTrace h;
    h.weights = Mat(2, 2);    // (T_q, T_k)
    h.weights << 1.0f, 0.0f,  //
        0.5f, 0.5f;
    h.V = Mat(2, 2);    // (T_k, d_v): ‖v₀‖ = 5, ‖v₁‖ = 1
    h.V << 3.0f, 4.0f,  //
        0.0f, 1.0f;
    h.output = h.weights * h.V;
    return h;
}
}  // namespace

TEST(ValueTerms, ByHand) {
    const ValueTerms t = valueTerms(handHead(), 1);
    ASSERT_EQ(t.query, 1);
    // α = (0.5, 0.5): terms 0.5·(3, 4) = (1.5, 2) and 0.5·(0, 1) = (0, 0.5).
    Mat terms(2, 2);
    terms << 1.5f, 2.0f,  //
        0.0f, 0.5f;
    EXPECT_LE((t.terms - terms).cwiseAbs().maxCoeff(), 1e-6f);
    EXPECT_NEAR(t.norms(0), 2.5f, 1e-6f);
    EXPECT_NEAR(t.norms(1), 0.5f, 1e-6f);
    EXPECT_NEAR(t.sum(0), 1.5f, 1e-6f);
    EXPECT_NEAR(t.sum(1), 2.5f, 1e-6f);
    EXPECT_NEAR(t.total_norm, 3.0f, 1e-6f);
    EXPECT_EQ(t.largest_term, 0);
    EXPECT_EQ(t.largest_weight, 0);  // a tie: the lower key
    EXPECT_EQ(t.weights(1), 0.5f);
}

TEST(ValueTerms, OutOfRangeQueryIsEmpty) {
    EXPECT_EQ(valueTerms(handHead(), 2).query, -1);
    EXPECT_EQ(valueTerms(handHead(), -1).query, -1);
    EXPECT_EQ(valueTerms(HeadTrace{}, 0).terms.size(), 0);
}

TEST(ValueTerms, TermsAddUpToTheHeadOutputOfARun) {
    auto m = makeUntrainedModel(ModelConfig{});
    ASSERT_TRUE(m);
    auto tr = run(m.value(), "The black cat drank the milk");
    ASSERT_TRUE(tr) << tr.message();
    for (const HeadTrace& h : (*tr)->layers[0].self_attention.heads) {
        const Mat norms = valueContributions(h);  // (T_q, T_k)
        for (int i = 0; i < h.weights.rows(); ++i) {
            const ValueTerms t = valueTerms(h, i);
            EXPECT_LE((t.sum - h.output.row(i)).cwiseAbs().maxCoeff(), 1e-5f) << "query " << i;
            EXPECT_LE((t.norms - norms.row(i).transpose()).cwiseAbs().maxCoeff(), 1e-5f);
            EXPECT_NEAR(t.weights.sum(), 1.0f, 1e-5f);
            EXPECT_GE(t.norms.minCoeff(), 0.0f);
        }
    }
}
