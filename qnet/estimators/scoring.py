"""Scores of estimated information planes against the exact ones: pure functions over arrays.

Shapes: a plane is ``(S, P, L, 2)`` — seeds, probed epochs, layers, (I(X;T), I(T;Y)) in
bits; ``success`` is ``(S, P, L)`` bool (False where the estimate failed; its values are then
ignored, whatever they hold). A failure is never averaged away: mean errors are over the
successful estimates only and come with the failure count, and the headline
``penalised_mae`` charges every failure the largest error an estimate inside the
information bounds could make, so an estimator cannot improve its score by failing.
"""

import numpy as np

COMPRESSION_BITS = 0.1  # a trajectory "compresses" if I(X;T) ends this far below its maximum
BOUND_TOL = 1e-6  # bits an estimate may pass an information bound by before it is flagged
DPI_TOL = 1e-9  # bits a deeper layer may exceed a shallower one by (rounding) before it counts
CEILING_TOL = 0.05  # bits below an estimator's ceiling at which an estimate counts as "at the ceiling"


def _valid(plane, success=None):
    """(S, P, L) bool: successful and both values finite."""
    ok = np.all(np.isfinite(plane), axis=-1)
    return ok if success is None else ok & np.asarray(success, bool)


def errors(exact, est, success=None):
    """(S, P, L, 2) absolute errors |est - exact| in bits, NaN where the estimate failed."""
    err = np.abs(np.asarray(est, float) - np.asarray(exact, float))
    return np.where(_valid(est, success)[..., None], err, np.nan)


def penalised_errors(exact, est, success, log2n, h_y):
    """Absolute errors where a failed estimate counts as the worst admissible one.

    The exact values lie in [0, log2 n] (I(X;T)) and [0, H(Y)] (I(T;Y)); an estimate in the same
    range errs by at most max(exact, bound - exact), the error charged for a failure.
    Returns (S, P, L, 2) bits without NaN (given finite exact values).
    """
    exact = np.asarray(exact, float)
    bound = np.array([log2n, h_y], float)
    worst = np.maximum(exact, bound - exact)
    return np.where(_valid(est, success)[..., None], np.abs(np.asarray(est, float) - exact), worst)


def compresses(ixt, threshold=COMPRESSION_BITS):
    """(S, L) bool: the trajectory's I(X;T) ends more than ``threshold`` bits below its maximum.

    ixt: (S, P, L) bits. A trajectory with a NaN (a failed estimate) is False here; use
    :func:`compression_errors`, which counts it as undecided.
    """
    ixt = np.asarray(ixt, float)
    ok = np.all(np.isfinite(ixt), axis=1)
    drop = np.max(np.where(np.isfinite(ixt), ixt, -np.inf), axis=1) - ixt[:, -1]
    return ok & (drop > threshold)


def compression_errors(exact_ixt, est_ixt, est_success=None, threshold=COMPRESSION_BITS):
    """Counts of (seed, layer) trajectories: ``(false, missed, undecided)``.

    false: the estimate compresses where the exact trajectory does not; missed: the reverse;
    undecided: the estimate failed somewhere along the trajectory (no verdict, not counted
    as right or wrong). exact_ixt, est_ixt: (S, P, L) bits; est_success: (S, P, L) bool or None.
    """
    est_ixt = np.asarray(est_ixt, float)
    if est_success is not None:
        est_ixt = np.where(est_success, est_ixt, np.nan)
    decided = np.all(np.isfinite(est_ixt), axis=1)
    real, claimed = compresses(exact_ixt, threshold), compresses(est_ixt, threshold)
    return (int(np.sum(decided & claimed & ~real)), int(np.sum(decided & ~claimed & real)),
            int(np.sum(~decided)))


def dpi_violations(plane, success=None, tol=DPI_TOL):
    """Count of (seed, epoch, adjacent layer pair, quantity) where the deeper layer holds more
    information than the shallower one by more than ``tol`` bits (the data-processing
    inequality forbids it for the exact values). Pairs with a failed estimate are not counted.
    plane: (S, P, L, 2)."""
    plane = np.asarray(plane, float)
    if success is not None:
        plane = np.where(np.asarray(success, bool)[..., None], plane, np.nan)
    step = np.diff(plane, axis=2)
    return int(np.sum(np.isfinite(step) & (step > tol)))


