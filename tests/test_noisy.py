import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import norm

import noisy_reference as ref
import qnet
from qnet import information as I
from qnet import kernels
from qnet.information import noisy as N

FIELDS = ("I_XT", "I_TY", "H_T", "H_T_given_X", "H_T_given_Y")


def _random_case(seed):
    rng = np.random.default_rng(seed)
    n, d, k = int(rng.integers(1, 51)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
    codes = rng.integers(0, k, (n, d)) - k // 2
    labels = rng.integers(0, int(rng.integers(1, 4)), n)
    pmf = rng.random(int(rng.choice([1, 3, 5])))
    pmf[rng.random(len(pmf)) < 0.2] = 0.0  # zeros inside and at the ends
    pmf = pmf / pmf.sum() if pmf.sum() > 0 else np.ones(1)
    return codes, labels, pmf


def _assert_matches(info, expected, tol=1e-9):
    for field in FIELDS:
        assert getattr(info, field) == pytest.approx(expected[field], abs=tol), field
    assert info.support == expected["support"]
    assert info.exact and info.stderr == 0.0 and info.n_samples == 0


@pytest.mark.parametrize("seed", range(24))
@pytest.mark.parametrize("clip", [False, True])
def test_matches_brute_force(seed, clip):
    codes, labels, pmf = _random_case(seed)
    low, high = (int(codes.min()), int(codes.max()) + (seed % 2)) if clip else (None, None)
    info = I.noisy_information(codes, labels, pmf, low=low, high=high)
    _assert_matches(info, ref.information(ref.layer_conditionals(codes, pmf, low, high), labels))
    assert I.noisy_layer_information(codes, labels, pmf, low=low, high=high) == (info.I_XT, info.I_TY)


def test_codes_far_apart_stay_distinct():
    """Codes near +-2**59 (a code space far beyond 2**64): the sweep compares values, never keys."""
    big = 2**59
    codes = np.array([[big, -big, big], [big, -big, big - 1], [-big, big, -big], [0, 0, 0], [big, big - 1, big]])
    labels = np.array([0, 1, 0, 1, 1])
    info = I.noisy_information(codes, labels, I.Uniform(1))
    _assert_matches(info, ref.information(ref.layer_conditionals(codes, np.ones(3) / 3), labels))


def test_mixture_kernel_on_many_overlapping_laws():
    """Enough laws per level for the argsort path of the sweep (> 24 items), against brute force."""
    rng = np.random.default_rng(5)
    codes = rng.integers(-2, 3, (50, 3))
    labels = rng.integers(0, 3, 50)
    pmf = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    rows, weights, _ = N.group(codes, *qnet.encode_labels(labels))
    lo, length, probs = N.unit_laws(rows, pmf, -2, -3, 3)
    h_t, h_ty, support = kernels.mixture_entropies(lo, length, probs, weights)
    expected = ref.information(ref.layer_conditionals(codes, pmf, -3, 3), labels)
    assert h_t == pytest.approx(expected["H_T"], abs=1e-12) and support == expected["support"]
    h_y = -sum(p * math.log2(p) for p in np.bincount(labels) / 50 if p > 0)
    assert h_ty - h_y == pytest.approx(expected["H_T_given_Y"], abs=1e-12)


@pytest.mark.parametrize("noise", [[1.0], [0.0, 1.0, 0.0], I.Uniform(0), I.Gaussian(0.0), I.Flip(0.0)])
def test_no_noise_reproduces_layer_information(noise):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, (500, 3)).astype(np.int8)
    labels = rng.integers(0, 3, 500)
    info = I.noisy_information(codes, labels, noise)
    assert (info.I_XT, info.I_TY) == pytest.approx(qnet.layer_information(codes, labels), abs=1e-12)
    assert info.H_T_given_X == 0.0 and info.H_T == pytest.approx(qnet.entropy(codes), abs=1e-12)


@pytest.mark.parametrize("delta", [0.0, 0.05, 0.2, 0.5])
def test_binary_unit_through_a_symmetric_channel(delta):
    """codes {0, 1} balanced, clip to [0, 1], Flip(2 delta): a binary symmetric channel with
    crossover delta, so I(X;T) = I(T;Y) = 1 - h2(delta) for Y = S."""
    codes = np.array([0, 1] * 8)[:, None]
    h2 = 0.0 if delta in (0.0, 1.0) else -delta * math.log2(delta) - (1 - delta) * math.log2(1 - delta)
    i_xt, i_ty = I.noisy_layer_information(codes, codes[:, 0], I.Flip(2 * delta), low=0, high=1)
    assert i_xt == pytest.approx(1 - h2, abs=1e-12) and i_ty == pytest.approx(1 - h2, abs=1e-12)


