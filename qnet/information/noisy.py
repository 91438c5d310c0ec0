"""Exact information quantities of noisy layers of integer codes (bits by default).

Setting: S (n, d) are a layer's integer codes on n equiprobable inputs X, labels Y (n,),
and the noisy layer is T = clip(S + Z, low, high) with Z independent per unit, pmf P on
consecutive integer offsets (mass beyond a bound collects on the bound). Then

    P(t | x_i) = prod_u P_iu(t_u),   P(t) = sum_k w_k prod_u P_ku(t_u)

over the distinct codes c_k with weights w_k (inputs with equal codes have equal
conditionals), H(T|X) = (1/n) sum_i H(T | x_i) = sum_k w_k sum_u H(P_ku) (= d H(P)
without clipping), I(X;T) = H(T) - H(T|X), I(T;Y) = H(T) - sum_y p(y) H(T | Y = y).
H(T) and H(T|Y) are summed exactly over every output code by a lexicographic sweep that
reaches each code of the support once, with the mass of exactly the distinct codes c_k
whose noise reaches it (``qnet.kernels.noisy``: no keys or hashing, so distinct codes are
never merged), at a cost of about one step per term: ``terms = sum_k prod_u |supp P_ku|``
(about m |K|^d for m distinct codes and |K| noise offsets), which also bounds |supp T|.

Where ``terms`` exceeds ``max_support`` the exact path stops; ``noisy_information`` then
returns an unbiased Monte Carlo estimate (``exact=False`` with its standard error):
draws x_i uniformly and t ~ P(. | x_i), and averages log2 p(t|x_i) - log2 p(t) and
log2 p(t|y_i) - log2 p(t), with p(t) and p(t|y) summed exactly over the codes within the
noise radius of t. Its expectation is I(X;T) (resp. I(T;Y)) exactly; seeded.

Stochastic units (:func:`stochastic_information`) are the same scheme with a two-point
law per input and unit: T_u = s_iu + B_iu, B_iu ~ Bernoulli(p_up[i, u]).
"""

import math
import numbers
from typing import NamedTuple

import numpy as np

from qnet import kernels
from qnet._checks import as_codes, as_labels, check_choice, check_int, log2_of_base
from qnet.information.noise import noise_pmf

DEFAULT_MAX_SUPPORT = 2**26  # terms: a few seconds at most (2 s at 64M terms, SYN width 6); memory does not grow with it
_LARGEST_CODE = 2**60


class NoisyInformation(NamedTuple):
    """Information quantities of a noisy layer (units of ``base``; bits by default).

    exact: True when every quantity is exact; False when H_T, I_XT, I_TY and H_T_given_Y
    are Monte Carlo estimates (H_T_given_X is always exact). stderr: standard error of I_XT
    and of H_T (0.0 when exact); stderr_TY: that of I_TY. support: |supp T| when exact, -1
    when estimated; terms: sum_k |supp P(T | c_k)|, the work of the exact path and a bound
    on |supp T|; n_samples: Monte Carlo draws (0 when exact).
    """

    I_XT: float
    I_TY: float
    H_T: float
    H_T_given_X: float
    H_T_given_Y: float
    exact: bool
    stderr: float
    stderr_TY: float
    support: int
    terms: int
    n_samples: int


