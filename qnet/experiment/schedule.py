"""Which epochs are measured (or have their codes saved): ``every:N``, ``log:K``, a list, ``none``.

``every:N`` is epoch 1, every N-th epoch and the last one (the start of the fitting phase is
never skipped); ``log:K`` is K epochs spaced evenly in log(epoch), the first and the last
included (fewer where they round to the same epoch); a list names the epochs. Nothing is
preallocated: a schedule answers membership and counts without listing a long run's epochs.
"""

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """Epochs 1..total picked by ``every`` (an int) or by an explicit sorted ``epochs`` tuple."""

    total: int
    every: int | None = None
    epochs: tuple = ()

    def __contains__(self, epoch):
        if self.every is not None:
            return 1 <= epoch <= self.total and (epoch == 1 or epoch % self.every == 0 or epoch == self.total)
        return epoch in self._set

    @property
    def _set(self):
        return frozenset(self.epochs)

    def count(self, up_to=None):
        """How many scheduled epochs are <= ``up_to`` (default: all)."""
        last = self.total if up_to is None else min(up_to, self.total)
        if last < 1:
            return 0
        if self.every is None:
            return int(np.searchsorted(np.asarray(self.epochs, np.int64), last, side="right"))
        n = 1 + last // self.every - (self.every == 1)  # epoch 1, then the multiples (1 itself if every == 1)
        return n + (last == self.total and self.total % self.every != 0 and self.total != 1)

    def listing(self):
        """All scheduled epochs as an int64 array (for short schedules and tests)."""
        if self.every is None:
            return np.asarray(self.epochs, np.int64)
        return np.array([e for e in range(1, self.total + 1) if e in self], np.int64)


def _fail(name, spec, why):
    raise ValueError(f"{name} {spec!r}: {why}; expected 'every:N', 'log:K', a list of epochs or 'none'")


def parse_schedule(spec, total, name="mi_epochs"):
    """A :class:`Schedule` of the epochs 1..total from its spec (see the module docstring).
    With ``total=None`` only the form of the spec is checked (and ``None`` returned)."""
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text == "none":
            return None if total is None else Schedule(total, epochs=())
        kind, sep, value = text.partition(":")
        if not sep or kind not in ("every", "log") or not value.isdigit() or int(value) < 1:
            _fail(name, spec, "not a schedule")
        k = int(value)
        if total is None:
            return None
        if kind == "every":
            return Schedule(total, every=k)
        if k == 1:
            return Schedule(total, epochs=(total,))
        grid = np.unique(np.round(np.geomspace(1, total, k)).astype(np.int64)) if total > 1 else np.array([1])
        return Schedule(total, epochs=tuple(int(e) for e in grid))
    if isinstance(spec, (list, tuple)):
        if any(isinstance(e, bool) or not isinstance(e, numbers.Integral) for e in spec):
            _fail(name, spec, "epochs must be integers")
        epochs = sorted({int(e) for e in spec})
        if epochs and (epochs[0] < 1 or (total is not None and epochs[-1] > total)):
            _fail(name, spec, f"epochs must lie in 1..{total or 'the last epoch'} (the run's length)")
        return None if total is None else Schedule(total, epochs=tuple(epochs))
    _fail(name, spec, f"a {type(spec).__name__}")


def describe(schedule):
    if schedule.every is not None:
        return "every epoch" if schedule.every == 1 else f"epoch 1 and every {schedule.every}th"
    return f"{len(schedule.epochs)} epochs"


__all__ = ["Schedule", "describe", "parse_schedule"]