def test_degraded_noise_lowers_information_to_zero():
    """Z_k = k-fold sum of independent Flip(0.3) noises: T_{k+1} = T_k + independent noise, so
    I(X;T_k) is non-increasing (data processing) and tends to 0."""
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 6, (200, 2))
    labels = (codes.sum(axis=1) > 5).astype(int)
    pmf, values = np.ones(1), []
    for _ in range(25):
        values.append(I.noisy_layer_information(codes, labels, pmf))
        pmf = np.convolve(pmf, I.Flip(0.3).pmf())
    xt, ty = np.array(values).T
    assert xt[0] == pytest.approx(qnet.entropy(codes)) and (np.diff(xt) < 0).all() and (np.diff(ty) <= 1e-12).all()
    assert xt[-1] < 0.5 * xt[5]


def test_information_falls_with_gaussian_sigma_and_vanishes_when_clipped():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 8, (300, 2))
    labels = rng.integers(0, 2, 300)
    sigmas = (0, 0.3, 1, 3, 10, 50, 200)
    xt = [I.noisy_layer_information(codes, labels, I.Gaussian(s), low=0, high=7)[0] for s in sigmas]
    assert xt[0] == pytest.approx(qnet.entropy(codes)) and (np.diff(xt) < 0).all() and xt[-1] < 5e-4


def _syn_like_layer(width, levels=256, seed=0):
    """Codes of a random tanh layer (12-10-7-5-width) on the 4096 SYN inputs, quantized to levels."""
    data = qnet.load_dataset("syn")
    rng = np.random.default_rng(seed)
    h = data.X.astype(np.float64)
    for fan_out in (10, 7, 5, width):
        limit = math.sqrt(6 / (h.shape[1] + fan_out))
        h = np.tanh(h @ rng.uniform(-limit, limit, (h.shape[1], fan_out)))
    return np.round((h + 1) / 2 * (levels - 1)).astype(np.int64), data.y


def test_facts_check_on_a_syn_like_layer():
    """FACTS.md's check (n = 4096, d = 4, flip noise eps = 0, 0.01, 0.1, 0.3) on our own S
    (the S behind FACTS' 10.100 bits is not given): eps = 0 gives H(S), values fall with eps,
    and eps = 0.1 matches the brute-force enumeration."""
    codes, labels = _syn_like_layer(4)
    xt = [I.noisy_information(codes, labels, I.Flip(eps)).I_XT for eps in (0.0, 0.01, 0.1, 0.3)]
    assert xt[0] == pytest.approx(qnet.entropy(codes), abs=1e-9) and (np.diff(xt) < 0).all()
    expected = ref.information(ref.layer_conditionals(codes, I.Flip(0.1).pmf()), labels)
    assert xt[2] == pytest.approx(expected["I_XT"], abs=1e-9)


def test_invariances_and_units():
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 5, (120, 3))
    labels = rng.integers(0, 2, 120)
    base = I.noisy_information(codes, labels, I.Uniform(1), low=0, high=4)
    shuffled = I.noisy_information(codes[:, [2, 0, 1]] + 7, 1 - labels, I.Uniform(1), low=7, high=11)
    assert shuffled[:5] == pytest.approx(base[:5], abs=1e-12)
    nats = I.noisy_information(codes, labels, I.Uniform(1), low=0, high=4, base=math.e)
    assert nats.I_XT == pytest.approx(base.I_XT * math.log(2), abs=1e-12)
    assert 0 <= base.I_XT <= qnet.entropy(codes) + 1e-12 and 0 <= base.I_TY <= base.I_XT + 1e-12


