"""What every figure of a run shares: which seeds are drawn, layer names, markers, the band's name.

All functions take the records dict of :func:`qnet.experiment.run` (or
:func:`qnet.experiment.load_records`); information is in bits.
"""

import warnings

import numpy as np

MARKERS = "osD^v<>ph*"
SEED_TRACE = dict(color="0.55", lw=0.4, alpha=0.45, zorder=1)  # one seed's curve, under the means
BOUND = dict(ls="--", color="0.4", lw=0.8)  # log2 n and H(Y)


def alive(records):
    """(S,) bool: the seeds that never diverged (diverged seeds are left out of the figures)."""
    return np.asarray(records.get("diverged_epoch", np.zeros(len(records["seeds"]), np.int64))) == 0


def diverged_note(records):
    """``"; left out (diverged): seed 3 at epoch 120, ..."`` or ``""`` when no seed diverged."""
    gone = [(int(s), int(e)) for s, e in zip(records["seeds"], records.get("diverged_epoch", ())) if e]
    if not gone:
        return ""
    return "; left out (diverged): " + ", ".join(f"seed {s} at epoch {e}" for s, e in gone)


def layer_label(records, layer):
    """``"dense_3 (5)"``: the layer's name and its number of units."""
    names = records.get("layer_names")
    name = str(names[layer]) if names is not None else f"layer {layer + 1}"
    return f"{name} ({int(records['layer_widths'][layer])})"


def band_label(n_seeds):
    """What the shaded band around a mean over seeds is, as written on the figures."""
    return f"band: min-max over {n_seeds} seeds" if n_seeds > 1 else "one seed: no band"


def mean_and_band(values):
    """values: (S, ...) over seeds -> mean, min, max (...) each, ignoring NaN (diverged or not computed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN, without a warning
        return np.nanmean(values, axis=0), np.nanmin(values, axis=0), np.nanmax(values, axis=0)
