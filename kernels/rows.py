"""Exact counting of narrow rows: symbols of up to 64 bytes, packed losslessly into words.

Every row of an ``(n, d)`` block is one joint symbol; two rows are the same symbol if and
only if all their entries are equal. A row of up to 64 bytes is packed, raw entries side
by side, into at most 8 ``uint64`` words, column by column (so feature-major blocks, whose
columns are contiguous, are read in order and the loops vectorise). One-word keys that are
all small (``< 4 n + 1024``) index a direct lookup table; other rows go through an
open-addressing hash table (at most a quarter full) in which a slot matches only if the
key (one word) or the hash and then every packed word (longer rows) are equal, so a hash
collision can never merge two distinct rows.
"""

import numpy as np

from ._common import SMALL_SPACE, U1, inline, jit, mix64, table_size

MAX_PACKED_WORDS = 8  # rows of up to 64 bytes are packed into words; wider rows: wide.py
_PRIME = np.uint64(0x9E3779B97F4A7C15)


@jit
def is_narrow(itemsize, d):
    """Whether rows of d entries of ``itemsize`` bytes fit the packed path (<= 64 bytes)."""
    per_word = 8 // itemsize
    return (d + per_word - 1) // per_word <= MAX_PACKED_WORDS


@inline
def _step(h, x):
    h = (h ^ x) * _PRIME
    return h ^ (h >> np.uint64(29))


@inline
def _rows_equal(units, a, b):
    for j in range(units.shape[1]):
        if units[a, j] != units[b, j]:
            return False
    return True


@jit
def _packed_words(block):
    """The rows of block as uint64 words holding their raw entries side by side (lossless).

    block: (n, d) unsigned integer array, any memory layout. An entry of b bits (the
    dtype's width) takes b bits, ``64 // b`` entries a word. Returns ``(n_words, n)``
    uint64: ``words[:, i]`` is row i. Equal rows, equal words; distinct rows, distinct
    words. Filled column by column, so a feature-major block (rows strided, columns
    contiguous) is read in order and the loops vectorise.
    """
    n, d = block.shape
    bits = block.itemsize * 8
    per_word = 64 // bits
    n_words = (d + per_word - 1) // per_word
    mask = ~np.uint64(0) if bits == 64 else (U1 << np.uint64(bits)) - U1
    words = np.zeros((n_words, n), np.uint64)
    for j in range(d):
        w = j // per_word
        shift = np.uint64((j % per_word) * bits)
        for i in range(n):
            words[w, i] |= (np.uint64(block[i, j]) & mask) << shift
    return words


@jit
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
        hashes[i] = mix64(hashes[i])
    return hashes


@jit
def tabulate(block, labels, n_classes, ids):
    """Count the distinct rows of a narrow block in one pass, with their labels.

    block: (n, d) integer array (any memory layout) whose rows take at most 64 bytes
    (:func:`is_narrow`); labels: (n,) int64 in 0..n_classes-1 (zeros and n_classes=1 to
    count rows only); ids: (n,) int64 filled with dense row ids (numbered by first
    appearance), or empty to skip them.
    Returns ``(joint, k)``: k distinct rows; ``joint[v * n_classes + c]`` (int32) the
    number of rows equal to row-symbol v with label c (v < k). Memory: n * n_classes counts.
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
    if one_word and largest < np.uint64(4 * n + SMALL_SPACE):
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
    size = table_size(n)
    slot_mask = np.uint64(size - 1)
    slot_id = np.full(size, -1, np.int32)
    slot_key = np.empty(size, np.uint64)
    first = np.empty(n, np.int32)
    for i in range(n):
        key = hashes[i]
        slot = (mix64(key) if one_word else key) & slot_mask
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
            slot = (slot + U1) & slot_mask
        joint[v * n_classes + labels[i]] += 1
        if with_ids:
            ids[i] = v
    return joint, k


@jit
def key_ids(keys):
    """Dense ids of uint64 keys: (n,) uint64 -> (ids: (n,) int64, k), numbered by first appearance."""
    n = keys.shape[0]
    ids = np.empty(n, np.int64)
    k = tabulate(keys.reshape(n, 1), np.zeros(n, np.int64), 1, ids)[1]
    return ids, k


@jit
def integer_ids(values):
    """Dense ids of integers: equal values, equal ids; numbered by first appearance.

    values: (n,) integer array, n >= 1 (uint64 is read as int64: injective).
    Returns (ids: (n,) int64, k: number of distinct values).
    """
    n = values.shape[0]
    lo = np.int64(values[0])
    for i in range(n):
        v = np.int64(values[i])
        if v < lo:
            lo = v
    keys = np.empty(n, np.uint64)
    for i in range(n):
        keys[i] = np.uint64(np.int64(values[i]) - lo)  # wraps mod 2**64: injective
    return key_ids(keys)  # keys 0..hi-lo: a direct table when the range is small
