"""The forward pass of qnet's networks: codes, values, pooling, ranges, inits."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import qnet
from qnet import data
from qnet.model import Network, QuantizedNetwork, network
from qnet.model.spec import parse_layers

SYN = data.synthetic()


def _forward(net, X, n_classes, seed=0):
    model = QuantizedNetwork(net, X.shape[1:], n_classes)
    params, state = model.init(seed)
    # calibrate moving ranges on one training pass, then evaluate
    state = model.apply(params, state, X, training=True).state
    return model, model.apply(params, state, X)


def _check_chain(codes, values, labels):
    """Values are a function of the codes; each layer a function of the previous one (DPI)."""
    previous = None
    for c, v in zip(codes, values):
        c = np.asarray(c).reshape(len(labels), -1)
        assert qnet.conditional_entropy(np.asarray(v).reshape(len(labels), -1).view(np.int32), c) == 0.0
        if previous is not None:
            assert qnet.conditional_entropy(c, previous) == 0.0
            assert qnet.entropy(c) <= qnet.entropy(previous)
            assert qnet.layer_information(c, labels)[1] <= qnet.layer_information(previous, labels)[1] + 1e-12
        previous = c


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "hardtanh", "linear"])
@pytest.mark.parametrize("bits", [2, 8])
def test_dense_codes_levels_and_data_processing_inequality(activation, bits):
    _, fwd = _forward(Network(activation=activation, bits=bits), SYN.X, 2)
    assert [np.asarray(c).shape for c in fwd.codes] == [(4096, w) for w in (10, 7, 5, 4, 3, 2)]
    assert all(np.asarray(c).dtype == np.uint8 and np.asarray(c).max() < 2**bits for c in fwd.codes)
    _check_chain(fwd.codes, fwd.values, SYN.y)


def test_conv_pool_codes_are_what_the_next_layer_consumes():
    rng = np.random.default_rng(1)
    X = rng.random((300, 10, 10, 1)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    net = Network(layers=parse_layers("conv:3:3x3:relu,maxpool:2,conv:2:3x3:tanh,flatten,dense:5,dense:3"),
                  input_size=None, activation="relu", bits=4)
    model, fwd = _forward(net, X, 3)
    assert model.layer_names == ("conv1", "pool1", "conv2", "dense1", "dense2")
    conv1, pool1, conv2 = (np.asarray(c) for c in fwd.codes[:3])
    assert conv1.shape == (300, 8, 8, 3) and pool1.shape == (300, 4, 4, 3) and conv2.shape == (300, 2, 2, 2)
    # max pooling of codes: the max over each 2x2 window, computed here independently
    expected = conv1.reshape(300, 4, 2, 4, 2, 3).max(axis=(2, 4))
    np.testing.assert_array_equal(pool1, expected)
    _check_chain(fwd.codes, fwd.values, y)


@pytest.mark.parametrize("spec, shape", [
    ("dense:10,dense:7,dense:5,dense:4,dense:3,dense:2", (12,)),
    ("conv:3:3x3:relu,maxpool:2,conv:4:2x2:relu,maxpool:1,flatten,dense:6:relu,dense:2", (11, 11, 1)),
    ("conv:6:3x3:tanh:stride=2:padding=same,maxpool:3:stride=2,conv:5:2x2:relu,flatten,dense:2", (14, 13, 2)),
])
def test_qnets_forward_pass_equals_an_independent_implementation(spec, shape):
    """qnet's samples-last pass (slab convolutions, their hand-written gradient) against the same
    network written samples-first with XLA's own convolution and pooling and autodiff."""
    rng = np.random.default_rng(2)
    X = rng.random((200,) + shape).astype(np.float32)
    y = rng.integers(0, 2, 200)
    net = Network(layers=parse_layers(spec), input_size=None, activation="relu", bits=8)
    model = QuantizedNetwork(net, shape, 2)
    params, state = model.init(3)
    state = model.apply(params, state, X, training=True).state
    ours = model.apply(params, state, X)
    reference = network.apply_reference(model.built, params, state, X)
    np.testing.assert_allclose(np.asarray(ours.logits), np.asarray(reference.logits), rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.codes, reference.codes):
        assert a.shape == b.shape and np.mean(np.asarray(a) == np.asarray(b)) > 0.995  # last float bits may differ

    # gradients, compared on the float version of the net (quantization boundaries would move a few
    # samples and their straight-through gradients between the implementations)
    smooth = QuantizedNetwork(Network(layers=parse_layers(spec), input_size=None, activation="relu", bits=None,
                                      weight_bits=None), shape, 2)
    params, state = smooth.init(3)

    def loss(p, forward):
        logits = forward(smooth.built, p, state, X, training=True).logits
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    ours = jax.grad(loss)(params, network.apply)
    reference = jax.grad(loss)(params, network.apply_reference)
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(reference)):
        scale = np.abs(np.asarray(b)).max() + 1e-12
        assert np.abs(np.asarray(a) - np.asarray(b)).max() <= 1e-4 * scale


