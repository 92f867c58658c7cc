// Using the teaching models and measuring them: each runs the training forward (train_ops.h)
// on token ids from the model's own vocabularies.

#include "attn/evaluate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <map>

#include "attn/corpus.h"
#include "attn/trace.h"
#include "attn/train_ops.h"

namespace attn {

// --- using the models --------------------------------------------------------------------------

namespace {

const VocabTokenizer* asVocab(const std::shared_ptr<const TextTokenizer>& t) {
    return dynamic_cast<const VocabTokenizer*>(t.get());
}

std::vector<int> idsOf(const VocabTokenizer& tok, const Words& words) {
    return corpusIds(tok, words);
}

bool isSpecial(int id) { return id >= 0 && id <= kEosId; }

Status checkTrainable(const Model& m) {
    if (m.config.vocab_size <= 0 || m.weights.token_embedding.size() == 0)
        return makeError(
            "This model has no vocabulary (it embeds words by a hash), so it cannot "
            "predict words.");
    if (!m.config.has_lm_head || m.weights.lm_head.size() == 0)
        return makeError("This model has no output layer over its vocabulary.");
    if (m.trained_attention.temperature <= 0.0f)
        return makeError("This model uses a hard (temperature 0) look-up.");
    return Ok{};
}

// Runs many sequences at once through the training forward; returns each sequence's logits.
std::vector<Mat> logitsOf(const Model& model, const std::vector<std::vector<int>>& sources,
                          const std::vector<std::vector<int>>& targets,
                          train::ForwardState* keep = nullptr) {
    train::Batch b;
    b.source = sources;
    b.target = targets;
    const auto& out = model.config.architecture == Architecture::EncoderDecoder ? targets : sources;
    for (const auto& s : out) b.labels.emplace_back(s.size(), -1);
    train::ForwardState local;
    train::ForwardState& st = keep ? *keep : local;
    train::forward(model, b, st);
    std::vector<Mat> res;
    int row = 0;
    for (const auto& s : out) {
        res.push_back(st.logits.middleRows(row, static_cast<Eigen::Index>(s.size())));
        row += static_cast<int>(s.size());
    }
    return res;
}

int argmaxWord(const RowVec& logits) {
    int best = -1;
    float bv = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < logits.size(); ++j)
        if (!isSpecial(j) && logits(j) > bv) bv = logits(j), best = j;
    return best;
}

// Greedy decoding of many sources together: at each step every unfinished sentence gets its
// most probable next token (specials other than <eos> and [UNK] are never chosen).
std::vector<std::vector<int>> greedyDecode(const Model& model,
                                           const std::vector<std::vector<int>>& sources,
                                           int max_words, std::vector<bool>* finished) {
    const std::size_t n = sources.size();
    std::vector<std::vector<int>> out(n, std::vector<int>{model.bos_id});
    std::vector<bool> done(n, false);
    std::vector<int> limit(n);
    for (std::size_t i = 0; i < n; ++i)
        limit[i] = max_words > 0 ? max_words : 2 * static_cast<int>(sources[i].size()) + 4;
    for (;;) {
        std::vector<std::size_t> active;
        for (std::size_t i = 0; i < n; ++i)
            if (!done[i]) active.push_back(i);
        if (active.empty()) break;
        std::vector<std::vector<int>> src, tgt;
        for (std::size_t i : active) {
            src.push_back(sources[i]);
            tgt.push_back(out[i]);
        }
        const std::vector<Mat> logits = logitsOf(model, src, tgt);
        for (std::size_t k = 0; k < active.size(); ++k) {
            const std::size_t i = active[k];
            const RowVec last = logits[k].bottomRows(1);
            int best = -1;
            float bv = -std::numeric_limits<float>::infinity();
            for (int j = 0; j < last.size(); ++j) {
                if (isSpecial(j) && j != model.eos_id && j != kUnkId) continue;
                if (last(j) > bv) bv = last(j), best = j;
            }
            if (best == model.eos_id) {
                done[i] = true;
                if (finished) (*finished)[i] = true;
            } else {
                out[i].push_back(best);
                if (static_cast<int>(out[i].size()) - 1 >= limit[i]) done[i] = true;
            }
        }
    }
    for (auto& o : out) o.erase(o.begin());  // drop <bos>
    return out;
}

// Tokens of text where every "[MASK]" (any case) becomes the mask token.
std::vector<Token> tokensWithMasks(const Model& model, std::string_view text) {
    std::vector<Token> tokens;
    std::size_t pos = 0;
    auto lower = [](std::string_view s) {
        std::string r(s);
        for (char& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return r;
    };
    const std::string lt = lower(text);
    for (;;) {
        const std::size_t at = lt.find("[mask]", pos);
        const std::size_t end = at == std::string::npos ? text.size() : at;
        for (Token t : model.tokenizer->encode(text.substr(pos, end - pos))) {
            t.begin += pos;
            t.end += pos;
            tokens.push_back(std::move(t));
        }
        if (at == std::string::npos) break;
        Token m;
        m.text = kMaskToken;
        m.begin = at;
        m.end = at + 6;
        m.id = model.mask_id >= 0 ? model.mask_id : kMaskId;
        tokens.push_back(std::move(m));
        pos = at + 6;
    }
    return tokens;
}

RowVec softmax(const RowVec& logits) {
    const float m = logits.maxCoeff();
    RowVec p = (logits.array() - m).exp();
    return p / p.sum();
}

}  // namespace

Result<Mat> predictLogits(const Model& model, const std::vector<int>& source_ids,
                          const std::vector<int>& target_ids) {
    if (Status s = checkTrainable(model); !s) return s.error();
    const bool encdec = model.config.architecture == Architecture::EncoderDecoder;
    if (source_ids.empty() || (encdec && target_ids.empty()))
        return makeError("There is nothing to run: the input is empty.");
    auto inRange = [](const std::vector<int>& ids, Eigen::Index n) {
        return std::all_of(ids.begin(), ids.end(), [&](int id) { return id >= 0 && id < n; });
    };
    if (!inRange(source_ids, model.weights.token_embedding.rows()) ||
        (encdec && !inRange(target_ids, model.weights.target_embedding.rows())))
        return makeError("A token id is outside the model's vocabulary.");
    const int longest = static_cast<int>(std::max(source_ids.size(), target_ids.size()));
    if (longest > model.config.max_len)
        return makeError("The text has " + std::to_string(longest) +
                         " tokens; this model takes at most " +
                         std::to_string(model.config.max_len) + ".");
    return logitsOf(
               model, {source_ids},
               encdec ? std::vector<std::vector<int>>{target_ids} : std::vector<std::vector<int>>{})
        .front();
}

Result<FillResult> fillMask(const Model& model, std::string_view text, int top_k) {
    if (model.config.architecture == Architecture::EncoderDecoder)
        return makeError("Filling in masked words needs the English (encoder) model.");
    if (Status s = checkTrainable(model); !s) return s.error();
    if (!model.tokenizer) return makeError("The model has no tokenizer.");
    FillResult r;
    r.tokens = tokensWithMasks(model, text);
    if (r.tokens.empty()) return makeError("The text is empty: type a sentence with [MASK] in it.");
    std::vector<int> ids;
    for (const Token& t : r.tokens) ids.push_back(t.id);
    auto logits = predictLogits(model, ids);
    if (!logits) return logits.error();
    const auto* vocab = model.tokenizer.get();
    for (int t = 0; t < static_cast<int>(r.tokens.size()); ++t) {
        if (r.tokens[static_cast<std::size_t>(t)].text != kMaskToken) continue;
        const RowVec p = softmax(logits->row(t));
        std::vector<int> order;
        for (int j = 0; j < p.size(); ++j)
            if (!isSpecial(j)) order.push_back(j);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p(a) > p(b); });
        FillPrediction fp;
        fp.position = t;
        for (int k = 0; k < top_k && k < static_cast<int>(order.size()); ++k)
            fp.candidates.push_back({vocab->decode(order[static_cast<std::size_t>(k)]),
                                     p(order[static_cast<std::size_t>(k)])});
        r.predictions.push_back(std::move(fp));
    }
    if (r.predictions.empty())
        return makeError(
            "There is no [MASK] in the text: put [MASK] where a word should be "
            "guessed, e.g. \"the cat drank the [MASK]\".");
    return r;
}

