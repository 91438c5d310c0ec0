"""Exact sums over mixtures of product distributions on integer codes (noisy layers).

A *law* k is a product distribution on d integer units: unit u takes the values
``lo[k, u] + j`` (``0 <= j < length[k, u]``) with probability ``probs[k, u, j]``.
A noisy layer is a mixture of *items* r, each a law ``law[r]`` with a scale and a row of
class weights ``weights[r, c]``. For every output code t the kernels need the mass

    q(t, c) = sum_r scale_r weights[r, c] prod_u probs[law_r, u, t_u - lo[law_r, u]].

They get it by a lexicographic sweep, unit by unit: the items are sorted by their lowest
value on unit 0; for each value t_0 a window of that sorted list holds exactly the items
whose unit-0 support contains t_0; those items, their weights multiplied by the unit-0
probability, are sorted by unit 1 and swept the same way, and so on down to the last
unit, where each value t_{d-1} closes one code t. Every code of the support is reached
once, along its own path (t_0, ..., t_{d-1}), with the sum over exactly the items whose
support holds it: no keys, no hashing, so two distinct codes can never be merged, and
the memory is O(d * items) whatever the code range. A prefix (t_0, ..., t_u) that only
one item reaches is closed in one step (its codes carry a scaled product law, whose
entropy is known), so the work is at most about one step per (item, code) term and far
less where the noise balls of distinct codes seldom overlap.

Only ``@njit`` code lives here; arguments are checked in :mod:`qnet.information.noisy`.
"""

import numpy as np
from numba import njit

# As in counting.py: cache=True keeps compiled code between processes, error_model="numpy"
# keeps Python's exception machinery out of the loops (these kernels never raise).
_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")
_jit = njit(**_OPTIONS)

_INSERTION = 24  # levels with fewer items are sorted by insertion


@njit(inline="always", **_OPTIONS)
def _add(total, carry, x):
    """Neumaier's compensated sum: (total, carry) += x. Millions of -p log2 p terms summed
    one by one would drift by ~1e-9 bits; compensated, the result is good to ~1e-14."""
    s = total + x
    if abs(total) >= abs(x):
        carry += (total - s) + x
    else:
        carry += (x - s) + total
    return s, carry


@_jit
def _argsort_level(lev_item, lev_w, u, n, key_unit, law, lo):
    """Sort level u's n items (and their weights) by lo[law[item], key_unit] (large levels)."""
    keys = np.empty(n, np.int64)
    for i in range(n):
        keys[i] = lo[law[lev_item[u, i]], key_unit]
    order = np.argsort(keys)
    items = lev_item[u, :n].copy()
    ws = lev_w[u, :n].copy()
    for i in range(n):
        lev_item[u, i] = items[order[i]]
        lev_w[u, i] = ws[order[i]]