def _bound(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer code or None, got {value!r}")
    if abs(int(value)) >= _LARGEST_CODE:
        raise ValueError(f"{name} must be below 2**60 in magnitude, got {value}")
    return int(value)


def check_codes(codes, low=None, high=None, name="codes"):
    """Validated ``(n, d) int64`` codes and clip bounds ``(codes, low, high)`` (None: no bound)."""
    low, high = _bound(low, "low"), _bound(high, "high")
    if low is not None and high is not None and low > high:
        raise ValueError(f"low ({low}) must be <= high ({high})")
    codes = as_codes(codes, name)
    if codes.itemsize == 8 and (codes.min() <= -_LARGEST_CODE or codes.max() >= _LARGEST_CODE):
        raise ValueError(f"{name} must be below 2**60 in magnitude")
    codes = codes.astype(np.int64)
    if low is not None and codes.min() < low:
        raise ValueError(f"{name} has values below low = {low} (min {codes.min()})")
    if high is not None and codes.max() > high:
        raise ValueError(f"{name} has values above high = {high} (max {codes.max()})")
    return np.ascontiguousarray(codes), low, high


def unit_laws(values, pmf, offset, low=None, high=None):
    """Per-unit laws of T_u = clip(s_u + Z) for code rows ``values: (m, d) int64``.

    pmf[j] is P(Z = offset + j). Returns ``(lo, length, probs)``: (m, d) int64, (m, d) int64
    and (m, d, len(pmf)) float64 with P(T_u = lo + j | s) = probs[k, u, j] for j < length.
    """
    lo = values + offset
    hi = lo + (len(pmf) - 1)
    if low is not None or high is not None:
        lo, hi = np.clip(lo, low, high), np.clip(hi, low, high)
    probs = np.zeros(values.shape + (len(pmf),))
    rows, cols = np.indices(values.shape)
    for j, p in enumerate(pmf):
        t = values + (offset + j)
        if low is not None or high is not None:
            t = np.clip(t, low, high)
        probs[rows, cols, t - lo] += p
    return lo, hi - lo + 1, probs


def law_entropies(probs):
    """Entropy in bits of each unit's law: (m, d) from (m, d, L) probabilities."""
    safe = np.where(probs > 0, probs, 1.0)
    return -(probs * np.log2(safe)).sum(axis=2)


def _sorted_by_spread(lo, length, probs, weights):
    """Laws with the unit of most distinct values first, sorted by it: the Monte Carlo kernel
    finds the laws near a code through unit 0. Returns the arrays and ``order`` (new -> old)."""
    unit = int(np.argmax([len(np.unique(lo[:, u])) for u in range(lo.shape[1])]))
    perm = [unit] + [u for u in range(lo.shape[1]) if u != unit]
    order = np.argsort(lo[:, unit], kind="stable")
    return (np.ascontiguousarray(lo[order][:, perm]), np.ascontiguousarray(length[order][:, perm]),
            np.ascontiguousarray(probs[order][:, perm]), np.ascontiguousarray(weights[order]), order)


def exact_entropies(lo, length, probs, weights):
    """(H(T), H(T, Y), |supp T|) in bits of the mixture sum_k weights[k, c] prod_u probs[k, u, .]."""
    return kernels.mixture_entropies(np.ascontiguousarray(lo), np.ascontiguousarray(length),
                                     np.ascontiguousarray(probs), np.ascontiguousarray(weights))


def _entropy(p):
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def mixture_information(lo, length, probs, weights, h_t_given_x, components, label_ids, *,
                        max_support, method, n_samples, seed, base):
    """NoisyInformation of a mixture of product components (exact, or Monte Carlo past max_support).

    weights: (m, C) joint P(component, class); h_t_given_x: bits; components, label_ids:
    (n,) component and class of each input (for Monte Carlo draws).
    """
    scale = log2_of_base(base)
    check_choice(method, "method", {"auto", "exact", "monte_carlo"})
    max_support = check_int(max_support, "max_support", 1)
    terms = float(np.prod(length, axis=1, dtype=np.float64).sum())
    h_y = _entropy(weights.sum(axis=0))
    if method == "exact" or (method == "auto" and terms <= max_support):
        if terms > max_support:
            raise ValueError(f"the exact support bound sum_k |supp P(T|c_k)| = {terms:.4g} exceeds "
                             f"max_support = {max_support}; raise max_support or use method='auto'")
        h_t, h_ty, support = exact_entropies(lo, length, probs, weights)
        h_t_given_y = max(h_ty - h_y, 0.0)
        return NoisyInformation(max(h_t - h_t_given_x, 0.0) / scale, max(h_t - h_t_given_y, 0.0) / scale,
                                h_t / scale, h_t_given_x / scale, h_t_given_y / scale,
                                True, 0.0, 0.0, int(support), int(terms), 0)
    n_samples = check_int(n_samples, "n_samples", 2)
    seed = check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, len(components), n_samples)
    uniforms = rng.random((n_samples, lo.shape[1]))
    lo, length, probs, weights, order = _sorted_by_spread(lo, length, probs, weights)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    a, b = kernels.sample_log_ratios(lo, length, probs, weights, position[components[inputs]],
                                     label_ids[inputs], uniforms)
    root = math.sqrt(n_samples)
    i_xt, i_ty = float(a.mean()), float(b.mean())
    h_t = h_t_given_x + i_xt
    return NoisyInformation(i_xt / scale, i_ty / scale, h_t / scale, h_t_given_x / scale, (h_t - i_ty) / scale,
                            False, float(a.std(ddof=1)) / root / scale, float(b.std(ddof=1)) / root / scale,
                            -1, int(terms), n_samples)


def group(codes, label_ids, n_classes):
    """Distinct rows of codes: ``(rows (m, d), weights (m, C) joint P(row, class), ids (n,))``."""
    ids, m = kernels.row_ids(codes)
    _, first = np.unique(ids, return_index=True)
    weights = np.bincount(ids * n_classes + label_ids, minlength=m * n_classes).reshape(m, n_classes)
    return codes[first], weights / len(ids), ids


