"""The experiment runner: train quantized nets, compute their exact information plane, keep every finished epoch.

``run(config, run_dir)`` reads top to bottom: set up data, model and trainer; open the run
folder (:mod:`qnet.experiment.store`); per epoch train all seeds and count every measured
layer's codes exactly (counting epoch e overlaps training epoch e + 1); commit the finished
epochs after the first one and then every ``checkpoint_seconds``; finally draw the figures.

Faults: Ctrl-C (and SIGTERM from the CLI) commits the finished epochs before it propagates; a
second Ctrl-C during a commit waits until the commit is complete; SIGKILL at any moment leaves
the last commit intact (resume continues from it, bit-identically). A seed whose loss becomes
non-finite is recorded as diverged (its epoch; NaN from there) and the other seeds go on.
"""

import contextlib
import dataclasses
import hashlib
import math
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from qnet import data as datasets
from qnet import information
from qnet.experiment.config import CustomModel, ExperimentConfig
from qnet.experiment.schedule import parse_schedule
from qnet.experiment.store import RunError, RunStore, load_records, noisy_layers
from qnet.measure import NOISY_KEYS
from qnet.model.network import QuantizedNetwork
from qnet.training import METRICS, Trainer, default_programs

LAYER_KEYS = ("I_XT", "I_TY", "H_T_given_Y", "n_states")
ROW_KEYS = LAYER_KEYS + METRICS + ("diverged",)
BINNED_KEYS = ("binned_I_XT", "binned_I_TY")  # estimates: (S, E, observed layers, bin counts)


@dataclass
class Setup:
    """What a config builds: the trainer, the dataset, the labels of the counted inputs."""

    config: ExperimentConfig
    trainer: Trainer
    dataset: datasets.Dataset
    eval_labels: np.ndarray


def load_data(config, run_dir=None):
    """The dataset of a config (a ``file`` dataset's relative path is relative to ``run_dir``)."""
    options = dict(config.data.dataset_options)
    if config.data.dataset == "file" and run_dir is not None and not Path(options.get("path", "")).is_absolute():
        options["path"] = str(Path(run_dir) / options.get("path", ""))
    return datasets.load(config.data.dataset, **options)


def setup(config, data=None, model=None, run_dir=None):
    """Build the :class:`Setup` of a config: data (``data``, else loaded), model (``model``, else
    the config's network), trainer. A config whose ``training.programs`` is ``None`` gets the
    number of programs this machine runs (returned in ``Setup.config``)."""
    ds = load_data(config, run_dir) if data is None else data
    train_idx, test_idx = ds.split(config.data.test_fraction, config.data.split_seed)
    eval_idx = {"all": None, "train": train_idx, "test": test_idx}[config.measure.eval_set]
    if model is None:
        if isinstance(config.network, CustomModel):
            raise ValueError(f"this run trains a model of its own ({config.network.name}): pass it again (model=...)")
        model = QuantizedNetwork(config.network, ds.sample_shape, ds.n_classes)
    if config.training.programs is None:
        config = config.replace(programs=default_programs(config.training.seeds))
    trainer = Trainer(model, config.training, ds.X, ds.y, train_idx, test_idx, eval_idx)
    return Setup(config, trainer, ds, ds.y if eval_idx is None else ds.y[eval_idx])


def model_fingerprint(trainer):
    """SHA-256 of a model's first seed's initial parameters and of its measured layers' shapes."""
    h = hashlib.sha256(repr((trainer.layer_shapes, str(trainer.code_dtype), trainer.n_classes)).encode())
    for leaf in jax.tree_util.tree_leaves(trainer.model.init(trainer.seeds[0])):
        leaf = np.asarray(leaf)
        h.update(f"{leaf.dtype}{leaf.shape}".encode())
        h.update(np.ascontiguousarray(leaf).tobytes())
    return h.hexdigest()


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT and SIGTERM until the block is done, then deliver them to the handlers that
    were in place (a second Ctrl-C cannot cut a commit short). Handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received, saved = [], {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        old = signal.getsignal(sig)
        if old is not None:
            saved[sig] = old
            signal.signal(sig, lambda s, frame: received.append(s))
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)
        for sig in received:
            signal.raise_signal(sig)


