"""Argument checks shared by the public functions: clear errors, nothing coerced silently."""

import math
import numbers
from typing import NamedTuple

import numpy as np

MAX_SAMPLES = 2**31 - 1  # the counting kernels number samples with int32
_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}


class EncodedLabels(NamedTuple):
    """Labels encoded once, to be passed to the information functions in loops.

    ids: (n,) int64 label ids in ``0..n_classes-1``; n_classes: the number of classes K
    (classes that do not occur are allowed: they change no information quantity).
    Made by :func:`qnet.encode_labels`; validated again wherever it is passed.
    """

    ids: np.ndarray
    n_classes: int


def _native(arr):
    """arr in native byte order (a lossless conversion; no copy when it already is)."""
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def check_code_array(codes, name="codes"):
    """Check that ``codes`` are integer or bool codes with at least one sample and one code;
    return them as an array (no copy, layout and byte order kept)."""
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
    if arr.shape[0] > MAX_SAMPLES:
        raise ValueError(f"{name} has {arr.shape[0]} samples; at most {MAX_SAMPLES} are supported")
    if arr.ndim > 1 and math.prod(arr.shape[1:]) == 0:
        raise ValueError(f"{name} has no columns: each sample needs at least one code")
    return arr


def as_codes(codes, name="codes"):
    """Return ``codes`` as a C-contiguous 2-D integer array ``(n, d)`` in native byte order.

    Accepts integer or bool array-likes of shape ``(n,)``, ``(n, d)`` or
    ``(n, d1, d2, ...)`` (trailing axes are flattened: one symbol per sample).
    Bools become uint8 and uint64 is viewed as int64 (both injective); big-endian
    arrays are converted to native order (lossless).
    """
    arr = check_code_array(codes, name)
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim != 2 else arr
    return np.ascontiguousarray(_injective_dtype(_native(arr)))


def _injective_dtype(arr):
    """bool as uint8, uint64 as int64 (bit-for-bit views, so equal codes stay equal and
    distinct codes distinct); every other integer dtype as it is."""
    if arr.dtype.kind == "b":
        return arr.view(np.uint8)
    if arr.dtype == np.uint64:
        return arr.view(np.int64)
    return arr


def unsigned_units(arr):
    """A zero-copy view of an integer or bool array as native unsigned integers of the same
    width. Rows are equal iff their bytes are, so counting the view counts the codes
    (whatever their sign or byte order)."""
    return arr.view(_UNSIGNED[arr.dtype.itemsize])


def as_code_stack(stack, name):
    """Validate a ``(S, n, d)`` stack of codes (each seed's ``(n, d)`` block as :func:`as_codes`
    would check it) and return it as an array; nothing is copied."""
    stack = np.asarray(stack)
    if stack.ndim != 3:
        raise ValueError(f"{name} must have shape (S, n, d), got {stack.shape}")
    if stack.shape[0] == 0:
        raise ValueError(f"{name} holds no seeds (shape {stack.shape}): give at least one (S >= 1)")
    check_code_array(stack[0], name)
    return stack