@_jit
def _sweep(start, stop, scale, law, weights, lo, length, probs, reach, tail_h, tail_n,
           lev_item, lev_w, lev_n, lev_a, lev_t, q, sums, out_codes, out_probs, nnz):
    """Sweep the mixture of items start..stop-1 (see the module docstring); d >= 2 units.

    scale: (R,) item scales; law: (R,) law of each item; weights: (R, C); reach: (d,) the
    longest unit-u support of any law; lev_*: per-level work arrays ((d, cap) and (d,)); q: (C,).
    Adds -sum_t p log2 p, -sum_{t,c} q log2 q and the number of codes to sums[0..2] (sums[3],
    sums[4]: the compensations of sums[0], sums[1]). When out_codes has rows, writes each code
    and p(t) (C = 1) at rows nnz, nnz + 1, ... and returns the new nnz. Otherwise a prefix that
    only one item reaches is closed at once from tail_h[k, u] = sum_{v >= u} H(unit v of law k)
    and tail_n[k, u] = prod_{v >= u} |supp unit v|: the codes below it carry W pi(t) (W the
    item's path weight times its class weight), pi a product law on the remaining units, and
    sum_t -W pi log2(W pi) = W (H(pi) - log2 W) exactly.
    Levels 0..d-2 are walked depth first (lev_t[u] holds the next value of unit u); the items
    of a prefix of d - 1 units are swept along the last unit in one local loop.
    """
    d = lo.shape[1]
    last = d - 1
    emit = out_codes.shape[0] > 0
    n0 = 0
    for r in range(start, stop):
        if scale[r] > 0.0:
            lev_item[0, n0] = r
            lev_w[0, n0] = scale[r]
            n0 += 1
    if n0 == 0:
        return nnz
    _argsort_level(lev_item, lev_w, 0, n0, 0, law, lo)
    lev_n[0], lev_a[0], lev_t[0] = n0, 0, lo[law[lev_item[0, 0]], 0]
    u = 0
    while u >= 0:
        n, a, tu = lev_n[u], lev_a[u], lev_t[u]
        while a < n and lo[law[lev_item[u, a]], u] + reach[u] <= tu:  # items wholly below tu
            a += 1
        if a == n:  # level exhausted: back to the parent (already set to its next value)
            u -= 1
            continue
        tu = max(tu, lo[law[lev_item[u, a]], u])  # skip values no item reaches
        lev_a[u], lev_t[u] = a, tu + 1  # the next visit of this level starts at tu + 1
        v = u + 1  # the next level: items whose unit-u support holds tu
        m = 0
        b = a
        while b < n and lo[law[lev_item[u, b]], u] <= tu:
            r = lev_item[u, b]
            j = tu - lo[law[r], u]
            if j < length[law[r], u] and probs[law[r], u, j] > 0.0:
                lev_item[v, m] = r
                lev_w[v, m] = lev_w[u, b] * probs[law[r], u, j]
                m += 1
            b += 1
        if m == 0:
            continue
        if m == 1 and not emit:  # one item below this prefix: close its product law at once
            r, w = lev_item[v, 0], lev_w[v, 0]
            h = tail_h[law[r], v]
            total = 0.0
            for c in range(q.shape[0]):
                wc = w * weights[r, c]
                total += wc
                if wc > 0.0:
                    sums[1], sums[4] = _add(sums[1], sums[4], wc * (h - np.log2(wc)))
            if total > 0.0:
                sums[0], sums[3] = _add(sums[0], sums[3], total * (h - np.log2(total)))
                sums[2] += tail_n[law[r], v]
            continue
        if m > _INSERTION:
            _argsort_level(lev_item, lev_w, v, m, v, law, lo)
        else:  # insertion sort, written out here: a call per node would cost more than the sort
            for i in range(1, m):
                r, w = lev_item[v, i], lev_w[v, i]
                key = lo[law[r], v]
                j = i - 1
                while j >= 0 and lo[law[lev_item[v, j]], v] > key:
                    lev_item[v, j + 1] = lev_item[v, j]
                    lev_w[v, j + 1] = lev_w[v, j]
                    j -= 1
                lev_item[v, j + 1] = r
                lev_w[v, j + 1] = w
        if v < last:
            lev_n[v], lev_a[v], lev_t[v] = m, 0, lo[law[lev_item[v, 0]], v]
            u = v
            continue
        a = 0  # the last unit: each value t closes the code (lev_t[0] - 1, ..., lev_t[d-2] - 1, t)
        t = lo[law[lev_item[last, 0]], last]
        while True:
            while a < m and lo[law[lev_item[last, a]], last] + reach[last] <= t:
                a += 1
            if a == m:
                break
            t = max(t, lo[law[lev_item[last, a]], last])
            for c in range(q.shape[0]):
                q[c] = 0.0
            b = a
            while b < m and lo[law[lev_item[last, b]], last] <= t:
                r = lev_item[last, b]
                j = t - lo[law[r], last]
                if j < length[law[r], last]:
                    pr = lev_w[last, b] * probs[law[r], last, j]
                    for c in range(q.shape[0]):
                        q[c] += pr * weights[r, c]
                b += 1
            p = 0.0
            for c in range(q.shape[0]):
                p += q[c]
                if q[c] > 0.0:
                    sums[1], sums[4] = _add(sums[1], sums[4], -q[c] * np.log2(q[c]))
            if p > 0.0:
                sums[0], sums[3] = _add(sums[0], sums[3], -p * np.log2(p))
                sums[2] += 1.0
                if emit:
                    for w_ in range(last):
                        out_codes[nnz, w_] = lev_t[w_] - 1
                    out_codes[nnz, last] = t
                    out_probs[nnz] = p
                    nnz += 1
            t += 1
    return nnz


