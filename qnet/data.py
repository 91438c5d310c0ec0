"""Datasets of the information-bottleneck literature, as plain arrays.

Every loader returns a :class:`Dataset` with ``X: (n, *sample_shape) float32`` inputs (images
keep their shape: ``mnist`` (28, 28, 1), ``digits`` (8, 8, 1); vectors are ``(n, d)``) and
``y: (n,) int64`` labels in ``0..n_classes-1``. No loader downloads anything.
"""

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qnet._checks import as_labels, check_choice

# ---------------------------------------------------------------------------
# The synthetic 12-bit dataset of Shwartz-Ziv & Tishby (2017)
# ---------------------------------------------------------------------------
# The 12 inputs are the vertices of an icosahedron. Its 66 vertex pairs fall into
# three classes: 30 pairs of one 5-regular "icosahedral" graph (A, listed below),
# 30 of the complementary one (B, every other non-antipodal pair) and 6 antipodal
# pairs (C). The label depends only on k = number of active inputs and on the
# numbers a, b, c of active pairs in each class (a + b + c = k (k - 1) / 2):
#
#     y = 1  iff  23 k + a - 5 b - 8 c >= 99.
#
# We derived the rule from the published file ``var_u.mat``: the pair classes
# from how the label responds to two inputs being active together, the weights
# as the smallest integers of a linear threshold that separates the 64 invariant
# tuples that occur. It reproduces the file exactly (tests/test_data.py),
# including its 2118 positive labels.
SYN_PAIRS_A = (
    (0, 1), (0, 3), (0, 5), (0, 10), (0, 11), (1, 2), (1, 3), (1, 4), (1, 11), (2, 3),
    (2, 4), (2, 8), (2, 9), (3, 8), (3, 10), (4, 6), (4, 9), (4, 11), (5, 6), (5, 7),
    (5, 10), (5, 11), (6, 7), (6, 9), (6, 11), (7, 8), (7, 9), (7, 10), (8, 9), (8, 10),
)  # fmt: skip
SYN_ANTIPODAL = ((0, 9), (1, 7), (2, 5), (3, 6), (4, 10), (8, 11))
SYN_WEIGHTS = (23, 1, -5, -8)  # on (k, a, b, c)
SYN_THRESHOLD = 99


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X: (n, *sample_shape) float32`` and labels ``y: (n,) int64`` in ``0..n_classes-1``."""

    name: str
    X: np.ndarray
    y: np.ndarray
    n_classes: int

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def sample_shape(self):
        return tuple(self.X.shape[1:])

    def split(self, test_fraction=0.2, seed=0):
        """Stratified train/test indices; see :func:`stratified_split`."""
        return stratified_split(self.y, test_fraction, seed)


def stratified_split(y, test_fraction=0.2, seed=0):
    """Seeded stratified split: ``(train_idx, test_idx)``, sorted int64 index arrays.

    Each class contributes ``round(test_fraction * n_class)`` samples to the test set.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    ids, n_classes = as_labels(y, None, ordered=True)
    rng = np.random.default_rng(seed)
    test = []
    for c in range(n_classes):
        members = np.flatnonzero(ids == c)
        test.append(rng.permutation(members)[: int(round(test_fraction * len(members)))])
    test = np.sort(np.concatenate(test)).astype(np.int64)
    train = np.setdiff1d(np.arange(len(ids)), test).astype(np.int64)
    return train, test


