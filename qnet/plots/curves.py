"""Quantities of a run against epoch (log axis): I(X;T) and I(T;Y) of every layer, accuracies.

Lines are means over the drawn seeds; the shaded band is their min-max (written on the figure);
with ``show_seeds`` every seed is drawn too, thin.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from qnet.plots import captions
from qnet.plots.plane import bounds
from qnet.plots.style import BOUND, SEED_TRACE, alive, band_label, layer_label, mean_and_band


def _series(ax, epochs, values, label, show_seeds, color=None):
    """values: (S, E). The mean line, the min-max band (2+ seeds) and optionally each seed."""
    mean, low, high = mean_and_band(values)
    line, = ax.plot(epochs, mean, lw=1.2, label=label, color=color, zorder=3)
    if values.shape[0] > 1:
        ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.18, lw=0, zorder=2)
    if show_seeds:
        for v in values:
            ax.plot(epochs, v, **{**SEED_TRACE, "color": line.get_color(), "alpha": 0.35})
    return line


def _legend_extras(n_seeds, show_seeds):
    handles = [Patch(color="0.5", alpha=0.3, label=band_label(n_seeds))]
    if show_seeds:
        handles.append(Line2D([], [], **{**SEED_TRACE, "color": "0.4"}, label="thin: each seed"))
    return handles


def information_vs_epoch(records, show_seeds=False):
    """I(X;T) (left) and I(T;Y) (right) of every layer against epoch, with log2 n and H(Y) dashed;
    one legend for both panels, under them. Returns the figure."""
    keep = alive(records)
    epochs = np.asarray(records["epoch"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True, layout="constrained")
    handles = []
    for ax, key, label in zip(axes, ("I_XT", "I_TY"), ("I(X;T) [bits]", "I(T;Y) [bits]")):
        values = np.asarray(records[key])[keep]
        lines = [_series(ax, epochs, values[:, :, layer], layer_label(records, layer), show_seeds, f"C{layer % 10}")
                 for layer in range(values.shape[2])]
        handles = handles or lines
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
    log2n, h_y = bounds(records)
    axes[0].axhline(log2n, **BOUND)
    axes[1].axhline(h_y, **BOUND)
    bound = Line2D([], [], **BOUND, label=f"log2 n = {log2n:.2f} (left), H(Y) = {h_y:.3f} (right)")
    extras = _legend_extras(int(keep.sum()), show_seeds) + [bound]
    fig.legend(handles=handles + extras, loc="outside lower center", ncol=min(5, len(handles) + len(extras)), fontsize=7)
    fig.suptitle(captions.wrapped(captions.caption(records, band=band_label(int(keep.sum()))), 160), fontsize=8)
    return fig


def accuracy(records, show_seeds=False):
    """Train and test accuracy against epoch (mean over the drawn seeds, min-max band). Returns the figure."""
    keep = alive(records)
    epochs = np.asarray(records["epoch"])
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    lines = [_series(ax, epochs, np.asarray(records[key])[keep], key.replace("_", " "), show_seeds)
             for key in ("train_accuracy", "test_accuracy")]
    ax.set_xscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend(handles=lines + _legend_extras(int(keep.sum()), show_seeds), fontsize=7)
    ax.set_title(captions.wrapped(captions.settings(records) + captions.diverged_note(records), 80), fontsize=7,
                 loc="left")
    return fig
