"""Tables (CSV, markdown) and the figure of an estimator benchmark; pure functions of its rows
(dicts of :func:`qnet.estimators.scoring.score` plus float-net scores) and arrays."""

import math
import warnings

import numpy as np

from qnet import io
from qnet.estimators.scoring import BOUND_TOL, CEILING_TOL, COMPRESSION_BITS, compresses

CSV_COLUMNS = ("estimator", "probes", "estimates", "failures", "penalised_mae_I_XT", "mae_I_XT", "max_err_I_XT",
               "penalised_mae_I_TY", "mae_I_TY", "max_err_I_TY", "false_compression", "missed_compression",
               "undecided_compression", "dpi_violations", "above_log2n", "above_H_Y", "negative", "at_ceiling",
               "seconds_mean", "float_failures", "float_dpi_violations", "float_compression", "float_above_log2n",
               "float_above_H_Y", "float_negative")


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


def regime_lines(n_states, n):
    """Markdown lines on the regime of the exact values: per layer, the distinct codes k over
    seeds and probed epochs and how often k = n (every input its own code: I(X;T) = log2 n, the
    saturated regime where a plug-in value says nothing about compression). n_states: (S, P, L)."""
    k = np.asarray(n_states)
    cells = [f"layer {layer + 1}: k = {k[:, :, layer].min()}..{k[:, :, layer].max()}, saturated "
             f"{int(np.sum(k[:, :, layer] == n))}/{k[:, :, layer].size}" for layer in range(k.shape[2])]
    return [f"Regime (exact, quantized net; k distinct codes of n = {n} inputs; saturated: k = n): " + "; ".join(cells) + "."]


def markdown_table(rows, exact, failures=None, n_states=None, probes=None, log2n=None, h_y=None, title=""):
    """Markdown: a line on the exact trajectories (and their regime, given n_states (S, P, L)),
    the table, and the failure reasons.

    exact: (S, P, L, 2) bits; failures: {estimator name: [(reason, count), ...]} or None;
    probes: the probed epochs (P,); log2n, h_y: the information bounds in bits.
    """
    n_traj = exact.shape[0] * exact.shape[2]
    real = int(np.sum(compresses(exact[..., 0])))
    head = ("| estimator | probes | failures / estimates | penalised MAE I(X;T) | MAE I(X;T) | max err I(X;T) | "
            "penalised MAE I(T;Y) | MAE I(T;Y) | false / missed / undecided compression | DPI violations | "
            "> log2 n / > H(Y) / < 0 | at ceiling | s per estimate | float net: failures / DPI / compressing | "
            "float net: > log2 n / > H(Y) / < 0 | MAE I(X;T) by layer |")
    lines = [f"### {title}", ""] if title else []
    if probes is not None:
        lines += [f"Probed epochs: {', '.join(str(int(p)) for p in probes)} ({exact.shape[0]} seeds, "
                  f"{exact.shape[2]} layers); an estimator's 'probes' column says at how many of them it ran "
                  "(the neural ones at a few, to bound their cost).", ""]
    if log2n is not None and h_y is not None:
        lines += [f"Bounds: log2 n = {log2n:.3f} bits, H(Y) = {h_y:.3f} bits.", ""]
    if n_states is not None and log2n is not None:
        lines += regime_lines(n_states, int(round(2 ** log2n))) + [""]
    lines += [f"Exact: {real} of {n_traj} (seed, layer) trajectories compress by > {COMPRESSION_BITS} bits. "
              "Errors in bits against the exact values of the quantized net; every value but the exact one is an "
              "estimate. MAE and max err are over the "
              "successful estimates; the penalised MAE charges each failure the largest error an estimate "
              "inside the bounds [0, log2 n] and [0, H(Y)] could make. Flags count estimates beyond a bound "
              f"by > {BOUND_TOL:g} bits (corrected estimates such as Miller-Madow may pass log2 n by design); "
              f"'at ceiling' counts values within {CEILING_TOL:g} bits of the most the estimator can return (InfoNCE: "
              "log2 of its held-out batch), lower bounds rather than estimates. The float net has no exact "
              "values: only its failures, DPI violations, compressing trajectories and bound flags.",
              "", head, "|" + "---|" * 16]
    for r in rows:
        cells = [r["estimator"], _cell(r.get("probes")), f"{r['failures']} / {r['estimates']}",
                 _cell(r["penalised_mae_I_XT"], 3),
                 _cell(r["mae_I_XT"], 3), _cell(r["max_err_I_XT"], 3), _cell(r["penalised_mae_I_TY"], 3),
                 _cell(r["mae_I_TY"], 3),
                 _slash(r, ("false_compression", "missed_compression", "undecided_compression")),
                 _cell(r["dpi_violations"]), _slash(r, ("above_log2n", "above_H_Y", "negative")),
                 _cell(r["at_ceiling"]), _cell(r.get("seconds_mean"), 3),
                 _slash(r, ("float_failures", "float_dpi_violations", "float_compression")),
                 _slash(r, ("float_above_log2n", "float_above_H_Y", "float_negative")),
                 " / ".join(_cell(v, 2) for v in r["mae_I_XT_per_layer"])]
        lines.append("| " + " | ".join(cells) + " |")
    if failures:
        lines += ["", "Failures (quantized net; most frequent reasons):", ""]
        for name, reasons in failures.items():
            lines += [f"- {name}: " + "; ".join(f"{count} x {reason}" for reason, count in reasons)]
    return "\n".join(lines) + "\n"


