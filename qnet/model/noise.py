"""Noise layers: drawn in training, summed over exactly when measured.

A noise layer adds independent integer offsets Z with a pmf over ``-r..r`` to the codes S of
the layer before it and clips to the code range: T = clip(S + Z, 0, levels - 1); the next
layer consumes T's values on the same grid. In training (and in the evaluation pass that gives
the accuracies) Z is drawn from the JAX key of the step. For the information plane nothing is
drawn: :func:`noisy_chain` hands the measurement (:func:`qnet.measure.noisy_plane`) what the
exact computation needs (``qnet.information.noisy_chain``): the codes before the first noise,
each measured layer's pmf and code range, and the network's deterministic integer maps between
measured layers, so that P(T_l | x) is summed over every noise value, exactly.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qnet.model.quantizers import grid, straight_through

# rows evaluated per map call are padded to the next power of two, at least this many, so that
# a map compiles for a handful of sizes only
_MIN_ROWS = 1024


def add_noise(layer, codes, values, on_grid, key):
    """Draw T = clip(S + Z, 0, levels - 1) for a noise layer: ``(noisy codes, their values)``;
    the values carry the incoming gradient unchanged (the noise is additive)."""
    pmf = jnp.asarray(layer.noise, jnp.float32)
    radius = (pmf.shape[0] - 1) // 2
    z = jax.random.categorical(key, jnp.log(pmf), shape=codes.shape) - radius
    noisy = jnp.clip(codes.astype(jnp.int32) + z, 0, layer.quantizer.levels - 1)
    lo, step = on_grid
    return noisy.astype(codes.dtype), straight_through(values, lo + noisy.astype(values.dtype) * step)


class NoisyChain(NamedTuple):
    """The measured layers from the first noisy one on, for the exact measurement.

    first: index (among the measured layers) of the first noise layer; its codes in the
    evaluation pass are S_first, a function of X (nothing noisy comes before it).
    noises: per layer from ``first`` on, its pmf over offsets -r..r (``[1.0]``: a layer without
    noise); bounds: per layer the code range ``(0, levels - 1)``; maps: per layer after ``first``,
    a function from the previous layer's codes ``(m, d_prev)`` to this layer's codes before its
    noise ``(m, d)`` (int64, samples first).
    """

    first: int
    noises: tuple
    bounds: tuple
    maps: tuple


def _layer_grid(built, state, index):
    """(lo, step) of the codes that leave ``built.layers[index]`` (its quantized layer's grid)."""
    for layer in built.layers[index::-1]:
        if layer.kind in ("dense", "conv") and layer.quantizer is not None:
            if layer.activation == "softmax":
                lo, hi = 0.0, 1.0
            elif layer.range_mode == "fixed":
                from qnet.model.build import BOUNDS

                lo, hi = BOUNDS[layer.activation]
            else:
                lo, hi = state["ranges"][layer.range_slot]
            return grid(jnp.float32(lo), jnp.float32(hi), layer.quantizer)
    raise ValueError(f"{built.layers[index].name} has no quantized layer before it")


@functools.lru_cache(maxsize=64)
def _segment(built, start, stop, grid_index):
    """The compiled map of ``layers[start:stop]`` (one per network and segment, reused by every
    seed and epoch)."""
    from qnet.model.network import segment_codes

    @jax.jit
    def run(params, state, codes):
        return segment_codes(built, params, state, codes, _layer_grid(built, state, grid_index), start, stop)

    return run


def _map(built, params, state, start, stop, grid_index, shape_in):
    """A host function: codes (m, d_in) -> codes after layers[start:stop] (m, d_out), int64."""
    run = _segment(built, start, stop, grid_index)

    def apply(codes):
        codes = np.asarray(codes)
        m = codes.shape[0]
        size = max(_MIN_ROWS, 1 << (m - 1).bit_length())
        padded = np.zeros((size,) + tuple(shape_in), np.int32)
        padded[:m] = codes.reshape((m,) + tuple(shape_in))
        out = run(params, state, jnp.asarray(np.moveaxis(padded, 0, -1)))
        return np.asarray(out).reshape(-1, size).T[:m].astype(np.int64)

    return apply


def noisy_chain(built, params, state):
    """The :class:`NoisyChain` of a built noisy network for one seed's ``params, state``
    (``None`` for a network without noise layers)."""
    measured = [i for i, layer in enumerate(built.layers) if layer.measured]
    noisy = [j for j, i in enumerate(measured) if built.layers[i].kind == "noise"]
    if not noisy:
        return None
    first = noisy[0]
    noises, bounds, maps = [], [], []
    for j in range(first, len(measured)):
        index = measured[j]
        layer = built.layers[index]
        noises.append(np.asarray(layer.noise) if layer.kind == "noise" else np.ones(1))
        bounds.append((0, layer.quantizer.levels - 1))
        if j > first:
            previous = measured[j - 1]
            stop = index if layer.kind == "noise" else index + 1  # a noise layer's map ends before its noise
            maps.append(_map(built, params, state, previous + 1, stop, previous, built.layers[previous].out_shape))
    return NoisyChain(first, tuple(noises), tuple(bounds), tuple(maps))
