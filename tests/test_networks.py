import jax
import numpy as np
import pytest

import qnet
from qnet import data, networks


def _forward(config, seed=0):
    ds = data.synthetic()
    params, state = networks.init(config, seed)
    # calibrate moving ranges on one training pass, then evaluate
    fwd = networks.apply(config, params, state, ds.X, training=True)
    state = {"ranges": fwd.ranges, "steps": state["steps"] + 1}
    return ds, networks.apply(config, params, state, ds.X)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "hardtanh", "linear"])
@pytest.mark.parametrize("bits", [2, 4, 8])
def test_codes_levels_and_data_processing_inequality(activation, bits):
    config = networks.NetworkConfig(activation=activation, bits=bits)
    ds, fwd = _forward(config)
    assert len(fwd.codes) == 6
    previous = None
    for width, codes, values in zip(config.widths[1:], fwd.codes, fwd.values):
        codes = np.asarray(codes)
        assert codes.shape == (4096, width) and codes.dtype == np.uint8
        assert codes.max() < 2**bits
        # the values passed on are a function of the codes ...
        assert qnet.conditional_entropy(np.asarray(values).view(np.int32), codes) == 0.0
        if previous is not None:
            # ... so each layer is a function of the previous layer's codes: H(T_l+1 | T_l) = 0,
            assert qnet.conditional_entropy(codes, previous) == 0.0
            # and the data-processing inequality holds exactly
            assert qnet.entropy(codes) <= qnet.entropy(previous)
            assert qnet.layer_information(codes, ds.y)[1] <= qnet.layer_information(previous, ds.y)[1] + 1e-12
        previous = codes


def test_float_network_has_no_codes():
    config = networks.NetworkConfig(bits=None, weight_bits=None)
    _, fwd = _forward(config)
    assert all(c is None for c in fwd.codes)
    assert fwd.values[0].dtype == np.float32


def test_16_bit_codes_are_uint16():
    config = networks.NetworkConfig(bits=12)
    _, fwd = _forward(config)
    assert np.asarray(fwd.codes[0]).dtype == np.uint16 and np.asarray(fwd.codes[0]).max() < 4096


def test_batch_range_uses_the_evaluated_tensor():
    config = networks.NetworkConfig(activation="tanh", activation_range="batch")
    _, fwd = _forward(config)
    for codes in fwd.codes[:-1]:
        codes = np.asarray(codes)
        assert codes.min() == 0 and codes.max() == 255  # min and max of the tensor are grid ends


def test_inits():
    for init in networks.INITS:
        config = networks.NetworkConfig(widths=(400, 300, 2), init=init)
        params, _ = networks.init(config, 0)
        w = np.asarray(params[0]["w"])
        if init == "truncated_normal":
            assert np.abs(w).max() <= 2 / np.sqrt(400) + 1e-6
            assert w.std() == pytest.approx(0.88 / np.sqrt(400), rel=0.05)
        else:
            assert np.abs(w).max() <= np.sqrt(6 / 700) and w.std() == pytest.approx(np.sqrt(2 / 700), rel=0.05)


@pytest.mark.parametrize("kwargs, match", [
    ({"activation": "swish"}, "unknown activation"),
    ({"bits": 1}, "bits"),
    ({"bits": 17}, "bits"),
    ({"weight_bits": 40}, "weight_bits"),
    ({"activation": "relu", "activation_range": "fixed"}, "bounded"),
    ({"widths": (12,)}, "widths"),
    ({"init": "zeros"}, "unknown init"),
])
def test_bad_configs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        networks.NetworkConfig(**kwargs)
