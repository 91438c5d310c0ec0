import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qnet.model.quantizers import Quantizer, fake_quantize, quantize, quantize_weights, straight_through


@pytest.mark.parametrize("q, levels", [(Quantizer(2), 4), (Quantizer(8), 256), (Quantizer(16), 65536),
                                       (Quantizer(8, narrow_range=True), 255), (Quantizer(mode="binary"), 2),
                                       (Quantizer(mode="ternary"), 3)])
def test_levels_and_exact_grid(q, levels):
    assert q.levels == levels
    x = jnp.asarray(np.random.default_rng(0).uniform(-1.5, 1.5, 1_000_000).astype(np.float32))
    codes, values = fake_quantize(x, jnp.float32(-1.0), jnp.float32(1.0), q)
    codes, values = np.asarray(codes), np.asarray(values)
    assert codes.min() == 0 and codes.max() == levels - 1
    # bit-exact: every value is exactly the grid point of its code, so distinct values = distinct codes
    step = np.float32(2.0) / np.float32(levels - 1)
    grid = np.float32(-1.0) + np.arange(levels, dtype=np.float32) * step
    np.testing.assert_array_equal(values, grid[codes])
    assert len(np.unique(values)) == len(np.unique(codes)) <= levels


def test_naive_straight_through_form_is_not_exact_but_ours_is():
    """The pitfall straight_through avoids: x + stop_gradient(q(x) - x) yields spurious levels."""
    x = jnp.asarray(np.random.default_rng(1).uniform(-20, 20, 1_000_000).astype(np.float32))

    def q(v):  # a clipped 8-bit quantizer, scale 0.1
        return jnp.clip(jnp.round(v / 0.1), -128, 127) * 0.1

    # compiled, as in training (XLA's fusion is what exposes the naive form)
    naive = np.asarray(jax.jit(lambda v: v + jax.lax.stop_gradient(q(v) - v))(x))
    ours = np.asarray(jax.jit(lambda v: straight_through(v, q(v)))(x))
    q = jax.jit(q)(x)
    np.testing.assert_array_equal(ours, np.asarray(q))
    assert len(np.unique(ours)) <= 256
    assert (naive != np.asarray(q)).sum() > 1000 and len(np.unique(naive)) > 256


def test_clipped_straight_through_gradient():
    q = Quantizer(4)
    x = jnp.array([-2.0, -1.0, 0.3, 1.0, 2.0], jnp.float32)
    g = jax.grad(lambda v: jnp.sum(fake_quantize(v, -1.0, 1.0, q)[1]))(x)
    np.testing.assert_array_equal(np.asarray(g), [0.0, 1.0, 1.0, 1.0, 0.0])  # 1 at the bounds, not 0.5


def test_symmetric_and_degenerate_ranges():
    q = Quantizer(3, symmetric=True)
    codes, values = quantize(jnp.array([-0.5, 0.0, 2.0]), -0.5, 2.0, q)
    assert float(values[0]) == pytest.approx(-2.0 + 4.0 / 7.0 * round(1.5 / (4 / 7)))
    codes, values = quantize(jnp.array([3.0, 3.0]), 3.0, 3.0, Quantizer(8))
    assert np.asarray(codes).tolist() == [0, 0]


def test_weights_quantized_per_tensor_with_identity_gradient():
    w = jnp.asarray(np.random.default_rng(2).normal(size=(30, 20)).astype(np.float32))
    wq = quantize_weights(w, Quantizer(4))
    assert len(np.unique(np.asarray(wq))) <= 16
    assert float(jnp.min(wq)) == float(jnp.min(w)) and float(jnp.max(wq)) == float(jnp.max(w))
    g = jax.grad(lambda v: jnp.sum(quantize_weights(v, Quantizer(4)) * 3.0))(w)
    np.testing.assert_array_equal(np.asarray(g), 3.0)


@pytest.mark.parametrize("kwargs, error", [({"bits": 1}, ValueError), ({"bits": 17}, ValueError),
                                           ({"bits": 8.0}, TypeError), ({"mode": "quaternary"}, ValueError)])
def test_bad_quantizers(kwargs, error):
    with pytest.raises(error, match="bits|mode"):
        Quantizer(**kwargs)
