"""Atomic writes: a file is either its old content or its complete new content, never half.

Each write goes to a temporary file beside the target (``.NAME.XXXX.tmp``), is flushed and
fsynced, then renamed over the target (atomic on POSIX); the temporary file is removed if
anything fails. Reads of ``.npz`` files turn every kind of damage into one ValueError line.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from qnet import _faults


def _atomic(path, write):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            # fault tests: a torn write (half the file on disk, never renamed): write:manifest, write:records, ...
            kind = path.stem if path.suffix == ".json" else path.parent.name
            _faults.point(f"write:{kind}", lambda: os.truncate(tmp, f.tell() // 2))
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sync_directory(path):
    """fsync a directory, so that renames inside it survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_npz(path, compress=False, **arrays):
    """Write arrays to ``path`` (.npz) atomically (zip-compressed with ``compress``)."""
    _atomic(path, lambda f: (np.savez_compressed if compress else np.savez)(f, **arrays))


def load_npz(path):
    """All arrays of an ``.npz`` file; a missing, truncated or corrupted file is one ValueError
    (FileNotFoundError if it does not exist) naming it."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, zipfile.LargeZipFile) as err:
        raise ValueError(f"{path} is not a readable .npz file (truncated or corrupted: {err})") from None
    except (AttributeError, TypeError):  # np.load returned a plain array: not an .npz archive
        raise ValueError(f"{path} is not an .npz archive") from None


def save_json(path, obj):
    _atomic(path, lambda f: f.write((json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()))


def save_text(path, text):
    _atomic(path, lambda f: f.write(text.encode()))


def save_figure(fig, path, dpi=150):
    """Save a matplotlib figure atomically, in the format of the path's suffix (png, pdf, svg)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    _atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=dpi, bbox_inches="tight"))
