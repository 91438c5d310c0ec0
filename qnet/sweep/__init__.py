"""Studies: sweeps over a grid of settings (on this machine or Ray), tidy tables, comparisons,
and the reference study as one command. pandas, pyarrow and ray are the ``sweep`` extra."""

from qnet.sweep.spec import DEFAULT_PROGRAMS, load_spec, plan_from_tables
from qnet.sweep.study import read_plan, run_sweep


def records_frame(run_dir, records=None):
    """See :func:`qnet.sweep.frames.records_frame` (needs pandas)."""
    from qnet.sweep.frames import records_frame as frame

    return frame(run_dir, records)


def sweep_frame(sweep_dir):
    """See :func:`qnet.sweep.frames.sweep_frame` (needs pandas)."""
    from qnet.sweep.frames import sweep_frame as frame

    return frame(sweep_dir)


__all__ = ["DEFAULT_PROGRAMS", "load_spec", "plan_from_tables", "read_plan", "records_frame", "run_sweep", "sweep_frame"]
