"""Quantized multilayer perceptrons as plain pytrees (JAX).

A network is ``params``: a list of ``{"w": (d_in, d_out), "b": (d_out,)}`` dicts,
plus ``ranges``: the calibrated activation range of every layer, ``(L, 2)``
float32, and a step counter. The static description lives in a frozen
:class:`NetworkConfig`. :func:`apply` is a pure function that returns the logits
and, for every layer (hidden layers and the softmax output), both the integer
codes and the dequantized values that the next layer consumes.
"""

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qnet._checks import check_choice, check_int
from qnet.quantizers import Quantizer, fake_quantize, quantize_weights

ACTIVATIONS = {
    "tanh": (jnp.tanh, (-1.0, 1.0)),
    "sigmoid": (jax.nn.sigmoid, (0.0, 1.0)),
    "hardtanh": (lambda z: jnp.minimum(jnp.maximum(z, -1.0), 1.0), (-1.0, 1.0)),
    "relu": (jax.nn.relu, None),
    "linear": (lambda z: z, None),
}
RANGE_MODES = ("auto", "fixed", "moving", "batch")
INITS = ("truncated_normal", "glorot_uniform")

PRESETS = {
    "syn": (12, 10, 7, 5, 4, 3, 2),
    "mnist-bottleneck-2": (784, 16, 8, 4, 2, 10),
    "mnist-10x5": (784, 10, 10, 10, 10, 10),
}


@dataclass(frozen=True)
class NetworkConfig:
    """Static description of a quantized MLP.

    widths: (input, hidden..., output) layer widths; the output is a softmax.
    activation: tanh, relu, sigmoid, hardtanh or linear (hidden layers).
    bits: activation bits (2..16); ``None`` for a float network (no codes).
    quantization: uniform, binary or ternary activations.
    weight_bits: per-tensor weight bits (2..16), or ``None`` to keep weights in float.
    activation_range: how each layer's range is calibrated: ``fixed`` (the
      activation's bounds; bounded activations only), ``moving`` (moving-average
      min/max of training batches, frozen at evaluation), ``batch`` (min/max of the
      tensor being evaluated: the batch in training, the whole evaluation set at
      MI time, as the reference study's tanh nets) or ``auto`` (fixed for bounded
      activations, moving for unbounded ones). The softmax output always uses [0, 1].
    momentum: of the moving average.
    init: ``truncated_normal`` (std 1/sqrt(fan_in), cut at 2 std, as Keras) or ``glorot_uniform``.
    """

    widths: tuple = PRESETS["syn"]
    activation: str = "tanh"
    bits: int | None = 8
    quantization: str = "uniform"
    weight_bits: int | None = 8
    activation_range: str = "auto"
    momentum: float = 0.99
    init: str = "truncated_normal"

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"widths must list at least an input and an output width, all >= 1, got {self.widths}")
        check_choice(self.activation, "activation", set(ACTIVATIONS))
        check_choice(self.activation_range, "activation_range", set(RANGE_MODES))
        check_choice(self.init, "init", set(INITS))
        if self.bits is not None:
            Quantizer(self.bits, self.quantization)  # validates bits and mode
        if self.weight_bits is not None:
            check_int(self.weight_bits, "weight_bits", 2, 16)
        if self.range_mode == "fixed" and ACTIVATIONS[self.activation][1] is None:
            raise ValueError(f"activation_range='fixed' needs a bounded activation, not {self.activation!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")

    @property
    def n_layers(self):
        return len(self.widths) - 1

    @property
    def range_mode(self):
        if self.activation_range != "auto":
            return self.activation_range
        return "fixed" if ACTIVATIONS[self.activation][1] is not None else "moving"

    @property
    def quantizer(self):
        return None if self.bits is None else Quantizer(self.bits, self.quantization)

    @property
    def code_dtype(self):
        return None if self.bits is None else self.quantizer.code_dtype


class Forward(NamedTuple):
    """What :func:`apply` returns: logits (n, C); per layer codes (n, d_l) ints (or ``None``
    for a float network) and values (n, d_l) float32; the updated ranges (L, 2).
    :func:`apply_features` returns the same with the sample axis last ((C, n), (d_l, n))."""

    logits: jax.Array
    codes: tuple
    values: tuple
    ranges: jax.Array


# Inputs wider than this enter the first layer as rows, narrower ones as columns (measured
# on 2 cores: rows make an MNIST epoch (784 inputs) ~1.5x faster, the SYN net's (12) 1.4x slower)
ROW_INPUT_WIDTH = 64

INIT_STREAM = 2**64 - 1  # Philox key (seed, INIT_STREAM) draws the initial weights


def seed_generator(seed, stream):
    """A NumPy generator keyed by ``(seed, stream)`` (counter-based Philox): independent
    streams for independent uses (initial weights, each epoch's shuffle), no state to carry."""
    key = np.array([int(seed) % 2**64, int(stream) % 2**64], np.uint64)
    return np.random.Generator(np.random.Philox(key=key))


