"""All figures of a run folder, written into it (used by the runner and by ``qnet plot``)."""

from pathlib import Path

import matplotlib.pyplot as plt

from qnet import io
from qnet.plots.animation import FRAMES, animate_plane, mp4_available
from qnet.plots.curves import accuracy, information_vs_epoch
from qnet.plots.plane import information_plane
from qnet.plots.style import alive

FORMATS = ("png", "pdf", "svg")
FIGURES = ("information_plane", "mi_epochs", "accuracy")


def parse_formats(formats, where="formats"):
    """``"png"``, ``"png,pdf"`` or a list of those -> a tuple of distinct formats, in order."""
    items = [formats] if isinstance(formats, str) else list(formats)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{where}: expected format names (png, pdf, svg), got {item!r}")
        for name in item.split(","):
            name = name.strip().lower()
            if name not in FORMATS:
                raise ValueError(f"{where}: expected {', '.join(FORMATS)}, got {name!r}")
            if name not in out:
                out.append(name)
    if not out:
        raise ValueError(f"{where}: give at least one of {', '.join(FORMATS)}")
    return tuple(out)


def plot_run(run_dir, records=None, show_seeds=False, formats=("png",), animate=False, frames=FRAMES,
             spacing="log", progress=False):
    """Write information_plane, mi_epochs and accuracy in each of ``formats`` into ``run_dir``;
    with ``animate`` also information_plane.gif (and .mp4 where ffmpeg is available) with at most
    ``frames`` frames (``spacing`` log or linear). Returns the paths written."""
    run_dir = Path(run_dir)
    formats = parse_formats(formats)
    if records is None:
        from qnet.experiment.store import load_records

        records = load_records(run_dir)
    if len(records["epoch"]) == 0:
        raise ValueError(f"{run_dir} has no finished recorded epoch yet: nothing to plot")
    if not alive(records).any():
        raise ValueError(f"{run_dir}: every seed diverged (see the records' diverged_epoch): nothing to plot")
    if animate and len(records["epoch"]) < 2:
        raise ValueError(f"{run_dir}: an animation needs 2 or more recorded epochs, the run has {len(records['epoch'])}")
    drawers = {"information_plane": lambda: information_plane(records, show_seeds=show_seeds),
               "mi_epochs": lambda: information_vs_epoch(records, show_seeds=show_seeds),
               "accuracy": lambda: accuracy(records, show_seeds=show_seeds)}
    paths = []
    for name in FIGURES:
        fig = drawers[name]()
        try:
            for fmt in formats:
                io.save_figure(fig, run_dir / f"{name}.{fmt}")
                paths.append(run_dir / f"{name}.{fmt}")
        finally:
            plt.close(fig)
    if animate:
        for suffix in (".gif", ".mp4") if mp4_available() else (".gif",):
            path, _ = animate_plane(records, run_dir / f"information_plane{suffix}", frames=frames, spacing=spacing,
                                    show_seeds=show_seeds, progress=progress)
            paths.append(path)
    return paths
