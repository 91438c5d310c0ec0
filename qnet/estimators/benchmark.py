"""Benchmark the classic estimators against the exact information plane.

For one experiment config, train the quantized network and, at a few probed
epochs, compute the exact (I(X;T), I(T;Y)) of every layer and seed from the codes
and every estimator's value from the dequantized activations (where the truth is
known); then train the same architecture without quantization (the setting of the
original studies) and apply the estimators there too. Scores per estimator:
absolute error against exact, whether it reports compression where the exact
curve has none (and the reverse), and data-processing-inequality violations.
A failed estimate is recorded as NaN, not a crash of the sweep.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from qnet import estimators as E
from qnet import experiment, information, io

COMPRESSION_BITS = 0.1  # a trajectory "compresses" if I(X;T) ends this far below its maximum


def probe_epochs(epochs, count):
    """``count`` roughly log-spaced epochs in 1..epochs, always including the last."""
    grid = np.unique(np.round(np.geomspace(1, epochs, count)).astype(np.int64))
    return grid if grid[-1] == epochs else np.append(grid, epochs)


def _estimate(estimators, acts, labels, inputs):
    """(E, S, L, 2) estimates for per-layer activations acts[l]: (S, n, d_l)."""
    out = np.full((len(estimators), acts[0].shape[0], len(acts), 2), np.nan)
    for e, est in enumerate(estimators):
        for s in range(acts[0].shape[0]):
            for layer, a in enumerate(acts):
                try:
                    out[e, s, layer] = est(a[s], labels, inputs)
                except (ValueError, FloatingPointError, MemoryError):
                    pass
    return out


def _trajectories(config, probes, estimators, with_exact, progress, label):
    trainer, labels = experiment.setup(config)
    inputs = trainer.eval_inputs
    state = trainer.init()
    n_l = len(trainer.layer_widths)
    exact = np.full((config.seeds, len(probes), n_l, 2), np.nan)
    est = np.full((len(estimators), config.seeds, len(probes), n_l, 2), np.nan)
    encoded = information.encode_labels(labels)
    row = {int(e): i for i, e in enumerate(probes)}
    for epoch in tqdm(range(1, int(probes[-1]) + 1), desc=label, unit="epoch", disable=not progress):
        state, _, codes = trainer.step(state, epoch)
        if epoch in row:
            if with_exact:
                exact[:, row[epoch]] = information.information_batch(codes, encoded, layer_widths=trainer.layer_widths,
                                                                     chain=True)
            est[:, :, row[epoch]] = _estimate(estimators, trainer.activations(state), labels, inputs)
    return exact, est, math.log2(len(labels)), information.entropy(labels)


def _compresses(ixt):
    """(S, L) bool: the trajectory's I(X;T) ends COMPRESSION_BITS below its maximum."""
    return (np.nanmax(ixt, axis=1) - ixt[:, -1]) > COMPRESSION_BITS


def _dpi_violations(plane, tol=1e-9):
    """Count of (seed, epoch, adjacent layer pair, quantity) where a deeper layer holds more information."""
    return int(np.sum(np.diff(plane, axis=2) > tol))


def score(exact, est):
    """Per-estimator scores against the exact values; est: (S, P, L, 2)."""
    err = np.abs(est - exact)
    real, claimed = _compresses(exact[..., 0]), _compresses(est[..., 0])
    return {
        "mae_I_XT": float(np.nanmean(err[..., 0])), "max_err_I_XT": float(np.nanmax(err[..., 0])),
        "mae_I_TY": float(np.nanmean(err[..., 1])), "max_err_I_TY": float(np.nanmax(err[..., 1])),
        "mae_I_XT_per_layer": np.nanmean(err[..., 0], axis=(0, 1)).tolist(),
        "false_compression": int(np.sum(claimed & ~real)), "missed_compression": int(np.sum(~claimed & real)),
        "dpi_violations": _dpi_violations(est),
    }