Result<Translation> translate(const Model& model, std::string_view text, int max_words) {
    if (model.config.architecture != Architecture::EncoderDecoder || !model.target_tokenizer)
        return makeError("Translating needs the translation (encoder–decoder) model.");
    if (Status s = checkTrainable(model); !s) return s.error();
    if (model.bos_id < 0 || model.eos_id < 0)
        return makeError("The model has no start and end tokens for the decoder.");
    Translation tr;
    tr.source_tokens = model.tokenizer->encode(text);
    if (tr.source_tokens.empty()) return makeError("The text is empty: type an English sentence.");
    if (static_cast<int>(tr.source_tokens.size()) > model.config.max_len)
        return makeError("The sentence has " + std::to_string(tr.source_tokens.size()) +
                         " words; this model takes at most " +
                         std::to_string(model.config.max_len) + ".");
    std::vector<int> src;
    for (const Token& t : tr.source_tokens) src.push_back(t.id);
    if (max_words <= 0) max_words = 2 * static_cast<int>(src.size()) + 4;
    max_words = std::min(max_words, model.config.max_len - 1);
    std::vector<bool> finished(1, false);
    const std::vector<int> out = greedyDecode(model, {src}, max_words, &finished).front();
    tr.finished = finished[0];
    tr.decoder_inputs.push_back(model.target_tokenizer->decode(model.bos_id));
    for (int id : out) {
        tr.words.push_back(model.target_tokenizer->decode(id));
        tr.decoder_inputs.push_back(tr.words.back());
        tr.outputs.push_back(tr.words.back());
    }
    if (tr.finished) {
        tr.outputs.push_back(model.target_tokenizer->decode(model.eos_id));
    } else {
        tr.decoder_inputs.pop_back();  // the last word was produced, never read
    }
    tr.text = joinWords(tr.words);
    // The cross-attention while producing it: one teacher-forced pass over what was produced.
    std::vector<int> in = {model.bos_id};
    in.insert(in.end(), out.begin(), out.end());
    in.resize(tr.decoder_inputs.size());
    train::ForwardState st;
    logitsOf(model, {src}, {in}, &st);
    const int H = model.config.n_heads;
    for (const auto& layer : st.target.layers) {
        std::vector<Mat> heads;
        heads.reserve(static_cast<std::size_t>(H));
        for (int h = 0; h < H; ++h) heads.push_back(layer.cross.A[static_cast<std::size_t>(h)]);
        tr.cross_attention.push_back(std::move(heads));
    }
    return tr;
}

