"""Exact counting of wide rows: symbols of more than 64 bytes (conv-net feature maps).

A wide row is hashed; rows with equal hashes are then compared entry by entry, so a hash
never merges two distinct rows. The codes of a seed come in one of two orientations:

- row-major, ``units[s, i, lo:hi]`` is row i (contiguous): rows are hashed a cache-sized
  chunk at a time, then each goes into an open-addressing table (at most half full; a slot
  holds the hash, the symbol id and its first row) whose slot matches only if the hash and
  every unit agree with the symbol's first row;
- feature-major, ``units[s, j, :]`` is column j (contiguous, the trainer's layout): the
  columns are streamed (8 columns of 1-byte codes packed into one word per row, one word
  per entry for wider codes; the hashes of a chunk of rows updated at a time, vectorised
  over rows), the table groups rows by hash, and every row grouped with an earlier one is
  then compared with that row in every column (column by column when such rows are few,
  else through words of packed columns). If any comparison fails (two distinct rows with
  equal 64-bit hashes: not expected in practice, but possible), the layer is copied
  row-major and counted by the row-major path, which compares at insertion.

Cost: one pass over the codes plus, for every row equal to an earlier one, a read of that
earlier row (random access): rows that repeat make the count slower, never inexact.

The hash is NH (Black, Halevi, Krawczyk, Krovetz & Rogaway, "UMAC: fast and secure message
authentication", CRYPTO 1999, https://doi.org/10.1007/3-540-48405-1_14) over the row's
64-bit words w_g (its 8-byte units; or pairs of narrower units, one in each 32-bit half;
8 packed 1-byte columns in the feature-major path), with two fixed pseudo-random keys k, k':

    NH_k(row) = sum_g ((lo(w_g) + lo(k_g)) mod 2^32) * ((hi(w_g) + hi(k_g)) mod 2^32)  mod 2^64,

lo/hi the 32-bit halves; the two sums are mixed into one 64-bit hash. For two distinct rows
of equal length, one NH sum collides with probability at most 2^-32 over random keys. The
sum is a vectorisable reduction of 32 x 32 -> 64-bit products, so hashing runs near memory
speed. Hash quality only affects speed here, never the counts.
"""

import numpy as np

from ._common import U1, inline, jit, mix64

_M32 = np.uint64(0xFFFFFFFF)
_CHUNK_BYTES = 1 << 18  # row-major: rows hashed ahead of their insertion (~256 KiB, stays in L2)
_COLUMN_CHUNK = 4096  # feature-major: rows whose hashes are updated per column pass


@jit
def _nh_keys(n_words):
    """Two (n_words,) uint64 key arrays from a fixed splitmix64 sequence."""
    keys = np.empty((2, n_words), np.uint64)
    x = np.uint64(0x243F6A8885A308D3)
    for lane in range(2):
        for g in range(n_words):
            x += np.uint64(0x9E3779B97F4A7C15)
            keys[lane, g] = mix64(x)
    return keys[0], keys[1]


@inline
def _nh(w, k):
    lo = (w + k) & _M32  # (lo(w) + lo(k)) mod 2^32
    hi = ((w >> np.uint64(32)) + (k >> np.uint64(32))) & _M32
    return lo * hi


@jit
def row_words(itemsize, d):
    """Words of a row of d units as :func:`_row_hash` hashes it: the units themselves when
    they are 8 bytes wide, else pairs of units (one in each 32-bit half)."""
    return d if itemsize == 8 else (d + 1) // 2


@inline
def _row_hash(r, k0, k1):
    """NH hash of the 1-D unsigned units r (k0, k1: one key per word, :func:`row_words`).

    8-byte units are the words; narrower units are paired, ``w = r[2g] | r[2g + 1] << 32``
    (an odd last unit with 0): both halves of a word are then units, so the loop reads
    every unit once and vectorises whatever the unit width.
    """
    a = np.uint64(0)
    c = np.uint64(0)
    if r.itemsize == 8:
        for g in range(r.shape[0]):
            a += _nh(np.uint64(r[g]), k0[g])
            c += _nh(np.uint64(r[g]), k1[g])
        return mix64(a ^ mix64(c))
    half = r.shape[0] // 2
    for g in range(half):
        w = np.uint64(r[2 * g]) | (np.uint64(r[2 * g + 1]) << np.uint64(32))
        a += _nh(w, k0[g])
        c += _nh(w, k1[g])
    if 2 * half < r.shape[0]:
        w = np.uint64(r[2 * half])
        a += _nh(w, k0[half])
        c += _nh(w, k1[half])
    return mix64(a ^ mix64(c))


