// The model pass for training: embeddings → layers → final norm (→ decoder) → logits → loss,
// each step keeping its intermediates in a ForwardState, and the backward through the same
// steps in reverse. Conventions follow trace.cpp exactly (post-norm x = norm(x + f(x)),
// pre-norm x = x + f(norm(x)), decoder: self → cross → feed-forward, encoder final norm before
// the cross-attention memory).

#include <omp.h>

#include <cassert>
#include <cmath>

#include "attn/train_ops.h"

namespace attn::train {

namespace {
// Our products are small (a few hundred rows × 64): Eigen's OpenMP-parallel GEMM spends far
// more time waking and spinning threads than multiplying (measured: 5.5 ms against 90 ms per
// training step on a loaded 2-core machine). omp_set_num_threads changes only the calling
// thread's setting, so the inference code on other threads keeps its parallelism.
class SingleThreaded {
public:
    SingleThreaded() : m_saved(omp_get_max_threads()) { omp_set_num_threads(1); }
    ~SingleThreaded() { omp_set_num_threads(m_saved); }
    SingleThreaded(const SingleThreaded&) = delete;
    SingleThreaded& operator=(const SingleThreaded&) = delete;

private:
    int m_saved;
};
}  // namespace

// --- forward ---------------------------------------------------------------------------------

namespace {

struct Pass {
    const Model& model;
    const ModelConfig& c;
    const AttentionKnobs& knobs;  // the training forward runs a model as it was trained
    AttentionConfig selfConfig, crossConfig;

    explicit Pass(const Model& m) : model(m), c(m.config), knobs(m.trained_attention) {
        selfConfig = c.attentionConfig(knobs);
        crossConfig = selfConfig;
        crossConfig.rope = false;  // RoPE is self-attention only (as in trace.cpp)
    }

    void norm(const NormWeights& w, const Mat& x, Mat& y, NormCache& cache) const {
        normForward(c.norm, w, c.norm_eps, x, y, cache);
    }

    // Step 1: embeddings + positions (+ token type), then the optional embedding norm.
    void embed(const std::vector<std::vector<int>>& seqs, bool target, StackState& st) const {
        const ModelWeights& w = model.weights;
        const Mat& table = target ? w.target_embedding : w.token_embedding.dense();
        std::vector<int> lengths;
        st.ids.clear();
        st.positions.clear();
        for (const auto& s : seqs) {
            lengths.push_back(static_cast<int>(s.size()));
            for (std::size_t t = 0; t < s.size(); ++t) {
                st.ids.push_back(s[t]);
                st.positions.push_back(static_cast<int>(t));
            }
        }
        st.packing = Packing::fromLengths(lengths);
        const int N = st.packing.rows();
        int longest = 0;
        for (int n : lengths) longest = std::max(longest, n);
        st.x0_raw.resize(N, c.d_model);
        for (int r = 0; r < N; ++r) {
            assert(st.ids[r] >= 0 && st.ids[r] < table.rows());
            st.x0_raw.row(r) = table.row(st.ids[r]);
        }
        if (c.positional == PositionalKind::Sinusoidal) {
            const Mat pe = sinusoidalEncoding(longest, c.d_model, c.pe_base);  // (T, d_model)
            for (int r = 0; r < N; ++r) st.x0_raw.row(r) += pe.row(st.positions[r]);
        } else if (c.positional == PositionalKind::Learned) {
            for (int r = 0; r < N; ++r)
                st.x0_raw.row(r) += w.position_embedding.row(st.positions[r]);
        }
        if (!target && c.type_vocab_size > 0 && w.token_type_embedding.rows() > 0)
            st.x0_raw.rowwise() += w.token_type_embedding.row(0);
        if (c.embedding_norm)
            norm(w.embedding_norm, st.x0_raw, st.x0, st.embedding_norm);
        else
            st.x0 = st.x0_raw;
    }

    // Step 2: one layer. memory = encoder output for cross-attention (nullptr otherwise).
    void layer(const LayerWeights& lw, const StackState& st, const Mat& x_in, const Mat* memory,
               const Packing* memPacking, LayerState& ls) const {
        ls.x_in = x_in;
        // 2a. self-attention
        if (c.pre_norm) {
            norm(lw.norm1, x_in, ls.self_in, ls.norm1);
            attentionForward(selfConfig, lw.self_attention, ls.self_in, st.packing, ls.self_in,
                             st.packing, st.mask, ls.self_out, ls.self);
            ls.x1 = x_in + ls.self_out;
        } else {
            attentionForward(selfConfig, lw.self_attention, x_in, st.packing, x_in, st.packing,
                             st.mask, ls.self_out, ls.self);
            norm(lw.norm1, x_in + ls.self_out, ls.x1, ls.norm1);
        }
        // 2b. cross-attention: queries from this stack, keys and values from the memory
        const NormWeights* ffnNorm = &lw.norm2;
        NormCache* ffnCache = &ls.norm2;
        if (memory) {
            Mat o;
            const AttentionMasking none;
            if (c.pre_norm) {
                norm(lw.norm2, ls.x1, ls.cross_in, ls.norm2);
                attentionForward(crossConfig, lw.cross_attention, ls.cross_in, st.packing, *memory,
                                 *memPacking, none, o, ls.cross);
                ls.x2 = ls.x1 + o;
            } else {
                attentionForward(crossConfig, lw.cross_attention, ls.x1, st.packing, *memory,
                                 *memPacking, none, o, ls.cross);
                norm(lw.norm2, ls.x1 + o, ls.x2, ls.norm2);
            }
            ffnNorm = &lw.norm3;
            ffnCache = &ls.norm3;
        } else {
            ls.x2 = ls.x1;
        }
        // 2c. feed-forward
        Mat f;
        if (c.pre_norm) {
            norm(*ffnNorm, ls.x2, ls.ffn_in, *ffnCache);
            ffnForward(c.activation, lw.ffn, ls.ffn_in, f, ls.ffn);
            ls.out = ls.x2 + f;
        } else {
            ffnForward(c.activation, lw.ffn, ls.x2, f, ls.ffn);
            norm(*ffnNorm, ls.x2 + f, ls.out, *ffnCache);
        }
    }

