import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

import qnet
from qnet.estimators.sample_propagation import SamplePropagation, compare_with_exact, format_comparison


def _mixture_entropy_1d(points, sigma):
    """h of (1/n) sum_i N(points_i, sigma^2) in bits, by quadrature."""
    points = np.asarray(points, dtype=float)

    def integrand(t):
        g = norm.pdf(t, points, sigma).mean()
        return -g * math.log2(g) if g > 0 else 0.0

    lo, hi = points.min() - 12 * sigma, points.max() + 12 * sigma
    breaks = np.linspace(lo, hi, 60)
    return sum(integrate.quad(integrand, a, b, epsabs=1e-13, epsrel=1e-12)[0] for a, b in zip(breaks, breaks[1:]))


def test_tiny_sigma_on_separated_points_gives_log2_n():
    rng = np.random.default_rng(0)
    codes = rng.permutation(1000)[:300].reshape(300, 1) * 3
    labels = rng.integers(0, 2, 300)
    est = SamplePropagation(0.01, 2000).estimate(codes, labels)
    assert est.I_XT == pytest.approx(math.log2(300), abs=1e-9) and est.stderr_XT < 1e-9
    # I(T;Y) -> I(S;Y) = H(Y) for injective S: a Monte Carlo mean of log2(n / n_y)
    assert abs(est.I_TY - qnet.layer_information(codes, labels)[1]) < 4 * est.stderr_TY


def test_huge_sigma_gives_about_zero():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, (200, 2))
    labels = rng.integers(0, 2, 200)
    est = SamplePropagation(1e3, 2000).estimate(codes, labels)
    assert abs(est.I_XT) < 4 * est.stderr_XT and est.stderr_XT < 1e-3 and abs(est.I_TY) < 1e-4


@pytest.mark.parametrize("sigma", [0.3, 0.7, 2.0])
def test_one_dimensional_mixture_against_quadrature(sigma):
    s = np.array([0.0, 0.0, 1.0, 2.0, 4.0, 4.5])
    y = np.array([0, 1, 0, 1, 1, 1])
    h_x = 0.5 * math.log2(2 * math.pi * math.e * sigma**2)
    h = _mixture_entropy_1d(s, sigma)
    h_y = sum(np.mean(y == c) * _mixture_entropy_1d(s[y == c], sigma) for c in (0, 1))
    est = SamplePropagation(sigma, 20_000, seed=3).estimate(s[:, None], y)
    assert est.h_T_given_X == pytest.approx(h_x, abs=1e-12)
    assert abs(est.I_XT - (h - h_x)) < 3.5 * est.stderr_XT
    assert abs(est.I_TY - (h - h_y)) < 3.5 * est.stderr_TY


def test_standard_error_is_honest_and_seeded():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 5, (100, 2)).astype(float)
    labels = rng.integers(0, 2, 100)
    runs = [SamplePropagation(0.8, 200, seed=s).estimate(codes, labels) for s in range(40)]
    xt = np.array([r.I_XT for r in runs])
    assert 0.6 < xt.std(ddof=1) / np.mean([r.stderr_XT for r in runs]) < 1.5
    assert SamplePropagation(0.8, 200, seed=5).estimate(codes, labels) == runs[5]
    assert SamplePropagation(0.8, 200, seed=5)(codes, labels) == (runs[5].I_XT, runs[5].I_TY)
    assert SamplePropagation(0.8).name == "sp-0.8"


def test_exact_rounded_gaussian_is_below_the_continuous_channel():
    """S + round(Z) = round(S + Z): the exact discrete value is <= the SP target (data processing)."""
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 6, (200, 2))
    labels = (codes[:, 0] > 2).astype(int)
    rows = compare_with_exact(codes, labels, [0.05, 0.4, 1.0, 2.5], n_samples=3000, seed=1)
    for r in rows:
        assert r.I_XT_exact <= r.I_XT_sp + 3 * r.stderr_XT
        assert r.I_TY_exact <= r.I_TY_sp + 3 * r.stderr_TY
    assert rows[0].I_XT_exact == pytest.approx(qnet.entropy(codes), abs=1e-9)
    # duplicate codes: at tiny sigma SP averages log2(n / count) over the drawn inputs
    assert abs(rows[0].I_XT_sp - qnet.entropy(codes)) < 4 * rows[0].stderr_XT
    assert "sigma" in format_comparison(rows) and len(format_comparison(rows).splitlines()) == 5


def test_bad_parameters():
    with pytest.raises(ValueError, match="sigma"):
        SamplePropagation(0.0)
    with pytest.raises(ValueError, match="n_samples"):
        SamplePropagation(1.0, 1)
    with pytest.raises(ValueError, match="labels"):
        SamplePropagation(1.0)(np.zeros((3, 1)), [0, 1])
