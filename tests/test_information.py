import math
from collections import Counter

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
    with pytest.raises(TypeError, match="labels holds non-integral floats"):
        qnet.layer_information(np.arange(3), np.array([0.5, 1.0, 2.0]))
    for base in (0, -2, 1, 0.5, float("nan")):
        with pytest.raises(ValueError, match="base"):
            qnet.entropy(np.arange(4), base=base)
    with pytest.raises(TypeError, match="base"):
        qnet.entropy(np.arange(4), base="2")
    with pytest.raises(ValueError, match="layer_widths"):
        qnet.information_batch(np.zeros((1, 4, 3), np.int8), np.arange(4), layer_widths=[1, 1])


# --- many label classes: memory O(n) ---------------------------------------------------------

@pytest.mark.parametrize("d, dtype", [(3, np.int8), (9, np.int64)])  # narrow and wide (72-byte) rows
def test_100000_distinct_labels(d, dtype):
    """Every label distinct: a (symbol, label) table of n x n counts would need 40 GB."""
    rng = np.random.default_rng(d)
    n = 100_000
    codes = rng.integers(0, 4, (n, d)).astype(dtype)
    labels = rng.permutation(n) * 7 - 3
    h_t = ref.entropy(codes)
    i_xt, i_ty = qnet.layer_information(codes, labels)
    assert i_xt == pytest.approx(h_t, abs=1e-9)
    assert i_ty == pytest.approx(h_t, abs=1e-9)  # Y determines T: H(T | Y) = 0
    np.testing.assert_allclose(qnet.information_batch([codes], labels)[0, 0], [h_t, h_t], atol=1e-9)
    # I(T;Y) against Counter when labels come in pairs (H(T | Y) > 0)
    paired = labels // 2
    assert qnet.layer_information(codes, paired)[1] == pytest.approx(ref.mutual_information(codes, paired), abs=1e-9)


@pytest.mark.parametrize("n_classes", [64, 65, 1000])
def test_many_classes_match_counter_on_both_paths(n_classes):
    rng = np.random.default_rng(n_classes)
    codes = rng.integers(0, 3, (3000, 2)).astype(np.int8)
    wide = rng.integers(0, 2, (3000, 80)).astype(np.uint8)
    labels = rng.integers(0, n_classes, 3000)
    for c in (codes, wide, np.asfortranarray(wide)):
        i_xt, i_ty = qnet.layer_information(c, labels)
        assert i_xt == pytest.approx(ref.entropy(c), abs=1e-12)
        assert i_ty == pytest.approx(ref.mutual_information(c, labels), abs=1e-12)


# --- number of distinct states ----------------------------------------------------------------

