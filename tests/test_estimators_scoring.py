"""Scores on hand-made trajectories whose counts are known, and failures that stay visible."""

import math

import numpy as np
import pytest

from qnet import estimators as E
from qnet.estimators import benchmark, records, report, scoring


def _plane(ixt, ity):
    """(S=1, P, L, 2) from per-layer lists of P values: ixt[l], ity[l]."""
    return np.stack([np.array(ixt, float).T, np.array(ity, float).T], axis=-1)[None]


# exact: layer 1 ends at its maximum, layer 2 compresses by 0.5 bits, layer 3 is flat; DPI holds
EXACT = _plane([[4, 5, 5], [3, 4, 3.5], [2, 2, 2]], [[0.9, 0.9, 0.9], [0.8, 0.8, 0.8], [0.5, 0.5, 0.5]])
LOG2N, H_Y = 6.0, 1.0


def test_compression_errors_are_counted_per_trajectory():
    est = _plane([[4, 5, 4.5],  # claims compression (0.5): false
                  [3, 4, 4],  # no compression: missed
                  [2, 2.05, 2]],  # a 0.05 drop is below the 0.1-bit threshold: right
                 [[0.9] * 3, [0.8] * 3, [0.5] * 3])
    assert scoring.compression_errors(EXACT[..., 0], est[..., 0]) == (1, 1, 0)
    assert scoring.compresses(EXACT[..., 0]).tolist() == [[False, True, False]]
    # a failed estimate makes its trajectory undecided, whatever its stored value
    success = np.ones((1, 3, 3), bool)
    success[0, 1, 0] = False
    assert scoring.compression_errors(EXACT[..., 0], est[..., 0], success) == (0, 1, 1)
    assert scoring.compresses(EXACT[..., 0], threshold=0.6).tolist() == [[False, False, False]]


def test_dpi_violations_count_adjacent_layer_pairs():
    assert scoring.dpi_violations(EXACT) == 0
    est = EXACT.copy()
    est[0, 1, 2, 0] = 4.5  # layer 3 above layer 2 (4) at epoch 2: one violation in I(X;T)
    est[0, 0, 1, 1] = 1.0  # layer 2 above layer 1 (0.9) at epoch 1: one in I(T;Y)...
    est[0, 0, 2, 1] = 1.0  # ...and layer 3 above layer 2? equal (1.0 = 1.0): not a violation
    assert scoring.dpi_violations(est) == 2
    success = np.ones((1, 3, 3), bool)
    success[0, 1, 2] = False  # the failed estimate's pair is not counted
    assert scoring.dpi_violations(est, success) == 1
    est[0, 2, 1, 0] = 5 + 1e-12  # within the tolerance: rounding, not a violation
    assert scoring.dpi_violations(est) == 2


def test_bound_flags():
    est = EXACT.copy()
    est[0, 0, 0, 0] = LOG2N + 0.01  # above log2 n
    est[0, 1, 0, 0] = LOG2N + 1e-9  # within BOUND_TOL: not flagged
    est[0, 2, 0, 1] = H_Y + 0.2  # above H(Y)
    est[0, 0, 2, 1] = -0.3  # negative
    est[0, 1, 2, 0] = -0.1  # negative
    flags = scoring.bound_flags(est, np.ones((1, 3, 3), bool), LOG2N, H_Y)
    assert flags == {"above_log2n": 1, "above_H_Y": 1, "negative": 2}
    success = np.ones((1, 3, 3), bool)
    success[0, 0, 0] = False
    assert scoring.bound_flags(est, success, LOG2N, H_Y)["above_log2n"] == 0


def test_at_ceiling():
    est = EXACT.copy()
    est[0, :, 0, 0] = [7.98, 7.9, 8.0]  # ceiling 8: two within 0.05 bits
    assert scoring.at_ceiling(est, np.ones((1, 3, 3), bool), 8.0) == 2
    assert scoring.at_ceiling(est, np.ones((1, 3, 3), bool), None) == 0


def test_errors_and_penalised_errors():
    est = EXACT + 0.25
    success = np.ones((1, 3, 3), bool)
    success[0, 0, 0] = False
    err = scoring.errors(EXACT, est, success)
    assert np.isnan(err[0, 0, 0]).all() and np.nanmax(np.abs(err - 0.25)) < 1e-12
    pen = scoring.penalised_errors(EXACT, est, success, LOG2N, H_Y)
    # exact (4, 0.9) in [0, 6] x [0, 1]: the worst admissible errors are max(4, 2) and max(0.9, 0.1)
    assert pen[0, 0, 0].tolist() == pytest.approx([4.0, 0.9])
    assert np.isfinite(pen).all()


def test_score_on_a_hand_made_plane():
    est = EXACT.copy()
    est[..., 0] -= 1.0  # every I(X;T) 1 bit low
    est[0, 2, 2, 1] = 0.9  # layer 3's I(T;Y) at epoch 3: 0.4 high, above layer 2's 0.8
    row = scoring.score(EXACT, est, np.ones((1, 3, 3), bool), LOG2N, H_Y)
    assert row["estimates"] == 9 and row["failures"] == 0
    assert row["mae_I_XT"] == pytest.approx(1.0) and row["max_err_I_XT"] == pytest.approx(1.0)
    assert row["mae_I_TY"] == pytest.approx(0.4 / 9) and row["max_err_I_TY"] == pytest.approx(0.4)
    assert row["penalised_mae_I_XT"] == pytest.approx(1.0)
    assert row["mae_I_XT_per_layer"] == pytest.approx([1.0, 1.0, 1.0])
    assert (row["false_compression"], row["missed_compression"]) == (0, 0)
    assert row["dpi_violations"] == 1
    assert row["negative"] == 0


