"""Configs: one set of defaults, flat routing, JSON round trips, presets as the reference builds them."""

import json

import numpy as np
import pytest

import qnet
from qnet.experiment import ExperimentConfig, parse_schedule, preset
from qnet.experiment.presets import PRESETS
from qnet.model import Conv2D, Dense, Flatten, MaxPool2D, build
from qnet.training import TrainConfig


def test_one_set_of_defaults():
    config = ExperimentConfig()
    assert config.training == TrainConfig() and config.network == qnet.Network()
    assert preset("quick") == config
    assert (config.training.epochs, config.training.seeds, config.training.learning_rate) == (1500, 5, 1e-3)


def test_flat_fields_are_routed_to_their_part():
    config = ExperimentConfig().replace(epochs=20, bits=4, dataset="digits", eval_set="test", symmetric=True,
                                        split_seed=7, programs=3, mi_every=5)
    assert config.training.epochs == 20 and config.training.programs == 3
    assert config.network.bits == 4 and config.network.symmetric is True
    assert config.network.widths == (64, 32, 16, 10)  # a new dataset brings its default network
    assert config.data.dataset == "digits" and config.data.split_seed == 7
    assert config.measure.eval_set == "test" and config.measure.mi_epochs == "every:5"
    with pytest.raises(ValueError, match=r"unknown config field\(s\) \['bitz'\]"):
        ExperimentConfig().replace(bitz=3)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_json_and_builds(name, tmp_path):
    config = preset(name)
    again = ExperimentConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert again == config and again.fingerprint() == config.fingerprint()
    shape = (28, 28, 1) if config.data.dataset == "mnist" else (12,)
    built = qnet.model.build(config.network, shape, 10 if config.data.dataset == "mnist" else 2)
    assert built.layers[-1].activation == "softmax"


def test_reference_presets():
    tanh = preset("syn-tanh-8")
    assert (tanh.training.epochs, tanh.training.seeds, tanh.training.learning_rate, tanh.training.batch_size) == \
        (8000, 50, 1e-4, 256)
    assert (tanh.network.weight_bits, tanh.network.activation_range, tanh.network.init) == (None, "batch", "glorot_uniform")
    relu = preset("syn-relu-8")
    assert (relu.network.weight_bits, relu.network.activation_range) == (8, "moving")
    prefit = preset("syn-relu-8-prefit")
    assert (prefit.training.prefit_epochs, prefit.training.epochs, prefit.training.seeds) == (1000, 8000, 20)
    widths = {"mnist-bottleneck-2": (784, 16, 8, 4, 2, 10), "mnist-bottleneck-4": (784, 16, 12, 8, 4, 10),
              "mnist-hourglass": (784, 16, 8, 4, 2, 4, 8, 10), "mnist-4x10": (784, 10, 10, 10, 10, 10)}
    for name, w in widths.items():
        config = preset(name)
        assert config.network.widths == w and config.network.init == "truncated_normal_units"
        assert (config.network.activation, config.network.bits, config.network.weight_bits) == ("relu", 8, 8)
        assert config.training.seeds == (20 if "4x10" not in name else 10) and config.training.epochs == 3000
    conv = preset("mnist-conv")
    assert conv.network.layers == (Conv2D(2, 3, activation="relu"), MaxPool2D(2), Conv2D(2, 3, activation="relu"),
                                   MaxPool2D(2), Flatten(), Dense(16, "relu"), Dense(10, "softmax"))
    shapes = [layer.out_shape for layer in build(conv.network, (28, 28, 1), 10).layers]
    assert shapes == [(26, 26, 2), (13, 13, 2), (11, 11, 2), (5, 5, 2), (50,), (16,), (10,)]


def test_config_files_may_be_partial_or_flat(tmp_path):
    assert ExperimentConfig.from_json({"epochs": 7, "widths": "12-6-2"}) == ExperimentConfig().replace(epochs=7, widths=(12, 6, 2))
    nested = ExperimentConfig.from_json({"training": {"epochs": 9}, "network": {"bits": 4}})
    assert nested.training.epochs == 9 and nested.network.bits == 4 and nested.training.seeds == 5
    with pytest.raises(ValueError, match="config: training has unknown fields"):
        ExperimentConfig.from_json({"training": {"epoch": 9}})
    with pytest.raises(ValueError, match="unknown field 'speed'"):
        ExperimentConfig.from_json({"speed": 9})
    with pytest.raises(ValueError, match="must be a JSON object"):
        ExperimentConfig.from_json([1, 2])


