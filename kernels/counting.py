"""Exact counting of the distinct rows of an integer array.

Every row of a ``(n, d)`` integer block is one joint symbol. ``row_ids`` gives each
row a dense id in ``0..k-1`` (numbered by first appearance) such that two rows get
the same id if and only if all their entries are equal:

1. rows of up to 64 entries are packed losslessly, raw entries side by side, into
   ``uint64`` words (an int8 row of 8 entries is one word);
2. a row of one word is its own key: keys from a small key space (``< 4 n + 1024``)
   index a direct lookup table, others an open-addressing hash table;
3. in the hash table every match of the hash is verified unit by unit (the key, the
   packed words, or the entries of rows wider than 64), so a collision can never
   merge two distinct rows.

Entropies are plug-in entropies of the empirical distribution, in bits. For an
information-plane point the counts of (row, label) pairs are kept in a ``k x C``
table, so H(T, Y) needs no second pass over the rows.
"""

import numpy as np
from numba import njit, prange

# One place for the Numba options: cache=True keeps compiled code between
# processes (keyed on this file's content), so compilation stays out of
# experiments; error_model="numpy" keeps Python's exception machinery out of the
# inner loops (these kernels never raise: inputs are checked in qnet.information).
_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")
_jit = njit(**_OPTIONS)
# the small helpers of the hot loops are inlined at Numba level (measured ~30% faster)
_inline = njit(inline="always", **_OPTIONS)

_U1 = np.uint64(1)
_PRIME = np.uint64(0x9E3779B97F4A7C15)
_SMALL_SPACE = 1024


