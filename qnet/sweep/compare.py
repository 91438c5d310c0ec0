"""Several runs on one figure: information planes side by side (one colour bar of epochs) and
I(X;T), I(T;Y) against epoch overlaid, each run labelled by the settings in which it differs.

Arguments are run folders or sweep folders (a sweep stands for its runs with records).
"""

import math
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from qnet import io
from qnet.experiment import ExperimentConfig, load_records

MARKERS = "osD^v<>ph*"


def collect_runs(paths):
    """``(run_dir, records)`` of every run named (sweep folders expanded to their runs)."""
    from qnet.sweep.study import is_sweep, read_plan

    runs = []
    for path in map(Path, paths):
        if is_sweep(path):
            dirs = [path / name for name, _, _ in read_plan(path) if (path / name / "manifest.json").exists()]
            if not dirs:
                raise ValueError(f"{path}: no run of this sweep has records yet")
        elif (path / "manifest.json").exists():
            dirs = [path]
        else:
            raise ValueError(f"{path} is neither a run folder (manifest.json) nor a sweep folder (sweep.json)")
        for d in dirs:
            records = load_records(d, verify=False)
            if len(records["epoch"]) == 0:
                raise ValueError(f"{d} has no finished recorded epoch yet: nothing to compare")
            runs.append((d, records))
    if not runs:
        raise ValueError("compare needs at least one run or sweep folder")
    return runs


def differing_settings(configs):
    """The flat config fields whose values differ among ``configs``, in a stable order."""
    flats = [c.flat() for c in configs]
    keys = sorted({k for f in flats for k in f}, key=lambda k: list(flats[0]).index(k) if k in flats[0] else 1_000)
    return [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]


def _text(value):
    return "float" if value is None else (",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))


def labels(runs, by=None):
    """One label per run (``bits=4, activation=tanh``) and the differing fields."""
    configs = [ExperimentConfig.from_json(r["config"]) for _, r in runs]
    fields = differing_settings(configs)
    if by is not None:
        if by not in configs[0].flat():
            raise ValueError(f"--by {by!r} is not a config field; fields: {sorted(configs[0].flat())}")
        fields = [by] + [f for f in fields if f != by]
    flats = [c.flat() for c in configs]
    names = [", ".join(f"{k}={_text(f.get(k))}" for k in fields) or Path(d).name for f, (d, _) in zip(flats, runs)]
    return names, fields, flats


def _alive(records):
    return np.asarray(records["diverged_epoch"]) == 0


def _plane(ax, records, norm, cmap):
    epochs = records["epoch"]
    ixt, ity = records["I_XT"][_alive(records)], records["I_TY"][_alive(records)]
    for layer in range(ixt.shape[2]):
        x, y = np.nanmean(ixt[:, :, layer], axis=0), np.nanmean(ity[:, :, layer], axis=0)
        points = np.stack([x, y], axis=1)[:, None, :]
        lines = LineCollection(np.concatenate([points[:-1], points[1:]], axis=1), cmap=cmap, norm=norm, lw=1.3)
        lines.set_array(epochs[1:])
        ax.add_collection(lines)
        ax.scatter(x[[0, -1]], y[[0, -1]], c=epochs[[0, -1]], cmap=cmap, norm=norm, s=22, edgecolor="k", lw=0.4,
                   marker=MARKERS[layer % len(MARKERS)], zorder=3, label=str(records["layer_names"][layer]))
    log2n, h_y = math.log2(int(records["n_eval"])), float(records["H_Y"])
    ax.axvline(log2n, ls="--", color="0.5", lw=0.7)
    ax.axhline(h_y, ls="--", color="0.5", lw=0.7)
    ax.set_xlim(-0.2, log2n * 1.04)
    ax.set_ylim(0.0, h_y * 1.06)


def plane_figure(runs, by=None, cmap="viridis"):
    """Information planes side by side: columns by the first differing field (or ``by``), rows
    by the others; one colour bar of epochs for all panels. Returns the figure."""
    names, fields, flats = labels(runs, by)
    column_field = fields[0] if len(fields) > 1 or by else None
    columns = list(dict.fromkeys(_text(f.get(column_field)) for f in flats)) if column_field else [None]
    # rows by the other fields, leaving out those the column decides (e.g. a preset's weight_bits per activation)
    row_fields = [k for k in fields[1:] if column_field is None or
                  len({(_text(f.get(column_field)), _text(f.get(k))) for f in flats})
                  > len({_text(f.get(column_field)) for f in flats})]

    def row_key(flat):
        return ", ".join(f"{k}={_text(flat.get(k))}" for k in row_fields)

    rows = list(dict.fromkeys(row_key(f) for f in flats))
    if column_field is None:
        columns, rows = list(range(len(runs))), [""]
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(3.2 * len(columns) + 1.0, 2.8 * len(rows)),
                             squeeze=False, sharex=True, sharey=True)
    epochs = np.concatenate([r["epoch"] for _, r in runs])
    norm = matplotlib.colors.LogNorm(max(epochs.min(), 1), max(epochs.max(), 2))
    used = np.zeros(axes.shape, bool)
    for i, ((d, records), flat, name) in enumerate(zip(runs, flats, names)):
        if column_field is None:
            r, c, title = 0, i, name
        else:
            r = rows.index(row_key(flat))
            c, title = columns.index(_text(flat.get(column_field))), name
        ax = axes[r, c]
        if used[r, c]:
            raise ValueError(f"two runs have the same settings {name!r}: compare them with --by another field")
        used[r, c] = True
        _plane(ax, records, norm, cmap)
        parts = title.split(", ")
        ax.set_title("\n".join(", ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)), fontsize=7)
    for ax in axes[~used]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("I(X;T) [bits]")
    for ax in axes[:, 0]:
        ax.set_ylabel("I(T;Y) [bits]")
    axes[0, 0].legend(fontsize=5, loc="lower right", title="layer", title_fontsize=5)
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    bar = fig.add_axes((0.93, 0.15, 0.015, 0.7))
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), cax=bar, label="epoch")
    return fig


