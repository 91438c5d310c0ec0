"""Benchmark the estimators against the exact information plane.

For one experiment config, train the quantized network and, at a few probed
epochs, compute the exact (I(X;T), I(T;Y)) of every layer and seed from the codes
(with the number of distinct codes, the regime: I(X;T) saturates at log2 n when every
input has a code of its own) and every estimator's value from the dequantized
activations (where the truth is known); then train the same architecture without
quantization (the setting of the original studies) and apply the estimators there too.
The neural estimators (0.4-7 s per estimate at n = 4096 on 2 cores, measured) run only at
``neural_probes`` of the probed epochs (3 by default; the tables say at how many).
Every estimate is an :class:`~qnet.estimators.records.Estimate` record: a failure is
recorded (and counted per estimator in the tables), not a crash of the sweep, and never
averaged away. Scores (:mod:`qnet.estimators.scoring`) per estimator: errors against exact
over the successful estimates, a penalised MAE that charges each failure, false/missed
compression, DPI violations and values outside the information bounds.

Given ``reference`` (the exact plane a run recorded at the probed epochs), the re-created
network's exact values must equal it: a mismatch is a RunError at the first probed epoch
that differs (the benchmark would not be of that run).
"""

import math
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from qnet import experiment, information, io
from qnet.estimators import records, registry, report, scoring
from qnet.estimators.registry import NEURAL_PROBES
from qnet.experiment.runner import is_noisy
from qnet.experiment.store import RunError
from qnet.training.trainer import seed_groups

PROBES = 8  # probed epochs of a benchmark, by default (log-spaced)
SEEDS = 2  # seeds benchmarked, by default
REFERENCE_TOL = 1e-9  # bits the re-created exact values may differ from a run's records by


def probe_epochs(epochs, count):
    """``count`` roughly log-spaced epochs in 1..epochs, always including the last."""
    grid = np.unique(np.round(np.geomspace(1, epochs, count)).astype(np.int64))
    return grid if grid[-1] == epochs else np.append(grid, epochs)


def spread(n_probes, count):
    """Indices of ``count`` of ``n_probes`` probed epochs spread over them, first and last
    included (all of them if count is None or >= n_probes): an int64 array."""
    if count is None or count >= n_probes:
        return np.arange(n_probes)
    if count < 1:
        raise ValueError(f"neural_probes must be >= 1, got {count}")
    return np.unique(np.round(np.linspace(0, n_probes - 1, count)).astype(np.int64))


def is_neural(estimator):
    """Whether an estimator trains a critic (MINE, NWJ, InfoNCE): the expensive family."""
    return any(type(estimator) is type(n) for n in registry.neural_estimators(steps=1))


def probed_mask(estimators, n_probes, neural_probes=NEURAL_PROBES):
    """(E, P) bool: which probed epochs each estimator runs at (the neural ones at
    :func:`spread` of them, the others at all)."""
    rows = spread(n_probes, neural_probes)
    mask = np.ones((len(estimators), n_probes), bool)
    for e, est in enumerate(estimators):
        if is_neural(est):
            mask[e] = np.isin(np.arange(n_probes), rows)
    return mask


def _estimate(estimators, acts, labels, inputs):
    """Records for per-layer activations acts[l]: (S, n, d_l), stacked by :func:`records.stack`
    into arrays of shape (E, S, L) (values (E, S, L, 2))."""
    return records.stack([[[records.estimate(est, a[s], labels, inputs) for a in acts]
                           for s in range(acts[0].shape[0])] for est in estimators])


def _empty_results(n_estimators, seeds, n_probes, n_layers):
    shape = (n_estimators, seeds, n_probes, n_layers)
    return {"values": np.full(shape + (2,), np.nan), "success": np.zeros(shape, bool),
            "seconds": np.zeros(shape), "reasons": np.full(shape, "", dtype=object)}


def _check_reference(plane, reference, epoch):
    """RunError unless the re-created exact plane (S, L, 2) equals the recorded one; where
    the records are NaN (a diverged seed) ``plane`` is set to NaN too, in place."""
    diff = np.abs(plane - reference)
    # a seed that diverged is NaN in the records from then on: not compared (and not scored)
    plane[np.isnan(reference)] = np.nan
    if not np.all((diff <= REFERENCE_TOL) | np.isnan(reference)):
        seed, layer, q = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(diff), diff, np.inf))), diff.shape)
        raise RunError(f"the re-created network differs from the run's records at epoch {epoch}: "
                       f"{('I_XT', 'I_TY')[q]} of seed index {seed}, layer {layer + 1} is {plane[seed, layer, q]:.9f} "
                       f"bits, recorded {reference[seed, layer, q]:.9f}; not benchmarking a different network")


