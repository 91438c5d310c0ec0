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
from qnet.information.noise import Flip, Gaussian, Uniform, noise_from_config, stochastic_binary, stochastic_rounding
from qnet.information.noisy import (
    NoisyInformation,
    noisy_information,
    noisy_layer_information,
    stochastic_information,
    stochastic_layer_information,
)
from qnet.information.noisy_chain import (
    NoisyConditionals,
    conditional_information,
    noisy_chain_information,
    noisy_conditionals,
    push_conditionals,
)

__all__ = ["EncodedLabels", "conditional_entropy", "encode_labels", "entropy", "information_batch", "joint_entropy",
           "layer_information", "mutual_information",
           "Flip", "Gaussian", "NoisyConditionals", "NoisyInformation", "Uniform", "conditional_information",
           "noise_from_config", "noisy_chain_information", "noisy_conditionals", "noisy_information",
           "noisy_layer_information", "push_conditionals", "stochastic_binary", "stochastic_information",
           "stochastic_layer_information", "stochastic_rounding"]
