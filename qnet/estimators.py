"""Classic estimators of the information plane, for benchmarking against exact values.

Every estimator is a small frozen dataclass with one call:
``estimator(activations, labels, inputs=None) -> (I_XT, I_TY)`` in bits, where
``activations: (n, d)`` are a layer's float values on the n evaluation inputs,
``labels: (n,)`` the labels and ``inputs: (n, d_x)`` the inputs (used by KSG only).
For a deterministic network evaluated once on each input, binning estimates
I(X;T) as H(binned T). No Python loops over samples: binning reuses the exact
counting kernels; KDE and KSG are Numba loops.
"""

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from scipy.special import digamma

from qnet import information
from qnet._checks import as_labels, check_choice, check_int

LN2 = math.log(2.0)


def _as_activations(activations, name="activations"):
    a = np.asarray(activations)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.ndim < 1 or a.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(a)


def _binned_information(codes, labels):
    return information.layer_information(codes, labels)


@dataclass(frozen=True)
class UniformBinning:
    """Equal-width bins (Shwartz-Ziv & Tishby 2017, arXiv:1703.00810).

    Each value is replaced by the index of its bin among ``n_bins`` equal-width bins
    on ``[lo, hi]``; then I(X;T) = H(binned T) and I(T;Y) are counted exactly.
    bounds: ``fixed`` (``value_range``, default [-1, 1] as the original code),
    ``layer`` (min..max of the whole layer) or ``neuron`` (min..max of each unit).
    Values outside a fixed range go to the first/last bin.
    """

    n_bins: int = 30
    bounds: str = "layer"
    value_range: tuple = (-1.0, 1.0)

    def __post_init__(self):
        check_int(self.n_bins, "n_bins", 1)
        check_choice(self.bounds, "bounds", {"fixed", "layer", "neuron"})

    @property
    def name(self):
        return f"binning-{self.n_bins}-{self.bounds}"

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
        return _binned_information(self.codes(activations), labels)


@dataclass(frozen=True)
class AdaptiveBinning:
    """Adaptive bins per layer (Chelombiev, Houghton & O'Donnell 2019, arXiv:1902.09037).

    strategy ``mass``: bin edges at quantiles of the layer's values, so bins hold equal
    numbers of values; ``distinct``: edges spaced evenly over the sorted *distinct*
    values (what the authors' code does). Values are then counted exactly.
    """

    n_bins: int = 30
    strategy: str = "mass"

    def __post_init__(self):
        check_int(self.n_bins, "n_bins", 1)
        check_choice(self.strategy, "strategy", {"mass", "distinct"})

    @property
    def name(self):
        return f"adaptive-{self.n_bins}-{self.strategy}"

    def codes(self, activations):
        a = _as_activations(activations)
        values = np.sort(a.ravel()) if self.strategy == "mass" else np.unique(a)
        positions = np.linspace(0, len(values) - 1, self.n_bins + 1)[1:-1]
        edges = np.unique(values[np.round(positions).astype(np.int64)])
        return np.searchsorted(edges, a, side="right").astype(np.int32)

    def __call__(self, activations, labels, inputs=None):
        return _binned_information(self.codes(activations), labels)


@njit(parallel=True, cache=True)
def _kde_mean_log_density(t, scale):
    """-(1/N) sum_i ln[(1/N) sum_j exp(-||t_i - t_j||^2 / scale)]  (nats)."""
    n, d = t.shape
    out = np.empty(n)
    for i in prange(n):
        best = 0.0  # the j = i term has exponent 0, the maximum
        acc = 0.0
        for j in range(n):
            s = 0.0
            for k in range(d):
                diff = t[i, k] - t[j, k]
                s += diff * diff
            acc += math.exp(best - s / scale)
        out[i] = -(math.log(acc) - math.log(n))
    return out.mean()


@dataclass(frozen=True)
class KDE:
    """Kernel-density bound of Kolchinsky & Tracey (2017, arXiv:1706.02419), as used by Saxe et al. (2018).

    With Gaussian noise of variance ``variance`` added to T (nats, converted to bits):
    upper: I(X;T) <= -(1/N) sum_i ln[(1/N) sum_j exp(-||t_i - t_j||^2 / (2 variance))];
    lower: the same with ``8 variance`` in place of ``2 variance``.
    I(T;Y) = H(T) - sum_y p(y) H(T | y), each entropy bounded the same way
    (the noise's normalising constants cancel).
    """

    variance: float = 1e-3
    bound: str = "upper"

    def __post_init__(self):
        if not self.variance > 0:
            raise ValueError(f"variance must be > 0, got {self.variance}")
        check_choice(self.bound, "bound", {"upper", "lower"})

    @property
    def name(self):
        return f"kde-{self.bound}-{self.variance:g}"

    def __call__(self, activations, labels, inputs=None):
        t = _as_activations(activations)
        ids, n_classes = as_labels(labels, t.shape[0])
        scale = (2.0 if self.bound == "upper" else 8.0) * self.variance
        h = _kde_mean_log_density(t, scale)
        h_given_y = 0.0
        for c in range(n_classes):
            members = np.ascontiguousarray(t[ids == c])
            h_given_y += len(members) / len(t) * _kde_mean_log_density(members, scale)
        return h / LN2, max(h - h_given_y, 0.0) / LN2


