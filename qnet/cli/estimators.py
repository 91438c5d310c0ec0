"""``qnet estimators``: benchmark MI estimators against the exact values.

    qnet estimators --list
    qnet estimators [--preset NAME | --config FILE] [run settings...] [--estimators NAME,...] [--bins N] ...
    qnet estimators RUN_DIR [--estimators NAME,...] [--bins N] ...

Given a RUN_DIR, the benchmark uses that run's config exactly: a run setting given with it
must agree with the run (one that contradicts it is refused), the probed epochs are epochs
the run recorded, the re-created network's exact values must equal the run's records at
them (else refused), and the results go into RUN_DIR/estimators/ (or --out).
"""

import argparse
from pathlib import Path

import numpy as np

from qnet import experiment
from qnet.cli.options import add_run_options, config_from_args, given_options, preset_names
from qnet.experiment.store import RunError

SETTING_FLAGS = {"bins": int, "sigma2": float, "k": int, "steps": int, "batch": int}


def _epochs(text):
    try:
        return [int(e) for e in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epochs like 1,10,100, got {text!r}") from None


def register(sub, cache_options=None):
    """Add the ``estimators`` subcommand to ``sub`` (argparse subparsers); cache_options(parser)
    adds the compilation-cache flags."""
    from qnet.estimators.benchmark import NEURAL_PROBES, PROBES, SEEDS
    from qnet.estimators.registry import SETTINGS

    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = sub.add_parser("estimators", help="benchmark MI estimators against the exact values", formatter_class=fmt)
    p.add_argument("run_dir", nargs="?", help="a run folder: benchmark that run's network, checked against its records")
    p.add_argument("--list", action="store_true", help="list the estimators and their settings, then exit")
    p.add_argument("--estimators", metavar="NAME[,NAME...]",
                   help="estimators by name (see --list; default: the classic default set)")
    for flag, kind in SETTING_FLAGS.items():
        p.add_argument("--" + flag, type=kind, help=f"{SETTINGS[flag][0]} (default: each estimator's own)")
    p.add_argument("--preset", choices=preset_names())
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--out", help="output folder (default: RUN_DIR/estimators, else runs/estimators-TIMESTAMP)")
    p.add_argument("--probes", type=int, default=PROBES, help="number of probed epochs (log-spaced; of a run's recorded ones)")
    p.add_argument("--probe-epochs", type=_epochs, metavar="E1,E2,...", help="the probed epochs themselves")
    p.add_argument("--neural-probes", type=int, default=NEURAL_PROBES,
                   help="how many of the probed epochs the neural estimators run at (0.4-7 s each, n = 4096, 2 cores)")
    p.add_argument("--bench-seeds", type=int, default=SEEDS, help="seeds benchmarked")
    p.add_argument("--no-progress", action="store_true")
    if cache_options is not None:
        cache_options(p)
    add_run_options(p)
    p.set_defaults(func=estimators)
    return p


def listing():
    """The text of ``--list``: one line per estimator name."""
    from qnet.estimators import registry

    return registry.describe(columns=True)


def contradictions(config, overrides):
    """The flags among ``overrides`` (flat config fields) whose value differs from ``config``'s."""
    base = config.flat()
    out = []
    for field, value in overrides.items():
        try:
            changed = config.replace(**{field: value}).flat()
        except (ValueError, TypeError) as err:
            out.append(f"{field} ({err})")
            continue
        if changed != base:
            diff = sorted(k for k in changed if changed[k] != base.get(k))
            out.append(f"--{field.replace('_', '-')} {value} (the run has "
                       + ", ".join(f"{k}={base.get(k)!r}" for k in diff) + ")")
    return out


def pick_recorded(recorded, count, chosen=None):
    """Probed epochs among a run's ``recorded`` epochs (E,): the ``chosen`` ones (each must be
    recorded, else ValueError), or ``count`` of them spread log-evenly, the last included."""
    recorded = np.asarray(recorded, np.int64)
    if recorded.size == 0:
        raise ValueError("the run has no recorded epochs yet")
    if chosen is not None:
        missing = sorted(set(chosen) - set(recorded.tolist()))
        if missing:
            raise ValueError(f"--probe-epochs {missing} were not recorded by the run (its mi_epochs schedule); "
                             f"it recorded {recorded.size} epochs in {recorded[0]}..{recorded[-1]}")
        return np.array(sorted(set(chosen)), np.int64)
    targets = np.geomspace(recorded[0], recorded[-1], min(count, recorded.size))
    picks = {int(recorded[np.argmin(np.abs(np.log(recorded) - np.log(t)))]) for t in targets}
    return np.array(sorted(picks | {int(recorded[-1])}), np.int64)


def _from_run(args):
    """(config, probes, reference, out) for a RUN_DIR."""
    if args.preset or args.config:
        raise ValueError(f"{args.run_dir} is benchmarked with its own config: --preset and --config do not apply")
    run_dir = Path(args.run_dir)
    records = experiment.load_records(run_dir)
    config = experiment.ExperimentConfig.from_json(records["config"])
    bad = contradictions(config, given_options(args))
    if bad:
        raise ValueError(f"{run_dir} is benchmarked with its own config; refused: {'; '.join(bad)}")
    probes = pick_recorded(records["epoch"], args.probes, args.probe_epochs)
    rows = np.searchsorted(records["epoch"], probes)
    reference = np.stack([records["I_XT"][:, rows], records["I_TY"][:, rows]], axis=-1)
    return config, probes, reference, Path(args.out) if args.out else run_dir / "estimators"


def estimators(args):
    from qnet.cli.commands import new_run_folder
    from qnet.estimators import benchmark, registry

    if args.list:
        print(listing())
        return 0
    if args.probes < 1 or args.bench_seeds < 1 or args.neural_probes < 1:
        raise ValueError(f"--probes, --bench-seeds and --neural-probes must be >= 1, got {args.probes}, "
                         f"{args.bench_seeds} and {args.neural_probes}")
    settings = {flag: getattr(args, flag) for flag in SETTING_FLAGS}
    if args.estimators:
        chosen = registry.parse(args.estimators, **settings)
    elif any(v is not None for v in settings.values()):
        raise ValueError("--bins, --sigma2, --k, --steps and --batch set the estimators of --estimators; give it too")
    else:
        chosen = registry.default_estimators()
    if args.run_dir:
        config, probes, reference, out = _from_run(args)
    else:
        config = config_from_args(args)
        probes = args.probe_epochs if args.probe_epochs else args.probes
        reference, out = None, Path(args.out) if args.out else new_run_folder("estimators")
    neural = [e.name for e in chosen if benchmark.is_neural(e)]
    written = benchmark.run_benchmark(config, out, chosen, probes=probes, seeds=args.bench_seeds,
                                      progress=not args.no_progress, neural_probes=args.neural_probes,
                                      reference=reference, title=str(args.run_dir or out), run_dir=args.run_dir)
    print((out / "estimators.md").read_text())
    if neural:
        print(f"neural estimators ({', '.join(neural)}) ran at {args.neural_probes} of the probed epochs "
              "(--neural-probes): 0.4-7 s per estimate at n = 4096 on 2 cores")
    if reference is not None:
        print(f"the re-created network's exact values equal {args.run_dir}'s records at every probed epoch")
    print("written: " + ", ".join(str(p) for p in written))
    return 0


__all__ = ["RunError", "contradictions", "estimators", "listing", "pick_recorded", "register"]
