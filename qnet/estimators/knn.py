"""k-nearest-neighbour estimators: KSG (Kraskov, Stoegbauer & Grassberger 2004) and its
discrete-label variant (Ross 2014)."""

from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from scipy.special import digamma

from qnet._checks import as_labels, check_int
from qnet.estimators._common import LN2, _as_activations


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
