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


def max_pool(x, size, stride):
    """Max over ``size`` windows moved by ``stride`` of ``x: (H, W, C, n)``, valid windows.

    Float values go through ``lax.reduce_window``, whose gradient goes to the first maximum of
    a window (as TensorFlow/Keras's; quantized values tie often). Integer codes (no gradient)
    of non-overlapping windows are cropped, reshaped and maxed."""
    (ph, pw), (sh, sw) = size, stride
    h, w = (x.shape[0] - ph) // sh + 1, (x.shape[1] - pw) // sw + 1
    floating = jnp.issubdtype(x.dtype, jnp.floating)
    if not floating and (ph, pw) == (sh, sw):
        x = x[:h * ph, :w * pw]
        return x.reshape(h, ph, w, pw, *x.shape[2:]).max(axis=(1, 3))
    # floats: a Python scalar init, so that JAX recognises the max pool and differentiates it
    init = -float("inf") if floating else jnp.array(jnp.iinfo(x.dtype).min, x.dtype)
    return jax.lax.reduce_window(x, init, jax.lax.max, (ph, pw, 1, 1), (sh, sw, 1, 1), "VALID")
