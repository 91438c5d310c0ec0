"""The information plane of a run: I(X;T) against I(T;Y) of every layer over the epochs.

Each layer's mean over the drawn seeds is a trajectory coloured by epoch (one colour bar, log
scale); its first and last epochs are marked with the layer's marker. Dashed lines: the ceiling
log2 n (every input its own code) and H(Y). Layers whose points coincide (in the tanh SYN net the
first four sit at (12, H(Y)) throughout) are drawn again in an inset of that corner; those that
coincide there are spread by an offset in I(T;Y) written on the inset, so that each one shows.
"""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from qnet.plots import captions
from qnet.plots.style import BOUND, MARKERS, SEED_TRACE, alive, layer_label, mean_and_band

CLOSE = 0.02  # layers whose last points lie within this share of the axes' spans are crowded
SAME = 1e-3  # bits: crowded layers this close are drawn apart in the inset, by a stated offset


def seed_means(records):
    """The drawn seeds' means: epochs (E,), I(X;T) and I(T;Y) (E, L) in bits."""
    keep = alive(records)
    return (np.asarray(records["epoch"]), mean_and_band(records["I_XT"][keep])[0],
            mean_and_band(records["I_TY"][keep])[0])


def epoch_norm(epochs):
    """The colour scale of epochs (log), shared by the plane, its colour bar and the animation."""
    return matplotlib.colors.LogNorm(max(int(np.min(epochs)), 1), max(int(np.max(epochs)), 2))


def bounds(records):
    """(log2 n, H(Y)) in bits: the largest I(X;T) and I(T;Y) any layer can reach."""
    return math.log2(int(records["n_eval"])), float(records["H_Y"])


def crowded(x_last, y_last, spans, close=CLOSE):
    """Groups (lists of layer indices, 2 or more) whose last points are within ``close`` of each
    other's axis spans; x_last, y_last: (L,) bits; spans: (x span, y span)."""
    groups, placed = [], set()
    for a in range(len(x_last)):
        if a in placed or not np.isfinite(x_last[a]):
            continue
        group = [a] + [b for b in range(a + 1, len(x_last)) if b not in placed and np.isfinite(x_last[b])
                       and abs(x_last[a] - x_last[b]) <= close * spans[0] and abs(y_last[a] - y_last[b]) <= close * spans[1]]
        if len(group) > 1:
            groups.append(group)
            placed.update(group)
    return groups


def draw_bounds(ax, records):
    log2n, h_y = bounds(records)
    ax.axvline(log2n, **BOUND)
    ax.axhline(h_y, **BOUND)
    ax.text(log2n, 1.0, r"ceiling $\log_2 n$ = " + f"{log2n:.2f}", color="0.3", ha="right", va="bottom",
            fontsize=7, transform=ax.get_xaxis_transform())
    ax.text(0.0, h_y, f"H(Y) = {h_y:.3f}", color="0.3", va="bottom", fontsize=7)


def set_limits(ax, records):
    log2n, h_y = bounds(records)
    ity = np.asarray(records["I_TY"])
    low = min(0.0, float(np.nanmin(ity)) - 0.02) if np.isfinite(ity).any() else 0.0
    ax.set_xlim(-0.2, log2n * 1.04)
    ax.set_ylim(low, h_y * 1.06)
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("I(T;Y) [bits]")


def trajectory(ax, epochs, x, y, norm, cmap, lw=1.5):
    """A LineCollection through (x, y) coloured by the epoch of each segment's end."""
    points = np.stack([x, y], axis=1)[:, None, :]
    lines = LineCollection(np.concatenate([points[:-1], points[1:]], axis=1), cmap=cmap, norm=norm, lw=lw, zorder=2)
    lines.set_array(np.asarray(epochs[1:], float))
    ax.add_collection(lines)
    return lines


def _draw_layers(ax, records, epochs, x, y, norm, cmap, show_seeds, dy=None, label=True):
    keep = alive(records)
    for layer in range(x.shape[1]):
        shift = 0.0 if dy is None else dy[layer]
        if show_seeds:
            for s in np.nonzero(keep)[0]:
                ax.plot(records["I_XT"][s, :, layer], records["I_TY"][s, :, layer] + shift, **SEED_TRACE)
        trajectory(ax, epochs, x[:, layer], y[:, layer] + shift, norm, cmap)
        ax.scatter(x[[0, -1], layer], y[[0, -1], layer] + shift, c=epochs[[0, -1]], cmap=cmap, norm=norm,
                   marker=MARKERS[layer % len(MARKERS)], s=36, edgecolor="k", lw=0.5, zorder=3,
                   label=layer_label(records, layer) if label else None)


