"""Information-plane coordinates of layers of integer codes, counted exactly.

Every row of a layer's codes is one joint symbol; two rows are the same symbol if and only
if all their entries are equal. The kernels read a *stack* of S seeds' codes: a
C-contiguous 3-D array of unsigned integers ("units") in one of two orientations,

- row-major, ``units: (S, n, D)``: row i of a layer of seed s is ``units[s, i, lo:hi]``;
- feature-major, ``units: (S, D, n)``: column j of seed s is ``units[s, j, :]`` (the layout
  the trainer produces);

with the layers side by side along D, ``bounds[l]:bounds[l + 1]`` the units of layer l.
Narrow rows (up to 64 bytes) are packed into words and counted in one pass that also fills
a (symbol, label) count table (rows.py); wider rows are hashed and every hash match is
verified entry by entry (wide.py). Entropies are plug-in entropies in bits (entropy.py).
Memory is O(n) per layer: the (symbol, label) table holds k x K counts only for
K <= 64 label classes; with more classes, (symbol, label) pairs are counted by hashing.
"""

import numpy as np

from ._common import SMALL_SPACE, TABLE_CLASSES, jit
from .entropy import entropy_of_counts, entropy_of_ids, plug_in_entropies
from .rows import is_narrow, key_ids, tabulate
from .wide import wide_column_ids, wide_row_ids


@jit
def joint_entropy_of_ids(ids_a, ka, ids_b, kb):
    """H(A, B) in bits from two id arrays; a ka x kb count table when it is small, else hashing."""
    n = ids_a.shape[0]
    if ka * kb <= 4 * n + SMALL_SPACE:
        counts = np.zeros(ka * kb, np.int64)
        for i in range(n):
            counts[ids_a[i] * kb + ids_b[i]] += 1
        return entropy_of_counts(counts, n)
    keys = np.empty(n, np.uint64)
    for i in range(n):
        keys[i] = np.uint64(ids_a[i]) * np.uint64(kb) + np.uint64(ids_b[i])  # ka, kb <= n: < 2^62, no overflow
    joint, kj = key_ids(keys)
    return entropy_of_ids(joint, kj)


@jit
def information_of_ids(ids, k, labels, n_classes, h_labels):
    """(H(T), I(T;Y)) in bits from row ids of T (0..k-1) and label ids (0..n_classes-1)."""
    h_t = entropy_of_ids(ids, k)
    i_ty = h_t + h_labels - joint_entropy_of_ids(ids, k, labels, n_classes)
    return h_t, (i_ty if i_ty > 0.0 else 0.0)


@jit
def _wide_ids(units, feature_major, s, lo, hi, ids):
    if feature_major:
        return wide_column_ids(units, s, lo, hi, ids)
    return wide_row_ids(units, s, lo, hi, ids)


@jit
def layer_ids(units, feature_major, s, lo, hi, ids):
    """Fill ids: (n,) int64 with dense row ids of one layer (equal ids iff equal rows,
    numbered by first appearance) and return k, the number of distinct rows."""
    n = ids.shape[0]
    if is_narrow(units.itemsize, hi - lo):
        if feature_major:
            return tabulate(units[s, lo:hi].T, np.zeros(n, np.int64), 1, ids)[1]
        return tabulate(units[s, :, lo:hi], np.zeros(n, np.int64), 1, ids)[1]
    return _wide_ids(units, feature_major, s, lo, hi, ids)


@jit
def stack_row_ids(units, feature_major, s, lo, hi):
    """Dense row ids of the layer ``lo:hi`` of seed s: (ids: (n,) int64, k)."""
    n = units.shape[2] if feature_major else units.shape[1]
    ids = np.empty(n, np.int64)
    k = layer_ids(units, feature_major, s, lo, hi, ids)
    return ids, k


@jit
def row_ids(block):
    """Dense row ids of a 2-D integer block ``(n, d)`` (any integer dtype): ``(ids: (n,) int64, k)``,
    equal ids iff equal rows, numbered by first appearance."""
    block = np.ascontiguousarray(block)
    return stack_row_ids(block.reshape((1,) + block.shape), False, 0, 0, block.shape[1])


