"""Training many seeds of a model in compiled, vmapped programs (JAX + optax).

Seeds are a leading axis: :class:`Trainer` vmaps one epoch (a ``lax.scan`` over minibatches)
over seeds, then evaluates every seed on all inputs and returns the integer codes of every
measured layer side by side, as one ``(S, n_eval, D)`` array (``D`` = the layers' sizes
summed). The seeds are split into equal groups whose programs run side by side on threads.

Any model that follows :mod:`qnet.model.protocol` trains here: qnet's
:class:`~qnet.model.network.QuantizedNetwork`, or a pair of functions of your own.

Randomness is stateless: seed ``s`` draws its initial weights (``model.init(s)``), in epoch
``e`` its order of the training samples from a NumPy stream keyed by ``(s, e)``, and a
stochastic layer's noise from the JAX key ``fold_in(fold_in(key(s), e), minibatch)``; so an
epoch's result depends only on the state before it (resuming is exact).
"""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qnet._random import PREFIT_STREAM, seed_generator
from qnet.model.protocol import as_forward, check_model
from qnet.training.config import OPTIMIZERS

METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


class TrainState(NamedTuple):
    """Everything that evolves in training, each leaf with a leading seed axis."""

    params: object
    model_state: object
    opt_state: object


def cpu_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_programs(n_seeds):
    """One program per CPU core (at most one per seed) on CPU, one on an accelerator."""
    return min(cpu_cores(), n_seeds) if jax.default_backend() == "cpu" else 1


def seed_groups(n_seeds, programs):
    """``(size, starts, keep)`` of ``programs`` equal groups covering ``n_seeds`` seeds.

    e.g. 5 seeds in 4 programs: 3 groups of 2 (none left empty); the last group starts early
    enough to stay in range, and of the seeds two groups share only the first group's are kept.
    """
    programs = min(programs, n_seeds)
    size = -(-n_seeds // programs)
    programs = -(-n_seeds // size)
    starts = tuple(min(g * size, n_seeds - size) for g in range(programs))
    keep = tuple(g * size - start for g, start in enumerate(starts))
    return size, starts, keep


def _key_data(seed):
    """The raw threefry key of a 64-bit seed, as ``jax.random.PRNGKey(seed)`` builds it."""
    return np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], np.uint32)


def _loss_and_accuracy(logits, y, idx):
    if idx.shape[0] == 0:
        return jnp.nan, jnp.nan
    lg, yy = logits[idx], y[idx]
    loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(lg, yy))
    return loss, jnp.mean(jnp.argmax(lg, axis=-1) == yy)


