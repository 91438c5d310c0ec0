"""qnet: exact information-plane analysis of quantized neural networks.

Flat public API; each idea lives in its own module:
information (exact MI of integer codes), data, quantizers, networks, training,
experiment (the runner), plots, estimators (binning, KDE, KSG) and cli.
"""

from qnet.data import Dataset, stratified_split
from qnet.data import load as load_dataset
from qnet.experiment import ExperimentConfig, load_records, preset, run
from qnet.information import (
    conditional_entropy,
    encode_labels,
    entropy,
    information_batch,
    joint_entropy,
    layer_information,
    mutual_information,
)
from qnet.networks import NetworkConfig
from qnet.networks import apply as apply_network
from qnet.networks import init as init_network
from qnet.quantizers import Quantizer, fake_quantize, quantize
from qnet.training import DivergedError, TrainConfig, Trainer, train

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "DivergedError",
    "ExperimentConfig",
    "NetworkConfig",
    "Quantizer",
    "TrainConfig",
    "Trainer",
    "apply_network",
    "conditional_entropy",
    "encode_labels",
    "entropy",
    "fake_quantize",
    "information_batch",
    "init_network",
    "joint_entropy",
    "layer_information",
    "load_dataset",
    "load_records",
    "mutual_information",
    "preset",
    "quantize",
    "run",
    "stratified_split",
    "train",
]
