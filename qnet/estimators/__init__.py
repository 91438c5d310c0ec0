"""Estimators of the information plane, for benchmarking against the exact values.

Every estimator is a small frozen dataclass with one call:
``estimator(activations, labels, inputs=None) -> (I_XT, I_TY)`` in bits, where
``activations: (n, d)`` are a layer's float values on the n evaluation inputs,
``labels: (n,)`` the labels and ``inputs: (n, d_x)`` the inputs (used by the kNN and
neural estimators, which estimate I(X;T) from (inputs, activations)), plus a ``name``.
For a deterministic network evaluated once on each input, binning estimates I(X;T) as
H(binned T). :func:`estimate` runs one and returns an :class:`Estimate` record (a failure
is a record with ``success=False``); :mod:`.scoring` scores planes of records against the
exact ones; :mod:`.registry` builds estimators by name for a command line.

Modules: binning (equal-width, adaptive, Miller-Madow), kde (Kolchinsky-Tracey bounds),
knn (KSG, Ross), mixed_ksg (Gao et al.), neural (MINE, NWJ, InfoNCE), records, scoring,
registry, benchmark (the benchmark against exact values).
"""

from qnet.estimators.binning import AdaptiveBinning, UniformBinning, miller_madow_information
from qnet.estimators.kde import KDE
from qnet.estimators.knn import KSG, ksg_mutual_information, ross_mutual_information
from qnet.estimators.mixed_ksg import MixedKSG, mixed_ksg_mutual_information
from qnet.estimators.neural import MINE, NWJ, InfoNCE
from qnet.estimators.records import RECORDED_FAILURES, Estimate, estimate
from qnet.estimators.sample_propagation import SamplePropagation
from qnet.estimators.registry import (
    SETTINGS,
    EstimatorInfo,
    available,
    by_name,
    default_estimators,
    describe,
    neural_estimators,
    parse,
)

__all__ = ["AdaptiveBinning", "Estimate", "EstimatorInfo", "InfoNCE", "KDE", "KSG", "MINE", "MixedKSG", "NWJ",
           "RECORDED_FAILURES", "SETTINGS", "SamplePropagation", "UniformBinning", "available", "by_name", "default_estimators",
           "describe", "estimate", "ksg_mutual_information", "miller_madow_information",
           "mixed_ksg_mutual_information", "neural_estimators", "parse", "ross_mutual_information"]