@njit(cache=True)
def _max_norm(a, i, j):
    m = 0.0
    for k in range(a.shape[1]):
        v = abs(a[i, k] - a[j, k])
        if v > m:
            m = v
    return m


@njit(cache=True)
def _kth_smallest_insert(best, value):
    """Keep ``best`` (sorted ascending, length k) the k smallest values seen."""
    k = best.shape[0]
    if value >= best[k - 1]:
        return
    pos = k - 1
    while pos > 0 and best[pos - 1] > value:
        best[pos] = best[pos - 1]
        pos -= 1
    best[pos] = value


@njit(cache=True)
def _within(distance, radius):
    """Strictly inside the radius; at radius 0 (tied samples) the tied ones count, as in
    scikit-learn's ``query_radius(nextafter(radius, 0))``."""
    return distance < radius or distance == 0.0


@njit(parallel=True, cache=True)
def _ksg_counts(x, y, k):
    """For each i: eps_i = k-th neighbour distance in the joint max-norm; n_x, n_y = neighbours
    strictly closer than eps_i in each marginal (excluding i)."""
    n = x.shape[0]
    nx = np.empty(n, np.int64)
    ny = np.empty(n, np.int64)
    for i in prange(n):
        best = np.full(k, np.inf)
        for j in range(n):
            if j != i:
                _kth_smallest_insert(best, max(_max_norm(x, i, j), _max_norm(y, i, j)))
        eps = best[k - 1]
        cx = 0
        cy = 0
        for j in range(n):
            if j != i:
                if _within(_max_norm(x, i, j), eps):
                    cx += 1
                if _within(_max_norm(y, i, j), eps):
                    cy += 1
        nx[i] = cx
        ny[i] = cy
    return nx, ny


@njit(parallel=True, cache=True)
def _mixed_counts(t, ids, k_per_class):
    """Ross (2014): for each i, the k-th neighbour distance d_i among its own class, then
    m_i = number of samples (any class, i included) strictly closer than d_i."""
    n = t.shape[0]
    m = np.empty(n, np.int64)
    for i in prange(n):
        k = k_per_class[ids[i]]
        best = np.full(k, np.inf)
        for j in range(n):
            if j != i and ids[j] == ids[i]:
                _kth_smallest_insert(best, _max_norm(t, i, j))
        radius = best[k - 1]
        c = 0
        for j in range(n):
            if _within(_max_norm(t, i, j), radius):
                c += 1
        m[i] = c
    return m


def ksg_mutual_information(x, y, k=3):
    """KSG estimator, algorithm 1 (Kraskov, Stögbauer & Grassberger 2004), in bits.

    I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >, with max-norm distances.
    x: (n, d_x), y: (n, d_y) floats.
    """
    x, y = _as_activations(x, "x"), _as_activations(y, "y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    check_int(k, "k", 1, x.shape[0] - 1)
    nx, ny = _ksg_counts(x, y, k)
    nats = digamma(k) + digamma(x.shape[0]) - np.mean(digamma(nx + 1) + digamma(ny + 1))
    return nats / LN2


def mixed_ksg_mutual_information(t, labels, k=3):
    """KSG for a continuous T and a discrete Y (Ross 2014, PLoS ONE 9:e87357), in bits.

    I = psi(N) + <psi(k_i)> - <psi(N_y(i))> - <psi(m_i)>; classes with one sample are left out.
    """
    t = _as_activations(t)
    ids, n_classes = as_labels(labels, t.shape[0])
    sizes = np.bincount(ids, minlength=n_classes)
    keep = sizes[ids] > 1
    t, ids = np.ascontiguousarray(t[keep]), ids[keep]
    sizes = np.bincount(ids, minlength=n_classes)
    k_per_class = np.minimum(k, np.maximum(sizes - 1, 1)).astype(np.int64)
    m = _mixed_counts(t, ids, k_per_class)
    nats = digamma(len(t)) + np.mean(digamma(k_per_class[ids])) - np.mean(digamma(sizes[ids])) - np.mean(digamma(m))
    return max(nats, 0.0) / LN2


@dataclass(frozen=True)
class KSG:
    """k-nearest-neighbour estimator: I(X;T) by KSG algorithm 1 on (inputs, activations);
    I(T;Y) by its discrete-label variant (Ross 2014). ``inputs`` is required."""

    k: int = 3

    def __post_init__(self):
        check_int(self.k, "k", 1)

    @property
    def name(self):
        return f"ksg-{self.k}"

    def __call__(self, activations, labels, inputs=None):
        if inputs is None:
            raise ValueError("KSG estimates I(X;T) from the inputs X: pass inputs=")
        return ksg_mutual_information(inputs, activations, self.k), mixed_ksg_mutual_information(activations, labels, self.k)


def default_estimators():
    """The estimators of the benchmark, with the parameters of the studies they come from."""
    return [UniformBinning(30, "fixed"), UniformBinning(30, "layer"), UniformBinning(100, "layer"),
            UniformBinning(256, "neuron"), AdaptiveBinning(30, "mass"), KDE(1e-3, "upper"), KDE(1e-3, "lower"), KSG(3)]
