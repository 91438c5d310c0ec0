"""Exact information quantities of integer codes (plug-in, in bits by default).

Every row of a code array is one joint symbol: two samples share a symbol if and
only if all their codes are equal. The probabilities are the empirical
frequencies over the ``n`` samples given, so the values are exact for that
empirical distribution (no binning, no estimator). For a deterministic layer
``T = f(X)`` evaluated on every input once, ``I(X;T) = H(T)``.

Shapes: ``codes`` is ``(n,)``, ``(n, d)`` or ``(n, d1, d2, ...)`` (trailing axes
flattened); ``labels`` is ``(n,)`` integers, bools, strings or integral floats, or an
:class:`EncodedLabels`. Results are in bits (``base=2``); pass ``base=np.e`` for nats.
"""

import functools
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from qnet import kernels
from qnet._checks import (
    EncodedLabels,
    as_code_stack,
    as_labels,
    as_symbols,
    check_code_array,
    check_layer_widths,
    check_same_length,
    log2_of_base,
    unsigned_units,
)


_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}


def _row_major(stack, bounds):
    """A C-contiguous (S, n, D) stack as the kernels read it, with its layer bounds.

    The codes are viewed as unsigned integers of the widest width (8, 4 or 2 bytes, else
    their own) into which every layer's bytes divide: equal rows iff equal units (lossless,
    whatever the sign or byte order), and fewer, wider units to pack and hash (uint8 rows of
    1352 codes are hashed as 169 words).
    """
    itemsize = stack.dtype.itemsize
    byte_bounds = [int(b) * itemsize for b in bounds]  # a few layers: plain ints are cheapest
    units = unsigned_units(stack)
    for size in (8, 4, 2):  # (a misaligned view is typed unaligned by Numba: still correct)
        if size > itemsize and all(b % size == 0 for b in byte_bounds):
            return units.view(_UNSIGNED[size]), False, np.array(byte_bounds, np.int64) // size
    return units, False, np.asarray(bounds, np.int64)


def _kernel_stack(stack, bounds):
    """(units, feature_major, bounds) for a validated (S, n, D) code stack, without copying
    when the stack is row-major or feature-major (an (S, n, D) view of an (S, D, n) array, as
    the trainer produces); any other layout is copied row-major."""
    if stack.flags.c_contiguous:
        return _row_major(stack, bounds)
    columns = stack.transpose(0, 2, 1)
    if columns.flags.c_contiguous:
        return unsigned_units(columns), True, np.asarray(bounds, np.int64)
    return _row_major(np.ascontiguousarray(stack), bounds)


def _block_stack(codes, name):
    """Validated 2-D codes ``(n, d)`` of one layer as a kernel stack of one seed (a C- or
    Fortran-ordered block is not copied)."""
    arr = check_code_array(codes, name)
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim != 2 else arr
    return _kernel_stack(arr[None], [0, arr.shape[1]])


def _row_ids(codes, name):
    """Dense row ids ``(ids, k)`` of a code array (or string symbols): equal ids iff equal rows."""
    units, feature_major, bounds = _block_stack(as_symbols(codes, name), name)
    return kernels.stack_row_ids(units, feature_major, 0, bounds[0], bounds[1])


def entropy(codes, base=2):
    """Plug-in entropy H(T) of the rows of ``codes``.

    H(T) = -sum_t p(t) log p(t), with p(t) the fraction of rows equal to t.
    codes: (n, ...) integer or bool codes, or strings (each entry one symbol).
    Returns a float in units of ``base`` (bits by default); 0 <= H <= log(n).
    """
    scale = log2_of_base(base)
    ids, k = _row_ids(codes, "codes")
    return kernels.entropy_of_ids(ids, k) / scale


def _pair(a, b, base):
    scale = log2_of_base(base)
    ids_a, ka = _row_ids(a, "a")
    ids_b, kb = _row_ids(b, "b")
    check_same_length(ids_a, ids_b, "a", "b")
    h_a, h_b = kernels.entropy_of_ids(ids_a, ka), kernels.entropy_of_ids(ids_b, kb)
    return h_a / scale, h_b / scale, kernels.joint_entropy_of_ids(ids_a, ka, ids_b, kb) / scale


def joint_entropy(a, b, base=2):
    """Joint entropy H(A, B) of two code arrays with the same number of rows.

    a, b: (n, ...) integer or bool codes, or strings (each entry one symbol, e.g. labels).
    """
    return _pair(a, b, base)[2]


def conditional_entropy(a, b, base=2):
    """Conditional entropy H(A | B) = H(A, B) - H(B) (a, b as in :func:`joint_entropy`)."""
    _, h_b, h_ab = _pair(a, b, base)
    return max(h_ab - h_b, 0.0)


def mutual_information(a, b, base=2):
    """Mutual information I(A; B) = H(A) + H(B) - H(A, B) (a, b as in :func:`joint_entropy`)."""
    h_a, h_b, h_ab = _pair(a, b, base)
    return max(h_a + h_b - h_ab, 0.0)


def encode_labels(labels):
    """Encode labels once for loops: an :class:`EncodedLabels` ``(ids, n_classes)``.

    labels: (n,) integers, bools, strings, or integral floats (MATLAB doubles 0.0/1.0 are
    converted exactly). ids: (n,) int64 in ``0..n_classes-1``. Pass the result as ``labels``
    to :func:`layer_information` or :func:`information_batch`; a plain ``(ids, K)`` tuple is
    not taken as pre-encoded.
    """
    return as_labels(labels, None)


