# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exact information planes of noisy quantized networks
#
# Goldfeld et al. (ICML 2019): in a deterministic network I(X;T) only counts distinct codes, and
# "compression" means something only in a *noisy* network — where they must estimate it. With
# discrete noise on integer codes, T = clip(S + Z, low, high), the quantities are finite sums,
# and qnet computes them exactly:
#
# - H(T|X) = (1/n) sum_i H(T | x_i) (without clipping: d H(P), whatever the network does);
# - P(t) = sum_k w_k prod_u P(t_u - c_ku), a finite mixture over the distinct codes c_k;
# - I(X;T) = H(T) - H(T|X), I(T;Y) = H(T) - sum_y p(y) H(T | Y = y).
#
# Set `QNET_REFERENCE_RUNS` to a folder holding a finished `syn-tanh-8-noisy` run to use it;
# otherwise a short run is trained (`QNET_NOTEBOOK_QUICK=1` shortens it further).

# %%
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import qnet
from qnet import plots
from qnet.estimators.sample_propagation import compare_with_exact, format_comparison

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"

# %% [markdown]
# ## One layer: noise families and the closed form of a binary symmetric channel
# A balanced binary unit through a channel that flips it with probability eps keeps 1 - h2(eps) bits.

# %%
codes = np.repeat([0, 1], 50)[:, None]
eps = 0.1
h2 = -(eps * np.log2(eps) + (1 - eps) * np.log2(1 - eps))
i_xt, _ = qnet.noisy_layer_information(codes, codes[:, 0], qnet.Flip(2 * eps), low=0, high=1)
print(f"I(X;T) = {i_xt:.6f} bits; 1 - h2(eps) = {1 - h2:.6f} bits")

rng = np.random.default_rng(0)
s = rng.integers(0, 16, size=(512, 3))
y = (s.sum(axis=1) > 22).astype(int)
for noise in (qnet.Flip(0.0), qnet.Flip(0.2), qnet.Uniform(1), qnet.Gaussian(1.0), qnet.Gaussian(3.0)):
    info = qnet.noisy_information(s, y, noise, low=0, high=15)
    print(f"{str(noise):38s} I(X;T) = {info.I_XT:6.3f}  H(T|X) = {info.H_T_given_X:6.3f}  I(T;Y) = {info.I_TY:.4f} "
          f"bits ({'exact' if info.exact else 'Monte Carlo estimate'})")

# %% [markdown]
# ## A noisy network: the synthetic net with noise on its width-3 layer
#
# The preset `syn-tanh-8-noisy` adds rounded Gaussian noise (sigma = 0.5 quantization levels) to
# the codes of the width-3 layer, in training and in measurement. The layers after the noise
# form a Markov chain X -> T_noise -> T_out; qnet sums over every noise value, so the plane is
# exact and the data-processing inequality holds to the bit.

# %%
saved = os.environ.get("QNET_REFERENCE_RUNS")
folder = Path(saved) / "syn-tanh-8-noisy" if saved else None
own = None
if folder is not None and (folder / "manifest.json").exists():
    records = qnet.load_records(folder)
else:
    own = tempfile.mkdtemp(prefix="qnet-noisy-")
    short = dict(epochs=8, seeds=2, mi_epochs="log:4", save_codes=[8]) if QUICK else dict(epochs=1500, seeds=4)
    folder = Path(own)
    records = qnet.run(qnet.preset("syn-tanh-8-noisy", **short), folder, progress=not QUICK)
print(qnet.experiment.summary(records))
assert records["exact"].all()
assert np.all(np.diff(records["I_XT"], axis=2) <= 1e-9)  # the DPI, through the noise

# %%
fig = plots.information_plane(records, title="syn-tanh-8-noisy: exact, noise summed over")
plt.show()

# %% [markdown]
# ## Sample propagation against the exact values
#
# Goldfeld et al.'s sample-propagation (SP) estimator estimates I(X; S + Z) for *continuous*
# Gaussian Z by Monte Carlo over the Gaussian mixture. On the same codes, qnet computes the exact
# value for the *rounded* Gaussian (unclipped here, as SP's channel): by data processing the
# exact value is at most SP's quantity, so the gap is what rounding to the grid removes, not an
# estimator error. On the noisy layer's codes at the last saved epoch:

# %%
epoch = qnet.saved_code_epochs(folder)[-1]
layer_codes = qnet.load_codes(folder, epoch)["noise1"][0]
labels = qnet.load_dataset("syn").y
rows = compare_with_exact(layer_codes, labels, (0.25, 0.5, 1.0), n_samples=512 if QUICK else 4096)
print(f"epoch {epoch}, seed {int(records['seeds'][0])}")
print(format_comparison(rows))

# %%
if own is not None:
    shutil.rmtree(own)
