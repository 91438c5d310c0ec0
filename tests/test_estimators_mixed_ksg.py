"""Known answers of the mixed discrete-continuous KSG estimator (Gao, Kannan, Oh & Viswanath 2017)."""

import math

import numpy as np
import pytest
from scipy.special import digamma

import exact_reference as ref
from qnet import estimators as E


def test_copy_of_a_16_valued_variable_gives_4_bits():
    """T = X, 16 values 64 times each (n = 1024): every k-NN ball has radius 0 and holds the 64
    tied samples, so each term is psi(64) + ln 1024 - 2 psi(64) = ln 1024 - psi(64) nats
    (4 bits plus the digamma bias 1 / (2 * 64 ln 2) ~ 0.011)."""
    rng = np.random.default_rng(0)
    x = rng.permutation(np.repeat(np.arange(16), 64))[:, None].astype(float)
    estimate = E.mixed_ksg_mutual_information(x, x, 3)
    assert estimate == pytest.approx((math.log(1024) - digamma(64)) / math.log(2), abs=1e-9)
    assert estimate == pytest.approx(4.0, abs=0.02)
    # the activations of a layer are the same variable whatever their scale
    assert E.mixed_ksg_mutual_information(x, 0.01 * x - 3, 3) == pytest.approx(estimate, abs=1e-12)


def test_independent_discrete_variables_give_about_zero_where_ksg_fails():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 4, (2000, 1)).astype(float)
    b = rng.integers(0, 4, (2000, 2)).astype(float)
    assert abs(E.mixed_ksg_mutual_information(a, b, 3)) < 0.02
    assert E.ksg_mutual_information(a, b, 3) < -1.0  # plain KSG's bias on ties, for contrast


def test_discrete_data_with_ties_matches_the_plug_in_value():
    """On purely discrete data with many samples per cell the estimate is the plug-in MI
    (digamma for log: a bias of order cells / n)."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, 3000)
    y = (x + (rng.random(3000) < 0.3) * rng.integers(1, 3, 3000)) % 3
    plug_in = ref.mutual_information(x, y)
    assert E.mixed_ksg_mutual_information(x[:, None], y[:, None], 3) == pytest.approx(plug_in, abs=0.01)


def test_discrete_continuous_mixture():
    """X uniform on {0..4}, Y = X + U[0, 2]: I = log2 5 - 4/5 bits (Gao et al.'s example)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, (2000, 1)).astype(float)
    y = x + rng.uniform(0, 2, (2000, 1))
    assert E.mixed_ksg_mutual_information(x, y, 5) == pytest.approx(math.log2(5) - 0.8, abs=0.05)


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.9])
def test_correlated_gaussians(rho):
    """Tie-free data: I = -0.5 log2(1 - rho^2); the mean of 4 samples of n = 1500 (the
    estimator's spread is ~0.03 bits there), and each estimate is KSG algorithm 1's (up to
    ln N in place of psi(N), 1 / (2N ln 2) bits)."""
    estimates = []
    for seed in range(4):
        z = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], 1500)
        x, y = z[:, :1], z[:, 1:]
        estimates.append(E.mixed_ksg_mutual_information(x, y, 3))
        assert estimates[-1] == pytest.approx(E.ksg_mutual_information(x, y, 3), abs=1e-3)
    assert np.mean(estimates) == pytest.approx(-0.5 * math.log2(1 - rho**2), abs=0.05)


def test_layer_estimator_on_quantized_codes():
    """T = 2-bit codes of a 2-unit layer of X (16 distinct inputs, 32 copies each); Y a function
    of T. I(X;T) = H(T) and I(T;Y) = H(Y) exactly; the estimates are within the digamma bias."""
    rng = np.random.default_rng(4)
    inputs = rng.permutation(np.repeat(np.arange(16), 32))[:, None]
    codes = np.stack([inputs[:, 0] % 4, inputs[:, 0] // 8], axis=1)  # T: 8 values
    labels = (codes[:, 0] + codes[:, 1]) % 2
    acts = codes * 0.25 - 1.0  # dequantized
    est = E.MixedKSG(3)
    i_xt, i_ty = est(acts, labels, inputs.astype(float))
    assert est.name == "mixed-ksg-3"
    assert i_xt == pytest.approx(ref.entropy(codes), abs=0.03)
    assert i_ty == pytest.approx(ref.entropy(labels), abs=0.03)


def test_bad_input():
    x = np.zeros((10, 1))
    with pytest.raises(ValueError, match="k must be between 1 and 9"):
        E.mixed_ksg_mutual_information(x, x, 10)
    with pytest.raises(ValueError, match="x has 10 samples but y has 9"):
        E.mixed_ksg_mutual_information(x, x[:9], 3)
    with pytest.raises(ValueError, match="inputs"):
        E.MixedKSG()(x, np.zeros(10, int))
    with pytest.raises(TypeError, match="k must be an integer"):
        E.MixedKSG(2.5)
