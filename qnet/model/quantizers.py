"""Uniform quantizers with a bit-exact straight-through estimator (JAX).

Vocabulary as in QKeras / Larq / TF-MOT / AQT: ``bits``, ``symmetric``,
``narrow_range``; the *numerics* (the grid) are separate from the *calibration*
(where ``lo, hi`` come from: a fixed range, a moving average, the evaluated
tensor's min/max).

A quantizer maps ``x`` to an integer code ``c = round((clip(x, lo, hi) - lo) / s)``
in ``0..levels-1`` with step ``s = (hi - lo) / (levels - 1)``, and to the value
``lo + c * s`` that the next layer consumes. Within one evaluation ``lo`` and ``s``
are fixed, so the value is a function of the code: counting codes counts exactly
the symbols the network passes on.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from qnet._checks import check_choice, check_int

MODES = ("uniform", "binary", "ternary")


@dataclass(frozen=True)
class Quantizer:
    """Numerics of a uniform quantizer.

    bits: 2..16 for ``mode="uniform"`` (ignored for binary/ternary);
    mode: ``uniform`` (2**bits levels), ``binary`` (2 levels), ``ternary`` (3 levels);
    symmetric: use the range ``[-m, m]`` with ``m = max(|lo|, |hi|)``;
    narrow_range: drop one level (2**bits - 1 levels, a grid symmetric about its centre).
    """

    bits: int = 8
    mode: str = "uniform"
    symmetric: bool = False
    narrow_range: bool = False

    def __post_init__(self):
        check_choice(self.mode, "quantization mode", set(MODES))
        if self.mode == "uniform":
            check_int(self.bits, "bits", 2, 16)

    @property
    def levels(self):
        if self.mode == "binary":
            return 2
        if self.mode == "ternary":
            return 3
        return 2**self.bits - (1 if self.narrow_range else 0)

    @property
    def code_dtype(self):
        """The smallest unsigned integer dtype that holds the codes."""
        return np.uint8 if self.levels <= 256 else np.uint16


def grid(lo, hi, quantizer):
    """``(lo, step)`` of the quantization grid for a calibrated range ``[lo, hi]``.

    A degenerate range (``hi <= lo``) gets step 1, so every value maps to code 0.
    """
    if quantizer.symmetric:
        m = jnp.maximum(jnp.abs(lo), jnp.abs(hi))
        lo, hi = -m, m
    step = jnp.where(hi > lo, (hi - lo) / (quantizer.levels - 1), 1.0)
    return lo, step


def quantize(x, lo, hi, quantizer):
    """Quantize ``x`` (any shape, float32) on the grid of ``[lo, hi]``.

    Returns ``(codes, values)``: codes int32 in ``0..levels-1`` (same shape as ``x``)
    and the dequantized float values ``lo + codes * step`` (no gradient path).
    """
    lo, step = grid(lo, hi, quantizer)
    codes = jnp.clip(jnp.round((x - lo) / step), 0, quantizer.levels - 1)
    return codes.astype(jnp.int32), lo + codes * step


def straight_through(x, values, lo=None, hi=None):
    """Forward: exactly ``values``; backward: identity, zeroed outside ``[lo, hi]`` if given.

    Uses ``x - stop_gradient(x) + stop_gradient(values)``: the carrier term is an
    exact float zero, so the forward value is bit-exact (the common form
    ``x + stop_gradient(q(x) - x)`` is not, and creates spurious levels). The
    clip mask uses explicit comparisons (``jnp.clip``'s gradient is 0.5 at its bounds).
    """
    carrier = x
    if lo is not None:
        inside = (x >= lo) & (x <= hi)
        carrier = jnp.where(inside, x, jax.lax.stop_gradient(x))
    return carrier - jax.lax.stop_gradient(carrier) + jax.lax.stop_gradient(values)


def fake_quantize(x, lo, hi, quantizer, clip_gradient=True):
    """Quantize with a straight-through gradient: ``(codes, values)``, values carry gradients."""
    codes, values = quantize(x, lo, hi, quantizer)
    if clip_gradient:
        lo_eff, step = grid(lo, hi, quantizer)
        return codes, straight_through(x, values, lo_eff, lo_eff + step * (quantizer.levels - 1))
    return codes, straight_through(x, values)


def quantize_weights(w, quantizer):
    """Per-tensor asymmetric quantization of a weight tensor with its last-value min/max range."""
    lo = jax.lax.stop_gradient(jnp.min(w))
    hi = jax.lax.stop_gradient(jnp.max(w))
    return fake_quantize(w, lo, hi, quantizer, clip_gradient=False)[1]