// --- measuring -------------------------------------------------------------------------------

MaskedWordEvaluation evaluateMaskedWords(const Model& model, int count, std::uint64_t seed) {
    MaskedWordEvaluation ev;
    const VocabTokenizer* tok = asVocab(model.tokenizer);
    if (!tok || !checkTrainable(model)) return ev;
    const std::vector<Words> sentences = heldOutEnglish(count, seed);
    ev.sentences = static_cast<int>(sentences.size());
    const std::vector<std::string>& vocab = tok->vocab();

    struct Item {
        std::size_t sentence;
        std::size_t position;
    };
    std::vector<Item> items;
    std::vector<std::vector<int>> inputs;
    for (std::size_t s = 0; s < sentences.size(); ++s) {
        const std::vector<int> ids = idsOf(*tok, sentences[s]);
        for (std::size_t t = 0; t < ids.size(); ++t) {
            std::vector<int> masked = ids;
            masked[t] = model.mask_id >= 0 ? model.mask_id : kMaskId;
            inputs.push_back(std::move(masked));
            items.push_back({s, t});
        }
    }
    int correct = 0, grammatical = 0, determinedCorrect = 0;
    double massSum = 0.0;
    std::map<std::string, std::array<int, 3>> cls;  // predictions, correct, grammatical
    constexpr std::size_t kChunk = 256;
    for (std::size_t begin = 0; begin < inputs.size(); begin += kChunk) {
        const std::size_t end = std::min(inputs.size(), begin + kChunk);
        const std::vector<std::vector<int>> chunk(inputs.begin() + static_cast<long>(begin),
                                                  inputs.begin() + static_cast<long>(end));
        const std::vector<Mat> logits = logitsOf(model, chunk, {});
        for (std::size_t k = begin; k < end; ++k) {
            const Item& it = items[k];
            const Words& words = sentences[it.sentence];
            const RowVec row = logits[k - begin].row(static_cast<Eigen::Index>(it.position));
            const int best = argmaxWord(row);
            const RowVec p = softmax(row);
            // Every word that would make the sentence grammatical here.
            Words trial = words;
            std::vector<int> fits;
            for (int j = kEosId + 1; j < static_cast<int>(vocab.size()); ++j) {
                trial[it.position] = vocab[static_cast<std::size_t>(j)];
                if (isGrammatical(trial)) fits.push_back(j);
            }
            const bool ok = vocab[static_cast<std::size_t>(best)] == words[it.position];
            const bool gram = std::find(fits.begin(), fits.end(), best) != fits.end();
            double mass = 0.0;
            for (int j : fits) mass += p(j);
            massSum += mass;
            correct += ok;
            grammatical += gram;
            if (fits.size() == 1) {
                ++ev.determined;
                determinedCorrect += ok;
            }
            auto& c = cls[toString(lexicon().englishClass(words[it.position]))];
            ++c[0];
            c[1] += ok;
            c[2] += gram;
        }
    }
    ev.predictions = static_cast<int>(items.size());
    if (ev.predictions > 0) {
        ev.accuracy = static_cast<double>(correct) / ev.predictions;
        ev.grammatical = static_cast<double>(grammatical) / ev.predictions;
        ev.mean_grammatical_probability = massSum / ev.predictions;
    }
    if (ev.determined > 0)
        ev.determined_accuracy = static_cast<double>(determinedCorrect) / ev.determined;
    for (const auto& [name, c] : cls) {
        WordClassScore s;
        s.predictions = c[0];
        s.accuracy = static_cast<double>(c[1]) / c[0];
        s.grammatical = static_cast<double>(c[2]) / c[0];
        ev.by_class[name] = s;
    }
    return ev;
}

