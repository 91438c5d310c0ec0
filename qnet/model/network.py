"""qnet's quantized networks: parameters as plain pytrees, a pure forward pass that returns codes.

``params`` is a list with one ``{"w", "b"}`` dict per dense/conv layer (dense ``w: (d_in,
units)``, conv ``w: (kh, kw, c_in, filters)``); ``state`` holds the calibrated activation
range of every quantized layer, ``ranges: (n_quantized, 2)`` float32, and a step counter.
:func:`apply` returns the logits and, for every measured layer, the integer codes and the
dequantized values the next layer consumes.

Networks compute with the samples on the last axis (dense layers ``(d, n)``, feature maps
``(H, W, C, n)``): the tiny matrix products, the few-channel convolutions
(:mod:`qnet.model.conv`) and the elementwise quantization then vectorise over samples (about 4x
faster on CPU than samples-first for the synthetic net, 10-30x for the MNIST conv net's
convolutions). Inputs wider than :data:`ROW_INPUT_WIDTH` enter a dense network as rows (its first
layer computes ``(x @ w).T``). :func:`apply_reference` is the same network written samples-first
with XLA's convolution, kept as an independent check.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from qnet._random import INIT_STREAM, seed_generator
from qnet.model.build import BOUNDS, build
from qnet.model.conv import conv2d, max_pool
from qnet.model.noise import add_noise, noisy_chain
from qnet.model.protocol import Forward
from qnet.model.quantizers import fake_quantize, grid, quantize_weights

ACTIVATION_FUNCTIONS = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "hardtanh": lambda z: jnp.minimum(jnp.maximum(z, -1.0), 1.0),
    "relu": jax.nn.relu,
    "linear": lambda z: z,
}

# Inputs wider than this enter a dense network as rows, narrower ones as columns (measured on
# 2 cores: rows make an MNIST epoch (784 inputs) ~1.5x faster, the SYN net's (12) 1.4x slower)
ROW_INPUT_WIDTH = 64
# conv nets are evaluated this many inputs at a time (measured, MNIST conv net: 1024 -> 1.3 s,
# 4096 -> 1.9 s, all 70,000 at once -> 4.8 s for the evaluation pass)
EVAL_CHUNK = 1024


def init_numpy(built, seed):
    """Initial ``(params, state)`` of a built network as NumPy arrays (float32 / int32).

    Drawn on the host from the stream ``(seed, INIT_STREAM)``, so initialising many seeds
    compiles nothing; stacked and moved to the device once by the trainer.
    truncated_normal: standard normal redrawn beyond 2 std, divided by sqrt(fan_in) (Keras's
    TruncatedNormal(0, 1/sqrt(fan_in))); truncated_normal_units: divided by sqrt(the layer's
    own units or filters), as the reference study's MNIST code; glorot_uniform: U(-l, l) with
    l = sqrt(6 / (fan_in + fan_out)). Conv fans count the kernel window. Biases 0.
    """
    rng = seed_generator(seed, INIT_STREAM)
    params = []
    for layer in built.layers:
        if layer.param_slot is None:
            continue
        if layer.kind == "dense":
            shape = (math.prod(layer.in_shape), layer.out_shape[0])
            fan_in, fan_out, units = shape[0], shape[1], shape[1]
        else:
            kh, kw = layer.layer.kernel
            shape = (kh, kw, layer.in_shape[2], layer.out_shape[2])
            fan_in, fan_out, units = kh * kw * shape[2], kh * kw * shape[3], shape[3]
        if layer.init == "glorot_uniform":
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, shape)
        else:
            w = rng.standard_normal(shape)
            outside = np.abs(w) > 2.0
            while outside.any():
                w[outside] = rng.standard_normal(int(outside.sum()))
                outside = np.abs(w) > 2.0
            w /= np.sqrt(fan_in if layer.init == "truncated_normal" else units)
        params.append({"w": w.astype(np.float32), "b": np.zeros(shape[-1], np.float32)})
    ranges = np.zeros((built.n_ranges, 2), np.float32)
    return params, {"ranges": ranges, "steps": np.zeros((), np.int32)}


def _range(layer, a, stored, steps, training):
    """Calibrated (lo, hi) of a layer's activations ``a`` and the range to store."""
    if layer.activation == "softmax":
        return jnp.float32(0.0), jnp.float32(1.0), stored
    if layer.range_mode == "fixed":
        lo, hi = BOUNDS[layer.activation]
        return jnp.float32(lo), jnp.float32(hi), stored
    batch = jax.lax.stop_gradient(jnp.stack([jnp.min(a), jnp.max(a)]))
    if layer.range_mode == "batch":
        return batch[0], batch[1], stored
    if training:  # moving average, initialised with the first batch
        m = layer.momentum
        stored = jnp.where(steps == 0, batch, m * stored + (1.0 - m) * batch)
    return stored[0], stored[1], stored


