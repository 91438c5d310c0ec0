"""Runs: configs and presets, the runner, the run folder on disk, records."""

from qnet.experiment.config import CustomModel, DataConfig, ExperimentConfig, MeasureConfig
from qnet.experiment.presets import DESCRIPTIONS, PRESETS, preset
from qnet.experiment.runner import run, setup, summary
from qnet.experiment.schedule import parse_schedule
from qnet.experiment.store import RunError, load_codes, load_records, read_manifest, saved_code_epochs

__all__ = ["CustomModel", "DESCRIPTIONS", "DataConfig", "ExperimentConfig", "MeasureConfig", "PRESETS", "RunError",
           "load_codes", "load_records", "parse_schedule", "preset", "read_manifest", "run", "saved_code_epochs", "setup", "summary"]
