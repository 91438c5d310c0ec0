"""What defines a run: :class:`ExperimentConfig`, written in full to the run's ``config.json``.

A config has four parts, each the one place its defaults live: ``data``
(:class:`DataConfig`), ``network`` (:class:`~qnet.model.layers.Network`, or a
:class:`CustomModel` marker for a model of your own), ``training``
(:class:`~qnet.training.config.TrainConfig`) and ``measure`` (:class:`MeasureConfig`).
:func:`ExperimentConfig.replace` (and :func:`qnet.preset`) take flat field names
(``epochs=20, bits=4, dataset="digits"``) and route each to the part that owns it.
"""

import dataclasses
import hashlib
import json
import numbers
from dataclasses import dataclass, field

from qnet._checks import check_choice, check_int
from qnet.experiment.schedule import parse_schedule
from qnet.model.layers import Network, network_from_json, network_to_json
from qnet.model.spec import parse_layers, parse_widths
from qnet.training.config import TrainConfig

EVAL_SETS = ("all", "train", "test")


@dataclass(frozen=True)
class DataConfig:
    """dataset: syn, digits, mnist, mat, file (see :func:`qnet.load_dataset`); dataset_options:
    its keyword options (``directory`` for mnist, ``path`` for mat and file); a stratified split
    with ``test_fraction`` of each class in the test set, drawn with ``split_seed``."""

    dataset: str = "syn"
    dataset_options: dict = field(default_factory=dict)
    test_fraction: float = 0.2
    split_seed: int = 1000

    def __post_init__(self):
        from qnet.data import _LOADERS

        check_choice(self.dataset, "dataset", set(_LOADERS) - {"arrays"})
        if not isinstance(self.dataset_options, dict):
            raise TypeError(f"dataset_options must be a dict, got {type(self.dataset_options).__name__}")
        if isinstance(self.test_fraction, bool) or not isinstance(self.test_fraction, numbers.Real) \
                or not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be a number in [0, 1), got {self.test_fraction!r}")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int) or self.split_seed < 0:
            raise ValueError(f"split_seed must be an integer >= 0, got {self.split_seed!r}")