def _activate(layer, z, axis):
    return jax.nn.softmax(z, axis=axis) if layer.activation == "softmax" else ACTIVATION_FUNCTIONS[layer.activation](z)


def _quantize(layer, a, state, training, ranges):
    """(codes or None, values, (lo, step) of the grid) of a dense/conv layer's activations;
    appends its stored range."""
    if layer.quantizer is None:
        return None, a, None
    lo, hi, stored = _range(layer, a, state["ranges"][layer.range_slot], state["steps"], training)
    ranges.append(stored)
    codes, values = fake_quantize(a, lo, hi, layer.quantizer)
    return codes.astype(layer.quantizer.code_dtype), values, grid(lo, hi, layer.quantizer)


def _weights(layer, p):
    return p["w"] if layer.weight_quantizer is None else quantize_weights(p["w"], layer.weight_quantizer)


def _new_state(state, ranges, training):
    """The state after a pass: the ranges it stored, and one more step if it trained."""
    stacked = jnp.stack(ranges) if ranges else state["ranges"]
    return {"ranges": stacked, "steps": state["steps"] + 1 if training else state["steps"]}


class _Pass:
    """What a pass over some of a network's layers has produced (samples-last arrays)."""

    def __init__(self, h, c, on_grid):
        self.h, self.c, self.grid = h, c, on_grid  # the values, their codes and grid (lo, step)
        self.codes, self.values, self.ranges, self.logits = [], [], [], None


def _layers(built, params, state, run, start, stop, training, key, rows=False):
    """Apply ``built.layers[start:stop]`` to the pass ``run`` (samples on the last axis)."""
    n = run.h.shape[-1]
    for index in range(start, stop):
        layer = built.layers[index]
        if layer.kind == "flatten":
            run.h = run.h.reshape(-1, n)
            run.c = None if run.c is None else run.c.reshape(-1, n)
            continue
        if layer.kind == "noise":
            run.codes.append(run.c)  # the codes before the noise: the exact measurement sums over it
            if key is not None:
                run.c, run.h = add_noise(layer, run.c, run.h, run.grid, jax.random.fold_in(key, index))
            run.values.append(run.h)
            continue
        if layer.kind == "maxpool":
            run.h = max_pool(run.h, layer.layer.size, layer.layer.stride)
            if run.c is not None:
                run.c = max_pool(run.c, layer.layer.size, layer.layer.stride)
                if layer.measured:
                    run.codes.append(run.c)
            run.values.append(run.h)
            continue
        p = params[layer.param_slot]
        w = _weights(layer, p)
        if layer.kind == "dense":
            z = ((run.h @ w).T if rows and index == 0 else w.T @ run.h) + p["b"][:, None]
        else:
            z = conv2d(run.h, w, layer.layer.stride, layer.layer.padding) + p["b"][None, None, :, None]
        if layer.activation == "softmax":
            run.logits = z
        run.c, run.h, run.grid = _quantize(layer, _activate(layer, z, axis=0), state, training, run.ranges)
        if run.c is not None and layer.measured:
            run.codes.append(run.c)
        run.values.append(run.h)
    return run


def _apply_samples_last(built, params, state, x, training, key=None):
    """Any network with the samples on the last axis (dense ``(d, n)``, feature maps
    ``(H, W, C, n)``); returns logits ``(n, C)``, codes and values ``(*shape, n)``."""
    n = x.shape[0]
    rows = built.dense_only and math.prod(built.input_shape) > ROW_INPUT_WIDTH
    if built.dense_only:
        h = x.reshape(n, -1) if rows else x.reshape(n, -1).T
    else:
        h = jnp.moveaxis(x.reshape((n,) + built.input_shape), 0, -1)
    run = _layers(built, params, state, _Pass(h, None, None), 0, len(built.layers), training, key, rows)
    return Forward(run.logits.T, tuple(run.codes), _new_state(state, run.ranges, training), tuple(run.values))


def segment_codes(built, params, state, codes, grid_, start, stop):
    """The codes after ``built.layers[start:stop]`` (no noise drawn, stored ranges) given the codes
    ``(*shape, m)`` on the grid ``(lo, step)`` that enter ``layers[start]``: the network's
    deterministic integer map between two measured layers, for the exact noisy measurement."""
    lo, step = grid_
    run = _Pass(lo + codes.astype(jnp.float32) * step, codes, grid_)
    return _layers(built, params, state, run, start, stop, False, None).c