def test_return_counts_gives_distinct_states():
    rng = np.random.default_rng(8)
    seeds, n = 3, 700
    layers = [rng.integers(0, 3, (seeds, n, 4)).astype(np.int8), rng.integers(0, 2, (seeds, n, 90)).astype(np.uint8),
              (rng.integers(0, 2, (seeds, n, 1)) > 0).astype(np.uint8)]
    labels = rng.integers(0, 2, n)
    plane, counts = qnet.information_batch(layers, labels, return_counts=True)
    assert counts.shape == (seeds, 3) and counts.dtype == np.int64
    for s in range(seeds):
        for l, layer in enumerate(layers):
            assert counts[s, l] == len(Counter(ref.rows(layer[s])))
    np.testing.assert_array_equal(plane, qnet.information_batch(layers, labels))
    # chain: layers before an injective one are not counted but get its k (= n)
    digits = np.stack([(np.arange(n) // 4**j) % 4 for j in range(5)], axis=1).astype(np.uint8)
    first = np.stack([digits[rng.permutation(n)] for _ in range(seeds)])
    second = first[:, :, ::-1].copy()
    third = first[:, :, :1] // 2
    chained, k_chain = qnet.information_batch([first, second, third], labels, chain=True, return_counts=True)
    _, k_all = qnet.information_batch([first, second, third], labels, return_counts=True)
    np.testing.assert_array_equal(k_chain, k_all)
    assert np.all(k_chain[:, :2] == n) and np.all(k_chain[:, 2] == 2)


# --- wide rows (more than 64 bytes: hashed, every match verified) ------------------------------

def _orientations(codes):
    """The same codes row-major and feature-major (a transposed view of a C array)."""
    return [codes, np.ascontiguousarray(codes.T).T]


def _check_against_counter(codes, labels=None):
    labels = np.arange(codes.shape[0]) % 3 if labels is None else labels
    h, i = ref.entropy(codes), ref.mutual_information(codes, labels)
    k = len(Counter(ref.rows(codes)))
    for block in _orientations(codes):
        assert qnet.entropy(block) == pytest.approx(h, abs=1e-12)
        i_xt, i_ty = qnet.layer_information(block, labels)
        assert i_xt == pytest.approx(h, abs=1e-12) and i_ty == pytest.approx(i, abs=1e-12)
        plane, counts = qnet.information_batch(block[None], labels, layer_widths=[codes.shape[1]], return_counts=True)
        assert counts[0, 0] == k
        assert plane[0, 0, 0] == pytest.approx(h, abs=1e-12) and plane[0, 0, 1] == pytest.approx(i, abs=1e-12)


@pytest.mark.parametrize("dtype, d", [(np.uint8, 1352), (np.int8, 1352), (np.uint16, 676), (np.int32, 338),
                                      (np.uint8, 1353), (np.uint8, 1354), (np.uint8, 1356), (np.int16, 677),
                                      (np.int64, 9)])
def test_wide_rows_differing_in_one_position(dtype, d):
    """Rows equal but for one entry (anywhere, the last word and its padding included) stay distinct;
    copies of rows are merged. Widths not divisible by 8 bytes leave padding in the last word."""
    rng = np.random.default_rng(d)
    n = 600
    base = rng.integers(0, 100, d).astype(dtype)
    codes = np.tile(base, (n, 1))
    positions = np.concatenate([[d - 1, d - 2, 0, 7, 8], rng.integers(0, d, n - 5)])
    codes[np.arange(n), positions] += (1 + np.arange(n) % 3).astype(dtype)
    codes = np.concatenate([codes, codes[rng.integers(0, n, 200)], base[None]])
    _check_against_counter(codes)


@pytest.mark.parametrize("d", [128, 1352])
def test_wide_rows_differing_only_in_units_7_and_15(d):
    """The collision pattern of a whole-word multiplicative hash (FACTS.md), both orientations."""
    a, b = np.meshgrid(np.arange(64), np.arange(64), indexing="ij")
    codes = np.zeros((4096, d), np.uint8)
    codes[:, 7 * 4] = a.ravel()
    codes[:, 15 * 4] = b.ravel()
    codes[:, 7 * 8] = b.ravel()
    for block in _orientations(np.concatenate([codes, codes[:500]])):
        assert qnet.entropy(block) == pytest.approx(ref.entropy(np.concatenate([codes, codes[:500]])), abs=1e-10)
    for block in _orientations(codes):
        assert qnet.entropy(block) == pytest.approx(12.0, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32])
def test_wide_all_equal_and_all_distinct_rows(dtype):
    n, d = 2000, 1352 // np.dtype(dtype).itemsize
    equal = np.full((n, d), 3, dtype)
    distinct = np.zeros((n, d), dtype)
    distinct[:, -1] = np.arange(n) % 100
    distinct[:, -2] = np.arange(n) // 100
    for block in _orientations(equal):
        assert qnet.layer_information(block, np.arange(n) % 2) == (0.0, 0.0)
    for block in _orientations(distinct):
        assert qnet.entropy(block) == pytest.approx(math.log2(n), abs=1e-12)


def test_wide_random_duplicates_match_counter():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 3, (700, 200)).astype(np.int8)
    codes = base[rng.integers(0, 700, 3000)]
    _check_against_counter(codes, rng.integers(0, 4, 3000))


def _nh_collision(n_words):
    """Two distinct rows (uint64 words) with the same NH hash pair, built from the kernel's keys:
    words 3 and 5 get low halves that zero the first sum's products, and high halves whose
    changes cancel in the second sum."""
    from qnet.kernels import wide

    k0, k1 = (np.asarray(k, dtype=object) for k in wide._nh_keys(n_words))
    m32 = 2**32
    rows = [np.zeros(n_words, np.uint64), np.zeros(n_words, np.uint64)]
    lows = {g: (-int(k0[g])) % m32 for g in (3, 5)}  # (lo(w) + lo(k0)) mod 2^32 = 0
    second = {g: (lows[g] + int(k1[g]) % m32) % m32 for g in (3, 5)}  # the second sum's low factors
    assert second[3] and second[5]
    gcd = math.gcd(second[3], second[5])
    steps = {3: second[5] // gcd, 5: -(second[3] // gcd)}  # second[3] * steps[3] + second[5] * steps[5] = 0
    for g in (3, 5):
        x = max(0, -steps[g])  # (hi(w) + hi(k1)) mod 2^32 in row 0; row 1 adds steps[g]
        for r, value in enumerate((x, x + steps[g])):
            high = (value - (int(k1[g]) >> 32)) % m32
            rows[r][g] = np.uint64(lows[g] | (high << 32))
    return rows


def test_wide_hash_collision_is_caught_in_both_orientations():
    """Two distinct rows with equal 64-bit hashes: the row-major path compares them at insertion,
    the feature-major path finds the difference when verifying and recounts a row-major copy."""
    from qnet.kernels import wide

    n_words = 20
    one, two = _nh_collision(n_words)
    assert not np.array_equal(one, two)
    rng = np.random.default_rng(9)
    others = rng.integers(0, 2**63, (300, n_words), dtype=np.uint64)
    words = np.concatenate([np.stack([one, two, one, two]), others, others[:50]])
    codes = words.view(np.uint8)  # (354, 160) uint8 rows
    columns = np.ascontiguousarray(codes.T)[None]
    hashes = np.empty(codes.shape[0], np.uint64)
    wide._column_hashes(columns, 0, 0, codes.shape[1], *wide._nh_keys(n_words), hashes)
    assert hashes[0] == hashes[1]  # the precondition: a true 64-bit collision of distinct rows
    _check_against_counter(codes, rng.integers(0, 2, codes.shape[0]))
    assert qnet.entropy(codes[:4]) == pytest.approx(1.0, abs=1e-15)
    assert qnet.entropy(np.ascontiguousarray(codes[:4].T).T) == pytest.approx(1.0, abs=1e-15)


def test_wide_layers_in_a_batch_with_narrow_ones():
    """A conv-net-like stack: a wide layer, narrower ones, in both stack layouts and with chain."""
    rng = np.random.default_rng(12)
    seeds, n = 2, 1500
    conv = rng.integers(0, 2, (seeds, n, 300)).astype(np.int8)
    conv[:, 1000:] = conv[:, :500]
    pool = conv[:, :, ::4] | conv[:, :, 1::4]
    dense = (pool[:, :, :6].astype(np.int16) * 3 - pool[:, :, 6:12])
    top = (dense[:, :, :1] > 0).astype(np.int8)
    layers = [conv, pool, dense, top]
    labels = rng.integers(0, 10, n)
    side = np.concatenate([l.astype(np.int16) for l in layers], axis=2)
    widths = [l.shape[2] for l in layers]
    feature_major = np.ascontiguousarray(side.transpose(0, 2, 1)).transpose(0, 2, 1)
    expected = qnet.information_batch(layers, labels)
    for s in range(seeds):
        for l, layer in enumerate(layers):
            assert expected[s, l, 0] == pytest.approx(ref.entropy(layer[s]), abs=1e-12)
            assert expected[s, l, 1] == pytest.approx(ref.mutual_information(layer[s], labels), abs=1e-12)
    for stack in (side, feature_major):
        for chain in (False, True):
            np.testing.assert_array_equal(qnet.information_batch(stack, labels, layer_widths=widths, chain=chain), expected)
