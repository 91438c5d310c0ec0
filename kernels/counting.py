"""Exact counting of the distinct rows of an integer array.

Every row of a ``(n, d)`` integer block is one joint symbol. Two rows are the same
symbol if and only if all their entries are equal:

1. rows of up to 64 bytes are packed losslessly, raw entries side by side, into
   ``uint64`` words (an int8 row of 8 entries is one word), column by column, so
   the feature-major codes the trainer produces are read in order;
2. one-word keys that are all small (``< 4 n + 1024``) index a direct lookup
   table; other rows go through an open-addressing hash table (at most a
   quarter full) in which a slot matches only if the key (one word) or the hash and
   then every packed word (longer rows) are equal; rows wider than 64 bytes are
   hashed and compared entry by entry. A hash collision can never merge two
   distinct rows.

For an information-plane point one pass over the rows fills a (symbol, label)
count table; H(T) and H(T, Y) come from it (no second pass, no id array). Entropies
are plug-in entropies of the empirical distribution, in bits, summed over the
histogram of the counts so that relabelling symbols gives bit-identical results.
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
    while size < 4 * n:
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
def integer_ids(values):
    """Dense ids of integers: equal values, equal ids; numbered by first appearance.

    values: (n,) integer array, n >= 1 (uint64 is read as int64: injective).
    Returns (ids: (n,) int64, k: number of distinct values).
    """
    n = values.shape[0]
    lo = np.int64(values[0])
    hi = lo
    for i in range(n):
        v = np.int64(values[i])
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    keys = np.empty(n, np.uint64)
    for i in range(n):
        keys[i] = np.uint64(np.int64(values[i]) - lo)  # wraps mod 2**64: injective
    return row_ids(keys.reshape(n, 1))  # keys 0..hi-lo: a direct table when the range is small


_MAX_PACKED_WORDS = 8  # rows of up to 64 bytes are packed into words; wider rows hash their units


@_jit
def _packed_words(block):
    """The rows of block as uint64 words holding their raw entries side by side (lossless).

    block: (n, d) integer array, any memory layout. An entry of b bits (the dtype's
    width) takes b bits, ``64 // b`` entries a word. Returns ``(n_words, n)`` uint64:
    ``words[:, i]`` is row i. Equal rows, equal words; distinct rows, distinct words.
    Filled column by column, so a feature-major block (rows strided, columns
    contiguous) is read in order and the loops vectorise.
    """
    n, d = block.shape
    bits = block.itemsize * 8
    per_word = 64 // bits
    n_words = (d + per_word - 1) // per_word
    mask = ~np.uint64(0) if bits == 64 else (_U1 << np.uint64(bits)) - _U1
    words = np.zeros((n_words, n), np.uint64)
    for j in range(d):
        w = j // per_word
        shift = np.uint64((j % per_word) * bits)
        for i in range(n):
            words[w, i] |= (np.uint64(np.int64(block[i, j])) & mask) << shift
    return words


@_jit
def _word_hashes(words):
    """(n,) uint64 hashes of the packed rows (columns of words)."""
    n_words, n = words.shape
    hashes = np.empty(n, np.uint64)
    for i in range(n):
        hashes[i] = _step(np.uint64(0x243F6A8885A308D3), words[0, i])
    for w in range(1, n_words):
        for i in range(n):
            hashes[i] = _step(hashes[i], words[w, i])
    for i in range(n):
        hashes[i] = _mix64(hashes[i])
    return hashes


@_jit
def _tabulate(block, labels, n_classes, ids):
    """Count the distinct rows of a block in one pass, with their labels.

    block: (n, d) integer array (any memory layout) whose rows fit in
    ``_MAX_PACKED_WORDS`` words; labels: (n,) int64 in 0..n_classes-1 (pass zeros
    and n_classes=1 to count rows only); ids: (n,) int64 filled with dense row ids
    (numbered by first appearance), or empty to skip them.
    Returns ``(joint, k)``: k distinct rows; ``joint[v * n_classes + c]`` the
    number of rows equal to row-symbol v with label c (v < k).

    Rows are packed losslessly into words. One-word keys all below ``4 n + 1024``
    index a direct table; other rows go through an open-addressing hash table in
    which a slot matches only if every packed word is equal, so a hash collision can
    never merge distinct rows.
    """
    n = block.shape[0]
    with_ids = ids.shape[0] == n
    words = _packed_words(block)
    n_words = words.shape[0]
    joint = np.empty(n * n_classes, np.int32)
    k = 0
    one_word = n_words == 1
    largest = np.uint64(0)
    if one_word:
        for i in range(n):
            if words[0, i] > largest:
                largest = words[0, i]
    if one_word and largest < np.uint64(4 * n + _SMALL_SPACE):
        lut = np.full(np.int64(largest) + 1, -1, np.int64)
        for i in range(n):
            key = words[0, i]
            v = lut[key]
            if v < 0:
                v = k
                lut[key] = k
                for c in range(n_classes):
                    joint[k * n_classes + c] = 0
                k += 1
            joint[v * n_classes + labels[i]] += 1
            if with_ids:
                ids[i] = v
        return joint, k
    # slot_key: a one-word row's key itself, or the hash of a longer row (whose words
    # are then compared with those of the symbol's first row)
    hashes = words[0] if one_word else _word_hashes(words)
    word_rows = words.T  # (n, n_words) view: row i's packed words
    size = _table_size(n)
    slot_mask = np.uint64(size - 1)
    slot_id = np.full(size, -1, np.int32)
    slot_key = np.empty(size, np.uint64)
    first = np.empty(n, np.int32)
    for i in range(n):
        key = hashes[i]
        slot = (_mix64(key) if one_word else key) & slot_mask
        while True:
            v = slot_id[slot]
            if v < 0:
                v = k
                slot_id[slot] = k
                slot_key[slot] = key
                first[k] = i
                for c in range(n_classes):
                    joint[k * n_classes + c] = 0
                k += 1
                break
            if slot_key[slot] == key and (one_word or _rows_equal(word_rows, first[v], i)):
                break
            slot = (slot + _U1) & slot_mask
        joint[v * n_classes + labels[i]] += 1
        if with_ids:
            ids[i] = v
    return joint, k


@_jit
def _plug_in_entropies(joint, k, n_classes, n):
    """(H(T), H(T, Y)) in bits from a (row-symbol, label) count table (see :func:`_tabulate`).

    Each entropy is log2 n - (1/n) sum_c h[c] c log2 c over the histogram h of the
    counts, summed in increasing c: the result depends only on the multiset of
    counts, not on how symbols are numbered (two partitions with equal counts give
    bit-identical entropies, so e.g. H(T2 | T1) is exactly 0 when T2 is a function of T1).
    """
    if k == n:  # every row distinct: both sums below are empty
        return np.log2(n), np.log2(n)
    totals = np.empty(k, np.int64)
    largest = 1
    for v in range(k):
        total = 0
        for c in range(n_classes):
            total += joint[v * n_classes + c]
        totals[v] = total
        if total > largest:
            largest = total
    hist_t = np.zeros(largest + 1, np.int64)
    hist_ty = np.zeros(largest + 1, np.int64)
    for v in range(k):
        if totals[v] > 1:
            hist_t[totals[v]] += 1
            for c in range(n_classes):
                hist_ty[joint[v * n_classes + c]] += 1
    return _entropy_of_histogram(hist_t, n), _entropy_of_histogram(hist_ty, n)


@_jit
def _packs(block):
    """Whether the rows of block fit the packed path of :func:`_tabulate`."""
    per_word = 64 // (block.itemsize * 8)
    return (block.shape[1] + per_word - 1) // per_word <= _MAX_PACKED_WORDS


@_jit
def row_ids(block):
    """Dense ids of the rows of a 2-D integer block; equal ids iff equal rows.

    block: (n, d) integer array, n >= 1, d >= 1, any memory layout.
    Returns (ids: (n,) int64 in 0..k-1, numbered by first appearance; k: number of distinct rows).
    """
    if not _packs(block):
        return _hashed_row_ids(block)
    n = block.shape[0]
    ids = np.empty(n, np.int64)
    k = _tabulate(block, np.zeros(n, np.int64), 1, ids)[1]
    return ids, k


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
    return _entropy_of_histogram(histogram, n)


@_inline
def _entropy_of_histogram(histogram, n):
    """log2 n - (1/n) sum_c histogram[c] c log2 c over counts c in increasing order (bits);
    histogram[c] = number of symbols seen c times, n = number of samples."""
    s = 0.0
    for c in range(2, histogram.shape[0]):
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
    joint, kj = row_ids(keys.reshape(n, 1))
    return entropy_of_ids(joint, kj)


@_jit
def layer_information_of_block(block, labels, n_classes, h_labels):
    """(I(X;T), I(T;Y)) in bits for a deterministic layer T given by its codes.

    block: (n, d) integer codes (any memory layout); labels: (n,) int64 in
    0..n_classes-1; h_labels: H(Y) in bits. I(X;T) = H(T); I(T;Y) = H(T) + H(Y) - H(T, Y).
    Rows and (row, label) pairs are counted in the same pass.
    """
    i_xt, i_ty, _ = _layer_information(block, labels, n_classes, h_labels)
    return i_xt, i_ty


@_jit
def _layer_information(block, labels, n_classes, h_labels):
    """:func:`layer_information_of_block` and the number of distinct rows."""
    if not _packs(block):
        ids, k = _hashed_row_ids(block)
        i_xt, i_ty = information_of_ids(ids, k, labels, n_classes, h_labels)
        return i_xt, i_ty, k
    joint, k = _tabulate(block, labels, n_classes, np.empty(0, np.int64))
    h_t, h_ty = _plug_in_entropies(joint, k, n_classes, block.shape[0])
    i_ty = h_t + h_labels - h_ty
    return h_t, (i_ty if i_ty > 0.0 else 0.0), k


@_jit
def information_of_ids(ids, k, labels, n_classes, h_labels):
    """(H(T), I(T;Y)) in bits from row ids of T (0..k-1) and label ids (0..n_classes-1)."""
    h_t = entropy_of_ids(ids, k)
    i_ty = h_t + h_labels - joint_entropy_of_ids(ids, k, labels, n_classes)
    return h_t, (i_ty if i_ty > 0.0 else 0.0)


@_jit
def _batch_task(codes, bounds, labels, n_classes, h_labels, chain, t, out):
    """Task t: one (seed, layer) pair, or with ``chain`` all layers of seed t."""
    n_layers = bounds.shape[0] - 1
    if not chain:
        s, layer = t // n_layers, t % n_layers
        block = codes[s, :, bounds[layer]:bounds[layer + 1]]
        out[s, layer, 0], out[s, layer, 1], _ = _layer_information(block, labels, n_classes, h_labels)
        return
    # from the last layer back: a layer whose successor has n distinct rows has n distinct
    # rows too, the same count histograms and so bit-identical numbers, without counting
    injective = False
    for layer in range(n_layers - 1, -1, -1):
        if injective:
            out[t, layer, 0], out[t, layer, 1] = out[t, layer + 1, 0], out[t, layer + 1, 1]
            continue
        block = codes[t, :, bounds[layer]:bounds[layer + 1]]
        out[t, layer, 0], out[t, layer, 1], k = _layer_information(block, labels, n_classes, h_labels)
        injective = k == codes.shape[1]


@_jit
def information_batch(codes, bounds, labels, n_classes, h_labels, chain, out):
    """Information-plane coordinates of many layers and seeds in one call.

    codes: (S, n, D) integer array, the layers' codes side by side along the last
    axis; bounds: (L + 1,) int64 column offsets of the L layers; labels: (n,) int64;
    chain: the layers are successive layers of one deterministic network (layer l + 1's
    codes a function of layer l's), which lets layers before an injective one skip counting;
    out: (S, L, 2) float64, filled with (I(X;T), I(T;Y)) in bits.
    """
    n_tasks = codes.shape[0] if chain else codes.shape[0] * (bounds.shape[0] - 1)
    for t in range(n_tasks):
        _batch_task(codes, bounds, labels, n_classes, h_labels, chain, t, out)


@njit(parallel=True, **_OPTIONS)
def information_batch_parallel(codes, bounds, labels, n_classes, h_labels, chain, out):
    """As :func:`information_batch`, with the tasks spread over threads."""
    n_tasks = codes.shape[0] if chain else codes.shape[0] * (bounds.shape[0] - 1)
    for t in prange(n_tasks):
        _batch_task(codes, bounds, labels, n_classes, h_labels, chain, t, out)
