"""Speed of the whole pipeline: training + exact MI of every layer at every epoch.

Run: python benchmarks/bench_pipeline.py [--section compare|training|mnist|growth|full|all]

compare   qnet's runner against a re-creation of the reference pipeline's cost (seeds one
          after another, per-epoch codes pulled to NumPy, np.unique counting), same setting,
          same numbers (checked), on a shortened run (--epochs, --seeds).
training  training alone: epochs/s of 50 vmapped seeds against 1 seed.
mnist     the MNIST presets on 70,000 samples: seconds per epoch of `qnet.run` (training, evaluation,
          exact MI of every layer, records; counting overlaps the next epoch's training as in
          every run), mnist-conv with 1 seed, mnist-bottleneck-2 with 1 and 20 seeds, against the
          issue's targets. Uses random 28x28 images when no MNIST files are found (the cost does
          not depend on the pixels).
growth    time per epoch as n, width and number of seeds double.
full      the full study (syn-tanh-8: 8000 epochs, 50 seeds, MI every epoch): wall time, peak memory.
sidebyside the full study with this checkout and with another one (--old PATH, e.g. a git
          worktree of an older commit), each `python -m qnet run --preset syn-tanh-8` in a fresh
          process, one after the other in the same run: wall time and peak memory of both.
All ratios are measured in the same run.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

import qnet
from qnet import compilation_cache, data, experiment, training
from qnet.model import network


def _timed_run(config, run_dir=None):
    """Wall time of ``experiment.run`` and of its part after the first epoch (compilation done)."""
    first = {}

    def on_epoch(epoch, records):
        if epoch == 1:
            first["t"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        records = experiment.run(config, run_dir or tmp, progress=False, plot=False, on_epoch=on_epoch)
        end = time.perf_counter()
    return end - start, end - first["t"], records


def _fresh_process_run(config, run_dir, cache):
    """:func:`_timed_run` in a new Python process with the compilation cache in ``cache``, as
    ``qnet run`` does; the imports (about 2 s) are not timed. Returns (seconds, seconds after
    epoch 1, records)."""
    args = [sys.executable, __file__, "--section", "qnet-run", "--config", json.dumps(config.to_json()),
            "--run-dir", str(run_dir), "--cache", str(cache)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    times = json.loads(out.strip().splitlines()[-1])
    return times["total"], times["steady"], qnet.load_records(run_dir)


def _qnet_run_section(args):
    compilation_cache.enable(args.cache)
    config = experiment.ExperimentConfig.from_json(json.loads(args.config))
    total, steady, _ = _timed_run(config, args.run_dir)
    print(json.dumps({"total": total, "steady": steady}))


# --- the reference study's pipeline, re-created for its cost (ExactIBAnalysisInQNNs, as read) ---
# Per repetition (seed), one after another: train an epoch; then, for every layer, a forward pass
# of all inputs up to that layer, its float activations pulled to NumPy (Keras' K.function per
# layer); the layer re-binned with its own min/max into integers (binning.quantized,
# QuantizedEstimator(bounds="layer")); H(T) by np.unique over rows, and I(T;Y) as H(T) minus the
# class-weighted H(T | Y = y), H(T) counted again (it.entropy, it.mutual_information).
# Training uses qnet's compiled JAX program, far cheaper than the reference's Keras training.

def _ref_entropy(rows):
    _, counts = np.unique(rows, axis=0, return_counts=True)
    p = counts / counts.sum()
    return -np.sum(p * np.log2(p))


def _ref_information(rows, labels):
    classes, sizes = np.unique(labels, return_counts=True)
    h_t_given_y = sum(_ref_entropy(rows[labels == c]) * (size / len(labels)) for c, size in zip(classes, sizes))
    return _ref_entropy(rows), _ref_entropy(rows) - h_t_given_y


def _ref_rebin(values, bits):
    lo, hi = values.min(), values.max()
    if hi == lo:
        hi = lo + 1e-9
    return ((values - lo) * 2**bits / (hi - lo)).round().astype(int)


def reference_pipeline(config):
    """Returns (wall time, wall time without the first epoch (compilation), planes (S, E, L, 2)).

    One compiled program serves every seed (the reference builds and compiles a new Keras
    model per repetition; that cost is left out)."""
    setup = experiment.setup(config.replace(seeds=1))
    trainer, labels = setup.trainer, setup.eval_labels
    n_layers = len(trainer.layer_widths)
    built = trainer.model.built

    def layer_values(layer):
        def values(state):
            params, model_state = jax.tree_util.tree_map(lambda x: x[0], (state.params, state.model_state))
            return network.apply(built, params, model_state, trainer.X).values[layer]
        return jax.jit(values)

    forward = [layer_values(layer) for layer in range(n_layers)]
    seeds, epochs = config.training.seeds, config.training.epochs
    planes = np.zeros((seeds, epochs, n_layers, 2))
    start = time.perf_counter()
    for s in range(seeds):
        one = experiment.setup(config.replace(seeds=1, seed=config.training.seed + s, programs=1)).trainer
        state = one.init()
        for epoch in range(1, epochs + 1):
            state, _, _ = one.step(state, epoch)
            for layer in range(n_layers):
                rows = _ref_rebin(np.asarray(forward[layer](state)), config.network.bits)
                planes[s, epoch - 1, layer] = _ref_information(rows, labels)
            if s == 0 and epoch == 1:
                first_epoch = time.perf_counter() - start
    total = time.perf_counter() - start
    return total, total - first_epoch, planes


def compare(epochs, seeds):
    config = qnet.preset("syn-tanh-8", epochs=epochs, seeds=seeds)
    config = config.replace(programs=training.default_programs(seeds))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # an empty cache: everything is compiled; then a second run finds its programs there,
        # as every later run of the same setting (any seeds, any number of epochs) does
        t_cold, steady_qnet, records = _fresh_process_run(config, tmp / "cold", tmp / "cache")
        t_warm, _, _ = _fresh_process_run(config, tmp / "warm", tmp / "cache")
    t_ref, steady_ref, planes = reference_pipeline(config)
    # a seed trained in a program of another size can differ in the last float bits, which can
    # move a sample across a quantization boundary: report how far the planes are apart
    diff = max(np.abs(planes[..., 0] - records["I_XT"]).max(), np.abs(planes[..., 1] - records["I_TY"]).max())
    # the runner reports epoch e once epoch e + 1 is trained: what follows epoch 1's report is epochs 3..E
    per_qnet = steady_qnet / (epochs - 2) * 1e3
    seeds = config.training.seeds
    per_ref = steady_ref / (epochs - 1 / seeds) * 1e3  # all seed-epochs but the first
    print(f"compare ({epochs} epochs, {seeds} seeds, syn tanh 8-bit, MI of 6 layers every epoch; imports not timed)")
    print(f"  qnet runner, compiling (empty cache):  {t_cold:7.1f} s; {per_qnet:6.1f} ms per epoch after compilation")
    print(f"  qnet runner, programs from the cache:  {t_warm:7.1f} s")
    print(f"  reference-style pipeline:              {t_ref:7.1f} s; {per_ref:6.1f} ms per epoch after compilation "
          f"({per_ref / seeds:.1f} ms per seed-epoch)")
    print(f"  speed-up end to end: {t_ref / t_cold:.1f}x compiling, {t_ref / t_warm:.1f}x with cached programs; "
          f"per epoch after compilation: {per_ref / per_qnet:.1f}x")
    print(f"  largest difference between the two planes: {diff:.2e} bits")


def _epoch_time(trainer, epochs=5, count=True, labels=None):
    state = trainer.init()
    state, _, codes = trainer.step(state, 1)  # compile
    if count:
        qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths, chain=True)
    start = time.perf_counter()
    for epoch in range(2, epochs + 2):
        state, _, codes = trainer.step(state, epoch)
        if count:
            qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths, chain=True)
    return (time.perf_counter() - start) / epochs


def _syn_trainer(seeds, n=4096, width_factor=1, bits=8, programs=None):
    ds = data.synthetic()
    idx = np.random.default_rng(0).permutation(4096)[:n] if n < 4096 else np.arange(4096)
    X, y = ds.X[idx], ds.y[idx]
    train_idx, test_idx = data.stratified_split(y, 0.2, 1000)
    widths = (12,) + tuple(w * width_factor for w in (10, 7, 5, 4, 3)) + (2,)
    net = qnet.Network.from_widths(widths, activation="tanh", bits=bits, weight_bits=None, activation_range="batch",
                                   init="glorot_uniform")
    trainer = training.Trainer(qnet.QuantizedNetwork(net, (12,), 2), training.TrainConfig(seeds=seeds, programs=programs),
                               X, y, train_idx, test_idx)
    return trainer, qnet.encode_labels(y)


def training_speed():
    one = _epoch_time(_syn_trainer(1)[0], epochs=20, count=False)
    single = _epoch_time(_syn_trainer(50, programs=1)[0], epochs=10, count=False)
    split = _syn_trainer(50)[0]
    many = _epoch_time(split, epochs=10, count=False)
    print("training alone (syn tanh 8-bit, batch 256, evaluation and codes included, no MI)")
    print(f"  1 seed: {1 / one:7.1f} epochs/s")
    print(f"  50 seeds, one vmapped program: {1 / single:6.1f} epochs/s = {50 / single:.0f} seed-epochs/s "
          f"({single / one:.1f}x one seed)")
    print(f"  50 seeds, {split.programs} programs side by side: {1 / many:6.1f} epochs/s = {50 / many:.0f} "
          f"seed-epochs/s ({many / one:.1f}x one seed)")


def _mnist_data():
    try:
        return data.mnist(), "MNIST"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        X = rng.integers(0, 256, (70000, 28, 28, 1)).astype(np.float32) / 255
        return data.from_arrays(X, rng.integers(0, 10, 70000), "random-mnist"), "random 28x28 images (no MNIST files found)"


def _run_epoch_seconds(config, ds, epochs=8):
    """Mean seconds between finished epochs of ``qnet.run`` (epochs 3..epochs-1: after compiling,
    before the last, whose counting has no training left to overlap)."""
    stamps = []
    with tempfile.TemporaryDirectory() as tmp:
        qnet.run(config.replace(epochs=epochs), Path(tmp) / "run", progress=False, plot=False, data=ds,
                 on_epoch=lambda epoch, row: stamps.append(time.perf_counter()))
    return float(np.mean(np.diff(stamps[1:-1])))


def mnist():
    ds, source = _mnist_data()
    targets = {("mnist-conv", 1): 1.5, ("mnist-bottleneck-2", 20): 1.2}
    for name, seeds in (("mnist-conv", 1), ("mnist-bottleneck-2", 1), ("mnist-bottleneck-2", 20)):
        config = qnet.preset(name, seeds=seeds)
        t = _run_epoch_seconds(config, ds)
        target = targets.get((name, seeds))
        print(f"{name}, 8 bits, 70,000 samples ({source}), {seeds} seed(s): {t:.2f} s per epoch of qnet.run with "
              f"exact MI of every layer" + (f" (target {target} s)" if target else ""), flush=True)


def growth():
    print("cost growth: ms per epoch (training + evaluation + exact MI of 6 layers), syn tanh 8-bit")
    print(f"  {'setting':<28}{'ms/epoch':>10}")
    for label, kwargs in [("n=1024, width x1, 5 seeds", dict(n=1024, seeds=5)), ("n=2048", dict(n=2048, seeds=5)),
                          ("n=4096", dict(n=4096, seeds=5)), ("width x2 (n=4096)", dict(width_factor=2, seeds=5)),
                          ("width x4", dict(width_factor=4, seeds=5)), ("10 seeds (n=4096)", dict(seeds=10)),
                          ("20 seeds", dict(seeds=20)), ("40 seeds", dict(seeds=40))]:
        trainer, labels = _syn_trainer(**kwargs)
        print(f"  {label:<28}{_epoch_time(trainer, epochs=5, labels=labels) * 1e3:>10.1f}")


def full():
    config = qnet.preset("syn-tanh-8")
    t, _, records = _timed_run(config)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"full study syn-tanh-8 (8000 epochs, 50 seeds, MI of 6 layers every epoch): {t / 60:.1f} min, peak RSS {peak:.0f} MB")


def sidebyside(old):
    """The full study with another checkout and with this one, fresh processes, one after the other."""
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        for label, tree in (("other checkout " + str(old), Path(old).resolve()), ("this checkout", here)):
            env = dict(os.environ, PYTHONPATH=str(tree), QNET_COMPILATION_CACHE="off")
            args = [sys.executable, "-m", "qnet", "run", "--preset", "syn-tanh-8", "--out", str(Path(tmp) / label[:5]),
                    "--no-progress"]
            # a parent of its own per run, so that its children's peak memory is this run's
            probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
                     "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", probe, *args], check=True, env=env, cwd=tmp,
                                 capture_output=True, text=True).stdout
            print(f"full study syn-tanh-8, {label}: {(time.perf_counter() - start) / 60:.2f} min, peak RSS "
                  f"{int(out.split()[-1]) / 1024:.0f} MB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", default="all",
                        choices=["compare", "training", "mnist", "growth", "full", "sidebyside", "all", "qnet-run"])
    parser.add_argument("--old", help="the other checkout of the sidebyside section")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--config", help=argparse.SUPPRESS)  # the qnet-run section, used by compare
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.section == "qnet-run":
        return _qnet_run_section(args)
    print(f"cores: {os.cpu_count()}")
    if args.section in ("compare", "all"):
        compare(args.epochs, args.seeds)
    if args.section in ("training", "all"):
        training_speed()
    if args.section in ("mnist", "all"):
        mnist()
    if args.section in ("growth", "all"):
        growth()
    if args.section == "full":
        full()
    if args.section == "sidebyside":
        sidebyside(args.old)


if __name__ == "__main__":
    main()
