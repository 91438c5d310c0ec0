"""One result record per estimate: a failed estimate is a record, not a crash of the sweep.

``estimate(estimator, activations, labels, inputs)`` times one call of an estimator and
returns an :class:`Estimate`; :func:`stack` turns a nested list of records into arrays
for scoring and saving.
"""

import math
import time
from dataclasses import dataclass

import jax
import numpy as np

#: Exceptions recorded as a failed estimate (``success=False``, the message as ``reason``):
#: bad or degenerate data (ValueError, LinAlgError), overflow or division (ArithmeticError,
#: which includes FloatingPointError), out of memory (MemoryError; XLA reports it, and other
#: failures of a compiled program, as a JaxRuntimeError). Anything else — a TypeError (the
#: wrong kind of argument), NotImplementedError — is a bug, and propagates.
RECORDED_FAILURES = (ValueError, ArithmeticError, MemoryError, np.linalg.LinAlgError, jax.errors.JaxRuntimeError)


@dataclass(frozen=True)
class Estimate:
    """One estimate of a layer's information-plane point.

    estimator: the estimator's ``name``; I_XT, I_TY: the estimates in bits (NaN when the
    estimate failed); success: whether both are finite numbers the estimator returned;
    reason: why it failed ("" on success); seconds: wall-clock time of the call.
    """

    estimator: str
    I_XT: float
    I_TY: float
    success: bool
    reason: str = ""
    seconds: float = 0.0


def estimate(estimator, activations, labels, inputs=None):
    """Run ``estimator(activations, labels, inputs)`` once and record the result.

    activations: (n, d) values of a layer; labels: (n,); inputs: (n, d_x) or None.
    Any of :data:`RECORDED_FAILURES`, and a result that is not two finite numbers, give
    ``success=False`` with the exception (or the values) as ``reason``; the values are then NaN.
    """
    name = estimator.name
    start = time.perf_counter()
    try:
        i_xt, i_ty = estimator(activations, labels, inputs)
        i_xt, i_ty = float(i_xt), float(i_ty)
    except RECORDED_FAILURES as error:
        return Estimate(name, math.nan, math.nan, False, f"{type(error).__name__}: {error}",
                        time.perf_counter() - start)
    seconds = time.perf_counter() - start
    if not (math.isfinite(i_xt) and math.isfinite(i_ty)):
        return Estimate(name, math.nan, math.nan, False, f"non-finite result (I_XT={i_xt}, I_TY={i_ty})", seconds)
    return Estimate(name, i_xt, i_ty, True, "", seconds)


def stack(records):
    """Arrays of a nested list of :class:`Estimate` records with shape ``shape``.

    Returns a dict: ``values`` (*shape, 2) float64 bits (NaN where failed), ``success``
    (*shape) bool, ``seconds`` (*shape) float64 and ``reasons`` (*shape) str.
    """
    flat, shape = _flatten(records)
    if not flat:
        raise ValueError("records is empty")
    return {
        "values": np.array([(r.I_XT, r.I_TY) for r in flat], np.float64).reshape(shape + (2,)),
        "success": np.array([r.success for r in flat], bool).reshape(shape),
        "seconds": np.array([r.seconds for r in flat], np.float64).reshape(shape),
        "reasons": np.array([r.reason for r in flat], str).reshape(shape),
    }


def _flatten(records):
    if isinstance(records, Estimate):
        return [records], ()
    items = [_flatten(r) for r in records]
    shapes = {s for _, s in items}
    if len(shapes) > 1:
        raise ValueError(f"records is ragged: sub-lists of shapes {sorted(shapes)}")
    inner = shapes.pop() if shapes else ()
    return [r for flat, _ in items for r in flat], (len(items),) + inner


def failure_reasons(names, success, reasons, limit=3):
    """Per estimator name, up to ``limit`` distinct failure reasons with their counts:
    ``{name: [(reason, count), ...]}``; success, reasons: (E, ...) arrays (only failures kept)."""
    out = {}
    for e, name in enumerate(names):
        failed = reasons[e][~success[e]]
        if failed.size:
            distinct, counts = np.unique(failed, return_counts=True)
            order = np.argsort(-counts, kind="stable")[:limit]
            out[name] = [(str(distinct[i]), int(counts[i])) for i in order]
    return out
