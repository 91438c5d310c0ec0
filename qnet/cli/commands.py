"""What each ``qnet`` command does, once its arguments are parsed."""

import gc
import json
import signal
import sys
from datetime import datetime
from pathlib import Path

from qnet import experiment
from qnet.cli.options import config_from_args, given_options
from qnet.experiment.store import RunError, read_manifest

# failures that reach the user as one line (anything else is a bug and keeps its traceback)
EXPECTED = (ValueError, TypeError, OSError, RunError)


def one_line(err):
    text = str(err) if not isinstance(err, OSError) or not err.filename else f"{err.filename}: {err.strerror}"
    return " ".join(text.split()) or type(err).__name__


def _unraisable(frame):
    """Whether ``frame`` runs inside a garbage-collector callback (JAX installs one) or a
    ``__del__`` method, where Python would print an exception raised there as "Exception
    ignored ... Traceback" and drop it."""
    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class Interrupt:
    """For the command line: the first SIGINT or SIGTERM stops the run as Ctrl-C does (the
    finished epochs are committed, then the message is printed); later ones, while it stops, are
    ignored, so a second Ctrl-C cannot cut the commit or the message short. Where Python would
    drop the KeyboardInterrupt (a signal handled inside a garbage-collector callback or a
    ``__del__``), the handler only takes note and the runner's :meth:`check`, asked after every
    epoch, raises it. :meth:`restore` puts back the handlers that were there before."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self.saved = {sig: signal.getsignal(sig) for sig in self.SIGNALS}
        for sig in self.SIGNALS:
            signal.signal(sig, self._handler)

    def _handler(self, signum, frame):
        if not self.requested:
            self.requested = True
            if not _unraisable(frame):
                raise KeyboardInterrupt

    def check(self, *args):
        """An ``on_epoch`` callback: stop if a signal came whose KeyboardInterrupt was not raised."""
        if self.requested:
            raise KeyboardInterrupt

    def restore(self, exiting=False):
        """Put back the handlers found; ``exiting``: ignore both signals instead, to the end of a
        process that was interrupted and only ends now (also while Python shuts down)."""
        for sig, old in self.saved.items():
            signal.signal(sig, signal.SIG_IGN if exiting else (old if old is not None else signal.SIG_DFL))


def new_run_folder(prefix, root="runs"):
    """``runs/PREFIX-YYYYmmdd-HHMMSS``, with ``-2``, ``-3``, ... appended if that exists: created
    here (mkdir is atomic), so two runs started in the same second get different folders."""
    base = Path(root) / f"{prefix}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    Path(root).mkdir(parents=True, exist_ok=True)
    for i in range(1, 10_000):
        path = base if i == 1 else base.with_name(f"{base.name}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RunError(f"cannot find a free run folder name beside {base}")


def interrupted_message(run_dir):
    """What the command line says when a run was interrupted: what is saved and how to go on."""
    try:
        saved = int(read_manifest(run_dir, files=False)["completed"])
    except (RunError, OSError, KeyError, ValueError):
        return f"interrupted before the run was set up; nothing is saved in {run_dir}"
    done = f"epochs 1..{saved} are saved" if saved else "no epoch was finished yet"
    return f"interrupted; {done}. Continue with: qnet run --resume {run_dir}"


def run(args):
    if args.resume:
        if args.preset or args.config or args.out:
            raise ValueError("--resume continues a run with its own settings: --preset, --config and --out do not apply")
        run_dir = Path(args.resume)
        config = None
        if given_options(args):  # the files are checked by the run, once it holds the folder's lock
            if not run_dir.is_dir():
                raise RunError(f"{run_dir} is not a run folder")
            stored = experiment.read_manifest(run_dir, files=False)["config"]
            config = experiment.ExperimentConfig.from_json(stored).replace(**given_options(args))
    else:
        config = config_from_args(args)
        run_dir = Path(args.out) if args.out else new_run_folder(args.preset or ("config" if args.config else "quick"))
        print(f"run folder: {run_dir}")
    interrupt = Interrupt()
    try:
        records = experiment.run(config, run_dir, resume=bool(args.resume), progress=not args.no_progress,
                                 checkpoint_seconds=args.checkpoint_every, on_epoch=interrupt.check)
    except KeyboardInterrupt:
        print("\n" + interrupted_message(run_dir), file=sys.stderr)
        return 130
    finally:
        interrupt.restore(exiting=interrupt.requested and getattr(args, "console", False))
    print(experiment.summary(records))
    if (records["diverged_epoch"] > 0).all():
        print(f"every seed diverged; the records keep epochs 1..{int(records['completed'])}", file=sys.stderr)
        return 1
    from qnet.plots.run import FIGURES  # drawn by the run: matplotlib is imported already

    figures = ", ".join(str(run_dir / f"{name}.png") for name in FIGURES)
    print(f"figures: {figures}")
    return 0


_NONE_MEANS = {"bits": "float", "weight_bits": "float", "programs": "one per core", "input_size": "from the data"}


def preset_value(field, value):
    """A config value as ``qnet presets`` shows it: None as what it means, lists plainly."""
    if value is None:
        return _NONE_MEANS.get(field, "none")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) if value else "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True) if value else "{}"
    return str(value)


def preset_table(name, columns=3, cell=34):
    """A preset as text: its name and description, then every field with its value (also the
    falsy ones), ``columns`` fields to a line; values too long for a cell get a line of their own."""
    flat = experiment.preset(name).flat()
    lines, row = [f"{name}: {experiment.DESCRIPTIONS[name]}"], []
    for field in sorted(flat):
        text = f"{field} = {preset_value(field, flat[field])}"
        if len(text) >= cell:
            lines.append("  " + text)
            continue
        row.append(text.ljust(cell))
        if len(row) == columns:
            lines.append("  " + "".join(row).rstrip())
            row = []
    if row:
        lines.append("  " + "".join(row).rstrip())
    return "\n".join(lines)


def presets(args):
    names = [args.name] if getattr(args, "name", None) else list(experiment.DESCRIPTIONS)
    print("\n\n".join(preset_table(name) for name in names))
    return 0