def run_benchmark(config, out_dir, estimators=None, probes=8, seeds=2, progress=True):
    """Benchmark ``estimators`` (default :func:`qnet.estimators.default_estimators`) on ``config``
    (its first ``seeds`` seeds, ``probes`` probed epochs). Writes estimators.csv, estimators.md,
    estimators.npz and estimators_plane.png into ``out_dir``; returns the table rows."""
    estimators = estimators or E.default_estimators()
    config = dataclasses.replace(config, seeds=min(seeds, config.seeds))
    probes = probe_epochs(config.epochs, probes)
    exact, est_q, log2n, h_y = _trajectories(config, probes, estimators, True, progress, "quantized")
    float_config = dataclasses.replace(config, bits=None, weight_bits=None)
    _, est_f, _, _ = _trajectories(float_config, probes, estimators, False, progress, "float")
    rows = []
    for e, est in enumerate(estimators):
        row = {"estimator": est.name, **score(exact, est_q[e])}
        row["float_dpi_violations"] = _dpi_violations(est_f[e])
        row["float_compression"] = int(np.sum(_compresses(est_f[e][..., 0])))
        rows.append(row)
    out_dir = Path(out_dir)
    io.save_npz(out_dir / "estimators.npz", probes=probes, exact=exact, quantized=est_q, float=est_f,
                names=np.array([e.name for e in estimators]))
    io.save_text(out_dir / "estimators.csv", _csv(rows))
    io.save_text(out_dir / "estimators.md", markdown_table(rows, exact))
    _plot(out_dir / "estimators_plane.png", probes, exact, est_q, estimators, log2n, h_y)
    return rows


_COLUMNS = ("estimator", "mae_I_XT", "max_err_I_XT", "mae_I_TY", "max_err_I_TY", "false_compression",
            "missed_compression", "dpi_violations", "float_dpi_violations", "float_compression")


def _csv(rows):
    lines = [",".join(_COLUMNS)]
    for r in rows:
        lines.append(",".join(f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]) for c in _COLUMNS))
    return "\n".join(lines) + "\n"


def markdown_table(rows, exact):
    n_traj = exact.shape[0] * exact.shape[2]
    real = int(np.sum(_compresses(exact[..., 0])))
    head = ("| estimator | MAE I(X;T) | max err I(X;T) | MAE I(T;Y) | max err I(T;Y) | false compression | "
            "missed compression | DPI violations | float net: DPI violations | float net: compressing | "
            "MAE I(X;T) by layer |")
    lines = [f"Exact: {real} of {n_traj} (seed, layer) trajectories compress by > {COMPRESSION_BITS} bits. "
             "Errors in bits against the exact values of the quantized net.", "", head,
             "|" + "---|" * 11]
    for r in rows:
        cells = [f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in _COLUMNS]
        cells.append(" / ".join(f"{v:.2f}" for v in r["mae_I_XT_per_layer"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot(path, probes, exact, est, estimators, log2n, h_y):
    import matplotlib.pyplot as plt

    panels = [("exact", exact)] + [(e.name, est[i]) for i, e in enumerate(estimators)]
    cols = 3
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.3 * rows), squeeze=False)
    for ax, (name, plane) in zip(axes.ravel(), panels):
        mean = np.nanmean(plane, axis=0)  # (P, L, 2)
        for layer in range(mean.shape[1]):
            ax.plot(mean[:, layer, 0], mean[:, layer, 1], marker="o", ms=2.5, lw=1, label=f"layer {layer + 1}")
        ax.axvline(log2n, ls="--", color="0.5", lw=0.7)
        ax.axhline(h_y, ls="--", color="0.5", lw=0.7)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("I(X;T) [bits]", fontsize=8)
        ax.set_ylabel("I(T;Y) [bits]", fontsize=8)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"quantized net, epochs {int(probes[0])}..{int(probes[-1])}: exact vs estimators", fontsize=10)
    fig.tight_layout()
    io.save_figure(fig, path)
    plt.close(fig)
