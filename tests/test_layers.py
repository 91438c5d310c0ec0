"""Layers as data: the grammar, JSON, and the shape checks made before anything compiles."""

import json

import pytest

from qnet.model import Conv2D, Dense, Flatten, MaxPool2D, Network, build, network_from_json, network_to_json
from qnet.model.layers import DEFAULT
from qnet.model.spec import SpecError, layers_spec, parse_layers, parse_widths

ISSUE_SPEC = "conv:4:3x3:relu,maxpool:2,conv:4:3x3:relu,flatten,dense:10:softmax"


def test_the_issue_spec_parses_into_layers():
    layers = parse_layers(ISSUE_SPEC)
    assert layers == (Conv2D(4, (3, 3), activation="relu"), MaxPool2D(2), Conv2D(4, 3, activation="relu"), Flatten(),
                      Dense(10, "softmax"))
    assert layers[1].stride == (2, 2) and layers[0].padding == "valid"


def test_options_and_round_trip_through_the_grammar_and_json():
    spec = ("conv:8:5x3:tanh:stride=2:padding=same:bits=4:weights=float:symmetric,maxpool:3:stride=1,flatten,"
            "dense:16:relu:bits=float:quant=ternary:range=moving:narrow:init=glorot_uniform,dense:10")
    layers = parse_layers(spec)
    conv, pool, _, hidden, out = layers
    assert (conv.kernel, conv.stride, conv.padding, conv.bits, conv.weight_bits, conv.symmetric) == \
        ((5, 3), (2, 2), "same", 4, None, True)
    assert conv.narrow_range is DEFAULT and pool.size == (3, 3) and pool.stride == (1, 1)
    assert (hidden.bits, hidden.quantization, hidden.activation_range, hidden.narrow_range, hidden.init) == \
        (None, "ternary", "moving", True, "glorot_uniform")
    assert out.activation is DEFAULT
    assert parse_layers(layers_spec(layers)) == layers
    net = Network(layers=layers, input_size=None, activation="relu", bits=6)
    assert network_from_json(json.loads(json.dumps(network_to_json(net)))) == net


@pytest.mark.parametrize("spec, token, expected", [
    ("conv:4", "conv:4", "conv:FILTERS:KHxKW"),
    ("dense:ten", "dense:ten", "dense:UNITS"),
    ("dense:10:gelu", "dense:10:gelu", "unknown activation"),
    ("maxpool", "maxpool", "maxpool:SIZE"),
    ("pool:2", "pool:2", "unknown layer type"),
    ("dense:4:bits=99", "dense:4:bits=99", "bits must be between 2 and 16"),
    ("dense:4:stride=2", "dense:4:stride=2", "unknown option 'stride'"),
    ("flatten:1", "flatten:1", "flatten takes no fields"),
    ("dense:4:bits=4:relu", "dense:4:bits=4:relu", "options (key=value) come after"),
    ("conv:0:3x3", "conv:0:3x3", "filters must be a positive integer"),
])
def test_bad_tokens_are_named_with_the_expected_form(spec, token, expected):
    with pytest.raises(SpecError) as err:
        parse_layers(f"dense:8,{spec},dense:2")
    message = str(err.value)
    assert f"'{token}'" in message and expected in message and "\n" not in message


def test_widths_shorthand():
    assert parse_widths("12-10-7-5-4-3-2") == (12, 10, 7, 5, 4, 3, 2)
    net = Network.from_widths((12, 10, 2), activation="relu")
    assert net.layers == (Dense(10), Dense(2)) and net.input_size == 12 and net.widths == (12, 10, 2)
    for bad in ("12", "12-0-2", "12-x-2", "12--2"):
        with pytest.raises(SpecError, match="bad widths"):
            parse_widths(bad)