def _column_title(runs, layer):
    """The name(s) of the runs' ``layer``-th measured layer (names that differ joined by " / ")."""
    names = dict.fromkeys(str(r["layer_names"][layer]) for _, r in runs if r["I_XT"].shape[2] > layer)
    return " / ".join(names)


def curves_figure(runs, by=None):
    """I(X;T) (top) and I(T;Y) (bottom) of every layer (columns) against epoch, runs overlaid
    (mean over seeds). Returns the figure."""
    names, _, _ = labels(runs, by)
    n_layers = max(r["I_XT"].shape[2] for _, r in runs)
    fig, axes = plt.subplots(2, n_layers, figsize=(2.6 * n_layers, 5.2), squeeze=False, sharex=True)
    colors = plt.get_cmap("tab10" if len(runs) <= 10 else "tab20")
    for i, ((_, records), name) in enumerate(zip(runs, names)):
        alive = _alive(records)
        for row, key in enumerate(("I_XT", "I_TY")):
            values = records[key][alive]
            for layer in range(values.shape[2]):
                axes[row, layer].plot(records["epoch"], np.nanmean(values[:, :, layer], axis=0), lw=1.0,
                                      color=colors(i % colors.N), label=name if layer == 0 and row == 0 else None)
    for layer in range(n_layers):
        axes[0, layer].set_title(_column_title(runs, layer), fontsize=8)
        axes[1, layer].set_xlabel("epoch")
        for ax in axes[:, layer]:
            ax.set_xscale("log")
    axes[0, 0].set_ylabel("I(X;T) [bits]")
    axes[1, 0].set_ylabel("I(T;Y) [bits]")
    fig.legend(loc="lower center", ncol=min(4, len(runs)), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.03 * math.ceil(len(runs) / 4), 1, 1))
    return fig


def compare(paths, out, by=None):
    """Write ``compare_plane.png`` and ``compare_mi.png`` of the runs in ``paths`` into ``out``;
    return their paths."""
    runs = collect_runs(paths)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("compare_plane.png", plane_figure), ("compare_mi.png", curves_figure)):
        fig = draw(runs, by)
        io.save_figure(fig, out / name, dpi=110)
        plt.close(fig)
        written.append(out / name)
    return written
