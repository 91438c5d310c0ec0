"""Sample-propagation (SP) estimator of Goldfeld et al. (ICML 2019) for Gaussian-noise layers.

Z. Goldfeld, E. van den Berg, K. Greenewald, I. Melnyk, N. Nguyen, B. Kingsbury and
Y. Polyanskiy, "Estimating Information Flow in Deep Neural Networks", ICML 2019
(arXiv:1810.05728). The noisy layer is T = S + Z with Z ~ N(0, sigma^2 I_d) on the
layer's values S (codes or dequantized activations; sigma in the same units) for X
uniform on the n evaluation inputs. T is then the Gaussian mixture
g(t) = (1/n) sum_i phi_sigma(t - s_i), and

    h(T | X) = (d/2) log(2 pi e sigma^2),   I(X;T) = h(T) - h(T | X),
    I(T;Y) = h(T) - sum_y p(y) h(T | Y = y),  g_y(t) = (1/n_y) sum_{i: y_i = y} phi_sigma(t - s_i).

h(T) of the mixture has no closed form; it is computed by Monte Carlo. Here the draws are
x_i uniform and t = s_i + z, z ~ N(0, sigma^2 I), and the estimates are the means of
log2 phi_sigma(z) - log2 g(t) (for I(X;T)) and log2 g_y(t) - log2 g(t) (for I(T;Y)),
each g summed exactly over all n points: unbiased for the mixture's exact I(X;T) and I(T;Y)
(the normalising constants cancel), with the standard error of an i.i.d. mean.
Not clipped at 0: a clipped mean would be biased.
"""

import math
import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from qnet._checks import as_labels, check_int
from qnet.estimators._common import LN2, _as_activations


@njit(cache=True, nogil=True, error_model="numpy")
def _log_ratios(s, labels, n_classes, draws, z, inv_two_var):
    """Per-draw (ln phi(z) - ln g(t), ln g_y(t) - ln g(t)) in nats, t = s[draws[j]] + z[j]."""
    n, d = s.shape
    count = np.zeros(n_classes)
    for k in range(n):
        count[labels[k]] += 1.0
    a = np.empty(draws.shape[0])
    b = np.empty(draws.shape[0])
    t = np.empty(d)
    top = np.empty(n_classes)
    acc = np.empty(n_classes)
    for j in range(draws.shape[0]):
        i = draws[j]
        own = 0.0
        for u in range(d):
            t[u] = s[i, u] + z[j, u]
            own -= z[j, u] * z[j, u] * inv_two_var
        top[:] = -np.inf
        acc[:] = 0.0
        for k in range(n):  # per-class log-sum-exp, updated online
            e = 0.0
            for u in range(d):
                diff = t[u] - s[k, u]
                e -= diff * diff * inv_two_var
            c = labels[k]
            if e > top[c]:
                acc[c] = acc[c] * math.exp(top[c] - e) + 1.0
                top[c] = e
            else:
                acc[c] += math.exp(e - top[c])
        best = top.max()
        total = 0.0
        for c in range(n_classes):
            if acc[c] > 0.0:
                total += acc[c] * math.exp(top[c] - best)
        log_g = best + math.log(total) - math.log(n)
        y = labels[i]
        a[j] = own - log_g
        b[j] = top[y] + math.log(acc[y]) - math.log(count[y]) - log_g
    return a, b


class SPEstimate(NamedTuple):
    """SP estimates in bits: I_XT, I_TY with Monte Carlo standard errors; h_T (estimated) and
    h_T_given_X (exact) are differential entropies in bits; n_samples draws."""

    I_XT: float
    I_TY: float
    stderr_XT: float
    stderr_TY: float
    h_T: float
    h_T_given_X: float
    n_samples: int


