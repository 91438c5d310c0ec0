"""Numba options and the hashing primitives shared by the counting kernels.

One place for the Numba options: ``cache=True`` keeps compiled code between processes,
so compilation stays out of experiments; ``error_model="numpy"`` keeps Python's
exception machinery out of the inner loops (these kernels never raise: every input is
checked in :mod:`qnet.information` before it reaches them).

Numba keys a cached function on the file that defines it only, not on the files of the
helpers it calls (numba PR #8396, open): after an edit of ``rows.py`` alone, the cached
entry points of ``counting.py`` would keep the old helper code. :func:`drop_stale_cache`
(called when the package is imported) removes the cache index when any kernel source changed.
"""

import hashlib
from pathlib import Path

import numpy as np
from numba import njit

_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")
jit = njit(**_OPTIONS)
# the small helpers of the hot loops are inlined at Numba level (measured ~30% faster)
inline = njit(inline="always", **_OPTIONS)

U1 = np.uint64(1)
SMALL_SPACE = 1024  # a direct table is used for keys below 4 n + SMALL_SPACE
TABLE_CLASSES = 64  # up to this many label classes a (symbol, label) table of k x K counts is kept


@inline
def mix64(x):
    """splitmix64 finaliser: a bijection of uint64 that spreads every input bit."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@jit
def table_size(n):
    """Slots of an open-addressing table for n keys: a power of two >= 4 n (at most a quarter full)."""
    size = 16
    while size < 4 * n:
        size *= 2
    return size


def drop_stale_cache(dispatcher):
    """Forget Numba's cached kernels when the kernel sources changed since they were cached.

    dispatcher: any cached kernel of this package (its cache folder is the package's).
    A digest of every ``kernels/*.py`` is kept next to the cache; when it differs, the cache
    indexes (``*.nbi``) are removed, so every kernel is compiled afresh once. Errors of a
    read-only cache folder are ignored (Numba then does not use that folder either).
    """
    sources = sorted(Path(__file__).resolve().parent.glob("*.py"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sources)).hexdigest()
    folder = Path(dispatcher.stats.cache_path)
    stamp = folder / "qnet-kernel-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for index in folder.glob("*.nbi"):
            index.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass
