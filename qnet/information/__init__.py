"""Exact information quantities of integer codes (plug-in, in bits by default)."""

from qnet.information.exact import (
    EncodedLabels,
    conditional_entropy,
    encode_labels,
    entropy,
    information_batch,
    joint_entropy,
    layer_information,
    mutual_information,
)

__all__ = ["EncodedLabels", "conditional_entropy", "encode_labels", "entropy", "information_batch",
           "joint_entropy", "layer_information", "mutual_information"]