    // Steps 1–3 for one stack.
    void stack(const std::vector<LayerWeights>& layers, const NormWeights& finalNorm,
               const Mat* memory, const Packing* memPacking, StackState& st) const {
        st.layers.resize(layers.size());
        const Mat* x = &st.x0;
        for (std::size_t l = 0; l < layers.size(); ++l) {
            layer(layers[l], st, *x, memory, memPacking, st.layers[l]);
            x = &st.layers[l].out;
        }
        if (c.final_norm)
            norm(finalNorm, *x, st.out, st.final_norm);
        else
            st.out = *x;
    }

    AttentionMasking selfMask(const StackState& st, bool decoderStack) const {
        AttentionMasking m;
        if (decoderStack || c.architecture == Architecture::Decoder ||
            knobs.mask == MaskKind::Causal) {
            m.causal = true;
        } else if (knobs.mask == MaskKind::Padding) {
            // As trace.cpp: a key whose token is [PAD] is hidden. Our vocabularies put it at 0.
            const Packing& p = st.packing;
            for (int s = 0; s < p.count(); ++s) {
                std::vector<bool> pad(static_cast<std::size_t>(p.length[s]));
                for (int t = 0; t < p.length[s]; ++t) {
                    const int id = st.ids[static_cast<std::size_t>(p.begin[s]) + t];
                    const std::string tok = model.tokenizer ? model.tokenizer->decode(id) : "";
                    pad[static_cast<std::size_t>(t)] = tok == "[PAD]" || tok == "<pad>";
                }
                m.key_padding.push_back(std::move(pad));
            }
        }
        return m;
    }
};

// Backward of one layer: dout → dx_in; dmemory += the cross-attention's key/value gradient.
void layerBackward(const Pass& p, const LayerWeights& lw, const StackState& st,
                   const LayerState& ls, const Packing* memPacking, const Mat& dout, Mat& dx_in,
                   Mat* dmemory, LayerWeights& g) {
    const ModelConfig& c = p.c;
    const bool cross = dmemory != nullptr;
    const NormWeights& ffnNorm = cross ? lw.norm3 : lw.norm2;
    const NormCache& ffnCache = cross ? ls.norm3 : ls.norm2;
    NormWeights& gFfnNorm = cross ? g.norm3 : g.norm2;
    Mat dx2, tmp;
    // 2c. feed-forward
    if (c.pre_norm) {
        ffnBackward(c.activation, lw.ffn, ls.ffn, dout, tmp, g.ffn);
        Mat dn;
        normBackward(c.norm, ffnNorm, ffnCache, tmp, dn, gFfnNorm);
        dx2 = dout + dn;
    } else {
        Mat dr;
        normBackward(c.norm, ffnNorm, ffnCache, dout, dr, gFfnNorm);
        ffnBackward(c.activation, lw.ffn, ls.ffn, dr, tmp, g.ffn);
        dx2 = dr + tmp;
    }
    // 2b. cross-attention
    Mat dx1;
    if (cross) {
        const AttentionMasking none;
        Mat dq, dkv;
        if (c.pre_norm) {
            attentionBackward(p.crossConfig, lw.cross_attention, st.packing, *memPacking, none,
                              ls.cross, dx2, dq, dkv, g.cross_attention);
            Mat dn;
            normBackward(c.norm, lw.norm2, ls.norm2, dq, dn, g.norm2);
            dx1 = dx2 + dn;
        } else {
            Mat dr;
            normBackward(c.norm, lw.norm2, ls.norm2, dx2, dr, g.norm2);
            attentionBackward(p.crossConfig, lw.cross_attention, st.packing, *memPacking, none,
                              ls.cross, dr, dq, dkv, g.cross_attention);
            dx1 = dr + dq;
        }
        *dmemory += dkv;
    } else {
        dx1 = std::move(dx2);
    }
    // 2a. self-attention
    Mat dq, dkv;
    if (c.pre_norm) {
        attentionBackward(p.selfConfig, lw.self_attention, st.packing, st.packing, st.mask, ls.self,
                          dx1, dq, dkv, g.self_attention);
        Mat dn;
        dq += dkv;
        normBackward(c.norm, lw.norm1, ls.norm1, dq, dn, g.norm1);
        dx_in = dx1 + dn;
    } else {
        Mat dr;
        normBackward(c.norm, lw.norm1, ls.norm1, dx1, dr, g.norm1);
        attentionBackward(p.selfConfig, lw.self_attention, st.packing, st.packing, st.mask, ls.self,
                          dr, dq, dkv, g.self_attention);
        dx_in = dr + dq + dkv;
    }
}

// Backward of steps 3 → 1 of one stack: dout is the gradient of st.out.
void stackBackward(const Pass& p, const std::vector<LayerWeights>& layers,
                   const NormWeights& finalNorm, const StackState& st, const Packing* memPacking,
                   const Mat& dout, Mat* dmemory, std::vector<LayerWeights>& gLayers,
                   NormWeights& gFinal, bool target, ModelWeights& g) {
    const ModelConfig& c = p.c;
    Mat dx;
    if (c.final_norm)
        normBackward(c.norm, finalNorm, st.final_norm, dout, dx, gFinal);
    else
        dx = dout;
    for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l) {
        Mat dIn;
        layerBackward(p, layers[l], st, st.layers[l], memPacking, dx, dIn, dmemory, gLayers[l]);
        dx = std::move(dIn);
    }
    // Step 1: embedding norm, then scatter into the tables.
    Mat dx0;
    if (c.embedding_norm)
        normBackward(c.norm, p.model.weights.embedding_norm, st.embedding_norm, dx, dx0,
                     g.embedding_norm);
    else
        dx0 = std::move(dx);
    Mat& table = target ? g.target_embedding : g.token_embedding.dense();
    for (int r = 0; r < dx0.rows(); ++r) {
        table.row(st.ids[r]) += dx0.row(r);
        if (c.positional == PositionalKind::Learned)
            g.position_embedding.row(st.positions[r]) += dx0.row(r);
    }
    if (!target && c.type_vocab_size > 0 && g.token_type_embedding.rows() > 0)
        g.token_type_embedding.row(0) += dx0.colwise().sum();
}

}  // namespace

