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
# 8-bit activations, Adam 1e-4, batch 256, 8000 epochs, 50 seeds, exact MI on all 4096 inputs at
# every epoch. Full length takes about half an hour per activation on a 2-core machine
# (`qnet run --preset syn-tanh-8`); `QNET_NOTEBOOK_QUICK=1` runs a few epochs only. Set
# `QNET_REFERENCE_RUNS` to a folder holding finished runs named `syn-tanh-8` and `syn-relu-8`
# to plot those instead of training.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import qnet
from qnet import plots

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"
saved = os.environ.get("QNET_REFERENCE_RUNS")


def reference_run(name):
    if saved and (Path(saved) / name / "records.npz").exists():
        return qnet.load_records(Path(saved) / name)
    overrides = dict(epochs=6, seeds=2) if QUICK else {}
    return qnet.run(qnet.preset(name, **overrides), tempfile.mkdtemp(prefix=name), progress=not QUICK)


records = {name: reference_run(name) for name in ("syn-tanh-8", "syn-relu-8")}

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
for ax, (name, rec) in zip(axes, records.items()):
    plots.information_plane(rec, ax=ax, title=name)
fig.tight_layout()

# %% [markdown]
# ## What the exact planes show (and what the paper reported)
#
# - **Fitting in every layer**: early in training every layer's I(T;Y) rises towards H(Y) = 0.999 bits.
# - **No compression in the wide tanh hidden layers**: with 8-bit codes the first hidden layers keep
#   all 4096 inputs apart, so I(X;T) = log2 4096 = 12 bits throughout — the exact value, not an
#   estimator artefact.
# - **Compression in the output layer**: the softmax output's I(X;T) falls late in training while its
#   I(T;Y) stays high, for tanh and ReLU alike.
# - **Hidden-layer compression depends on the activation**: the narrow tanh layers (widths 4 and 3)
#   lose I(X;T) as units saturate, the ReLU net's do much less.
#
# These are the findings of Lorenzen, Igel & Nielsen (2022, Fig. 2/3); the run in this repository's
# README reproduces them (see its figure).

# %%
for name, rec in records.items():
    print(name)
    print(qnet.experiment.summary(rec))
