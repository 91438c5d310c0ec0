"""Neural estimators (MINE, NWJ, InfoNCE): known answers with loose tolerances, determinism,
InfoNCE's ceiling. Small n, batch and step counts keep each training to about a second."""

import math

import numpy as np
import pytest

from qnet import estimators as E

N = 1024
FAST = dict(batch_size=128, steps=600, test_every=100)


def _gaussian_pair(rho, seed=0):
    z = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], N)
    return z[:, :1], z[:, 1:], -0.5 * math.log2(1 - rho**2)


@pytest.mark.parametrize("cls", [E.MINE, E.NWJ, E.InfoNCE])
def test_correlated_gaussians(cls):
    """rho = 0.8: I = 0.737 bits; independent: 0 (the estimate is the best of a few held-out
    values, so slightly positive)."""
    x, y, truth = _gaussian_pair(0.8)
    assert cls(**FAST).mutual_information(x, y) == pytest.approx(truth, abs=0.25)
    x, y, _ = _gaussian_pair(0.0, seed=1)
    assert abs(cls(**FAST).mutual_information(x, y)) < 0.15


def test_same_seed_same_number():
    x, y, _ = _gaussian_pair(0.8)
    a = E.MINE(**FAST, seed=3).mutual_information(x, y)
    assert E.MINE(**FAST, seed=3).mutual_information(x, y) == a
    assert E.MINE(**FAST, seed=4).mutual_information(x, y) != a
    fit = E.MINE(**FAST, seed=3).fit(x, y)
    assert fit["bits"] == a == max(fit["held_out_bits"]) and fit["steps"] == 100 * len(fit["held_out_bits"]) <= 600


def test_infonce_cannot_exceed_its_ceiling():
    """X = Y continuous: I is infinite, InfoNCE's held-out value at most log2(128) = 7 bits."""
    x, _, _ = _gaussian_pair(0.0)
    est = E.InfoNCE(**FAST)
    assert est.ceiling_bits(N) == 7.0
    value = est.mutual_information(x, x)
    assert 5.0 < value <= 7.0 + 1e-6
    assert E.InfoNCE().ceiling_bits(4096) == 8.0 and E.InfoNCE().ceiling_bits(300) == pytest.approx(math.log2(150))


def test_layer_protocol_with_one_hot_labels():
    """T = labels plus small noise: I(T;Y) = H(Y) = 1 bit for balanced binary labels."""
    rng = np.random.default_rng(5)
    labels = rng.permutation(np.repeat([0, 1], N // 2))
    acts = labels[:, None] + 0.05 * rng.normal(size=(N, 1))
    inputs = acts + 0.05 * rng.normal(size=(N, 1))
    est = E.MINE(**FAST)
    i_xt, i_ty = est(acts, labels, inputs)
    assert est.name == "mine-600-b128" and np.isfinite(i_xt)
    assert i_ty == pytest.approx(1.0, abs=0.25)
    with pytest.raises(ValueError, match="inputs"):
        est(acts, labels)


def test_bad_settings_and_data():
    with pytest.raises(ValueError, match="steps"):
        E.NWJ(steps=0)
    with pytest.raises(ValueError, match="train_fraction"):
        E.InfoNCE(train_fraction=1.0)
    with pytest.raises(ValueError, match="smoothing"):
        E.MINE(smoothing=1.0)
    with pytest.raises(TypeError, match="hidden"):
        E.MINE(hidden=[16, 8])
    with pytest.raises(ValueError, match="too few"):
        E.NWJ().mutual_information(np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="NaN"):
        E.NWJ().mutual_information(np.full((8, 1), np.nan), np.zeros((8, 1)))


def test_a_batch_other_than_the_default_is_in_the_name():
    """InfoNCE's ceiling is log2 of its batch: two batches must not share a name in a table."""
    assert E.InfoNCE().name == "infonce-10000"
    assert E.InfoNCE(batch_size=64).name == "infonce-10000-b64" and E.MINE(**FAST).name == "mine-600-b128"