class Trainer:
    """Compiled training and evaluation of all seeds of one setting.

    model: a :mod:`~qnet.model.protocol` model; config: a :class:`~qnet.training.config.TrainConfig`;
    X: ``(n, *input_shape)`` inputs; y: ``(n,)`` integer labels in ``0..C-1`` (C = the logits'
    width); train_idx / test_idx: index arrays into X; eval_idx: the inputs whose codes are
    counted (default: all n, as the reference study). programs: overrides ``config.programs``.
    """

    def __init__(self, model, config, X, y, train_idx, test_idx=(), eval_idx=None, programs=None):
        self.model, self.config = check_model(model), config
        X = np.asarray(X, np.float32)
        y = np.asarray(y)
        if X.ndim < 2:
            raise ValueError(f"inputs must have shape (n, ...) with one row per sample, got {X.shape}")
        if y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
            raise ValueError(f"labels must be ({X.shape[0]},) integers, got shape {y.shape} dtype {y.dtype}")
        train_idx = np.asarray(train_idx, np.int64)
        if train_idx.size == 0:
            raise ValueError("train_idx is empty")
        # jax.device_put, not jnp.asarray: the latter costs ~20 ms per new shape here
        self.X, self.y = jax.device_put(X), jax.device_put(y.astype(np.int32))
        self.train_idx = jax.device_put(train_idx.astype(np.int32))
        self.test_idx = jax.device_put(np.asarray(test_idx, np.int32))
        self.eval_idx = None if eval_idx is None else jax.device_put(np.asarray(eval_idx, np.int32))
        self.optimizer = OPTIMIZERS[config.optimizer](config.learning_rate)
        n = train_idx.size
        self.batch = min(config.batch_size or n, n)
        self.n_batches = -(-n // self.batch)
        self.seeds = config.seed_values
        self._keys = jax.device_put(np.stack([_key_data(s) for s in self.seeds]))
        # a model that can compute with the samples last (qnet's networks) hands its codes over as
        # (D, n): no transpose in XLA, and the counting kernels read the (n, D) view column by column
        self._samples_last = callable(getattr(model, "apply_samples_last", None))
        self._forward = model.apply_samples_last if self._samples_last else model.apply
        self._true_y = jax.device_put(np.broadcast_to(y.astype(np.int32), (len(self.seeds), y.size)).copy())
        self._prefit_y = None
        self._describe_layers(X, int(y.max()))
        self.programs = programs if programs is not None else config.programs
        self.programs = default_programs(len(self.seeds)) if self.programs is None else self.programs
        self._group_size, self._group_starts, self._group_keep = seed_groups(len(self.seeds), self.programs)
        self._group_step = jax.jit(self._group_epoch)
        self._merge = jax.jit(self._merge_groups)
        n_groups = len(self._group_starts)
        self._pool = ThreadPoolExecutor(n_groups, thread_name_prefix="qnet-train") if n_groups > 1 else None
        self._init_optimizer = jax.jit(jax.vmap(self.optimizer.init))
        self._values = jax.jit(jax.vmap(self._eval_values))
        self._prefetched = None

    def _describe_layers(self, X, largest_label):
        params, state = self.model.init(self.seeds[0])
        out = jax.eval_shape(lambda p, s, x: as_forward(self.model.apply(p, s, x, key=jax.random.PRNGKey(0), training=False)),
                             params, state, X[:2])
        if out.logits.ndim != 2 or out.logits.shape[0] != 2:
            raise ValueError(f"the model's logits must have shape (n, n_classes), got {out.logits.shape} for 2 inputs")
        self.n_classes = int(out.logits.shape[1])
        if largest_label >= self.n_classes:
            raise ValueError(f"labels must be integers in 0..{self.n_classes - 1} (the model's output width), "
                             f"got labels up to {largest_label}")
        for i, c in enumerate(out.codes):
            if not jnp.issubdtype(c.dtype, jnp.integer):
                raise TypeError(f"the model's codes of measured layer {i + 1} have dtype {c.dtype}; codes must be integers")
        self.layer_shapes = [tuple(c.shape[1:]) for c in out.codes]
        self.layer_widths = [int(np.prod(s, dtype=np.int64)) for s in self.layer_shapes]
        self.code_dtype = np.result_type(*[c.dtype for c in out.codes]) if out.codes else None
        names = getattr(self.model, "layer_names", None)
        self.layer_names = list(names) if names else [f"T{i + 1}" for i in range(len(out.codes))]
        if len(self.layer_names) != len(out.codes):
            raise ValueError(f"the model names {len(self.layer_names)} layers but returns codes of {len(out.codes)}")
        n_values = len(out.values or ())
        names = getattr(self.model, "value_names", None)
        self.value_names = list(names) if names and len(names) == n_values else [f"V{i + 1}" for i in range(n_values)]

    # -- pure per-seed functions, vmapped over seeds -------------------------
    def _batches(self, order):
        """(n_batches, batch) indices into X and weights from one epoch's order of the
        training samples; the last batch is padded with zero-weight repeats of its own
        samples, so ranges see only real batch members."""
        n, b = self.train_idx.shape[0], self.batch
        perm = self.train_idx[order]
        pos = jnp.arange(self.n_batches * b).reshape(self.n_batches, b)
        start = (jnp.arange(self.n_batches) * b)[:, None]
        remaining = jnp.minimum(n - start, b)
        safe = jnp.where(pos < n, pos, start + (pos - start) % remaining)
        return perm[safe], (pos < n).astype(jnp.float32)

    def _train_step(self, carry, batch):
        params, model_state, opt_state, labels, key = carry
        idx, weights, step = batch

        def loss_fn(p):
            fwd = as_forward(self._forward(p, model_state, self.X[idx], key=jax.random.fold_in(key, step),
                                           training=True))
            ce = optax.softmax_cross_entropy_with_integer_labels(fwd.logits, labels[idx])
            return jnp.sum(weights * ce) / jnp.sum(weights), fwd.state

        (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, new_state, opt_state, labels, key), loss

    def _forward_all(self, params, model_state, key):
        """The evaluation pass over all inputs: logits and codes (values are not kept).

        A model with an ``eval_chunk`` (qnet's conv nets) is evaluated in chunks of that many
        inputs with ``lax.map``: the same numbers (each input's pass is its own; a model whose
        calibration looks at the whole evaluated tensor has no chunk), and the intermediate feature
        maps stay in the cache (measured: MNIST conv net, 70,000 inputs, 3.6x faster)."""
        chunk = getattr(self.model, "eval_chunk", None)
        n = self.X.shape[0]
        if not chunk or n <= chunk:
            fwd = as_forward(self._forward(params, model_state, self.X, key=key, training=False))
            return fwd.logits, fwd.codes
        m = -(-n // chunk)
        xs = jnp.pad(self.X, ((0, m * chunk - n),) + ((0, 0),) * (self.X.ndim - 1)).reshape((m, chunk) + self.X.shape[1:])

        def one(x):
            fwd = as_forward(self._forward(params, model_state, x, key=key, training=False))
            return fwd.logits, fwd.codes

        logits, codes = jax.lax.map(one, xs)
        logits = logits.reshape(m * chunk, -1)[:n]
        if self._samples_last:  # (m, *shape, chunk) -> (*shape, n)
            codes = tuple(jnp.moveaxis(c, 0, -2).reshape(c.shape[1:-1] + (m * chunk,))[..., :n] for c in codes)
        else:  # (m, chunk, *shape) -> (n, *shape)
            codes = tuple(c.reshape((m * chunk,) + c.shape[2:])[:n] for c in codes)
        return logits, codes

    def _evaluate(self, params, model_state, key):
        logits, codes = self._forward_all(params, model_state, key)
        fwd = as_forward((logits, codes, model_state))
        train = _loss_and_accuracy(fwd.logits, self.y, self.train_idx)
        test = _loss_and_accuracy(fwd.logits, self.y, self.test_idx)
        return fwd, jnp.stack([train[0], train[1], test[0], test[1]]).astype(jnp.float32)

    def _train_epoch(self, state, order, labels, seed_key, epoch):
        """One seed's epoch of minibatch steps: ``(state, losses, key)``, the key its evaluation draws from."""
        idx, weights = self._batches(order)
        key = jax.random.fold_in(seed_key, epoch)
        carry = (state.params, state.model_state, state.opt_state, labels, key)
        steps = jnp.arange(self.n_batches)
        (params, model_state, opt_state, _, _), losses = jax.lax.scan(self._train_step, carry, (idx, weights, steps))
        return TrainState(params, model_state, opt_state), losses, jax.random.fold_in(key, self.n_batches)

    def _evaluate_codes(self, state, key):
        """One seed's evaluation: ``(metrics, codes)``, codes all measured layers side by side
        (``(D, n_eval)`` for a samples-last model, else ``(n_eval, D)``) or ``None``."""
        fwd, metrics = self._evaluate(state.params, state.model_state, key)
        if not fwd.codes:
            return metrics, None
        n = fwd.logits.shape[0]
        if self._samples_last:  # (D, n)
            codes = jnp.concatenate([c.reshape(-1, n).astype(self.code_dtype) for c in fwd.codes], axis=0)
            return metrics, codes if self.eval_idx is None else codes[:, self.eval_idx]
        codes = jnp.concatenate([c.reshape(n, -1).astype(self.code_dtype) for c in fwd.codes], axis=1)
        return metrics, codes if self.eval_idx is None else codes[self.eval_idx]

    def _group_epoch(self, state, orders, labels, start, epoch):
        """One epoch of the seeds start..start+group_size-1 (orders, labels: theirs).

        Training is vmapped over the seeds. So is the evaluation, except for a model evaluated in
        chunks (conv nets): those seeds are evaluated one after another (``lax.map``), which
        measured 2x faster than vmap here (MNIST conv net, 70,000 inputs: 0.62 s against 1.36 s
        per seed). Either way a seed's codes depend on its own parameters only."""
        group = jax.tree_util.tree_map(lambda x: jax.lax.dynamic_slice_in_dim(x, start, self._group_size),
                                       (state, self._keys))
        trained, losses, keys = jax.vmap(self._train_epoch, in_axes=(0, 0, 0, 0, None))(
            group[0], orders, labels, group[1], epoch)
        if getattr(self.model, "eval_chunk", None):
            metrics, codes = jax.lax.map(lambda a: self._evaluate_codes(*a), (trained, keys))
        else:
            metrics, codes = jax.vmap(self._evaluate_codes)(trained, keys)
        finite = jnp.all(jnp.isfinite(losses), axis=1) & jnp.isfinite(metrics[:, 0])
        return trained, metrics, finite, codes

    def _merge_groups(self, outputs):
        """The groups' (state, metrics, finite, codes) joined along the seed axis."""
        return jax.tree_util.tree_map(
            lambda *xs: jnp.concatenate([x[first:] for x, first in zip(xs, self._group_keep)]), *outputs
        )

    def _eval_values(self, state):
        fwd = as_forward(self._forward(state.params, state.model_state, self.X, key=jax.random.PRNGKey(0),
                                       training=False))
        if fwd.values is None:
            raise ValueError("the model's apply returns no values (Forward.values), so there are no activations")
        values = tuple(jnp.moveaxis(v, -1, 0) for v in fwd.values) if self._samples_last else fwd.values
        return values if self.eval_idx is None else tuple(v[self.eval_idx] for v in values)

    # -- public --------------------------------------------------------------
    def init(self):
        """Initial :class:`TrainState` of every seed (leading axis = seeds)."""
        nets = [self.model.init(seed) for seed in self.seeds]
        params, model_state = jax.device_put(jax.tree_util.tree_map(lambda *xs: np.stack(xs), *nets))
        return TrainState(params, model_state, self._init_optimizer(params))

    def orders(self, epoch):
        """(S, n_train) int32: the order in which each seed visits the training samples in
        ``epoch``. Drawn on the host (NumPy's Philox keyed by (seed, epoch): a shuffle
        costs ~60 us there, against ~1 ms for ``jax.random.permutation`` on CPU); it
        depends only on seed and epoch, so resuming at any epoch is exact."""
        n = self.train_idx.shape[0]
        out = np.empty((len(self.seeds), n), np.int32)
        for row, seed in enumerate(self.seeds):
            out[row] = seed_generator(seed, epoch).permutation(n)
        return out

    def prefit_labels(self):
        """(S, n) int32: each seed's labels with the training labels randomly permuted (the
        prefit of Lorenzen et al. 2022); test labels stay true."""
        if self._prefit_y is None:
            y = np.asarray(self.y)
            train = np.asarray(self.train_idx)
            out = np.empty((len(self.seeds), y.size), np.int32)
            for row, seed in enumerate(self.seeds):
                out[row] = y
                out[row, train] = y[train][seed_generator(seed, PREFIT_STREAM).permutation(train.size)]
            self._prefit_y = jax.device_put(out)
        return self._prefit_y

    def step(self, state, epoch, prefit=False):
        """Train every seed one epoch (epoch numbers start at 1), then evaluate.

        prefit: train on :meth:`prefit_labels` (metrics are always against the true labels).
        Returns ``(state, metrics, codes)``: metrics a dict of (S,) arrays (:data:`METRICS`, and
        ``finite``: False for a seed whose loss became non-finite in this epoch: it diverged);
        codes the (S, n_eval, D) integer codes of all measured layers side by side (widths
        :attr:`layer_widths`), or ``None`` for a model without measured layers.
        """
        epoch = int(epoch)
        cached = self._prefetched
        orders = cached[1] if cached is not None and cached[0] == epoch else self.orders(epoch)
        labels = self.prefit_labels() if prefit else self._true_y
        e = np.int32(epoch)

        def run_group(start):
            # blocking inside the thread lets the groups' programs run at the same time
            sl = slice(start, start + self._group_size)
            return jax.block_until_ready(self._group_step(state, orders[sl], labels[sl], np.int32(start), e))

        if self._pool is None:
            dispatched = self._group_step(state, orders, labels, np.int32(0), e)  # returns before XLA is done
        else:
            futures = [self._pool.submit(run_group, start) for start in self._group_starts]
        self._prefetched = (epoch + 1, self.orders(epoch + 1))  # while XLA runs this epoch
        state, metrics, finite, codes = dispatched if self._pool is None else self._merge(tuple(f.result() for f in futures))
        metrics = np.asarray(metrics)
        out = {name: metrics[:, i] for i, name in enumerate(METRICS)}
        out["finite"] = np.asarray(finite)
        if codes is not None:
            # (S, n_eval, D); for a samples-last model a view of the (S, D, n_eval) array, without a copy
            codes = np.asarray(codes).transpose(0, 2, 1) if self._samples_last else np.asarray(codes)
        return state, out, codes

    @property
    def eval_inputs(self):
        """(n_eval, ...) inputs whose codes are counted."""
        X = np.asarray(self.X)
        return X if self.eval_idx is None else X[np.asarray(self.eval_idx)]

    @property
    def eval_labels(self):
        y = np.asarray(self.y)
        return y if self.eval_idx is None else y[np.asarray(self.eval_idx)]

    def activations(self, state):
        """Per observed layer, the (S, n_eval, ...) float32 values it passes on (dequantized)."""
        return [np.asarray(v) for v in self._values(state)]


def train(model, config, X, y, train_idx, test_idx=(), eval_idx=None, on_epoch=None):
    """Train every seed for ``config.prefit_epochs + config.epochs`` epochs; a plain loop over
    :meth:`Trainer.step`. on_epoch(epoch, codes, metrics) is called after each epoch.
    Returns ``(trainer, state, history)``: history maps each metric to an (epochs, S) array."""
    trainer = Trainer(model, config, X, y, train_idx, test_idx, eval_idx)
    state = trainer.init()
    history = {m: [] for m in METRICS + ("finite",)}
    for epoch in range(1, config.total_epochs + 1):
        state, metrics, codes = trainer.step(state, epoch, prefit=epoch <= config.prefit_epochs)
        for m in history:
            history[m].append(metrics[m])
        if on_epoch is not None:
            on_epoch(epoch, codes, metrics)
    return trainer, state, {m: np.stack(v) for m, v in history.items()}
