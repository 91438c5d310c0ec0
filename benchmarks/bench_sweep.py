"""The local sweep engine against the same runs launched by hand, one after another.

Run: python benchmarks/bench_sweep.py [--epochs 200] [--seeds 4]

by hand   `python -m qnet run` of each run of a 2x2 grid (bits 4/8 x tanh/relu), one after the
          other, each with its default seed groups (one per core);
sweep     `python -m qnet sweep` of the same grid, --engine local (runs spread over the cores,
          one seed group each).
Each side gets a fresh compilation cache, so both compile every program once. The ratio is
measured in the same run; both sides use all cores (CPU time / wall time is printed).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = [(bits, act) for bits in (4, 8) for act in ("tanh", "relu")]


def _timed(commands, env):
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for command in commands:
        subprocess.run([sys.executable, "-m", "qnet", *command], check=True, env=env, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return time.perf_counter() - start, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    common = ["--preset", "quick", "--epochs", str(args.epochs), "--seeds", str(args.seeds), "--no-progress"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, QNET_COMPILATION_CACHE=str(tmp / "cache-hand"))
        by_hand = [[*common[:-1], "--bits", str(b), "--activation", a, "--out", str(tmp / "hand" / f"{a}-{b}"),
                    "--no-progress"] for b, a in GRID]
        hand_wall, hand_cpu = _timed([["run", *c] for c in by_hand], env)
        spec = tmp / "grid.toml"
        spec.write_text(f'[base]\npreset = "quick"\nepochs = {args.epochs}\nseeds = {args.seeds}\n'
                        '[grid]\nbits = [4, 8]\nactivation = ["tanh", "relu"]\n')
        env = dict(os.environ, QNET_COMPILATION_CACHE=str(tmp / "cache-sweep"))
        sweep_wall, sweep_cpu = _timed([["sweep", str(spec), "--out", str(tmp / "sweep"), "--no-progress"]], env)
    print(f"{len(GRID)} runs of {args.seeds} seeds x {args.epochs} epochs on {os.cpu_count()} cores")
    print(f"by hand, one after another: {hand_wall:7.1f} s wall, {hand_cpu:7.1f} s CPU ({hand_cpu / hand_wall:.2f} cores busy)")
    print(f"qnet sweep --engine local:  {sweep_wall:7.1f} s wall, {sweep_cpu:7.1f} s CPU ({sweep_cpu / sweep_wall:.2f} cores busy)")
    print(f"sweep / by hand wall time: {sweep_wall / hand_wall:.2f}")


if __name__ == "__main__":
    main()