class _Flaky:
    """Exact plus 0.05 bits where it succeeds; fails (ValueError) on the layers where it would be
    far off, the way an estimator may fail exactly where the data are hard."""

    name = "flaky"

    def __call__(self, activations, labels, inputs=None):
        value = float(activations[0, 0])
        if value > 3.2:
            raise ValueError("too many distinct values")
        return value + 0.05, float(activations[0, 1])


class _Steady:
    name = "steady"

    def __call__(self, activations, labels, inputs=None):
        return float(activations[0, 0]) - 0.5, float(activations[0, 1])


def test_a_failing_estimator_shows_up_as_failures_not_as_a_better_score():
    estimators = [_Flaky(), _Steady()]
    # per probe, per layer, activations (S=1, n=1, d=2) carrying the exact values
    stacked = []
    for p in range(3):
        acts = [EXACT[:, p, layer][:, None, :] for layer in range(3)]
        stacked.append(benchmark._estimate(estimators, acts, np.zeros(1, int), None))
    results = {key: np.stack([s[key] for s in stacked], axis=2) for key in stacked[0]}
    assert results["values"].shape == (2, 1, 3, 3, 2)
    flaky_failures = int(np.sum(EXACT[..., 0] > 3.2))  # 5 of the 9 estimates
    assert (~results["success"][0]).sum() == flaky_failures and results["success"][1].all()
    assert np.isnan(results["values"][0][~results["success"][0]]).all()
    rows = benchmark.table_rows(["flaky", "steady"], [None, None], np.ones((2, 3), bool), EXACT, results, None,
                                LOG2N, H_Y)
    flaky, steady = rows
    assert flaky["failures"] == flaky_failures and steady["failures"] == 0
    # over its successes the flaky estimator looks better...
    assert flaky["mae_I_XT"] == pytest.approx(0.05) and steady["mae_I_XT"] == pytest.approx(0.5)
    # ...but the headline score charges its failures, and its compression verdicts are undecided
    assert flaky["penalised_mae_I_XT"] > steady["penalised_mae_I_XT"]
    assert flaky["undecided_compression"] == 2 and steady["undecided_compression"] == 0
    reasons = records.failure_reasons(["flaky", "steady"], results["success"], results["reasons"])
    assert reasons == {"flaky": [("ValueError: too many distinct values", flaky_failures)]}
    table = report.markdown_table(rows, EXACT, reasons)
    assert f"| flaky | 3 | {flaky_failures} / 9 |" in table and "5 x ValueError: too many distinct values" in table
    csv = report.csv_table(rows).splitlines()
    assert csv[0].split(",")[:4] == ["estimator", "probes", "estimates", "failures"]
    assert csv[1].split(",")[:4] == ["flaky", "3", "9", str(flaky_failures)]


def test_an_estimator_failing_everywhere_scores_nan_mae_and_worst_penalty():
    est = np.full_like(EXACT, np.nan)
    row = scoring.score(EXACT, est, np.zeros((1, 3, 3), bool), LOG2N, H_Y)
    assert row["failures"] == 9 and math.isnan(row["mae_I_XT"])
    worst = np.maximum(EXACT[..., 0], LOG2N - EXACT[..., 0]).mean()
    assert row["penalised_mae_I_XT"] == pytest.approx(worst)
    assert row["undecided_compression"] == 3 and row["dpi_violations"] == 0


def test_an_estimator_probed_at_fewer_epochs_is_scored_there_only():
    """The neural estimators run at a few probed epochs: the others are not failures."""
    assert benchmark.spread(8, 3).tolist() == [0, 4, 7] and benchmark.spread(2, 3).tolist() == [0, 1]
    names = ["binning-layer", "infonce"]
    mask = benchmark.probed_mask(E.parse(",".join(names), steps=10), 3, neural_probes=2)
    assert mask.tolist() == [[True, True, True], [True, False, True]]
    values = np.stack([EXACT + 0.1, np.where(mask[1][None, :, None, None], EXACT + 0.2, np.nan)])
    success = np.isfinite(values[..., 0])
    results = {"values": values, "success": success, "seconds": np.ones(success.shape)}
    rows = benchmark.table_rows(names, [None, 0.9], mask, EXACT, results, results, LOG2N, H_Y)
    assert [r["probes"] for r in rows] == [3, 2] and [r["estimates"] for r in rows] == [9, 6]
    assert rows[1]["failures"] == 0 and rows[1]["float_failures"] == 0
    assert rows[1]["mae_I_XT"] == pytest.approx(0.2) and rows[0]["mae_I_XT"] == pytest.approx(0.1)
    # I(T;Y) + 0.2 passes H(Y) = 1 where the exact is 0.9 (layer 1, the 2 probed epochs), and
    # passes InfoNCE's made-up 0.9-bit ceiling there too
    assert rows[1]["above_H_Y"] == 2 and rows[1]["float_above_H_Y"] == 2 and rows[1]["at_ceiling"] >= 2


def test_regime_lines_count_saturated_layers():
    n_states = np.array([[[64, 10], [64, 12]], [[63, 9], [64, 12]]])  # (S=2, P=2, L=2), n = 64
    (line,) = report.regime_lines(n_states, 64)
    assert "layer 1: k = 63..64, saturated 3/4" in line and "layer 2: k = 9..12, saturated 0/4" in line
