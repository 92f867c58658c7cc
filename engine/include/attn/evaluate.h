#pragma once
// Using a trained teaching model and measuring what it learned: the logits of one sequence,
// the words for every [MASK], greedy translation with its cross-attention, and the held-out
// evaluations (masked words, translation, which heads prefer which word). They run the
// training forward (train_ops.h), so the model needs a vocabulary and an output layer.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attn/model.h"
#include "attn/result.h"
#include "attn/tokenizer.h"

namespace attn {

/// Logits (N_out, vocab) of the training forward for one sequence: the encoder's rows, or for an
/// EncoderDecoder the decoder's rows for decoder input target_ids.
Result<Mat> predictLogits(const Model& model, const std::vector<int>& source_ids,
                          const std::vector<int>& target_ids = {});

struct FillCandidate {
    std::string word;
    float probability = 0;
};
struct FillPrediction {
    int position = 0;                       ///< token index of the [MASK]
    std::vector<FillCandidate> candidates;  ///< best first
};
struct FillResult {
    std::vector<Token> tokens;  ///< the input as the model saw it ([MASK], [UNK] visible)
    std::vector<FillPrediction> predictions;  ///< one per [MASK]
};
/// Tokenizes text (each "[MASK]" becomes the mask token; unseen words become [UNK]) and lists
/// the top_k words for every [MASK]. Special tokens are never proposed.
Result<FillResult> fillMask(const Model& model, std::string_view text, int top_k = 5);

struct Translation {
    std::vector<Token> source_tokens;  ///< unseen words show as [UNK]
    std::vector<std::string> words;    ///< the translation, without <bos>/<eos>
    std::string text;                  ///< words joined by spaces
    bool finished = false;             ///< ended with <eos> (false: stopped at the length limit)
    std::vector<std::string> decoder_inputs;  ///< <bos>, words… (the query rows below)
    std::vector<std::string> outputs;         ///< words…, <eos> (what each row produced)
    /// [layer][head]: (T_out, T_src) cross-attention while producing the translation; row t is
    /// the decoder query at decoder_inputs[t], which produced outputs[t].
    std::vector<std::vector<Mat>> cross_attention;
};
/// Greedy decoding: the most probable next word each step until <eos> (at most max_words,
/// 0 = twice the source plus 4).
Result<Translation> translate(const Model& model, std::string_view text, int max_words = 0);

// --- measuring -------------------------------------------------------------------------------

struct WordClassScore {
    int predictions = 0;
    double accuracy = 0;     ///< the original word came first
    double grammatical = 0;  ///< the first word makes a sentence of the grammar
};
struct MaskedWordEvaluation {
    int sentences = 0;
    int predictions = 0;     ///< one per word of every held-out sentence
    double accuracy = 0;     ///< the original word is the top prediction
    double grammatical = 0;  ///< the top prediction gives a sentence of the grammar
    int determined = 0;      ///< positions where exactly one word fits the grammar
    double determined_accuracy = 0;
    double mean_grammatical_probability = 0;         ///< probability mass on words that fit
    std::map<std::string, WordClassScore> by_class;  ///< "noun", "verb", …
};
/// Masks each word of count held-out sentences in turn (one at a time) and checks the top
/// prediction.
MaskedWordEvaluation evaluateMaskedWords(const Model& model, int count = 500,
                                         std::uint64_t seed = 2024);

struct TranslationEvaluation {
    int sentences = 0;
    double exact = 0;          ///< greedy translation equals the reference
    double word_accuracy = 0;  ///< per reference word, teacher-forced next-word prediction
    int content_words = 0;     ///< target nouns, verbs, adjectives and "es"
    /// The cross-attention row of the decoder query that produces a content word (teacher
    /// forcing the reference), last decoder layer: the most attended source word is its gold
    /// translation.
    double alignment_mean = 0;               ///< weights averaged over the heads of the last layer
    std::vector<double> alignment_per_head;  ///< each head of the last layer alone
    int best_head = 0;
    double alignment_best_head = 0;
    /// Same, but the row whose query is the content word itself (one row later).
    double alignment_mean_at_word = 0;
    std::vector<std::string> failures;  ///< a few wrong translations, "source → got (want)"
};
TranslationEvaluation evaluateTranslation(const Model& model, int count = 500,
                                          std::uint64_t seed = 2024);

/// For every layer and head of the first stack's self-attention: the weight from query word
/// `query` to word `a` and to word `b` (first occurrence of each, after tokenizing text; a
/// "[MASK]" in text is the mask token and can be the query). Runs the inference forward (run /
/// runTokens), so these are the weights the window shows.
struct HeadPreference {
    int layer = 0;
    int head = 0;
    float weight_a = 0;
    float weight_b = 0;
    bool prefers_a() const { return weight_a > weight_b; }
};
Result<std::vector<HeadPreference>> compareHeadAttention(const std::shared_ptr<const Model>& model,
                                                         std::string_view text,
                                                         std::string_view query, std::string_view a,
                                                         std::string_view b);

}  // namespace attn
