"""``qnet sweep``, ``qnet compare`` and ``qnet reproduce``: studies of many runs."""

import sys
from pathlib import Path

from qnet.sweep.study import ENGINES


def _add_engine_options(parser):
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: this machine's cores; ray: one Ray task per run")
    parser.add_argument("--address", help="Ray cluster address (e.g. HEAD:6379 or auto; default: a local Ray)")
    parser.add_argument("--compilation-cache", metavar="DIR",
                        help="keep compiled programs here (default: $QNET_COMPILATION_CACHE, else ~/.cache/qnet/xla)")
    parser.add_argument("--no-compilation-cache", action="store_true", help="compile afresh and store nothing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cache_dir(args):
    from qnet import compilation_cache

    if args.no_compilation_cache:
        return None
    directory = Path(args.compilation_cache) if args.compilation_cache else compilation_cache.default_directory()
    return None if directory is None else str(directory.expanduser().resolve())


def _engine_options(args):
    if args.address and args.engine != "ray":
        raise ValueError("--address applies to --engine ray only")
    return dict(engine=args.engine, address=args.address, cache_dir=_cache_dir(args), progress=not args.no_progress)


def _report(result):
    for name, reason in sorted(result["failed"].items()):
        print(f"failed: {name}: {reason}", file=sys.stderr)
    line = f"{len(result['done'])} runs done, {len(result['skipped'])} already finished, {len(result['failed'])} failed"
    print(line, file=sys.stderr if result["failed"] else sys.stdout)
    return 1 if result["failed"] else 0


def _interruptible(run_sweep, plan, out, console=False, **options):
    """``run_sweep(plan, out, ...)`` (console: the process ends after it). On Ctrl-C or SIGTERM:
    one line and ``None``; finished runs are kept, the running ones have committed their
    finished epochs, and the same command resumes them."""
    from qnet.cli.commands import Interrupt

    interrupt = Interrupt()
    try:
        return run_sweep(plan, out, **options)
    except KeyboardInterrupt:
        print(f"\ninterrupted; finished runs are kept in {out} and the others resume where they stopped: "
              "run the same command again", file=sys.stderr)
        return None
    finally:
        interrupt.restore(exiting=interrupt.requested and console)


def sweep(args):
    from qnet.sweep import load_spec, run_sweep

    plan = load_spec(args.spec)
    result = _interruptible(run_sweep, plan, args.out, args.console, **_engine_options(args))
    if result is None:
        return 130
    if (Path(args.out) / "results.parquet").exists():
        print(f"table: {Path(args.out) / 'results.parquet'}")
    return _report(result)


def compare(args):
    from qnet.sweep.compare import compare as draw

    out = Path(args.out) if args.out else Path(args.paths[0])
    for path in draw(args.paths, out, by=args.by):
        print(path)
    return 0


def reproduce(args):
    from qnet.sweep import reproduce as study
    from qnet.sweep.compare import compare as draw
    from qnet.sweep.engines import cores
    from qnet.sweep.study import run_sweep

    epochs, seeds = (20, 2) if args.quick else (None, None)
    epochs = args.epochs if args.epochs is not None else epochs
    seeds = args.seeds if args.seeds is not None else seeds
    for name, value in (("--epochs", epochs), ("--seeds", seeds)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    plan = study.catalogue(args.study, epochs=epochs, seeds=seeds, data_dir=args.data_dir)
    workers = cores()  # on a Ray cluster: the estimate for this machine alone
    print(study.describe(plan, workers))
    if args.dry_run:
        return 0
    out = Path(args.out or f"runs/{args.study}" + ("-quick" if args.quick else ""))
    result = _interruptible(run_sweep, plan, out, args.console, **_engine_options(args))
    if result is None:
        return 130
    groups = {"quantized": [n for n, _, _ in plan if n in ("syn-tanh-8", "syn-relu-8", "syn-tanh-4", "syn-relu-4")],
              "prefit": [n for n, _, _ in plan if n.endswith("-prefit")],
              "mnist": [n for n, _, _ in plan if n.startswith("mnist-")]}
    for group, names in groups.items():
        ready = [out / n for n in names if (out / n / "manifest.json").exists()]
        if ready:
            for path in draw(ready, out / f"compare-{group}", by="activation" if group != "mnist" else None):
                print(path)
    table = study.summary_table(out, plan)
    (out / "summary.md").write_text(table + "\n")
    print(table)
    return _report(result)


def register(subparsers):
    import argparse

    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = subparsers.add_parser("sweep", help="run one run per combination of a TOML spec's [grid]", formatter_class=fmt)
    p.add_argument("spec", help="TOML file: [base] (qnet run options, dashes as underscores) and [grid] (lists)")
    p.add_argument("--out", required=True, help="sweep folder (re-run the same command to resume it)")
    _add_engine_options(p)
    p.set_defaults(func=sweep)

    p = subparsers.add_parser("compare", help="information planes and MI curves of several runs in one figure",
                              formatter_class=fmt)
    p.add_argument("paths", nargs="+", metavar="RUN_OR_SWEEP", help="run folders and sweep folders")
    p.add_argument("--by", metavar="FIELD", help="config field laid out as the columns (e.g. bits)")
    p.add_argument("--out", help="folder of the PNGs (default: the first folder given)")
    p.set_defaults(func=compare)

    p = subparsers.add_parser("reproduce", help="the reference study as one sweep, with figures and a summary table",
                              formatter_class=fmt)
    p.add_argument("study", choices=("lorenzen2022",))
    p.add_argument("--out", help="sweep folder (default: runs/STUDY, runs/STUDY-quick with --quick)")
    p.add_argument("--data-dir", help="folder of the MNIST IDX files (the MNIST nets are skipped without them)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and its cost only")
    p.add_argument("--quick", action="store_true", help="every run shortened to 20 epochs and 2 seeds")
    p.add_argument("--epochs", type=int, help="epochs of every run (overrides --quick)")
    p.add_argument("--seeds", type=int, help="seeds of every run (overrides --quick)")
    _add_engine_options(p)
    p.set_defaults(func=reproduce)
