import numpy as np
import pytest

import noisy_reference as ref
from qnet import information as I

FIELDS = ("I_XT", "I_TY", "H_T", "H_T_given_X", "H_T_given_Y")


def _random_map(rng, d_in, d_out, levels):
    """A deterministic integer map of code rows: a random affine map, reduced mod levels."""
    w = rng.integers(-3, 4, (d_in, d_out))
    b = rng.integers(0, levels, d_out)

    def f(t):
        t = np.asarray(t, dtype=np.int64)
        return (t @ w + b) % levels - levels // 2
    return f


def _assert_same(info, expected, tol=1e-9):
    for field in FIELDS:
        assert getattr(info, field) == pytest.approx(expected[field], abs=tol), field
    assert info.support == expected["support"] and info.exact


@pytest.mark.parametrize("seed", range(6))
def test_chain_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, d1, d2 = int(rng.integers(2, 40)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    codes = rng.integers(0, 4, (n, d1))
    labels = rng.integers(0, 2, n)
    f = _random_map(rng, d1, d2, 5)
    noise1, noise2 = I.Flip(0.3).pmf(), np.array([0.2, 0.5, 0.3])
    clip2 = (-2, 2) if seed % 2 else (None, None)
    cond1 = I.noisy_conditionals(codes, noise1, low=0, high=3)
    c1 = ref.layer_conditionals(codes, noise1, 0, 3)
    _assert_same(I.conditional_information(cond1, labels), ref.information(c1, labels))
    first = I.noisy_information(codes, labels, noise1, low=0, high=3)
    assert I.conditional_information(cond1, labels)[:5] == pytest.approx(first[:5], abs=1e-12)
    cond2 = I.push_conditionals(cond1, f, noise2, low=clip2[0], high=clip2[1])
    c2 = ref.push(c1, lambda t: [int(v) for v in f(np.array([t]))[0]], noise2, *clip2)
    _assert_same(I.conditional_information(cond2, labels), ref.information(c2, labels))
    # the sparse rows themselves: each group's rows are P(T_2 | x) of its inputs
    for i in range(n):
        g = cond2.groups[i]
        rows = slice(cond2.offsets[g], cond2.offsets[g + 1])
        got = {tuple(int(v) for v in t): p for t, p in zip(cond2.codes[rows], cond2.probs[rows])}
        assert got.keys() == c2[i].keys()
        assert all(abs(got[t] - c2[i][t]) < 1e-12 for t in got)


@pytest.mark.parametrize("seed", range(10))
def test_data_processing_inequality_through_a_noisy_chain(seed):
    """I(X;T_1) >= I(X;T_2) >= ... and I(T_1;Y) >= I(T_2;Y) >= ... for X -> T_1 -> T_2 -> ..."""
    rng = np.random.default_rng(100 + seed)
    widths = [int(w) for w in rng.integers(1, 4, 5)]
    codes = rng.integers(0, 6, (200, widths[0]))
    labels = (codes.sum(axis=1) + rng.integers(0, 3, 200)) % 3
    maps = [_random_map(rng, a, b, 7) for a, b in zip(widths, widths[1:])]
    noises = [I.Flip(float(rng.uniform(0.05, 0.5))) for _ in widths]
    chain = I.noisy_chain_information(codes, labels, noises, maps, bounds=[(0, 5)] + [(-3, 3)] * (len(widths) - 1))
    xt = np.array([c.I_XT for c in chain])
    ty = np.array([c.I_TY for c in chain])
    assert (np.diff(xt) <= 1e-12).all() and (np.diff(ty) <= 1e-12).all()
    assert (ty <= xt + 1e-12).all()


def test_identity_map_without_noise_keeps_the_conditionals():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 5, (80, 2))
    labels = rng.integers(0, 2, 80)
    cond = I.noisy_conditionals(codes, I.Uniform(1))
    same = I.push_conditionals(cond, lambda t: t, [1.0])
    assert I.conditional_information(same, labels)[:5] == pytest.approx(I.conditional_information(cond, labels)[:5],
                                                                          abs=1e-12)


def test_chain_stops_past_max_support():
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 50, (100, 3))
    with pytest.raises(ValueError, match="max_support"):
        I.noisy_conditionals(codes, I.Uniform(2), max_support=1000)
    cond = I.noisy_conditionals(codes, I.Uniform(1))
    with pytest.raises(ValueError, match="max_support"):
        I.push_conditionals(cond, lambda t: t, I.Uniform(2), max_support=len(cond.probs))


def test_bad_chain_input():
    cond = I.noisy_conditionals(np.array([[0], [1]]), I.Flip(0.2))
    with pytest.raises(TypeError, match="conditionals"):
        I.push_conditionals((1, 2), lambda t: t, [1.0])
    with pytest.raises(TypeError, match="next_codes"):
        I.push_conditionals(cond, "f", [1.0])
    with pytest.raises(ValueError, match="next_codes"):
        I.push_conditionals(cond, lambda t: t[:1], [1.0])
    with pytest.raises(TypeError, match="next_codes"):
        I.push_conditionals(cond, lambda t: t * 0.5, [1.0])
    with pytest.raises(ValueError, match="next_codes"):
        I.push_conditionals(cond, lambda t: t, [1.0], low=0, high=0)
    with pytest.raises(ValueError, match="next_codes"):
        I.noisy_chain_information(np.array([[0], [1]]), [0, 1], [[1.0], [1.0]], [])
