"""Named configurations: the quick run and the reference study's networks (Lorenzen, Igel &
Nielsen, ICLR 2022), as its code builds and trains them.

SYN nets: tanh nets keep float weights and quantize activations with the min/max of the
evaluated tensor; ReLU nets use 8-bit weights (per-tensor last-value min/max) and moving-average
activation ranges; Glorot-uniform init (the truncated normal its code asks for is never passed
to the layers); Adam 1e-4, batch 256, stratified 80/20 split (seed 1000), 8000 epochs.
MNIST nets: ReLU, 8-bit weights and activations, Adam 1e-4, batch 256, 3000 epochs, truncated
normal init with std 1/sqrt(the layer's own units or filters); MI on all 70,000 images at every
epoch (the reference measured every 2nd). Prefit: 1000 epochs on randomly permuted training
labels, then the 8000 epochs on the true labels, same optimizer; MI always against the true labels.
"""

from qnet._checks import check_choice
from qnet.experiment.config import ExperimentConfig

_REFERENCE = dict(learning_rate=1e-4, batch_size=256, optimizer="adam")
_SYN = dict(_REFERENCE, init="glorot_uniform", epochs=8000, seeds=50)
_TANH = dict(activation="tanh", weight_bits=None, activation_range="batch")
_RELU = dict(activation="relu", weight_bits=8, activation_range="moving")
_MNIST = dict(_REFERENCE, **_RELU, dataset="mnist", bits=8, init="truncated_normal_units", epochs=3000)

PRESETS = {
    "quick": {},
    "syn-tanh-8": dict(_SYN, **_TANH, bits=8),
    "syn-relu-8": dict(_SYN, **_RELU, bits=8),
    "syn-tanh-4": dict(_SYN, **_TANH, bits=4),
    "syn-relu-4": dict(_SYN, **_RELU, bits=4),
    "syn-tanh-8-prefit": dict(_SYN, **_TANH, bits=8, seeds=20, prefit_epochs=1000),
    "syn-relu-8-prefit": dict(_SYN, **_RELU, bits=8, seeds=20, prefit_epochs=1000),
    # noise (rounded Gaussian, sigma = 0.5 levels) on the codes of the width-3 layer, measured
    # exactly: summed over every noise value (fixed tanh ranges: a noisy net needs them)
    "syn-tanh-8-noisy": dict(_SYN, **{**_TANH, "activation_range": "fixed"}, bits=8, seeds=10, mi_epochs="log:40",
                             save_codes="log:4", spec="dense:10,dense:7,dense:5,dense:4,dense:3,noise:gaussian:0.5,dense:2"),
    "mnist-bottleneck-2": dict(_MNIST, widths=(784, 16, 8, 4, 2, 10), seeds=20),
    "mnist-bottleneck-4": dict(_MNIST, widths=(784, 16, 12, 8, 4, 10), seeds=20),
    "mnist-hourglass": dict(_MNIST, widths=(784, 16, 8, 4, 2, 4, 8, 10), seeds=20),
    "mnist-4x10": dict(_MNIST, widths=(784, 10, 10, 10, 10, 10), seeds=10),
    "mnist-conv": dict(_MNIST, spec="conv:2:3x3:relu,maxpool:2,conv:2:3x3:relu,maxpool:2,flatten,dense:16:relu,"
                                    "dense:10:softmax", seeds=10),
}

DESCRIPTIONS = {
    "quick": "the default run: SYN 12-10-7-5-4-3-2 tanh, 8-bit, Adam 1e-3, 1500 epochs, 5 seeds",
    "syn-tanh-8": "reference SYN net, tanh, 8-bit activations, float weights, 8000 epochs, 50 seeds",
    "syn-relu-8": "reference SYN net, ReLU, 8-bit weights and activations, 8000 epochs, 50 seeds",
    "syn-tanh-4": "as syn-tanh-8 with 4-bit activations",
    "syn-relu-4": "as syn-relu-8 with 4-bit activations",
    "syn-tanh-8-prefit": "syn-tanh-8 after 1000 epochs on permuted labels, 20 seeds",
    "syn-relu-8-prefit": "syn-relu-8 after 1000 epochs on permuted labels, 20 seeds",
    "syn-tanh-8-noisy": "syn-tanh-8 with rounded Gaussian noise (sigma 0.5 levels) on the width-3 layer, exact; 10 seeds",
    "mnist-bottleneck-2": "MNIST 784-16-8-4-2-10 ReLU 8-bit, 3000 epochs, 20 seeds",
    "mnist-bottleneck-4": "MNIST 784-16-12-8-4-10 ReLU 8-bit, 3000 epochs, 20 seeds",
    "mnist-hourglass": "MNIST 784-16-8-4-2-4-8-10 ReLU 8-bit, 3000 epochs, 20 seeds",
    "mnist-4x10": "MNIST 784-10-10-10-10-10 ReLU 8-bit, 3000 epochs, 10 seeds",
    "mnist-conv": "MNIST conv 2x3x3, pool 2, conv 2x3x3, pool 2, dense 16, 10; ReLU 8-bit, 3000 epochs, 10 seeds",
}


def preset(name, **overrides):
    """The :class:`~qnet.experiment.config.ExperimentConfig` of a named preset with ``overrides``
    (flat field names, e.g. ``epochs=20, bits=4``) applied."""
    check_choice(name, "preset", set(PRESETS))
    return ExperimentConfig().replace(**{**PRESETS[name], **overrides})