@_jit
def _two_units(lo, length, probs):
    """Laws of d = 1 units with a constant unit 0 put in front (value 0, probability 1), as
    :func:`_sweep` needs d >= 2; codes and entropies are unchanged."""
    m, _ = lo.shape
    lo2 = np.zeros((m, 2), np.int64)
    len2 = np.ones((m, 2), np.int64)
    probs2 = np.zeros((m, 2, probs.shape[2]))
    for k in range(m):
        lo2[k, 1] = lo[k, 0]
        len2[k, 1] = length[k, 0]
        probs2[k, 0, 0] = 1.0
        for j in range(probs.shape[2]):
            probs2[k, 1, j] = probs[k, 0, j]
    return lo2, len2, probs2


@_jit
def _workspace(lo, length, probs, cap, n_classes):
    """reach, tails (see :func:`_sweep`) and the per-level work arrays."""
    m, d = lo.shape
    reach = np.zeros(d, np.int64)
    tail_h = np.zeros((m, d + 1))
    tail_n = np.ones((m, d + 1))
    for k in range(m):
        for u in range(d - 1, -1, -1):
            reach[u] = max(reach[u], length[k, u])
            h, nz = 0.0, 0
            for j in range(length[k, u]):
                p = probs[k, u, j]
                if p > 0.0:
                    h -= p * np.log2(p)
                    nz += 1
            tail_h[k, u] = tail_h[k, u + 1] + h
            tail_n[k, u] = tail_n[k, u + 1] * nz
    return (reach, tail_h, tail_n, np.empty((d, cap), np.int64), np.empty((d, cap)), np.zeros(d, np.int64),
            np.zeros(d, np.int64), np.zeros(d, np.int64), np.empty(n_classes))


@_jit
def mixture_entropies(lo, length, probs, weights):
    """Exact (H(T), H(T, Y), |supp T|) in bits of the mixture of laws k with weights[k, c].

    lo, length: (m, d) int64; probs: (m, d, L) float64 (entries past length ignored);
    weights: (m, C) float64, the joint P(law, class), summing to 1.
    H(T) = -sum_t p(t) log2 p(t) with p(t) = sum_c q(t, c); H(T, Y) = -sum_{t,c} q log2 q.
    """
    m = lo.shape[0]
    if lo.shape[1] == 1:
        lo, length, probs = _two_units(lo, length, probs)
    reach, tail_h, tail_n, lev_item, lev_w, lev_n, lev_a, lev_t, q = _workspace(lo, length, probs, m,
                                                                                weights.shape[1])
    sums = np.zeros(5)
    _sweep(0, m, np.ones(m), np.arange(m), weights, lo, length, probs, reach, tail_h, tail_n,
           lev_item, lev_w, lev_n, lev_a, lev_t, q, sums, np.empty((0, lo.shape[1]), np.int64), np.empty(0), 0)
    return sums[0] + sums[3], sums[1] + sums[4], np.int64(sums[2])


