"""A run folder on disk: one writer, append-only records, a manifest written last.

Layout::

    config.json          the run's configuration (a copy of the manifest's)
    manifest.json        the commit point: the config, what is finished, and every file that
                         holds it, with its size and SHA-256
    records/F-L.npz      the records of epochs F..L (append-only chunks, one per checkpoint)
    state/epoch-E.npz    the training state after epoch E (only the newest is kept)
    codes/epoch-E.npz    integer codes saved at chosen epochs
    .lock                held (flock) by the one process writing the folder

A checkpoint writes its new files first (each atomically: temporary file, fsync, rename),
then the manifest that names them, then removes what the old manifest named and the new one
does not. A crash at any moment leaves the manifest naming a complete, consistent set; files
it does not name (a crash's leftovers, ``*.tmp``) are removed when the run is opened again.
Opening verifies every named file (size and SHA-256) and the config against the manifest.
"""

import errno
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from qnet import _faults, io
from qnet.experiment.config import ExperimentConfig, canonical_json

MANIFEST = "manifest.json"
CONFIG = "config.json"
FOLDERS = ("records", "state", "codes")
FORMAT = 1


class RunError(RuntimeError):
    """A run folder cannot be used as asked (locked, inconsistent, corrupted, full disk, ...);
    the message is one line naming the folder or file."""


DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _entry(run_dir, relative, **extra):
    path = run_dir / relative
    return {"file": relative, "bytes": path.stat().st_size, "sha256": _sha256(path), **extra}


def _read_json(path):
    try:
        obj = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RunError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(obj, dict) or not obj:
        raise RunError(f"{path} must hold a JSON object, got {obj!r:.60}")
    return obj