def _panel(ax, plane, ok, probes, at, log2n, h_y, norm, reference, saturated=None):
    """One information plane: every successful (seed, epoch, layer) point of ``plane`` (S, P, L, 2)
    at the epochs ``at``, coloured by epoch; points beyond the axes (the information bounds)
    drawn on the frame as red crosses; ``reference`` (P, L, 2) in grey lines. Returns the
    number of points outside the bounds."""
    if reference is not None:
        for layer in range(reference.shape[1]):
            ax.plot(reference[:, layer, 0], reference[:, layer, 1], color="0.6", lw=1.2, marker=".", ms=3, zorder=1)
    pts = plane[:, at]  # (S, P_e, L, 2)
    epochs = np.broadcast_to(np.asarray(probes)[at][None, :, None], pts.shape[:3])
    keep = ok[:, at] & np.all(np.isfinite(pts), axis=-1)
    x, y, c = pts[..., 0][keep], pts[..., 1][keep], epochs[keep]
    lo = (-0.04 * log2n, -0.04 * h_y)
    hi = (1.04 * log2n, 1.04 * h_y)
    out = (x < lo[0]) | (x > hi[0]) | (y < lo[1]) | (y > hi[1])
    ax.scatter(x[~out], y[~out], c=c[~out], cmap="viridis", norm=norm, s=9, zorder=2)
    if saturated is not None:  # (S, P, L) bool: every input its own code (k = n)
        sat = saturated[:, at][keep]
        ax.scatter(x[sat], y[sat], facecolors="none", edgecolors="red", s=30, lw=0.7, zorder=3)
    if out.any():
        ax.scatter(np.clip(x[out], lo[0], hi[0]),
                   np.clip(y[out], lo[1], hi[1]), marker="x", color="red", s=14, zorder=3)
    ax.axvline(log2n, ls="--", color="0.5", lw=0.7)
    ax.axhline(h_y, ls="--", color="0.5", lw=0.7)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return int(out.sum())


def plot_planes(path, probes, exact, nets, names, probed, log2n, h_y, title="", n_states=None):
    """Exact vs each estimator, on the quantized net and on the float net, coloured by epoch.

    Axes span [0, log2 n] x [0, H(Y)] (dashed); an estimate outside them is a red cross on the
    frame. The exact plane (seed means, grey) is drawn in both panels of an estimator (on the
    float net as a reference only: the float net has no exact values). exact: (S, P, L, 2);
    nets: {"quantized": results, "float": results}, results with ``values`` (E, S, P, L, 2) and
    ``success`` (E, S, P, L); probed: (E, P) bool; n_states: (S, P, L) distinct codes of the
    exact layers or None (saturated points, k = n, ringed in red in the exact panel).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    probes = np.asarray(probes)
    norm = LogNorm(vmin=max(1, probes.min()), vmax=max(2, probes.max()))
    mean_exact = exact.mean(axis=0)
    panels = [("exact (quantized net)", "exact", None, None)] + [
        (f"{name}, {net} net", net, e, name) for e, name in enumerate(names) for net in ("quantized", "float")
        if net in nets]
    cols = 4
    n_rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(3.4 * cols, 2.9 * n_rows), squeeze=False,
                             layout="constrained")
    for ax, (label, net, e, name) in zip(axes.ravel(), panels):
        if net == "exact":
            saturated = None if n_states is None else np.asarray(n_states) == int(round(2 ** log2n))
            _panel(ax, exact, np.ones(exact.shape[:3], bool), probes, np.arange(len(probes)), log2n, h_y, norm, None,
                   saturated)
            if saturated is not None and saturated.any():
                label += f" ({int(saturated.sum())} ringed: k = n)"
        else:
            res = nets[net]
            at = np.flatnonzero(probed[e])
            outside = _panel(ax, res["values"][e], res["success"][e], probes, at, log2n, h_y, norm, mean_exact)
            failed = int(np.sum(~res["success"][e][:, at]))
            notes = [f"{failed} failed"] * bool(failed) + [f"{outside} outside"] * bool(outside)
            label += f" ({', '.join(notes)})" if notes else ""
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("I(X;T) [bits]", fontsize=7)
        ax.set_ylabel("I(T;Y) [bits]", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=axes.ravel().tolist(), label="epoch",
                 shrink=0.3)
    fig.suptitle(f"{title + ': ' if title else ''}exact vs estimators (every seed and layer; grey: exact seed means; "
                 "red x: outside the bounds)", fontsize=10)
    io.save_figure(fig, path)
    plt.close(fig)