def noisy_information(codes, labels, noise, *, low=None, high=None, base=2, max_support=DEFAULT_MAX_SUPPORT,
                      method="auto", n_samples=100_000, seed=0):
    """Information quantities of the noisy layer T = clip(S + Z, low, high) (see the module docstring).

    codes: (n, d) integer codes S on n equiprobable inputs; labels: (n,) labels Y;
    noise: 1-D pmf over offsets -r..r (odd length, non-negative, sums to 1 within 1e-9) or a
    family of :mod:`qnet.information.noise`, applied to every unit independently;
    low, high: integer clip bounds of T (None: unbounded), codes must lie within them.
    max_support: the exact path runs while terms = sum_k prod_u |supp P_ku| <= max_support
    (time about linear in terms, see benchmarks/bench_noisy.py; memory O(m d L), not O(terms)).
    method: "auto" (exact within max_support, else Monte Carlo), "exact" (ValueError past it)
    or "monte_carlo"; n_samples, seed: the Monte Carlo draws (same seed, same numbers).
    Returns :class:`NoisyInformation` in units of ``base`` (bits by default).
    """
    codes, low, high = check_codes(codes, low, high)
    pmf, offset = noise_pmf(noise)
    label_ids, n_classes = as_labels(labels, codes.shape[0])
    rows, weights, ids = group(codes, label_ids, n_classes)
    lo, length, probs = unit_laws(rows, pmf, offset, low, high)
    h_x = float(weights.sum(axis=1) @ law_entropies(probs).sum(axis=1))
    return mixture_information(lo, length, probs, weights, h_x, ids, label_ids, max_support=max_support,
                               method=method, n_samples=n_samples, seed=seed, base=base)


def noisy_layer_information(codes, labels, noise, *, low=None, high=None, base=2, max_support=DEFAULT_MAX_SUPPORT):
    """Exact ``(I(X;T), I(T;Y))`` of the noisy layer T = clip(S + Z, low, high); arguments as
    :func:`noisy_information`. Raises ValueError past ``max_support`` (never estimates)."""
    info = noisy_information(codes, labels, noise, low=low, high=high, base=base, max_support=max_support,
                             method="exact")
    return info.I_XT, info.I_TY


def check_p_up(p_up, shape):
    p = np.asarray(p_up)
    if p.dtype.kind not in "iuf":
        raise TypeError(f"p_up must be an array of probabilities, got dtype {p.dtype}")
    if p.size != int(np.prod(shape)) or p.shape[0] != shape[0]:
        raise ValueError(f"p_up must have the shape of codes {shape}, got {p.shape}")
    p = np.ascontiguousarray(p.reshape(shape), dtype=np.float64)
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("p_up must hold probabilities in [0, 1]")
    return p + 0.0  # -0.0 -> 0.0, so that equal laws have equal bits


def stochastic_information(codes, p_up, labels, *, base=2, max_support=DEFAULT_MAX_SUPPORT, method="auto",
                           n_samples=100_000, seed=0):
    """Information quantities of stochastic units T_u = s_iu + B_iu, B_iu ~ Bernoulli(p_up[i, u]).

    codes: (n, d) integer codes s; p_up: (n, d) probabilities of the step up, per input and
    unit (stochastic binary units: codes 0, p_up = sigmoid(a); stochastic rounding: codes
    floor(v), p_up = v - floor(v); see :mod:`qnet.information.noise`); labels: (n,).
    H(T|X) = (1/n) sum_i sum_u h2(p_iu). Inputs with equal codes and equal p_up rows share
    one component. Other arguments and the result as :func:`noisy_information`.
    """
    codes, _, _ = check_codes(codes)
    p = check_p_up(p_up, codes.shape)
    label_ids, n_classes = as_labels(labels, codes.shape[0])
    rows, weights, ids = group(np.concatenate([codes, p.view(np.int64)], axis=1), label_ids, n_classes)
    d = codes.shape[1]
    s, q = rows[:, :d], np.ascontiguousarray(rows[:, d:]).view(np.float64)
    up = q == 1.0
    lo, length = s + up, 1 + ((q > 0) & (q < 1))
    probs = np.stack([np.where(up, 1.0, 1.0 - q), np.where(length == 2, q, 0.0)], axis=2)
    h_x = float(weights.sum(axis=1) @ law_entropies(probs).sum(axis=1))
    return mixture_information(lo, length, probs, weights, h_x, ids, label_ids, max_support=max_support,
                               method=method, n_samples=n_samples, seed=seed, base=base)


def stochastic_layer_information(codes, p_up, labels, *, base=2, max_support=DEFAULT_MAX_SUPPORT):
    """Exact ``(I(X;T), I(T;Y))`` of stochastic units; arguments as :func:`stochastic_information`."""
    info = stochastic_information(codes, p_up, labels, base=base, max_support=max_support, method="exact")
    return info.I_XT, info.I_TY
