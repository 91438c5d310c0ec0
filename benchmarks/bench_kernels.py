"""Exact counting kernels against the counting of published research code and a memory-read floor.

Run: python benchmarks/bench_kernels.py [--quick]
Prints, per (n, d): qnet's time for H(T) and for (I(X;T), I(T;Y)); the time of
``np.unique(T, axis=0, return_counts=True)`` for H(T) plus per-class np.unique for
H(T|Y) (as the reference study's code counts); one pass over the same bytes; and
the ratios. Then the batched entry point's throughput (layer computations / s).
Every ratio is measured in this run; the JIT is warmed up first.
"""

import argparse
import math
import os
import time

import numpy as np
from numba import njit

import qnet


@njit(cache=True)
def _read_once(words):
    acc = np.uint64(0)
    for i in range(words.shape[0]):
        acc ^= words[i]
    return acc


def memory_floor(codes):
    """One pass over the bytes of ``codes`` (XOR of its 8-byte words)."""
    flat = codes.reshape(-1)
    usable = flat[: flat.size - flat.size % 8]
    return _read_once(usable.view(np.uint64))


def unique_information(codes, labels):
    """H(T) and I(T;Y) the way the reference code counts: np.unique over rows, per class too."""
    def h(rows):
        _, counts = np.unique(rows, axis=0, return_counts=True)
        p = counts / counts.sum()
        return -(p * np.log2(p)).sum()

    h_t = h(codes)
    h_t_given_y = sum((labels == c).mean() * h(codes[labels == c]) for c in np.unique(labels))
    return h_t, h_t - h_t_given_y


def best_time(f, repeats, budget=2.0):
    f()
    best, start = math.inf, time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        if time.perf_counter() - start > budget:
            break
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    reps = 20 if args.quick else 200
    rng = np.random.default_rng(0)
    print(f"cores: {os.cpu_count()}; times are the best of up to {reps} calls")
    header = f"{'(n, d)':>14} {'qnet H(T)':>11} {'qnet plane':>11} {'np.unique':>11} {'floor':>9} {'unique/qnet':>12} {'qnet/floor':>11}"
    print(header)
    for n, d in [(4096, 12), (4096, 1), (70000, 20), (70000, 1024)]:
        codes = rng.integers(-2, 2, (n, d)).astype(np.int8)  # many duplicate rows at small d
        labels = rng.integers(0, 2, n)
        h = qnet.entropy(codes)
        ref_h, ref_i = unique_information(codes, labels)
        assert abs(h - ref_h) < 1e-9 and abs(qnet.layer_information(codes, labels)[1] - ref_i) < 1e-9
        t_h = best_time(lambda: qnet.entropy(codes), reps)
        t_plane = best_time(lambda: qnet.layer_information(codes, labels), reps)
        t_unique = best_time(lambda: unique_information(codes, labels), 3 if d > 100 else 10)
        t_floor = best_time(lambda: memory_floor(codes), reps)
        print(f"{str((n, d)):>14} {t_h * 1e6:>9.0f}us {t_plane * 1e6:>9.0f}us {t_unique * 1e3:>9.2f}ms "
              f"{t_floor * 1e6:>7.0f}us {t_unique / t_plane:>11.0f}x {t_plane / t_floor:>10.1f}x")

    # batched entry point: every layer of the SYN net (widths 10..2, 8-bit codes), 50 seeds
    widths = [10, 7, 5, 4, 3, 2]
    seeds = 50
    codes = rng.integers(0, 256, (seeds, 4096, sum(widths))).astype(np.uint8)
    codes[:, :, 6:] //= 16  # deeper layers carry fewer distinct rows, as in a trained net
    # the trainer's layout: (S, n, D) view of a feature-major (S, D, n) array
    feature_major = np.ascontiguousarray(codes.transpose(0, 2, 1)).transpose(0, 2, 1)
    labels = qnet.encode_labels(rng.integers(0, 2, 4096))
    reference = qnet.information_batch(codes, labels, layer_widths=widths)
    for layout, stack in [("row-major", codes), ("feature-major (trainer)", feature_major)]:
        for parallel in (False, True):
            assert np.array_equal(qnet.information_batch(stack, labels, layer_widths=widths, parallel=parallel), reference)
            t = best_time(lambda: qnet.information_batch(stack, labels, layer_widths=widths, parallel=parallel), max(5, reps // 10))
            print(f"batched, {seeds} seeds x {len(widths)} layers, {layout}, parallel={parallel}: {t * 1e3:.1f} ms "
                  f"per call = {seeds * len(widths) / t:,.0f} layer computations / s")


if __name__ == "__main__":
    main()
