"""Quantized networks: layers as data, the one-line layer grammar, quantizers, the forward pass,
and the protocol a model of your own follows."""

from qnet.model.build import Built, Resolved, build
from qnet.model.layers import DEFAULT, Conv2D, Dense, Flatten, MaxPool2D, Network, network_from_json, network_to_json
from qnet.model.network import QuantizedNetwork, apply, init_numpy
from qnet.model.protocol import Forward, FunctionalModel
from qnet.model.quantizers import Quantizer, fake_quantize, quantize, quantize_weights, straight_through
from qnet.model.spec import SpecError, layers_spec, parse_layers, parse_widths

__all__ = ["Built", "Conv2D", "DEFAULT", "Dense", "Flatten", "Forward", "FunctionalModel", "MaxPool2D", "Network",
           "QuantizedNetwork", "Quantizer", "Resolved", "SpecError", "apply", "build", "fake_quantize", "init_numpy",
           "layers_spec", "network_from_json", "network_to_json", "parse_layers", "parse_widths", "quantize",
           "quantize_weights", "straight_through"]
