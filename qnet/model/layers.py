"""The layers of a quantized network, as data.

A network is a :class:`Network`: a sequence of small frozen layer descriptions plus the
network-wide quantization defaults. Everything is JSON-serialisable
(:func:`network_to_json` / :func:`network_from_json`), so a run's ``config.json`` holds
the network in full.

Layers (samples-first shapes; images are ``(H, W, C)``):

- ``Dense(units, activation)``: ``(d,) -> (units,)``; the last layer is the softmax output.
- ``Conv2D(filters, kernel, stride=1, padding="valid", activation)``: ``(H, W, C) -> (H', W', filters)``.
- ``MaxPool2D(size, stride=size)``: ``(H, W, C) -> (H', W', C)``, valid windows.
- ``Flatten()``: ``(H, W, C) -> (H W C,)``; not a new layer for the information plane.
- ``Noise(family, scale)``: discrete noise on the codes of the layer before it,
  ``T = clip(S + Z, 0, levels - 1)`` with Z independent per unit (``gaussian``: rounded
  N(0, scale^2) in quantization levels; ``uniform``: -scale..scale; ``flip``: to a neighbouring
  level with probability scale). Sampled in training; measured exactly (the noise is
  summed over, not sampled). The noisy layer replaces the layer before it on the plane.

Dense and Conv2D take per-layer overrides of the network defaults (``bits``,
``quantization``, ``symmetric``, ``narrow_range``, ``activation_range``, ``weight_bits``,
``init``); a field left at :data:`DEFAULT` takes the network's value. ``bits=None``
makes that layer's activations float (it then has no codes and is not measured);
``weight_bits=None`` keeps its weights float.
"""

import dataclasses
from dataclasses import dataclass

from qnet._checks import check_choice, check_int

ACTIVATIONS = ("tanh", "relu", "sigmoid", "hardtanh", "linear")
RANGE_MODES = ("auto", "fixed", "moving", "batch")
INITS = ("truncated_normal", "truncated_normal_units", "glorot_uniform")
QUANTIZATIONS = ("uniform", "binary", "ternary")
PADDINGS = ("valid", "same")


class _Default:
    """The value of a layer field that takes the network's setting."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "DEFAULT"

    def __reduce__(self):
        return (_Default, ())


DEFAULT = _Default()

# the settings a layer can override, with the network-wide defaults (the one place they live)
OVERRIDABLE = {
    "bits": 8,
    "quantization": "uniform",
    "symmetric": False,
    "narrow_range": False,
    "activation_range": "auto",
    "weight_bits": 8,
    "init": "truncated_normal",
}


def _check_bits(value, name):
    if value is not None:
        check_int(value, name, 2, 16)


def check_settings(settings, where):
    """Validate quantization settings (a dict of :data:`OVERRIDABLE` keys, DEFAULT allowed)."""
    for key, value in settings.items():
        if value is DEFAULT:
            continue
        name = f"{where}{key}"
        if key in ("bits", "weight_bits"):
            _check_bits(value, name)
        elif key in ("symmetric", "narrow_range"):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be true or false, got {value!r}")
        elif key == "quantization":
            check_choice(value, name, set(QUANTIZATIONS))
        elif key == "activation_range":
            check_choice(value, name, set(RANGE_MODES))
        elif key == "init":
            check_choice(value, name, set(INITS))


def _pair(value, name, low=1):
    """An int or a pair of ints as a (height, width) tuple."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        return tuple(check_int(v, name, low) for v in value)
    v = check_int(value, name, low)
    return (v, v)


@dataclass(frozen=True, kw_only=True)
class _Quantized:
    bits: object = DEFAULT
    quantization: object = DEFAULT
    symmetric: object = DEFAULT
    narrow_range: object = DEFAULT
    activation_range: object = DEFAULT
    weight_bits: object = DEFAULT
    init: object = DEFAULT

    def _check_common(self, kind):
        check_settings({k: getattr(self, k) for k in OVERRIDABLE}, f"{kind} ")
        if self.activation is not DEFAULT:
            allowed = set(ACTIVATIONS) | ({"softmax"} if kind == "dense" else set())
            check_choice(self.activation, f"{kind} activation", allowed)


