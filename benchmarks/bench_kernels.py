"""Exact counting kernels against the counting of published research code and a memory-read floor.

Run: python benchmarks/bench_kernels.py [--quick] [--section table|wide|syn] [--baseline DIR]
Prints
- table: per (n, d) of int8 codes, qnet's time for H(T) and for (I(X;T), I(T;Y)); the time of
  ``np.unique(T, axis=0, return_counts=True)`` for H(T) plus per-class np.unique for H(T|Y) (as
  the reference study's code counts); one pass over the same bytes; and the ratios;
- wide: one wide layer's plane (conv feature maps: (70000, 1352) = MNIST conv1 26x26x2, and
  (70000, 256)) of uint8 codes, row-major and feature-major, all rows distinct and with
  duplicates, against np.unique and the memory-read floor;
- syn: the batched entry point on 50 seeds x 6 layers of the SYN net (layer computations / s).
With ``--baseline DIR`` (another checkout of qnet, e.g. ``git worktree add /tmp/base HEAD~1``),
the cases (table: the plane) are also timed with that checkout's qnet, in subprocesses interleaved
with subprocesses of this checkout, so that "before" and "after" share the machine's state.
Every ratio is measured in this run, each time is the best of repeated calls after a warm-up.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

HERE = Path(__file__).resolve().parent


@njit(cache=True)
def _sum_words(words):
    acc = np.uint64(0)
    for i in range(words.shape[0]):
        acc += words[i]
    return acc


def memory_floor(codes):
    """One pass over the bytes of ``codes``: a Numba sum over its uint64 view (any layout of a
    contiguous array: the bytes are read in memory order)."""
    base = codes if codes.flags.c_contiguous else codes.T
    flat = np.ascontiguousarray(base).reshape(-1).view(np.uint8)
    return _sum_words(flat[: flat.size - flat.size % 8].view(np.uint64))


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


# --- cases shared with the baseline subprocesses (public API only, old and new qnet alike) ---

def wide_case(n, d, duplicates, seed=0):
    """(codes, labels): uint8 codes in 0..3 (every row distinct at these widths), or rows drawn
    with replacement from n/2 distinct ones (~43% of rows repeat an earlier row); 10 classes."""
    rng = np.random.default_rng(seed)
    if duplicates:
        codes = rng.integers(0, 4, (n // 2, d)).astype(np.uint8)[rng.integers(0, n // 2, n)]
    else:
        codes = rng.integers(0, 4, (n, d)).astype(np.uint8)
    return codes, rng.integers(0, 10, n)


SYN_WIDTHS = [10, 7, 5, 4, 3, 2]


def syn_case(seeds=50, seed=0):
    """8-bit codes of the SYN net's 6 layers for 50 seeds, (S, n, D) row-major; binary labels."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (seeds, 4096, sum(SYN_WIDTHS))).astype(np.uint8)
    codes[:, :, 6:] //= 16  # deeper layers carry fewer distinct rows, as in a trained net
    return codes, rng.integers(0, 2, 4096)


def feature_major(stack):
    """The trainer's layout: an (S, n, D) view of a feature-major (S, D, n) array (or (n, d) of (d, n))."""
    axes = (0, 2, 1) if stack.ndim == 3 else (1, 0)
    return np.ascontiguousarray(stack.transpose(axes)).transpose(axes)


def time_case(case, reps):
    """Best time (s) of one benchmark case with whichever qnet is importable."""
    import qnet

    kind = case["kind"]
    if kind == "table":
        rng = np.random.default_rng(0)
        codes = rng.integers(-2, 2, (case["n"], case["d"])).astype(np.int8)
        labels = rng.integers(0, 2, case["n"])
        return best_time(lambda: qnet.layer_information(codes, labels), reps)
    if kind == "wide":
        codes, labels = wide_case(case["n"], case["d"], case["duplicates"])
        if case["layout"] == "feature-major":
            codes = feature_major(codes)
        return best_time(lambda: qnet.layer_information(codes, labels), reps)
    codes, labels = syn_case()
    if case["layout"] == "feature-major":
        codes = feature_major(codes)
    encoded = qnet.encode_labels(labels)
    return best_time(lambda: qnet.information_batch(codes, encoded, layer_widths=SYN_WIDTHS,
                                                    parallel=case["parallel"], chain=case["chain"]), reps)


def interleaved(cases, baseline, reps, rounds):
    """{case index: (best here, best in baseline)}: each round times every case in a fresh process
    of this checkout, then of the baseline checkout."""
    best = {i: [math.inf, math.inf] for i in range(len(cases))}
    for _ in range(rounds):
        for which, root in enumerate((HERE.parent, Path(baseline))):
            env = dict(os.environ, PYTHONPATH=str(root))
            script = (f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import bench_kernels as b; "
                      f"print(json.dumps([b.time_case(c, {reps}) for c in json.loads(sys.argv[1])]))")
            out = subprocess.run([sys.executable, "-c", script, json.dumps(cases)], env=env, cwd="/",
                                 capture_output=True, text=True, check=True).stdout
            for i, t in enumerate(json.loads(out.strip().splitlines()[-1])):
                best[i][which] = min(best[i][which], t)
    return best