def init(config, seed):
    """Parameters and calibration state of a network: ``(params, state)``.

    seed: an int; the weights are drawn on the host (NumPy) from the stream
    ``(seed, INIT_STREAM)``, so initialising many seeds compiles nothing.
    Truncated normal: standard normal redrawn beyond 2 std, divided by sqrt(fan_in)
    (as Keras); Glorot uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)). Biases 0.
    """
    return jax.device_put(init_numpy(config, seed))


def init_numpy(config, seed):
    """:func:`init` with NumPy float32 / int32 leaves: many seeds are stacked on the host and
    moved to the device once (a jnp array per leaf and seed cost ~1 s for 50 seeds)."""
    rng = seed_generator(seed, INIT_STREAM)
    params = []
    for fan_in, fan_out in zip(config.widths[:-1], config.widths[1:]):
        if config.init == "truncated_normal":
            w = rng.standard_normal((fan_in, fan_out))
            outside = np.abs(w) > 2.0
            while outside.any():
                w[outside] = rng.standard_normal(int(outside.sum()))
                outside = np.abs(w) > 2.0
            w /= np.sqrt(fan_in)
        else:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, (fan_in, fan_out))
        params.append({"w": w.astype(np.float32), "b": np.zeros(fan_out, np.float32)})
    ranges = np.zeros((config.n_layers, 2), np.float32)
    return params, {"ranges": ranges, "steps": np.zeros((), np.int32)}


def _layer_range(config, z, stored, steps, training, is_output):
    """Calibrated (lo, hi) of one layer's activations z, and the range to store."""
    if is_output:
        return jnp.float32(0.0), jnp.float32(1.0), stored
    mode = config.range_mode
    if mode == "fixed":
        lo, hi = ACTIVATIONS[config.activation][1]
        return jnp.float32(lo), jnp.float32(hi), stored
    batch = jnp.stack([jnp.min(z), jnp.max(z)])
    batch = jax.lax.stop_gradient(batch)
    if mode == "batch":
        return batch[0], batch[1], stored
    if training:  # moving average, initialised with the first batch
        m = config.momentum
        stored = jnp.where(steps == 0, batch, m * stored + (1.0 - m) * batch)
    return stored[0], stored[1], stored


def apply_features(config, params, state, x, training=False, rows=False):
    """Forward pass of the quantized MLP computed feature-major.

    x: the inputs as columns ``(d_in, n)``, or with ``rows=True`` as rows ``(n, d_in)``
    (the first layer then computes ``(x @ w).T``: for wide inputs, e.g. 784 MNIST pixels,
    this moves d_1 values per sample instead of transposing the d_in inputs).
    Returns a feature-major :class:`Forward`: logits ``(C, n)``, per layer codes and
    values ``(d_l, n)``. This is the layout the trainer computes in: with the samples
    on the last (contiguous) axis the tiny matrix products and the elementwise
    quantization vectorise over samples (about 4x faster on CPU than samples-major
    for the SYN net), and each layer's codes reach the counting kernels column by column.
    With ``training=True`` moving ranges are updated from this batch (and
    ``Forward.ranges`` holds them); otherwise they are used as stored.
    """
    act = ACTIVATIONS[config.activation][0]
    quantizer = config.quantizer
    wq = None if config.weight_bits is None else Quantizer(config.weight_bits)
    h = x
    codes, values, new_ranges = [], [], []
    logits = None
    for i, layer in enumerate(params):
        w = layer["w"] if wq is None else quantize_weights(layer["w"], wq)
        z = ((h @ w).T if rows and i == 0 else w.T @ h) + layer["b"][:, None]
        is_output = i == len(params) - 1
        if is_output:
            logits = z
            a = jax.nn.softmax(z, axis=0)
        else:
            a = act(z)
        if quantizer is None:
            new_ranges.append(state["ranges"][i])
            codes.append(None)
            h = a
        else:
            lo, hi, stored = _layer_range(config, a, state["ranges"][i], state["steps"], training, is_output)
            new_ranges.append(stored)
            c, h = fake_quantize(a, lo, hi, quantizer)
            codes.append(c.astype(config.code_dtype))
        values.append(h)
    return Forward(logits, tuple(codes), tuple(values), jnp.stack(new_ranges))


def apply(config, params, state, x, training=False):
    """Forward pass of the quantized MLP on ``x: (n, d_in)``.

    Returns a :class:`Forward` (logits ``(n, C)``; per layer codes and values ``(n, d_l)``).
    With ``training=True`` moving ranges are updated from this batch (and
    ``Forward.ranges`` holds them); otherwise they are used as stored.
    """
    rows = x.shape[1] > ROW_INPUT_WIDTH  # as the trainer computes
    fwd = apply_features(config, params, state, x if rows else x.T, training, rows=rows)
    codes = tuple(None if c is None else c.T for c in fwd.codes)
    return Forward(fwd.logits.T, codes, tuple(v.T for v in fwd.values), fwd.ranges)