@pytest.mark.parametrize("spec, total, expected", [
    ("every:1", 5, [1, 2, 3, 4, 5]), ("every:2", 6, [1, 2, 4, 6]), ("every:3", 7, [1, 3, 6, 7]), ("every:10", 4, [1, 4]),
    ("every:1", 1, [1]), ("log:5", 8000, [1, 9, 89, 846, 8000]), ("log:3", 2, [1, 2]), ([3, 1, 2], 5, [1, 2, 3]),
    ("none", 5, []),
])
def test_schedules_always_include_the_first_and_last_epoch(spec, total, expected):
    schedule = parse_schedule(spec, total)
    assert schedule.listing().tolist() == expected
    assert [e for e in range(1, total + 1) if e in schedule] == expected
    assert [schedule.count(e) for e in range(total + 1)] == [sum(x <= e for x in expected) for e in range(total + 1)]


@pytest.mark.parametrize("spec, match", [("every:0", "not a schedule"), ("often", "not a schedule"),
                                         ([0, 3], "must lie in 1.."), ([1.5], "must be integers"), (3, "a int")])
def test_bad_schedules(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_schedule(spec, 10)
    with pytest.raises(ValueError, match=match):
        ExperimentConfig().replace(mi_epochs=spec)


def test_a_listed_epoch_beyond_the_run_is_refused():
    with pytest.raises(ValueError, match=r"must lie in 1..1500"):
        ExperimentConfig().replace(mi_epochs=[1, 2000])
    with pytest.raises(ValueError, match=r"must lie in 1..1100"):
        ExperimentConfig().replace(prefit_epochs=100, epochs=1000, save_codes=[1200])


@pytest.mark.parametrize("changes, error, match", [
    (dict(seed=2**63), ValueError, "seed must be between 0 and"),
    (dict(seeds=0), ValueError, "seeds must be between 1"),
    (dict(learning_rate=float("nan")), ValueError, "learning_rate must be a finite number"),
    (dict(test_fraction=1.0), ValueError, "test_fraction"),
    (dict(dataset="cifar"), ValueError, "unknown dataset"),
    (dict(dataset="mat"), ValueError, "has no default network"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(epochs=2.5), TypeError, "epochs must be an integer"),
])
def test_bad_values_name_the_field(changes, error, match):
    with pytest.raises(error, match=match):
        ExperimentConfig().replace(**changes)


def _write_tiny_mnist(directory, n_train=48, n_test=16):
    import struct

    rng = np.random.default_rng(0)
    for stem, n in (("train-images-idx3-ubyte", n_train), ("t10k-images-idx3-ubyte", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        (directory / stem).write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", n, 28, 28) + images.tobytes())
    for stem, n in (("train-labels-idx1-ubyte", n_train), ("t10k-labels-idx1-ubyte", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        (directory / stem).write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + labels.tobytes())


RUN_IN_DEFAULT_SUITE = {"quick", "syn-relu-8-prefit", "mnist-bottleneck-4", "mnist-conv"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in RUN_IN_DEFAULT_SUITE else pytest.mark.slow)
                                  for n in sorted(PRESETS)])
def test_presets_run_shortened(tmp_path, name):
    """A preset as it is, shortened to 2 epochs and 1 seed (the MNIST ones on tiny IDX files). The
    default suite runs one of each kind (SYN, prefit, MNIST MLP, MNIST conv); ``pytest -m slow`` the rest."""
    overrides = dict(epochs=2, seeds=1, mi_every=1)
    if preset(name).training.prefit_epochs:
        overrides["prefit_epochs"] = 1
    if preset(name).data.dataset == "mnist":
        _write_tiny_mnist(tmp_path)
        overrides["dataset_options"] = {"directory": str(tmp_path)}
    rec = qnet.run(preset(name, **overrides), tmp_path / "run", progress=False, plot=False)
    total = 2 + overrides.get("prefit_epochs", 0)
    assert rec["epoch"].tolist() == list(range(1, total + 1)) and np.isfinite(rec["I_XT"]).all()
    assert int(rec["prefit_epochs"]) == overrides.get("prefit_epochs", 0)
    assert np.all(np.diff(rec["I_XT"], axis=2) <= 1e-9)
