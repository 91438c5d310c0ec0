"""Figures of a run, in the look of the information-bottleneck literature (matplotlib, PNG).

All functions take the records dict of :func:`qnet.experiment.run` (or
:func:`qnet.experiment.load_records`); information axes are in bits.
"""

import math
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from qnet import io

MARKERS = "osD^v<>ph*"


def _done(records):
    """Row mask of the recorded epochs (all finished: records hold finished epochs only)."""
    return np.ones(len(records["epoch"]), bool)


def _alive(records):
    """Seed mask of the seeds that never diverged (diverged seeds are left out of the figures)."""
    return np.asarray(records.get("diverged_epoch", np.zeros(len(records["seeds"]), np.int64))) == 0


def diverged_note(records):
    gone = [(int(s), int(e)) for s, e in zip(records["seeds"], records.get("diverged_epoch", ())) if e]
    if not gone:
        return ""
    return "; left out (diverged): " + ", ".join(f"seed {s} at epoch {e}" for s, e in gone)


def _layer_label(records, layer):
    names = records.get("layer_names")
    name = str(names[layer]) if names is not None else f"layer {layer + 1}"
    return f"{name} ({int(records['layer_widths'][layer])})"


def information_plane(records, ax=None, show_seeds=False, cmap="viridis", title=None):
    """I(X;T) against I(T;Y) for every layer: the mean over seeds as a trajectory coloured by epoch.

    Draws log2(n) (vertical) and H(Y) (horizontal) as dashed upper bounds.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
    fig = ax.figure
    rows = _done(records)
    epochs = records["epoch"][rows]
    alive = _alive(records)
    ixt, ity = records["I_XT"][alive][:, rows], records["I_TY"][alive][:, rows]
    norm = matplotlib.colors.LogNorm(max(epochs.min(), 1), max(epochs.max(), 2))
    n_layers = ixt.shape[2]
    for layer in range(n_layers):
        if show_seeds:
            for s in range(ixt.shape[0]):
                ax.plot(ixt[s, :, layer], ity[s, :, layer], color="0.6", lw=0.3, alpha=0.4, zorder=1)
        x, y = np.nanmean(ixt[:, :, layer], axis=0), np.nanmean(ity[:, :, layer], axis=0)
        points = np.stack([x, y], axis=1)[:, None, :]
        lines = LineCollection(np.concatenate([points[:-1], points[1:]], axis=1), cmap=cmap, norm=norm, lw=1.5, zorder=2)
        lines.set_array(epochs[1:])
        ax.add_collection(lines)
        ax.scatter(x[[0, -1]], y[[0, -1]], c=epochs[[0, -1]], cmap=cmap, norm=norm, marker=MARKERS[layer % len(MARKERS)],
                   s=36, edgecolor="k", lw=0.5, zorder=3, label=f"{_layer_label(records, layer)}")
    log2n, h_y = math.log2(int(records["n_eval"])), float(records["H_Y"])
    ax.axvline(log2n, ls="--", color="0.4", lw=0.8)
    ax.axhline(h_y, ls="--", color="0.4", lw=0.8)
    ax.text(log2n, 0.5 * h_y, r"$\log_2 n$ ", color="0.3", ha="right", va="center", rotation=90)
    ax.text(0.0, h_y, "H(Y)", color="0.3", va="bottom")
    ax.set_xlim(-0.2, log2n * 1.04)
    ax.set_ylim(min(0.0, np.nanmin(ity) - 0.02) if np.isfinite(ity).any() else 0.0, h_y * 1.06)
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("I(T;Y) [bits]")
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="epoch")
    ax.legend(loc="center left", fontsize=7, title="start / end", title_fontsize=7)
    if title:
        ax.set_title(title)
    return fig


def information_vs_epoch(records):
    """I(X;T) and I(T;Y) of every layer against epoch (mean over seeds, band = min..max)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    rows = _done(records)
    epochs = records["epoch"][rows]
    for ax, key, label in zip(axes, ("I_XT", "I_TY"), ("I(X;T) [bits]", "I(T;Y) [bits]")):
        values = records[key][_alive(records)][:, rows]
        for layer in range(values.shape[2]):
            v = values[:, :, layer]
            line, = ax.plot(epochs, np.nanmean(v, axis=0), lw=1.2, label=_layer_label(records, layer))
            if v.shape[0] > 1:
                ax.fill_between(epochs, np.nanmin(v, axis=0), np.nanmax(v, axis=0), color=line.get_color(), alpha=0.15, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
    axes[0].axhline(math.log2(int(records["n_eval"])), ls="--", color="0.4", lw=0.8)
    axes[1].axhline(float(records["H_Y"]), ls="--", color="0.4", lw=0.8)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def accuracy(records):
    """Train and test accuracy against epoch (mean over seeds, band = min..max)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = _done(records)
    epochs = records["epoch"][rows]
    for key in ("train_accuracy", "test_accuracy"):
        v = records[key][_alive(records)][:, rows]
        line, = ax.plot(epochs, np.nanmean(v, axis=0), label=key.replace("_", " "))
        ax.fill_between(epochs, np.nanmin(v, axis=0), np.nanmax(v, axis=0), color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    return fig


def plot_run(run_dir, records=None, show_seeds=False):
    """Write information_plane.png, mi_epochs.png and accuracy.png into ``run_dir``; return their paths."""
    run_dir = Path(run_dir)
    if records is None:
        from qnet.experiment.store import load_records

        records = load_records(run_dir)
    if len(records["epoch"]) == 0:
        raise ValueError(f"{run_dir} has no finished recorded epoch yet: nothing to plot")
    n_alive = int(_alive(records).sum())
    figures = {
        "information_plane.png": information_plane(records, show_seeds=show_seeds,
                                                   title=f"{n_alive} seeds, exact{diverged_note(records)}"),
        "mi_epochs.png": information_vs_epoch(records),
        "accuracy.png": accuracy(records),
    }
    paths = []
    for name, fig in figures.items():
        io.save_figure(fig, run_dir / name)
        plt.close(fig)
        paths.append(run_dir / name)
    return paths
