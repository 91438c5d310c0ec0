"""A one-line grammar for networks (the ``--layers`` option) and the ``widths`` shorthand.

Grammar (tokens separated by commas, fields by colons)::

    dense:UNITS[:ACTIVATION][:OPTION...]              dense:10:relu, dense:10:softmax
    conv:FILTERS:KHxKW[:ACTIVATION][:OPTION...]       conv:4:3x3:relu, conv:8:5x5:relu:stride=2:padding=same
    maxpool:SIZE[xSIZE][:stride=S]                    maxpool:2
    flatten
    noise:FAMILY:SCALE                                noise:gaussian:1.5, noise:uniform:1, noise:flip:0.1

    OPTION:  bits=B|float       activation bits of this layer (2..16, or float activations)
             weights=B|float    weight bits of this layer
             quant=uniform|binary|ternary
             range=auto|fixed|moving|batch
             init=truncated_normal|truncated_normal_units|glorot_uniform
             symmetric, narrow  (symmetric range, narrow range)
             stride=S|SxS, padding=valid|same   (conv; stride also maxpool)

ACTIVATION is one of tanh, relu, sigmoid, hardtanh, linear (softmax: the last dense layer,
which is a softmax whether or not it says so). A KHxKW kernel may be written K for K x K.
Example: ``conv:4:3x3:relu,maxpool:2,conv:4:3x3:relu,flatten,dense:10:softmax``.
"""

from qnet.model.layers import ACTIVATIONS, DEFAULT, NOISE_FAMILIES, Conv2D, Dense, Flatten, MaxPool2D, Noise

_FORMS = {
    "dense": "dense:UNITS[:ACTIVATION][:key=value...] (e.g. dense:10:relu)",
    "conv": "conv:FILTERS:KHxKW[:ACTIVATION][:key=value...] (e.g. conv:4:3x3:relu)",
    "maxpool": "maxpool:SIZE[xSIZE][:stride=S] (e.g. maxpool:2)",
    "flatten": "flatten",
    "noise": "noise:FAMILY:SCALE with FAMILY gaussian, uniform or flip (e.g. noise:gaussian:1.5)",
}
_OPTIONS = {"bits": "bits", "weights": "weight_bits", "quant": "quantization", "range": "activation_range",
            "init": "init", "stride": "stride", "padding": "padding"}
_FLAGS = {"symmetric": "symmetric", "narrow": "narrow_range"}


class SpecError(ValueError):
    pass


def _fail(token, kind, why=""):
    expected = _FORMS.get(kind, "one of " + ", ".join(_FORMS.values()))
    raise SpecError(f"bad layer {token!r}{': ' + why if why else ''}; expected {expected}")


def _int(text, token, kind, what):
    if not text.isdigit() or int(text) < 1:
        _fail(token, kind, f"{what} must be a positive integer, got {text!r}")
    return int(text)


def _size(text, token, kind, what):
    parts = text.lower().split("x")
    if len(parts) not in (1, 2):
        _fail(token, kind, f"{what} must be K or KHxKW, got {text!r}")
    values = tuple(_int(p, token, kind, what) for p in parts)
    return values * 2 if len(values) == 1 else values


def _option(field, token, kind):
    key, sep, value = field.partition("=")
    if not sep:
        if field in _FLAGS and kind in ("dense", "conv"):
            return _FLAGS[field], True
        _fail(token, kind, f"unknown field {field!r}")
    if key not in _OPTIONS or (kind == "maxpool" and key != "stride") or (kind == "dense" and key in ("stride", "padding")):
        _fail(token, kind, f"unknown option {key!r}")
    name = _OPTIONS[key]
    if name in ("bits", "weight_bits"):
        if value.lower() in ("float", "none"):
            return name, None
        return name, _int(value, token, kind, key)
    if name == "stride":
        return name, _size(value, token, kind, "stride")
    return name, value