INSET_PLACES = ([0.56, 0.08, 0.4, 0.4], [0.06, 0.08, 0.4, 0.4], [0.56, 0.3, 0.4, 0.4], [0.3, 0.08, 0.4, 0.4],
                [0.06, 0.3, 0.4, 0.4], [0.06, 0.5, 0.4, 0.4], [0.3, 0.5, 0.4, 0.4])  # in axes fractions, tried in this order


def _emptiest_corner(ax, x, y):
    """The inset's place (axes fractions) covering the fewest trajectory points."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    fx, fy = ((x - x0) / (x1 - x0)).ravel(), ((y - y0) / (y1 - y0)).ravel()
    inside = [np.sum((fx > a - 0.05) & (fx < a + w + 0.05) & (fy > b - 0.05) & (fy < b + h + 0.05))
              for a, b, w, h in INSET_PLACES]
    return INSET_PLACES[int(np.argmin(inside))]


def _inset(ax, records, epochs, x, y, norm, cmap, show_seeds, groups):
    """Zoom on the crowded corner; coinciding layers spread by a stated offset in I(T;Y)."""
    members = sorted({layer for g in groups for layer in g})
    xs, ys = x[-1, members], y[-1, members]
    log2n, h_y = bounds(records)
    half_x, half_y = max(0.25, np.ptp(xs)), max(0.04 * h_y, np.ptp(ys))
    x0, x1 = xs.min() - half_x, xs.max() + half_x
    y0, y1 = ys.min() - half_y, ys.max() + half_y
    same = [g for g in crowded(x[-1], y[-1], (1.0, 1.0), close=SAME) if len(g) > 1]  # drawn apart
    offset = float(f"{(y1 - y0) / (4 * max([len(g) for g in same] + [1])):.1g}")
    dy = np.zeros(x.shape[1])
    for g in same:
        for k, layer in enumerate(g):
            dy[layer] = ((len(g) - 1) / 2 - k) * offset
    inset = ax.inset_axes(_emptiest_corner(ax, x, y))
    _draw_layers(inset, records, epochs, x, y, norm, cmap, show_seeds, dy=dy, label=False)
    inset.axvline(log2n, **BOUND)
    inset.axhline(h_y, **BOUND)
    inset.set_xlim(x0, x1)
    inset.set_ylim(y0 - offset, y1 + offset)
    inset.tick_params(labelsize=6)
    names = "; ".join(", ".join(str(layer + 1) for layer in g) for g in same)
    apart = f"\nlayers {names} coincide: drawn {offset:g} bits apart in I(T;Y)" if same else ""
    inset.set_title(f"zoom: layers {', '.join(str(m + 1) for m in members)}{apart}", fontsize=6, loc="left")
    ax.indicate_inset_zoom(inset, edgecolor="0.5")
    return inset


def information_plane(records, ax=None, show_seeds=False, cmap="viridis", title=None, inset=True):
    """Draw the information plane of ``records``; returns the figure.

    ax: draw into this Axes (a new figure otherwise); show_seeds: each seed's trajectory too (thin
    grey); title: a first line above the settings caption; inset: zoom on layers whose last
    points coincide. Diverged seeds are left out (said in the caption), saturated layers named.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 5.4))
    fig = ax.figure
    epochs, x, y = seed_means(records)
    norm = epoch_norm(epochs)
    _draw_layers(ax, records, epochs, x, y, norm, cmap, show_seeds)
    draw_bounds(ax, records)
    set_limits(ax, records)
    log2n, h_y = bounds(records)
    groups = crowded(x[-1], y[-1], (log2n, h_y)) if inset and len(epochs) else []
    if groups:
        _inset(ax, records, epochs, x, y, norm, cmap, show_seeds, groups)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="epoch")
    if x.shape[1]:  # float nets measure no layer
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=min(4, x.shape[1]), fontsize=6,
                  title="layer (units), marked at the first and last epoch", title_fontsize=6)
    seeds = "; thin grey: each seed" if show_seeds else ""
    text = captions.caption(records, band="lines: mean over seeds" + seeds)
    ax.set_title(captions.wrapped((title + "\n" if title else "") + text, 95), fontsize=7, loc="left", pad=12)
    return fig
