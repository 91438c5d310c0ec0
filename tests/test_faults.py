"""Faults with real signals and real files: no finished epoch is lost, no wrong number is silent.

Runs go through the command line in fresh processes (as a user starts them); SIGKILL comes at
chosen moments of a commit (``QNET_KILL_AT``, see qnet/_faults.py) and at random times.
"""

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from runs import assert_same_records, one_error_line, qnet_cli

import qnet

ARGS = ["--epochs", "10", "--seeds", "2", "--no-progress", "--checkpoint-every", "0"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One compilation cache for this module's processes: the epoch program compiles once."""
    return tmp_path_factory.mktemp("xla")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, cache):
    """The uninterrupted run every faulted run must end up equal to."""
    path = tmp_path_factory.mktemp("ref") / "run"
    proc = qnet_cli(["run", *ARGS, "--out", path], cwd=path.parent, cache=cache)
    assert proc.returncode == 0, proc.stderr
    return qnet.load_records(path)


@pytest.mark.parametrize("moment", ["commit:records-written:4", "commit:state-written:4", "write:manifest:4",
                                    "write:records:3", "write:state:5", "commit:manifest-written:6"])
def test_sigkill_during_a_commit_then_resume_equals_the_uninterrupted_run(tmp_path, cache, reference, moment):
    out = tmp_path / "run"
    proc = qnet_cli(["run", *ARGS, "--out", out], cwd=tmp_path, cache=cache, env={"QNET_KILL_AT": moment})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    saved = qnet.load_records(out)  # what the killed run left is consistent and readable
    assert np.isfinite(saved["I_XT"]).all() and len(saved["epoch"]) == int(saved["completed"])
    assert 1 <= int(saved["completed"]) < 10
    if moment.startswith("write:"):
        assert list(out.rglob(".*.tmp"))  # the torn write is there until the run is opened again
    proc = qnet_cli(["run", "--resume", out, "--no-progress"], cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert not list(out.rglob(".*.tmp"))
    resumed = qnet.load_records(out)
    assert not np.isnan(resumed["I_XT"]).any()
    assert_same_records(resumed, reference)
    manifest = json.loads((out / "manifest.json").read_text())
    named = {e["file"] for e in manifest["chunks"]} | {manifest["state"]["file"]}
    on_disk = {str(p.relative_to(out)) for p in (out / "records").iterdir()} | \
              {str(p.relative_to(out)) for p in (out / "state").iterdir()}
    assert on_disk == named  # leftovers of the killed commit are gone


def test_sigkill_at_random_moments_then_resume(tmp_path, cache, reference):
    out = tmp_path / "run"
    env = dict(os.environ, QNET_COMPILATION_CACHE=str(cache))
    env.pop("QNET_KILL_AT", None)
    rng = np.random.default_rng(0)
    kills = 0
    for attempt in range(6):
        args = ["run", "--resume", out] if out.exists() else ["run", *ARGS, "--out", out]
        proc = subprocess.Popen([sys.executable, "-m", "qnet", *map(str, args), "--no-progress"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while not (out / "manifest.json").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)  # the process has started its run (imports and compilation take seconds)
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        if (out / "manifest.json").exists() and int(qnet.load_records(out)["completed"]) == 10:
            break
    proc = qnet_cli(["run", "--resume", out, "--no-progress"], cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert kills >= 1
    assert_same_records(qnet.load_records(out), reference)


@pytest.mark.parametrize("gap", [0.005, 0.1])
def test_ctrl_c_twice_saves_then_resume_equals_the_uninterrupted_run(tmp_path, cache, reference, gap):
    """SIGINT, then a second one ``gap`` seconds later: while the first one's commit runs, while
    the message is printed, or while Python shuts down; none of them cuts the stop short."""
    out = tmp_path / "run"
    env = dict(os.environ, QNET_COMPILATION_CACHE=str(cache))
    proc = subprocess.Popen([sys.executable, "-m", "qnet", "run", *ARGS, "--epochs", "4000", "--out", str(out)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "state").is_dir() or not list((out / "state").iterdir()):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    saved = qnet.load_records(out)
    n = int(saved["completed"])
    assert f"epochs 1..{n} are saved" in err and n >= 1 and np.isfinite(saved["I_XT"]).all()
    assert len(saved["epoch"]) == n
    proc = qnet_cli(["run", "--resume", out, "--epochs", n + 2, "--no-progress"], cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    resumed = qnet.load_records(out)
    assert resumed["epoch"].tolist() == list(range(1, n + 3)) and np.isfinite(resumed["I_XT"]).all()
    # the first epochs of a longer run are those of the 10-epoch reference
    k = min(n + 2, 10)
    for key in ("I_XT", "I_TY", "train_loss"):
        np.testing.assert_array_equal(resumed[key][:, :k], reference[key][:, :k])


class _SignalsWhenDeleted:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)


def _ctrl_c_in_gc_callback():
    def send(phase, info):
        if phase == "start":
            signal.raise_signal(signal.SIGINT)

    gc.callbacks.append(send)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(send)


def _ctrl_c_in_del():
    obj = _SignalsWhenDeleted()
    del obj


@pytest.mark.parametrize("where", [_ctrl_c_in_gc_callback, _ctrl_c_in_del])
def test_a_ctrl_c_where_python_drops_exceptions_stops_at_the_next_check_without_a_traceback(monkeypatch, where):
    """A real SIGINT handled inside a garbage-collector callback (JAX installs one) or a
    __del__: raising there would print "Exception ignored ... Traceback" and lose the stop."""
    from qnet.cli.commands import Interrupt

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    interrupt = Interrupt()
    try:
        where()
        assert unraisable == [] and interrupt.requested
        with pytest.raises(KeyboardInterrupt):
            interrupt.check()
    finally:
        interrupt.restore()
    interrupt = Interrupt()  # anywhere else, the first Ctrl-C raises at once
    try:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    finally:
        interrupt.restore()


def test_resume_on_another_core_count_uses_the_recorded_split(tmp_path, cache, reference):
    """The run starts on 2 cores (2 programs); it is killed and resumed on 1 core: bit-identical."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 cores")
    out = tmp_path / "run"
    proc = qnet_cli(["run", *ARGS, "--out", out], cwd=tmp_path, cache=cache, env={"QNET_KILL_AT": "commit:manifest-written:4"})
    assert proc.returncode == -signal.SIGKILL
    assert json.loads((out / "config.json").read_text())["training"]["programs"] == 2
    proc = qnet_cli(["run", "--resume", out, "--no-progress"], cwd=tmp_path, cache=cache, cores=1)
    assert proc.returncode == 0, proc.stderr
    assert_same_records(qnet.load_records(out), reference)


def _unshare_works():
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-rm", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare (user and mount namespaces) for a small tmpfs")
def test_a_full_disk_keeps_the_finished_epochs_and_says_how_to_resume(tmp_path, cache, reference):
    """A real ENOSPC: the run folder sits on a 64 KB tmpfs (in a private mount namespace)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (f"mount -t tmpfs -o size=64k tmpfs {mnt} && "
              f"{sys.executable} -m qnet run {' '.join(ARGS)} --out {mnt}/run; echo rc=$?; "
              f"cp -a {mnt}/run {tmp_path}/copy")
    env = dict(os.environ, QNET_COMPILATION_CACHE=str(cache))
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert "rc=2" in proc.stdout, proc.stdout + proc.stderr
    message = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(message) == 1 and "disk is full" in message[0] and "qnet run --resume" in message[0], proc.stderr
    kept = qnet.load_records(tmp_path / "copy")
    assert 1 <= int(kept["completed"]) < 10 and np.isfinite(kept["I_XT"]).all()
    proc = qnet_cli(["run", "--resume", tmp_path / "copy", "--no-progress"], cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert_same_records(qnet.load_records(tmp_path / "copy"), reference)


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare (user and mount namespaces)")
def test_a_read_only_folder_is_one_line(tmp_path, cache):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    script = f"mount -t tmpfs -o size=1m,ro tmpfs {mnt} && {sys.executable} -m qnet run {' '.join(ARGS)} --out {mnt}/run"
    env = dict(os.environ, QNET_COMPILATION_CACHE=str(cache))
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert "cannot create the run folder" in one_error_line(proc) and "Read-only" in proc.stderr


def test_a_resume_beside_a_writer_is_refused_before_it_reads_the_files(tmp_path, cache):
    """The writer may have just replaced the files its previous manifest named: a second process
    is refused for the lock, not for a file it read too early (a race CI once hit)."""
    out = tmp_path / "run"
    assert qnet_cli(["run", *ARGS, "--epochs", "3", "--out", out], cwd=tmp_path, cache=cache).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    (out / manifest["state"]["file"]).unlink()  # as a writer does when it replaces the state
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
                               "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(600)",
                               str(out / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for extra in ([], ["--epochs", "5"]):
            second = qnet_cli(["run", "--resume", out, "--no-progress", *extra], cwd=tmp_path, cache=cache)
            assert second.returncode != 0 and "in use by another qnet process" in one_error_line(second), extra
    finally:
        holder.kill()
        holder.communicate()
    missing = qnet_cli(["run", "--resume", out, "--no-progress"], cwd=tmp_path, cache=cache)
    assert "is missing (manifest.json names it)" in one_error_line(missing)  # once nobody holds it


def test_a_second_writer_is_refused(tmp_path, cache):
    out = tmp_path / "run"
    env = dict(os.environ, QNET_COMPILATION_CACHE=str(cache))
    first = subprocess.Popen([sys.executable, "-m", "qnet", "run", *ARGS, "--epochs", "2000", "--out", str(out)],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not (out / "manifest.json").exists():
            assert time.time() < deadline and first.poll() is None
            time.sleep(0.05)
        second = qnet_cli(["run", "--resume", out, "--no-progress"], cwd=tmp_path, cache=cache)
        assert "in use by another qnet process" in one_error_line(second)
        again = qnet_cli(["run", *ARGS, "--out", out], cwd=tmp_path, cache=cache)
        assert "is not empty" in one_error_line(again)
        while not (out / "state").is_dir() or not list((out / "state").iterdir()):
            assert time.time() < deadline and first.poll() is None
            time.sleep(0.05)
    finally:
        first.kill()
        first.communicate()
    # the lock dies with its process: the folder can be opened again
    done = int(json.loads((out / "manifest.json").read_text())["completed"])
    proc = qnet_cli(["run", "--resume", out, "--epochs", done, "--no-progress"], cwd=tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr


def test_default_run_folders_are_unique(tmp_path):
    from qnet.cli.commands import new_run_folder

    made = {new_run_folder("quick", root=tmp_path) for _ in range(3)}
    assert len(made) == 3 and all(p.is_dir() for p in made)


def _copy(reference_dir, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(reference_dir, out)
    return out


@pytest.fixture(scope="module")
def finished(tmp_path_factory, cache):
    path = tmp_path_factory.mktemp("done") / "run"
    proc = qnet_cli(["run", *ARGS, "--epochs", "3", "--out", path], cwd=path.parent, cache=cache)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.mark.parametrize("damage, expected", [
    ("flip", "is corrupted"),
    ("truncate", "is corrupted"),
    ("delete", "is missing"),
    ("config-garbage", "no longer matches the run's manifest"),
    ("config-empty", "no longer matches the run's manifest"),
    ("config-seeds", "no longer matches the run's manifest"),
    ("manifest-garbage", "manifest.json is not valid JSON"),
])
def test_damaged_files_are_one_line_naming_the_file(tmp_path, cache, finished, damage, expected):
    out = _copy(finished, tmp_path)
    chunk = sorted((out / "records").iterdir())[-1]
    if damage == "flip":
        raw = bytearray(chunk.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        chunk.write_bytes(bytes(raw))
    elif damage == "truncate":
        chunk.write_bytes(chunk.read_bytes()[:100])
    elif damage == "delete":
        chunk.unlink()
    elif damage == "config-garbage":
        (out / "config.json").write_text("{not json")
    elif damage == "config-empty":
        (out / "config.json").write_text("{}")
    elif damage == "config-seeds":
        config = json.loads((out / "config.json").read_text())
        config["training"]["seeds"] = 1
        (out / "config.json").write_text(json.dumps(config))
    else:
        (out / "manifest.json").write_text("garbage")
    proc = qnet_cli(["run", "--resume", out, "--epochs", "5", "--no-progress"], cwd=tmp_path, cache=cache)
    assert expected in one_error_line(proc)
    if damage in ("flip", "truncate", "delete", "manifest-garbage"):
        assert expected in one_error_line(qnet_cli(["plot", out], cwd=tmp_path))


def test_a_damaged_npz_read_directly_is_one_value_error(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.arange(1000))
    raw = bytearray(path.read_bytes())
    raw[200] ^= 0xFF  # inside the array's bytes: a CRC error when read
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="x.npz is not a readable .npz file"):
        qnet.io.load_npz(path)
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="not a readable .npz"):
        qnet.io.load_npz(path)
    np.save(tmp_path / "plain.npy", np.arange(3))
    with pytest.raises(ValueError, match="not an .npz"):
        qnet.io.load_npz(tmp_path / "plain.npy")
