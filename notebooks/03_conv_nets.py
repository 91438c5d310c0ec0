# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exact information planes of a quantized conv net
#
# A network is a list of layers, written as data or in one line (`qnet.parse_layers`).
# Every conv and max-pool output is one symbol per sample: its whole feature map. Here a small
# conv net on scikit-learn's 8x8 digits (bundled, no download). The reference study's MNIST conv
# net is the preset `mnist-conv` (`qnet run --preset mnist-conv --data-dir DIR` with the four
# MNIST IDX files in DIR). `QNET_NOTEBOOK_QUICK=1` shortens the run.

# %%
import os
import shutil
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import qnet
from qnet import plots

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"

# %%
spec = "conv:4:3x3:relu,maxpool:2,conv:8:2x2:relu,flatten,dense:16:relu,dense:10:softmax"
print(qnet.parse_layers(spec))
config = qnet.preset("quick", dataset="digits", spec=spec, activation="relu", epochs=15 if QUICK else 400, seeds=3,
                     learning_rate=3e-3)
built = qnet.model.build(config.network, (8, 8, 1), 10)
for layer in built.layers:
    print(f"{layer.name:9s} {str(layer.out_shape):12s} measured: {layer.measured}")

# %%
run_dir = tempfile.mkdtemp(prefix="qnet-conv-")
records = qnet.run(config, run_dir, progress=not QUICK)
print(qnet.experiment.summary(records))

# %% [markdown]
# The data-processing inequality holds exactly at every epoch: conv1 -> pool1 -> conv2 -> dense
# is a chain, each layer's codes a function of the previous layer's.

# %%
ixt = records["I_XT"]
print("largest increase of I(X;T) from a layer to the next:", float(np.max(np.diff(ixt, axis=2))), "bits")
assert np.all(np.diff(ixt, axis=2) <= 1e-12)

# %%
fig = plots.information_plane(records, title="digits conv net, 8-bit, exact")
plt.show()
shutil.rmtree(run_dir)
