"""Exact information quantities of integer codes (plug-in, in bits by default).

Every row of a code array is one joint symbol: two samples share a symbol if and
only if all their codes are equal. The probabilities are the empirical
frequencies over the ``n`` samples given, so the values are exact for that
empirical distribution (no binning, no estimator). For a deterministic layer
``T = f(X)`` evaluated on every input once, ``I(X;T) = H(T)``.

Shapes: ``codes`` is ``(n,)``, ``(n, d)`` or ``(n, d1, d2, ...)`` (trailing axes
flattened); ``labels`` is ``(n,)`` integers, bools or strings. Results are in bits
(``base=2``); pass ``base=np.e`` for nats.
"""

import numpy as np

from qnet import kernels
from qnet._checks import as_code_stack, as_codes, as_labels, check_same_length, log2_of_base

def _units(codes):
    """Validated (n, d) C-contiguous codes as the kernels count them best.

    Rows are equal iff their bytes are equal (integers of one dtype), so each row is
    viewed as the fewest unsigned units its length allows: rows of up to 64 bytes as
    units of up to 8 bytes (fewer entries for the kernels to pack into words), wider
    rows as uint32 units where their length allows (they are hashed unit by unit).
    """
    row_bytes = codes.shape[1] * codes.itemsize
    sizes = (4,) if row_bytes > 64 else (8, 4, 2)
    for size in sizes:
        if size > codes.itemsize and row_bytes % size == 0:
            return codes.view(np.dtype(f"u{size}"))
    return codes


def _row_ids(codes):
    """Dense row ids ``(ids, k)`` of validated codes: equal ids iff equal rows."""
    return kernels.row_ids(_units(codes))


def _ids(codes, name):
    return _row_ids(as_codes(codes, name))


def entropy(codes, base=2):
    """Plug-in entropy H(T) of the rows of ``codes``.

    H(T) = -sum_t p(t) log p(t), with p(t) the fraction of rows equal to t.
    Returns a float in units of ``base`` (bits by default); 0 <= H <= log(n).
    """
    scale = log2_of_base(base)
    ids, k = _ids(codes, "codes")
    return kernels.entropy_of_ids(ids, k) / scale


def _pair(a, b, base):
    scale = log2_of_base(base)
    a = as_codes(a, "a")
    b = as_codes(b, "b")
    check_same_length(a, b, "a", "b")
    ids_a, ka = _row_ids(a)
    ids_b, kb = _row_ids(b)
    h_a, h_b = kernels.entropy_of_ids(ids_a, ka), kernels.entropy_of_ids(ids_b, kb)
    return h_a / scale, h_b / scale, kernels.joint_entropy_of_ids(ids_a, ka, ids_b, kb) / scale


def joint_entropy(a, b, base=2):
    """Joint entropy H(A, B) of two code arrays with the same number of rows."""
    return _pair(a, b, base)[2]


def conditional_entropy(a, b, base=2):
    """Conditional entropy H(A | B) = H(A, B) - H(B)."""
    _, h_b, h_ab = _pair(a, b, base)
    return max(h_ab - h_b, 0.0)


def mutual_information(a, b, base=2):
    """Mutual information I(A; B) = H(A) + H(B) - H(A, B)."""
    h_a, h_b, h_ab = _pair(a, b, base)
    return max(h_a + h_b - h_ab, 0.0)


def encode_labels(labels):
    """Labels (integers, bools or strings) as ``(ids: (n,) int64 in 0..K-1, K)``."""
    return as_labels(labels, None)


def layer_information(codes, labels, base=2):
    """Information-plane coordinates ``(I(X;T), I(T;Y))`` of one deterministic layer.

    codes: (n, ...) integer codes of the layer T on the n evaluation inputs X;
    labels: (n,) labels Y. I(X;T) = H(T) and I(T;Y) = H(T) - H(T|Y).
    """
    scale = log2_of_base(base)
    codes = as_codes(codes, "codes")
    ids, n_classes = as_labels(labels, codes.shape[0])
    h_y = kernels.entropy_of_ids(ids, n_classes)
    i_xt, i_ty = kernels.layer_information_of_block(_units(codes), ids, n_classes, h_y)
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
        blocks.append(as_code_stack(arr, f"layers[{i}]"))
    shape0 = blocks[0].shape[:2]
    for i, block in enumerate(blocks):
        if block.shape[:2] != shape0:
            raise ValueError(
                f"layers[{i}] has (seeds, samples) = {block.shape[:2]} but layers[0] has {shape0}"
            )
    widths = [b.shape[2] for b in blocks]
    dtype = np.result_type(*[b.dtype for b in blocks])
    codes = blocks[0].astype(dtype, copy=False) if len(blocks) == 1 else np.concatenate(blocks, axis=2, dtype=dtype)
    return np.ascontiguousarray(codes), widths


def information_batch(layers, labels, base=2, layer_widths=None, parallel=False, chain=False):
    """Exact (I(X;T), I(T;Y)) of many layers and seeds in one compiled call.

    layers: either a sequence of L arrays of shape (S, n, d_l) (or (n, d_l) for one
    seed), or, with ``layer_widths`` given, one (S, n, sum(d_l)) array holding the
    layers side by side (the layout the trainer produces; no copy is made).
    labels: (n,) labels Y, or a pre-encoded ``(ids, n_classes)`` pair from
    :func:`encode_labels` to skip re-encoding in loops.
    parallel: spread the S*L (seed, layer) tasks over Numba threads.
    chain: promise that the layers are successive layers of one deterministic network on
    the same inputs (layer l + 1's codes a function of layer l's, as in a trainer's codes).
    Then a layer before one whose n rows are all distinct has n distinct rows too, and
    gets that layer's numbers without being counted (bit-identical to counting it; tested).
    Do not use it for layers of noisy networks or for layers in any other order.
    Returns: (S, L, 2) float array, ``[..., 0] = I(X;T)`` and ``[..., 1] = I(T;Y)``.
    """
    scale = log2_of_base(base)
    if layer_widths is None:
        codes, widths = _stack_layers(layers)
    else:
        codes = np.asarray(layers)
        if codes.ndim != 3:
            raise ValueError(f"layers must have shape (S, n, D) when layer_widths is given, got {codes.shape}")
        codes = as_code_stack(codes, "layers")  # any memory layout; the trainer's is feature-major
        widths = [int(w) for w in layer_widths]
        if any(w < 1 for w in widths) or sum(widths) != codes.shape[2]:
            raise ValueError(f"layer_widths {widths} must be positive and sum to the {codes.shape[2]} columns of layers")
    if isinstance(labels, tuple) and len(labels) == 2:
        ids, n_classes = labels
        ids = np.asarray(ids)
        if ids.dtype != np.int64 or ids.ndim != 1 or ids.shape[0] != codes.shape[1]:
            raise ValueError("pre-encoded labels must be (int64 ids of length n, n_classes) from encode_labels")
    else:
        ids, n_classes = as_labels(labels, codes.shape[1])
    bounds = np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
    h_y = kernels.entropy_of_ids(ids, n_classes)
    out = np.empty((codes.shape[0], len(widths), 2))
    run = kernels.information_batch_parallel if parallel else kernels.information_batch
    run(codes, bounds, ids, int(n_classes), h_y, bool(chain), out)
    return out / scale
