"""The model protocol: what the trainer and the runner need of a network.

A model is any object with two pure functions (qnet's own :class:`~qnet.model.network.QuantizedNetwork`,
a :class:`FunctionalModel` around a plain pair of functions, or a class of your own)::

    params, state = model.init(seed)
    logits, codes, new_state = model.apply(params, state, x, key=key, training=training)

- ``init(seed: int)`` returns the trainable parameters and the non-trainable state (e.g.
  calibrated activation ranges), both pytrees of arrays (NumPy or JAX). Same seed, same pytrees.
- ``apply`` is a pure JAX function of ``x: (n, *input_shape)`` float32 inputs; ``key`` is a
  ``jax.random`` key for stochastic layers (ignore it if there are none); ``training`` is a
  Python bool (True in the training steps, False when the codes are measured). It returns a
  :class:`Forward` or the tuple ``(logits, codes, new_state)``: ``logits (n, n_classes)``; ``codes``
  a tuple with one integer array ``(n, ...)`` per measured layer T_l, in order from the input
  (each sample's entries of one layer form one symbol); ``new_state`` the updated state (return
  ``state`` itself if nothing changes). An optional ``values`` field holds the float values each
  measured layer passes on (the estimator benchmark uses them).

Optional attributes: ``name``; ``layer_names`` (one per measured layer); ``chain`` (True if each
measured layer is a function of the previous one, see :class:`FunctionalModel`).

The trainer vmaps ``init``'s pytrees and ``apply`` over seeds and differentiates the loss
with respect to ``params`` only. For the measured codes to be exact, each layer's codes must
be what the network actually passes on (qnet's quantizers, :mod:`qnet.model.quantizers`,
return both). An Equinox module fits by splitting it: ``params, static = eqx.partition(m, eqx.is_array)``.
"""

from typing import NamedTuple


class Forward(NamedTuple):
    """What ``apply`` returns: ``logits (n, C)``; ``codes``: per measured layer ``(n, ...)``
    integers; ``state``: the new state; ``values``: per observed layer ``(n, ...)`` float values
    (or ``None``)."""

    logits: object
    codes: tuple
    state: object
    values: tuple | None = None


class FunctionalModel:
    """A model from a plain pair of functions.

    init: ``seed -> (params, state)``; apply: ``(params, state, x, *, key, training) -> Forward``
    (or ``(logits, codes, state)``); name: how runs and figures call it; layer_names: one per
    measured layer (default ``T1, T2, ...``); chain: promise that every measured layer's codes are
    a function of the previous measured layer's (a plain feed-forward stack, no skip connection
    from an earlier layer or the input past it, no noise): the counting may then skip layers
    before an injective one (bit-identical). Leave it False when unsure.
    """

    def __init__(self, init, apply, *, name="custom", layer_names=None, chain=False):
        if not callable(init) or not callable(apply):
            raise TypeError("FunctionalModel needs two functions: init(seed) and apply(params, state, x, *, key, training)")
        self.init, self.apply = init, apply
        self.name = str(name)
        self.layer_names = None if layer_names is None else tuple(str(n) for n in layer_names)
        self.chain = bool(chain)

    def __repr__(self):
        return f"FunctionalModel(name={self.name!r})"


def as_forward(out):
    """A model's ``apply`` output as a :class:`Forward` (a 3-tuple is accepted)."""
    if isinstance(out, Forward):
        return out
    if isinstance(out, tuple) and len(out) in (3, 4):
        return Forward(*out)
    raise TypeError("a model's apply must return qnet.Forward(logits, codes, state) or a tuple (logits, codes, state), "
                    f"got {type(out).__name__}")


def check_model(model):
    for name in ("init", "apply"):
        if not callable(getattr(model, name, None)):
            raise TypeError(f"model must have an {name}() method (see qnet.model.protocol), got {type(model).__name__}")
    return model