def test_build_follows_shapes_and_marks_measured_layers():
    built = build(Network(layers=parse_layers(ISSUE_SPEC), input_size=None), (8, 8, 1), 10)
    assert [(layer.name, layer.out_shape, layer.measured) for layer in built.layers] == [
        ("conv1", (6, 6, 4), True), ("pool1", (3, 3, 4), True), ("conv2", (1, 1, 4), True), ("flatten1", (4,), False),
        ("dense1", (10,), True)]
    assert built.layers[-1].activation == "softmax" and built.layers[0].activation == "relu"
    # the reference study's conv net on MNIST: 26x26x2, 13x13x2, 11x11x2, 5x5x2, 16, 10
    spec = "conv:2:3x3:relu,maxpool:2,conv:2:3x3:relu,maxpool:2,flatten,dense:16:relu,dense:10:softmax"
    shapes = [layer.out_shape for layer in build(Network(layers=parse_layers(spec), input_size=None), (28, 28, 1), 10).layers]
    assert shapes == [(26, 26, 2), (13, 13, 2), (11, 11, 2), (5, 5, 2), (50,), (16,), (10,)]
    same = build(Network(layers=parse_layers("conv:3:3x3:padding=same:stride=2,flatten,dense:2"), input_size=None), (7, 5, 1), 2)
    assert same.layers[0].out_shape == (4, 3, 3)
    # a float layer is not measured, and neither is a pool of float values
    built = build(Network(layers=parse_layers("conv:2:3:bits=float,maxpool:2,flatten,dense:2"), input_size=None), (8, 8, 1), 2)
    assert [layer.measured for layer in built.layers] == [False, False, False, True]


@pytest.mark.parametrize("spec, shape, classes, match", [
    ("conv:2:5x5,flatten,dense:2", (4, 4, 1), 2, r"conv1: kernel 5x5 is larger than its input feature map \(4, 4, 1\)"),
    ("conv:2:3x3,maxpool:4,flatten,dense:2", (5, 5, 1), 2, r"pool1: window 4x4 is larger than its input feature map \(3, 3, 2\)"),
    ("dense:8,dense:3", (12,), 2, "the output layer dense2 has 3 units but the data has 2 classes"),
    ("conv:2:3,dense:2", (8, 8, 1), 2, r"dense1 follows a feature map of shape \(6, 6, 2\): put flatten before it"),
    ("dense:4,conv:2:3,flatten,dense:2", (8, 8, 1), 2, r"conv1 needs a \(height, width, channels\) input, got shape \(4,\)"),
    ("dense:8,dense:2:relu", (12,), 2, "the last layer is the softmax output"),
    ("dense:8:softmax,dense:2", (12,), 2, "softmax is only for the last layer"),
    ("dense:8,flatten", (12,), 2, "the last layer must be dense:2:softmax"),
    ("dense:8:range=fixed:bits=4,dense:2", (12,), 2, None),
])
def test_shape_mismatches_are_caught_before_compiling(spec, shape, classes, match):
    net = Network(layers=parse_layers(spec), input_size=None, activation="relu")
    if match is None:  # relu with a fixed range has no bounds to use
        with pytest.raises(ValueError, match="activation_range 'fixed' needs a bounded activation"):
            build(net, shape, classes)
        return
    with pytest.raises(ValueError, match=match):
        build(net, shape, classes)


def test_input_size_of_the_widths_shorthand_is_checked():
    with pytest.raises(ValueError, match=r"expects 12 input values per sample but the data's samples have shape \(28, 28, 1\)"):
        build(Network(), (28, 28, 1), 10)
    assert build(Network.from_widths((784, 16, 10)), (28, 28, 1), 10).layers[0].in_shape == (784,)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(activation="swish"), ValueError, "unknown activation"),
    (dict(bits=1), ValueError, "bits must be between 2 and 16"),
    (dict(weight_bits=40), ValueError, "weight_bits"),
    (dict(bits=4.5), TypeError, "bits must be an integer"),
    (dict(init="zeros"), ValueError, "unknown init"),
    (dict(momentum=1.0), ValueError, "momentum"),
    (dict(symmetric="yes"), TypeError, "symmetric must be true or false"),
    (dict(layers=()), ValueError, "at least one layer"),
    (dict(layers=({"type": "dense"},)), TypeError, "must be a qnet layer"),
])
def test_bad_network_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        Network(**kwargs)


def test_bad_layer_json_names_the_field():
    with pytest.raises(ValueError, match=r"layers\[1\] \(dense\) has unknown fields \['unit'\]"):
        network_from_json({"layers": [{"type": "dense", "units": 3}, {"type": "dense", "unit": 2}]})
    with pytest.raises(ValueError, match=r"layers\[0\] must be an object with a type"):
        network_from_json({"layers": [{"type": "lstm"}]})
    with pytest.raises(ValueError, match="network has unknown fields"):
        network_from_json({"width": 3})