@dataclass(frozen=True)
class MeasureConfig:
    """mi_epochs: the epochs whose information plane is computed: ``"every:N"`` (epoch 1, every
    N-th and the last), ``"log:K"`` (K log-spaced epochs, first and last included) or a list of
    epochs; eval_set: the inputs whose codes are counted (``all``: the whole dataset, as the
    reference study; ``train``; ``test``); save_codes: epochs (same forms, or ``"none"``) whose
    integer codes of every measured layer are stored in the run folder (compressed); binning:
    bin counts (e.g. ``[30, 100, 256]``) for which, at every measured epoch, the float values of
    every layer are also binned (equal-width bins over each layer's min..max, as the float nets of
    the literature are measured): an *estimate*, recorded as ``binned_I_XT`` / ``binned_I_TY``."""

    mi_epochs: object = "every:1"
    eval_set: str = "all"
    save_codes: object = "none"
    binning: tuple = ()

    def __post_init__(self):
        for name in ("mi_epochs", "save_codes"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
            parse_schedule(getattr(self, name), None, name)  # the form; epochs are checked against the run's length
        check_choice(self.eval_set, "eval_set", set(EVAL_SETS))
        if isinstance(self.binning, (list, tuple)):
            object.__setattr__(self, "binning", tuple(self.binning))
            for b in self.binning:
                check_int(b, "binning", 2)
        else:
            raise TypeError(f"binning must be a list of bin counts, got {self.binning!r}")


@dataclass(frozen=True)
class CustomModel:
    """The network part of a run whose model was passed in (not built from a config): its
    ``name`` and a ``fingerprint`` (SHA-256 of its first seed's initial parameters and of the
    shapes its ``apply`` returns), checked when the run is resumed with the model again."""

    name: str
    fingerprint: str


_PARTS = {"data": DataConfig, "training": TrainConfig, "measure": MeasureConfig}
_ROUTES = {f.name: part for part, cls in _PARTS.items() for f in dataclasses.fields(cls)}
_ROUTES.update({f.name: "network" for f in dataclasses.fields(Network)})
_ROUTES.update(widths="network", spec="network", mi_every="measure")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that determines a run's numbers. See the module docstring."""

    data: DataConfig = field(default_factory=DataConfig)
    network: object = field(default_factory=Network)
    training: TrainConfig = field(default_factory=TrainConfig)
    measure: MeasureConfig = field(default_factory=MeasureConfig)

    def __post_init__(self):
        for name, cls in (*_PARTS.items(), ("network", (Network, CustomModel))):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"ExperimentConfig.{name} must be a {cls if isinstance(cls, tuple) else cls.__name__}, "
                                f"got {type(getattr(self, name)).__name__}")
        total = self.training.total_epochs
        parse_schedule(self.measure.mi_epochs, total, "mi_epochs")
        parse_schedule(self.measure.save_codes, total, "save_codes")

    # -- flat access ----------------------------------------------------------
    def replace(self, **changes):
        """A copy with fields changed by their flat names (``epochs``, ``bits``, ``dataset``, ...).

        ``widths`` (a tuple or ``"12-10-7-5-4-3-2"``) and ``spec`` (a ``--layers`` string) set
        the network's layers; ``mi_every=N`` is ``mi_epochs="every:N"``. Changing ``dataset`` without giving layers picks that dataset's
        default network (:data:`DEFAULT_LAYERS`)."""
        unknown = sorted(set(changes) - set(_ROUTES))
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; expected some of {sorted(_ROUTES)}")
        parts = {name: {} for name in ("data", "network", "training", "measure")}
        for key, value in changes.items():
            parts[_ROUTES[key]][key] = value
        if "mi_every" in parts["measure"]:
            parts["measure"]["mi_epochs"] = f"every:{parts['measure'].pop('mi_every')}"
        net = parts["network"]
        if "widths" in net:
            widths = parse_widths(net.pop("widths")) if isinstance(net.get("widths"), str) else tuple(net.pop("widths"))
            if len(widths) < 2:
                raise ValueError(f"widths must list at least an input and an output width, got {widths}")
            net.update(layers=Network.from_widths(widths).layers, input_size=widths[0])
        if "spec" in net:
            net.update(layers=parse_layers(net.pop("spec")), input_size=None)
        if "dataset" in parts["data"] and "layers" not in net and parts["data"]["dataset"] != self.data.dataset:
            net.update(default_network(parts["data"]["dataset"]))
        network = self.network
        if net:
            if isinstance(network, CustomModel):
                raise ValueError(f"the run's model is a custom one ({network.name}): network settings {sorted(net)} do not apply")
            network = dataclasses.replace(network, **net)
        return ExperimentConfig(
            data=dataclasses.replace(self.data, **parts["data"]), network=network,
            training=dataclasses.replace(self.training, **parts["training"]),
            measure=dataclasses.replace(self.measure, **parts["measure"]))

    def flat(self):
        """The config as one flat dict of field name -> value (layers as their spec string)."""
        from qnet.model.spec import layers_spec

        out = {}
        for name in ("data", "training", "measure"):
            out.update(dataclasses.asdict(getattr(self, name)))
        if isinstance(self.network, Network):
            for f in dataclasses.fields(Network):
                out[f.name] = getattr(self.network, f.name)
            out["layers"] = layers_spec(self.network.layers)
        else:
            out.update(model=self.network.name)
        return out

    # -- JSON ---------------------------------------------------------------------
    def to_json(self):
        network = (network_to_json(self.network) if isinstance(self.network, Network)
                   else {"custom": dataclasses.asdict(self.network)})
        return {"data": dataclasses.asdict(self.data), "network": network,
                "training": dataclasses.asdict(self.training), "measure": _measure_json(self.measure)}

    @classmethod
    def from_json(cls, obj, where="config"):
        """A config from its JSON form; also accepts flat keys (routed as in :meth:`replace`)
        on top of the defaults, so a config file may give only what differs."""
        if not isinstance(obj, dict):
            raise ValueError(f"{where} must be a JSON object, got {type(obj).__name__}")
        parts = {}
        flat = {}
        for key, value in obj.items():
            if key in ("data", "training", "measure"):
                if not isinstance(value, dict):
                    raise ValueError(f"{where}: {key} must be an object")
                parts[key] = _part(_PARTS[key], value, f"{where}: {key}")
            elif key == "network":
                if isinstance(value, dict) and set(value) == {"custom"}:
                    parts[key] = CustomModel(**value["custom"])
                else:
                    parts[key] = network_from_json(value)
            elif key in _ROUTES:
                flat[key] = value
            else:
                raise ValueError(f"{where} has an unknown field {key!r}; expected data, network, training, measure "
                                 f"or a flat field name such as epochs, bits, widths")
        config = cls(**parts)
        return config.replace(**flat) if flat else config

    def fingerprint(self):
        """SHA-256 of the config's canonical JSON."""
        return hashlib.sha256(canonical_json(self.to_json()).encode()).hexdigest()


def _measure_json(measure):
    out = dataclasses.asdict(measure)
    for key in ("mi_epochs", "save_codes", "binning"):
        if isinstance(out[key], tuple):
            out[key] = list(out[key])
    return out


def _part(cls, obj, where):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(obj) - names
    if unknown:
        raise ValueError(f"{where} has unknown fields {sorted(unknown)}; expected some of {sorted(names)}")
    return cls(**obj)


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


# The default network of each dataset (hidden widths; the output is a softmax over its classes)
DEFAULT_LAYERS = {
    "syn": (12, 10, 7, 5, 4, 3, 2),
    "mnist": (784, 16, 8, 4, 2, 10),
    "digits": (64, 32, 16, 10),
}


def default_network(dataset):
    """``layers`` and ``input_size`` of a dataset's default network (an MLP)."""
    DataConfig(dataset=dataset)  # an unknown dataset is named as such
    if dataset not in DEFAULT_LAYERS:
        raise ValueError(f"dataset {dataset!r} has no default network: give widths (--widths) or layers (--layers)")
    widths = DEFAULT_LAYERS[dataset]
    return {"layers": Network.from_widths(widths).layers, "input_size": widths[0]}
