"""The ``qnet`` command line: it only parses arguments into configs and calls the library.

    qnet run [--preset NAME] [--epochs N] [--seeds N] ... [--out DIR]
    qnet run --resume DIR
    qnet plot DIR
    qnet estimators [RUN_DIR] [--probes N] [--bench-seeds N]
    qnet presets

``run`` and ``estimators`` keep compiled programs on disk (see :mod:`qnet.compilation_cache`).
"""

import argparse
import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path

from qnet import compilation_cache, experiment


def _optional_int(text):
    return None if text.lower() in ("none", "float", "full") else int(text)


_OVERRIDES = {
    "dataset": dict(type=str, help="syn, digits, mnist or mat"),
    "data_dir": dict(type=str, help="directory of the MNIST IDX files (dataset mnist)"),
    "data_path": dict(type=str, help="path of a .mat file (dataset mat)"),
    "widths": dict(type=lambda s: tuple(int(w) for w in s.split("-")), help="layer widths, e.g. 12-10-7-5-4-3-2"),
    "activation": dict(type=str, help="tanh, relu, sigmoid, hardtanh or linear"),
    "bits": dict(type=_optional_int, help="activation bits (2..16)"),
    "weight_bits": dict(type=_optional_int, help="weight bits (2..16) or 'none' for float weights"),
    "activation_range": dict(type=str, help="auto, fixed, moving or batch"),
    "init": dict(type=str, help="truncated_normal or glorot_uniform"),
    "epochs": dict(type=int, help="training epochs"),
    "seeds": dict(type=int, help="number of seeds trained together"),
    "seed": dict(type=int, help="first seed"),
    "batch_size": dict(type=_optional_int, help="minibatch size or 'full'"),
    "learning_rate": dict(type=float, help="learning rate"),
    "optimizer": dict(type=str, help="adam, sgd or rmsprop"),
    "eval_set": dict(type=str, help="inputs whose codes are counted: all, train or test"),
    "mi_every": dict(type=int, help="compute the information plane every N epochs (default 1)"),
    "test_fraction": dict(type=float, help="test share of the stratified split"),
}


def _config_from_args(args):
    overrides = {k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None}
    options = {}
    if "data_dir" in overrides:
        options["directory"] = overrides.pop("data_dir")
    if "data_path" in overrides:
        options["path"] = overrides.pop("data_path")
    if options:
        overrides["dataset_options"] = options
    return experiment.preset(args.preset, **overrides)


def _run(args):
    experiment.sigterm_as_keyboard_interrupt()
    if args.resume:
        run_dir = Path(args.resume)
        config = None
    else:
        config = _config_from_args(args)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = Path(args.out) if args.out else Path("runs") / f"{args.preset}-{stamp}"
        print(f"run directory: {run_dir}")
    try:
        records = experiment.run(config, run_dir, resume=bool(args.resume), progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished epochs are saved. Continue with: qnet run --resume {run_dir}", file=sys.stderr)
        return 130
    print(experiment.summary(records))
    print(f"figures: {run_dir / 'information_plane.png'}, {run_dir / 'mi_epochs.png'}, {run_dir / 'accuracy.png'}")
    return 0


def _plot(args):
    from qnet import plots

    for path in plots.plot_run(args.run_dir, show_seeds=args.seeds):
        print(path)
    return 0


def _estimators(args):
    from qnet.estimators import benchmark as estimator_benchmark

    if args.run_dir:
        config = experiment.ExperimentConfig.from_json(json.loads((Path(args.run_dir) / "config.json").read_text()))
    else:
        config = _config_from_args(args)
    out = Path(args.out or args.run_dir or Path("runs") / f"estimators-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    estimator_benchmark.run_benchmark(config, out, probes=args.probes, seeds=args.bench_seeds, progress=not args.no_progress)
    print((out / "estimators.md").read_text())
    print(f"written: {out / 'estimators.csv'}, {out / 'estimators_plane.png'}")
    return 0


def _presets(args):
    for name in experiment.PRESETS:
        config = experiment.preset(name)
        print(f"{name}:")
        print("  " + json.dumps({k: v for k, v in dataclasses.asdict(config).items() if v}, sort_keys=True))
    return 0


def _add_cache_options(parser):
    parser.add_argument("--compilation-cache", metavar="DIR",
                        help="keep compiled programs here between runs (default: $QNET_COMPILATION_CACHE, "
                             "else ~/.cache/qnet/xla; QNET_COMPILATION_CACHE=off turns it off)")
    parser.add_argument("--no-compilation-cache", action="store_true", help="compile afresh and store nothing")


def build_parser():
    parser = argparse.ArgumentParser(prog="qnet", description="Exact information planes of quantized neural networks.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train quantized nets and compute their exact information plane")
    run.add_argument("--preset", default="quick", choices=sorted(experiment.PRESETS), help="starting configuration (default: quick)")
    run.add_argument("--out", help="run directory (default: runs/PRESET-TIMESTAMP)")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_cache_options(run)
    for name, spec in _OVERRIDES.items():
        run.add_argument("--" + name.replace("_", "-"), dest=name, **spec)
    run.set_defaults(func=_run)
    plot = sub.add_parser("plot", help="redraw the figures of a run directory")
    plot.add_argument("run_dir")
    plot.add_argument("--seeds", action="store_true", help="draw the individual seeds too")
    plot.set_defaults(func=_plot)
    bench = sub.add_parser("estimators", help="benchmark binning/KDE/KSG estimators against the exact values")
    bench.add_argument("run_dir", nargs="?", help="a run directory whose config is benchmarked (retrained)")
    bench.add_argument("--preset", default="quick", choices=sorted(experiment.PRESETS))
    bench.add_argument("--out", help="output directory (default: the run directory)")
    bench.add_argument("--probes", type=int, default=8, help="number of probed epochs (log-spaced)")
    bench.add_argument("--bench-seeds", type=int, default=2, help="seeds benchmarked")
    bench.add_argument("--no-progress", action="store_true")
    _add_cache_options(bench)
    for name, spec in _OVERRIDES.items():
        bench.add_argument("--" + name.replace("_", "-"), dest=name, **spec)
    bench.set_defaults(func=_estimators)
    presets = sub.add_parser("presets", help="list the presets")
    presets.set_defaults(func=_presets)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if not getattr(args, "no_compilation_cache", True):  # only commands that train have the option
        compilation_cache.enable(args.compilation_cache)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as err:
        print(f"qnet: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