class RunStore:
    """The files of one run folder, written by the process that holds its lock.

    Use :meth:`create` for a new run and :meth:`open` to continue one; :meth:`close` releases
    the lock (a killed process releases it too).
    """

    def __init__(self, run_dir, manifest, lock):
        self.dir, self.manifest, self._lock = Path(run_dir), manifest, lock

    # -- opening --------------------------------------------------------------
    @staticmethod
    def _lock_folder(run_dir):
        try:
            fd = os.open(run_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise RunError(f"cannot write in the run folder {run_dir}: {err.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunError(f"the run folder {run_dir} is in use by another qnet process (pid {holder}); "
                           "a run folder has one writer") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    @classmethod
    def create(cls, run_dir, config, static):
        """Make a new run folder (it must not exist, or be empty) holding ``config``.

        static: JSON-able facts of the run known at its start (seeds, layers, n_eval, H(Y), ...)."""
        run_dir = Path(run_dir)
        if run_dir.exists() and not run_dir.is_dir():
            raise RunError(f"{run_dir} is a file, not a run folder")
        if run_dir.is_dir() and any(p.name != ".lock" for p in run_dir.iterdir()):
            raise RunError(f"{run_dir} is not empty: it already holds a run or other files; resume it "
                           "(qnet run --resume) or choose another folder")
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunError(f"cannot create the run folder {run_dir}: {err.strerror}") from None
        lock = cls._lock_folder(run_dir)
        manifest = {"format": FORMAT, "config": config.to_json(), "config_sha256": config.fingerprint(),
                    "completed": 0, "chunks": [], "state": None, "codes": [], "static": static}
        store = cls(run_dir, manifest, lock)
        try:
            io.save_json(run_dir / CONFIG, manifest["config"])
            store._write_manifest()
        except OSError as err:
            store.close()
            raise RunError(f"cannot write in the run folder {run_dir}: {err.strerror}") from None
        return store

    @classmethod
    def open(cls, run_dir, verify=True):
        """Open an existing run folder for writing: lock it, check the manifest and every file it
        names, restore config.json where an extension was interrupted, remove leftovers."""
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise RunError(f"{run_dir} is not a run folder" + (" (it is a file)" if run_dir.exists() else " (it does not exist)"))
        lock = cls._lock_folder(run_dir)
        try:
            store = cls(run_dir, read_manifest(run_dir, verify=verify), lock)
            store._reconcile_config()
            store._remove_leftovers()
        except BaseException:
            os.close(lock)
            raise
        return store

    def close(self):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    @property
    def config(self):
        return ExperimentConfig.from_json(self.manifest["config"], f"{self.dir / MANIFEST}: config")

    @property
    def completed(self):
        return int(self.manifest["completed"])

    def _reconcile_config(self):
        path = self.dir / CONFIG
        try:
            on_disk = json.loads(path.read_text()) if path.exists() else None
        except (OSError, json.JSONDecodeError):
            on_disk = "unreadable"
        if on_disk == self.manifest["config"]:
            return
        previous = self.manifest.get("previous_config_sha256")
        if on_disk is None or (isinstance(on_disk, dict) and previous is not None
                               and hashlib.sha256(canonical_json(on_disk).encode()).hexdigest() == previous):
            io.save_json(path, self.manifest["config"])  # a lost copy, or an extension cut short
            return
        raise RunError(f"{path} no longer matches the run's manifest.json: it was edited after the run started. "
                       "A run's settings cannot change (only --epochs, to extend it); restore the file or start a new run")

    def _remove_leftovers(self):
        named = {entry["file"] for entry in self._entries()}
        for folder in FOLDERS:
            for path in (self.dir / folder).glob("*") if (self.dir / folder).is_dir() else ():
                if f"{folder}/{path.name}" not in named:
                    path.unlink()
        for path in self.dir.glob(".*.tmp"):
            path.unlink()

    def _entries(self):
        out = list(self.manifest["chunks"]) + list(self.manifest["codes"])
        return out + ([self.manifest["state"]] if self.manifest["state"] else [])

    # -- writing ----------------------------------------------------------------
    def _write_manifest(self):
        io.save_json(self.dir / MANIFEST, self.manifest)
        io.sync_directory(self.dir)

    def commit(self, epoch, rows, state_leaves, codes=(), dynamic=None):
        """Commit epochs ``completed + 1 .. epoch``.

        rows: the records of the recorded epochs among them, a dict of arrays whose second
        axis (or first, for ``epoch``) runs over those epochs (may be empty); state_leaves: the
        training state after ``epoch`` as a list of arrays; codes: ``(epoch, arrays)`` pairs of
        saved codes; dynamic: JSON-able facts that change over the run (e.g. diverged seeds).
        On a full disk the folder keeps its previous commit and a :class:`RunError` says so.
        """
        old = self.manifest
        new = dict(old, chunks=list(old["chunks"]), codes=list(old["codes"]))
        written = []
        try:
            if len(rows.get("epoch", ())):
                first, last = int(rows["epoch"][0]), int(rows["epoch"][-1])
                name = f"records/{first:09d}-{last:09d}.npz"
                io.save_npz(self.dir / name, **rows)
                written.append(name)
                _faults.point("commit:records-written")
                new["chunks"].append(_entry(self.dir, name, first=first, last=last, rows=len(rows["epoch"])))
            for code_epoch, arrays in codes:
                name = f"codes/epoch-{int(code_epoch):09d}.npz"
                io.save_npz(self.dir / name, compress=True, **arrays)
                written.append(name)
                new["codes"].append(_entry(self.dir, name, epoch=int(code_epoch)))
            name = f"state/epoch-{int(epoch):09d}.npz"
            io.save_npz(self.dir / name, **{f"leaf{i}": np.asarray(x) for i, x in enumerate(state_leaves)})
            written.append(name)
            _faults.point("commit:state-written")
            new["state"] = _entry(self.dir, name, epoch=int(epoch))
            new["completed"] = int(epoch)
            if dynamic is not None:
                new["dynamic"] = dynamic
            self.manifest = new
            self._write_manifest()
            _faults.point("commit:manifest-written")
        except OSError as err:
            self.manifest = old
            for name in written:
                if name != (old["state"] or {}).get("file"):
                    (self.dir / name).unlink(missing_ok=True)
            if err.errno in DISK_FULL:
                raise RunError(f"the disk is full writing {self.dir}: epochs up to {old['completed']} are saved; "
                               f"free some space and continue with: qnet run --resume {self.dir}") from None
            raise RunError(f"cannot write in the run folder {self.dir} ({err.strerror}): epochs up to "
                           f"{old['completed']} are saved") from None
        if old["state"] and old["state"]["file"] != new["state"]["file"]:
            (self.dir / old["state"]["file"]).unlink(missing_ok=True)

    def extend(self, config):
        """Change the run's config to ``config`` (only its length may differ: see the runner)."""
        previous = self.manifest["config_sha256"]
        self.manifest = dict(self.manifest, config=config.to_json(), config_sha256=config.fingerprint(),
                             previous_config_sha256=previous)
        self._write_manifest()
        io.save_json(self.dir / CONFIG, self.manifest["config"])

    def load_state(self):
        """The leaves of the newest training state (a list of arrays), or ``None`` before the first commit."""
        entry = self.manifest["state"]
        if entry is None:
            return None
        arrays = io.load_npz(self.dir / entry["file"])
        return [arrays[f"leaf{i}"] for i in range(len(arrays))]

    def free_bytes(self):
        return shutil.disk_usage(self.dir).free


def read_manifest(run_dir, verify=True, files=True):
    """The manifest of a run folder, checked: every file it names exists with its size (and,
    with ``verify``, its SHA-256). ``files=False``: the manifest alone (its config, say) of a
    folder that another process may be writing, whose older files it may just have replaced."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.exists():
        if (run_dir / CONFIG).exists():
            raise RunError(f"{run_dir} has a config.json but no manifest.json: it was not started by this version "
                           "of qnet, or its start was cut short; start it again in a new folder")
        raise RunError(f"{run_dir} is not a qnet run folder (no manifest.json)")
    manifest = _read_json(path)
    if manifest.get("format") != FORMAT or not {"config", "completed", "chunks", "state", "static"} <= set(manifest):
        raise RunError(f"{path} is not a manifest this version of qnet reads")
    entries = list(manifest["chunks"]) + list(manifest.get("codes", [])) + ([manifest["state"]] if manifest["state"] else [])
    for entry in entries if files else ():
        file = run_dir / entry["file"]
        if not file.is_file():
            raise RunError(f"{file} is missing (manifest.json names it)")
        if file.stat().st_size != entry["bytes"] or (verify and _sha256(file) != entry["sha256"]):
            raise RunError(f"{file} is corrupted (its size or checksum differs from manifest.json)")
    return manifest


def load_records(run_dir, verify=True):
    """The finished records of a run folder as one dict of arrays.

    ``epoch (E,)`` the recorded epochs finished so far; ``I_XT, I_TY, H_T_given_Y (S, E, L)`` in
    bits; ``n_states (S, E, L)`` distinct codes of each layer; the metrics ``(S, E)``; ``seeds (S,)``;
    ``layer_names, layer_widths (L,)``; ``n_eval``, ``H_Y`` (bits), ``completed`` (epochs finished),
    ``diverged_epoch (S,)`` (0: never), ``prefit_epochs``; and ``config`` (the JSON dict). With
    ``binning`` in the config also the *estimates* ``binned_I_XT, binned_I_TY (S, E, V, B)`` of the
    V observed layers (``value_names``) for the B bin counts (``binning``).
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, verify=verify)
    static = manifest["static"]
    chunks = []
    for entry in manifest["chunks"]:
        try:
            chunks.append(io.load_npz(run_dir / entry["file"]))
        except ValueError as err:
            raise RunError(str(err)) from None
    records = {"epoch": np.zeros(0, np.int64)}
    if chunks:
        for key in chunks[0]:
            axis = 0 if key == "epoch" else 1
            records[key] = np.concatenate([c[key] for c in chunks], axis=axis)
    else:
        s, layers = len(static["seeds"]), len(static["layer_names"])
        for key in static["row_keys"]:
            if key.startswith("binned_"):
                records[key] = np.zeros((s, 0, len(static["value_names"]), len(static["binning"])))
            else:
                records[key] = np.zeros((s, 0, layers) if key in static["layer_keys"] else (s, 0))
    dynamic = manifest.get("dynamic", {})
    records.update(
        seeds=np.asarray(static["seeds"], np.int64), layer_names=np.asarray(static["layer_names"]),
        layer_widths=np.asarray(static["layer_widths"], np.int64), n_eval=np.int64(static["n_eval"]),
        H_Y=np.float64(static["H_Y"]), completed=np.int64(manifest["completed"]),
        prefit_epochs=np.int64(static.get("prefit_epochs", 0)), value_names=np.asarray(static.get("value_names", [])),
        binning=np.asarray(static.get("binning", []), np.int64),
        diverged_epoch=np.asarray(dynamic.get("diverged_epoch", [0] * len(static["seeds"])), np.int64),
        config=manifest["config"])
    return records