def bound_flags(est, success, log2n, h_y, tol=BOUND_TOL):
    """Counts of successful estimates outside the information bounds.

    ``above_log2n``: I(X;T) > log2 n + tol (no empirical distribution on n samples has more);
    ``above_H_Y``: I(T;Y) > H(Y) + tol; ``negative``: either value < -tol.
    est: (S, P, L, 2) bits; success: (S, P, L) bool.
    """
    est = np.where(_valid(est, success)[..., None], np.asarray(est, float), np.nan)
    with np.errstate(invalid="ignore"):
        return {"above_log2n": int(np.sum(est[..., 0] > log2n + tol)),
                "above_H_Y": int(np.sum(est[..., 1] > h_y + tol)),
                "negative": int(np.sum(est < -tol))}


def at_ceiling(est, success, ceiling, tol=CEILING_TOL):
    """Count of successful values (either coordinate) within ``tol`` bits of ``ceiling`` or above:
    estimates that say "at least this much" (InfoNCE's log2 of its batch). ceiling None -> 0."""
    if ceiling is None:
        return 0
    est = np.where(_valid(est, success)[..., None], np.asarray(est, float), np.nan)
    with np.errstate(invalid="ignore"):
        return int(np.sum(est >= ceiling - tol))


def _mean(a):
    return float(np.mean(a)) if a.size else float("nan")


def _max(a):
    return float(np.max(a)) if a.size else float("nan")


def score(exact, est, success, log2n, h_y, ceiling=None):
    """Every score of one estimator's plane against the exact one, as a flat dict.

    exact, est: (S, P, L, 2) bits; success: (S, P, L) bool; log2n: log2 of the number of
    evaluation inputs; h_y: H(Y) in bits; ceiling: the estimator's largest possible value
    (bits) or None. MAEs and max errors are over successful estimates (NaN if none);
    ``penalised_mae_*`` over all, failures charged as in :func:`penalised_errors`.
    """
    success = np.asarray(success, bool) & _valid(est)
    err = errors(exact, est, success)
    pen = penalised_errors(exact, est, success, log2n, h_y)
    ok = err[success]  # (n_ok, 2)
    false, missed, undecided = compression_errors(exact[..., 0], est[..., 0], success)
    per_layer = [_mean(err[:, :, layer, 0][success[:, :, layer]]) for layer in range(err.shape[2])]
    return {
        "estimates": int(success.size), "failures": int(np.sum(~success)),
        "mae_I_XT": _mean(ok[:, 0]), "max_err_I_XT": _max(ok[:, 0]),
        "mae_I_TY": _mean(ok[:, 1]), "max_err_I_TY": _max(ok[:, 1]),
        "penalised_mae_I_XT": float(np.mean(pen[..., 0])), "penalised_mae_I_TY": float(np.mean(pen[..., 1])),
        "mae_I_XT_per_layer": per_layer,
        "false_compression": false, "missed_compression": missed, "undecided_compression": undecided,
        "dpi_violations": dpi_violations(est, success),
        **bound_flags(est, success, log2n, h_y),
        "at_ceiling": at_ceiling(est, success, ceiling),
    }


def float_net_score(est, success, log2n=None, h_y=None):
    """Scores of a plane without exact values (the float network): failures, DPI violations,
    compressing trajectories (of the decided ones) and, given log2n and h_y, the bound flags of
    :func:`bound_flags` (prefixed ``float_``). est: (S, P, L, 2); success: (S, P, L)."""
    success = np.asarray(success, bool) & _valid(est)
    ixt = np.where(success, est[..., 0], np.nan)
    out = {"float_failures": int(np.sum(~success)), "float_dpi_violations": dpi_violations(est, success),
           "float_compression": int(np.sum(compresses(ixt)))}
    if log2n is not None and h_y is not None:
        out.update({f"float_{k}": v for k, v in bound_flags(est, success, log2n, h_y).items()})
    return out
