"""Input checks at the Python boundary of the information functions (qnet/_checks.py):
pre-encoded labels, label dtypes (strings, bools, integral floats), byte order, seeds and
layer widths. Expected values come from collections.Counter (tests/exact_reference.py)."""

import math

import numpy as np
import pytest

import exact_reference as ref
import qnet
from qnet import data
from qnet.information import EncodedLabels

RNG = np.random.default_rng(11)
CODES = RNG.integers(0, 3, (600, 3)).astype(np.int8)
LABELS = RNG.integers(0, 2, 600)


# --- pre-encoded labels -------------------------------------------------------------------

def test_encode_labels_returns_encoded_labels_that_give_the_same_numbers():
    encoded = qnet.encode_labels(LABELS)
    assert isinstance(encoded, EncodedLabels)
    assert encoded.ids.dtype == np.int64 and encoded.n_classes == 2
    plane = qnet.information_batch([CODES], encoded)
    np.testing.assert_array_equal(plane, qnet.information_batch([CODES], LABELS))
    assert qnet.layer_information(CODES, encoded) == qnet.layer_information(CODES, LABELS)


def test_plain_pair_is_not_taken_as_pre_encoded():
    """A plain (ids, K) tuple with ids out of range used to give I(T;Y) > H(Y) (or a segfault)."""
    bad = (np.ascontiguousarray(LABELS * 5), 2)
    with pytest.raises(TypeError, match="plain \\(ids, n_classes\\) tuple.*EncodedLabels"):
        qnet.information_batch([CODES], bad)
    with pytest.raises(TypeError, match="EncodedLabels"):
        qnet.information_batch([CODES], (LABELS, 2))


def test_a_tuple_of_labels_is_read_as_labels():
    codes = np.array([0, 0, 1, 1])
    assert qnet.layer_information(codes, (0, 0, 1, 1))[1] == pytest.approx(1.0)
    assert qnet.information_batch([codes[:2, None]], (0, 1))[0, 0, 1] == pytest.approx(0.0)


@pytest.mark.parametrize(
    "ids, n_classes, error, match",
    [
        (LABELS * 5, 2, ValueError, "0..n_classes-1 = 0..1, got values in 0..5"),
        (LABELS - 1, 2, ValueError, "got values in -1..0"),
        (LABELS, 0, ValueError, "n_classes must be >= 1"),
        (LABELS, 2.0, TypeError, "n_classes must be an integer"),
        (LABELS, True, TypeError, "n_classes must be an integer"),
        (LABELS.astype(float), 2, TypeError, "ids must be integer label ids"),
        (LABELS[:-1], 2, ValueError, "labels has 599 entries but the codes have 600"),
        (LABELS.reshape(300, 2), 2, ValueError, "one-dimensional"),
    ],
)
def test_bad_encoded_labels(ids, n_classes, error, match):
    with pytest.raises(error, match=match):
        qnet.information_batch([CODES], EncodedLabels(ids, n_classes))
    with pytest.raises(error, match=match):
        qnet.layer_information(CODES, EncodedLabels(ids, n_classes))


def test_encoded_labels_with_classes_that_do_not_occur():
    """Absent classes change nothing, even far more classes than samples (no table of that size)."""
    expected = qnet.information_batch([CODES], LABELS)
    for n_classes in (3, 10**12):
        ids = np.where(LABELS == 1, n_classes - 1, 0).astype(np.int64 if n_classes > 2**31 else np.int32)
        got = qnet.information_batch([CODES], EncodedLabels(ids, n_classes))
        np.testing.assert_allclose(got, expected, atol=1e-12)


# --- label dtypes ---------------------------------------------------------------------------

def test_string_and_bool_symbols_in_the_pairwise_functions():
    words = np.array(["cat", "dog", "cow"])[RNG.integers(0, 3, 600)]
    flags = LABELS == 1
    for other in (words, flags):
        assert qnet.mutual_information(CODES, other) == pytest.approx(ref.mutual_information(CODES, other), abs=1e-12)
        assert qnet.joint_entropy(other, CODES) == pytest.approx(ref.entropy(other, CODES), abs=1e-12)
        assert qnet.conditional_entropy(CODES, other) == pytest.approx(
            ref.entropy(CODES, other) - ref.entropy(other), abs=1e-12)
        assert qnet.entropy(other) == pytest.approx(ref.entropy(other), abs=1e-12)
    assert qnet.mutual_information(words, words) == pytest.approx(ref.entropy(words), abs=1e-12)
    grid = np.stack([words, words[::-1]], axis=1)  # a 2-D string array: one symbol per entry
    assert qnet.entropy(grid) == pytest.approx(ref.entropy(grid), abs=1e-12)
    assert qnet.mutual_information(CODES, words.astype("S3")) == pytest.approx(ref.mutual_information(CODES, words), abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, ">f8"])