@pytest.mark.parametrize("clip", [(None, None), (0, 9)])
def test_monte_carlo_mean_within_three_standard_errors_of_the_exact_value(clip):
    rng = np.random.default_rng(6)
    codes = rng.integers(0, 10, (400, 3))
    labels = (codes[:, 0] + rng.integers(0, 3, 400) > 5).astype(int)
    exact = I.noisy_information(codes, labels, I.Gaussian(0.7), low=clip[0], high=clip[1])
    mc = I.noisy_information(codes, labels, I.Gaussian(0.7), low=clip[0], high=clip[1], method="monte_carlo",
                             n_samples=20_000, seed=11)
    assert not mc.exact and mc.support == -1 and mc.n_samples == 20_000 and mc.stderr > 0
    assert abs(mc.I_XT - exact.I_XT) < 3 * mc.stderr and abs(mc.I_TY - exact.I_TY) < 3 * mc.stderr_TY
    assert mc.H_T_given_X == exact.H_T_given_X and mc.H_T == pytest.approx(mc.H_T_given_X + mc.I_XT)
    again = I.noisy_information(codes, labels, I.Gaussian(0.7), low=clip[0], high=clip[1], method="monte_carlo",
                                n_samples=20_000, seed=11)
    other = I.noisy_information(codes, labels, I.Gaussian(0.7), low=clip[0], high=clip[1], method="monte_carlo",
                                n_samples=20_000, seed=12)
    assert again == mc and other.I_XT != mc.I_XT


def test_standard_error_is_honest():
    """Over 40 seeds, the spread of the estimates matches the reported standard error."""
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 6, (150, 2))
    labels = rng.integers(0, 2, 150)
    exact = I.noisy_information(codes, labels, I.Flip(0.4))
    runs = [I.noisy_information(codes, labels, I.Flip(0.4), method="monte_carlo", n_samples=500, seed=s)
            for s in range(40)]
    xt = np.array([r.I_XT for r in runs])
    assert 0.6 < xt.std(ddof=1) / np.mean([r.stderr for r in runs]) < 1.5
    assert abs(xt.mean() - exact.I_XT) < 3 * xt.std(ddof=1) / math.sqrt(len(xt))  # unbiased


def test_auto_switches_to_monte_carlo_past_max_support_and_exact_refuses():
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 50, (100, 3))
    labels = rng.integers(0, 2, 100)
    auto = I.noisy_information(codes, labels, I.Uniform(1), max_support=2000, n_samples=1000)
    assert not auto.exact and auto.terms == 100 * 27
    assert I.noisy_information(codes, labels, I.Uniform(1), max_support=2700).exact
    with pytest.raises(ValueError, match="max_support"):
        I.noisy_information(codes, labels, I.Uniform(1), max_support=2000, method="exact")
    with pytest.raises(ValueError, match="max_support"):
        I.noisy_layer_information(codes, labels, I.Uniform(1), max_support=2000)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_information_inequalities(data):
    """0 <= I(T;Y) <= min(I(X;T), H(Y)) (Y - X - T is a Markov chain), I(X;T) <= H(S), and
    H(T|X) = d H(P) without clipping."""
    codes = data.draw(hnp.arrays(np.int16, st.tuples(st.integers(1, 30), st.integers(1, 3)),
                                 elements=st.integers(-4, 4)))
    labels = data.draw(hnp.arrays(np.int8, codes.shape[0], elements=st.integers(0, 2)))
    pmf = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=2)))
    pmf = np.concatenate([pmf[::-1], [1.0], pmf])
    pmf = pmf / pmf.sum()
    info = I.noisy_information(codes, labels, pmf)
    assert 0 <= info.I_TY <= min(info.I_XT, qnet.entropy(labels)) + 1e-9
    assert info.I_XT <= qnet.entropy(codes) + 1e-9
    h_p = -sum(p * math.log2(p) for p in pmf if p > 0)
    assert info.H_T_given_X == pytest.approx(codes.shape[1] * h_p, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_stochastic_units_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 40)), int(rng.integers(1, 4))
    codes = rng.integers(-1, 2, (n, d))
    p_up = rng.choice([0.0, 1.0, 0.3, 0.5, rng.random()], (n, d))
    labels = rng.integers(0, 2, n)
    info = I.stochastic_information(codes, p_up, labels)
    _assert_matches(info, ref.information(ref.stochastic_conditionals(codes, p_up), labels))
    assert I.stochastic_layer_information(codes, p_up, labels) == (info.I_XT, info.I_TY)
    mc = I.stochastic_information(codes, p_up, labels, method="monte_carlo", n_samples=5000, seed=seed)
    assert abs(mc.I_XT - info.I_XT) <= 3 * mc.stderr + 1e-12


