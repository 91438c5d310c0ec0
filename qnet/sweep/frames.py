"""Tidy tables of runs and sweeps (pandas): one row per run x seed x recorded epoch x layer.

Columns: ``seed``, ``epoch``, ``layer`` (its name), ``layer_index`` (1 = first measured layer),
``I_XT``, ``I_TY``, ``H_T_given_Y`` (exact, bits), ``n_states``, the metrics (``train_loss``,
``train_accuracy``, ``test_loss``, ``test_accuracy``, the same in every layer's row of an epoch),
``diverged``; with binning, the binning *estimates* ``estimate_binned{B}_I_XT`` /
``estimate_binned{B}_I_TY`` (bits; layers of float activations have rows of their own, with NaN
exact values and ``n_states`` -1); for noisy nets also the noisy layer keys (``H_T_given_X``, ...); then every flat config field (tuples and lists as text) and ``H_Y``, ``n_eval``.
A sweep's table adds ``run`` (its folder name) first.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from qnet.experiment import ExperimentConfig, load_records
from qnet.training import METRICS

RESULTS = "results.parquet"


def _cell(value):
    if isinstance(value, (list, tuple, dict)):
        return str(list(value) if isinstance(value, tuple) else value)
    return value


def records_frame(run_dir, records=None):
    """The long-form DataFrame of a run folder's finished records (see the module docstring)."""
    r = load_records(run_dir) if records is None else records
    n_seeds, n_epochs, n_exact = r["I_XT"].shape
    exact_names = [str(n) for n in r["layer_names"]]
    value_names = [str(v) for v in r["value_names"]] if "binned_I_XT" in r else []
    # layers with codes first, then layers known only by their float values (binned estimates)
    names = exact_names + [v for v in value_names if v not in exact_names]
    n_layers = len(names)
    seed, epoch, layer = np.meshgrid(np.arange(n_seeds), np.arange(n_epochs), np.arange(n_layers), indexing="ij")
    columns = {"seed": r["seeds"][seed.ravel()], "epoch": r["epoch"][epoch.ravel()],
               "layer": np.asarray(names, dtype=object)[layer.ravel()] if n_layers else np.zeros(0, object),
               "layer_index": layer.ravel() + 1}
    for key, value in r.items():
        if isinstance(value, np.ndarray) and value.ndim == 3 and value.shape == (n_seeds, n_epochs, n_exact):
            fill = -1 if value.dtype.kind == "i" else (False if value.dtype.kind == "b" else np.nan)
            full = np.full((n_seeds, n_epochs, n_layers), fill, value.dtype)
            full[:, :, :n_exact] = value
            columns[key] = full.reshape(-1)
    for key in (*METRICS, "diverged"):
        columns[key] = np.repeat(r[key].reshape(-1), n_layers)
    if value_names:
        for b, bins in enumerate(r["binning"]):
            for quantity in ("I_XT", "I_TY"):
                full = np.full((n_seeds, n_epochs, n_layers), np.nan)
                for v, name in enumerate(value_names):
                    full[:, :, names.index(name)] = r[f"binned_{quantity}"][:, :, v, b]
                columns[f"estimate_binned{int(bins)}_{quantity}"] = full.reshape(-1)
    frame = pd.DataFrame(columns)
    frame["H_Y"] = float(r["H_Y"])
    frame["n_eval"] = int(r["n_eval"])
    for key, value in ExperimentConfig.from_json(r["config"]).flat().items():
        if key not in frame:
            frame[key] = _cell(value)
    return frame


def sweep_frame(sweep_dir):
    """The long-form DataFrame of every run of a sweep folder with finished epochs (``run`` first)."""
    from qnet.sweep.study import read_plan

    sweep_dir = Path(sweep_dir)
    frames = []
    for name, _, _ in read_plan(sweep_dir):
        if (sweep_dir / name / "manifest.json").exists():
            frame = records_frame(sweep_dir / name)
            frame.insert(0, "run", name)
            frames.append(frame)
    if not frames:
        raise ValueError(f"{sweep_dir}: no run of the sweep has finished epochs yet")
    return pd.concat(frames, ignore_index=True)


def write_results(sweep_dir):
    """Write ``sweep_dir/results.parquet`` (:func:`sweep_frame`); returns its path, or ``None``
    when no run has records yet."""
    try:
        frame = sweep_frame(sweep_dir)
    except ValueError:
        return None
    path = Path(sweep_dir) / RESULTS
    tmp = path.with_name("." + path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path
