"""Tables (CSV, markdown) and the figure of an estimator benchmark; pure functions of its rows
(dicts of :func:`qnet.estimators.scoring.score` plus float-net scores) and arrays."""

import math
import warnings

import numpy as np

from qnet import io
from qnet.estimators.scoring import BOUND_TOL, COMPRESSION_BITS, compresses

CSV_COLUMNS = ("estimator", "estimates", "failures", "penalised_mae_I_XT", "mae_I_XT", "max_err_I_XT",
               "penalised_mae_I_TY", "mae_I_TY", "max_err_I_TY", "false_compression", "missed_compression",
               "undecided_compression", "dpi_violations", "above_log2n", "above_H_Y", "negative", "at_ceiling",
               "seconds_mean", "float_failures", "float_dpi_violations", "float_compression")


def _cell(value, digits=4):
    if value is None:
        return ""
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def csv_table(rows):
    """CSV text, one line per row, columns :data:`CSV_COLUMNS` (empty where a row lacks one)."""
    lines = [",".join(CSV_COLUMNS)]
    for r in rows:
        lines.append(",".join(_cell(r.get(c)) for c in CSV_COLUMNS))
    return "\n".join(lines) + "\n"


def _slash(row, keys, digits=3):
    return " / ".join(_cell(row.get(k), digits) for k in keys)


def markdown_table(rows, exact, failures=None):
    """Markdown: a line on the exact trajectories, the table, and the failure reasons.

    exact: (S, P, L, 2) bits; failures: {estimator name: [(reason, count), ...]} or None.
    """
    n_traj = exact.shape[0] * exact.shape[2]
    real = int(np.sum(compresses(exact[..., 0])))
    head = ("| estimator | failures / estimates | penalised MAE I(X;T) | MAE I(X;T) | max err I(X;T) | "
            "penalised MAE I(T;Y) | MAE I(T;Y) | false / missed / undecided compression | DPI violations | "
            "> log2 n / > H(Y) / < 0 | at ceiling | s per estimate | float net: failures / DPI / compressing | "
            "MAE I(X;T) by layer |")
    lines = [f"Exact: {real} of {n_traj} (seed, layer) trajectories compress by > {COMPRESSION_BITS} bits. "
             "Errors in bits against the exact values of the quantized net. MAE and max err are over the "
             "successful estimates; the penalised MAE charges each failure the largest error an estimate "
             "inside the bounds [0, log2 n] and [0, H(Y)] could make. Flags count estimates beyond a bound "
             f"by > {BOUND_TOL:g} bits (corrected estimates such as Miller-Madow may pass log2 n by design).",
             "", head, "|" + "---|" * 14]
    for r in rows:
        cells = [r["estimator"], f"{r['failures']} / {r['estimates']}", _cell(r["penalised_mae_I_XT"], 3),
                 _cell(r["mae_I_XT"], 3), _cell(r["max_err_I_XT"], 3), _cell(r["penalised_mae_I_TY"], 3),
                 _cell(r["mae_I_TY"], 3),
                 _slash(r, ("false_compression", "missed_compression", "undecided_compression")),
                 _cell(r["dpi_violations"]), _slash(r, ("above_log2n", "above_H_Y", "negative")),
                 _cell(r["at_ceiling"]), _cell(r.get("seconds_mean"), 3),
                 _slash(r, ("float_failures", "float_dpi_violations", "float_compression")),
                 " / ".join(_cell(v, 2) for v in r["mae_I_XT_per_layer"])]
        lines.append("| " + " | ".join(cells) + " |")
    if failures:
        lines += ["", "Failures (quantized net; most frequent reasons):", ""]
        for name, reasons in failures.items():
            lines += [f"- {name}: " + "; ".join(f"{count} x {reason}" for reason, count in reasons)]
    return "\n".join(lines) + "\n"


def plot_planes(path, probes, exact, results, names, log2n, h_y):
    """Mean (over seeds, successful estimates only) information planes: exact and each estimator.
    exact: (S, P, L, 2); results: dict with ``values`` (E, S, P, L, 2) and ``success`` (E, S, P, L)."""
    import matplotlib.pyplot as plt

    values = np.where(results["success"][..., None], results["values"], np.nan)
    panels = [("exact", exact, 0)] + [(name, values[i], int(np.sum(~results["success"][i])))
                                      for i, name in enumerate(names)]
    cols = 3
    n_rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(4 * cols, 3.3 * n_rows), squeeze=False)
    for ax, (name, plane, failed) in zip(axes.ravel(), panels):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a point where every seed failed: NaN
            mean = np.nanmean(plane, axis=0)  # (P, L, 2)
        for layer in range(mean.shape[1]):
            ax.plot(mean[:, layer, 0], mean[:, layer, 1], marker="o", ms=2.5, lw=1, label=f"layer {layer + 1}")
        ax.axvline(log2n, ls="--", color="0.5", lw=0.7)
        ax.axhline(h_y, ls="--", color="0.5", lw=0.7)
        ax.set_title(name + (f" ({failed} failed)" if failed else ""), fontsize=9)
        ax.set_xlabel("I(X;T) [bits]", fontsize=8)
        ax.set_ylabel("I(T;Y) [bits]", fontsize=8)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"quantized net, epochs {int(probes[0])}..{int(probes[-1])}: exact vs estimators", fontsize=10)
    fig.tight_layout()
    io.save_figure(fig, path)
    plt.close(fig)