def noisy_layers(records):
    """(L,) bool: the layers of a run's records measured through noise (their H(T|X) > 0 at some
    epoch). Their ``n_states`` counts the codes of positive probability, which may exceed n."""
    n_layers = len(records["layer_names"])
    if "H_T_given_X" not in records or np.size(records["H_T_given_X"]) == 0:
        return np.zeros(n_layers, bool)
    return np.nan_to_num(records["H_T_given_X"], nan=0.0).max(axis=(0, 1)) > 0


def saved_code_epochs(run_dir):
    """The epochs whose codes a run folder holds (see ``save_codes``)."""
    return sorted(int(entry["epoch"]) for entry in read_manifest(run_dir, verify=False).get("codes", []))


def load_codes(run_dir, epoch):
    """The integer codes of every measured layer at a saved ``epoch``: a dict layer name ->
    ``(S, n_eval, *layer_shape)`` array (S seeds, the evaluation inputs in dataset order)."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, verify=False)
    for entry in manifest.get("codes", []):
        if int(entry["epoch"]) == int(epoch):
            return io.load_npz(run_dir / entry["file"])
    saved = sorted(int(e["epoch"]) for e in manifest.get("codes", []))
    raise ValueError(f"{run_dir} has no codes saved at epoch {epoch}; saved epochs: {saved or 'none'} "
                     "(choose them with save_codes / --save-codes)")
