"""What the estimators share: input checks and units."""

import math

import numpy as np

LN2 = math.log(2.0)


def _as_activations(activations, name="activations"):
    a = np.asarray(activations)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.ndim < 1 or a.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(a)
