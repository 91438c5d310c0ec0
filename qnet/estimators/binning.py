"""Binning estimators: equal-width bins (Shwartz-Ziv & Tishby 2017) and adaptive bins
(Chelombiev, Houghton & O'Donnell 2019); the binned codes are counted exactly, optionally
with the Miller-Madow bias correction (Miller 1955)."""

from dataclasses import dataclass

import numpy as np

from qnet import information, kernels
from qnet._checks import as_labels, check_choice, check_int
from qnet.estimators._common import LN2, _as_activations


def occupied_bins(codes, labels):
    """(m_T, m_Y, m_TY): the numbers of distinct rows of ``codes: (n, d)`` integer bins, of
    distinct ``labels: (n,)`` and of distinct (row, label) pairs."""
    ids_t, m_t = kernels.row_ids(np.ascontiguousarray(codes))
    ids_y, m_y = as_labels(labels, codes.shape[0])
    m_ty = np.count_nonzero(np.bincount(ids_t * m_y + ids_y, minlength=int(m_t) * m_y))
    return int(m_t), int(m_y), int(m_ty)


def miller_madow_information(codes, labels):
    """Plug-in (I(X;T), I(T;Y)) of binned ``codes`` with every entropy Miller-Madow corrected.

    H_MM = H_plugin + (m - 1) / (2 n ln 2) bits, m = number of occupied bins (Miller 1955).
    I(X;T) = H_MM(T) (the n inputs are distinct, so the corrections of H(X) and H(X, T)
    cancel: (m_T - 1) / (2 n ln 2) is added); I(T;Y) = H_MM(T) + H_MM(Y) - H_MM(T, Y), i.e.
    plus (m_T + m_Y - m_TY - 1) / (2 n ln 2). A bias-corrected *estimate*: I(X;T) can exceed
    log2 n and I(T;Y) can be negative or exceed H(Y). Returns bits.
    """
    i_xt, i_ty = information.layer_information(codes, labels)
    m_t, m_y, m_ty = occupied_bins(codes, labels)
    unit = 1.0 / (2.0 * codes.shape[0] * LN2)
    return i_xt + (m_t - 1) * unit, i_ty + (m_t + m_y - m_ty - 1) * unit


def layer_bins(values, n_bins):
    """Equal-width bins per layer for a stack of seeds: ``values (S, n, ...)`` floats ->
    ``(S, n, d)`` int32 bin indices, each seed's bins spanning its own min..max (what
    ``UniformBinning(n_bins, "layer").codes`` does for one seed)."""
    a = np.asarray(values, np.float64).reshape(values.shape[0], values.shape[1], -1)
    lo = a.min(axis=(1, 2), keepdims=True)
    hi = a.max(axis=(1, 2), keepdims=True)
    width = np.where(hi > lo, (hi - lo) / n_bins, 1.0)
    return np.clip(np.floor((a - lo) / width), 0, n_bins - 1).astype(np.int32)


def _binned_information(codes, labels, miller_madow):
    if miller_madow:
        return miller_madow_information(codes, labels)
    return information.layer_information(codes, labels)


def _suffix(miller_madow):
    return "-mm" if miller_madow else ""


@dataclass(frozen=True)
class UniformBinning:
    """Equal-width bins (Shwartz-Ziv & Tishby 2017, arXiv:1703.00810).

    Each value is replaced by the index of its bin among ``n_bins`` equal-width bins
    on ``[lo, hi]``; then I(X;T) = H(binned T) and I(T;Y) are counted exactly.
    bounds: ``fixed`` (``value_range``, default [-1, 1] as the original code),
    ``layer`` (min..max of the whole layer) or ``neuron`` (min..max of each unit).
    Values outside a fixed range go to the first/last bin. ``miller_madow``: correct every
    entropy (see :func:`miller_madow_information`); the name then ends in ``-mm``.
    activations: (n, d); labels: (n,). Returns (I_XT, I_TY) in bits.
    """

    n_bins: int = 30
    bounds: str = "layer"
    value_range: tuple = (-1.0, 1.0)
    miller_madow: bool = False

    def __post_init__(self):
        check_int(self.n_bins, "n_bins", 1)
        check_choice(self.bounds, "bounds", {"fixed", "layer", "neuron"})
        _check_flag(self.miller_madow)

    @property
    def name(self):
        return f"binning-{self.n_bins}-{self.bounds}{_suffix(self.miller_madow)}"

    def codes(self, activations):
        a = _as_activations(activations)
        if self.bounds == "fixed":
            lo, hi = (np.float64(v) for v in self.value_range)
        elif self.bounds == "layer":
            lo, hi = a.min(), a.max()
        else:
            lo, hi = a.min(axis=0), a.max(axis=0)
        width = np.where(hi > lo, (hi - lo) / self.n_bins, 1.0)
        return np.clip(np.floor((a - lo) / width), 0, self.n_bins - 1).astype(np.int32)

    def __call__(self, activations, labels, inputs=None):
        return _binned_information(self.codes(activations), labels, self.miller_madow)


@dataclass(frozen=True)
class AdaptiveBinning:
    """Adaptive bins per layer (Chelombiev, Houghton & O'Donnell 2019, arXiv:1902.09037).

    strategy ``mass``: bin edges at quantiles of the layer's values, so bins hold equal
    numbers of values; ``distinct``: edges spaced evenly over the sorted *distinct*
    values (what the authors' code does). Values are then counted exactly.
    ``miller_madow``: correct every entropy (see :func:`miller_madow_information`); name ``-mm``.
    activations: (n, d); labels: (n,). Returns (I_XT, I_TY) in bits.
    """

    n_bins: int = 30
    strategy: str = "mass"
    miller_madow: bool = False

    def __post_init__(self):
        check_int(self.n_bins, "n_bins", 1)
        check_choice(self.strategy, "strategy", {"mass", "distinct"})
        _check_flag(self.miller_madow)

    @property
    def name(self):
        return f"adaptive-{self.n_bins}-{self.strategy}{_suffix(self.miller_madow)}"

    def codes(self, activations):
        a = _as_activations(activations)
        values = np.sort(a.ravel()) if self.strategy == "mass" else np.unique(a)
        positions = np.linspace(0, len(values) - 1, self.n_bins + 1)[1:-1]
        edges = np.unique(values[np.round(positions).astype(np.int64)])
        return np.searchsorted(edges, a, side="right").astype(np.int32)

    def __call__(self, activations, labels, inputs=None):
        return _binned_information(self.codes(activations), labels, self.miller_madow)


def _check_flag(value, name="miller_madow"):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
