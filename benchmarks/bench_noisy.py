"""Exact information of noisy SYN-like layers, against deterministic counting of the same codes.

Run: python benchmarks/bench_noisy.py [--quick]
Layers: a random tanh net 12-10-7-5-w (Glorot-uniform weights, one net per seed) on the
4096 SYN inputs, activations quantized to 256 levels (codes 0..255); labels are SYN's.
Noise: uniform on -2..2 (|K| = 5 offsets) on every unit, T clipped to [0, 255].
Prints, per width w: distinct codes m, terms = sum_k |supp P(T|c_k)| (the exact path's
budget measure), |supp T|, the exact noisy (I(X;T), I(T;Y)) time per layer and for the 50
layers of one epoch of a 50-seed run (measured on 50 nets; --quick: 5 nets, scaled by 10),
and the ratio to ``qnet.layer_information`` of the same codes, timed in the same run.
Then where the exact path stops (default max_support) and what Monte Carlo costs there,
and a noisy chain 3 -> 2 through the net's own map. Times are wall-clock best-of-r; the
JIT is warmed up first. On a shared machine compare ratios, not absolute times.
"""

import argparse
import math
import os
import time

import numpy as np

import qnet
from qnet import information as I
from qnet.information.noisy import DEFAULT_MAX_SUPPORT

NOISE = I.Uniform(2)
LEVELS = 256


def syn_net(seed, widths):
    rng = np.random.default_rng(seed)
    layers, fan_in = [], 12
    for fan_out in widths:
        limit = math.sqrt(6 / (fan_in + fan_out))
        layers.append((rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)))
        fan_in = fan_out
    return layers


def quantize(h):
    return np.round((h + 1) / 2 * (LEVELS - 1)).astype(np.int64)


def dequantize(codes):
    return codes / (LEVELS - 1) * 2 - 1


def layer_codes(x, seed, width):
    h = x
    for w, b in syn_net(seed, (10, 7, 5, width)):
        h = np.tanh(h @ w + b)
    return quantize(h)


def best_time(f, repeats):
    f()
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and nets")
    args = parser.parse_args()
    reps, n_nets = (2, 5) if args.quick else (5, 50)
    data = qnet.load_dataset("syn")
    x, y = data.X.astype(np.float64), data.y
    print(f"cores: {os.cpu_count()}; n = {len(y)}, {LEVELS} levels, noise uniform -2..2 (|K| = 5), clip [0, 255]")
    print(f"{'width':>5} {'m':>5} {'terms':>10} {'|supp T|':>10} {'exact/layer':>12} {'50 layers':>10} "
          f"{'layer_information':>18} {'ratio':>7}  I(X;T), I(T;Y) bits")
    for width in (3, 4, 5):
        codes = layer_codes(x, 0, width)
        exact = lambda c=codes: I.noisy_information(c, y, NOISE, low=0, high=LEVELS - 1)
        info = exact()
        assert info.exact
        t_exact = best_time(exact, reps)
        t_base = best_time(lambda: qnet.layer_information(codes, y), 50)
        nets = [layer_codes(x, seed, width) for seed in range(n_nets)]
        start = time.perf_counter()
        for c in nets:
            I.noisy_layer_information(c, y, NOISE, low=0, high=LEVELS - 1)
        t_epoch = (time.perf_counter() - start) * 50 / n_nets
        print(f"{width:>5} {len(np.unique(codes, axis=0)):>5} {info.terms:>10} {info.support:>10} "
              f"{t_exact * 1e3:>10.1f}ms {t_epoch:>9.2f}s {t_base * 1e3:>16.3f}ms {t_exact / t_base:>6.0f}x  "
              f"{info.I_XT:.4f}, {info.I_TY:.4f}")

    print(f"\nwhere the exact path stops (max_support = {DEFAULT_MAX_SUPPORT} terms) and Monte Carlo there:")
    for width in (6, 7, 8):
        codes = layer_codes(x, 0, width)
        auto = I.noisy_information(codes, y, NOISE, low=0, high=LEVELS - 1, n_samples=100)
        line = f"  width {width}: terms {auto.terms:>10} -> {'exact' if auto.exact else 'Monte Carlo'}"
        for n_samples in (10_000, 100_000):
            mc = lambda c=codes, s=n_samples: I.noisy_information(c, y, NOISE, low=0, high=LEVELS - 1,
                                                                  method="monte_carlo", n_samples=s)
            est = mc()
            line += (f"; MC {n_samples:>6}: {best_time(mc, 1) * 1e3:.0f} ms, I(X;T) = {est.I_XT:.4f} "
                     f"± {est.stderr:.4f}")
        print(line)
    for width in (6, 7) if not args.quick else (6,):
        codes = layer_codes(x, 0, width)
        f = lambda c=codes: I.noisy_information(c, y, NOISE, low=0, high=LEVELS - 1, max_support=2**29,
                                                method="exact")
        info = f()
        print(f"  width {width} exact (max_support raised to 2**29): {best_time(f, 1):.1f} s, I(X;T) = {info.I_XT:.4f}, "
              f"|supp T| = {info.support}")

    # a noisy chain through the net's own map: T3 = clip(S3 + Z), T4 = clip(q(tanh(deq(T3) W + b)) + Z)
    net = syn_net(0, (10, 7, 5, 4, 3, 2))
    h = x
    for w, b in net[:5]:
        h = np.tanh(h @ w + b)
    s3 = quantize(h)
    w5, b5 = net[5]
    next_codes = lambda t: quantize(np.tanh(dequantize(t) @ w5 + b5))

    def chain():
        cond3 = I.noisy_conditionals(s3, NOISE, low=0, high=LEVELS - 1)
        cond4 = I.push_conditionals(cond3, next_codes, NOISE, low=0, high=LEVELS - 1)
        return cond3, cond4, I.conditional_information(cond3, y), I.conditional_information(cond4, y)

    cond3, cond4, i3, i4 = chain()
    print(f"\nnoisy chain 3 -> 2 (net 12-10-7-5-4-3-2, seed 0): rows {len(cond3.probs)} -> {len(cond4.probs)}, "
          f"{best_time(chain, reps) * 1e3:.0f} ms for both layers; I(X;T) {i3.I_XT:.4f} -> {i4.I_XT:.4f}, "
          f"I(T;Y) {i3.I_TY:.4f} -> {i4.I_TY:.4f} (deterministic: {qnet.layer_information(s3, y)[0]:.4f} -> "
          f"{qnet.layer_information(next_codes(s3), y)[0]:.4f})")


if __name__ == "__main__":
    main()