def _same_groups(config, kept):
    """``config`` with the fewest seeds that hold its first ``kept`` in seed groups of the size
    they were trained in (a seed's last float bits depend on the size of its group's program,
    and the benchmark must reproduce a run's numbers exactly); unpinned programs: ``kept`` seeds."""
    programs, seeds = config.training.programs, config.training.seeds
    if programs is None:
        return config.replace(seeds=kept)
    size = seed_groups(seeds, programs)[0]
    trained = min(seeds, -(-kept // size) * size)
    return config.replace(seeds=trained, programs=programs if trained == seeds else trained // size)


def _trajectories(config, probes, estimators, probed, with_exact, progress, label, reference=None, kept=None,
                  run_dir=None):
    """Train ``config`` and estimate at the ``probes`` epochs (estimator e only where
    ``probed[e]``), for its first ``kept`` seeds (None: all). Returns ``(exact, n_states,
    results, log2n, h_y)``: exact (S, P, L, 2) bits and n_states (S, P, L) distinct codes
    (NaN / 0 unless with_exact); results a dict of
    ``values`` (E, S, P, L, 2), ``success``, ``seconds``, ``reasons`` (E, S, P, L)."""
    setup = experiment.setup(config, run_dir=run_dir)
    trainer, labels = setup.trainer, setup.eval_labels
    if is_noisy(trainer.model):
        raise ValueError("the estimator benchmark scores estimators against the exact plane of deterministic "
                         "codes; this network has noise layers (its exact plane sums over the noise): not supported")
    inputs = trainer.eval_inputs.reshape(len(labels), -1)
    state = trainer.init()
    n_l = len(trainer.activations(state))
    seeds = config.training.seeds if kept is None else kept
    exact = np.full((seeds, len(probes), n_l, 2), np.nan)
    n_states = np.zeros((seeds, len(probes), n_l), np.int64)
    results = _empty_results(len(estimators), seeds, len(probes), n_l)
    encoded = information.encode_labels(labels)
    row = {int(e): i for i, e in enumerate(probes)}
    for epoch in tqdm(range(1, int(probes[-1]) + 1), desc=label, unit="epoch", disable=not progress):
        state, _, codes = trainer.step(state, epoch, prefit=epoch <= config.training.prefit_epochs)
        if epoch in row:
            p = row[epoch]
            if with_exact:
                exact[:, p], n_states[:, p] = information.information_batch(
                    codes[:seeds], encoded, layer_widths=trainer.layer_widths, chain=True, return_counts=True)
                if reference is not None:
                    _check_reference(exact[:, p], reference[:, p], epoch)
            chosen = [e for e in range(len(estimators)) if probed[e, p]]
            if chosen:
                acts = [a[:seeds] for a in trainer.activations(state)]
                found = _estimate([estimators[e] for e in chosen], acts, labels, inputs)
                for key, value in found.items():
                    results[key][chosen, :, p] = value
    results["reasons"] = results["reasons"].astype(str)
    return exact, n_states, results, math.log2(len(labels)), information.entropy(labels)


def _ceiling(estimator, n):
    ceiling = getattr(estimator, "ceiling_bits", None)
    return ceiling(n) if ceiling is not None else None


def table_rows(names, ceilings, probed, exact, quantized, float_net, log2n, h_y):
    """One dict of scores per estimator (see :func:`qnet.estimators.scoring.score`) over the
    epochs it was probed at, plus its float-net scores, mean seconds per estimate and the
    number of probed epochs. names (E,); ceilings: (E,) bits or None; probed: (E, P) bool;
    quantized, float_net: results dicts as :func:`_trajectories` returns (float_net may be None)."""
    rows = []
    for e, name in enumerate(names):
        at = np.flatnonzero(probed[e])
        pick = lambda a: a[e][:, at]  # noqa: E731  (S, P_e, L...)
        row = {"estimator": name, "probes": int(at.size),
               **scoring.score(exact[:, at], pick(quantized["values"]), pick(quantized["success"]), log2n, h_y,
                               ceilings[e])}
        row["seconds_mean"] = float(np.mean(pick(quantized["seconds"])))
        if float_net is not None:
            row.update(scoring.float_net_score(pick(float_net["values"]), pick(float_net["success"]), log2n, h_y))
        rows.append(row)
    return rows


def write_reports(out_dir, saved, title=""):
    """Tables (estimators.csv, .md) and figure (estimators_plane.png) from the arrays of an
    estimators.npz (as :func:`run_benchmark` saves them); returns the paths written."""
    out_dir = Path(out_dir)
    names = [str(n) for n in saved["names"]]
    ceilings = [None if math.isnan(c) else float(c) for c in saved["ceilings"]]
    log2n, h_y = float(saved["log2n"]), float(saved["H_Y"])
    nets = {net: {key: saved[net + ("" if key == "values" else "_" + key)]
                  for key in ("values", "success", "seconds", "reasons")}
            for net in ("quantized", "float") if net in saved}
    rows = table_rows(names, ceilings, saved["probed"], saved["exact"], nets["quantized"], nets.get("float"),
                      log2n, h_y)
    probed = np.asarray(saved["probed"], bool)[:, None, :, None]  # (E, 1, P, 1): estimates not made are no failures
    failures = records.failure_reasons(names, nets["quantized"]["success"] | ~probed, nets["quantized"]["reasons"])
    paths = [out_dir / "estimators.csv", out_dir / "estimators.md", out_dir / "estimators_plane.png"]
    io.save_text(paths[0], report.csv_table(rows))
    io.save_text(paths[1], report.markdown_table(rows, saved["exact"], failures, n_states=saved["n_states"],
                                                 probes=saved["probes"], log2n=log2n, h_y=h_y, title=title))
    report.plot_planes(paths[2], saved["probes"], saved["exact"], nets, names, saved["probed"], log2n, h_y, title,
                       saved["n_states"])
    return paths


SHARED = ("probes", "exact", "n_states", "log2n", "H_Y")  # what benchmarks of one network have in common


def merge_results(*saved):
    """One results dict (as estimators.npz holds) from benchmarks of the same network (same
    config, seeds and probed epochs) with different estimators, e.g. the classic and the
    neural families run apart: the estimators side by side, in the order given.

    Raises ValueError if their probed epochs, exact values or bounds differ (not the same
    network), if an estimator name appears twice, or if some have the float net and others not.
    """
    if not saved:
        raise ValueError("merge_results needs at least one results dict")
    first = saved[0]
    for other in saved[1:]:
        for key in SHARED:
            if not np.array_equal(first[key], other[key], equal_nan=True):
                raise ValueError(f"results differ in {key!r}: not benchmarks of the same network")
    names = np.concatenate([s["names"] for s in saved])
    if len(set(names.tolist())) < len(names):
        raise ValueError(f"an estimator appears in more than one of the results: {names.tolist()}")
    nets = [net for net in ("quantized", "float") if net in first]
    if any(("float" in s) != ("float" in first) for s in saved):
        raise ValueError("some results have the float net and others not")
    stacked = ["names", "ceilings", "probed"] + [net + suffix for net in nets
                                                  for suffix in ("", "_success", "_seconds", "_reasons")]
    return {**{key: first[key] for key in SHARED}, **{key: np.concatenate([s[key] for s in saved]) for key in stacked}}


def run_benchmark(config, out_dir, estimators=None, probes=PROBES, seeds=SEEDS, progress=True,
                  neural_probes=NEURAL_PROBES, reference=None, title="", float_net=True, run_dir=None):
    """Benchmark ``estimators`` on ``config`` (its first ``seeds`` seeds) at ``probes`` epochs.

    estimators: estimator objects, or names as ``qnet.estimators.parse`` reads them
    ("mixed-ksg,binning-layer-mm"); default :func:`qnet.estimators.default_estimators`.
    probes: a count of log-spaced epochs (:func:`probe_epochs`) or the epochs themselves
    (increasing, in 1..total epochs); neural_probes: how many of them the neural estimators
    run at (None: all). reference: None or the exact plane (S, P, L, 2) a run recorded at
    those epochs, which the re-created network must reproduce (else RunError). float_net:
    also train and estimate the float version of the net (False: the quantized net only).
    run_dir: the run folder ``config`` comes from, if any (where a run on its own arrays keeps
    its ``data.npz``).
    Writes estimators.npz (values, success, seconds and failure reasons of every estimate,
    exact values and distinct-code counts, probed epochs per estimator) and the reports of
    :func:`write_reports` into ``out_dir``; returns the paths written.
    """
    if estimators is None:
        estimators = registry.default_estimators()
    elif isinstance(estimators, str):
        estimators = registry.parse(estimators)
    estimators = list(estimators)
    if not estimators:
        raise ValueError("estimators is empty")
    kept = min(seeds, config.training.seeds)
    config = _same_groups(config, kept)
    total = config.training.total_epochs
    if np.ndim(probes) == 0:
        probes = probe_epochs(total, int(probes))
    else:
        probes = np.asarray(probes, np.int64)
        if probes.size == 0 or np.any(np.diff(probes) <= 0) or probes[0] < 1 or probes[-1] > total:
            raise ValueError(f"probes must be increasing epochs in 1..{total}, got {probes.tolist()}")
    probed = probed_mask(estimators, len(probes), neural_probes)
    if reference is not None:
        reference = np.asarray(reference, float)[:kept]
    exact, n_states, quantized, log2n, h_y = _trajectories(config, probes, estimators, probed, True, progress,
                                                           "quantized", reference, kept, run_dir)
    nets = [("quantized", quantized)]
    if float_net:
        float_config = config.replace(bits=None, weight_bits=None)
        nets.append(("float", _trajectories(float_config, probes, estimators, probed, False, progress, "float",
                                            kept=kept, run_dir=run_dir)[2]))
    n = int(round(2 ** log2n))
    saved = {"probes": probes, "exact": exact, "n_states": n_states, "names": np.array([e.name for e in estimators]),
             "ceilings": np.array([np.nan if (c := _ceiling(e, n)) is None else c for e in estimators], float),
             "probed": probed, "log2n": np.float64(log2n), "H_Y": np.float64(h_y),
             **{f"{net}{'' if key == 'values' else '_' + key}": value
                for net, results in nets
                for key, value in results.items()}}
    out_dir = Path(out_dir)
    io.save_npz(out_dir / "estimators.npz", **saved)
    return [out_dir / "estimators.npz"] + write_reports(out_dir, saved, title)