def as_symbols(values, name):
    """Codes for the pairwise functions (entropy, mutual information): integer or bool codes
    as :func:`check_code_array` checks them (not copied), or strings, each entry one symbol
    (encoded to integer ids)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "US":
        if arr.ndim == 0 or arr.size == 0:
            check_code_array(np.zeros(arr.shape, np.int8), name)  # the same messages as codes
        _, ids = np.unique(_native(arr).reshape(-1), return_inverse=True)
        arr = ids.reshape(arr.shape)
    return check_code_array(arr, name)


def _float_label_ids(arr, name):
    """Integral float labels (e.g. MATLAB doubles) as int64, exactly; anything else is refused."""
    if not np.isfinite(arr).all():
        raise TypeError(f"{name} holds non-finite floats (NaN or inf); labels must be integers, bools or strings")
    if not (arr == np.floor(arr)).all():
        raise TypeError(
            f"{name} holds non-integral floats (e.g. {float(arr[arr != np.floor(arr)][0])}); labels must be "
            "integers, bools, strings or integral floats such as MATLAB's 0.0/1.0"
        )
    if arr.size and np.abs(arr).max() >= 2.0**63:
        raise ValueError(f"{name} holds integral floats beyond the int64 range")
    return arr.astype(np.int64)


def check_encoded_labels(labels, n, name="labels"):
    """Validate pre-encoded labels (an :class:`EncodedLabels`) for n samples; return them as
    native int64 ids. Classes beyond n are renumbered (the quantities do not change) so that
    no count table is larger than the samples."""
    ids, n_classes = labels
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"{name}.n_classes must be an integer, got {n_classes!r}")
    if n_classes < 1:
        raise ValueError(f"{name}.n_classes must be >= 1, got {n_classes}")
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name}.ids must be integer label ids, got dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"{name}.ids must be one-dimensional, got shape {ids.shape}")
    if ids.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and ids.shape[0] != n:
        raise ValueError(f"{name} has {ids.shape[0]} entries but the codes have {n} samples")
    lo, hi = ids.min(), ids.max()
    if lo < 0 or hi >= n_classes:
        raise ValueError(f"{name}.ids must lie in 0..n_classes-1 = 0..{n_classes - 1}, got values in {lo}..{hi}")
    ids = np.ascontiguousarray(_native(ids).astype(np.int64, copy=False))
    if n_classes > ids.shape[0]:
        from qnet import kernels

        ids, n_classes = kernels.integer_ids(ids)
    return EncodedLabels(ids, int(n_classes))


def _looks_like_a_plain_pair(labels):
    return (isinstance(labels, tuple) and len(labels) == 2 and np.ndim(labels[0]) == 1
            and isinstance(labels[1], numbers.Integral))


def as_labels(labels, n, name="labels", ordered=False):
    """Encode labels as ids ``0..K-1``: an :class:`EncodedLabels` ``(ids: (n,) int64, n_classes)``.

    labels: (n,) integers, bools, strings, or floats with integral values (e.g. MATLAB
    double labels 0.0/1.0: converted exactly; NaN, inf or fractions are refused), or an
    :class:`EncodedLabels` (validated and returned). Big-endian arrays are accepted.
    n: the number of samples expected (None: any).
    ordered: ids follow the sorted order of the label values (class c of a dataset keeps
    its place); otherwise integer labels are numbered by first appearance, in one pass.
    """
    if isinstance(labels, EncodedLabels):
        return check_encoded_labels(labels, n, name)
    if _looks_like_a_plain_pair(labels):
        raise TypeError(
            f"{name} is a plain (ids, n_classes) tuple; pre-encoded labels must be the EncodedLabels "
            "that qnet.encode_labels returns (a plain tuple is read as one label per sample)"
        )
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iubUSf":
        raise TypeError(f"{name} must hold integers, bools, strings or integral floats, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one label per sample), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries but the codes have {n} samples")
    if arr.shape[0] > MAX_SAMPLES:
        raise ValueError(f"{name} has {arr.shape[0]} entries; at most {MAX_SAMPLES} are supported")
    arr = _native(arr)
    if arr.dtype.kind == "f":
        arr = _float_label_ids(arr, name)
    if arr.dtype.kind in "iub" and not ordered:
        # integers: numbered by first appearance in one pass (np.unique sorts); any
        # injective numbering gives the same information quantities
        from qnet import kernels

        ids, n_classes = kernels.integer_ids(arr.view(np.uint8) if arr.dtype.kind == "b" else arr)
        return EncodedLabels(ids, int(n_classes))
    classes, ids = np.unique(arr, return_inverse=True)
    return EncodedLabels(ids.astype(np.int64).reshape(-1), len(classes))


def check_layer_widths(layer_widths, total, name="layer_widths"):
    """The widths of layers side by side: positive integers (no silent truncation of 2.5 or
    "3") summing to ``total`` columns. Returns a list of ints."""
    if isinstance(layer_widths, (str, bytes)) or not hasattr(layer_widths, "__len__"):
        raise TypeError(f"{name} must be a sequence of integers (one width per layer), got {layer_widths!r}")
    widths = []
    for i, w in enumerate(layer_widths):
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Integral):
            raise TypeError(f"{name}[{i}] must be an integer, got {w!r}")
        widths.append(int(w))
    if not widths or any(w < 1 for w in widths) or sum(widths) != total:
        raise ValueError(f"{name} {widths} must be positive and sum to the {total} columns of layers")
    return widths


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