def test_integral_float_labels_are_converted_exactly(dtype):
    matlab = np.array([1.0, 2.0, -0.0, 0.0, 7.0])[RNG.integers(0, 5, 600)].astype(dtype)
    as_ints = matlab.astype(np.int64)
    assert qnet.layer_information(CODES, matlab) == pytest.approx(qnet.layer_information(CODES, as_ints), abs=0)
    assert qnet.layer_information(CODES, matlab)[1] == pytest.approx(ref.mutual_information(CODES, as_ints), abs=1e-12)
    np.testing.assert_array_equal(qnet.information_batch([CODES], matlab), qnet.information_batch([CODES], as_ints))
    assert qnet.encode_labels(matlab).n_classes == 4  # -0.0 and 0.0 are one class


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([0.0, 0.5, 1.0]), "labels holds non-integral floats \\(e.g. 0.5\\)"),
        (np.array([0.0, np.nan, 1.0]), "labels holds non-finite floats"),
        (np.array([0.0, np.inf, 1.0]), "labels holds non-finite floats"),
        (np.array([1 + 1j, 0, 0]), "labels must hold integers, bools, strings or integral floats"),
    ],
)
def test_bad_float_labels(labels, match):
    with pytest.raises(TypeError, match=match):
        qnet.layer_information(np.arange(3), labels)
    with pytest.raises(TypeError, match=match):
        qnet.encode_labels(labels)


def test_codes_stay_integer_only():
    with pytest.raises(TypeError, match="b must be integer codes"):
        qnet.mutual_information(CODES, LABELS.astype(float))
    with pytest.raises(TypeError, match="codes must be integer codes"):
        qnet.layer_information(CODES.astype(float), LABELS)


def test_datasets_accept_matlab_double_labels(tmp_path):
    from scipy.io import savemat

    X = RNG.random((50, 4))
    y = RNG.integers(1, 4, 50).astype(np.float64)  # MATLAB class labels 1.0, 2.0, 3.0
    ds = data.from_arrays(X, y)
    np.testing.assert_array_equal(ds.y, y.astype(np.int64) - 1)  # sorted classes -> 0..K-1
    assert ds.y.dtype == np.int64 and ds.n_classes == 3
    savemat(tmp_path / "doubles.mat", {"F": X, "y": y[:, None]})
    loaded = data.load_mat(tmp_path / "doubles.mat")
    np.testing.assert_array_equal(loaded.y, ds.y)
    with pytest.raises(TypeError, match="y holds non-integral floats"):
        data.from_arrays(X, y + 0.25)


# --- byte order -----------------------------------------------------------------------------

def test_big_endian_codes_and_labels():
    codes = RNG.integers(-300, 300, (500, 2)).astype(np.int16)
    wide = RNG.integers(0, 2, (500, 40)).astype(np.int32)  # 160 bytes a row: the wide path
    labels = RNG.integers(0, 3, 500)
    big, big_wide, big_labels = codes.astype(">i2"), wide.astype(">i4"), labels.astype(">i8")
    assert qnet.entropy(big) == pytest.approx(ref.entropy(codes), abs=1e-12)
    assert qnet.layer_information(big, big_labels) == qnet.layer_information(codes, labels)
    assert qnet.layer_information(big_wide, big_labels) == qnet.layer_information(wide, labels)
    assert qnet.mutual_information(big, big_labels) == pytest.approx(ref.mutual_information(codes, labels), abs=1e-12)
    stacked = qnet.information_batch([big[None], big_wide[None]], big_labels)
    np.testing.assert_array_equal(stacked, qnet.information_batch([codes[None], wide[None]], labels))
    side = np.concatenate([big.astype(">i4"), big_wide], axis=1)[None]
    np.testing.assert_array_equal(qnet.information_batch(side, labels, layer_widths=[2, 40]), stacked)
    assert qnet.encode_labels(np.array(["a", "b", "a"]).astype(">U1")).n_classes == 2


# --- seeds and layer widths -----------------------------------------------------------------

def test_zero_seeds_is_an_error():
    with pytest.raises(ValueError, match="layers holds no seeds"):
        qnet.information_batch(np.zeros((0, 10, 3), np.int8), np.arange(10), layer_widths=[3])
    with pytest.raises(ValueError, match="layers\\[0\\] holds no seeds"):
        qnet.information_batch([np.zeros((0, 10, 3), np.int8)], np.arange(10))


@pytest.mark.parametrize("widths, error, match", [
    ([2.5, 0.5], TypeError, "layer_widths\\[0\\] must be an integer, got 2.5"),
    (["1", 2], TypeError, "layer_widths\\[0\\] must be an integer, got '1'"),
    ([1.0, 2.0], TypeError, "must be an integer, got 1.0"),
    ([True, 2], TypeError, "must be an integer, got True"),
    ("12", TypeError, "layer_widths must be a sequence of integers"),
    (3, TypeError, "layer_widths must be a sequence of integers"),
    ([1, 1], ValueError, "sum to the 3 columns"),
    ([0, 3], ValueError, "must be positive"),
    ([], ValueError, "must be positive"),
])
def test_bad_layer_widths(widths, error, match):
    with pytest.raises(error, match=match):
        qnet.information_batch(np.zeros((1, 10, 3), np.int8), np.arange(10), layer_widths=widths)


def test_numpy_integer_widths_are_fine():
    codes = RNG.integers(0, 2, (2, 100, 5)).astype(np.uint8)
    labels = RNG.integers(0, 2, 100)
    np.testing.assert_array_equal(qnet.information_batch(codes, labels, layer_widths=np.array([2, 3])),
                                  qnet.information_batch(codes, labels, layer_widths=[2, 3]))
    assert qnet.information_batch(codes, labels, layer_widths=[5])[0, 0, 0] == pytest.approx(
        ref.entropy(codes[0]), abs=1e-12)
    assert math.isfinite(qnet.information_batch(codes, labels, layer_widths=(np.int8(5),))[1, 0, 1])
