# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # A quick tour of qnet
#
# Open this file as a notebook (see notebooks/README.md: `pip install ".[notebooks]"`, then
# `jupytext --to notebook notebooks/01_tour.py`, or open the `.py` with jupytext in Jupyter) or
# run it as a script: `python notebooks/01_tour.py`.
# `QNET_NOTEBOOK_QUICK=1` shortens every training run (the tests run it that way).

# %%
import os

import numpy as np

import qnet
from qnet import estimators

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"

# %% [markdown]
# ## 1. Exact information of integer codes
# Every row of a code array is one symbol. A fair coin is 1 bit, a copy carries all of it,
# independent columns carry none.

# %%
coin = np.array([0, 1, 0, 1])
print(qnet.entropy(coin), qnet.mutual_information(coin, coin), qnet.mutual_information([0, 0, 1, 1], coin))

# %% [markdown]
# A layer's information-plane coordinates: I(X;T) = H(T) for a deterministic layer,
# I(T;Y) = H(T) - H(T|Y). Codes may be any integer dtype, with any number of columns.

# %%
rng = np.random.default_rng(0)
codes = rng.integers(0, 4, size=(4096, 3), dtype=np.int8)
labels = rng.integers(0, 2, size=4096)
print("I(X;T), I(T;Y) =", qnet.layer_information(codes, labels), "bits")

# %% [markdown]
# ## 2. Train quantized networks: all seeds in one compiled program

# %%
data = qnet.load_dataset("syn")
train_idx, test_idx = data.split(0.2, seed=1000)
net = qnet.Network.from_widths((12, 10, 7, 5, 4, 3, 2), activation="tanh", bits=8)
model = qnet.QuantizedNetwork(net, data.sample_shape, data.n_classes)
config = qnet.TrainConfig(epochs=20 if QUICK else 300, seeds=3, learning_rate=1e-3)
trainer = qnet.Trainer(model, config, data.X, data.y, train_idx, test_idx)
state = trainer.init()
labels = qnet.encode_labels(data.y)
for epoch in range(1, config.epochs + 1):
    state, metrics, codes = trainer.step(state, epoch)  # codes: (seeds, 4096, 31) uint8
plane = qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths)  # (seeds, layers, 2)
print("test accuracy per seed:", metrics["test_accuracy"])
print("last epoch, mean over seeds: I(X;T) per layer", plane[..., 0].mean(0).round(3))
print("                             I(T;Y) per layer", plane[..., 1].mean(0).round(4))

# %% [markdown]
# ## 3. The same with the experiment runner (records, checkpoints, figures)

# %%
import shutil  # noqa: E402
import tempfile  # noqa: E402

run_dir = tempfile.mkdtemp(prefix="qnet-tour-")
records = qnet.run(qnet.preset("quick", epochs=10 if QUICK else 500, seeds=3), run_dir, progress=not QUICK)
print(sorted(records))
print(sorted(os.listdir(run_dir)))
print(qnet.experiment.summary(records))

# %% [markdown]
# The run folder holds the figures (`qnet plot RUN_DIR --format pdf --seeds --animate` redraws
# them); in a notebook draw them from the records. Each says its settings, that the values are
# exact, what the band is, and which layers are saturated at log2 n.

# %%
from qnet import plots  # noqa: E402

plots.information_plane(records, show_seeds=True)
plots.information_vs_epoch(records);

# %% [markdown]
# ## 4. An estimator next to the truth
# Binning the dequantized activations into 30 equal-width bins per layer loses information
# that the exact count keeps.

# %%
values = trainer.activations(state)  # per layer (seeds, 4096, d) float32
binning = estimators.UniformBinning(30, "layer")
for layer, v in enumerate(values):
    print(f"layer {layer + 1}: exact I(X;T) = {plane[0, layer, 0]:.3f}, binned = {binning(v[0], data.y)[0]:.3f} bits")
shutil.rmtree(run_dir)