def from_arrays(X, y, name="arrays"):
    """A dataset from user arrays: ``X: (n, ...)`` numbers (each sample keeps its shape; ``(n,)``
    becomes ``(n, 1)``), ``y: (n,)`` labels.

    y: integers, bools, strings, or floats with integral values (MATLAB stores labels as
    doubles: 0.0/1.0 are converted exactly; NaN, inf or fractions raise TypeError). The
    classes in sorted order become ``0..n_classes-1``.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "iufb":
        raise TypeError(f"X must be numeric, got dtype {X.dtype}")
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError("X is empty: it needs at least one sample")
    X = (X.reshape(-1, 1) if X.ndim == 1 else X).astype(np.float32)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    ids, n_classes = as_labels(y, X.shape[0], "y", ordered=True)
    return Dataset(name, X, ids, n_classes)


def syn_labels(bits):
    """Labels of the synthetic IB task for binary patterns ``bits: (n, 12)`` (0/1)."""
    bits = np.asarray(bits, dtype=np.int64)
    adjacency = np.zeros((3, 12, 12), np.int64)
    antipodal = set(SYN_ANTIPODAL)
    for i in range(12):
        for j in range(i + 1, 12):
            cls = 0 if (i, j) in SYN_PAIRS_A else 2 if (i, j) in antipodal else 1
            adjacency[cls, i, j] = 1
    k = bits.sum(axis=1)
    a, b, c = (np.einsum("ni,ij,nj->n", bits, adjacency[cls], bits) for cls in range(3))
    score = np.stack([k, a, b, c], axis=1) @ np.array(SYN_WEIGHTS)
    return (score >= SYN_THRESHOLD).astype(np.int64)


def synthetic():
    """The 4096-pattern, 12-bit synthetic dataset of Shwartz-Ziv & Tishby (2017).

    ``X[i]`` holds the bits of ``i``, most significant first; 2118 labels are 1.
    """
    bits = (np.arange(4096)[:, None] >> np.arange(11, -1, -1)) & 1
    return Dataset("syn", bits.astype(np.float32), syn_labels(bits), 2)


def load_mat(path, x_key="F", y_key="y"):
    """A dataset from a MATLAB file holding inputs ``F (n, d)`` and labels ``y`` (e.g. ``var_u.mat``);
    ``y`` may be stored as doubles (MATLAB's default), see :func:`from_arrays`."""
    from scipy.io import loadmat

    if not Path(path).is_file():
        raise FileNotFoundError(f"MAT file {path} not found (dataset mat needs --data-path FILE.mat)")
    try:
        contents = loadmat(path)
    except Exception as err:  # scipy raises several types for files that are not MAT files
        raise ValueError(f"{path} is not a readable MATLAB .mat file ({type(err).__name__}: {err})") from None
    missing = [k for k in (x_key, y_key) if k not in contents]
    if missing:
        raise ValueError(f"{path} has no variable(s) {missing}; it holds {sorted(k for k in contents if not k.startswith('__'))}")
    return from_arrays(contents[x_key], np.asarray(contents[y_key]).ravel(), Path(path).stem)


def digits():
    """scikit-learn's bundled 8x8 digits (1797 samples, 64 inputs in [0, 1], 10 classes)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the 'digits' dataset needs scikit-learn: pip install 'qnet-exact-ib[digits]'") from err
    bunch = load_digits()
    return from_arrays((bunch.data / 16.0).reshape(-1, 8, 8, 1), bunch.target, "digits")


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read an IDX file (the MNIST format), gzipped or not, into a NumPy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    data = np.frombuffer(raw, dtype, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {data.size} values")
    return data.reshape(shape).astype(dtype.newbyteorder("="))


MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def mnist_directory():
    """Where MNIST is looked for: ``$QNET_DATA/mnist``, else ``~/.cache/qnet/mnist``."""
    root = os.environ.get("QNET_DATA", os.path.join(Path.home(), ".cache", "qnet"))
    return Path(root) / "mnist"


def _find(directory, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(
        f"MNIST file {stem}[.gz] not found in {directory}. Put the four standard IDX files "
        f"({', '.join(s for pair in MNIST_FILES.values() for s in pair)}, gzipped or not) there, "
        "or point to them with --data-dir DIR (dataset_options={'directory': DIR} from Python)"
    )


def mnist(directory=None, part="all"):
    """MNIST from the standard IDX files: ``X: (n, 28, 28, 1)`` in [0, 1]; ``part`` is train, test or all (70,000)."""
    check_choice(part, "part", {"train", "test", "all"})
    directory = Path(directory) if directory is not None else mnist_directory()
    parts = ["train", "test"] if part == "all" else [part]
    images, labels = [], []
    for p in parts:
        images.append(read_idx(_find(directory, MNIST_FILES[p][0])))
        labels.append(read_idx(_find(directory, MNIST_FILES[p][1])))
    X = np.concatenate(images).reshape(-1, 28, 28, 1) / np.float32(255)
    return from_arrays(X, np.concatenate(labels), "mnist")


def dataset_fingerprint(dataset):
    """SHA-256 of a dataset's inputs and labels (their shapes, dtypes and bytes)."""
    import hashlib

    h = hashlib.sha256()
    for a in (dataset.X, dataset.y):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_file(path, fingerprint=None):
    """A dataset saved with :func:`save_file` (``.npz`` with ``X``, ``y`` and ``name``); with
    ``fingerprint`` (see :func:`dataset_fingerprint`) the arrays must be the ones saved."""
    from qnet import io

    arrays = io.load_npz(path)
    missing = {"X", "y"} - set(arrays)
    if missing:
        raise ValueError(f"{path} is not a qnet dataset file: it lacks {sorted(missing)}")
    dataset = from_arrays(arrays["X"], arrays["y"], str(arrays.get("name", "arrays")))
    if fingerprint is not None and dataset_fingerprint(dataset) != fingerprint:
        raise ValueError(f"{path} does not hold the data this run was started with (its fingerprint differs)")
    return dataset


def save_file(path, dataset):
    from qnet import io

    io.save_npz(path, X=dataset.X, y=dataset.y, name=np.array(dataset.name))


_LOADERS = {"syn": synthetic, "digits": digits, "mnist": mnist, "mat": load_mat, "arrays": from_arrays,
            "file": load_file}


def load(name, **options):
    """Load a dataset by name: ``syn``, ``digits``, ``mnist`` (``directory=``), ``mat`` (``path=``),
    ``arrays`` (``X=, y=``), ``file`` (``path=`` of a :func:`save_file` ``.npz``)."""
    import inspect

    check_choice(name, "dataset", set(_LOADERS))
    parameters = inspect.signature(_LOADERS[name]).parameters
    unknown = set(options) - set(parameters)
    if unknown:
        raise ValueError(f"dataset {name} does not take the option(s) {sorted(unknown)}; it takes {sorted(parameters) or 'none'}")
    missing = [p for p, spec in parameters.items() if spec.default is inspect.Parameter.empty and p not in options]
    if missing:
        hint = " (--data-path FILE on the command line)" if missing == ["path"] else ""
        raise ValueError(f"dataset {name} needs the option(s) {missing}{hint}")
    return _LOADERS[name](**options)
