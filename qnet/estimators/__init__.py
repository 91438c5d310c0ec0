"""Estimators of the information plane, for benchmarking against the exact values.

Every estimator is a small frozen dataclass with one call:
``estimator(activations, labels, inputs=None) -> (I_XT, I_TY)`` in bits, where
``activations: (n, d)`` are a layer's float values on the n evaluation inputs,
``labels: (n,)`` the labels and ``inputs: (n, d_x)`` the inputs (used by KSG only).
For a deterministic network evaluated once on each input, binning estimates
I(X;T) as H(binned T). No Python loops over samples: binning reuses the exact
counting kernels; KDE and KSG are Numba loops.
"""

from qnet.estimators.binning import AdaptiveBinning, UniformBinning
from qnet.estimators.kde import KDE
from qnet.estimators.knn import KSG, ksg_mutual_information, mixed_ksg_mutual_information


def default_estimators():
    """The estimators of the benchmark, with the parameters of the studies they come from."""
    return [UniformBinning(30, "fixed"), UniformBinning(30, "layer"), UniformBinning(100, "layer"),
            UniformBinning(256, "neuron"), AdaptiveBinning(30, "mass"), KDE(1e-3, "upper"), KDE(1e-3, "lower"), KSG(3)]


__all__ = ["AdaptiveBinning", "KDE", "KSG", "UniformBinning", "default_estimators", "ksg_mutual_information",
           "mixed_ksg_mutual_information"]
