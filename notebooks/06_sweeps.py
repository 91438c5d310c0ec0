# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Sweeps: a grid of runs, one tidy table, one figure
#
# A study is a grid: activations x bit widths (x architectures x seeds). A sweep spec is a TOML
# file with a `[base]` table (any `qnet run` option, dashes as underscores) and a `[grid]` table
# of lists; `qnet sweep SPEC.toml --out DIR` runs one run per combination, spread over this
# machine's cores (or a Ray cluster with `--engine ray`), and writes `DIR/results.parquet`.
# Here the same from Python: a 2x2 grid (bits 4/8 x tanh/ReLU), then the table in pandas and
# the comparison figure.
#
# `QNET_NOTEBOOK_QUICK=1` shortens the runs (the test suite runs it that way).

# %%
import os
import shutil
import tempfile
from pathlib import Path

import qnet
from qnet.sweep import compare

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"
EPOCHS, SEEDS = (20, 2) if QUICK else (1000, 5)

folder = Path(tempfile.mkdtemp(prefix="qnet-sweep-"))
spec = folder / "grid.toml"
spec.write_text(f"""
[base]
preset = "quick"
epochs = {EPOCHS}
seeds = {SEEDS}

[grid]
bits = [4, 8]
activation = ["tanh", "relu"]
""")
plan = qnet.load_spec(spec)
[name for name, settings, config in plan]

# %% [markdown]
# Each run's folder is named by its settings; its config pins the seed-group split
# (`programs`), so the local engine and Ray give the same numbers. Re-running the same call skips
# finished runs and resumes interrupted ones.

# %%
result = qnet.run_sweep(plan, folder / "sweep", progress=False)
result

# %% [markdown]
# ## The tidy table: one row per run x seed x epoch x layer
#
# Exact values in bits; the config fields are columns, so a groupby answers a question directly:
# the last layer before the output, at the last epoch, per activation and bit width.

# %%
frame = qnet.sweep_frame(folder / "sweep")
last = frame[(frame["epoch"] == EPOCHS) & (frame["layer_index"] == 5)]
last.groupby(["activation", "bits"])[["I_XT", "I_TY", "test_accuracy"]].mean().round(3)

# %% [markdown]
# ## One figure: the four information planes with one colour bar, columns by activation

# %%
runs = compare.collect_runs([folder / "sweep"])
compare.plane_figure(runs, by="activation");

# %%
shutil.rmtree(folder)
