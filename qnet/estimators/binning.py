"""Binning estimators: equal-width bins (Shwartz-Ziv & Tishby 2017) and adaptive bins
(Chelombiev, Houghton & O'Donnell 2019); the binned codes are counted exactly."""

from dataclasses import dataclass

import numpy as np

from qnet import information
from qnet._checks import check_choice, check_int
from qnet.estimators._common import _as_activations


def _binned_information(codes, labels):
    return information.layer_information(codes, labels)


@dataclass(frozen=True)
class UniformBinning:
    """Equal-width bins (Shwartz-Ziv & Tishby 2017, arXiv:1703.00810).

    Each value is replaced by the index of its bin among ``n_bins`` equal-width bins
    on ``[lo, hi]``; then I(X;T) = H(binned T) and I(T;Y) are counted exactly.
    bounds: ``fixed`` (``value_range``, default [-1, 1] as the original code),
    ``layer`` (min..max of the whole layer) or ``neuron`` (min..max of each unit).
    Values outside a fixed range go to the first/last bin.
    """

    n_bins: int = 30
    bounds: str = "layer"
    value_range: tuple = (-1.0, 1.0)

    def __post_init__(self):
        check_int(self.n_bins, "n_bins", 1)
        check_choice(self.bounds, "bounds", {"fixed", "layer", "neuron"})

    @property
    def name(self):
        return f"binning-{self.n_bins}-{self.bounds}"

    def codes(self, activations):
        a = _as_activations(activations)
        if self.bounds == "fixed":
            lo, hi = (np.float64(v) for v in self.value_range)
        elif self.bounds == "layer":
            lo, hi = a.min(), a.max()
        else:
            lo, hi = a.min(axis=0), a.max(axis=0)
        width = np.where(hi > lo, (hi - lo) / self.n_bins, 1.0)
        return np.clip(np.floor((a - lo) / width), 0, self.n_bins - 1).astype(np.int32)

    def __call__(self, activations, labels, inputs=None):
        return _binned_information(self.codes(activations), labels)


@dataclass(frozen=True)
class AdaptiveBinning:
    """Adaptive bins per layer (Chelombiev, Houghton & O'Donnell 2019, arXiv:1902.09037).

    strategy ``mass``: bin edges at quantiles of the layer's values, so bins hold equal
    numbers of values; ``distinct``: edges spaced evenly over the sorted *distinct*
    values (what the authors' code does). Values are then counted exactly.
    """

    n_bins: int = 30
    strategy: str = "mass"

    def __post_init__(self):
        check_int(self.n_bins, "n_bins", 1)
        check_choice(self.strategy, "strategy", {"mass", "distinct"})

    @property
    def name(self):
        return f"adaptive-{self.n_bins}-{self.strategy}"

    def codes(self, activations):
        a = _as_activations(activations)
        values = np.sort(a.ravel()) if self.strategy == "mass" else np.unique(a)
        positions = np.linspace(0, len(values) - 1, self.n_bins + 1)[1:-1]
        edges = np.unique(values[np.round(positions).astype(np.int64)])
        return np.searchsorted(edges, a, side="right").astype(np.int32)

    def __call__(self, activations, labels, inputs=None):
        return _binned_information(self.codes(activations), labels)
