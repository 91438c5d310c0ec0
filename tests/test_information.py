import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import qnet
import exact_reference as ref

INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def codes_strategy(max_rows=60, max_cols=6, dtypes=(np.int8, np.uint8, np.int16, np.int32, np.int64)):
    return st.sampled_from(dtypes).flatmap(
        lambda dt: hnp.arrays(
            dt,
            st.tuples(st.integers(1, max_rows), st.integers(1, max_cols)),
            elements=st.integers(-3, 3) if np.dtype(dt).kind == "i" else st.integers(0, 5),
        )
    )


@settings(max_examples=60, deadline=None)
@given(codes_strategy())
def test_entropy_matches_counter(codes):
    assert qnet.entropy(codes) == pytest.approx(ref.entropy(codes), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_pair_quantities_match_counter(data):
    a = data.draw(codes_strategy())
    n = a.shape[0]
    b = data.draw(hnp.arrays(np.int16, (n, data.draw(st.integers(1, 4))), elements=st.integers(-2, 2)))
    assert qnet.joint_entropy(a, b) == pytest.approx(ref.entropy(a, b), abs=1e-12)
    assert qnet.mutual_information(a, b) == pytest.approx(ref.mutual_information(a, b), abs=1e-12)
    assert qnet.conditional_entropy(a, b) == pytest.approx(ref.entropy(a, b) - ref.entropy(b), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_layer_information_matches_counter(data):
    codes = data.draw(codes_strategy())
    labels = data.draw(hnp.arrays(np.int64, codes.shape[0], elements=st.integers(0, 3)))
    i_xt, i_ty = qnet.layer_information(codes, labels)
    assert i_xt == pytest.approx(ref.entropy(codes), abs=1e-12)
    assert i_ty == pytest.approx(ref.mutual_information(codes, labels), abs=1e-12)
    # I(T;Y) <= min(H(T), H(Y))
    assert i_ty <= min(i_xt, ref.entropy(labels)) + 1e-12


@settings(max_examples=30, deadline=None)
@given(codes_strategy(), st.data())
def test_chain_rule(t, data):
    """H(T, Y) = H(T) + H(Y | T)."""
    y = data.draw(hnp.arrays(np.int8, t.shape[0], elements=st.integers(0, 2)))
    assert qnet.joint_entropy(t, y) == pytest.approx(qnet.entropy(t) + qnet.conditional_entropy(y, t), abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(codes_strategy(), st.randoms())
def test_invariant_to_column_permutation_and_relabelling(codes, rnd):
    perm = list(range(codes.shape[1]))
    rnd.shuffle(perm)
    h = qnet.entropy(codes)
    assert qnet.entropy(codes[:, perm]) == pytest.approx(h, abs=1e-12)
    # an injective relabelling of the values of each column
    relabelled = codes.astype(np.int64) * 7919 - 123456789
    assert qnet.entropy(relabelled) == pytest.approx(h, abs=1e-12)
    # row order does not matter
    rows = list(range(codes.shape[0]))
    rnd.shuffle(rows)
    assert qnet.entropy(codes[rows]) == pytest.approx(h, abs=1e-12)


@pytest.mark.parametrize("dtype", INT_DTYPES + [np.bool_])
@pytest.mark.parametrize("n", [1, 2, 4096])
def test_all_distinct_rows_give_log2_n(dtype, n):
    bits = max(1, math.ceil(math.log2(n)))
    codes = ((np.arange(n)[:, None] >> np.arange(bits)) & 1).astype(dtype)
    assert qnet.entropy(codes) == pytest.approx(math.log2(n), abs=1e-12)


@pytest.mark.parametrize("d", [1, 12, 1024])
def test_all_equal_rows_give_zero(d):
    assert qnet.entropy(np.full((500, d), -5, np.int16)) == 0.0


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_rows_differing_in_one_position_of_1024(dtype):
    """Rows differing in exactly one position out of 1024 (wide, hashed path) are distinct."""
    rng = np.random.default_rng(1)
    base = rng.integers(-100, 100, 1024).astype(dtype)
    n = 2048
    codes = np.tile(base, (n, 1))
    pos = rng.integers(0, 1024, n)
    codes[np.arange(n), pos] = codes[np.arange(n), pos] + 1 + (np.arange(n) % 3).astype(dtype)
    duplicated = np.concatenate([codes, codes[:100]])
    assert qnet.entropy(duplicated) == pytest.approx(ref.entropy(duplicated), abs=1e-12)
    assert qnet.entropy(codes) == pytest.approx(ref.entropy(codes), abs=1e-12)


def test_rows_that_are_permutations_of_one_another_are_distinct():
    rng = np.random.default_rng(2)
    base = np.arange(80, dtype=np.int16)
    codes = np.stack([rng.permutation(base) for _ in range(300)])
    codes = np.concatenate([codes, codes[::3]])
    assert qnet.entropy(codes) == pytest.approx(ref.entropy(codes), abs=1e-12)


def test_rows_differing_only_in_two_words_are_not_merged():
    """The collision pattern of a whole-word multiplicative hash (units 7 and 15) stays exact."""
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    codes = np.zeros((65536, 128), np.uint8)
    codes[:, 7 * 4] = a.ravel()
    codes[:, 15 * 4] = b.ravel()
    assert qnet.entropy(codes) == pytest.approx(16.0, abs=1e-12)


@pytest.mark.parametrize("d", [3, 40, 70, 300])
def test_packed_and_hashed_paths_agree_with_counter_on_duplicates(d):
    rng = np.random.default_rng(d)
    codes = rng.integers(-2, 2, (400, d)).astype(np.int8)
    codes = np.concatenate([codes, codes[rng.integers(0, 400, 300)]])
    labels = rng.integers(0, 3, len(codes))
    assert qnet.entropy(codes) == pytest.approx(ref.entropy(codes), abs=1e-12)
    i_xt, i_ty = qnet.layer_information(codes, labels)
    assert i_ty == pytest.approx(ref.mutual_information(codes, labels), abs=1e-12)


def test_extreme_int64_values_are_exact():
    big = np.iinfo(np.int64)
    codes = np.array([[big.min, 0], [big.max, 0], [big.min, 1], [big.min, 0], [-1, big.max]], np.int64)
    assert qnet.entropy(codes) == pytest.approx(ref.entropy(codes), abs=1e-12)
    u = np.array([0, 2**64 - 1, 2**63, 2**63 - 1, 0], np.uint64)
    assert qnet.entropy(u) == pytest.approx(ref.entropy(u), abs=1e-12)


def test_layouts_and_trailing_dimensions():
    rng = np.random.default_rng(3)
    fmap = rng.integers(0, 2, (300, 3, 4, 2)).astype(np.int8)
    flat = fmap.reshape(300, -1)
    h = ref.entropy(flat)
    assert qnet.entropy(fmap) == pytest.approx(h, abs=1e-12)
    assert qnet.entropy(np.asfortranarray(flat)) == pytest.approx(h, abs=1e-12)
    wide = np.concatenate([flat, flat], axis=1)
    assert qnet.entropy(wide[:, ::2]) == pytest.approx(ref.entropy(wide[:, ::2]), abs=1e-12)
    assert qnet.entropy(flat.tolist()) == pytest.approx(h, abs=1e-12)


def test_string_and_bool_labels():
    codes = np.array([0, 0, 1, 1, 2, 2])
    words = np.array(["cat", "cat", "dog", "dog", "cat", "dog"])
    i_xt, i_ty = qnet.layer_information(codes, words)
    assert i_ty == pytest.approx(ref.mutual_information(codes, words), abs=1e-12)
    assert qnet.layer_information(codes, words == "cat")[1] == pytest.approx(i_ty, abs=1e-12)


def test_known_answers():
    copy = np.array([0, 1, 0, 1])
    assert qnet.mutual_information(copy, copy) == pytest.approx(1.0)
    a = np.array([0, 0, 1, 1])
    b = np.array([0, 1, 0, 1])
    assert qnet.mutual_information(a, b) == pytest.approx(0.0, abs=1e-15)
    assert qnet.entropy(np.arange(8)) == pytest.approx(3.0)
    assert qnet.entropy(np.arange(8), base=np.e) == pytest.approx(math.log(8))
    assert qnet.entropy(np.arange(9), base=3) == pytest.approx(2.0)


def test_batch_matches_single_calls():
    rng = np.random.default_rng(4)
    seeds, n = 3, 500
    layers = [rng.integers(0, k, (seeds, n, w)).astype(np.uint8) for k, w in [(4, 10), (3, 5), (256, 2), (2, 70)]]
    labels = rng.integers(0, 2, n)
    for parallel in (False, True):
        out = qnet.information_batch(layers, labels, parallel=parallel)
        assert out.shape == (seeds, 4, 2)
        for s in range(seeds):
            for l, layer in enumerate(layers):
                assert out[s, l, 0] == pytest.approx(ref.entropy(layer[s]), abs=1e-12)
                assert out[s, l, 1] == pytest.approx(ref.mutual_information(layer[s], labels), abs=1e-12)
    side_by_side = np.concatenate(layers, axis=2)
    again = qnet.information_batch(side_by_side, qnet.encode_labels(labels), layer_widths=[10, 5, 2, 70])
    np.testing.assert_array_equal(again, qnet.information_batch(layers, labels))
    # the trainer's layout: an (S, n, D) view of a feature-major (S, D, n) array
    feature_major = np.ascontiguousarray(side_by_side.transpose(0, 2, 1)).transpose(0, 2, 1)
    assert not feature_major.flags.c_contiguous
    for parallel in (False, True):
        np.testing.assert_array_equal(
            qnet.information_batch(feature_major, labels, layer_widths=[10, 5, 2, 70], parallel=parallel), again
        )


def test_chain_gives_the_numbers_of_counting_every_layer():
    """Layers l + 1 = f(layer l): a layer before an injective one is not counted, with equal results."""
    rng = np.random.default_rng(7)
    seeds, n = 4, 600
    digits = np.stack([(np.arange(n) // 4**j) % 4 for j in range(5)], axis=1)  # n distinct rows
    first = np.stack([digits[rng.permutation(n)] for _ in range(seeds)]).astype(np.uint8)
    relabel = rng.permutation(4).astype(np.uint8)
    second = relabel[first[:, :, ::-1]]  # a bijection of the rows: injective
    third = first[:, :, :2] + first[:, :, 2:4]  # many rows merge
    fourth = (third[:, :, :1] > 3).astype(np.uint8)
    fourth[1] = 0  # one seed's last layer constant
    injective_last = [first, second]  # every layer injective: only the last is counted
    labels = rng.integers(0, 3, n)
    for layers in ([first, second, third, fourth], injective_last, [third, fourth]):
        for parallel in (False, True):
            counted = qnet.information_batch(layers, labels, parallel=parallel)
            np.testing.assert_array_equal(qnet.information_batch(layers, labels, parallel=parallel, chain=True), counted)
        for s in range(seeds):
            for l, layer in enumerate(layers):
                assert counted[s, l, 0] == pytest.approx(ref.entropy(layer[s]), abs=1e-12)
                assert counted[s, l, 1] == pytest.approx(ref.mutual_information(layer[s], labels), abs=1e-12)
    assert np.all(qnet.information_batch(injective_last, labels, chain=True)[..., 0] == math.log2(n))


@pytest.mark.parametrize(
    "codes, error, match",
    [
        (np.array([0.0, 1.0]), TypeError, "quantize"),
        (np.array([np.nan, 1.0]), TypeError, "floating-point"),
        (np.array([1 + 2j]), TypeError, "integer or bool"),
        (np.array([1, None], dtype=object), TypeError, "integer or bool"),
        (np.zeros((0, 3), np.int8), ValueError, "empty"),
        (np.zeros((4, 0), np.int8), ValueError, "no columns"),
        (np.int8(3), ValueError, "scalar"),
    ],
)
def test_bad_codes(codes, error, match):
    with pytest.raises(error, match=match):
        qnet.entropy(codes)


def test_bad_lengths_labels_and_base():
    with pytest.raises(ValueError, match="labels has 3 entries but the codes have 4"):
        qnet.layer_information(np.arange(4), np.arange(3))
    with pytest.raises(ValueError, match="a has 4 samples but b has 3"):
        qnet.mutual_information(np.arange(4), np.arange(3))
    with pytest.raises(TypeError, match="labels must hold"):
        qnet.layer_information(np.arange(3), np.array([0.5, 1.0, 2.0]))
    for base in (0, -2, 1, 0.5, float("nan")):
        with pytest.raises(ValueError, match="base"):
            qnet.entropy(np.arange(4), base=base)
    with pytest.raises(TypeError, match="base"):
        qnet.entropy(np.arange(4), base="2")
    with pytest.raises(ValueError, match="layer_widths"):
        qnet.information_batch(np.zeros((1, 4, 3), np.int8), np.arange(4), layer_widths=[1, 1])