@dataclass(frozen=True)
class SamplePropagation:
    """Goldfeld et al. (2019) sample propagation for T = S + N(0, sigma^2 I) (see the module docstring).

    sigma: noise standard deviation in the units of the activations given (quantization
    levels for codes; for dequantized values with step Delta, sigma / Delta levels);
    n_samples: Monte Carlo draws (cost n_samples * n * d); seed: same seed, same numbers.
    """

    sigma: float = 0.5
    n_samples: int = 4096
    seed: int = 0

    def __post_init__(self):
        real = isinstance(self.sigma, numbers.Real) and not isinstance(self.sigma, bool)
        if not (real and math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a finite number > 0, got {self.sigma!r}")
        check_int(self.n_samples, "n_samples", 2)
        check_int(self.seed, "seed", 0)

    @property
    def name(self):
        return f"sp-{self.sigma:g}"

    def estimate(self, activations, labels):
        """:class:`SPEstimate` of I(X;T), I(T;Y) for activations (n, d) and labels (n,)."""
        s = _as_activations(activations)
        ids, n_classes = as_labels(labels, s.shape[0])
        rng = np.random.default_rng(self.seed)
        draws = rng.integers(0, s.shape[0], self.n_samples)
        z = rng.standard_normal((self.n_samples, s.shape[1])) * self.sigma
        a, b = _log_ratios(s, ids, n_classes, draws, z, 1.0 / (2.0 * self.sigma**2))
        a, b = a / LN2, b / LN2
        root = math.sqrt(self.n_samples)
        h_given_x = 0.5 * s.shape[1] * math.log2(2 * math.pi * math.e * self.sigma**2)
        return SPEstimate(float(a.mean()), float(b.mean()), float(a.std(ddof=1)) / root,
                          float(b.std(ddof=1)) / root, h_given_x + float(a.mean()), h_given_x, self.n_samples)

    def __call__(self, activations, labels, inputs=None):
        estimate = self.estimate(activations, labels)
        return estimate.I_XT, estimate.I_TY


class SPComparison(NamedTuple):
    """One sigma: SP estimates (continuous Gaussian noise) and exact values (rounded Gaussian), bits."""

    sigma: float
    I_XT_sp: float
    stderr_XT: float
    I_XT_exact: float
    I_TY_sp: float
    stderr_TY: float
    I_TY_exact: float


def compare_with_exact(codes, labels, sigmas, *, n_samples=4096, seed=0, max_support=2**24):
    """SP against the exact discrete values on the same integer codes, one row per sigma.

    What is compared: the SP column *estimates* (Monte Carlo, +- stderr) I(X; S + Z) with
    continuous Z ~ N(0, sigma^2 I) on the codes (sigma in quantization levels); the exact
    column *is* I(X; S + round(Z)) with the rounded Gaussian of
    :class:`qnet.information.Gaussian` (tail < 1e-12), computed exactly, unclipped. The two
    are closely related but different quantities: as S is integer, S + round(Z) =
    round(S + Z), so the exact discrete value is the information left after rounding the
    continuous channel's output to the grid and, by data processing, is <= the quantity SP
    estimates, up to the truncated tail (same for I(T;Y)). A gap beyond the stderr is information lost by rounding,
    not an estimator error.
    """
    from qnet.information import Gaussian, noisy_information

    rows = []
    for sigma in sigmas:
        sp = SamplePropagation(float(sigma), n_samples, seed).estimate(np.asarray(codes), labels)
        exact = noisy_information(codes, labels, Gaussian(float(sigma)), max_support=max_support, method="exact")
        rows.append(SPComparison(float(sigma), sp.I_XT, sp.stderr_XT, exact.I_XT, sp.I_TY, sp.stderr_TY, exact.I_TY))
    return rows


def format_comparison(rows):
    """The rows of :func:`compare_with_exact` as a text table."""
    lines = [f"{'sigma':>6} {'I(X;T) SP':>16} {'exact rounded':>14} {'I(T;Y) SP':>16} {'exact rounded':>14}"]
    for r in rows:
        lines.append(f"{r.sigma:>6g} {r.I_XT_sp:>9.4f} ±{r.stderr_XT:.4f} {r.I_XT_exact:>14.4f} "
                     f"{r.I_TY_sp:>9.4f} ±{r.stderr_TY:.4f} {r.I_TY_exact:>14.4f}")
    return "\n".join(lines)
