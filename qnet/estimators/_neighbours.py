"""Numba kernels shared by the nearest-neighbour estimators (KSG, Ross, mixed KSG).

Data come feature-major, ``(d, n)`` C-contiguous, so that the distances from one sample to
all others accumulate column by column in a contiguous row buffer (a loop the compiler
vectorises); each kernel computes a sample's distances once and reads them from the buffer.
No validation here: the Python callers check shapes, dtypes and k.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def max_norm_row(a, i, out):
    """out[j] = max_k |a[k, j] - a[k, i]| for every sample j; a: (d, n). (np.maximum, unlike
    the builtin max, lets the loop be vectorised: twice as fast here.)"""
    d, n = a.shape
    for j in range(n):
        out[j] = 0.0
    for k in range(d):
        v = a[k, i]
        for j in range(n):
            out[j] = np.maximum(out[j], abs(a[k, j] - v))


@njit(cache=True, inline="always")
def kth_smallest_insert(best, value):
    """Keep ``best`` (sorted ascending, length k) the k smallest values seen."""
    k = best.shape[0]
    if value >= best[k - 1]:
        return
    pos = k - 1
    while pos > 0 and best[pos - 1] > value:
        best[pos] = best[pos - 1]
        pos -= 1
    best[pos] = value


@njit(cache=True, inline="always")
def within(distance, radius):
    """Strictly inside the radius; at radius 0 (tied samples) the tied ones count, as in
    scikit-learn's ``query_radius(nextafter(radius, 0))``."""
    return distance < radius or distance == 0.0


@njit(parallel=True, cache=True)
def ksg_counts(x, y, k):
    """KSG algorithm 1 counts: for each i, eps_i = k-th neighbour distance in the joint
    max-norm; n_x, n_y = neighbours (i excluded) :func:`within` eps_i in each marginal.
    x: (d_x, n), y: (d_y, n)."""
    n = x.shape[1]
    nx = np.empty(n, np.int64)
    ny = np.empty(n, np.int64)
    for i in prange(n):
        dx = np.empty(n)
        dy = np.empty(n)
        max_norm_row(x, i, dx)
        max_norm_row(y, i, dy)
        best = np.full(k, np.inf)
        for j in range(n):
            if j != i:
                kth_smallest_insert(best, max(dx[j], dy[j]))
        eps = best[k - 1]
        cx = 0
        cy = 0
        for j in range(n):
            if j != i:
                if within(dx[j], eps):
                    cx += 1
                if within(dy[j], eps):
                    cy += 1
        nx[i] = cx
        ny[i] = cy
    return nx, ny


@njit(parallel=True, cache=True)
def ross_counts(t, ids, k_per_class):
    """Ross (2014): for each i, the k-th neighbour distance d_i among its own class, then
    m_i = number of samples (any class, i included) :func:`within` d_i. t: (d, n)."""
    n = t.shape[1]
    m = np.empty(n, np.int64)
    for i in prange(n):
        dist = np.empty(n)
        max_norm_row(t, i, dist)
        k = k_per_class[ids[i]]
        best = np.full(k, np.inf)
        for j in range(n):
            if j != i and ids[j] == ids[i]:
                kth_smallest_insert(best, dist[j])
        radius = best[k - 1]
        c = 0
        for j in range(n):
            if within(dist[j], radius):
                c += 1
        m[i] = c
    return m


@njit(parallel=True, cache=True)
def mixed_counts(x, y, k):
    """Gao et al. (2017) counts for each sample i, every count including i itself: (k_i, n_x,i, n_y,i).

    rho_i = k-th smallest joint max-norm distance max(|x_i - x_j|, |y_i - y_j|) over j != i.
    rho_i > 0: k_i = k and n_x,i, n_y,i count the samples strictly closer than rho_i in x, in y.
    rho_i = 0 (at least k samples tie with i): k_i, n_x,i, n_y,i count the samples at distance 0
    in (x, y), in x, in y. x: (d_x, n), y: (d_y, n).
    """
    n = x.shape[1]
    kk = np.empty(n, np.int64)
    nx = np.empty(n, np.int64)
    ny = np.empty(n, np.int64)
    for i in prange(n):
        dx = np.empty(n)
        dy = np.empty(n)
        max_norm_row(x, i, dx)
        max_norm_row(y, i, dy)
        best = np.full(k, np.inf)
        for j in range(n):
            if j != i:
                kth_smallest_insert(best, max(dx[j], dy[j]))
        rho = best[k - 1]
        cj = 0
        cx = 0
        cy = 0
        if rho == 0.0:
            for j in range(n):
                if dx[j] == 0.0:
                    cx += 1
                    if dy[j] == 0.0:
                        cj += 1
                if dy[j] == 0.0:
                    cy += 1
        else:
            cj = k
            for j in range(n):
                if dx[j] < rho:
                    cx += 1
                if dy[j] < rho:
                    cy += 1
        kk[i] = cj
        nx[i] = cx
        ny[i] = cy
    return kk, nx, ny


def feature_major(a):
    """A validated (n, d) float64 array as the kernels read it: (d, n) C-contiguous."""
    return np.ascontiguousarray(a.T)
