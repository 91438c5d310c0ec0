"""Exact sums over mixtures of product distributions on integer codes (noisy layers).

A *component* k is a product law on d integer units: unit u takes the values
``lo[k, u] + j`` (``0 <= j < length[k, u]``) with probability ``probs[k, u, j]``.
A noisy layer is a mixture of components with weights ``weights[k, c]`` (the joint
probability of component k and class c). The kernels add up, for every output code
t, the mass ``sum_k weights[k, c] prod_u probs[k, u, t_u - lo[k, u]]`` in a table
keyed by t itself, and never merge two distinct codes:

* ``mode 0`` (direct): the mixed-radix index ``sum_u (t_u - tmin_u) stride_u`` of a
  small code space addresses an index array;
* ``mode 1`` (one word): the same mixed-radix key (lossless, < 2**64) is hashed into
  an open-addressing table whose slots match only on key equality;
* ``mode 2`` (rows): t is hashed unit by unit and a matching hash is verified by
  comparing every unit of t with the stored code.

:func:`mixture_entropies` sweeps the values of unit 0 one *slab* at a time (a code t
belongs to the slab of t_0, and only components whose unit-0 support holds t_0 reach
it), so the table holds one slab and its memory is the largest slab's support.
Only ``@njit`` code lives here; arguments are checked in :mod:`qnet.information.noisy`.
"""

import numpy as np
from numba import njit

# As in counting.py: cache=True keeps compiled code between processes, error_model="numpy"
# keeps Python's exception machinery out of the loops (these kernels never raise).
_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")
_jit = njit(**_OPTIONS)
_inline = njit(inline="always", **_OPTIONS)

DIRECT, ONE_WORD, ROWS = 0, 1, 2
_PRIME = np.uint64(0x9E3779B97F4A7C15)


