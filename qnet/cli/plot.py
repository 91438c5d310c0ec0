"""``qnet plot RUN_DIR``: redraw the figures of a run folder (formats, per-seed traces, the movie)."""

import argparse

from qnet.plots.animation import FRAMES, SPACINGS
from qnet.plots.run import FORMATS


def register(sub):
    """Add the ``plot`` subcommand to ``sub`` (argparse subparsers)."""
    plot = sub.add_parser("plot", help="redraw the figures of a run folder",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    plot.add_argument("run_dir", help="a run folder (qnet run --out)")
    plot.add_argument("--seeds", action="store_true", help="draw every seed's trace too, in every figure")
    plot.add_argument("--format", action="append", metavar="FMT", dest="formats", default=argparse.SUPPRESS,
                      help=f"figure format: {', '.join(FORMATS)} (repeat, or a comma list like png,pdf; "
                           "default: png)")
    plot.add_argument("--animate", action="store_true",
                      help="also write information_plane.gif (and .mp4 where ffmpeg is found): the plane over epochs")
    plot.add_argument("--frames", type=int, default=FRAMES, help="most frames of the animation (>= 2)")
    plot.add_argument("--spacing", choices=SPACINGS, default="log", help="how the animation's epochs are spaced")
    plot.add_argument("--no-progress", action="store_true", help="no progress bar while animating")
    plot.set_defaults(func=plot_command)
    return plot


def plot_command(args):
    from qnet import plots

    if args.frames < 2:
        raise ValueError(f"--frames must be >= 2, got {args.frames}")
    formats = plots.parse_formats(getattr(args, "formats", ["png"]), "--format")
    for path in plots.plot_run(args.run_dir, show_seeds=args.seeds, formats=formats, animate=args.animate,
                               frames=args.frames, spacing=args.spacing, progress=not args.no_progress):
        print(path)
    return 0
