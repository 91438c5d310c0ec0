"""Kernel-density bounds on the information plane (Kolchinsky & Tracey 2017; Saxe et al. 2018)."""

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from qnet._checks import as_labels, check_choice
from qnet.estimators._common import LN2, _as_activations


@njit(parallel=True, cache=True)
def _kde_mean_log_density(t, scale):
    """-(1/N) sum_i ln[(1/N) sum_j exp(-||t_i - t_j||^2 / scale)]  (nats)."""
    n, d = t.shape
    out = np.empty(n)
    for i in prange(n):
        best = 0.0  # the j = i term has exponent 0, the maximum
        acc = 0.0
        for j in range(n):
            s = 0.0
            for k in range(d):
                diff = t[i, k] - t[j, k]
                s += diff * diff
            acc += math.exp(best - s / scale)
        out[i] = -(math.log(acc) - math.log(n))
    return out.mean()


@dataclass(frozen=True)
class KDE:
    """Kernel-density bound of Kolchinsky & Tracey (2017, arXiv:1706.02419), as used by Saxe et al. (2018).

    With Gaussian noise of variance ``variance`` added to T (nats, converted to bits):
    upper: I(X;T) <= -(1/N) sum_i ln[(1/N) sum_j exp(-||t_i - t_j||^2 / (2 variance))];
    lower: the same with ``8 variance`` in place of ``2 variance``.
    I(T;Y) = H(T) - sum_y p(y) H(T | y), each entropy bounded the same way
    (the noise's normalising constants cancel).
    """

    variance: float = 1e-3
    bound: str = "upper"

    def __post_init__(self):
        if not self.variance > 0:
            raise ValueError(f"variance must be > 0, got {self.variance}")
        check_choice(self.bound, "bound", {"upper", "lower"})

    @property
    def name(self):
        return f"kde-{self.bound}-{self.variance:g}"

    def __call__(self, activations, labels, inputs=None):
        t = _as_activations(activations)
        ids, n_classes = as_labels(labels, t.shape[0])
        scale = (2.0 if self.bound == "upper" else 8.0) * self.variance
        h = _kde_mean_log_density(t, scale)
        h_given_y = 0.0
        for c in range(n_classes):
            members = np.ascontiguousarray(t[ids == c])
            h_given_y += len(members) / len(t) * _kde_mean_log_density(members, scale)
        return h / LN2, max(h - h_given_y, 0.0) / LN2