@_inline
def _mix64(x):
    """splitmix64 finaliser (a bijection of uint64)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@_jit
def _fill(comps, scales, n_comps, first, lo, length, probs, weights, mode, tmin, stride,
          index, slot_key, entry_t, entry_slot, vals, t, pos, pp):
    """Add ``scales[r] * weights[k, :] * prod_{u >= first} probs[k, u, t_u - lo[k, u]]`` for
    k = comps[r], r < n_comps, to the entry of every code t of k's support on units first..
    (t[:first] as given), in a table that is empty on entry. Returns the number of entries.

    Units are enumerated like an odometer (last unit fastest); pos[first:] is zero on entry
    and exit. One function body for the whole batch: Numba keeps reference counting out of
    the loop only when no helper taking arrays is called per term (helpers cost ~150 ns a call).
    """
    d = lo.shape[1]
    store = entry_t.shape[0] > 0
    mask = np.int64(index.shape[0] - 1)
    count = 0
    for r in range(n_comps):
        k = comps[r]
        pp[first] = scales[r]
        u = first
        while True:
            while u < d:
                t[u] = lo[k, u] + pos[u]
                pp[u + 1] = pp[u] * probs[k, u, pos[u]]
                u += 1
            p = pp[d]
            if p > 0.0:
                key = np.uint64(0)
                if mode == ROWS:  # hash of the units; matches are verified unit by unit
                    key = np.uint64(0x243F6A8885A308D3)
                    for j in range(first, d):
                        key = (key ^ np.uint64(t[j])) * _PRIME
                        key ^= key >> np.uint64(29)
                    key = _mix64(key)
                else:  # mixed-radix index: lossless
                    for j in range(first, d):
                        key += np.uint64(t[j] - tmin[j]) * stride[j]
                if mode == DIRECT:
                    slot = np.int64(key)
                    e = index[slot]
                else:
                    slot = np.int64((_mix64(key) if mode == ONE_WORD else key) & np.uint64(mask))
                    while True:
                        e = index[slot]
                        if e < 0 or slot_key[slot] == key and mode == ONE_WORD:
                            break
                        if slot_key[slot] == key:  # mode ROWS: same hash, compare the codes
                            same = True
                            for j in range(first, d):
                                if entry_t[e, j] != t[j]:
                                    same = False
                                    break
                            if same:
                                break
                        slot = (slot + 1) & mask
                    if e < 0:
                        slot_key[slot] = key
                if e < 0:
                    e = count
                    count += 1
                    index[slot] = e
                    entry_slot[e] = slot
                    if store:
                        for j in range(d):
                            entry_t[e, j] = t[j]
                    for c in range(vals.shape[1]):
                        vals[e, c] = 0.0
                for c in range(vals.shape[1]):
                    vals[e, c] += p * weights[k, c]
            u = d - 1
            while u >= first:
                pos[u] += 1
                if pos[u] < length[k, u]:
                    break
                pos[u] = 0
                u -= 1
            if u < first:
                break
    return count


@_jit
def _new_table(mode, space, entry_cap, d, n_vals, store_codes):
    size = 16
    while size < 2 * entry_cap:
        size *= 2
    index = np.full(space if mode == DIRECT else size, -1, np.int64)
    slot_key = np.empty(0 if mode == DIRECT else size, np.uint64)
    entry_t = np.empty((entry_cap if store_codes or mode == ROWS else 0, d), np.int64)
    return index, slot_key, entry_t, np.empty(entry_cap, np.int64), np.empty((entry_cap, n_vals))


@_jit
def slab_terms(lo, length):
    """(total, largest slab's) number of (component, code) terms of :func:`mixture_entropies`.

    lo, length: (m, d) int64, components sorted by lo[:, 0]. A term is one code of one
    component's support; the total bounds the support of the mixture and the work.
    """
    m, d = lo.shape
    rest = np.ones(m, np.int64)
    for k in range(m):
        for u in range(1, d):
            rest[k] *= length[k, u]
    reach = 0
    for k in range(m):
        reach = max(reach, length[k, 0])
    total, largest, a, v = 0, 0, 0, lo[0, 0]
    while a < m:
        while a < m and lo[a, 0] + reach <= v:
            a += 1
        if a == m:
            break
        v = max(v, lo[a, 0])
        terms, b = 0, a
        while b < m and lo[b, 0] <= v:
            if v - lo[b, 0] < length[b, 0]:
                terms += rest[b]
            b += 1
        total += terms
        largest = max(largest, terms)
        v += 1
    return total, largest


@_jit
def mixture_entropies(lo, length, probs, weights, mode, tmin, stride, space, entry_cap):
    """Exact (H(T), H(T, Y), |supp T|) in bits of a mixture of product components.

    lo, length: (m, d) int64, sorted by lo[:, 0]; probs: (m, d, L) float64 (entries past
    length ignored); weights: (m, C) float64, joint P(component, class), summing to 1.
    mode, tmin (d,), stride (d,) uint64, space: the key layout of units 1.. (see the
    module docstring); entry_cap: the largest slab's number of terms (:func:`slab_terms`).
    H(T) = -sum_t p(t) log2 p(t) with p(t) = sum_c q(t, c); H(T, Y) = -sum_{t,c} q log2 q.
    """
    m, d = lo.shape
    index, slot_key, entry_t, entry_slot, vals = _new_table(mode, space, entry_cap, d, weights.shape[1], False)
    t = np.zeros(d, np.int64)
    pos = np.zeros(d, np.int64)
    pp = np.empty(d + 1)
    comps = np.empty(m, np.int64)
    scales = np.empty(m)
    reach = 0
    for k in range(m):
        reach = max(reach, length[k, 0])
    sum_t, sum_ty, support, a, v = 0.0, 0.0, 0, 0, lo[0, 0]
    while a < m:
        while a < m and lo[a, 0] + reach <= v:  # components wholly below the slab
            a += 1
        if a == m:
            break
        v = max(v, lo[a, 0])  # skip empty slabs
        t[0] = v
        n_comps, b = 0, a
        while b < m and lo[b, 0] <= v:
            j = v - lo[b, 0]
            if j < length[b, 0] and probs[b, 0, j] > 0.0:
                comps[n_comps] = b
                scales[n_comps] = probs[b, 0, j]
                n_comps += 1
            b += 1
        count = _fill(comps, scales, n_comps, 1, lo, length, probs, weights, mode, tmin, stride,
                      index, slot_key, entry_t, entry_slot, vals, t, pos, pp)
        for e in range(count):
            p = 0.0
            for c in range(vals.shape[1]):
                q = vals[e, c]
                p += q
                if q > 0.0:
                    sum_ty += q * np.log2(q)
            sum_t += p * np.log2(p)
            index[entry_slot[e]] = -1
        support += count
        v += 1
    return -sum_t, -sum_ty, support


@_jit
def push_products(pair_offsets, pair_comp, pair_weight, lo, length, probs, mode, tmin, stride, space, entry_cap, total):
    """Sparse conditionals P(T | group) of mixtures of product components, one mixture per group.

    Group g mixes components ``pair_comp[r]`` with weights ``pair_weight[r]`` for r in
    ``pair_offsets[g]:pair_offsets[g + 1]``. lo, length, probs as in :func:`mixture_entropies`;
    mode, tmin, stride, space: the key layout of all d units; entry_cap: the largest group's
    number of terms; total: all groups' terms (bounds the output).
    Returns (offsets (G + 1,) int64, codes (nnz, d) int64, probs (nnz,) float64), rows of group g
    at offsets[g]:offsets[g + 1], each code once per group, in order of first appearance.
    """
    n_groups, d = pair_offsets.shape[0] - 1, lo.shape[1]
    index, slot_key, entry_t, entry_slot, vals = _new_table(mode, space, entry_cap, d, 1, True)
    ones = np.ones((lo.shape[0], 1))
    t = np.zeros(d, np.int64)
    pos = np.zeros(d, np.int64)
    pp = np.empty(d + 1)
    offsets = np.zeros(n_groups + 1, np.int64)
    out_codes = np.empty((total, d), np.int64)
    out_probs = np.empty(total)
    nnz = 0
    for g in range(n_groups):
        start, stop = pair_offsets[g], pair_offsets[g + 1]
        count = _fill(pair_comp[start:stop], pair_weight[start:stop], stop - start, 0, lo, length, probs, ones,
                      mode, tmin, stride, index, slot_key, entry_t, entry_slot, vals, t, pos, pp)
        for e in range(count):
            out_codes[nnz] = entry_t[e]
            out_probs[nnz] = vals[e, 0]
            nnz += 1
            index[entry_slot[e]] = -1
        offsets[g + 1] = nnz
    return offsets, out_codes[:nnz].copy(), out_probs[:nnz].copy()


@_jit
def sample_log_ratios(lo, length, probs, weights, components, classes, uniforms):
    """Monte Carlo terms of I(X;T) and I(T;Y) for a mixture of product components.

    lo, length, probs, weights as in :func:`mixture_entropies` (sorted by lo[:, 0]);
    draw j uses component ``components[j]`` (the code of a uniformly drawn input), its
    class ``classes[j]`` and ``uniforms[j, u]`` in [0, 1) to draw t_u by inverse CDF.
    p(t) and p(t, y) are summed exactly over the components whose support holds t (found
    through unit 0). Returns (a, b), (N,) float64 in bits:
    a_j = log2 p(t|x) - log2 p(t) and b_j = log2 p(t|y) - log2 p(t), whose means are
    unbiased for I(X;T) and I(T;Y).
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
