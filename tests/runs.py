"""Helpers for tests that run qnet as a user would: the command line in a fresh process."""

import os
import subprocess
import sys

import numpy as np

KEYS = ("I_XT", "I_TY", "H_T_given_Y", "n_states", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


def qnet_cli(args, cwd, cache=None, env=None, timeout=600, cores=None):
    """Run ``python -m qnet ARGS`` in a new process; returns the CompletedProcess.

    cache: a compilation-cache folder shared by the test's processes (compiles once);
    cores: restrict the process to this many CPU cores (sched_setaffinity)."""
    full_env = dict(os.environ)
    full_env.pop("QNET_KILL_AT", None)
    full_env.update(env or {})
    if cache is not None:
        full_env["QNET_COMPILATION_CACHE"] = str(cache)
    preexec = None
    if cores is not None:
        def preexec():
            os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cores]))
    return subprocess.run([sys.executable, "-m", "qnet", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=timeout, preexec_fn=preexec)


def assert_same_records(a, b, keys=KEYS):
    np.testing.assert_array_equal(a["epoch"], b["epoch"])
    for key in keys:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def one_error_line(proc):
    """The process failed with exactly one line on stderr, and no traceback."""
    assert proc.returncode not in (0, None), proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]
