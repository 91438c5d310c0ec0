"""Named families of discrete noise on integer codes, and the laws of stochastic units.

A noise law is a pmf over the consecutive integer offsets ``-r..r`` (a 1-D array of odd
length ``2r + 1``, entry ``j`` the probability of offset ``j - r``), added to every unit
of a layer independently: T = clip(S + Z, low, high). Each family is a frozen dataclass
with ``pmf()`` and a JSON-friendly ``config()`` (``{"name": ..., parameter: ...}``) that
:func:`noise_from_config` turns back into the family, for layer configs and records.

Stochastic units are the same scheme with a two-point law per input and unit,
T_u = s_u + B_u with B_u ~ Bernoulli(p_up[i, u]): :func:`stochastic_rounding` and
:func:`stochastic_binary` give ``(codes, p_up)`` for them.
"""

import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

TAIL = 1e-12  # default bound on the probability mass a truncated family drops


def _check_real(value, name, low, high=math.inf):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return float(value)


@dataclass(frozen=True)
class Gaussian:
    """Rounded Gaussian noise: the law of round(sigma * N(0, 1)), sigma in quantization levels.

    P(k) = Phi((k + 1/2) / sigma) - Phi((k - 1/2) / sigma) for |k| <= r, with r the smallest
    radius whose dropped tail 2 (1 - Phi((r + 1/2) / sigma)) is below ``tail``; the kept
    mass is renormalised to 1 (so every probability is off by a factor < 1 + tail).
    Because S is integer, S + round(Z) = round(S + Z): the noisy codes are the continuous
    Gaussian channel's output rounded to the grid, and by data processing the exact
    I(X; T) here is <= I(X; S + Z) with continuous Z (what sample propagation estimates).
    sigma = 0 is no noise. The variance of round(Z) is about sigma^2 + 1/12 for sigma >~ 1.
    """

    sigma: float
    tail: float = TAIL

    def __post_init__(self):
        _check_real(self.sigma, "sigma", 0.0, 1e6)
        _check_real(self.tail, "tail", 1e-300, 0.5)

    @property
    def radius(self):
        if self.sigma == 0:
            return 0
        scale = self.sigma * math.sqrt(2.0)
        r = 0
        while math.erfc((r + 0.5) / scale) >= self.tail:  # two-sided tail beyond r
            r += 1
        return r

    def pmf(self):
        r = self.radius
        if r == 0:
            return np.ones(1)
        scale = self.sigma * math.sqrt(2.0)
        # P(k) for k >= 1 as a difference of upper tails (accurate far out), P(0) = erf(...)
        side = [0.5 * (math.erfc((k - 0.5) / scale) - math.erfc((k + 0.5) / scale)) for k in range(1, r + 1)]
        p = np.array(side[::-1] + [math.erf(0.5 / scale)] + side)
        return p / p.sum()

    def config(self):
        return {"name": "gaussian", **asdict(self)}


@dataclass(frozen=True)
class Uniform:
    """Uniform noise on the offsets -k..k: P = 1 / (2k + 1) each (k = 0 is no noise)."""

    k: int

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, numbers.Integral) or self.k < 0:
            raise ValueError(f"k must be an integer >= 0, got {self.k!r}")

    def pmf(self):
        return np.full(2 * self.k + 1, 1.0 / (2 * self.k + 1))

    def config(self):
        return {"name": "uniform", "k": int(self.k)}


@dataclass(frozen=True)
class Flip:
    """Symmetric flip to a neighbouring level with probability eps: (eps/2, 1 - eps, eps/2)."""

    eps: float

    def __post_init__(self):
        _check_real(self.eps, "eps", 0.0, 1.0)

    def pmf(self):
        return np.array([self.eps / 2, 1.0 - self.eps, self.eps / 2])

    def config(self):
        return {"name": "flip", "eps": self.eps}


FAMILIES = {"gaussian": Gaussian, "uniform": Uniform, "flip": Flip}


def noise_from_config(config):
    """The noise family of a ``config()`` dict, e.g. ``{"name": "gaussian", "sigma": 0.5}``."""
    if not isinstance(config, dict) or config.get("name") not in FAMILIES:
        raise ValueError(f"noise config must be a dict with 'name' in {sorted(FAMILIES)}, got {config!r}")
    params = {key: value for key, value in config.items() if key != "name"}
    try:
        return FAMILIES[config["name"]](**params)
    except TypeError as error:
        raise ValueError(f"bad parameters for {config['name']} noise: {params}") from error


def noise_pmf(noise, name="noise"):
    """Validate a noise law and return ``(pmf, offset)``: ``pmf[j]`` is the probability of offset
    ``offset + j``, zero entries at both ends dropped, renormalised to sum to 1.

    noise: a family above (anything with ``pmf()``) or a 1-D array over offsets -r..r:
    odd length, finite, non-negative, summing to 1 within 1e-9.
    """
    values = noise.pmf() if hasattr(noise, "pmf") else noise
    p = np.asarray(values)
    if p.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a 1-D array of probabilities, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if p.ndim != 1 or p.shape[0] % 2 == 0:
        raise ValueError(f"{name} must be a 1-D pmf of odd length 2r + 1 (offsets -r..r), got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must hold finite, non-negative probabilities")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must sum to 1 within 1e-9, got {p.sum()!r}")
    nonzero = np.flatnonzero(p)
    radius = (p.shape[0] - 1) // 2
    p = p[nonzero[0]:nonzero[-1] + 1]
    return p / p.sum(), int(nonzero[0]) - radius


def stochastic_rounding(values):
    """Stochastic rounding of values in quantization levels: T = floor(v) + Bernoulli(v - floor(v)).

    values: (n, d) finite floats. Returns (codes (n, d) int64, p_up (n, d) float64).
    """
    v = np.asarray(values, dtype=np.float64)
    if not np.isfinite(v).all():
        raise ValueError("values must be finite")
    low = np.floor(v)
    return low.astype(np.int64), v - low


def stochastic_binary(preactivations):
    """Stochastic binary units: T = Bernoulli(sigmoid(a)) on {0, 1}.

    preactivations: (n, d) finite floats. Returns (codes = zeros (n, d) int64, p_up (n, d)).
    """
    a = np.asarray(preactivations, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError("preactivations must be finite")
    return np.zeros(a.shape, np.int64), 0.5 * (1.0 + np.tanh(0.5 * a))  # sigmoid without overflow