def parse_layer(token):
    """One token of the grammar as a layer."""
    token = token.strip()
    kind, *fields = token.split(":")
    kind = kind.lower()
    if kind not in _FORMS:
        _fail(token, None, f"unknown layer type {kind!r}")
    if kind == "flatten":
        if fields:
            _fail(token, kind, "flatten takes no fields")
        return Flatten()
    if kind == "noise":
        if len(fields) != 2 or fields[0] not in NOISE_FAMILIES:
            _fail(token, kind)
        try:
            scale = float(fields[1])
        except ValueError:
            _fail(token, kind, f"scale must be a number, got {fields[1]!r}")
        return _build(Noise, {"family": fields[0], "scale": scale}, token, kind)
    positional = [f for f in fields if "=" not in f and f not in _FLAGS]
    options = [f for f in fields if f not in positional]
    if fields[len(positional):] != options:
        _fail(token, kind, "options (key=value) come after the positional fields")
    kwargs = dict(_option(f, token, kind) for f in options)
    if kind == "maxpool":
        if len(positional) != 1:
            _fail(token, kind)
        kwargs["size"] = _size(positional[0], token, kind, "size")
        return _build(MaxPool2D, kwargs, token, kind)
    need = 1 if kind == "dense" else 2
    if not need <= len(positional) <= need + 1:
        _fail(token, kind)
    if len(positional) > need:
        activation = positional[need].lower()
        if activation not in ACTIVATIONS + (("softmax",) if kind == "dense" else ()):
            _fail(token, kind, f"unknown activation {positional[need]!r} (expected one of {', '.join(ACTIVATIONS)})")
        kwargs["activation"] = activation
    if kind == "dense":
        return _build(Dense, dict(units=_int(positional[0], token, kind, "units"), **kwargs), token, kind)
    kwargs.update(filters=_int(positional[0], token, kind, "filters"), kernel=_size(positional[1], token, kind, "kernel"))
    return _build(Conv2D, kwargs, token, kind)


def _build(cls, kwargs, token, kind):
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        _fail(token, kind, str(err))


def parse_layers(spec):
    """The layers of a ``--layers`` spec string (see the module docstring) as a tuple."""
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError("the layer spec is empty; expected e.g. conv:4:3x3:relu,maxpool:2,flatten,dense:10:softmax")
    return tuple(parse_layer(token) for token in spec.split(","))


def parse_widths(text):
    """``"12-10-7-5-4-3-2"`` as a tuple of ints (the input width first)."""
    parts = str(text).split("-")
    if len(parts) < 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise SpecError(f"bad widths {text!r}: expected positive integers joined by '-', input width first (e.g. 12-10-7-5-4-3-2)")
    return tuple(int(p) for p in parts)


def layer_spec(layer):
    """A layer as a token of the grammar (inverse of :func:`parse_layer` up to defaults)."""
    if isinstance(layer, Flatten):
        return "flatten"
    if isinstance(layer, Noise):
        return f"noise:{layer.family}:{layer.scale:g}"
    if isinstance(layer, MaxPool2D):
        text = f"maxpool:{layer.size[0]}x{layer.size[1]}"
        return text + (f":stride={layer.stride[0]}x{layer.stride[1]}" if layer.stride != layer.size else "")
    if isinstance(layer, Dense):
        text = f"dense:{layer.units}"
    else:
        text = f"conv:{layer.filters}:{layer.kernel[0]}x{layer.kernel[1]}"
    if layer.activation is not DEFAULT:
        text += f":{layer.activation}"
    if isinstance(layer, Conv2D):
        if layer.stride != (1, 1):
            text += f":stride={layer.stride[0]}x{layer.stride[1]}"
        if layer.padding != "valid":
            text += f":padding={layer.padding}"
    for key, name in _OPTIONS.items():
        value = getattr(layer, name, DEFAULT)
        if name in ("stride", "padding") or value is DEFAULT:
            continue
        text += f":{key}={'float' if value is None else value}"
    for key, name in _FLAGS.items():
        if getattr(layer, name) is True:
            text += f":{key}"
    return text


def layers_spec(layers):
    return ",".join(layer_spec(layer) for layer in layers)
