"""Benchmark the estimators against the exact information plane.

For one experiment config, train the quantized network and, at a few probed
epochs, compute the exact (I(X;T), I(T;Y)) of every layer and seed from the codes
and every estimator's value from the dequantized activations (where the truth is
known); then train the same architecture without quantization (the setting of the
original studies) and apply the estimators there too. Every estimate is an
:class:`~qnet.estimators.records.Estimate` record: a failure is recorded (and counted
per estimator in the tables), not a crash of the sweep, and never averaged away.
Scores (:mod:`qnet.estimators.scoring`) per estimator: errors against exact over the
successful estimates, a penalised MAE that charges each failure, false/missed
compression, DPI violations and values outside the information bounds.
"""

import math
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from qnet import experiment, information, io
from qnet.estimators import records, registry, report, scoring


def probe_epochs(epochs, count):
    """``count`` roughly log-spaced epochs in 1..epochs, always including the last."""
    grid = np.unique(np.round(np.geomspace(1, epochs, count)).astype(np.int64))
    return grid if grid[-1] == epochs else np.append(grid, epochs)


def _estimate(estimators, acts, labels, inputs):
    """Records for per-layer activations acts[l]: (S, n, d_l), stacked by :func:`records.stack`
    into arrays of shape (E, S, L) (values (E, S, L, 2))."""
    return records.stack([[[records.estimate(est, a[s], labels, inputs) for a in acts]
                           for s in range(acts[0].shape[0])] for est in estimators])


def _empty_results(n_estimators, seeds, n_probes, n_layers):
    shape = (n_estimators, seeds, n_probes, n_layers)
    return {"values": np.full(shape + (2,), np.nan), "success": np.zeros(shape, bool),
            "seconds": np.zeros(shape), "reasons": np.full(shape, "", dtype=object)}


def _trajectories(config, probes, estimators, with_exact, progress, label):
    """Train ``config`` and estimate at the ``probes`` epochs. Returns ``(exact, results,
    log2n, h_y)``: exact (S, P, L, 2) bits (NaN unless with_exact); results a dict of
    ``values`` (E, S, P, L, 2), ``success``, ``seconds``, ``reasons`` (E, S, P, L)."""
    setup = experiment.setup(config)
    trainer, labels = setup.trainer, setup.eval_labels
    inputs = trainer.eval_inputs.reshape(len(labels), -1)
    state = trainer.init()
    n_l = len(trainer.activations(state))
    seeds = config.training.seeds
    exact = np.full((seeds, len(probes), n_l, 2), np.nan)
    results = _empty_results(len(estimators), seeds, len(probes), n_l)
    encoded = information.encode_labels(labels)
    row = {int(e): i for i, e in enumerate(probes)}
    for epoch in tqdm(range(1, int(probes[-1]) + 1), desc=label, unit="epoch", disable=not progress):
        state, _, codes = trainer.step(state, epoch, prefit=epoch <= config.training.prefit_epochs)
        if epoch in row:
            if with_exact:
                exact[:, row[epoch]] = information.information_batch(codes, encoded, layer_widths=trainer.layer_widths,
                                                                     chain=True)
            for key, value in _estimate(estimators, trainer.activations(state), labels, inputs).items():
                results[key][:, :, row[epoch]] = value
    results["reasons"] = results["reasons"].astype(str)
    return exact, results, math.log2(len(labels)), information.entropy(labels)


def _ceiling(estimator, n):
    ceiling = getattr(estimator, "ceiling_bits", None)
    return ceiling(n) if ceiling is not None else None


def table_rows(estimators, exact, quantized, float_net, log2n, h_y):
    """One dict of scores per estimator (see :func:`qnet.estimators.scoring.score`), plus its
    float-net scores and mean seconds per estimate. quantized, float_net: results dicts as
    :func:`_trajectories` returns (float_net may be None)."""
    n = int(round(2 ** log2n))
    rows = []
    for e, est in enumerate(estimators):
        row = {"estimator": est.name,
               **scoring.score(exact, quantized["values"][e], quantized["success"][e], log2n, h_y, _ceiling(est, n))}
        row["seconds_mean"] = float(np.mean(quantized["seconds"][e]))
        if float_net is not None:
            row.update(scoring.float_net_score(float_net["values"][e], float_net["success"][e]))
        rows.append(row)
    return rows


def run_benchmark(config, out_dir, estimators=None, probes=8, seeds=2, progress=True):
    """Benchmark ``estimators`` on ``config`` (its first ``seeds`` seeds, ``probes`` probed epochs).

    estimators: estimator objects, or names as ``qnet.estimators.parse`` reads them
    ("mixed-ksg,binning-layer-mm"); default :func:`qnet.estimators.default_estimators`.
    Writes estimators.csv, estimators.md, estimators.npz (values, success, seconds and
    failure reasons of every estimate) and estimators_plane.png into ``out_dir``; returns
    the table rows (dicts of scores, see :func:`table_rows`).
    """
    if estimators is None:
        estimators = registry.default_estimators()
    elif isinstance(estimators, str):
        estimators = registry.parse(estimators)
    estimators = list(estimators)
    config = config.replace(seeds=min(seeds, config.training.seeds))
    probes = probe_epochs(config.training.total_epochs, probes)
    exact, quantized, log2n, h_y = _trajectories(config, probes, estimators, True, progress, "quantized")
    float_config = config.replace(bits=None, weight_bits=None)
    _, float_net, _, _ = _trajectories(float_config, probes, estimators, False, progress, "float")
    rows = table_rows(estimators, exact, quantized, float_net, log2n, h_y)
    names = [e.name for e in estimators]
    out_dir = Path(out_dir)
    io.save_npz(out_dir / "estimators.npz", probes=probes, exact=exact, names=np.array(names),
                log2n=np.float64(log2n), H_Y=np.float64(h_y),
                **{f"{net}{'' if key == 'values' else '_' + key}": value
                   for net, results in (("quantized", quantized), ("float", float_net))
                   for key, value in results.items()})
    failures = records.failure_reasons(names, quantized["success"], quantized["reasons"])
    io.save_text(out_dir / "estimators.csv", report.csv_table(rows))
    io.save_text(out_dir / "estimators.md", report.markdown_table(rows, exact, failures))
    report.plot_planes(out_dir / "estimators_plane.png", probes, exact, quantized, names, log2n, h_y)
    return rows
