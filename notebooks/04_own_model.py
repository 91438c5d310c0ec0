# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Your own JAX model through qnet
#
# qnet trains and measures any model that follows its small protocol
# (`qnet.model.protocol`): `init(seed) -> (params, state)` and
# `apply(params, state, x, *, key, training) -> (logits, codes, state)`, where `codes` holds the
# integer codes of every layer you want measured. Here: a small **residual MLP**, a network qnet
# does not ship, built from qnet's quantizer. Then the same model trained by a plain optax loop of
# our own, and its exact information plane measured without qnet's trainer.
#
# Open as a notebook with jupytext (`pip install jupytext`), or run as a script.
# `QNET_NOTEBOOK_QUICK=1` shortens the training (the test suite runs it that way).

# %%
import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax

import qnet

QUICK = os.environ.get("QNET_NOTEBOOK_QUICK") == "1"
EPOCHS = 30 if QUICK else 600
q8 = qnet.Quantizer(bits=8)

# %% [markdown]
# ## The model: two residual tanh blocks on the synthetic task
#
# Each block quantizes its output to 8 bits on the fixed tanh range [-1, 1]; `fake_quantize`
# returns the integer codes *and* the values the next layer consumes (a bit-exact
# straight-through estimator), so what we count is exactly what the network passes on.
# The skip connection adds the block's own quantized input: block 2 is still a function of block
# 1's codes, so the layers form a chain (`chain=True`).


# %%
def init(seed):
    rng = np.random.default_rng(seed)
    def dense(d_in, d_out):
        return {"w": rng.normal(0, 1 / np.sqrt(d_in), (d_in, d_out)).astype(np.float32),
                "b": np.zeros(d_out, np.float32)}
    return {"inp": dense(12, 8), "res1": dense(8, 8), "res2": dense(8, 8), "out": dense(8, 2)}, {}


def apply(params, state, x, *, key, training):
    def block(h, p):
        return jnp.tanh(h @ p["w"] + p["b"])

    c1, h1 = qnet.fake_quantize(block(x, params["inp"]), -1.0, 1.0, q8)
    c2, h2 = qnet.fake_quantize(jnp.clip(h1 + block(h1, params["res1"]), -1, 1), -1.0, 1.0, q8)
    c3, h3 = qnet.fake_quantize(jnp.clip(h2 + block(h2, params["res2"]), -1, 1), -1.0, 1.0, q8)
    logits = h3 @ params["out"]["w"] + params["out"]["b"]
    codes = tuple(c.astype(jnp.uint8) for c in (c1, c2, c3))
    return qnet.Forward(logits, codes, state, (h1, h2, h3))


model = qnet.FunctionalModel(init, apply, name="residual-mlp", layer_names=("block1", "res1", "res2"), chain=True)

# %% [markdown]
# ## Trained by qnet: records, resume, figures — as for qnet's own networks

# %%
run_dir = tempfile.mkdtemp(prefix="qnet-own-model-")
records = qnet.run(qnet.preset("quick", epochs=EPOCHS, seeds=3), run_dir, model=model, progress=not QUICK)
print(qnet.experiment.summary(records))
print(sorted(os.listdir(run_dir)))

# %% [markdown]
# ## Trained by your own loop, measured by qnet
#
# Nothing of qnet's trainer here: an optax loop of our own. `qnet.measure` then runs the model on
# all 4096 inputs and counts every layer's codes exactly.

# %%
data = qnet.load_dataset("syn")
params, state = init(0)
optimizer = optax.adam(3e-3)
opt_state = optimizer.init(params)


@jax.jit
def step(params, opt_state, x, y):
    def loss(p):
        logits = apply(p, state, x, key=None, training=True).logits
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    grads = jax.grad(loss)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


rng = np.random.default_rng(0)
for epoch in range(EPOCHS):
    for batch in np.array_split(rng.permutation(data.n), 16):
        params, opt_state = step(params, opt_state, data.X[batch], data.y[batch])

plane = qnet.measure(model, params, state, data.X, data.y)
print(plane)

# %% [markdown]
# The plane obeys the data-processing inequality exactly (each block is a function of the
# previous one): I(X;T) can only fall from block to block, and never exceeds log2 4096 = 12 bits.

# %%
assert np.all(np.diff(plane.I_XT) <= 1e-12) and np.all(plane.I_XT <= 12 + 1e-12)

# %% [markdown]
# ## An Equinox module
#
# An Equinox model is a pytree: split it into its arrays (the trainable `params`) and the rest,
# and put it back together in `apply`. The quantizer is qnet's, as above.

# %%
import equinox as eqx  # noqa: E402


class QuantizedMLP(eqx.Module):
    layers: list

    def __init__(self, key):
        keys = jax.random.split(key, 3)
        self.layers = [eqx.nn.Linear(12, 8, key=keys[0]), eqx.nn.Linear(8, 4, key=keys[1]),
                       eqx.nn.Linear(4, 2, key=keys[2])]

    def __call__(self, x):
        codes = []
        for layer in self.layers[:-1]:
            c, x = qnet.fake_quantize(jnp.tanh(jax.vmap(layer)(x)), -1.0, 1.0, q8)
            codes.append(c.astype(jnp.uint8))
        return jax.vmap(self.layers[-1])(x), tuple(codes)


_, static = eqx.partition(QuantizedMLP(jax.random.PRNGKey(0)), eqx.is_array)


def eqx_init(seed):
    params, _ = eqx.partition(QuantizedMLP(jax.random.PRNGKey(seed)), eqx.is_array)
    return params, {}


def eqx_apply(params, state, x, *, key, training):
    logits, codes = eqx.combine(params, static)(x)
    return qnet.Forward(logits, codes, state)


eqx_model = qnet.FunctionalModel(eqx_init, eqx_apply, name="equinox-mlp", layer_names=("h1", "h2"), chain=True)
eqx_dir = tempfile.mkdtemp(prefix="qnet-equinox-")
eqx_records = qnet.run(qnet.preset("quick", epochs=EPOCHS, seeds=2), eqx_dir, model=eqx_model, progress=not QUICK)
print(qnet.experiment.summary(eqx_records))

# %%
import shutil  # noqa: E402

shutil.rmtree(run_dir)
shutil.rmtree(eqx_dir)
