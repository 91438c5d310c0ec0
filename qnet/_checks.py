"""Argument checks shared by the public functions: clear errors, nothing coerced silently."""

import math
import numbers

import numpy as np


def as_codes(codes, name="codes"):
    """Return ``codes`` as a C-contiguous 2-D integer array ``(n, d)``.

    Accepts integer or bool array-likes of shape ``(n,)``, ``(n, d)`` or
    ``(n, d1, d2, ...)`` (trailing axes are flattened: one symbol per sample).
    Bools become uint8 and uint64 is viewed as int64 (both injective).
    """
    arr = np.asarray(codes)
    kind = arr.dtype.kind
    if kind == "f":
        raise TypeError(
            f"{name} must be integer codes, got floating-point dtype {arr.dtype}; "
            "quantize the activations first (qnet.quantize) or use qnet.estimators "
            "for continuous values"
        )
    if kind not in "iub":
        raise TypeError(f"{name} must be an integer or bool array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (one row per sample), got a scalar")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it needs at least one sample (row)")
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim != 2 else arr
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no columns: each sample needs at least one code")
    return np.ascontiguousarray(_injective_dtype(arr))


def _injective_dtype(arr):
    """bool as uint8, uint64 as int64 (bit-for-bit views, so equal codes stay equal and
    distinct codes distinct); every other integer dtype as it is."""
    if arr.dtype.kind == "b":
        return arr.view(np.uint8)
    if arr.dtype == np.uint64:
        return arr.view(np.int64)
    return arr


def as_code_stack(stack, name):
    """Validate a ``(S, n, d)`` stack of codes (each seed's ``(n, d)`` block as :func:`as_codes`
    would) and give it the same dtype treatment; the array is not copied."""
    stack = np.asarray(stack)
    as_codes(stack[0], name)
    return _injective_dtype(stack)


def as_labels(labels, n, name="labels", ordered=False):
    """Encode labels (integers, bools or strings) as ids ``0..K-1``.

    Returns ``(ids: (n,) int64, n_classes)``; ``n`` is the number of samples expected.
    ordered: ids follow the sorted order of the label values (class c of a dataset keeps
    its place); otherwise integer labels are numbered by first appearance, in one pass.
    """
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iubUS":
        raise TypeError(f"{name} must hold integers, bools or strings, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one label per sample), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but the codes have {n} samples")
    if arr.dtype.kind in "iub" and not ordered:
        # integers: numbered by first appearance in one pass (np.unique sorts); any
        # injective numbering gives the same information quantities
        from qnet import kernels

        ids, n_classes = kernels.integer_ids(arr.view(np.uint8) if arr.dtype.kind == "b" else arr)
        return ids, int(n_classes)
    classes, ids = np.unique(arr, return_inverse=True)
    return ids.astype(np.int64).reshape(-1), len(classes)


def check_same_length(a, b, name_a, name_b):
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{name_a} has {a.shape[0]} samples but {name_b} has {b.shape[0]}")


def log2_of_base(base):
    """log2(base) for converting bits into another unit; base must be a finite number > 1."""
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be a real number, got {type(base).__name__}")
    if not math.isfinite(base) or base <= 1:
        raise ValueError(f"base must be a finite number > 1 (2 for bits, e for nats), got {base}")
    return math.log2(base)


def check_int(value, name, low, high=None):
    """Check that ``value`` is an int in [low, high] and return it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(choices)}")
    return value