@dataclass(frozen=True)
class Dense(_Quantized):
    """A fully connected layer of ``units`` units (the last one: the softmax output)."""

    units: int
    activation: object = DEFAULT

    def __post_init__(self):
        check_int(self.units, "dense units", 1)
        self._check_common("dense")


@dataclass(frozen=True)
class Conv2D(_Quantized):
    """A 2-D convolution (NHWC) with ``filters`` output channels and a ``kernel`` window."""

    filters: int
    kernel: object = (3, 3)
    stride: object = (1, 1)
    padding: str = "valid"
    activation: object = DEFAULT

    def __post_init__(self):
        check_int(self.filters, "conv filters", 1)
        object.__setattr__(self, "kernel", _pair(self.kernel, "conv kernel"))
        object.__setattr__(self, "stride", _pair(self.stride, "conv stride"))
        check_choice(self.padding, "conv padding", set(PADDINGS))
        if self.activation == "softmax":
            raise ValueError("conv activation 'softmax' is not supported: only the last dense layer is a softmax")
        self._check_common("conv")


@dataclass(frozen=True)
class MaxPool2D:
    """Max pooling over ``size`` windows moved by ``stride`` (default: ``size``), valid windows.

    On codes the max of a window is a code on the same grid (the grid is increasing in the
    code), so the pooled codes are exactly what the next layer consumes."""

    size: object = (2, 2)
    stride: object = None

    def __post_init__(self):
        object.__setattr__(self, "size", _pair(self.size, "maxpool size"))
        stride = self.size if self.stride is None else _pair(self.stride, "maxpool stride")
        object.__setattr__(self, "stride", stride)


@dataclass(frozen=True)
class Flatten:
    """``(H, W, C) -> (H W C,)``."""


NOISE_FAMILIES = ("gaussian", "uniform", "flip")


@dataclass(frozen=True)
class Noise:
    """Discrete noise on the codes of the layer before (see the module docstring).

    family: gaussian (scale = sigma in quantization levels), uniform (scale = k, an integer:
    offsets -k..k), flip (scale = eps, the probability of moving one level up or down)."""

    family: str = "gaussian"
    scale: float = 1.0

    def __post_init__(self):
        check_choice(self.family, "noise family", set(NOISE_FAMILIES))
        self.law()  # validates the scale for the family

    def law(self):
        """The noise as a :mod:`qnet.information.noise` family (``pmf()`` over offsets -r..r)."""
        from qnet.information import noise

        try:
            if self.family == "gaussian":
                return noise.Gaussian(self.scale)
            if self.family == "uniform":
                if isinstance(self.scale, float) and self.scale.is_integer():
                    return noise.Uniform(int(self.scale))
                return noise.Uniform(self.scale)
            return noise.Flip(self.scale)
        except (TypeError, ValueError) as err:
            raise ValueError(f"noise {self.family}: {err}") from None


LAYER_TYPES = {"dense": Dense, "conv": Conv2D, "maxpool": MaxPool2D, "flatten": Flatten, "noise": Noise}
_TYPE_OF = {cls: name for name, cls in LAYER_TYPES.items()}


