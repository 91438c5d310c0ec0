# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The reference study's synthetic-data figures (Lorenzen, Igel & Nielsen, ICLR 2022)
#
# The 12-10-7-5-4-3-2 network on the 4096-pattern synthetic task of Shwartz-Ziv & Tishby (2017),
# 8-bit activations, Adam 1e-4, batch 256, exact MI on all 4096 inputs at every epoch. The
# presets run the study's full length (8000 epochs, 50 seeds: `qnet run --preset syn-tanh-8`);
# here every number is computed from the runs below and printed, with the time they took on
# this machine. `QNET_NOTEBOOK_QUICK=1` runs a few epochs only (the tests run it that way);
# otherwise 5 seeds for 2000 epochs. Set `QNET_REFERENCE_RUNS` to a folder holding finished
# runs named `syn-tanh-8` and `syn-relu-8` to plot those instead of training.

# %%
import os
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import qnet
from qnet import plots

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"
saved = os.environ.get("QNET_REFERENCE_RUNS")
scratch = tempfile.mkdtemp(prefix="qnet-reference-")  # removed in the last cell


def reference_run(name):
    if saved and (Path(saved) / name / "manifest.json").exists():
        return qnet.load_records(Path(saved) / name)
    overrides = dict(epochs=6, seeds=2) if QUICK else dict(epochs=2000, seeds=5)
    start = time.perf_counter()
    records = qnet.run(qnet.preset(name, **overrides), Path(scratch) / name, progress=not QUICK, plot=False)
    print(f"{name}: {overrides['seeds']} seeds x {overrides['epochs']} epochs in {time.perf_counter() - start:.0f} s")
    return records


records = {name: reference_run(name) for name in ("syn-tanh-8", "syn-relu-8")}

# %% [markdown]
# ## The two planes
# Each figure says what it shows: the settings, that the values are exact, the saturated layers
# (all n inputs with distinct codes: I(X;T) = log2 n) and any seeds left out. Layers whose points
# coincide are drawn again in a zoomed inset, spread by the offset written on it.

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 5.6))
for ax, (name, rec) in zip(axes, records.items()):
    plots.information_plane(rec, ax=ax, title=name)
fig.tight_layout()

# %% [markdown]
# ## The plane as a movie
# `qnet plot RUN_DIR --animate` (or `plots.animate_plane`) writes the plane over the epochs, with
# frames log-spaced by default so that the fitting phase gets its share.

# %%
from IPython.display import Image  # noqa: E402

gif, frame_epochs = plots.animate_plane(records["syn-tanh-8"], Path(scratch) / "plane.gif", frames=5 if QUICK else 60)
print("frames at epochs", frame_epochs.tolist())
Image(data=gif.read_bytes(), format="gif")

# %% [markdown]
# ## What the exact planes show
# The numbers below are computed from the runs above (means over seeds, bits). In the study
# (50 seeds, 8000 epochs) the picture is: fitting in every layer (I(T;Y) of the output layer
# rises towards H(Y)), compression in the output layer after an early peak of I(X;T), and
# hidden-layer compression that depends on the activation (the wide tanh layers keep all 4096
# inputs apart). Check it against this run's numbers:

# %%
for name, rec in records.items():
    keep = rec["diverged_epoch"] == 0
    ixt, ity, epochs = rec["I_XT"][keep].mean(0), rec["I_TY"][keep].mean(0), rec["epoch"]
    peak = int(np.argmax(ixt[:, -1]))
    print(f"{name}: H(Y) = {float(rec['H_Y']):.3f} bits")
    print(f"  output layer I(T;Y): {ity[0, -1]:.3f} at epoch {epochs[0]} -> {ity[-1, -1]:.3f} at epoch {epochs[-1]}")
    print(f"  output layer I(X;T): peak {ixt[peak, -1]:.2f} at epoch {epochs[peak]}, {ixt[-1, -1]:.2f} at the end")
    print(f"  width-3 layer I(X;T): {ixt[0, -2]:.2f} -> {ixt[-1, -2]:.2f}")
    last, always = plots.saturated(rec)
    print(f"  saturated at the last epoch: layers {[layer + 1 for layer in last]}")
    print(qnet.experiment.summary(rec))

# %%
shutil.rmtree(scratch)
