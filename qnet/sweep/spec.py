"""Sweep specs: a TOML file with a ``[base]`` table and a ``[grid]`` table of lists, turned into
a *plan*: one ``(name, config)`` per combination of the grid's values.

    [base]                 # any `qnet run` option by its long name, dashes as underscores
    preset = "quick"       # or config = "path/to/config.json" (relative to the spec file)
    epochs = 20
    seeds = 2

    [grid]                 # one run per combination, in the order the keys are written
    bits = [4, 8]
    activation = ["tanh", "relu"]

Each run's folder is named by its grid settings (``bits-4_activation-tanh``). The seed-group
split (``programs``) is pinned in every run's config (default :data:`DEFAULT_PROGRAMS`), so a
run gives the same numbers on any engine and any machine.
"""

import argparse
import itertools
import re
import tomllib
from pathlib import Path

from qnet.cli.options import OPTIONS, given_options, read_config_file
from qnet.experiment import preset

DEFAULT_PROGRAMS = 1  # seed groups per run in a sweep: one core per run; runs are spread over the cores
_STARTS = ("preset", "config")


def _option_value(key, value, where):
    """A TOML value of option ``key`` as `qnet run` would parse it (strings through its parser)."""
    flag = key.replace("_", "-")
    if flag not in OPTIONS:
        raise ValueError(f"{where}: unknown option {key!r}; expected a `qnet run` option with dashes as "
                         f"underscores, one of {sorted(f.replace('-', '_') for f in OPTIONS)} (or preset, config)")
    kwargs = OPTIONS[flag][1]
    parse = kwargs.get("type")
    if parse is None:  # a yes/no option
        if not isinstance(value, bool):
            raise ValueError(f"{where}: {key} must be true or false, got {value!r}")
        return value
    if parse is str and not isinstance(value, str):
        raise ValueError(f"{where}: {key} must be a string, got {value!r}")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and parse is not str:
        try:
            return parse(str(value))
        except (argparse.ArgumentTypeError, ValueError) as err:
            raise ValueError(f"{where}: {key} = {value!r}: {err}") from None
    return value  # lists (epochs, bin counts) go to the config, which checks them


def overrides(settings, where):
    """Flat config overrides of a table of option settings (``data_dir`` etc. routed as `qnet run` does)."""
    namespace = argparse.Namespace()
    for key, value in settings.items():
        setattr(namespace, "opt_" + key, _option_value(key, value, where))
    return given_options(namespace)


def run_name(settings):
    """A folder name for a run's grid settings: ``key-value`` pairs joined by ``_``."""
    if not settings:
        return "run"
    parts = []
    for key, value in settings.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}-{re.sub(r'[^A-Za-z0-9.,+-]+', '-', text)}")
    return "_".join(parts)


def plan_from_tables(base, grid, where="spec", root=Path(".")):
    """The plan of a spec's tables: a list of ``(name, settings, config)``; settings are the run's
    grid values (a dict). Every config is built (and so checked) here, before anything runs."""
    if not isinstance(base, dict) or not isinstance(grid, dict):
        raise ValueError(f"{where}: [base] and [grid] must be tables")
    base = dict(base)
    if all(k in base for k in _STARTS):
        raise ValueError(f"{where}: [base] gives both preset and config; give one")
    if "config" in base:
        start = read_config_file(root / base.pop("config"))
    else:
        start = preset(base.pop("preset", "quick"))
    for key in _STARTS:
        if key in grid:
            raise ValueError(f"{where}: [grid] {key}: the starting configuration is set in [base], not swept")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: [grid] {key} must be a non-empty list of values, got {values!r}")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"{where}: [grid] {key} lists a value twice: {values!r}")
    both = sorted(set(base) & set(grid))
    if both:
        raise ValueError(f"{where}: {both} set in both [base] and [grid]; give each option once")
    config = start.replace(**overrides(base, f"{where}: [base]"))
    if "programs" not in base and start.training.programs is None:
        config = config.replace(programs=DEFAULT_PROGRAMS)
    plan, names = [], set()
    for combo in itertools.product(*grid.values()):
        settings = dict(zip(grid, combo))
        try:
            run_config = config.replace(**overrides(settings, f"{where}: [grid]"))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{where}: [grid] {settings}: {err}") from None
        name = run_name(settings)
        if name in names:
            raise ValueError(f"{where}: two runs would share the folder name {name!r}")
        names.add(name)
        plan.append((name, settings, run_config))
    return plan


def load_spec(path):
    """The plan (see :func:`plan_from_tables`) of a sweep spec TOML file."""
    path = Path(path)
    try:
        tables = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such sweep spec") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"{path}: not a TOML file ({err})") from None
    unknown = sorted(set(tables) - {"base", "grid"})
    if unknown:
        raise ValueError(f"{path}: unknown table(s) {unknown}; a sweep spec has [base] and [grid]")
    return plan_from_tables(tables.get("base", {}), tables.get("grid", {}), str(path), path.parent)