TranslationEvaluation evaluateTranslation(const Model& model, int count, std::uint64_t seed) {
    TranslationEvaluation ev;
    const VocabTokenizer* src = asVocab(model.tokenizer);
    const VocabTokenizer* tgt = asVocab(model.target_tokenizer);
    if (!src || !tgt || model.config.architecture != Architecture::EncoderDecoder ||
        !checkTrainable(model))
        return ev;
    const std::vector<TranslationPair> pairs = heldOutTranslations(count, seed);
    ev.sentences = static_cast<int>(pairs.size());
    const int H = model.config.n_heads;
    int exact = 0, words = 0, wordsRight = 0, content = 0, alignMean = 0, alignAtWord = 0;
    std::vector<int> alignHead(static_cast<std::size_t>(H), 0);
    constexpr std::size_t kChunk = 128;
    for (std::size_t begin = 0; begin < pairs.size(); begin += kChunk) {
        const std::size_t end = std::min(pairs.size(), begin + kChunk);
        std::vector<std::vector<int>> sources, targets;
        for (std::size_t i = begin; i < end; ++i) {
            sources.push_back(idsOf(*src, pairs[i].source));
            std::vector<int> in = {model.bos_id};
            const std::vector<int> y = idsOf(*tgt, pairs[i].target);
            in.insert(in.end(), y.begin(), y.end());
            targets.push_back(std::move(in));
        }
        // Greedy translations.
        const auto decoded = greedyDecode(model, sources, 0, nullptr);
        for (std::size_t i = begin; i < end; ++i) {
            const std::vector<int>& got = decoded[i - begin];
            const std::vector<int> want(targets[i - begin].begin() + 1, targets[i - begin].end());
            if (got == want) {
                ++exact;
            } else if (ev.failures.size() < 10) {
                Words g;
                for (int id : got) g.push_back(tgt->decode(id));
                ev.failures.push_back(joinWords(pairs[i].source) + " → " + joinWords(g) + "  (" +
                                      joinWords(pairs[i].target) + ")");
            }
        }
        // Teacher forcing: next-word accuracy and the cross-attention of the last layer.
        train::ForwardState st;
        const std::vector<Mat> logits = logitsOf(model, sources, targets, &st);
        const train::LayerState& last = st.target.layers.back();
        for (std::size_t i = begin; i < end; ++i) {
            const std::size_t s = i - begin;
            const TranslationPair& pr = pairs[i];
            const std::vector<int>& in = targets[s];
            for (std::size_t t = 0; t < in.size(); ++t) {
                const int want = t + 1 < in.size() ? in[t + 1] : model.eos_id;
                ++words;
                int best = 0;
                logits[s].row(static_cast<Eigen::Index>(t)).maxCoeff(&best);
                wordsRight += best == want;
            }
            const int Ts = static_cast<int>(pr.source.size());
            for (std::size_t t = 0; t < pr.target.size(); ++t) {
                if (!pr.content[t]) continue;
                ++content;
                const int gold = pr.alignment[t];
                // Row t produced target word t; row t + 1 reads it.
                Mat mean = Mat::Zero(1, Ts), meanNext = Mat::Zero(1, Ts);
                for (int h = 0; h < H; ++h) {
                    const Mat& A =
                        last.cross.A[s * static_cast<std::size_t>(H) + static_cast<std::size_t>(h)];
                    mean += A.row(static_cast<Eigen::Index>(t));
                    meanNext += A.row(static_cast<Eigen::Index>(t + 1));
                    int j = 0;
                    A.row(static_cast<Eigen::Index>(t)).maxCoeff(&j);
                    alignHead[static_cast<std::size_t>(h)] += j == gold;
                }
                int j = 0;
                mean.row(0).maxCoeff(&j);
                alignMean += j == gold;
                meanNext.row(0).maxCoeff(&j);
                alignAtWord += j == gold;
            }
        }
    }
    if (ev.sentences > 0) ev.exact = static_cast<double>(exact) / ev.sentences;
    if (words > 0) ev.word_accuracy = static_cast<double>(wordsRight) / words;
    ev.content_words = content;
    if (content > 0) {
        ev.alignment_mean = static_cast<double>(alignMean) / content;
        ev.alignment_mean_at_word = static_cast<double>(alignAtWord) / content;
        for (int h = 0; h < H; ++h) {
            const double a = static_cast<double>(alignHead[static_cast<std::size_t>(h)]) / content;
            ev.alignment_per_head.push_back(a);
            if (a > ev.alignment_best_head) {
                ev.alignment_best_head = a;
                ev.best_head = h;
            }
        }
    }
    return ev;
}

