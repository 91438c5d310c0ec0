"""The reference study (Lorenzen, Igel & Nielsen, "Information Bottleneck: Exact Analysis of
(Quantized) Neural Networks", ICLR 2022) as one built-in sweep, from the presets.

SYN: tanh and ReLU at 4 and 8 bits (50 seeds, 8000 epochs); the same nets with float
activations (ReLU: float weights too) measured by binning into 30, 100 and 256 bins (estimates,
labelled so); prefit (20 seeds, 1000 epochs on permuted labels first); the five MNIST networks
when the MNIST IDX files are found.
"""

from pathlib import Path

from qnet.experiment import preset
from qnet.sweep.spec import DEFAULT_PROGRAMS

STUDIES = ("lorenzen2022",)
BINS = (30, 100, 256)
# CPU seconds per seed and epoch of the SYN nets (exact plane or binning every epoch, one program
# per run): the whole SYN catalogue here, 2,760,000 seed-epochs in 5,539 s of CPU (50 min wall on
# 2 cores, 2 runs at once)
SEED_EPOCH_SECONDS = 0.0020
# CPU seconds of a run's start (process, imports, compiling its programs): bench_sweep.py, 4 runs of
# 4 seeds x 200 epochs took 38.2 s of CPU, of which 3,200 seed-epochs x 3.9 ms (small programs) = 12.5 s
RUN_OVERHEAD_SECONDS = 6.5
MNIST_FACTOR = 70_000 / 4096  # an MNIST seed-epoch counts ~17x more inputs (a rough guess, not measured)

_SYN = [
    ("syn-tanh-8", "syn-tanh-8", {}),
    ("syn-relu-8", "syn-relu-8", {}),
    ("syn-tanh-4", "syn-tanh-4", {}),
    ("syn-relu-4", "syn-relu-4", {}),
    ("syn-tanh-float-binned", "syn-tanh-8", {"bits": None, "binning": list(BINS)}),
    ("syn-relu-float-binned", "syn-relu-8", {"bits": None, "weight_bits": None, "binning": list(BINS)}),
    ("syn-tanh-8-prefit", "syn-tanh-8-prefit", {}),
    ("syn-relu-8-prefit", "syn-relu-8-prefit", {}),
]
_MNIST = ["mnist-bottleneck-2", "mnist-bottleneck-4", "mnist-hourglass", "mnist-4x10", "mnist-conv"]


def mnist_found(data_dir=None):
    """Whether the four MNIST IDX files are in ``data_dir`` (default: where qnet looks)."""
    from qnet.data import MNIST_FILES, _find, mnist_directory

    directory = Path(data_dir) if data_dir is not None else mnist_directory()
    try:
        for pair in MNIST_FILES.values():
            for stem in pair:
                _find(directory, stem)
    except FileNotFoundError:
        return False
    return True


def catalogue(study="lorenzen2022", epochs=None, seeds=None, data_dir=None, log=print):
    """The plan of a built-in study: ``(name, settings, config)`` triples. epochs, seeds: override
    every run's (prefit runs keep their share: ``prefit_epochs = epochs // 8``)."""
    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}; built-in studies: {list(STUDIES)}")
    entries = [(name, p, dict(o)) for name, p, o in _SYN]
    if mnist_found(data_dir):
        options = {} if data_dir is None else {"dataset_options": {"directory": str(Path(data_dir).resolve())}}
        entries += [(name, name, dict(options)) for name in _MNIST]
    else:
        where = data_dir or "the default MNIST folder ($QNET_DATA/mnist or ~/.cache/qnet/mnist)"
        log(f"MNIST IDX files not found in {where}: the five MNIST networks are skipped (give --data-dir)")
    plan = []
    for name, preset_name, overrides in entries:
        config = preset(preset_name, programs=DEFAULT_PROGRAMS, **overrides)
        changes = {}
        if seeds is not None:
            changes["seeds"] = seeds
        if epochs is not None:
            changes["epochs"] = epochs
            if config.training.prefit_epochs:
                changes["prefit_epochs"] = max(1, epochs // 8)
        config = config.replace(**changes)
        plan.append((name, {"preset": preset_name, **{k: v for k, v in overrides.items() if k != "dataset_options"}},
                     config))
    return plan


def cost(plan, workers):
    """``(seed_epochs, estimated wall seconds)`` of a plan on ``workers`` cores."""
    seed_epochs, seconds = 0, 0.0
    for _, _, config in plan:
        n = config.training.seeds * config.training.total_epochs
        seed_epochs += n
        seconds += RUN_OVERHEAD_SECONDS + n * SEED_EPOCH_SECONDS * (MNIST_FACTOR if config.data.dataset == "mnist" else 1.0)
    return seed_epochs, seconds / max(1, workers)


def describe(plan, workers):
    """The plan and its cost as text."""
    seed_epochs, seconds = cost(plan, workers)
    wall = f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"
    lines = [f"{len(plan)} runs, {seed_epochs:,} seed-epochs; estimated wall time {wall} on {workers} cores "
             f"({SEED_EPOCH_SECONDS * 1e3:.1f} ms of CPU per SYN seed-epoch and {RUN_OVERHEAD_SECONDS:.1f} s per run, "
             f"measured; MNIST scaled by its {MNIST_FACTOR:.0f}x inputs, a guess)"]
    for name, _, c in plan:
        lines.append(f"  {name}: {c.training.seeds} seeds x {c.training.total_epochs} epochs")
    return "\n".join(lines)


def summary_table(sweep_dir, plan):
    """A Markdown table of the last recorded epoch of every run (means over seeds and, for the
    information, per layer): accuracies, exact I(X;T) and I(T;Y) of the last layer before the
    output, and the binning estimates where a run has them. Returns the text."""
    from qnet.experiment import load_records
    import numpy as np

    lines = ["| run | seeds | epochs | train acc | test acc | I(X;T) [bits] | I(T;Y) [bits] | layer |",
             "|---|---|---|---|---|---|---|---|"]
    for name, _, _ in plan:
        path = Path(sweep_dir) / name
        if not (path / "manifest.json").exists():
            lines.append(f"| {name} | - | - | not run | | | | |")
            continue
        r = load_records(path, verify=False)
        if not len(r["epoch"]):
            lines.append(f"| {name} | - | 0 | no epoch yet | | | | |")
            continue
        alive = r["diverged_epoch"] == 0
        acc = [np.nanmean(r[k][alive, -1]) for k in ("train_accuracy", "test_accuracy")]
        if r["I_XT"].shape[2] >= 2:
            layer, ixt, ity, label = -2, r["I_XT"], r["I_TY"], "exact"
            names = r["layer_names"]
        elif "binned_I_XT" in r:
            layer, ixt, ity = -2, r["binned_I_XT"][..., 0], r["binned_I_TY"][..., 0]
            names, label = r["value_names"], f"estimate ({int(r['binning'][0])} bins)"
        else:
            lines.append(f"| {name} | {alive.sum()} | {int(r['epoch'][-1])} | {acc[0]:.3f} | {acc[1]:.3f} | | | |")
            continue
        lines.append(f"| {name} | {alive.sum()} | {int(r['epoch'][-1])} | {acc[0]:.3f} | {acc[1]:.3f} | "
                     f"{np.nanmean(ixt[alive, -1, layer]):.3f} {label} | {np.nanmean(ity[alive, -1, layer]):.3f} {label} "
                     f"| {names[layer]} |")
    return "\n".join(lines)
