"""A :class:`~qnet.model.layers.Network` resolved against its data: shapes, settings, checks.

:func:`build` fills every layer's settings from the network defaults, follows the shapes
from the input to the softmax, and checks them before anything is compiled (a kernel larger
than its feature map, a dense layer on a feature map, an output width that is not the
number of classes), naming the layer and the shapes in one line.
"""

import dataclasses
import math
from dataclasses import dataclass

from qnet.model.layers import DEFAULT, Conv2D, Dense, Flatten, MaxPool2D, Noise
from qnet.model.quantizers import Quantizer

BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "hardtanh": (-1.0, 1.0), "relu": None, "linear": None}


@dataclass(frozen=True)
class Resolved:
    """One layer with every setting resolved.

    name: ``dense3``, ``conv1``, ``pool2``, ``flatten1``; kind: dense, conv, maxpool, flatten;
    in_shape / out_shape: per-sample shapes; activation: resolved (``softmax`` for the output);
    quantizer: activation numerics, or ``None`` (float activations, or no activation of its own);
    range_mode: fixed, moving, batch (quantized dense/conv layers); range_slot: its row of the
    calibration state; weight_quantizer: ``None`` for float weights; init; param_slot: its entry
    in the parameter list; measured: its outputs are integer codes counted for the information plane;
    noise: the pmf over offsets -r..r of a noise layer (its codes: those of the layer before, plus noise).
    """

    layer: object
    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    activation: str | None = None
    quantizer: Quantizer | None = None
    range_mode: str | None = None
    momentum: float = 0.99
    weight_quantizer: Quantizer | None = None
    init: str | None = None
    param_slot: int | None = None
    range_slot: int | None = None
    measured: bool = False
    noise: object = None

    @property
    def size(self):
        return math.prod(self.out_shape)


@dataclass(frozen=True)
class Built:
    """A network resolved for ``input_shape`` and ``n_classes``: ``layers`` (tuple of
    :class:`Resolved`), ``dense_only`` (the MLP fast path applies)."""

    network: object
    input_shape: tuple
    n_classes: int
    layers: tuple

    @property
    def measured(self):
        return tuple(layer for layer in self.layers if layer.measured)

    @property
    def n_params(self):
        return sum(layer.param_slot is not None for layer in self.layers)

    @property
    def n_ranges(self):
        return sum(layer.range_slot is not None for layer in self.layers)

    @property
    def dense_only(self):
        return all(layer.kind in ("dense", "flatten", "noise") for layer in self.layers)

    @property
    def noisy(self):
        return any(layer.kind == "noise" for layer in self.layers)


def _setting(layer, network, key):
    value = getattr(layer, key, DEFAULT)
    return getattr(network, key) if value is DEFAULT else value


