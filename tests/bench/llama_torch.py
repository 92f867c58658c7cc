#!/usr/bin/python3
"""PyTorch's side of bench_llama: a float32 forward of a model with Llama-3.2-1B's shapes
(hidden 2048, 16 layers, 32 heads, 8 key/value heads, head_dim 64, intermediate 8192, vocab
128256, tied embeddings, rope_theta 500000 with llama3 rope_scaling), written as Hugging
Face's LlamaModel runs it with attn_implementation="eager" and output_attentions=True: every
layer's (heads, T, T) softmax weights are returned, and the logits of every position.

The weights are random float32 of the same shapes (the time of a dense float32 forward does not
depend on the values; that our numbers match such a forward is what the engine tests check, on
small models). Prints the median time of --runs forwards of --tokens tokens on --threads threads.

    /usr/bin/python3 tests/bench/llama_torch.py --threads 2 --runs 5 --tokens 128
"""
import argparse
import math
import statistics
import time

import torch


def llama3_inv_freq(dh, theta, factor=32.0, low=1.0, high=4.0, original=8192):
    # transformers' _compute_llama3_parameters
    inv = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.float64) / dh))
    wave = 2 * math.pi / inv
    low_wave, high_wave = original / low, original / high
    scaled = torch.where(wave > low_wave, inv / factor, inv)
    smooth = (original / wave - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wave >= high_wave) & (wave <= low_wave)
    return torch.where(medium, smoothed, scaled).float()


def rms_norm(x, g, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--vocab", type=int, default=128256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    d, ff, H, KV, dh, L, V = 2048, 8192, 32, 8, 64, a.layers, a.vocab
    g = torch.Generator().manual_seed(0)

    def w(o, i, s):
        return (torch.rand(o, i, generator=g) * 2 - 1) * s

    p = 1 / math.sqrt(d)
    emb = w(V, d, 0.05)
    layers = []
    for _ in range(L):
        layers.append(dict(
            n1=torch.ones(d), n2=torch.ones(d),
            q=w(H * dh, d, 4 * p), k=w(KV * dh, d, 4 * p), v=w(KV * dh, d, p), o=w(d, H * dh, p),
            gate=w(ff, d, p), up=w(ff, d, p), down=w(d, ff, p / 2)))
    nf = torch.ones(d)
    inv_freq = llama3_inv_freq(dh, 500000.0)

    def forward(ids):
        T = ids.shape[0]
        x = emb[ids]  # (T, d)
        freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
        ang = torch.cat((freqs, freqs), dim=-1)
        cos, sin = ang.cos(), ang.sin()  # (T, dh)
        mask = torch.full((T, T), float("-inf")).triu(1)
        attentions = []
        for l in layers:
            h = rms_norm(x, l["n1"])
            q = (h @ l["q"].T).view(T, H, dh).transpose(0, 1)  # (H, T, dh)
            k = (h @ l["k"].T).view(T, KV, dh).transpose(0, 1)
            v = (h @ l["v"].T).view(T, KV, dh).transpose(0, 1)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=0)
            v = v.repeat_interleave(H // KV, dim=0)
            s = q @ k.transpose(-1, -2) / math.sqrt(dh) + mask
            att = torch.softmax(s, dim=-1)  # (H, T, T), returned as output_attentions does
            attentions.append(att)
            o = (att @ v).transpose(0, 1).reshape(T, H * dh) @ l["o"].T
            x = x + o
            h = rms_norm(x, l["n2"])
            x = x + (torch.nn.functional.silu(h @ l["gate"].T) * (h @ l["up"].T)) @ l["down"].T
        x = rms_norm(x, nf)
        return x @ emb.T, attentions

    ids = torch.randint(0, V, (a.tokens,), generator=g)
    times = []
    with torch.inference_mode():
        forward(ids)  # warm-up
        for _ in range(a.runs):
            t0 = time.perf_counter()
            logits, att = forward(ids)
            times.append((time.perf_counter() - t0) * 1000)
    assert len(att) == L and att[0].shape == (H, a.tokens, a.tokens) and logits.shape[1] == V
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {a.tokens} tokens: "
          f"median {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f})")
    print(f"RESULT torch_ms={statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
