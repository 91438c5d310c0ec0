"""Training many seeds of a model side by side in compiled programs."""

from qnet.training.config import OPTIMIZERS, TrainConfig
from qnet.training.trainer import METRICS, Trainer, TrainState, cpu_cores, default_programs, seed_groups, train

__all__ = ["METRICS", "OPTIMIZERS", "TrainConfig", "TrainState", "Trainer", "cpu_cores", "default_programs",
           "seed_groups", "train"]