def _static(setup_, h_y):
    t = setup_.trainer
    extra = (list(BINNED_KEYS) if setup_.config.measure.binning else []) + \
        (list(NOISY_KEYS) if is_noisy(t.model) else [])
    return {"seeds": list(t.seeds), "layer_names": t.layer_names, "layer_widths": t.layer_widths,
            "layer_shapes": [list(s) for s in t.layer_shapes], "n_eval": int(len(setup_.eval_labels)),
            "H_Y": h_y, "prefit_epochs": setup_.config.training.prefit_epochs, "row_keys": list(ROW_KEYS) + extra,
            "layer_keys": list(LAYER_KEYS) + (list(NOISY_KEYS) if is_noisy(t.model) else []), "value_names": t.value_names,
            "binning": list(setup_.config.measure.binning)}


def _differences(a, b):
    fa, fb = a.flat(), b.flat()
    return sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))


def _resumed_config(stored, requested, completed):
    """The config to continue with: the stored one, or ``requested`` where it only changes the length."""
    if requested is None:
        return stored
    # data copied into the run folder and models passed in are the run's own: kept as they are
    requested = ExperimentConfig(stored.data if stored.data.dataset == "file" else requested.data,
                                 stored.network if isinstance(stored.network, CustomModel) else requested.network,
                                 requested.training, requested.measure)
    if requested.training.programs is None:
        requested = requested.replace(programs=stored.training.programs)
    changed = _differences(stored, requested)
    refused = [k for k in changed if k != "epochs"]
    if refused:
        stored_flat, asked = stored.flat(), requested.flat()
        detail = ", ".join(f"{k} = {stored_flat.get(k)!r} (asked {asked.get(k)!r})" for k in refused)
        raise ValueError(f"resume cannot change the run's settings: {detail}; only epochs can change (to extend it)")
    if requested.training.total_epochs < completed:
        raise ValueError(f"epochs {requested.training.epochs} is shorter than the {completed} epochs already finished")
    return requested


def _check_free_space(store, schedule, n_seeds, n_layers, state_bytes):
    """Refuse to start when the records still to come, and two copies of the training state (the
    old one stays until the new one is committed), do not fit on the disk."""
    rows = schedule.count() - schedule.count(store.completed)
    need = rows * n_seeds * (n_layers * 32 + 8 * len(METRICS) + 1) + 2 * state_bytes
    free = store.free_bytes()
    if need > free:
        raise RunError(f"the records of this run need about {need / 1e6:.0f} MB but {store.dir} has only "
                       f"{free / 1e6:.0f} MB free; free some space, or record fewer epochs (--mi-epochs)")


def _count(codes, labels, widths, chain=True):
    """The exact plane of deterministic layers: (S, L) arrays (see :func:`_row`). chain: each layer
    is a function of the one before (qnet's networks), so layers before an injective one are not counted."""
    plane, counts = information.information_batch(codes, labels, layer_widths=widths, chain=chain, return_counts=True)
    return {"I_XT": plane[..., 0], "I_TY": plane[..., 1], "H_T_given_Y": plane[..., 0] - plane[..., 1],
            "n_states": counts}


def is_noisy(model):
    """Whether a model has noise layers measured by summing over the noise (qnet's noisy networks)."""
    built = getattr(model, "built", None)
    return callable(getattr(model, "noisy_chain", None)) and built is not None and built.noisy


