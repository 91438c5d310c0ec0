"""Kernel-density bounds on the information plane (Kolchinsky & Tracey 2017; Saxe et al. 2018)."""

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from qnet._checks import as_labels, check_choice
from qnet.estimators._common import LN2, _as_activations


# exp(-50) ~ 2e-22: a term this small (against the i = j term, 1) changes no double sum of n terms
_NEGLIGIBLE = 50.0


@njit(parallel=True, cache=True)
def _kde_mean_log_density(t, scale):
    """-(1/N) sum_i ln[(1/N) sum_j exp(-||t_i - t_j||^2 / scale)] (nats); t: (d, n) feature-major.

    Terms with ||t_i - t_j||^2 / scale > 50 (each below 2e-22 of the i = j term) are skipped.
    """
    d, n = t.shape
    out = np.empty(n)
    for i in prange(n):
        s = np.zeros(n)
        for k in range(d):
            v = t[k, i]
            for j in range(n):
                diff = t[k, j] - v
                s[j] += diff * diff
        acc = 0.0
        for j in range(n):
            z = s[j] / scale
            if z <= _NEGLIGIBLE:
                acc += math.exp(-z)
        out[i] = -(math.log(acc) - math.log(n))
    return out.mean()


@dataclass(frozen=True)
class KDE:
    """Kernel-density bound of Kolchinsky & Tracey (2017, arXiv:1706.02419), as used by Saxe et al. (2018).

    With Gaussian noise of variance ``variance`` added to T (nats, converted to bits):
    upper: I(X;T) <= -(1/N) sum_i ln[(1/N) sum_j exp(-||t_i - t_j||^2 / (2 variance))];
    lower: the same with ``8 variance`` in place of ``2 variance``.
    I(T;Y) = H(T) - sum_y p(y) H(T | y), each entropy bounded the same way
    (the noise's normalising constants cancel). Estimates (bounds on a noisy T), in bits;
    I(T;Y) clipped at 0. activations: (n, d); labels: (n,).
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
        h = _kde_mean_log_density(np.ascontiguousarray(t.T), scale)
        h_given_y = 0.0
        for c in range(n_classes):
            members = np.ascontiguousarray(t[ids == c].T)
            h_given_y += members.shape[1] / t.shape[0] * _kde_mean_log_density(members, scale)
        return h / LN2, max(h - h_given_y, 0.0) / LN2
