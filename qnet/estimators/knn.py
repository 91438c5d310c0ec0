"""k-nearest-neighbour estimators: KSG (Kraskov, Stoegbauer & Grassberger 2004) and its
discrete-label variant (Ross 2014). For tied (quantized) samples see :mod:`.mixed_ksg`."""

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

from qnet._checks import as_labels, check_int
from qnet.estimators._common import LN2, _as_activations, _pair, _require_inputs
from qnet.estimators._neighbours import feature_major, ksg_counts, ross_counts


def ksg_mutual_information(x, y, k=3):
    """KSG estimator, algorithm 1 (Kraskov, Stögbauer & Grassberger 2004), in bits.

    I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >, with max-norm distances.
    x: (n, d_x), y: (n, d_y) floats. Returns bits (an estimate, not clipped at 0).
    """
    x, y = _pair(x, y, "x", "y")
    check_int(k, "k", 1, x.shape[0] - 1)
    nx, ny = ksg_counts(feature_major(x), feature_major(y), k)
    nats = digamma(k) + digamma(x.shape[0]) - np.mean(digamma(nx + 1) + digamma(ny + 1))
    return nats / LN2


def ross_mutual_information(t, labels, k=3):
    """KSG for a continuous T and a discrete Y (Ross 2014, PLoS ONE 9:e87357), in bits.

    I = psi(N) + <psi(k_i)> - <psi(N_y(i))> - <psi(m_i)>; classes with one sample are left out;
    clipped at 0 (as scikit-learn's ``mutual_info_classif``). t: (n, d); labels: (n,).
    """
    t = _as_activations(t)
    ids, n_classes = as_labels(labels, t.shape[0])
    sizes = np.bincount(ids, minlength=n_classes)
    keep = sizes[ids] > 1
    t, ids = np.ascontiguousarray(t[keep]), ids[keep]
    sizes = np.bincount(ids, minlength=n_classes)
    k_per_class = np.minimum(k, np.maximum(sizes - 1, 1)).astype(np.int64)
    m = ross_counts(feature_major(t), ids, k_per_class)
    nats = digamma(len(t)) + np.mean(digamma(k_per_class[ids])) - np.mean(digamma(sizes[ids])) - np.mean(digamma(m))
    return max(nats, 0.0) / LN2


@dataclass(frozen=True)
class KSG:
    """k-nearest-neighbour estimator (Kraskov, Stoegbauer & Grassberger 2004): I(X;T) by KSG
    algorithm 1 on (inputs, activations); I(T;Y) by its discrete-label variant (Ross 2014).
    ``inputs`` is required. Biased where samples tie (quantized values): see :class:`MixedKSG`.
    activations: (n, d); labels: (n,); inputs: (n, d_x). Returns (I_XT, I_TY) in bits (estimates)."""

    k: int = 3

    def __post_init__(self):
        check_int(self.k, "k", 1)

    @property
    def name(self):
        return f"ksg-{self.k}"

    def __call__(self, activations, labels, inputs=None):
        inputs = _require_inputs(inputs, "KSG")
        return ksg_mutual_information(inputs, activations, self.k), ross_mutual_information(activations, labels, self.k)