def _count_noisy(model, state, codes, labels, eval_labels, widths, seeds, epoch):
    """The exact plane of a noisy network: the layers before its first noise counted as above, the
    others summed over the noise (:func:`qnet.measure.noisy_plane`), seed by seed."""
    from qnet.measure import noisy_plane

    n_seeds, n_layers = codes.shape[0], len(widths)
    out = {key: np.zeros((n_seeds, n_layers)) for key in ("I_XT", "I_TY", "H_T_given_Y", "H_T_given_X", "stderr_I_XT")}
    out.update(n_states=np.zeros((n_seeds, n_layers), np.int64), exact=np.ones((n_seeds, n_layers), bool))
    bounds = np.cumsum([0] + list(widths))
    for s in range(n_seeds):
        params, model_state = jax.tree_util.tree_map(lambda x: x[s], (state.params, state.model_state))
        chain = model.noisy_chain(params, model_state)
        if s == 0 and chain.first > 0:
            first = _count(codes[:, :, :bounds[chain.first]], labels, widths[:chain.first])
            for key, value in first.items():
                out[key][:, :chain.first] = value
        layer = slice(bounds[chain.first], bounds[chain.first + 1])
        noisy = noisy_plane(chain, codes[s, :, layer], eval_labels, seed=(int(seeds[s]) << 24) ^ int(epoch))
        for key, value in noisy.items():
            out[key][s, chain.first:] = value
    return out


def _row(epoch, counted, metrics, diverged_epoch):
    """One recorded epoch: (S, L) information quantities, (S,) metrics; NaN for diverged seeds."""
    gone = (diverged_epoch > 0) & (diverged_epoch <= epoch)
    row = {"epoch": epoch}
    if counted is None:
        shape = (len(diverged_epoch), 0)
        counted = {"I_XT": np.zeros(shape), "I_TY": np.zeros(shape), "H_T_given_Y": np.zeros(shape),
                   "n_states": np.zeros(shape, np.int64)}
    for key, value in counted.items():
        value = np.array(value)
        value[gone] = -1 if value.dtype.kind == "i" else (False if value.dtype.kind == "b" else np.nan)
        row[key] = value
    for m in METRICS:
        row[m] = np.where(gone, np.nan, metrics[m]).astype(np.float64)
    row["diverged"] = gone
    return row


def _stack_rows(rows):
    if not rows:
        return {}
    out = {"epoch": np.array([r["epoch"] for r in rows], np.int64)}
    for key in rows[0]:
        if key != "epoch":
            out[key] = np.stack([r[key] for r in rows], axis=1)
    return out


def _binned_plane(values, labels, bins, gone):
    """Binning estimates of every observed layer: (S, L, B) arrays of I(X;T) and I(T;Y), bits
    (NaN for diverged seeds). values: per layer (S, n, ...) floats."""
    from qnet.estimators.binning import layer_bins

    planes = [information.information_batch([layer_bins(v, b) for v in values], labels) for b in bins]
    plane = np.stack(planes, axis=2)  # (S, L, B, 2)
    plane[gone] = np.nan
    return {"binned_I_XT": plane[..., 0], "binned_I_TY": plane[..., 1]}


def _layer_codes(codes, trainer):
    """The (S, n, D) codes of an epoch as one (S, n, *shape) array per measured layer."""
    out, start = {}, 0
    for name, shape, width in zip(trainer.layer_names, trainer.layer_shapes, trainer.layer_widths):
        out[name] = codes[:, :, start:start + width].reshape(codes.shape[:2] + tuple(shape))
        start += width
    return out


