import math

import numpy as np
import pytest

import exact_reference as ref
import qnet
from qnet import estimators as E

RNG = np.random.default_rng(0)


def _gaussian_pair(n, rho, seed=0):
    z = np.random.default_rng(seed).multivariate_normal([0, 0], [[1, rho], [rho, 1]], n)
    return z[:, :1], z[:, 1:], -0.5 * math.log2(1 - rho**2)


def test_binning_aligned_with_quantization_grid_is_exact():
    """Bins whose centres are the grid points of 4-bit codes on [-1, 1] reproduce the exact values."""
    codes = RNG.integers(0, 16, (3000, 3))
    labels = RNG.integers(0, 3, 3000)
    values = -1.0 + codes * (2.0 / 15.0)  # dequantized activations
    step = 2.0 / 15.0
    binning = E.UniformBinning(16, "fixed", value_range=(-1.0 - step / 2, 1.0 + step / 2))
    np.testing.assert_array_equal(binning.codes(values), codes)
    assert binning(values, labels) == pytest.approx((ref.entropy(codes), ref.mutual_information(codes, labels)), abs=1e-12)


def test_binning_per_neuron_and_adaptive_count_exactly_what_they_bin():
    acts = RNG.normal(size=(800, 4))
    labels = RNG.integers(0, 2, 800)
    for est in (E.UniformBinning(30, "neuron"), E.UniformBinning(30, "layer"), E.AdaptiveBinning(10, "mass"),
                E.AdaptiveBinning(10, "distinct")):
        codes = est.codes(acts)
        assert codes.min() >= 0 and codes.max() < 30
        assert est(acts, labels) == pytest.approx((ref.entropy(codes), ref.mutual_information(codes, labels)), abs=1e-12)
    # equal-mass bins of a single unit hold (nearly) equal counts
    counts = np.bincount(E.AdaptiveBinning(10, "mass").codes(acts[:, :1]).ravel())
    assert counts.max() - counts.min() <= 2


def test_original_fixed_binning_saturates():
    """With [-1, 1] bins, ReLU-like values above 1 all fall in the last bin (a known flaw)."""
    acts = np.abs(RNG.normal(size=(500, 1))) * 10 + 1.5
    assert E.UniformBinning(30, "fixed")(acts, RNG.integers(0, 2, 500))[0] == 0.0


def test_miller_madow_binning_against_hand_computed_values():
    """n = 8, T = 0 0 1 1 2 2 3 3 (m_T = 4 bins), H(T) = 2 bits, so I(X;T) = 2 + 3 / (16 ln 2).
    With Y = 0 0 0 0 1 1 1 1 (m_Y = 2, m_TY = 4): plug-in I(T;Y) = 1, corrected 1 + (4 + 2 - 4 - 1) / (16 ln 2).
    With Y = 0 1 0 1 0 1 0 1 (m_TY = 8): plug-in 0, corrected (4 + 2 - 8 - 1) / (16 ln 2) < 0."""
    acts = np.array([0, 0, 1, 1, 2, 2, 3, 3], float)[:, None] + 0.5
    est = E.UniformBinning(4, "fixed", value_range=(0.0, 4.0), miller_madow=True)
    plain = E.UniformBinning(4, "fixed", value_range=(0.0, 4.0))
    assert est.name == "binning-4-fixed-mm" and plain.name == "binning-4-fixed"
    unit = 1 / (16 * math.log(2))
    assert est(acts, [0, 0, 0, 0, 1, 1, 1, 1]) == pytest.approx((2 + 3 * unit, 1 + unit), abs=1e-12)
    assert plain(acts, [0, 0, 0, 0, 1, 1, 1, 1]) == pytest.approx((2.0, 1.0), abs=1e-12)
    assert est(acts, [0, 1, 0, 1, 0, 1, 0, 1]) == pytest.approx((2 + 3 * unit, -3 * unit), abs=1e-12)
    # adaptive bins: the same correction of whatever bins it makes (counted here with sets)
    acts = RNG.normal(size=(500, 2))
    labels = RNG.integers(0, 3, 500)
    adaptive = E.AdaptiveBinning(5, "mass", miller_madow=True)
    assert adaptive.name == "adaptive-5-mass-mm"
    codes = adaptive.codes(acts)
    m_t, m_y = len(set(ref.rows(codes))), len(set(labels.tolist()))
    m_ty = len(set(zip(ref.rows(codes), labels.tolist())))
    unit = 1 / (2 * 500 * math.log(2))
    assert adaptive(acts, labels) == pytest.approx(
        (ref.entropy(codes) + (m_t - 1) * unit, ref.mutual_information(codes, labels) + (m_t + m_y - m_ty - 1) * unit),
        abs=1e-12)


def test_miller_madow_exceeds_log2_n_on_distinct_values():
    """64 distinct values in 64 bins: plug-in H = log2 64 = 6 bits; corrected 6 + 63 / (128 ln 2)."""
    acts = np.arange(64, dtype=float)[:, None]
    i_xt, _ = E.UniformBinning(64, "layer", miller_madow=True)(acts, np.zeros(64, int))
    assert i_xt == pytest.approx(6 + 63 / (128 * math.log(2)), abs=1e-12) and i_xt > math.log2(64)
    with pytest.raises(TypeError, match="miller_madow"):
        E.UniformBinning(30, "layer", miller_madow="yes")


