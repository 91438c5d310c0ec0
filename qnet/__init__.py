"""qnet: exact information-plane analysis of quantized neural networks."""

from qnet.information import (
    conditional_entropy,
    encode_labels,
    entropy,
    information_batch,
    joint_entropy,
    layer_information,
    mutual_information,
)

__version__ = "0.1.0"

__all__ = [
    "conditional_entropy",
    "encode_labels",
    "entropy",
    "information_batch",
    "joint_entropy",
    "layer_information",
    "mutual_information",
]
