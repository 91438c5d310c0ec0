"""The ``qnet`` command line: it parses arguments into configs and calls the library.

    qnet run [--preset NAME | --config FILE.json] [settings...] [--out DIR]
    qnet run --resume DIR [--epochs N]
    qnet plot DIR [--seeds] [--format png|pdf|svg] [--animate] [--frames N]   (qnet/cli/plot.py)
    qnet estimators [RUN_DIR] [--estimators NAME,...] [--list] ...   (qnet/cli/estimators.py)
    qnet presets [NAME]
    qnet sweep SPEC.toml --out DIR [--engine local|ray] / qnet compare RUN_OR_SWEEP... / qnet reproduce lorenzen2022

Every failure is one line on stderr naming the argument or file, and a non-zero exit code.
``run`` and ``estimators`` keep compiled programs on disk (see :mod:`qnet.compilation_cache`).
"""

import argparse
import os
import sys

from qnet.cli import commands, estimators
from qnet.cli import sweep as sweep_commands
from qnet.cli.options import add_run_options, preset_names


class _Parser(argparse.ArgumentParser):
    """argparse, with errors as one line (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_cache_options(parser):
    parser.add_argument("--compilation-cache", metavar="DIR",
                        help="keep compiled programs here between runs (default: $QNET_COMPILATION_CACHE, "
                             "else ~/.cache/qnet/xla; QNET_COMPILATION_CACHE=off turns it off)")
    parser.add_argument("--no-compilation-cache", action="store_true", help="compile afresh and store nothing")


def _seconds(text):
    """A finite, non-negative number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0.0 <= value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text!r}")
    return value


def build_parser():
    from qnet import __version__

    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = _Parser(prog="qnet", description="Exact information planes of quantized neural networks.")
    parser.add_argument("--version", action="version", version=f"qnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="train quantized nets and compute their exact information plane", formatter_class=fmt)
    run.add_argument("--preset", choices=preset_names(), help="starting configuration (default: quick; see qnet presets)")
    run.add_argument("--config", metavar="FILE", help="starting configuration from a JSON file (a run's config.json, "
                                                      "or only the fields that differ from the defaults)")
    run.add_argument("--out", help="run folder (default: runs/PRESET-TIMESTAMP, made unique)")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue a run (add --epochs N to extend a finished one)")
    run.add_argument("--checkpoint-every", type=_seconds, default=30.0, metavar="SECONDS",
                     help="commit finished epochs at least this often (and after the first)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_cache_options(run)
    add_run_options(run)
    run.set_defaults(func=commands.run)

    from qnet.cli import plot  # imports matplotlib: only when the command line is built

    plot.register(sub)

    estimators.register(sub, _add_cache_options)

    presets = sub.add_parser("presets", help="list the presets with every setting", formatter_class=fmt)
    presets.add_argument("name", nargs="?", metavar="NAME", default=argparse.SUPPRESS,
                         help="show this preset only (default: all)")
    presets.set_defaults(func=commands.presets)
    sweep_commands.register(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.console = argv is None  # the process's own command line (it ends when main returns)
    if not getattr(args, "no_compilation_cache", True):  # only commands that train have the option
        from qnet import compilation_cache

        compilation_cache.enable(args.compilation_cache)
    import matplotlib

    matplotlib.use("Agg")  # the command line draws into files; the library leaves the backend alone
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. qnet presets | head -1
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except commands.EXPECTED as err:
        print(f"qnet: error: {commands.one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run's or a sweep's own handling (which say what is saved)
        print("\nqnet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
