#!/usr/bin/python3
"""Times PyTorch's multi-head self-attention at the shape bench_attention.cpp uses.

torch.nn.MultiheadAttention(768, 12, batch_first=True), QKV and output projections with
biases, no mask, need_weights=True and average_attn_weights=False (every head's weights are
returned, as attn::attend keeps them), float32, under torch.no_grad().

Prints which BLAS torch uses and, per n, the median wall time of several runs in ms:
    n=8 median_ms=0.123 runs=...
Run with Debian's interpreter (/usr/bin/python3), which has python3-torch.
"""

import argparse
import os
import re
import statistics
import time

import torch

D_MODEL = 768
HEADS = 12


def blas_summary() -> str:
    """The BLAS torch calls, from its build configuration and the libraries it loaded."""
    info = re.findall(r"\b(?:BLAS|LAPACK)_INFO=[\w.-]+", torch.__config__.show())
    loaded = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in path or "mkl" in path:
                    loaded.add(path)
    except OSError:
        pass
    # OpenBLAS picks its kernels by CPU unless OPENBLAS_CORETYPE forces one; say so.
    env = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")]
    return "; ".join(info + sorted(loaded) + env)


def time_one(mha: torch.nn.Module, x: torch.Tensor, runs: int, min_seconds: float) -> list:
    """Median-friendly samples: each sample is the mean of enough calls to last min_seconds."""
    with torch.no_grad():
        for _ in range(3):  # warm-up: allocations, thread pool start, caches
            mha(x, x, x, need_weights=True, average_attn_weights=False)
        calls = 1
        while True:
            start = time.perf_counter()
            for _ in range(calls):
                mha(x, x, x, need_weights=True, average_attn_weights=False)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds or calls >= 1 << 16:
                break
            calls *= 2
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(calls):
                out, weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
            samples.append((time.perf_counter() - start) / calls * 1e3)
        assert weights.shape == (1, HEADS, x.shape[1], x.shape[1])
        assert out.shape == x.shape
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[8, 64, 512, 2048])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5, help="samples per n (median reported)")
    parser.add_argument("--min-seconds", type=float, default=0.2, help="length of one sample")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    mha = torch.nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True, dtype=torch.float32)
    mha.eval()
    # The BLAS libraries are loaded once torch has run a GEMM.
    with torch.no_grad():
        mha(*(torch.randn(1, 8, D_MODEL),) * 3)
    print(f"BLAS: {blas_summary()}")
    for n in args.n:
        x = torch.randn(1, n, D_MODEL, dtype=torch.float32)
        samples = time_one(mha, x, args.runs, args.min_seconds)
        runs = " ".join(f"{s:.3f}" for s in samples)
        print(f"n={n} median_ms={statistics.median(samples):.4f} runs={runs}", flush=True)


if __name__ == "__main__":
    main()
