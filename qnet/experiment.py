"""The experiment runner: train quantized nets, compute their exact information plane every epoch.

``run(config, run_dir)`` reads top to bottom: load data, build the trainer, then
per epoch train all seeds, count every layer's codes exactly, store the record;
checkpoint atomically; finally write the records and the figures. A run directory holds

- ``config.json``: the full :class:`ExperimentConfig`;
- ``records.npz``: ``epoch (E,)``, ``I_XT, I_TY, H_T_given_Y (S, E, L)`` in bits, the metrics
  ``train_loss, train_accuracy, test_loss, test_accuracy (S, E)``, ``seeds (S,)``,
  ``layer_widths (L,)``, ``n_eval``, ``H_Y`` and ``completed`` (epochs done);
- ``checkpoint.npz``: the training state after the last completed epoch (for ``--resume``);
- ``information_plane.png``, ``mi_epochs.png``, ``accuracy.png``.
"""

import dataclasses
import json
import math
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from qnet import data as datasets
from qnet import information, io, networks, training
from qnet._checks import check_choice, check_int

DEFAULT_WIDTHS = {"syn": networks.PRESETS["syn"], "mnist": networks.PRESETS["mnist-bottleneck-2"], "digits": (64, 32, 16, 10)}
EVAL_SETS = ("all", "train", "test")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a run. Seeds are ``seed, seed+1, ..., seed+seeds-1``.

    mi_every: compute the information plane every this many epochs (and at the last).
    eval_set: the inputs whose codes are counted (``all`` = the whole dataset, as the reference study).
    checkpoint_seconds: save a resumable checkpoint at least this often.
    """

    dataset: str = "syn"
    dataset_options: dict = field(default_factory=dict)
    widths: tuple | None = None
    activation: str = "tanh"
    bits: int | None = 8
    weight_bits: int | None = 8
    activation_range: str = "auto"
    init: str = "truncated_normal"
    epochs: int = 1500
    seeds: int = 5
    seed: int = 0
    batch_size: int | None = 256
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    test_fraction: float = 0.2
    split_seed: int = 1000
    eval_set: str = "all"
    mi_every: int = 1
    checkpoint_seconds: float = 30.0

    def __post_init__(self):
        if self.widths is not None:
            object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        check_int(self.seeds, "seeds", 1)
        check_int(self.mi_every, "mi_every", 1)
        check_choice(self.eval_set, "eval_set", set(EVAL_SETS))
        self.network()  # validate the network settings now, not after loading data
        self.training()

    def network(self, input_width=None, n_classes=None):
        widths = self.widths or DEFAULT_WIDTHS.get(self.dataset)
        if widths is None:
            if input_width is None:
                widths = (1, 1)  # placeholder for validation; resolved once the data is loaded
            else:
                widths = (input_width, 10, 10, n_classes)
        return networks.NetworkConfig(widths, self.activation, self.bits, "uniform", self.weight_bits,
                                      self.activation_range, 0.99, self.init)

    def training(self):
        return training.TrainConfig(self.epochs, self.batch_size, self.learning_rate, self.optimizer,
                                    tuple(range(self.seed, self.seed + self.seeds)))

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, obj):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(obj) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        return cls(**obj)


# The reference study (Lorenzen, Igel & Nielsen, ICLR 2022), as its code ran: tanh nets with
# float weights and per-tensor batch min/max activation ranges, ReLU nets with 8-bit weights and
# moving-average ranges; Glorot-uniform init (the truncated-normal init its code asks for is
# never passed to the layers); Adam 1e-4, batch 256, stratified 80/20 split.
_REFERENCE = dict(learning_rate=1e-4, batch_size=256, init="glorot_uniform", optimizer="adam")
_TANH = dict(activation="tanh", weight_bits=None, activation_range="batch")
_RELU = dict(activation="relu", weight_bits=8, activation_range="moving")
PRESETS = {
    "quick": {},
    "syn-tanh-8": dict(_REFERENCE, **_TANH, bits=8, epochs=8000, seeds=50),
    "syn-relu-8": dict(_REFERENCE, **_RELU, bits=8, epochs=8000, seeds=50),
    "syn-tanh-4": dict(_REFERENCE, **_TANH, bits=4, epochs=8000, seeds=50),
    "syn-relu-4": dict(_REFERENCE, **_RELU, bits=4, epochs=8000, seeds=50),
    "mnist-bottleneck-2-8": dict(_REFERENCE, **_RELU, dataset="mnist", bits=8, epochs=3000, seeds=20,
                                 widths=networks.PRESETS["mnist-bottleneck-2"]),
}


def preset(name, **overrides):
    """An :class:`ExperimentConfig` from a named preset with ``overrides`` applied."""
    check_choice(name, "preset", set(PRESETS))
    return ExperimentConfig(**{**PRESETS[name], **overrides})


def recorded_epochs(config):
    epochs = list(range(config.mi_every, config.epochs + 1, config.mi_every))
    if not epochs or epochs[-1] != config.epochs:  # mi_every > epochs: the last epoch only
        epochs.append(config.epochs)
    return np.array(epochs, np.int64)


def _empty_records(config, widths, n_eval, h_y):
    epochs = recorded_epochs(config)
    shape = (config.seeds, len(epochs), len(widths))
    records = {name: np.full(shape, np.nan) for name in ("I_XT", "I_TY", "H_T_given_Y")}
    records.update({m: np.full(shape[:2], np.nan) for m in training.METRICS})
    records.update(epoch=epochs, seeds=np.arange(config.seed, config.seed + config.seeds),
                   layer_widths=np.array(widths), n_eval=np.int64(n_eval), H_Y=np.float64(h_y),
                   completed=np.int64(0))
    return records


def load_dataset(config):
    return datasets.load(config.dataset, **config.dataset_options)


def setup(config):
    """Load the data and build the :class:`~qnet.training.Trainer` of a config.

    Returns ``(trainer, eval_labels)``: the labels of the inputs whose codes are counted.
    """
    ds = load_dataset(config)
    train_idx, test_idx = ds.split(config.test_fraction, config.split_seed)
    eval_idx = {"all": None, "train": train_idx, "test": test_idx}[config.eval_set]
    net = config.network(ds.X.shape[1], ds.n_classes)
    trainer = training.Trainer(net, config.training(), ds.X, ds.y, train_idx, test_idx, eval_idx)
    return trainer, (ds.y if eval_idx is None else ds.y[eval_idx])


def _checkpoint(run_dir, state, records, epoch):
    leaves = jax.tree_util.tree_leaves(state)
    io.save_npz(run_dir / "checkpoint.npz", epoch=np.int64(epoch), **{f"leaf{i}": np.asarray(x) for i, x in enumerate(leaves)})
    records["completed"] = np.int64(epoch)
    io.save_npz(run_dir / "records.npz", **records)


def _restore(run_dir, template):
    saved = io.load_npz(run_dir / "checkpoint.npz")
    leaves, treedef = jax.tree_util.tree_flatten(template)
    restored = jax.device_put([saved[f"leaf{i}"] for i in range(len(leaves))])
    return jax.tree_util.tree_unflatten(treedef, restored), int(saved["epoch"])


def run(config, run_dir, resume=False, progress=True, on_epoch=None, plot=True):
    """Run (or, with ``resume=True``, continue) an experiment in ``run_dir``; return the records dict.

    on_epoch(epoch, records) is called after each epoch (for notebooks and tests).
    A KeyboardInterrupt (Ctrl-C; SIGTERM too when called from the CLI) checkpoints the
    finished epochs before it propagates, so ``resume=True`` loses nothing.
    """
    run_dir = Path(run_dir)
    if resume:
        config = ExperimentConfig.from_json(json.loads((run_dir / "config.json").read_text()))
    elif (run_dir / "records.npz").exists():
        raise FileExistsError(f"{run_dir} already holds a run; resume it or choose another directory")
    trainer, eval_labels = setup(config)
    labels = information.encode_labels(eval_labels)
    h_y = information.entropy(eval_labels)

    state = trainer.init()
    records = _empty_records(config, trainer.layer_widths, len(eval_labels), h_y)
    start = 0
    if resume:
        state, start = _restore(run_dir, state)
        saved = io.load_npz(run_dir / "records.npz")
        records.update({k: v for k, v in saved.items() if k in records})
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        io.save_json(run_dir / "config.json", config.to_json())

    row_of = {int(e): i for i, e in enumerate(records["epoch"])}
    # in a log file (not a terminal) the bar is redrawn every 30 s rather than 10 times a second
    bar = tqdm(range(start + 1, config.epochs + 1), initial=start, total=config.epochs,
               desc=f"{config.seeds} seeds", unit="epoch", disable=not progress, smoothing=0.05,
               mininterval=0.1 if sys.stderr.isatty() else 30.0)
    # Counting epoch e (Numba, GIL released) overlaps training epoch e + 1 (XLA).
    counter = ThreadPoolExecutor(max_workers=1)
    last = {"state": state, "epoch": start, "saved": time.monotonic()}

    def finish(epoch, state_after, counting, metrics):
        row = row_of.get(epoch)
        if row is not None:
            if counting is not None:
                plane = counting.result()
                records["I_XT"][:, row] = plane[..., 0]
                records["I_TY"][:, row] = plane[..., 1]
                records["H_T_given_Y"][:, row] = plane[..., 0] - plane[..., 1]
            for m in training.METRICS:
                records[m][:, row] = metrics[m]
        last.update(state=state_after, epoch=epoch)
        if on_epoch is not None:
            on_epoch(epoch, records)
        if time.monotonic() - last["saved"] >= config.checkpoint_seconds:
            _checkpoint(run_dir, state_after, records, epoch)
            last["saved"] = time.monotonic()

    pending = None
    try:
        for epoch in bar:
            state, metrics, codes = trainer.step(state, epoch)
            counting = None
            if codes is not None and epoch in row_of:
                # chain: the codes are successive layers of deterministic networks
                counting = counter.submit(information.information_batch, codes, labels,
                                          layer_widths=trainer.layer_widths, chain=True)
            if pending is not None:
                finish(*pending)
            pending = (epoch, state, counting, metrics)
            bar.set_postfix(acc=f"{np.mean(metrics['test_accuracy']):.3f}", refresh=False)
        if pending is not None:
            finish(*pending)
    except KeyboardInterrupt:
        _checkpoint(run_dir, last["state"], records, last["epoch"])
        raise
    finally:
        bar.close()
        counter.shutdown(wait=True)
    _checkpoint(run_dir, last["state"], records, last["epoch"])
    if plot:
        from qnet import plots

        plots.plot_run(run_dir, records)
    return records


def load_records(run_dir):
    """The records of a run directory (see the module docstring for the keys)."""
    return io.load_npz(Path(run_dir) / "records.npz")


def sigterm_as_keyboard_interrupt():
    """Make SIGTERM behave like Ctrl-C (for the CLI), so a killed run checkpoints first."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def summary(records):
    """A short text summary of a run's final epoch (means over seeds), in bits."""
    last = int(records["completed"])
    rows = np.flatnonzero(records["epoch"] <= last)
    if rows.size == 0:
        return "no epoch completed"
    r = rows[-1]
    lines = [f"epoch {int(records['epoch'][r])}: train acc {np.nanmean(records['train_accuracy'][:, r]):.3f}, "
             f"test acc {np.nanmean(records['test_accuracy'][:, r]):.3f} (mean of {len(records['seeds'])} seeds)",
             f"log2 n = {math.log2(int(records['n_eval'])):.3f} bits, H(Y) = {float(records['H_Y']):.5f} bits"]
    for layer in range(records["I_XT"].shape[2]):
        lines.append(f"  layer {layer + 1} (width {int(records['layer_widths'][layer])}): "
                     f"I(X;T) = {np.nanmean(records['I_XT'][:, r, layer]):.4f}, "
                     f"I(T;Y) = {np.nanmean(records['I_TY'][:, r, layer]):.4f} bits")
    return "\n".join(lines)