def apply_reference(built, params, state, x, training=False):
    """The forward pass written samples-first (NHWC) with XLA's own convolution and pooling: an
    independent implementation of :func:`apply` that the tests compare it with."""
    h = x.reshape((x.shape[0],) + built.input_shape)
    c = None
    codes, values, ranges = [], [], []
    logits = None
    for layer in built.layers:
        if layer.kind == "flatten":
            h = h.reshape(h.shape[0], -1)
            c = None if c is None else c.reshape(c.shape[0], -1)
            continue
        if layer.kind == "noise":  # drawn nothing: the reference is the noise-free pass
            codes.append(c)
            values.append(h)
            continue
        if layer.kind == "maxpool":
            (sh, sw), (th, tw) = layer.layer.size, layer.layer.stride
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, sh, sw, 1), (1, th, tw, 1), "VALID")
            if c is not None:
                c = jax.lax.reduce_window(c, jnp.array(0, c.dtype), jax.lax.max, (1, sh, sw, 1), (1, th, tw, 1), "VALID")
                if layer.measured:
                    codes.append(c)
            values.append(h)
            continue
        p = params[layer.param_slot]
        w = _weights(layer, p)
        if layer.kind == "dense":
            z = h.reshape(h.shape[0], -1) @ w + p["b"]
        else:
            z = jax.lax.conv_general_dilated(h, w, layer.layer.stride, layer.layer.padding.upper(),
                                             dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["b"]
        if layer.activation == "softmax":
            logits = z
        c, h, _ = _quantize(layer, _activate(layer, z, axis=-1), state, training, ranges)
        if c is not None and layer.measured:
            codes.append(c)
        values.append(h)
    return Forward(logits, tuple(codes), _new_state(state, ranges, training), tuple(values))


def apply_samples_last(built, params, state, x, key=None, training=False):
    """:func:`apply` with codes and values as ``(*shape, n)`` (samples on the last axis, as
    computed: no transposes). The trainer uses it; logits are ``(n, C)`` either way."""
    return _apply_samples_last(built, params, state, x, training, key)


def apply(built, params, state, x, key=None, training=False):
    """Forward pass of a built network on ``x: (n, *input_shape)`` float32.

    Returns a :class:`~qnet.model.protocol.Forward`: logits ``(n, C)``; per measured layer its
    integer codes ``(n, *shape)`` (uint8, or uint16 beyond 256 levels); the new state (moving
    ranges updated from this batch when ``training``); per dense/conv/pool layer the values it
    passes on (dequantized, float32). ``key``: the randomness of noise layers (``None``: no noise is
    drawn); a noise layer's codes are those before its noise (the exact measurement sums over it).
    """
    fwd = _apply_samples_last(built, params, state, x, training, key)
    first = lambda a: jnp.moveaxis(a, -1, 0)  # noqa: E731
    return Forward(fwd.logits, tuple(map(first, fwd.codes)), fwd.state, tuple(map(first, fwd.values)))


class QuantizedNetwork:
    """qnet's quantized network for one dataset shape: the :mod:`~qnet.model.protocol` model.

    network: a :class:`~qnet.model.layers.Network`; input_shape: per-sample shape of the data
    (e.g. ``(12,)``, ``(28, 28, 1)``); n_classes: the number of labels.
    """

    def __init__(self, network, input_shape, n_classes):
        self.network = network
        self.built = build(network, input_shape, n_classes)
        self.name = "network"
        self.layer_names = tuple(layer.name for layer in self.built.measured)
        self.value_names = tuple(layer.name for layer in self.built.layers if layer.kind != "flatten")
        self.chain = not self.built.noisy  # a feed-forward stack of deterministic layers
        # conv nets are evaluated in chunks (see Trainer); not when a range is the evaluated tensor's min/max
        batch_range = any(layer.range_mode == "batch" for layer in self.built.layers)
        self.eval_chunk = None if self.built.dense_only or batch_range else EVAL_CHUNK

    def init(self, seed):
        return init_numpy(self.built, seed)

    def apply(self, params, state, x, *, key=None, training=False):
        return apply(self.built, params, state, x, key, training)

    def apply_samples_last(self, params, state, x, *, key=None, training=False):
        return apply_samples_last(self.built, params, state, x, key, training)

    def noisy_chain(self, params, state):
        """What the exact measurement of a noisy network needs (:class:`~qnet.model.noise.NoisyChain`)
        for one seed's ``params, state``; ``None`` without noise layers."""
        return noisy_chain(self.built, params, state)

    def __repr__(self):
        return f"QuantizedNetwork({', '.join(layer.name for layer in self.built.layers)})"
