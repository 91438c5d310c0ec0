import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from qnet import data

SHARED_MAT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "var_u.mat"


def test_synthetic_facts():
    ds = data.synthetic()
    assert ds.X.shape == (4096, 12) and ds.n_classes == 2
    assert int(ds.y.sum()) == 2118
    i = 1234
    assert ds.X[i].tolist() == [float(b) for b in format(i, "012b")]


def test_synthetic_labels_invariant_under_icosahedral_symmetry():
    """A rotation of the icosahedron permutes inputs; the label must not change."""
    # permutation induced by a symmetry: find one preserving pair classes by brute search on a 5-cycle
    ds = data.synthetic()
    pairs_a = set(data.SYN_PAIRS_A)
    anti = dict(data.SYN_ANTIPODAL + tuple((j, i) for i, j in data.SYN_ANTIPODAL))

    def edge(i, j):
        return (min(i, j), max(i, j)) in pairs_a

    # the antipodal map i -> anti[i] is a symmetry (central inversion)
    perm = np.array([anti[i] for i in range(12)])
    assert all(edge(perm[i], perm[j]) == edge(i, j) for i in range(12) for j in range(12) if i != j)
    bits = ds.X.astype(np.int64)
    np.testing.assert_array_equal(data.syn_labels(bits[:, perm]), ds.y)


@pytest.mark.skipif(not SHARED_MAT.exists(), reason="../shared/data/var_u.mat not present")
def test_generator_equals_published_file():
    from scipy.io import loadmat

    m = loadmat(SHARED_MAT)
    ours = data.synthetic()
    np.testing.assert_array_equal(m["F"].astype(np.float32), ours.X)
    np.testing.assert_array_equal(m["y"].ravel().astype(np.int64), ours.y)
    loaded = data.load("mat", path=SHARED_MAT)
    np.testing.assert_array_equal(loaded.y, ours.y)


def test_stratified_split_is_seeded_and_stratified():
    ds = data.synthetic()
    train, test = ds.split(0.2, seed=1000)
    assert len(train) + len(test) == 4096 and len(np.intersect1d(train, test)) == 0
    assert abs(len(test) - 819) <= 1
    assert ds.y[test].mean() == pytest.approx(ds.y.mean(), abs=0.002)
    again = ds.split(0.2, seed=1000)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(ds.split(0.2, seed=1)[1], test)


def _write_idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_parsing(tmp_path, gz):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    imgs = {p: rng.integers(0, 256, (n, 28, 28)).astype(np.uint8) for p, n in (("train", 5), ("test", 3))}
    labs = {p: rng.integers(0, 10, len(imgs[p])).astype(np.uint8) for p in imgs}
    for p, (fi, fl) in data.MNIST_FILES.items():
        _write_idx(tmp_path / (fi + suffix), imgs[p], 0x08)
        _write_idx(tmp_path / (fl + suffix), labs[p], 0x08)
    ds = data.load("mnist", directory=tmp_path)
    assert ds.X.shape == (8, 28, 28, 1) and ds.sample_shape == (28, 28, 1)
    np.testing.assert_allclose(ds.X[:5, :, :, 0], imgs["train"] / 255, rtol=1e-6)
    assert ds.y.tolist()[:5] == np.unique(np.concatenate([labs["train"], labs["test"]]), return_inverse=True)[1][:5].tolist()
    # multi-byte IDX types round-trip too
    _write_idx(tmp_path / "x.idx", np.arange(6, dtype=np.int32).reshape(2, 3), 0x0C)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x.idx"), np.arange(6).reshape(2, 3))


def test_mnist_missing_files_say_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*--data-dir"):
        data.mnist(directory=tmp_path)


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load("cifar")
    with pytest.raises(ValueError, match="NaN"):
        data.from_arrays([[np.nan]], [0])
    with pytest.raises(ValueError, match="y has 1 entries"):
        data.from_arrays([[1.0], [2.0]], [0])
    with pytest.raises(ValueError, match="not an IDX"):
        bad = Path(__file__)
        data.read_idx(bad)
    with pytest.raises(ValueError, match="does not take the option"):
        data.load("syn", directory="/tmp")


def test_mat_files_missing_or_not_mat(tmp_path):
    with pytest.raises(FileNotFoundError, match="--data-path"):
        data.load("mat", path=tmp_path / "nope.mat")
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"this is not a MAT file at all" * 10)
    with pytest.raises(ValueError, match="junk.mat is not a readable MATLAB"):
        data.load("mat", path=junk)


def test_dataset_file_round_trip_and_fingerprint(tmp_path):
    ds = data.from_arrays(np.arange(12.0).reshape(3, 2, 2), ["b", "a", "b"])
    data.save_file(tmp_path / "d.npz", ds)
    back = data.load("file", path=tmp_path / "d.npz", fingerprint=data.dataset_fingerprint(ds))
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    assert back.sample_shape == (2, 2)
    other = data.from_arrays(np.arange(12.0).reshape(3, 2, 2) + 1, ["b", "a", "b"])
    with pytest.raises(ValueError, match="fingerprint differs"):
        data.load("file", path=tmp_path / "d.npz", fingerprint=data.dataset_fingerprint(other))


def test_digits_if_available():
    pytest.importorskip("sklearn")
    ds = data.load("digits")
    assert ds.X.shape == (1797, 8, 8, 1) and ds.n_classes == 10 and ds.X.max() <= 1.0