def test_stochastic_rounding_and_binary_units():
    values = np.array([[0.25, 2.0, -1.5]])
    codes, p_up = I.stochastic_rounding(values)
    np.testing.assert_array_equal(codes, [[0, 2, -2]])
    np.testing.assert_allclose(p_up, [[0.25, 0.0, 0.5]])
    zeros, p = I.stochastic_binary(np.array([[0.0, 800.0, -800.0, 1.0]]))
    np.testing.assert_allclose(p, [[0.5, 1.0, 0.0, 1 / (1 + math.exp(-1))]], atol=1e-15)
    assert not zeros.any()
    # one stochastic binary unit, p = 0.5 for every input: T independent of X
    half = np.full((10, 1), 0.5)
    assert I.stochastic_layer_information(np.zeros((10, 1), int), half, np.arange(10) % 2) == (0.0, 0.0)


@pytest.mark.parametrize("sigma", [0.2, 0.5, 1.0, 3.0])
def test_gaussian_is_the_law_of_the_rounded_normal(sigma):
    family = I.Gaussian(sigma)
    p, r = family.pmf(), family.radius
    k = np.arange(-r, r + 1)
    exact = norm.cdf((k + 0.5) / sigma) - norm.cdf((k - 0.5) / sigma)
    np.testing.assert_allclose(p, exact / exact.sum(), rtol=1e-9, atol=1e-15)
    assert 2 * norm.sf((r + 0.5) / sigma) < 1e-12 <= 2 * norm.sf((r - 0.5) / sigma)  # smallest radius
    np.testing.assert_array_equal(p, p[::-1])


def test_noise_families_and_their_configs():
    np.testing.assert_allclose(I.Uniform(2).pmf(), np.full(5, 0.2))
    np.testing.assert_allclose(I.Flip(0.1).pmf(), [0.05, 0.9, 0.05])
    for family in (I.Gaussian(0.5), I.Uniform(3), I.Flip(0.25)):
        config = json.loads(json.dumps(family.config()))
        assert I.noise_from_config(config) == family
    with pytest.raises(ValueError, match="noise config"):
        I.noise_from_config({"name": "laplace", "b": 1})
    with pytest.raises(ValueError):
        I.Flip(1.5)
    with pytest.raises(ValueError):
        I.Uniform(-1)
    with pytest.raises(TypeError):
        I.Gaussian(float("nan"))


def test_bad_input_names_the_argument():
    codes, labels = np.array([[0, 1], [1, 1]]), np.array([0, 1])
    cases = [
        (dict(noise=[0.5, 0.5]), ValueError, "noise"),
        (dict(noise=[0.5, -0.1, 0.6]), ValueError, "noise"),
        (dict(noise=[0.3, 0.3, 0.3]), ValueError, "noise"),
        (dict(noise=[[1.0]]), ValueError, "noise"),
        (dict(noise=["a"]), TypeError, "noise"),
        (dict(noise=[1.0], low=2, high=1), ValueError, "low"),
        (dict(noise=[1.0], low=1), ValueError, "codes"),
        (dict(noise=[1.0], high=0), ValueError, "codes"),
        (dict(noise=[1.0], low=0.5), TypeError, "low"),
        (dict(noise=[1.0], codes=codes.astype(float)), TypeError, "codes"),
        (dict(noise=[1.0], labels=[0]), ValueError, "labels"),
        (dict(noise=[1.0], method="guess"), ValueError, "method"),
        (dict(noise=[1.0], max_support=0), ValueError, "max_support"),
        (dict(noise=[1.0], method="monte_carlo", n_samples=1), ValueError, "n_samples"),
        (dict(noise=[1.0], method="monte_carlo", seed=-1), ValueError, "seed"),
    ]
    for kwargs, error, name in cases:
        kwargs = {"codes": codes, "labels": labels, **kwargs}
        with pytest.raises(error, match=name):
            I.noisy_information(**kwargs)
    bad_p_up = [(np.full((2, 2), 1.5), ValueError), (np.zeros((2, 3)), ValueError), (np.array([["a"] * 2] * 2), TypeError)]
    for p_up, error in bad_p_up:
        with pytest.raises(error, match="p_up"):
            I.stochastic_information(codes, p_up, labels)
