"""The options of ``qnet run`` (and of the commands that take a run's settings): one flag per
config field, parsed into flat overrides that :meth:`ExperimentConfig.replace` routes."""

import argparse
import json
from pathlib import Path

from qnet.experiment import ExperimentConfig, preset
from qnet.experiment.presets import PRESETS


def _bits(text):
    if text.lower() in ("none", "float"):
        return None
    return _int(text)


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _batch(text):
    return None if text.lower() == "full" else _int(text)


def _schedule(text):
    """every:N, log:K, none, or a comma-separated list of epochs."""
    text = text.strip()
    if ":" in text or text.lower() == "none":
        return text
    try:
        return [int(e) for e in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected every:N, log:K, none or epochs like 1,10,100, got {text!r}") from None


def _every(text):
    return f"every:{_int(text)}"


# flag -> (config field, argparse keywords); help texts say the defaults (qnet presets shows them all)
OPTIONS = {
    "dataset": ("dataset", dict(type=str, help="syn, digits, mnist, mat or file (default: syn)")),
    "data-dir": ("data_dir", dict(type=str, help="folder of the four MNIST IDX files (dataset mnist; default "
                                                 "$QNET_DATA/mnist or ~/.cache/qnet/mnist)")),
    "data-path": ("data_path", dict(type=str, help="a .mat file (dataset mat) or a dataset .npz (dataset file)")),
    "test-fraction": ("test_fraction", dict(type=float, help="test share of the stratified split (default 0.2)")),
    "split-seed": ("split_seed", dict(type=_int, help="seed of the train/test split (default 1000)")),
    "widths": ("widths", dict(type=str, help="an MLP's widths, input first, e.g. 12-10-7-5-4-3-2")),
    "layers": ("spec", dict(type=str, help="layers, e.g. conv:4:3x3:relu,maxpool:2,flatten,dense:10:softmax "
                                           "(grammar: python -c 'import qnet.model.spec as s; help(s)')")),
    "activation": ("activation", dict(type=str, help="hidden activation: tanh, relu, sigmoid, hardtanh, linear (default tanh)")),
    "bits": ("bits", dict(type=_bits, help="activation bits 2..16, or 'none' for float activations (default 8)")),
    "quantization": ("quantization", dict(type=str, help="uniform, binary or ternary (default uniform)")),
    "symmetric": ("symmetric", dict(action=argparse.BooleanOptionalAction, help="symmetric activation ranges (default no)")),
    "narrow-range": ("narrow_range", dict(action=argparse.BooleanOptionalAction, help="one level fewer (default no)")),
    "activation-range": ("activation_range", dict(type=str, help="auto, fixed, moving or batch (default auto)")),
    "momentum": ("momentum", dict(type=float, help="of the moving-average ranges (default 0.99)")),
    "weight-bits": ("weight_bits", dict(type=_bits, help="weight bits 2..16, or 'none' for float weights (default 8)")),
    "init": ("init", dict(type=str, help="truncated_normal, truncated_normal_units or glorot_uniform (default truncated_normal)")),
    "epochs": ("epochs", dict(type=_int, help="epochs on the true labels (default 1500)")),
    "prefit-epochs": ("prefit_epochs", dict(type=_int, help="epochs on permuted labels before them (default 0)")),
    "batch-size": ("batch_size", dict(type=_batch, help="minibatch size, or 'full' (default 256)")),
    "learning-rate": ("learning_rate", dict(type=float, help="learning rate (default 1e-3)")),
    "optimizer": ("optimizer", dict(type=str, help="adam, sgd or rmsprop (default adam)")),
    "seeds": ("seeds", dict(type=_int, help="number of seeds trained side by side (default 5)")),
    "seed": ("seed", dict(type=_int, help="first seed (default 0)")),
    "programs": ("programs", dict(type=_int, help="seed groups trained side by side (default: one per core; recorded)")),
    "mi-every": ("mi_epochs", dict(type=_every, help="information plane at epoch 1 and every N-th (default 1)")),
    "mi-epochs": ("mi_epochs", dict(type=_schedule, help="every:N, log:K or a list 1,10,100 (default every:1)")),
    "eval-set": ("eval_set", dict(type=str, help="inputs whose codes are counted: all, train or test (default all)")),
    "binning": ("binning", dict(type=lambda t: [_int(b) for b in t.split(",")],
                                help="also bin every layer's float values into these many bins, e.g. 30,100,256 "
                                     "(an estimate, recorded beside the exact values)")),
    "save-codes": ("save_codes", dict(type=_schedule, help="epochs whose codes are stored: every:N, log:K, a list, none")),
}


def add_run_options(parser):
    """The config flags, each defaulting to 'not given' (so ``--bits none`` is seen)."""
    group = parser.add_argument_group("run settings (each overrides the preset or --config)")
    for flag, (dest, kwargs) in OPTIONS.items():
        group.add_argument("--" + flag, dest="opt_" + flag.replace("-", "_"), default=argparse.SUPPRESS, **kwargs)


def given_options(args):
    """The flags given on the command line as flat config overrides."""
    overrides, options = {}, {}
    if hasattr(args, "opt_mi_every") and hasattr(args, "opt_mi_epochs"):
        raise ValueError("give either --mi-every or --mi-epochs, not both")
    for flag, (field, _) in OPTIONS.items():
        dest = "opt_" + flag.replace("-", "_")
        if hasattr(args, dest):
            value = getattr(args, dest)
            if field == "data_dir":
                options["directory"] = str(Path(value).expanduser().resolve())
            elif field == "data_path":
                options["path"] = str(Path(value).expanduser().resolve())
            else:
                overrides[field] = value
    if options:
        overrides["dataset_options"] = options
    return overrides


def read_config_file(path):
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"--config {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"--config {path}: not a JSON file ({err})") from None
    return ExperimentConfig.from_json(obj, f"--config {path}")


def config_from_args(args):
    """The config a command line asks for: the preset (or --config file), then the flags."""
    if getattr(args, "config", None):
        if getattr(args, "preset", None):
            raise ValueError("give either --preset or --config, not both")
        base = read_config_file(args.config)
    else:
        base = preset(args.preset or "quick")
    return base.replace(**given_options(args))


def preset_names():
    return sorted(PRESETS)