def run(config, run_dir, resume=False, progress=True, on_epoch=None, plot=True, data=None, model=None,
        checkpoint_seconds=30.0):
    """Run (or, with ``resume=True``, continue) an experiment in ``run_dir``; return its records.

    config: an :class:`ExperimentConfig`; with ``resume`` it may be ``None`` (the folder's own
    config) or the folder's config with more (or fewer, not below the finished) epochs.
    data: a :class:`~qnet.data.Dataset` of your own arrays (copied into the run folder as
    ``data.npz``); model: a :mod:`~qnet.model.protocol` model of your own (pass it again to resume).
    on_epoch(epoch, row) is called after each finished epoch (row: its record, or ``None``).
    checkpoint_seconds: commit the finished epochs at least this often (and after the first one).
    Returns :func:`~qnet.experiment.store.load_records` of the folder.
    """
    run_dir = Path(run_dir)
    if config is None and not resume:
        raise ValueError("run() needs a config (or resume=True to continue the run in run_dir)")
    store = RunStore.open(run_dir) if resume else None
    try:
        if resume:
            config = _resumed_config(store.config, config, store.completed)
        elif data is not None:
            options = {"path": "data.npz", "fingerprint": datasets.dataset_fingerprint(data)}
            config = ExperimentConfig(dataclasses.replace(config.data, dataset="file", dataset_options=options),
                                      config.network, config.training, config.measure)
        s = setup(config, data=data, model=model, run_dir=run_dir if resume else None)
        config, trainer = s.config, s.trainer
        if model is not None:
            marker = CustomModel(getattr(model, "name", type(model).__name__), model_fingerprint(trainer))
            if resume and config.network != marker:
                raise ValueError(f"the model passed differs from the one this run was started with ({config.network})")
            config = ExperimentConfig(config.data, marker, config.training, config.measure)
        h_y = information.entropy(s.eval_labels)
        if store is None:
            store = RunStore.create(run_dir, config, _static(s, h_y))
            if data is not None:
                datasets.save_file(run_dir / "data.npz", data)
        elif config.fingerprint() != store.config.fingerprint():
            store.extend(config)
        _train(config, s, store, progress, on_epoch, checkpoint_seconds)
    finally:
        if store is not None:
            store.close()
    records = load_records(run_dir)
    if plot and len(records["epoch"]) and not np.all(records["diverged_epoch"]):  # nothing to draw if every seed diverged
        from qnet import plots

        plots.plot_run(run_dir, records)
    return records


def _train(config, s, store, progress, on_epoch, checkpoint_seconds):
    trainer = s.trainer
    total = config.training.total_epochs
    mi = parse_schedule(config.measure.mi_epochs, total, "mi_epochs")
    save_codes = parse_schedule(config.measure.save_codes, total, "save_codes")
    labels = information.encode_labels(s.eval_labels)
    chain = bool(getattr(trainer.model, "chain", False))
    noisy = is_noisy(trainer.model)
    state = trainer.init()
    leaves, treedef = jax.tree_util.tree_flatten(state)
    _check_free_space(store, mi, len(trainer.seeds), len(trainer.layer_widths), sum(np.asarray(x).nbytes for x in leaves))
    start = store.completed
    diverged = np.asarray(store.manifest.get("dynamic", {}).get("diverged_epoch", [0] * len(trainer.seeds)), np.int64)
    saved = store.load_state()
    if saved is not None:
        if len(saved) != len(leaves) or any(a.shape != np.shape(b) or a.dtype != np.asarray(b).dtype
                                            for a, b in zip(saved, leaves)):
            raise RunError(f"{store.dir}: the saved training state does not fit this config's network and seeds")
        state = jax.tree_util.tree_unflatten(treedef, jax.device_put(saved))
    if start >= total or (diverged > 0).all():
        return
    rows, codes_written = [], []
    last = {"state": state, "epoch": start, "saved": None}

    def commit():
        with signals_deferred():
            if last["epoch"] > store.completed:
                leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(last["state"])]
                kept = [r for r in rows if r["epoch"] <= last["epoch"]]
                store.commit(last["epoch"], _stack_rows(kept), leaves, codes_written,
                             {"diverged_epoch": diverged.tolist()})
                del rows[:len(kept)]
                codes_written.clear()
            last["saved"] = time.monotonic()

    def finish(epoch, state_after, counting, metrics, codes):
        newly = ~metrics["finite"] & (diverged == 0)
        diverged[newly] = epoch
        if epoch in mi:
            row = _row(epoch, counting.result() if counting is not None else None, metrics, diverged)
            if config.measure.binning:
                row.update(_binned_plane(trainer.activations(state_after), labels, config.measure.binning, row["diverged"]))
            rows.append(row)
        else:
            row = None
        if codes is not None and epoch in save_codes:
            codes_written.append((epoch, _layer_codes(codes, trainer)))
        last.update(state=state_after, epoch=epoch)
        if on_epoch is not None:
            on_epoch(epoch, row)
        # saved codes are committed at once, so that at most one epoch's codes are held
        if codes_written or last["saved"] is None or time.monotonic() - last["saved"] >= checkpoint_seconds:
            commit()

    # in a log file (not a terminal) the bar is redrawn every 30 s rather than 10 times a second
    bar = tqdm(range(start + 1, total + 1), initial=start, total=total, desc=f"{len(trainer.seeds)} seeds",
               unit="epoch", disable=not progress, smoothing=0.05, mininterval=0.1 if sys.stderr.isatty() else 30.0)
    counter = ThreadPoolExecutor(max_workers=1)  # counting epoch e (Numba, GIL released) overlaps training e + 1
    pending = None
    try:
        for epoch in bar:
            state, metrics, codes = trainer.step(state, epoch, prefit=epoch <= config.training.prefit_epochs)
            counting = None
            if codes is not None and epoch in mi:
                if noisy:
                    counting = counter.submit(_count_noisy, trainer.model, state, codes, labels, s.eval_labels,
                                              trainer.layer_widths, trainer.seeds, epoch)
                else:
                    counting = counter.submit(_count, codes, labels, trainer.layer_widths, chain)
            if pending is not None:
                finish(*pending)
            pending = (epoch, state, counting, metrics, codes if epoch in save_codes else None)
            alive = (diverged == 0) & metrics["finite"]
            if not alive.any():
                break
            bar.set_postfix(acc=f"{np.mean(metrics['test_accuracy'][alive]):.3f}", refresh=False)
        if pending is not None:
            finish(*pending)
            pending = None
    except KeyboardInterrupt:
        commit()
        raise
    finally:
        bar.close()
        counter.shutdown(wait=True)
    commit()