def _labels_and_entropy(labels, n):
    ids, n_classes = as_labels(labels, n)
    return ids, n_classes, kernels.entropy_of_ids(ids, n_classes)


def layer_information(codes, labels, base=2):
    """Information-plane coordinates ``(I(X;T), I(T;Y))`` of one deterministic layer.

    codes: (n, ...) integer codes of the layer T on the n evaluation inputs X (any number of
    units; row-major or feature-major (Fortran-ordered) blocks are read without a copy);
    labels: (n,) labels Y or an :class:`EncodedLabels`. I(X;T) = H(T) and
    I(T;Y) = H(T) - H(T|Y), in units of ``base``. Memory O(n), whatever the number of classes.
    """
    scale = log2_of_base(base)
    units, feature_major, bounds = _block_stack(codes, "codes")
    n = units.shape[2] if feature_major else units.shape[1]
    ids, n_classes, h_y = _labels_and_entropy(labels, n)
    i_xt, i_ty, _ = kernels.layer_plane(units, feature_major, 0, bounds[0], bounds[1], ids, n_classes, h_y)
    return i_xt / scale, i_ty / scale


def _stack_layers(layers):
    """Concatenate layers given as (S, n, d_l) or (n, d_l) arrays into one (S, n, D) block."""
    if isinstance(layers, np.ndarray) or not hasattr(layers, "__len__"):
        raise TypeError("layers must be a sequence of code arrays (one per layer)")
    if len(layers) == 0:
        raise ValueError("layers is empty: give at least one layer's codes")
    blocks = []
    for i, layer in enumerate(layers):
        arr = np.asarray(layer)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise ValueError(f"layers[{i}] must have shape (S, n, d) or (n, d), got {arr.shape}")
        blocks.append(unsigned_units(as_code_stack(arr, f"layers[{i}]")))
    shape0 = blocks[0].shape[:2]
    for i, block in enumerate(blocks):
        if block.shape[:2] != shape0:
            raise ValueError(
                f"layers[{i}] has (seeds, samples) = {block.shape[:2]} but layers[0] has {shape0}"
            )
    widths = [b.shape[2] for b in blocks]
    widest = max(b.dtype.itemsize for b in blocks)
    if any(b.dtype.itemsize != widest for b in blocks):  # unsigned widening is lossless
        blocks = [b.astype(np.dtype(f"u{widest}"), copy=False) for b in blocks]
    codes = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=2)
    return codes, widths


@functools.lru_cache(maxsize=None)
def _thread_pool(threads):
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="qnet-count")


def information_batch(layers, labels, base=2, layer_widths=None, parallel=False, chain=False,
                      return_counts=False):
    """Exact (I(X;T), I(T;Y)) of many layers and seeds in one compiled call.

    layers: either a sequence of L arrays of shape (S, n, d_l) (or (n, d_l) for one
    seed), or, with ``layer_widths`` given, one (S, n, sum(d_l)) array holding the
    layers side by side (the layout the trainer produces; no copy is made of a row-major
    array or of an (S, n, D) view of a feature-major (S, D, n) array).
    labels: (n,) labels Y, or the :class:`EncodedLabels` of :func:`encode_labels` to skip
    re-encoding in loops.
    layer_widths: positive integers summing to D.
    parallel: share the S*L (seed, layer) tasks (S seeds with ``chain``) among
    ``numba.get_num_threads()`` threads (the kernels release the GIL).
    chain: promise that the layers are successive layers of one deterministic network on
    the same inputs (layer l + 1's codes a function of layer l's, as in a trainer's codes).
    Then a layer before one whose n rows are all distinct has n distinct rows too, and
    gets that layer's numbers without being counted (bit-identical to counting it; tested).
    Do not use it for layers of noisy networks or for layers in any other order.
    return_counts: also return the number of distinct rows (states) k of every layer.
    Returns: (S, L, 2) float array, ``[..., 0] = I(X;T)`` and ``[..., 1] = I(T;Y)`` in
    units of ``base``; with ``return_counts``, the pair ``(plane, counts)``, counts an
    (S, L) int64 array of k (k = n means I(X;T) has saturated at log n).
    """
    scale = log2_of_base(base)
    if layer_widths is None:
        codes, widths = _stack_layers(layers)
    else:
        codes = as_code_stack(layers, "layers")  # any memory layout; the trainer's is feature-major
        widths = check_layer_widths(layer_widths, codes.shape[2])
    n = codes.shape[1]
    ids, n_classes, h_y = _labels_and_entropy(labels, n)
    units, feature_major, bounds = _kernel_stack(codes, np.concatenate([[0], np.cumsum(widths)]))
    out = np.empty((codes.shape[0], len(widths), 2))
    counts = np.empty((codes.shape[0], len(widths)), np.int64)
    tasks = np.arange(codes.shape[0] * (1 if chain else len(widths)), dtype=np.int64)
    threads = min(numba.get_num_threads(), len(tasks)) if parallel else 1
    args = (units, feature_major, bounds, ids, n_classes, h_y, bool(chain))
    if threads > 1:  # interleaved shares balance seeds whose layers cost alike
        shares = [np.ascontiguousarray(tasks[k::threads]) for k in range(threads)]
        for done in [_thread_pool(threads).submit(kernels.information_batch, *args, share, out, counts)
                     for share in shares]:
            done.result()
    else:
        kernels.information_batch(*args, tasks, out, counts)
    plane = out / scale
    return (plane, counts) if return_counts else plane


__all__ = ["EncodedLabels", "conditional_entropy", "encode_labels", "entropy", "information_batch",
           "joint_entropy", "layer_information", "mutual_information"]