@_jit
def push_products(pair_offsets, pair_law, pair_weight, lo, length, probs, total):
    """Sparse conditionals P(T | group), each group a mixture of laws.

    Group g mixes laws ``pair_law[r]`` with weights ``pair_weight[r]`` for r in
    ``pair_offsets[g]:pair_offsets[g + 1]``; lo, length, probs as in :func:`mixture_entropies`;
    total: a bound on the number of rows (the groups' summed terms).
    Returns (offsets (G + 1,) int64, codes (nnz, d) int64, probs (nnz,) float64): group g's
    rows at offsets[g]:offsets[g + 1], each code once per group, in lexicographic order.
    """
    n_groups, d = pair_offsets.shape[0] - 1, lo.shape[1]
    if d == 1:
        lo, length, probs = _two_units(lo, length, probs)
    cap = 1
    for g in range(n_groups):
        cap = max(cap, pair_offsets[g + 1] - pair_offsets[g])
    reach, tail_h, tail_n, lev_item, lev_w, lev_n, lev_a, lev_t, q = _workspace(lo, length, probs, cap, 1)
    ones = np.ones((pair_law.shape[0], 1))
    sums = np.zeros(5)
    offsets = np.zeros(n_groups + 1, np.int64)
    out_codes = np.empty((total, lo.shape[1]), np.int64)
    out_probs = np.empty(total)
    nnz = 0
    for g in range(n_groups):
        nnz = _sweep(pair_offsets[g], pair_offsets[g + 1], pair_weight, pair_law, ones, lo, length, probs, reach,
                     tail_h, tail_n, lev_item, lev_w, lev_n, lev_a, lev_t, q, sums, out_codes, out_probs, nnz)
        offsets[g + 1] = nnz
    return offsets, out_codes[:nnz, lo.shape[1] - d:].copy(), out_probs[:nnz].copy()


@_jit
def sample_log_ratios(lo, length, probs, weights, components, classes, uniforms):
    """Monte Carlo terms of I(X;T) and I(T;Y) for a mixture of product laws.

    lo, length, probs, weights as in :func:`mixture_entropies`, the laws sorted by
    lo[:, 0]; draw j uses law ``components[j]`` (that of a uniformly drawn input), its class
    ``classes[j]`` and ``uniforms[j, u]`` in [0, 1) to draw t_u by inverse CDF. p(t) and
    p(t, y) are summed exactly over the laws whose support holds t (found through unit 0).
    Returns (a, b), (N,) float64 in bits: a_j = log2 p(t|x) - log2 p(t) and
    b_j = log2 p(t|y) - log2 p(t), whose means are unbiased for I(X;T) and I(T;Y).
    """
    m, d = lo.shape
    n_draws = components.shape[0]
    lo0 = lo[:, 0].copy()
    total = np.zeros(m)
    class_mass = np.zeros(weights.shape[1])
    reach = 0
    for k in range(m):
        reach = max(reach, length[k, 0])
        for c in range(weights.shape[1]):
            total[k] += weights[k, c]
            class_mass[c] += weights[k, c]
    a = np.empty(n_draws)
    b = np.empty(n_draws)
    t = np.empty(d, np.int64)
    for j in range(n_draws):
        k = components[j]
        p_x = 1.0
        for u in range(d):
            i = 0
            acc = probs[k, u, 0]
            while acc <= uniforms[j, u] and i < length[k, u] - 1:
                i += 1
                acc += probs[k, u, i]
            t[u] = lo[k, u] + i
            p_x *= probs[k, u, i]
        p_t, p_ty = 0.0, 0.0
        q = np.searchsorted(lo0, t[0] - reach + 1)
        while q < m and lo0[q] <= t[0]:
            prod = 1.0
            for u in range(d):
                off = t[u] - lo[q, u]
                if off < 0 or off >= length[q, u]:
                    prod = 0.0
                    break
                prod *= probs[q, u, off]
            p_t += prod * total[q]
            p_ty += prod * weights[q, classes[j]]
            q += 1
        a[j] = np.log2(p_x) - np.log2(p_t)
        b[j] = np.log2(p_ty / class_mass[classes[j]]) - np.log2(p_t)
    return a, b