def _conv_out(size, kernel, stride, padding):
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def build(network, input_shape, n_classes):
    """Resolve ``network`` for samples of ``input_shape`` and ``n_classes`` classes; returns :class:`Built`.

    Raises ValueError naming the layer and the shapes when they do not fit.
    """
    input_shape = tuple(int(s) for s in input_shape)
    size = math.prod(input_shape)
    if network.input_size is not None and network.input_size != size:
        raise ValueError(f"the network expects {network.input_size} input values per sample but the data's samples "
                         f"have shape {input_shape} ({size} values)")
    if not isinstance(network.layers[-1], Dense):
        raise ValueError(f"the last layer must be dense:{n_classes}:softmax (the output), got {network.layers[-1]}")
    shape = input_shape
    counts = {}
    resolved = []
    params = ranges = 0
    last = len(network.layers) - 1
    previous_quantizer = None  # of the layer whose values a pool or flatten passes on
    for i, layer in enumerate(network.layers):
        kind = {Dense: "dense", Conv2D: "conv", MaxPool2D: "maxpool", Flatten: "flatten", Noise: "noise"}[type(layer)]
        counts[kind] = counts.get(kind, 0) + 1
        name = f"{'pool' if kind == 'maxpool' else kind}{counts[kind]}"
        if kind == "noise":
            before = resolved[-1] if resolved else None
            if before is None or not before.measured:
                raise ValueError(f"{name} must follow a layer with quantized activations (its codes get the noise)")
            if i == last:
                raise ValueError(f"{name}: the softmax output comes last; put noise on hidden layers")
            resolved[-1] = dataclasses.replace(before, measured=False)
            resolved.append(Resolved(layer, name, kind, shape, shape, quantizer=previous_quantizer, measured=True,
                                     noise=tuple(float(p) for p in layer.law().pmf())))
            continue
        if kind == "flatten":
            out = (math.prod(shape),)
            resolved.append(Resolved(layer, name, kind, shape, out, quantizer=previous_quantizer))
            shape = out
            continue
        if kind == "maxpool":
            if len(shape) != 3:
                raise ValueError(f"{name} needs a (height, width, channels) feature map, got shape {shape}")
            (sh, sw), (th, tw) = layer.size, layer.stride
            if sh > shape[0] or sw > shape[1]:
                raise ValueError(f"{name}: window {sh}x{sw} is larger than its input feature map {shape}")
            out = ((shape[0] - sh) // th + 1, (shape[1] - sw) // tw + 1, shape[2])
            resolved.append(Resolved(layer, name, kind, shape, out, quantizer=previous_quantizer,
                                     measured=previous_quantizer is not None))
            shape = out
            continue
        is_output = i == last
        activation = layer.activation
        if is_output:
            if activation not in (DEFAULT, "softmax"):
                raise ValueError(f"the last layer is the softmax output; {name} asks for activation {activation!r}")
            if layer.units != n_classes:
                raise ValueError(f"the output layer {name} has {layer.units} units but the data has {n_classes} classes")
            activation = "softmax"
        else:
            if activation == "softmax":
                raise ValueError(f"{name}: softmax is only for the last layer (the output)")
            activation = network.activation if activation is DEFAULT else activation
        if kind == "dense":
            if len(shape) != 1:
                if i != 0:
                    raise ValueError(f"{name} follows a feature map of shape {shape}: put flatten before it")
                shape = (math.prod(shape),)  # an MLP flattens its inputs as its first step
            out = (layer.units,)
        else:
            if len(shape) != 3:
                raise ValueError(f"{name} needs a (height, width, channels) input, got shape {shape}")
            (kh, kw), (sh, sw) = layer.kernel, layer.stride
            if layer.padding == "valid" and (kh > shape[0] or kw > shape[1]):
                raise ValueError(f"{name}: kernel {kh}x{kw} is larger than its input feature map {shape}")
            out = (_conv_out(shape[0], kh, sh, layer.padding), _conv_out(shape[1], kw, sw, layer.padding), layer.filters)
        bits = _setting(layer, network, "bits")
        quantizer = None
        range_mode = None
        if bits is not None:
            quantizer = Quantizer(bits, _setting(layer, network, "quantization"),
                                  _setting(layer, network, "symmetric"), _setting(layer, network, "narrow_range"))
            range_mode = "fixed" if is_output else _range_mode(_setting(layer, network, "activation_range"), activation, name)
        weight_bits = _setting(layer, network, "weight_bits")
        resolved.append(Resolved(
            layer, name, kind, shape, out, activation=activation, quantizer=quantizer, range_mode=range_mode,
            momentum=network.momentum, weight_quantizer=None if weight_bits is None else Quantizer(weight_bits),
            init=_setting(layer, network, "init"), param_slot=params, range_slot=None if quantizer is None else ranges,
            measured=quantizer is not None))
        params += 1
        ranges += quantizer is not None
        previous_quantizer = quantizer
        shape = out
    if any(r.kind == "noise" for r in resolved) and any(r.range_mode == "batch" for r in resolved):
        raise ValueError("a noisy network needs fixed or moving activation ranges, not 'batch' (the exact "
                         "measurement maps codes through the network on their own grid)")
    return Built(network, input_shape, int(n_classes), tuple(resolved))


def _range_mode(mode, activation, name):
    bounded = BOUNDS[activation] is not None
    if mode == "auto":
        return "fixed" if bounded else "moving"
    if mode == "fixed" and not bounded:
        raise ValueError(f"{name}: activation_range 'fixed' needs a bounded activation, not {activation!r}")
    return mode

