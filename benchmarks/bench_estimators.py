"""The estimator benchmark of the README: exact vs every estimator family on syn-tanh-8 and syn-relu-8.

    python benchmarks/bench_estimators.py run --preset syn-tanh-8 --families classic
    python benchmarks/bench_estimators.py run --preset syn-tanh-8 --families neural
    python benchmarks/bench_estimators.py report

``run`` benchmarks one preset (its first ``--seeds`` seeds, ``--probes`` log-spaced epochs; the
neural estimators at 3 of them) into benchmarks/results/PRESET-FAMILIES/ (estimators.npz, the
tables and the figure; wall time in seconds.txt). ``report`` merges each preset's families
into one table and figure (benchmarks/results/PRESET-all/, drawn from the npz files with the
current code) and writes benchmarks/estimators_results.md and docs/PRESET-estimators.png.
"""

import argparse
import shutil
import time
from pathlib import Path

from qnet import experiment, io
from qnet.estimators import benchmark, registry

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DOCS = ROOT.parent / "docs"


FAMILIES = ("classic", "neural")


def _estimators(families, steps, batch):
    if families == "classic":
        return registry.default_estimators()
    if families == "neural":
        return registry.parse("mine,nwj,infonce", steps=steps, batch=batch)
    raise ValueError(f"--families must be one of {', '.join(FAMILIES)}, got {families!r}")


def run(args):
    config = experiment.preset(args.preset)
    out = RESULTS / f"{args.preset}-{args.families}"
    start = time.perf_counter()
    benchmark.run_benchmark(config, out, _estimators(args.families, args.steps, args.batch), probes=args.probes,
                            seeds=args.seeds, progress=not args.no_progress, title=f"{args.preset}, {args.families}",
                            float_net=not args.no_float)
    wall = time.perf_counter() - start
    io.save_text(out / "seconds.txt", f"{wall:.0f}\n")
    print(f"{out}: {wall:.0f} s wall")


def report(args):
    """Per preset, the results of its families (classic, then neural) merged into one table and
    one figure (benchmarks/results/PRESET-all/, docs/PRESET-estimators.png)."""
    parts = ["# Estimator benchmark results", "",
             "Made by `python benchmarks/bench_estimators.py` (see its docstring) on a 2-core machine; seconds "
             "are wall-clock there. The classic and neural families of a preset are benchmarked apart (same "
             "network, seeds and probed epochs: the exact values agree) and merged into one table. Every value "
             "but the exact one is an estimate.", ""]
    presets = sorted({p.name.rsplit("-", 1)[0] for p in RESULTS.iterdir() if (p / "estimators.npz").exists()})
    for preset in presets:
        folders = [RESULTS / f"{preset}-{f}" for f in FAMILIES]
        folders = [f for f in folders if (f / "estimators.npz").exists()]
        merged = benchmark.merge_results(*(io.load_npz(f / "estimators.npz") for f in folders))
        out = RESULTS / f"{preset}-all"
        families = " and ".join(f.name.rsplit("-", 1)[1] for f in folders)
        benchmark.write_reports(out, merged, title=f"{preset}: {families} families")
        walls = [f"{f.name.rsplit('-', 1)[1]} {(f / 'seconds.txt').read_text().strip()} s"
                 for f in folders if (f / "seconds.txt").exists()]
        parts += [(out / "estimators.md").read_text(), "",
                  "Wall time of each benchmark (training both nets, every estimate): " + ", ".join(walls) + ".", ""]
        shutil.copyfile(out / "estimators_plane.png", DOCS / f"{preset}-estimators.png")
    io.save_text(ROOT / "estimators_results.md", "\n".join(parts))
    print(ROOT / "estimators_results.md")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--preset", required=True)
    r.add_argument("--families", default="classic", help="classic (binning, KDE, KSG family) or neural")
    r.add_argument("--probes", type=int, default=8)
    r.add_argument("--seeds", type=int, default=2)
    r.add_argument("--steps", type=int, default=None, help="neural: training steps (default: the estimator's)")
    r.add_argument("--batch", type=int, default=None, help="neural: batch size (default: the estimator's)")
    r.add_argument("--no-float", action="store_true", help="the quantized net only (no float net)")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=run)
    sub.add_parser("report").set_defaults(func=report)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
