"""How networks are trained: :class:`TrainConfig`, the one place the training defaults live."""

import math
import numbers
from dataclasses import dataclass

import optax

from qnet._checks import check_choice, check_int

OPTIMIZERS = {"adam": optax.adam, "sgd": optax.sgd, "rmsprop": optax.rmsprop}
MAX_SEED = 2**63 - 1  # seeds are stored as int64 in the records


@dataclass(frozen=True)
class TrainConfig:
    """Training of ``seeds`` networks side by side (the seeds ``seed .. seed + seeds - 1``).

    epochs: epochs on the true labels; prefit_epochs: epochs before them on randomly permuted
    training labels (per seed; the optimizer state carries over; Lorenzen et al. 2022, app. D);
    batch_size: minibatch size, ``None`` for full batch; learning_rate; optimizer: adam, sgd or
    rmsprop; programs: the seeds are trained in this many equal groups, one compiled program
    each, run side by side on threads. A seed's numbers are bit-identical in any program of the
    same size, and can differ in the last float bits in programs of another size, so the
    split is part of the configuration; ``None`` means one program per CPU core (at most one per
    seed), and the runner records the number it used.
    """

    epochs: int = 1500
    batch_size: int | None = 256
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    seeds: int = 5
    seed: int = 0
    programs: int | None = None
    prefit_epochs: int = 0

    def __post_init__(self):
        check_int(self.epochs, "epochs", 1, 10**9)
        check_int(self.prefit_epochs, "prefit_epochs", 0, 10**9)
        if self.batch_size is not None:
            check_int(self.batch_size, "batch_size", 1)
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, numbers.Real):
            raise TypeError(f"learning_rate must be a number, got {self.learning_rate!r}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a finite number > 0, got {self.learning_rate}")
        check_choice(self.optimizer, "optimizer", set(OPTIMIZERS))
        check_int(self.seeds, "seeds", 1, 100_000)
        check_int(self.seed, "seed", 0, MAX_SEED - self.seeds + 1)
        if self.programs is not None:
            check_int(self.programs, "programs", 1)

    @property
    def seed_values(self):
        """The seeds, ``(seeds,)`` ints."""
        return tuple(range(self.seed, self.seed + self.seeds))

    @property
    def total_epochs(self):
        return self.prefit_epochs + self.epochs