double forward(const Model& model, const Batch& batch, ForwardState& s) {
    const SingleThreaded oneThread;
    const ModelConfig& c = model.config;
    const ModelWeights& w = model.weights;
    const Pass p(model);
    const bool encdec = c.architecture == Architecture::EncoderDecoder;
    // 1–3. The encoder (or the only stack).
    p.embed(batch.source, false, s.source);
    s.source.mask = p.selfMask(s.source, false);
    p.stack(w.layers, w.final_norm, nullptr, nullptr, s.source);
    const StackState* outStack = &s.source;
    // 4. The decoder, attending to the encoder output.
    if (encdec) {
        p.embed(batch.target, true, s.target);
        s.target.mask = p.selfMask(s.target, true);
        p.stack(w.decoder_layers, w.decoder_final_norm, &s.source.out, &s.source.packing, s.target);
        outStack = &s.target;
    }
    // 5. Logits over the vocabulary.
    s.logits.noalias() = outStack->out * w.lm_head.dense();  // (N_out, vocab)
    if (w.lm_bias.size()) s.logits.rowwise() += w.lm_bias;
    // 6. Loss.
    s.labels.clear();
    for (const auto& l : batch.labels) s.labels.insert(s.labels.end(), l.begin(), l.end());
    assert(static_cast<int>(s.labels.size()) == outStack->packing.rows());
    s.loss = crossEntropy(s.logits, s.labels, &s.dlogits, &s.counted);
    return s.loss;
}

void backward(const Model& model, ForwardState& s, ModelWeights& g) {
    const SingleThreaded oneThread;
    const ModelConfig& c = model.config;
    const ModelWeights& w = model.weights;
    const Pass p(model);
    const bool encdec = c.architecture == Architecture::EncoderDecoder;
    const StackState& outStack = encdec ? s.target : s.source;
    // 5. Logits.
    const Mat dout = linearBackward(outStack.out, w.lm_head, s.dlogits, g.lm_head, &g.lm_bias);
    if (encdec) {
        // 4. Decoder, collecting the gradient of the encoder output through cross-attention.
        Mat dmemory = Mat::Zero(s.source.out.rows(), s.source.out.cols());
        stackBackward(p, w.decoder_layers, w.decoder_final_norm, s.target, &s.source.packing, dout,
                      &dmemory, g.decoder_layers, g.decoder_final_norm, true, g);
        stackBackward(p, w.layers, w.final_norm, s.source, nullptr, dmemory, nullptr, g.layers,
                      g.final_norm, false, g);
    } else {
        stackBackward(p, w.layers, w.final_norm, s.source, nullptr, dout, nullptr, g.layers,
                      g.final_norm, false, g);
    }
}

}  // namespace attn::train
