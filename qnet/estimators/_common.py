"""What the estimators share: input checks, units and the one-hot view of labels."""

import math

import numpy as np

from qnet._checks import as_labels

LN2 = math.log(2.0)


def _as_activations(activations, name="activations"):
    """``activations`` as a C-contiguous ``(n, d)`` float64 array (trailing axes flattened)."""
    a = np.asarray(activations)
    if a.dtype.kind not in "iubf":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.ndim < 1 or a.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(a)


def _pair(x, y, name_x, name_y):
    """Two ``(n, d)`` float64 arrays with the same number of samples."""
    x, y = _as_activations(x, name_x), _as_activations(y, name_y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{name_x} has {x.shape[0]} samples but {name_y} has {y.shape[0]}")
    return x, y


def _require_inputs(inputs, estimator):
    if inputs is None:
        raise ValueError(f"{estimator} estimates I(X;T) from the inputs X: pass inputs=")
    return inputs


def one_hot(labels, n=None, scale=1.0):
    """Labels as a ``(n, K)`` float64 one-hot array (times ``scale``), K = number of classes.

    Every two different classes are then the same max-norm (and Euclidean) distance apart,
    so no order of the class ids leaks into a distance-based estimator.
    """
    ids, n_classes = as_labels(labels, n)
    out = np.zeros((ids.shape[0], n_classes))
    out[np.arange(ids.shape[0]), ids] = scale
    return out
