"""The information plane as a movie over the epochs (as in Shwartz-Ziv & Tishby's videos).

Frames are a subsample of the recorded epochs (log-spaced by default: the fitting phase is in the
first few percent of the epochs), at most ``frames`` of them, each showing its epoch. One figure
with a fixed set of artists is redrawn for every frame (its trails, through at most ``TRAIL``
log-spaced epochs, are updated in place), so the cost of a run of 8000 epochs is the cost of its
frames: memory is the frames' pixels held by the writer (about width x height x 4 bytes each),
time is one draw per frame.
"""

import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FFMpegWriter, PillowWriter
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from qnet.plots import captions
from qnet.plots.plane import draw_bounds, epoch_norm, seed_means, set_limits
from qnet.plots.style import MARKERS, SEED_TRACE, alive, layer_label

FRAMES = 120  # the default number of frames
TRAIL = 1000  # most epochs a trail passes through (log-spaced; the drawn frame's own epoch always)
FPS = 12
SPACINGS = ("log", "linear")


def frame_epochs(epochs, frames=FRAMES, spacing="log"):
    """Indices into ``epochs`` (E,) of the frames: ``min(frames, E)`` distinct indices, increasing,
    the first and last epoch always included, spaced evenly in log(epoch) (``"log"``) or in epoch
    (``"linear"``) as far as the recorded epochs allow."""
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 2:
        raise ValueError(f"frames must be an integer >= 2, got {frames!r}")
    if spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    epochs = np.asarray(epochs, float)
    count = min(int(frames), len(epochs))
    if count == len(epochs):
        return np.arange(count)
    first, last = max(epochs[0], 1.0), max(epochs[-1], 1.0)
    targets = np.geomspace(first, last, count) if spacing == "log" else np.linspace(first, last, count)
    above = np.clip(np.searchsorted(epochs, targets), 1, len(epochs) - 1)
    idx = np.where(epochs[above] - targets < targets - epochs[above - 1], above, above - 1)  # the nearest
    idx[0], idx[-1] = 0, len(epochs) - 1
    for i in range(1, count):  # strictly increasing ...
        idx[i] = max(idx[i], idx[i - 1] + 1)
    for i in range(count - 2, -1, -1):  # ... and leaving room for the frames after
        idx[i] = min(idx[i], idx[i + 1] - 1)
    return idx


def mp4_available():
    """Whether matplotlib finds an ffmpeg to write MP4 with."""
    return FFMpegWriter.isAvailable()


def animate_plane(records, path, frames=FRAMES, spacing="log", fps=FPS, dpi=100, show_seeds=False, cmap="viridis",
                  progress=False):
    """Write the information plane over the epochs to ``path`` (.gif with Pillow, .mp4 with ffmpeg).

    Each frame shows every layer's mean over the drawn seeds up to that epoch as a trail coloured
    by epoch, its current point marked, and the epoch written on it; with ``show_seeds`` each
    seed's current point too. Returns ``(path, frame epochs)``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"the animation is written as .gif or .mp4, got {path.name}")
    if suffix == ".mp4" and not mp4_available():
        raise ValueError("writing MP4 needs ffmpeg on the PATH (matplotlib's FFMpegWriter); write a .gif instead")
    epochs, x, y = seed_means(records)
    if len(epochs) < 2:
        raise ValueError(f"an animation needs 2 or more recorded epochs, the run has {len(epochs)}")
    chosen = frame_epochs(epochs, frames, spacing)
    norm = epoch_norm(epochs)
    colours = matplotlib.colormaps[cmap](norm(np.asarray(epochs, float)))
    keep = np.nonzero(alive(records))[0]

    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=dpi, layout="constrained")
    draw_bounds(ax, records)
    set_limits(ax, records)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="epoch")
    trails, heads, seeds = [], [], []
    for layer in range(x.shape[1]):
        trail = LineCollection([], lw=1.5, zorder=2)
        ax.add_collection(trail)
        trails.append(trail)
        # earlier layers drawn larger and below: layers at the same point show as nested markers
        head, = ax.plot([], [], MARKERS[layer % len(MARKERS)], ms=5 + 2 * (x.shape[1] - layer), mec="k", mew=0.6,
                        zorder=4 + layer)
        heads.append(head)
        if show_seeds:
            dots, = ax.plot([], [], ".", ms=2, color=SEED_TRACE["color"], zorder=1)
            seeds.append(dots)
    ax.legend(handles=[Line2D([], [], ls="", marker=MARKERS[layer % len(MARKERS)], mfc="w", mec="k",
                              label=layer_label(records, layer)) for layer in range(x.shape[1])],
              loc="center left", fontsize=6, title="same point: nested markers", title_fontsize=6)
    ax.set_title(captions.wrapped(captions.caption(records, band="mean over seeds"), 90), fontsize=6.5, loc="left",
                 pad=12)
    stamp = ax.text(0.98, 0.03, "", transform=ax.transAxes, ha="right", fontsize=10, weight="bold")
    points = np.stack([x, y], axis=-1)  # (E, L, 2)
    through = np.unique(np.round(np.geomspace(1, len(epochs), min(TRAIL, len(epochs))) - 1).astype(int))

    def draw(i):
        rows = np.append(through[through < i], i)
        for layer, (trail, head) in enumerate(zip(trails, heads)):
            p = points[rows, layer]
            trail.set_segments(np.stack([p[:-1], p[1:]], axis=1) if len(rows) > 1 else [])
            trail.set_color(colours[rows[1:]])
            head.set_data(p[-1:, 0], p[-1:, 1])
            head.set_color(colours[i])
            head.set_markeredgecolor("k")
            if show_seeds:
                seeds[layer].set_data(records["I_XT"][keep, i, layer], records["I_TY"][keep, i, layer])
        stamp.set_text(f"epoch {int(epochs[i])}")
        return trails + heads + seeds + [stamp]

    writer = PillowWriter(fps=fps) if suffix == ".gif" else FFMpegWriter(fps=fps)
    fig.canvas.draw()  # lay the figure out once, then keep that layout for every frame (a layout per frame doubles the time)
    fig.set_layout_engine("none")
    tmp = path.with_name(f".{path.stem}.partial{suffix}")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(chosen), desc=f"animation {path.name}", unit="frame")
    try:
        with writer.saving(fig, tmp, dpi):  # one draw per frame, as grab_frame renders it
            for i in chosen:
                draw(int(i))
                writer.grab_frame()
                if bar is not None:
                    bar.update(1)
        os.replace(tmp, path)
    finally:
        if bar is not None:
            bar.close()
        if tmp.exists():
            tmp.unlink()
        plt.close(fig)
    return path, epochs[chosen]