def summary(records):
    """A short text summary of a run's last finished recorded epoch (means over seeds), in bits."""
    if len(records["epoch"]) == 0:
        return "no recorded epoch is finished yet"
    r = len(records["epoch"]) - 1
    alive = records["diverged_epoch"] == 0
    lines = [f"epoch {int(records['epoch'][r])}: train acc {np.nanmean(records['train_accuracy'][:, r]):.3f}, "
             f"test acc {np.nanmean(records['test_accuracy'][:, r]):.3f} (mean of {int(alive.sum())} seeds)",
             f"log2 n = {math.log2(int(records['n_eval'])):.3f} bits, H(Y) = {float(records['H_Y']):.5f} bits"]
    for seed, epoch in zip(records["seeds"], records["diverged_epoch"]):
        if epoch:
            lines.append(f"  seed {int(seed)} diverged at epoch {int(epoch)} (non-finite loss): NaN from there")
    n, noisy = int(records["n_eval"]), noisy_layers(records)
    for layer, name in enumerate(records["layer_names"]):
        states = records["n_states"][alive, r, layer] if "n_states" in records else np.zeros(0)
        if noisy[layer] and states.size:
            regime = f"; through noise, up to {int(states.max())} codes of positive probability"
        elif states.size and states.max() > 0:
            regime = (f"; {int(states.max())} of {n} codes distinct, saturated (k = n, I(X;T) = log2 n) in "
                      f"{int(np.sum(states == n))} of {states.size} seeds")
        else:
            regime = ""
        lines.append(f"  {name} ({int(records['layer_widths'][layer])} values): "
                     f"I(X;T) = {np.nanmean(records['I_XT'][:, r, layer]):.4f}, "
                     f"I(T;Y) = {np.nanmean(records['I_TY'][:, r, layer]):.4f} bits{regime}")
    return "\n".join(lines)
