"""The exact information plane of a trained model, without qnet's trainer.

    plane = qnet.measure(model, params, state, X, y)
    plane.I_XT, plane.I_TY          # (L,) bits, one entry per measured layer
    print(plane)                    # a table

``model`` is any :mod:`qnet.model.protocol` model (qnet's own, a :class:`~qnet.model.protocol.FunctionalModel`
around your functions, ...) and ``params, state`` its trained parameters and state, e.g. loaded
from your own checkpoint. The forward pass runs once on all of ``X`` (``training=False``), and
every measured layer's codes are counted exactly: I(X;T) = H(T) (a deterministic layer on the
n inputs, each equally likely), I(T;Y) = H(T) - H(T|Y).
"""

from typing import NamedTuple

import jax
import numpy as np

from qnet import information
from qnet.model.protocol import as_forward, check_model


class InformationPlane(NamedTuple):
    """One point per measured layer: ``names``; ``widths`` (values per sample); ``I_XT``, ``I_TY``
    (bits); ``n_states`` (distinct codes); ``n`` samples; ``H_Y`` (bits)."""

    names: tuple
    widths: tuple
    I_XT: np.ndarray
    I_TY: np.ndarray
    n_states: np.ndarray
    n: int
    H_Y: float

    def __str__(self):
        lines = [f"exact information plane on n = {self.n} inputs (log2 n = {np.log2(self.n):.3f} bits, "
                 f"H(Y) = {self.H_Y:.5f} bits)", f"{'layer':<12}{'values':>8}{'states':>9}{'I(X;T)':>10}{'I(T;Y)':>10}"]
        for row in zip(self.names, self.widths, self.n_states, self.I_XT, self.I_TY):
            lines.append(f"{row[0]:<12}{row[1]:>8}{row[2]:>9}{row[3]:>10.4f}{row[4]:>10.4f}")
        return "\n".join(lines)


def layer_codes(model, params, state, X, key=None):
    """The integer codes of every measured layer of ``model`` on ``X``: a list of ``(n, ...)`` arrays."""
    check_model(model)
    key = jax.random.PRNGKey(0) if key is None else key
    fwd = jax.jit(lambda p, s, x: as_forward(model.apply(p, s, x, key=key, training=False)))(params, state, X)
    return [np.asarray(c) for c in fwd.codes]


def measure(model, params, state, X, labels, key=None):
    """The exact :class:`InformationPlane` of a trained, deterministic model on inputs ``X (n, ...)``
    with labels ``labels (n,)``. Layers are named by ``model.layer_names`` when it has them."""
    codes = layer_codes(model, params, state, np.asarray(X, np.float32), key)
    if not codes:
        raise ValueError("the model has no measured layers (its apply returns no codes)")
    n = codes[0].shape[0]
    blocks = [c.reshape(n, -1) for c in codes]
    chain = bool(getattr(model, "chain", False))
    plane, counts = information.information_batch(blocks, labels, chain=chain, return_counts=True)
    names = getattr(model, "layer_names", None) or [f"T{i + 1}" for i in range(len(codes))]
    return InformationPlane(tuple(names), tuple(b.shape[1] for b in blocks), plane[0, :, 0], plane[0, :, 1], counts[0],
                            n, information.entropy(labels))


NOISY_KEYS = ("H_T_given_X", "exact", "stderr_I_XT")  # what the records of a noisy net add


def noisy_plane(chain, first_codes, labels, seed=0):
    """The information plane of the layers of a :class:`~qnet.model.noise.NoisyChain`, summed over
    every noise value.

    first_codes: ``(n, d)`` codes S of the first noisy layer (before its noise), a function of X.
    Returns a dict of ``(L,)`` arrays: ``I_XT, I_TY, H_T_given_Y, H_T_given_X`` (bits),
    ``n_states`` (codes of positive probability), ``exact`` (False where the value is a Monte Carlo
    estimate, or NaN because the exact support is beyond its budget) and ``stderr_I_XT`` (bits, 0
    when exact). The first layer falls back to an unbiased Monte Carlo estimate of H(T) (with exact
    p(t)) past the exact budget; the layers after it are exact or NaN.
    """
    n_layers = len(chain.noises)
    out = {key: np.full(n_layers, np.nan) for key in ("I_XT", "I_TY", "H_T_given_Y", "H_T_given_X", "stderr_I_XT")}
    out["n_states"] = np.full(n_layers, -1, np.int64)
    out["exact"] = np.zeros(n_layers, bool)

    def store(j, info):
        out["I_XT"][j], out["I_TY"][j] = info.I_XT, info.I_TY
        out["H_T_given_Y"][j], out["H_T_given_X"][j] = info.H_T_given_Y, info.H_T_given_X
        out["n_states"][j], out["exact"][j], out["stderr_I_XT"][j] = info.support, info.exact, info.stderr

    low, high = chain.bounds[0]
    try:
        conditionals = information.noisy_conditionals(first_codes, chain.noises[0], low=low, high=high)
    except ValueError:  # beyond the exact chain's budget: the first layer alone, estimated if need be
        store(0, information.noisy_information(first_codes, labels, chain.noises[0], low=low, high=high, seed=seed))
        return out
    store(0, information.conditional_information(conditionals, labels))
    for j in range(1, n_layers):
        low, high = chain.bounds[j]
        try:
            conditionals = information.push_conditionals(conditionals, chain.maps[j - 1], chain.noises[j], low=low,
                                                         high=high)
        except ValueError:
            break  # the later layers stay NaN, exact = False: beyond the budget
        store(j, information.conditional_information(conditionals, labels))
    return out