@dataclass(frozen=True)
class Network:
    """A quantized network: its layers and the network-wide defaults.

    layers: a tuple of :class:`Dense`, :class:`Conv2D`, :class:`MaxPool2D`, :class:`Flatten`;
      the last one is ``Dense(n_classes)``, a softmax.
    input_size: the number of input values per sample the network expects (given by the
      ``widths`` shorthand; checked against the data), or ``None``.
    activation: hidden-layer activation (tanh, relu, sigmoid, hardtanh, linear).
    bits: activation bits (2..16), ``None`` for float activations (no codes).
    quantization: uniform (2**bits levels), binary (2) or ternary (3).
    symmetric: a range ``[-m, m]`` with ``m = max(|lo|, |hi|)``; narrow_range: one level fewer.
    activation_range: ``fixed`` (the activation's bounds; bounded activations), ``moving``
      (moving-average min/max of training batches, frozen at evaluation), ``batch`` (min/max of
      the evaluated tensor), ``auto`` (fixed if bounded, else moving). The softmax uses [0, 1].
    momentum: of the moving average.
    weight_bits: per-tensor weight bits (2..16) or ``None`` (float weights).
    init: ``truncated_normal`` (std 1/sqrt(fan_in), redrawn beyond 2 std, as Keras),
      ``truncated_normal_units`` (std 1/sqrt(the layer's own units or filters), as the
      reference study's MNIST code passes it) or ``glorot_uniform``. Biases start at 0.
    """

    layers: tuple = (Dense(10), Dense(7), Dense(5), Dense(4), Dense(3), Dense(2))
    input_size: int | None = 12
    activation: str = "tanh"
    bits: int | None = OVERRIDABLE["bits"]
    quantization: str = OVERRIDABLE["quantization"]
    symmetric: bool = OVERRIDABLE["symmetric"]
    narrow_range: bool = OVERRIDABLE["narrow_range"]
    activation_range: str = OVERRIDABLE["activation_range"]
    momentum: float = 0.99
    weight_bits: int | None = OVERRIDABLE["weight_bits"]
    init: str = OVERRIDABLE["init"]

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise ValueError("a network needs at least one layer (the softmax output)")
        for i, layer in enumerate(layers):
            if type(layer) not in _TYPE_OF:
                raise TypeError(f"layers[{i}] must be a qnet layer (Dense, Conv2D, MaxPool2D, Flatten, Noise), got {layer!r}")
        object.__setattr__(self, "layers", layers)
        if self.input_size is not None:
            check_int(self.input_size, "input_size", 1)
        check_choice(self.activation, "activation", set(ACTIVATIONS))
        check_settings({k: getattr(self, k) for k in OVERRIDABLE}, "")
        if isinstance(self.momentum, bool) or not isinstance(self.momentum, (int, float)) or not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be a number in [0, 1), got {self.momentum!r}")

    @classmethod
    def from_widths(cls, widths, **settings):
        """An MLP from ``(input, hidden..., output)`` widths, e.g. ``(12, 10, 7, 5, 4, 3, 2)``."""
        widths = tuple(widths)
        if len(widths) < 2:
            raise ValueError(f"widths must list at least an input and an output width, got {widths}")
        for w in widths:
            check_int(w, "widths", 1)
        return cls(layers=tuple(Dense(w) for w in widths[1:]), input_size=widths[0], **settings)

    @property
    def widths(self):
        """``(input, units...)`` of a network of dense layers only, else ``None``."""
        if self.input_size is None or not all(type(layer) is Dense for layer in self.layers):
            return None
        return (self.input_size,) + tuple(layer.units for layer in self.layers)


def layer_to_json(layer):
    """A layer as a JSON object: its type and the fields that differ from :data:`DEFAULT`."""
    obj = {"type": _TYPE_OF[type(layer)]}
    for f in dataclasses.fields(layer):
        value = getattr(layer, f.name)
        if value is not DEFAULT:
            obj[f.name] = list(value) if isinstance(value, tuple) else value
    return obj


def layer_from_json(obj, where="layer"):
    if not isinstance(obj, dict) or obj.get("type") not in LAYER_TYPES:
        raise ValueError(f"{where} must be an object with a type in {sorted(LAYER_TYPES)}, got {obj!r}")
    cls = LAYER_TYPES[obj["type"]]
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in obj.items() if k != "type"}
    unknown = set(kwargs) - fields
    if unknown:
        raise ValueError(f"{where} ({obj['type']}) has unknown fields {sorted(unknown)}; expected some of {sorted(fields)}")
    try:
        return cls(**kwargs)
    except TypeError as err:  # a missing required field
        raise ValueError(f"{where} ({obj['type']}): {err}") from None


def network_to_json(network):
    obj = {f.name: getattr(network, f.name) for f in dataclasses.fields(network)}
    obj["layers"] = [layer_to_json(layer) for layer in network.layers]
    return obj


def network_from_json(obj):
    if not isinstance(obj, dict):
        raise ValueError(f"network must be a JSON object, got {type(obj).__name__}")
    fields = {f.name for f in dataclasses.fields(Network)}
    unknown = set(obj) - fields
    if unknown:
        raise ValueError(f"network has unknown fields {sorted(unknown)}; expected some of {sorted(fields)}")
    kwargs = dict(obj)
    if "layers" in kwargs:
        if not isinstance(kwargs["layers"], list):
            raise ValueError("network layers must be a list of layer objects")
        kwargs["layers"] = tuple(layer_from_json(o, f"layers[{i}]") for i, o in enumerate(kwargs["layers"]))
    return Network(**kwargs)
