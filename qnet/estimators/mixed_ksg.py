"""The k-nearest-neighbour estimator for discrete-continuous mixtures (Gao, Kannan, Oh &
Viswanath, NeurIPS 2017): consistent where samples tie, as quantized activations and
discrete inputs do; plain KSG is not."""

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

from qnet._checks import check_int
from qnet.estimators._common import LN2, _as_activations, _pair, _require_inputs, one_hot
from qnet.estimators._neighbours import feature_major, mixed_counts


def mixed_ksg_mutual_information(x, y, k=3):
    """Mixed KSG estimate of I(X;Y) in bits (Gao, Kannan, Oh & Viswanath 2017, arXiv:1709.06212).

    I = (1/N) sum_i [ psi(k_i) + ln N - psi(n_x,i) - psi(n_y,i) ] / ln 2, with max-norm
    distances, rho_i the distance from sample i to its k-th nearest neighbour in (x, y), and
    (counts including i): k_i = k and n_x,i, n_y,i = samples strictly within rho_i in x, y
    when rho_i > 0; when rho_i = 0 (ties) k_i, n_x,i, n_y,i = samples at distance 0 in
    (x, y), x, y. The paper writes ln(n + 1) with counts excluding i; the digamma form used
    here (as in the authors' code) is KSG algorithm 1 (with ln N for psi(N)) on tie-free data
    and, on purely discrete data, the plug-in estimate with ln replaced by psi.
    An estimate: not clipped at 0, so a negative value shows the estimator's bias.

    x: (n, d_x), y: (n, d_y) numbers; k: 1 <= k <= n - 1. Returns bits.
    """
    x, y = _pair(x, y, "x", "y")
    n = x.shape[0]
    check_int(k, "k", 1, n - 1)
    kk, nx, ny = mixed_counts(feature_major(x), feature_major(y), k)
    nats = np.mean(digamma(kk)) + np.log(n) - np.mean(digamma(nx)) - np.mean(digamma(ny))
    return float(nats / LN2)


def _label_variable(t, labels):
    """Labels as one-hot rows scaled beyond the diameter of ``t``: different classes are
    farther apart than any two activations, the same class at distance 0 (a discrete metric)."""
    diameter = float(np.max(t.max(axis=0) - t.min(axis=0)))
    return one_hot(labels, t.shape[0], scale=2.0 * diameter + 1.0)


@dataclass(frozen=True)
class MixedKSG:
    """Mixed discrete-continuous KSG (Gao, Kannan, Oh & Viswanath, NeurIPS 2017).

    I(X;T) from (inputs, activations) and I(T;Y) from (activations, labels), each by
    :func:`mixed_ksg_mutual_information`; the labels enter as a discrete metric (one-hot rows
    scaled beyond the activations' diameter), so for classes with more than k samples the
    neighbours of a sample are searched within its class. ``inputs`` is required.
    activations: (n, d); labels: (n,); inputs: (n, d_x). Returns (I_XT, I_TY) in bits (estimates).
    """

    k: int = 3

    def __post_init__(self):
        check_int(self.k, "k", 1)

    @property
    def name(self):
        return f"mixed-ksg-{self.k}"

    def __call__(self, activations, labels, inputs=None):
        inputs = _require_inputs(inputs, "MixedKSG")
        t = _as_activations(activations)
        i_xt = mixed_ksg_mutual_information(inputs, t, self.k)
        return i_xt, mixed_ksg_mutual_information(t, _label_variable(t, labels), self.k)