@jit
def _joint_table(ids, k, labels, n_classes):
    """(symbol, label) int32 counts ``joint[v * n_classes + c]`` from row ids and label ids."""
    joint = np.zeros(k * n_classes, np.int32)
    for i in range(ids.shape[0]):
        joint[ids[i] * n_classes + labels[i]] += 1
    return joint


@jit
def layer_plane(units, feature_major, s, lo, hi, labels, n_classes, h_labels):
    """(I(X;T), I(T;Y), k) of one layer: bits, bits, number of distinct rows.

    labels: (n,) int64 in 0..n_classes-1; h_labels: H(Y) in bits.
    I(X;T) = H(T); I(T;Y) = H(T) + H(Y) - H(T, Y).
    """
    n = labels.shape[0]
    few_classes = n_classes <= TABLE_CLASSES
    if is_narrow(units.itemsize, hi - lo):
        # one pass fills the (symbol, label) table; with many classes, it numbers the rows only
        table_labels = labels if few_classes else np.zeros(n, np.int64)
        table_classes = n_classes if few_classes else 1
        ids = np.empty(0 if few_classes else n, np.int64)
        if feature_major:
            joint, k = tabulate(units[s, lo:hi].T, table_labels, table_classes, ids)
        else:
            joint, k = tabulate(units[s, :, lo:hi], table_labels, table_classes, ids)
    else:
        ids = np.empty(n, np.int64)
        k = _wide_ids(units, feature_major, s, lo, hi, ids)
        joint = _joint_table(ids, k, labels, n_classes) if few_classes else np.empty(0, np.int32)
    if not few_classes:  # (symbol, label) pairs hashed: O(n) memory
        h_t, i_ty = information_of_ids(ids, k, labels, n_classes, h_labels)
        return h_t, i_ty, k
    h_t, h_ty = plug_in_entropies(joint, k, n_classes, n)
    i_ty = h_t + h_labels - h_ty
    return h_t, (i_ty if i_ty > 0.0 else 0.0), k


@jit
def information_batch(units, feature_major, bounds, labels, n_classes, h_labels, chain, tasks, out, counts):
    """Information-plane coordinates of many layers and seeds in one call.

    units: a stack (module docstring) of S seeds, row-major (S, n, D) or, with
    ``feature_major``, (S, D, n); bounds: (L + 1,) int64 unit offsets of the L layers along
    D; labels: (n,) int64 in 0..n_classes-1; h_labels: H(Y) in bits; chain: the layers are
    successive layers of one deterministic network (layer l + 1's codes a function of layer
    l's), which lets layers before an injective one skip counting.
    tasks: int64 task numbers to run (so that callers can share the tasks among threads:
    the kernel holds no GIL): task t is the (seed, layer) pair (t // L, t % L), or with
    ``chain`` all layers of seed t.
    out: (S, L, 2) float64, filled with (I(X;T), I(T;Y)) in bits; counts: (S, L) int64,
    filled with the number of distinct rows of each layer (for the tasks run).
    """
    n_layers = bounds.shape[0] - 1
    for t in tasks:
        if not chain:
            s, layer = t // n_layers, t % n_layers
            out[s, layer, 0], out[s, layer, 1], counts[s, layer] = layer_plane(
                units, feature_major, s, bounds[layer], bounds[layer + 1], labels, n_classes, h_labels)
            continue
        # from the last layer back: a layer whose successor has n distinct rows has n distinct
        # rows too, the same count histograms and so bit-identical numbers, without counting
        injective = False
        for layer in range(n_layers - 1, -1, -1):
            if injective:
                out[t, layer, 0], out[t, layer, 1] = out[t, layer + 1, 0], out[t, layer + 1, 1]
                counts[t, layer] = counts[t, layer + 1]
                continue
            out[t, layer, 0], out[t, layer, 1], counts[t, layer] = layer_plane(
                units, feature_major, t, bounds[layer], bounds[layer + 1], labels, n_classes, h_labels)
            injective = counts[t, layer] == labels.shape[0]