@inline
def _same_units(a, b):
    """Whether two 1-D unit arrays of equal length are equal (no early exit: vectorises)."""
    diff = np.uint64(0)
    for j in range(a.shape[0]):
        diff |= np.uint64(a[j] ^ b[j])
    return diff == 0


@jit
def _table_size(n):
    """Slots of a wide path's table: a power of two >= 2 n (at most half full; a slot is 16 bytes)."""
    size = 16
    while size < 2 * n:
        size *= 2
    return size


@inline
def _slot_entry(v, row):
    """A table slot's second word: symbol id v + 1 (0 marks an empty slot) and its first row."""
    return (np.uint64(v + 1) << np.uint64(32)) | np.uint64(row)


@jit
def wide_row_ids(units, s, lo, hi, ids):
    """Dense row ids of a wide row-major layer, exact.

    units: (S, n, D) C-contiguous unsigned integer array; row i of the layer is
    ``units[s, i, lo:hi]`` (hi > lo). ids: (n,) int64, filled with ids numbered by first
    appearance (equal ids iff equal rows). Returns k, the number of distinct rows.
    The table's slots hold (hash, symbol id and first row) side by side: one cache line a probe.
    """
    n = units.shape[1]
    d = hi - lo
    k0, k1 = _nh_keys(row_words(units.itemsize, d))
    chunk = max(1, _CHUNK_BYTES // (d * units.itemsize))
    size = _table_size(n)
    mask = np.uint64(size - 1)
    slots = np.zeros((size, 2), np.uint64)
    hashes = np.empty(min(chunk, n), np.uint64)
    k = 0
    for i0 in range(0, n, chunk):
        m = min(chunk, n - i0)
        for t in range(m):
            hashes[t] = _row_hash(units[s, i0 + t, lo:hi], k0, k1)
        for t in range(m):  # the chunk's rows are still in cache for the comparisons
            i = i0 + t
            h = hashes[t]
            slot = h & mask
            while True:
                entry = slots[slot, 1]
                if entry == 0:
                    v = k
                    slots[slot, 0] = h
                    slots[slot, 1] = _slot_entry(k, i)
                    k += 1
                    break
                if slots[slot, 0] == h and _same_units(units[s, np.int64(entry & _M32), lo:hi], units[s, i, lo:hi]):
                    v = np.int64(entry >> np.uint64(32)) - 1
                    break
                slot = (slot + U1) & mask
            ids[i] = v
    return k


@jit
def _column_hashes(units, s, lo, hi, k0, k1, hashes):
    """Row hashes of a feature-major layer (columns ``units[s, j, :]``, lo <= j < hi).

    1-byte units: 8 columns are packed into a word per row (the words of the rows' 8-byte
    view, hashed as :func:`_row_hash` hashes them); wider units: each entry is a word of its own
    (k0, k1: one key per word). The two NH sums of a chunk of rows are updated one word
    (group of columns) at a time, vectorised over the rows.
    """
    n = units.shape[2]
    a = np.empty(min(_COLUMN_CHUNK, n), np.uint64)
    c = np.empty(min(_COLUMN_CHUNK, n), np.uint64)
    for i0 in range(0, n, _COLUMN_CHUNK):
        m = min(_COLUMN_CHUNK, n - i0)
        a[:m] = 0
        c[:m] = 0
        for g in range(k0.shape[0]):
            ka, kc = k0[g], k1[g]
            if units.itemsize > 1:
                c0 = units[s, lo + g, i0:]
                for t in range(m):
                    a[t] += _nh(np.uint64(c0[t]), ka)
                    c[t] += _nh(np.uint64(c0[t]), kc)
                continue
            j = lo + 8 * g
            if j + 8 <= hi:
                c0, c1, c2, c3 = units[s, j, i0:], units[s, j + 1, i0:], units[s, j + 2, i0:], units[s, j + 3, i0:]
                c4, c5, c6, c7 = units[s, j + 4, i0:], units[s, j + 5, i0:], units[s, j + 6, i0:], units[s, j + 7, i0:]
                for t in range(m):
                    w = (np.uint64(c0[t]) | (np.uint64(c1[t]) << np.uint64(8))
                         | (np.uint64(c2[t]) << np.uint64(16)) | (np.uint64(c3[t]) << np.uint64(24))
                         | (np.uint64(c4[t]) << np.uint64(32)) | (np.uint64(c5[t]) << np.uint64(40))
                         | (np.uint64(c6[t]) << np.uint64(48)) | (np.uint64(c7[t]) << np.uint64(56)))
                    a[t] += _nh(w, ka)
                    c[t] += _nh(w, kc)
            else:  # the last, partial word (zero-padded)
                for t in range(m):
                    w = np.uint64(0)
                    for q in range(hi - j):
                        w |= np.uint64(units[s, j + q, i0 + t]) << np.uint64(8 * q)
                    a[t] += _nh(w, ka)
                    c[t] += _nh(w, kc)
        for t in range(m):
            hashes[i0 + t] = mix64(a[t] ^ mix64(c[t]))


@jit
def column_words(itemsize, d):
    """Words of a feature-major row of d entries as :func:`_column_hashes` hashes it."""
    return (d + 7) // 8 if itemsize == 1 else d


@jit
def _pairs_differ(units, s, lo, hi, later, earlier, n_pairs):
    """Whether some pair of rows (later[p], earlier[p]), p < n_pairs, of a feature-major layer
    differs in some column. Few pairs: compared column by column; many: a word of packed
    columns is built for every row (one streaming pass) and the pairs compare words."""
    n = units.shape[2]
    per_word = 8 // units.itemsize
    bits = units.itemsize * 8
    diff = np.uint64(0)
    if n_pairs * 2 * per_word <= n:
        for j in range(lo, hi):
            col = units[s, j]
            for p in range(n_pairs):
                diff |= np.uint64(col[later[p]] ^ col[earlier[p]])
            if diff != 0:
                return True
        return False
    words = np.empty(n, np.uint64)
    for j0 in range(lo, hi, per_word):
        col = units[s, j0]
        for i in range(n):
            words[i] = np.uint64(col[i])
        for q in range(1, min(per_word, hi - j0)):
            col = units[s, j0 + q]
            shift = np.uint64(q * bits)
            for i in range(n):
                words[i] |= np.uint64(col[i]) << shift
        for p in range(n_pairs):
            diff |= words[later[p]] ^ words[earlier[p]]
        if diff != 0:
            return True
    return False


@jit
def wide_column_ids(units, s, lo, hi, ids):
    """Dense row ids of a wide feature-major layer, exact.

    units: (S, D, n) C-contiguous unsigned integer array; column j of the layer is
    ``units[s, j, :]`` (lo <= j < hi). ids: (n,) int64, filled with ids numbered by first
    appearance (equal ids iff equal rows). Returns k, the number of distinct rows.
    Memory: O(n), plus a row-major copy of the layer if a hash collision is found.
    """
    n = units.shape[2]
    d = hi - lo
    k0, k1 = _nh_keys(column_words(units.itemsize, d))
    hashes = np.empty(n, np.uint64)
    _column_hashes(units, s, lo, hi, k0, k1, hashes)
    # group rows by hash; each row grouped with an earlier one is listed with that row
    size = _table_size(n)
    mask = np.uint64(size - 1)
    slots = np.zeros((size, 2), np.uint64)
    later = np.empty(n, np.int32)
    earlier = np.empty(n, np.int32)
    n_pairs = 0
    k = 0
    for i in range(n):
        h = hashes[i]
        slot = h & mask
        while True:
            entry = slots[slot, 1]
            if entry == 0:
                v = k
                slots[slot, 0] = h
                slots[slot, 1] = _slot_entry(k, i)
                k += 1
                break
            if slots[slot, 0] == h:
                v = np.int64(entry >> np.uint64(32)) - 1
                later[n_pairs] = i
                earlier[n_pairs] = np.int64(entry & _M32)
                n_pairs += 1
                break
            slot = (slot + U1) & mask
        ids[i] = v
    if n_pairs == 0 or not _pairs_differ(units, s, lo, hi, later, earlier, n_pairs):
        return k
    # two distinct rows share a 64-bit hash: count a row-major copy, which compares at insertion
    rows = np.empty((1, n, d), units.dtype)
    for j in range(d):
        col = units[s, lo + j]
        for i in range(n):
            rows[0, i, j] = col[i]
    return wide_row_ids(rows, 0, 0, d, ids)
