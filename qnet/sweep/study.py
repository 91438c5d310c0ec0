"""A sweep folder: one run folder per planned run, ``sweep.json`` (the plan), ``results.parquet``.

:func:`run_sweep` skips finished runs, resumes interrupted ones (from their last commit), runs
the rest on an engine (:mod:`qnet.sweep.engines`), and reports each failed run with its reason
without stopping the others.
"""

import json
from pathlib import Path

from qnet import io
from qnet.experiment import ExperimentConfig, RunError, read_manifest
from qnet.sweep import engines

SWEEP = "sweep.json"
ENGINES = ("local", "ray")


def run_state(run_dir, config):
    """``new``, ``partial`` (epochs finished: resumed) or ``finished`` (with ``config``'s epochs)."""
    try:
        manifest = read_manifest(run_dir, verify=False)
    except RunError:
        return "new"
    done = int(manifest["completed"]) >= config.training.total_epochs
    return "finished" if done and manifest.get("config_sha256") == config.fingerprint() else "partial"


def read_plan(sweep_dir):
    """The plan stored in a sweep folder: a list of ``(name, settings, config)``."""
    path = Path(sweep_dir) / SWEEP
    if not path.exists():
        raise ValueError(f"{sweep_dir} is not a sweep folder (no {SWEEP})")
    try:
        return [(r["name"], r["settings"], ExperimentConfig.from_json(r["config"]))
                for r in json.loads(path.read_text())["runs"]]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a sweep plan ({type(err).__name__}: {err})") from None


def _check_same_plan(out, plan):
    """ValueError unless every run of ``plan`` that ``out`` already plans has the same settings
    there (its epochs may differ: a run extended or shortened is resumed, as ``--resume --epochs``)."""
    before = {name: config for name, _, config in read_plan(out)}
    for name, _, config in plan:
        if name in before:
            old, new = before[name].flat(), config.flat()
            changed = sorted(k for k in set(old) | set(new) if k != "epochs" and old.get(k) != new.get(k))
            if changed:
                raise ValueError(f"--out {out} holds a sweep whose run {name} has other settings "
                                 f"({', '.join(changed)}); resume it with its own spec or choose another folder")


def is_sweep(path):
    return (Path(path) / SWEEP).is_file()


def run_sweep(plan, out, engine="local", address=None, cache_dir=None, progress=True, log=print):
    """Run every run of ``plan`` (``(name, settings, config)`` triples) in ``out/name``.

    Returns ``{"done": [...], "skipped": [...], "failed": {name: reason}}``; writes
    ``out/results.parquet`` (the finished epochs of every run, partial ones included) when
    pandas and pyarrow are installed."""
    if engine not in ENGINES:
        raise ValueError(f"--engine must be one of {list(ENGINES)}, got {engine!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a sweep folder")
    if out.is_dir() and any(out.iterdir()) and not is_sweep(out):
        raise ValueError(f"--out {out} holds other files and is not a sweep folder; choose an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    programs = {c.training.programs for _, _, c in plan}
    if None in programs:
        raise ValueError("every run of a sweep needs its programs (seed groups) pinned in its config")
    if is_sweep(out):
        _check_same_plan(out, plan)
    io.save_json(out / SWEEP, {"runs": [{"name": n, "settings": s, "config": c.to_json()} for n, s, c in plan]})
    states = {name: run_state(out / name, config) for name, _, config in plan}
    skipped = [n for n, s in states.items() if s == "finished"]
    resumed = [n for n, s in states.items() if s == "partial"]
    jobs = [(out / n, c.to_json()) for n, _, c in plan if states[n] != "finished"]
    log(f"sweep {out}: {len(plan)} runs; {len(skipped)} finished (skipped), {len(resumed)} resumed, "
        f"{len(jobs) - len(resumed)} new")
    done, failed = [], {}
    if jobs:
        threads = max(programs)
        results = (engines.run_local(jobs, threads, cache_dir, progress) if engine == "local"
                   else engines.run_ray(jobs, threads, address, cache_dir, progress))
        for result in results:
            if result["status"] == "done":
                done.append(result["name"])
            else:
                failed[result["name"]] = result["reason"]
    try:
        from qnet.sweep.frames import write_results

        write_results(out)
    except ImportError:
        log("pandas/pyarrow not installed: no results.parquet (pip install 'qnet-exact-ib[sweep]')")
    return {"done": sorted(done), "skipped": sorted(skipped), "failed": failed}