@pytest.mark.parametrize("bound", ["upper", "lower"])
def test_kde_reproduces_exact_values_on_integer_codes(bound):
    codes = RNG.integers(0, 4, (600, 3))
    labels = RNG.integers(0, 2, 600)
    est = E.KDE(1e-3, bound)(codes.astype(float), labels)
    assert est == pytest.approx(qnet.layer_information(codes, labels), abs=1e-9)


def test_kde_bounds_bracket_the_gaussian_channel():
    """For T ~ N(0, 1) and noise N(0, s2), I(T; T + noise) = 0.5 log2(1 + 1 / s2) lies between
    the lower and upper KDE bounds (up to their finite-sample bias at n = 1500)."""
    _, y, _ = _gaussian_pair(1500, 0.8)
    sigma2 = 0.1
    upper = E.KDE(sigma2, "upper")(y, np.zeros(len(y), int))[0]
    lower = E.KDE(sigma2, "lower")(y, np.zeros(len(y), int))[0]
    closed = 0.5 * math.log2(1 + 1.0 / sigma2)
    assert lower - 0.15 <= closed <= upper + 0.15
    assert upper >= lower


def test_ksg_on_correlated_gaussians():
    for rho in (0.0, 0.5, 0.9):
        x, y, truth = _gaussian_pair(2000, rho, seed=int(rho * 10))
        assert E.ksg_mutual_information(x, y, 3) == pytest.approx(truth, abs=0.05)


def test_ksg_agrees_with_scikit_learn():
    sklearn = pytest.importorskip("sklearn.feature_selection")
    x, y, _ = _gaussian_pair(1000, 0.7, seed=3)
    x, y = x / x.std(), y / y.std()  # scikit-learn rescales to unit variance
    theirs = sklearn.mutual_info_regression(x, y.ravel(), n_neighbors=3, random_state=0)[0] / math.log(2)
    assert E.ksg_mutual_information(x, y, 3) == pytest.approx(theirs, abs=1e-6)
    labels = (y.ravel() > 0.3).astype(int)
    theirs = sklearn.mutual_info_classif(x, labels, n_neighbors=3, random_state=0)[0] / math.log(2)
    assert E.ross_mutual_information(x, labels, 3) == pytest.approx(theirs, abs=1e-6)


def test_estimator_protocol_and_bad_input():
    acts = RNG.normal(size=(200, 2))
    labels = RNG.integers(0, 2, 200)
    inputs = RNG.integers(0, 2, (200, 5)).astype(float)
    for est in E.default_estimators():
        i_xt, i_ty = est(acts, labels, inputs)
        assert np.isfinite(i_xt) and np.isfinite(i_ty) and isinstance(est.name, str)
    with pytest.raises(ValueError, match="NaN"):
        E.KDE()(np.array([[np.nan]]), [0])
    with pytest.raises(ValueError, match="inputs"):
        E.KSG()(acts, labels)
    with pytest.raises(ValueError, match="bounds"):
        E.UniformBinning(30, "global")
    with pytest.raises(ValueError, match="variance"):
        E.KDE(0.0)


def test_ksg_counts_tied_samples_like_scikit_learn():
    """Quantized activations are full of ties; the neighbour counts must stay finite."""
    sklearn = pytest.importorskip("sklearn.feature_selection")
    t = RNG.integers(0, 3, (400, 1)).astype(float)
    labels = RNG.integers(0, 2, 400)
    ours = E.ross_mutual_information(t, labels, 3)
    assert np.isfinite(ours)
    assert ours == pytest.approx(max(0.0, sklearn.mutual_info_classif(t + 0.0, labels, n_neighbors=3, random_state=0)[0]) / math.log(2), abs=0.02)


def test_benchmark_end_to_end_through_the_cli(tmp_path):
    from qnet import cli

    # the 820 test inputs of SYN through a 12-5-3-2 net keep the kNN and KDE estimators cheap
    code = cli.main(["estimators", "--epochs", "4", "--seeds", "1", "--probes", "3", "--bench-seeds", "1",
                     "--eval-set", "test", "--widths", "12-5-3-2", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    for name in ("estimators.csv", "estimators.md", "estimators.npz", "estimators_plane.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = np.load(tmp_path / "estimators.npz")
    exact, quantized = saved["exact"], saved["quantized"]
    assert exact.shape == (1, 3, 3, 2) and quantized.shape[1:] == exact.shape
    names = list(saved["names"])
    assert names == [e.name for e in E.default_estimators()]
    assert saved["quantized_success"].shape == quantized.shape[:-1]
    assert saved["float_seconds"].shape == quantized.shape[:-1]
    # every default estimator succeeds on this net, and a success holds finite values
    assert saved["quantized_success"].all() and np.isfinite(quantized).all()
    # the per-layer binning on the quantized net's values never exceeds the exact I(X;T) (a coarsening)
    b = names.index("binning-30-layer")
    assert np.all(quantized[b, ..., 0] <= exact[..., 0] + 1e-9)
    # binning per unit into 256 bins recovers the 8-bit codes: exact values
    np.testing.assert_allclose(quantized[names.index("binning-256-neuron")], exact, atol=1e-9)
    lines = (tmp_path / "estimators.csv").read_text().splitlines()
    assert len(lines) == 1 + len(names) and lines[0].startswith("estimator,probes,estimates,failures")
    assert "penalised MAE" in (tmp_path / "estimators.md").read_text()