@_inline
def _mix64(x):
    """splitmix64 finaliser: a bijection of uint64 that spreads every input bit."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@_inline
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@_inline
def _step(h, x):
    h = (h ^ x) * _PRIME
    return h ^ (h >> np.uint64(29))


@_jit
def _table_size(n):
    size = 16
    while size < 2 * n:
        size *= 2
    return size


@_inline
def _row_hash(units, i):
    """Hash of row i over its units. Short rows use one chain (rows overlap in the
    pipeline); long rows four independent lanes, which hide the multiply latency."""
    d = units.shape[1]
    h0 = np.uint64(0x243F6A8885A308D3)
    if d < 16:
        for j in range(d):
            h0 = _step(h0, np.uint64(units[i, j]))
        return _mix64(h0)
    h1 = np.uint64(0x13198A2E03707344)
    h2 = np.uint64(0xA4093822299F31D0)
    h3 = np.uint64(0x082EFA98EC4E6C89)
    j = 0
    while j + 4 <= d:
        h0 = _step(h0, np.uint64(units[i, j]))
        h1 = _step(h1, np.uint64(units[i, j + 1]))
        h2 = _step(h2, np.uint64(units[i, j + 2]))
        h3 = _step(h3, np.uint64(units[i, j + 3]))
        j += 4
    while j < d:
        h0 = _step(h0, np.uint64(units[i, j]))
        j += 1
    # lanes meet through rotations (a bijection of each lane given the others), then one mix
    return _mix64(h0 ^ _rotl(h1, 16) ^ _rotl(h2, 32) ^ _rotl(h3, 48))


@_inline
def _rows_equal(units, a, b):
    for j in range(units.shape[1]):
        if units[a, j] != units[b, j]:
            return False
    return True


@_jit
def _hashed_row_ids(units):
    """Dense row ids through a hash table whose every match is verified unit by unit."""
    n = units.shape[0]
    size = _table_size(n)
    mask = np.uint64(size - 1)
    slot_row = np.full(size, -1, np.int64)
    slot_hash = np.empty(size, np.uint64)
    ids = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        h = _row_hash(units, i)
        slot = np.int64(h & mask)
        while True:
            r = slot_row[slot]
            if r < 0:
                slot_row[slot] = i
                slot_hash[slot] = h
                ids[i] = k
                k += 1
                break
            if slot_hash[slot] == h and _rows_equal(units, r, i):
                ids[i] = ids[r]
                break
            slot = (slot + 1) & (size - 1)
    return ids, k


@_jit
def _lookup_ids(keys, space):
    """Dense ids of small keys (all < space) through a direct lookup table."""
    n = keys.shape[0]
    lut = np.full(space, -1, np.int64)
    ids = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        key = np.int64(keys[i])
        v = lut[key]
        if v < 0:
            v = k
            lut[key] = k
            k += 1
        ids[i] = v
    return ids, k


@_jit
def dense_ids(keys, max_key):
    """Dense ids of uint64 keys: equal keys, equal ids; numbered by first appearance.

    keys: (n,) uint64; max_key: an upper bound on the keys (uint64).
    Returns (ids: (n,) int64, k: number of distinct keys).
    """
    return _key_ids(keys.reshape(keys.shape[0], 1), max_key)


@_jit
def _key_ids(keys, max_key):
    """dense_ids of one-word rows, keys: (n, 1) uint64."""
    n = keys.shape[0]
    if max_key < np.uint64(4 * n + _SMALL_SPACE):
        return _lookup_ids(keys[:, 0], np.int64(max_key) + 1)
    return _hashed_row_ids(keys)


@_jit
def _raw_words(block):
    """Rows as uint64 words holding their raw entries side by side (lossless).

    An entry of b bits (the dtype's width) occupies b bits, 64 // b entries a word;
    returns (n, ceil(d / (64 // b))) uint64. Equal rows, equal words; distinct rows, distinct words.
    """
    n, d = block.shape
    bits = block.itemsize * 8
    per_word = 64 // bits
    n_words = (d + per_word - 1) // per_word
    mask = ~np.uint64(0) if bits == 64 else (_U1 << np.uint64(bits)) - _U1
    shift = np.uint64(bits % 64)
    words = np.empty((n, n_words), np.uint64)
    for i in range(n):
        key = np.uint64(0)
        w = 0
        filled = 0
        for j in range(d):
            key = (key << shift) | (np.uint64(np.int64(block[i, j])) & mask)
            filled += 1
            if filled == per_word:
                words[i, w] = key
                w += 1
                filled = 0
                key = np.uint64(0)
        if filled > 0:
            words[i, w] = key
    return words


@_jit
def word_ids(words, max_key):
    """Dense ids of rows already packed losslessly into uint64 words (n, w).

    max_key bounds the keys when w == 1 (a small bound allows a direct table).
    """
    if words.shape[1] == 1:
        return _key_ids(words, max_key)
    return _hashed_row_ids(words)


@_jit
def row_ids(block):
    """Dense ids of the rows of a 2-D integer block; equal ids iff equal rows.

    block: (n, d) integer array, n >= 1, d >= 1, any memory layout.
    Returns (ids: (n,) int64 in 0..k-1, k: number of distinct rows).
    """
    d = block.shape[1]
    if d > 64:
        return _hashed_row_ids(block)
    bits = d * block.itemsize * 8
    max_key = ~np.uint64(0) if bits >= 64 else (_U1 << np.uint64(bits)) - _U1
    return word_ids(_raw_words(block), max_key)


@_jit
def _entropy_of_counts(counts, n):
    """H = log2 n - (1/n) sum_c c log2 c, summed over a histogram of the counts.

    Summing by count value (in increasing order) makes the result depend only on the
    multiset of counts, not on how symbols are numbered: two partitions with the same
    counts give bit-identical entropies, so e.g. H(T2 | T1) is exactly 0 when T2 is a
    function of T1.
    """
    largest = 0
    for c in counts:
        if c > largest:
            largest = c
    histogram = np.zeros(largest + 1, np.int64)
    for c in counts:
        histogram[c] += 1
    s = 0.0
    for c in range(2, largest + 1):
        if histogram[c] > 0:
            s += histogram[c] * (c * np.log2(c))
    h = np.log2(n) - s / n
    return h if h > 0.0 else 0.0


@_jit
def entropy_of_ids(ids, k):
    """Plug-in entropy (bits) of the empirical distribution of ids in 0..k-1."""
    counts = np.zeros(k, np.int64)
    for i in range(ids.shape[0]):
        counts[ids[i]] += 1
    return _entropy_of_counts(counts, ids.shape[0])


@_jit
def joint_entropy_of_ids(ids_a, ka, ids_b, kb):
    """H(A, B) in bits from two id arrays; a ka x kb count table when it is small, else hashing."""
    n = ids_a.shape[0]
    if ka * kb <= 4 * n + _SMALL_SPACE:
        counts = np.zeros(ka * kb, np.int64)
        for i in range(n):
            counts[ids_a[i] * kb + ids_b[i]] += 1
        return _entropy_of_counts(counts, n)
    keys = np.empty(n, np.uint64)
    for i in range(n):
        keys[i] = np.uint64(ids_a[i]) * np.uint64(kb) + np.uint64(ids_b[i])
    joint, kj = _hashed_row_ids(keys.reshape(n, 1))
    return entropy_of_ids(joint, kj)


@_jit
def layer_information_of_block(block, labels, n_classes, h_labels):
    """(I(X;T), I(T;Y)) in bits for a deterministic layer T given by its codes.

    block: (n, d) integer codes; labels: (n,) int64 in 0..n_classes-1;
    h_labels: H(Y) in bits. I(X;T) = H(T); I(T;Y) = H(T) + H(Y) - H(T, Y).
    """
    ids, k = row_ids(block)
    return information_of_ids(ids, k, labels, n_classes, h_labels)


@_jit
def information_of_ids(ids, k, labels, n_classes, h_labels):
    """(H(T), I(T;Y)) in bits from row ids of T (0..k-1) and label ids (0..n_classes-1)."""
    h_t = entropy_of_ids(ids, k)
    i_ty = h_t + h_labels - joint_entropy_of_ids(ids, k, labels, n_classes)
    return h_t, (i_ty if i_ty > 0.0 else 0.0)


@_jit
def _batch_task(codes, bounds, labels, n_classes, h_labels, t, out):
    n_layers = bounds.shape[0] - 1
    s = t // n_layers
    layer = t % n_layers
    block = codes[s, :, bounds[layer]:bounds[layer + 1]]
    i_xt, i_ty = layer_information_of_block(block, labels, n_classes, h_labels)
    out[s, layer, 0] = i_xt
    out[s, layer, 1] = i_ty


@_jit
def information_batch(codes, bounds, labels, n_classes, h_labels, out):
    """Information-plane coordinates of many layers and seeds in one call.

    codes: (S, n, D) integer array, the layers' codes side by side along the last
    axis; bounds: (L + 1,) int64 column offsets of the L layers; labels: (n,) int64;
    out: (S, L, 2) float64, filled with (I(X;T), I(T;Y)) in bits.
    """
    n_tasks = codes.shape[0] * (bounds.shape[0] - 1)
    for t in range(n_tasks):
        _batch_task(codes, bounds, labels, n_classes, h_labels, t, out)


@njit(parallel=True, **_OPTIONS)
def information_batch_parallel(codes, bounds, labels, n_classes, h_labels, out):
    """As :func:`information_batch`, with the (seed, layer) tasks spread over threads."""
    n_tasks = codes.shape[0] * (bounds.shape[0] - 1)
    for t in prange(n_tasks):
        _batch_task(codes, bounds, labels, n_classes, h_labels, t, out)