Result<std::vector<HeadPreference>> compareHeadAttention(const std::shared_ptr<const Model>& model,
                                                         std::string_view text,
                                                         std::string_view query, std::string_view a,
                                                         std::string_view b) {
    if (!model) return makeError("No model is loaded.");
    std::string lowered(text);
    for (char& ch : lowered) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto trace = lowered.find("[mask]") != std::string::npos && model->tokenizer
                     ? runTokens(model, tokensWithMasks(*model, text))
                     : run(model, text);
    if (!trace) return trace.error();
    const Trace& tr = *trace.value();
    auto find = [&](std::string_view w) {
        for (std::size_t i = 0; i < tr.tokens.size(); ++i)
            if (tr.tokens[i].text == w) return static_cast<int>(i);
        return -1;
    };
    const int q = find(query), ia = find(a), ib = find(b);
    if (q < 0 || ia < 0 || ib < 0)
        return makeError("The words '" + std::string(query) + "', '" + std::string(a) + "' and '" +
                         std::string(b) + "' must all be in the text.");
    std::vector<HeadPreference> out;
    for (std::size_t l = 0; l < tr.layers.size(); ++l) {
        const auto& heads = tr.layers[l].self_attention.heads;
        for (std::size_t h = 0; h < heads.size(); ++h) {
            HeadPreference p;
            p.layer = static_cast<int>(l);
            p.head = static_cast<int>(h);
            p.weight_a = heads[h].weights(q, ia);
            p.weight_b = heads[h].weights(q, ib);
            out.push_back(p);
        }
    }
    return out;
}

}  // namespace attn
