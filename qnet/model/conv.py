"""Convolution and max pooling with the samples on the last axis: ``(H, W, C, n)``.

The convolutions of the information-bottleneck literature have a handful of channels (the
reference study's MNIST net: 1 -> 2 -> 2). XLA's CPU convolution is slow for so few channels
(measured here: 10-30x slower than the form below), so qnet writes a convolution as a sum of
shifted slabs: ``out[h, w, o, :] = sum_{i, j, c} k[i, j, c, o] * x[h + i, w + j, c, :]``; every
term is a scalar times a contiguous run of samples, which vectorises. Its gradient is written
out too (:func:`conv2d`'s custom VJP): the input gradient is the same slab sum over the padded
output gradient with the flipped kernel, the kernel gradient a product summed over positions and
samples. Layout: kernels ``(kh, kw, c_in, c_out)`` (HWIO), as ``jax.lax.conv_general_dilated``.
"""

import functools

import jax
import jax.numpy as jnp


def _slabs(x, k):
    """Valid, stride-1 convolution of ``x: (H, W, C, n)`` with ``k: (kh, kw, C, O)`` -> ``(H', W', O, n)``."""
    kh, kw, cin, _ = k.shape
    h, w = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = None
    for i in range(kh):
        for j in range(kw):
            patch = x[i:i + h, j:j + w]
            if cin <= 4:  # few channels: scalar-times-slab terms
                for c in range(cin):
                    term = patch[:, :, c:c + 1, :] * k[i, j, c][None, None, :, None]
                    out = term if out is None else out + term
            else:
                term = jnp.einsum("hwcn,co->hwon", patch, k[i, j])
                out = term if out is None else out + term
    return out


@jax.custom_vjp
def _valid(x, k):
    return _slabs(x, k)


def _valid_fwd(x, k):
    return _slabs(x, k), (x, k)


def _valid_bwd(residuals, g):
    x, k = residuals
    kh, kw = k.shape[:2]
    h, w = g.shape[:2]
    # kernel gradient: for each tap, the product of the shifted input and g summed over positions and samples
    dk = jnp.stack([jnp.stack([(x[i:i + h, j:j + w, :, None, :] * g[:, :, None, :, :]).sum((0, 1, 4))
                               for j in range(kw)]) for i in range(kh)])
    # input gradient: the "full" convolution of g with the flipped kernel
    padded = jnp.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0), (0, 0)))
    dx = _slabs(padded, jnp.flip(k, (0, 1)).transpose(0, 1, 3, 2))
    return dx, dk


_valid.defvjp(_valid_fwd, _valid_bwd)


def conv2d(x, k, stride=(1, 1), padding="valid"):
    """2-D convolution of ``x: (H, W, C, n)`` with ``k: (kh, kw, C, O)``; returns ``(H', W', O, n)``.

    padding ``same`` pads with zeros as XLA's SAME does (output ceil(H / stride)); a stride > 1
    subsamples the stride-1 result (exact, at stride**2 the work)."""
    kh, kw = k.shape[:2]
    (sh, sw) = stride
    if padding == "same":
        out_h, out_w = -(-x.shape[0] // sh), -(-x.shape[1] // sw)
        pad_h = max((out_h - 1) * sh + kh - x.shape[0], 0)
        pad_w = max((out_w - 1) * sw + kw - x.shape[1], 0)
        x = jnp.pad(x, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0), (0, 0)))
    out = _valid(x, k)
    return out if (sh, sw) == (1, 1) else out[::sh, ::sw]


def _windows(x, ph, pw):
    """``x: (H, W, ...)`` cropped to whole windows -> ``(H // ph, W // pw, ph * pw, ...)``, each
    window's entries in row-major order."""
    h, w = x.shape[0] // ph, x.shape[1] // pw
    x = x[:h * ph, :w * pw].reshape(h, ph, w, pw, *x.shape[2:])
    return jnp.moveaxis(x, 2, 1).reshape(h, w, ph * pw, *x.shape[4:])


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _pool_tiles(x, size):
    return _windows(x, *size).max(axis=2)


def _pool_tiles_fwd(x, size):
    windows = _windows(x, *size)
    return windows.max(axis=2), (jnp.argmax(windows, axis=2), x.shape)


def _pool_tiles_bwd(size, residuals, g):
    first, shape = residuals  # the first maximum of each window, in row-major order
    (ph, pw), (h, w) = size, g.shape[:2]
    onehot = jax.nn.one_hot(first, ph * pw, axis=2, dtype=g.dtype) * g[:, :, None]
    tiles = onehot.reshape(h, w, ph, pw, *g.shape[2:])
    dx = jnp.moveaxis(tiles, 2, 1).reshape(h * ph, w * pw, *g.shape[2:])
    return (jnp.pad(dx, [(0, shape[0] - h * ph), (0, shape[1] - w * pw)] + [(0, 0)] * (g.ndim - 2)),)


_pool_tiles.defvjp(_pool_tiles_fwd, _pool_tiles_bwd)


def max_pool(x, size, stride):
    """Max over ``size`` windows moved by ``stride`` of ``x: (H, W, C, n)``, valid windows.

    The gradient goes to the first maximum of a window in row-major order, as TensorFlow/Keras's
    and ``lax.reduce_window``'s (quantized values tie often). Non-overlapping windows (size ==
    stride, the usual pool) are cropped and reshaped into tiles, with that gradient written out
    (:func:`_pool_tiles`): XLA's CPU gradient of ``reduce_window`` (select-and-scatter) took
    ~8 ms of a ~16 ms training step of the reference MNIST conv net here, the tiles ~0.3 ms.
    Overlapping windows go through ``lax.reduce_window``."""
    (ph, pw), (sh, sw) = size, stride
    floating = jnp.issubdtype(x.dtype, jnp.floating)
    if (ph, pw) == (sh, sw):
        return _pool_tiles(x, (ph, pw)) if floating else _windows(x, ph, pw).max(axis=2)
    # floats: a Python scalar init, so that JAX recognises the max pool and differentiates it
    init = -float("inf") if floating else jnp.array(jnp.iinfo(x.dtype).min, x.dtype)
    return jax.lax.reduce_window(x, init, jax.lax.max, (ph, pw, 1, 1), (sh, sw, 1, 1), "VALID")
