"""Compiled XLA programs kept on disk between runs (JAX's persistent compilation cache).

Compiling the training program of a setting takes 3-4 s on a CPU; it depends on the
network, the data shapes, the number of seeds per program and the optimizer, not on
the seeds' values or the number of epochs. With the cache on, a later run of the same
setting loads the program instead (about 0.1 s). Entries are keyed by the program, the
JAX/jaxlib versions and the compiler flags, so an entry is only reused for the identical
program; the numbers are the same with and without the cache (tested).

The command line turns it on (``qnet run``; ``--no-compilation-cache`` turns it off).
Library calls leave JAX's configuration alone unless :func:`enable` is called: it is
process-wide state.
"""

import os
import sys
from pathlib import Path

import jax

ENV = "QNET_COMPILATION_CACHE"  # a directory, or "off"


def default_directory():
    """``$QNET_COMPILATION_CACHE``, else ``$XDG_CACHE_HOME/qnet/xla`` (``~/.cache/qnet/xla``);
    ``None`` if ``$QNET_COMPILATION_CACHE`` is ``off``."""
    value = os.environ.get(ENV, "")
    if value.lower() == "off":
        return None
    if value:
        return Path(value)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qnet" / "xla"


def enable(directory=None):
    """Keep every compiled program of this process in ``directory`` (default:
    :func:`default_directory`) and reuse the ones already there. Returns the directory,
    or ``None`` when the cache is turned off by the environment."""
    directory = default_directory() if directory is None else Path(directory)
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".qnet-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        print(f"qnet: warning: the compilation cache {directory} is not writable ({err.strerror}); "
              "running without it", file=sys.stderr)
        return None
    jax.config.update("jax_compilation_cache_dir", str(directory))
    # JAX stores only programs that took >= 1 s to compile by default; the small ones
    # (optimizer init, merging the seed groups) cost 0.2-0.3 s each on a cold start
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return directory