def table(reps):
    import qnet

    rng = np.random.default_rng(0)
    print(f"{'(n, d)':>14} {'qnet H(T)':>11} {'qnet plane':>11} {'np.unique':>11} {'floor':>9} "
          f"{'unique/qnet':>12} {'qnet/floor':>11}")
    for n, d in TABLE_SIZES:
        codes = rng.integers(-2, 2, (n, d)).astype(np.int8)  # many duplicate rows at small d
        labels = rng.integers(0, 2, n)
        ref_h, ref_i = unique_information(codes, labels)
        assert abs(qnet.entropy(codes) - ref_h) < 1e-9 and abs(qnet.layer_information(codes, labels)[1] - ref_i) < 1e-9
        t_h = best_time(lambda: qnet.entropy(codes), reps)
        t_plane = best_time(lambda: qnet.layer_information(codes, labels), reps)
        t_unique = best_time(lambda: unique_information(codes, labels), 3 if d > 100 else 10)
        t_floor = best_time(lambda: memory_floor(codes), reps)
        print(f"{str((n, d)):>14} {t_h * 1e6:>9.0f}us {t_plane * 1e6:>9.0f}us {t_unique * 1e3:>9.2f}ms "
              f"{t_floor * 1e6:>7.0f}us {t_unique / t_plane:>11.0f}x {t_plane / t_floor:>10.1f}x")


TABLE_SIZES = [(4096, 12), (4096, 1), (70000, 20), (70000, 1024)]
TABLE_CASES = [dict(kind="table", n=n, d=d) for n, d in TABLE_SIZES]
WIDE_CASES = [dict(kind="wide", n=70000, d=d, duplicates=dup, layout=layout)
              for d in (1352, 256) for dup in (False, True) for layout in ("row-major", "feature-major")]
SYN_CASES = [dict(kind="syn", layout=layout, parallel=parallel, chain=chain)
             for layout, parallel, chain in [("row-major", False, False), ("row-major", True, False),
                                             ("feature-major", False, False), ("feature-major", True, False),
                                             ("feature-major", False, True)]]


def wide(reps, unique_reps):
    import qnet

    print(f"{'(n, d) uint8':>14} {'rows':>10} {'layout':>13} {'qnet plane':>11} {'np.unique':>10} "
          f"{'floor':>8} {'qnet/floor':>11} {'unique/qnet':>12}")
    for case in WIDE_CASES:
        codes, labels = wide_case(case["n"], case["d"], case["duplicates"])
        block = feature_major(codes) if case["layout"] == "feature-major" else codes
        plane = qnet.layer_information(block, labels)
        t_plane = best_time(lambda: qnet.layer_information(block, labels), reps)
        t_floor = best_time(lambda: memory_floor(block), reps)
        if unique_reps:
            ref = unique_information(block, labels)
            assert abs(plane[0] - ref[0]) < 1e-9 and abs(plane[1] - ref[1]) < 1e-9
            t_unique = best_time(lambda: unique_information(block, labels), unique_reps, budget=0)
            unique = f"{t_unique:>9.2f}s {t_unique / t_plane:>11.0f}x"
        else:
            unique = f"{'-':>10} {'-':>12}"
        rows = "duplicates" if case["duplicates"] else "distinct"
        print(f"{str((case['n'], case['d'])):>14} {rows:>10} {case['layout']:>13} {t_plane * 1e3:>9.2f}ms "
              f"{unique.split()[0] if unique_reps else '-':>10} {t_floor * 1e3:>6.2f}ms {t_plane / t_floor:>10.1f}x "
              f"{unique.split()[1] if unique_reps else '-':>12}")


def syn(reps):
    import qnet

    codes, labels = syn_case()
    encoded = qnet.encode_labels(labels)
    reference = qnet.information_batch(codes, encoded, layer_widths=SYN_WIDTHS)
    for case in SYN_CASES:
        stack = feature_major(codes) if case["layout"] == "feature-major" else codes
        run = lambda: qnet.information_batch(stack, encoded, layer_widths=SYN_WIDTHS,  # noqa: E731
                                             parallel=case["parallel"], chain=case["chain"])
        assert np.array_equal(run(), reference)
        t = best_time(run, reps)
        print(f"batched, 50 seeds x 6 layers, {case['layout']}, parallel={case['parallel']}, chain={case['chain']}: "
              f"{t * 1e3:.1f} ms per call = {300 / t:,.0f} layer computations / s")


def baseline_comparison(baseline, reps, rounds, section):
    cases = ((TABLE_CASES if section in ("table", "all") else []) + (WIDE_CASES if section in ("wide", "all") else [])
             + (SYN_CASES if section in ("syn", "all") else []))
    best = interleaved(cases, baseline, reps, rounds)
    print(f"\nthis checkout vs {baseline} (best of {rounds} interleaved processes x up to {reps} calls):")
    for i, case in enumerate(cases):
        label = ", ".join(f"{k}={v}" for k, v in case.items() if k != "kind")
        here, base = best[i]
        print(f"  {case['kind']} {label}: {here * 1e3:.2f} ms vs {base * 1e3:.2f} ms (baseline/this {base / here:.2f}x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, np.unique on wide rows skipped")
    parser.add_argument("--section", choices=["table", "wide", "syn", "all"], default="all")
    parser.add_argument("--baseline", help="another qnet checkout to time the same cases with")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved process rounds with --baseline")
    args = parser.parse_args()
    reps = 20 if args.quick else 200
    print(f"cores: {os.cpu_count()}; times are the best of up to {reps} calls")
    if args.section in ("table", "all"):
        table(reps)
    if args.section in ("wide", "all"):
        wide(max(5, reps // 10), 0 if args.quick else 2)
    if args.section in ("syn", "all"):
        syn(max(5, reps // 10))
    if args.baseline:
        baseline_comparison(args.baseline, max(5, reps // 10), args.rounds, args.section)


if __name__ == "__main__":
    main()