def test_float_network_has_no_codes_and_wide_codes_are_uint16():
    _, fwd = _forward(Network(bits=None, weight_bits=None), SYN.X, 2)
    assert fwd.codes == () and fwd.values[0].dtype == np.float32 and len(fwd.values) == 6
    _, fwd = _forward(Network(bits=12), SYN.X, 2)
    assert np.asarray(fwd.codes[0]).dtype == np.uint16 and np.asarray(fwd.codes[0]).max() < 4096


def test_per_layer_bits_override_the_network_default():
    net = Network(layers=parse_layers("dense:10,dense:3:bits=2,dense:2:bits=12"), input_size=12, bits=8)
    _, fwd = _forward(net, SYN.X, 2)
    assert [np.asarray(c).max() < 2**b for c, b in zip(fwd.codes, (8, 2, 12))] == [True, True, True]
    assert np.asarray(fwd.codes[1]).max() == 3 and np.asarray(fwd.codes[2]).dtype == np.uint16


def test_batch_range_uses_the_evaluated_tensor():
    _, fwd = _forward(Network(activation="tanh", activation_range="batch"), SYN.X, 2)
    for codes in fwd.codes[:-1]:
        codes = np.asarray(codes)
        assert codes.min() == 0 and codes.max() == 255  # min and max of the tensor are grid ends


@pytest.mark.parametrize("init", ["truncated_normal", "truncated_normal_units", "glorot_uniform"])
def test_inits(init):
    net = Network(layers=parse_layers("conv:30:3x3,flatten,dense:300,dense:2"), input_size=None, init=init)
    params, _ = QuantizedNetwork(net, (5, 5, 4), 2).init(0)
    conv, dense = np.asarray(params[0]["w"]), np.asarray(params[1]["w"])
    assert conv.shape == (3, 3, 4, 30) and dense.shape == (270, 300)
    for w, fan_in, fan_out, units in ((conv, 36, 270, 30), (dense, 270, 300, 300)):
        if init == "glorot_uniform":
            limit = np.sqrt(6 / (fan_in + fan_out))
            assert np.abs(w).max() <= limit and w.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
        else:
            std = 1 / np.sqrt(fan_in if init == "truncated_normal" else units)
            # a standard normal cut at 2 std has std 0.8796
            assert np.abs(w).max() <= 2 * std + 1e-6 and w.std() == pytest.approx(0.8796 * std, rel=0.05)


def test_same_seed_same_weights_other_seed_other_weights():
    model = QuantizedNetwork(Network(), (12,), 2)
    a, b, c = (jax.tree_util.tree_leaves(model.init(s)[0]) for s in (4, 4, 5))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(model.init(4)[0][0]["w"], model.init(5)[0][0]["w"])


@pytest.mark.parametrize("shape, size", [((26, 26, 2, 8), 2), ((11, 11, 2, 8), 2), ((9, 7, 3, 4), 3)])
def test_max_pool_gradient_goes_to_the_first_maximum_as_xlas_pool(shape, size):
    """On values with many ties (few levels, as quantized activations) the tiled pool's
    hand-written gradient equals the gradient of XLA's reduce_window pool (TensorFlow's rule:
    the first maximum of a window, row-major), cropped rows and columns getting none."""
    from qnet.model.conv import max_pool

    x = jnp.asarray(np.random.default_rng(4).integers(0, 3, shape).astype(np.float32))
    weights = jnp.asarray(np.random.default_rng(5).random((shape[0] // size, shape[1] // size) + shape[2:]),
                          jnp.float32)

    def xla_pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (size, size, 1, 1), (size, size, 1, 1), "VALID")

    np.testing.assert_array_equal(max_pool(x, (size, size), (size, size)), xla_pool(x))
    ours = jax.grad(lambda x: (max_pool(x, (size, size), (size, size)) * weights).sum())(x)
    theirs = jax.grad(lambda x: (xla_pool(x) * weights).sum())(x)
    assert np.mean(np.asarray(x)[:size * (shape[0] // size)] == 2) > 0.2  # ties are common
    np.testing.assert_array_equal(ours, theirs)
