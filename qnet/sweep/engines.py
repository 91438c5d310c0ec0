"""Where a sweep's runs execute: this machine's cores (``local``) or a Ray cluster (``ray``).

Both engines call :func:`run_one` on each run that is not finished yet and hand back one result
dict per run (``name``, ``status``: ``done`` or ``failed``, ``reason``, ``seconds``). A run uses
``threads`` cores (its config's ``programs``: the seed groups trained side by side), pinned with
the thread variables of XLA, Numba and OpenMP; the local engine runs ``cores // threads`` runs at
once, each in a process of its own; the Ray engine declares ``num_cpus=threads`` per task.
"""

import contextlib
import os
import signal
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

FAILED = "failed.txt"  # in a run folder whose last attempt failed: the reason


def thread_env(threads):
    """Environment variables that keep a fresh process to ``threads`` cores."""
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            flags = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
        env["XLA_FLAGS"] = flags
    return env


@contextlib.contextmanager
def _environment(env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_one(run_dir, config_json, cache_dir=None):
    """Run (or resume) one run of a sweep in ``run_dir``; never raises for a failed run.

    config_json: the run's config (:meth:`ExperimentConfig.to_json`); cache_dir: a compilation
    cache folder, or ``None`` for none. A failure's reason (one line) is written to
    ``run_dir/failed.txt`` and returned; a later success removes the file."""
    from qnet import compilation_cache, experiment
    from qnet.cli.commands import EXPECTED, one_line

    start, run_dir = time.monotonic(), Path(run_dir)
    if _WORKER["interrupt"] is not None and _WORKER["interrupt"].requested:  # stopping: start nothing new
        raise KeyboardInterrupt
    if cache_dir is not None:
        compilation_cache.enable(cache_dir)
    try:
        config = experiment.ExperimentConfig.from_json(config_json)
        resume = (run_dir / "manifest.json").exists()
        if not resume and run_dir.is_dir():  # a start cut short before the manifest: start again
            for path in run_dir.iterdir():
                if path.name in (".lock", "config.json", FAILED):
                    path.unlink()
        on_epoch = None if _WORKER["interrupt"] is None else _WORKER["interrupt"].check
        experiment.run(config, run_dir, resume=resume, progress=False, plot=False, on_epoch=on_epoch)
        (run_dir / FAILED).unlink(missing_ok=True)
        return {"name": run_dir.name, "status": "done", "reason": "", "seconds": time.monotonic() - start}
    except Exception as err:  # a failed run is a result of the sweep, not its end
        reason = one_line(err) if isinstance(err, EXPECTED) else f"{type(err).__name__}: {one_line(err)}"
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / FAILED).write_text(reason + "\n" + ("" if isinstance(err, EXPECTED) else traceback.format_exc()))
        except OSError:
            pass
        return {"name": run_dir.name, "status": "failed", "reason": reason, "seconds": time.monotonic() - start}


def cores():
    """CPU cores this process may use."""
    from qnet.training import cpu_cores

    return cpu_cores()


_WORKER = {"interrupt": None}  # in a local engine's worker process: its Interrupt


def _interrupted_once():
    """In a worker: the first SIGINT (a terminal's Ctrl-C, or the one the sweep forwards)
    interrupts its run, which commits; later ones are ignored, and no further run starts
    (runs already queued to the worker)."""
    from qnet.cli.commands import Interrupt

    _WORKER["interrupt"] = Interrupt()


def run_local(jobs, threads, cache_dir=None, progress=True):
    """Run ``jobs`` (``(run_dir, config_json)`` pairs) on this machine, ``cores() // threads`` at once.

    Yields each job's result as it finishes."""
    workers = max(1, min(len(jobs), cores() // max(1, threads)))
    bar = tqdm(total=len(jobs), desc=f"runs ({workers} at once)", unit="run", disable=not progress)
    with _environment(thread_env(threads)):  # the workers start while it holds (on the first submits)
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_interrupted_once)
        try:
            futures = {pool.submit(run_one, str(d), c, cache_dir): Path(d).name for d, c in jobs}
            for future in as_completed(futures):
                bar.update()
                try:
                    yield future.result()
                except BrokenProcessPool as err:  # a worker killed (e.g. out of memory): its run and the queued ones
                    yield {"name": futures[future], "status": "failed", "seconds": 0.0,
                           "reason": f"its worker process died ({err}); re-run the sweep to resume it"}
        except KeyboardInterrupt:
            # no queued run starts; the running ones are interrupted (a terminal's Ctrl-C reaches
            # them already) and commit their finished epochs before their processes end
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGINT)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            bar.close()


def run_ray(jobs, threads, address=None, cache_dir=None, progress=True):
    """Run ``jobs`` as Ray tasks of ``num_cpus=threads`` each (``ray.init(address=address)``;
    a local Ray when ``address`` is ``None`` and none is running). The run folders must be on a
    file system every node sees (the sweep folder given as a shared path). Yields results."""
    from qnet.cli.commands import one_line

    try:
        import ray
    except ImportError:
        raise ValueError("--engine ray needs Ray: pip install 'qnet-exact-ib[sweep]' (or pip install ray)") from None
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    env = dict(thread_env(threads))
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    task = ray.remote(num_cpus=threads, max_calls=1, runtime_env={"env_vars": env})(run_one)
    pending = [task.remote(str(d), c, cache_dir) for d, c in jobs]
    names = {ref: Path(d).name for ref, (d, _) in zip(pending, jobs)}
    bar = tqdm(total=len(jobs), desc="runs (ray)", unit="run", disable=not progress)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            bar.update()
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayError as err:  # its worker crashed or ran out of memory: that run failed
                result = {"name": names[ready[0]], "status": "failed", "seconds": 0.0,
                          "reason": f"its Ray task failed ({one_line(err)}); re-run the sweep to resume it"}
            yield result  # outside the try: what the consumer raises is not taken for a task's failure
    finally:
        bar.close()
