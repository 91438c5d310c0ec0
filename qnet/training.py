"""Training many seeds of a quantized MLP in compiled, vmapped programs (JAX + optax).

Seeds are a leading axis: :class:`Trainer` vmaps one epoch (a ``lax.scan`` over
minibatches) over seeds, then evaluates every seed on the evaluation set and
returns the integer codes of every layer, side by side, as one
``(S, n_eval, D)`` array (``D`` = sum of the layer widths). The seeds are split into
equal groups whose programs run side by side on threads, one per core.

The network computes feature-major (samples on the last axis, see
:func:`qnet.networks.apply_features`); the codes come back as an ``(S, n_eval, D)``
view of that ``(S, D, n_eval)`` array, without a copy.

Randomness is stateless and on the host: seed ``s`` draws its initial weights, and
in epoch ``e`` its order of the training samples, from NumPy streams keyed by ``s``
(and ``e``) alone, so an epoch's result depends only on the state before it
(resuming is exact) and nothing random is compiled.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qnet import networks
from qnet._checks import check_choice, check_int

OPTIMIZERS = {"adam": optax.adam, "sgd": optax.sgd, "rmsprop": optax.rmsprop}


@dataclass(frozen=True)
class TrainConfig:
    """epochs; batch_size (``None`` = full batch); learning_rate; optimizer (adam, sgd, rmsprop);
    seeds: the seeds trained together (each one network)."""

    epochs: int = 100
    batch_size: int | None = 256
    learning_rate: float = 1e-4
    optimizer: str = "adam"
    seeds: tuple = (0,)

    def __post_init__(self):
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        check_int(self.epochs, "epochs", 1)
        if self.batch_size is not None:
            check_int(self.batch_size, "batch_size", 1)
        check_choice(self.optimizer, "optimizer", set(OPTIMIZERS))
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not self.seeds:
            raise ValueError("seeds is empty: give at least one seed")


class TrainState(NamedTuple):
    """Everything that evolves in training, each leaf with a leading seed axis."""

    params: list
    net_state: dict
    opt_state: tuple


class DivergedError(FloatingPointError):
    """Training produced a non-finite loss."""

    def __init__(self, seed, epoch):
        super().__init__(f"training diverged: non-finite loss for seed {seed} at epoch {epoch}")
        self.seed, self.epoch = seed, epoch


def _cpu_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


def _cross_entropy(logits, y, weights):
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    return jnp.sum(weights * ce) / jnp.sum(weights)


def _loss_and_accuracy(logits, y, idx):
    if idx.shape[0] == 0:
        return jnp.nan, jnp.nan
    lg, yy = logits[idx], y[idx]
    loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(lg, yy))
    return loss, jnp.mean(jnp.argmax(lg, axis=-1) == yy)


class Trainer:
    """Compiled training and evaluation of all seeds of one setting.

    X: (n, d_in) inputs; y: (n,) int labels in 0..C-1 with C the output width;
    train_idx / test_idx: index arrays into X; eval_idx: the inputs whose codes are
    counted (default: all n, as the reference study).
    programs: the seeds are split into this many equal groups, each one vmapped
    program, run side by side on threads (XLA runs one small program on about one
    core). ``None``: one per available CPU core (at most one per seed) on CPU, one on
    an accelerator. A seed's numbers are bit-identical in any program of the same
    size; XLA vectorises programs of other sizes differently, and the last-bit
    differences grow in training (in the test: 0.2 % of codes differ after 3 epochs).
    """

    def __init__(self, net, train, X, y, train_idx, test_idx=(), eval_idx=None, programs=None):
        X = np.asarray(X, np.float32)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != net.widths[0]:
            raise ValueError(f"inputs have shape {X.shape} but the network's input width is {net.widths[0]}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"labels have shape {y.shape}, expected ({X.shape[0]},)")
        if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= net.widths[-1]:
            raise ValueError(f"labels must be integers in 0..{net.widths[-1] - 1} (the output width), got range {y.min()}..{y.max()}")
        train_idx = np.asarray(train_idx, np.int64)
        if train_idx.size == 0:
            raise ValueError("train_idx is empty")
        self.net, self.config = net, train
        # jax.device_put, not jnp.asarray: the latter costs ~20 ms per new shape here
        self.X, self.y = jax.device_put(X), jax.device_put(y.astype(np.int32))
        # the network computes feature-major; narrow inputs (SYN: 12) are kept transposed
        # too, wide ones (MNIST: 784) enter as rows (see networks.apply_features)
        self._rows_in = X.shape[1] > networks.ROW_INPUT_WIDTH
        self.XT = None if self._rows_in else jax.device_put(np.ascontiguousarray(X.T))
        self.train_idx = jax.device_put(train_idx.astype(np.int32))
        self.test_idx = jax.device_put(np.asarray(test_idx, np.int32))
        self.eval_idx = None if eval_idx is None else jax.device_put(np.asarray(eval_idx, np.int32))
        self.optimizer = OPTIMIZERS[train.optimizer](train.learning_rate)
        n = train_idx.size
        self.batch = min(train.batch_size or n, n)
        self.n_batches = -(-n // self.batch)
        self.layer_widths = list(net.widths[1:])
        self._prefetched = None
        self._split_seeds(len(train.seeds), programs)
        self._init_optimizer = jax.jit(jax.vmap(self.optimizer.init))
        self._values = jax.jit(jax.vmap(self._eval_values))

    def _split_seeds(self, n_seeds, programs):
        if programs is None:
            programs = _cpu_cores() if jax.default_backend() == "cpu" else 1
        check_int(programs, "programs", 1)
        programs = min(programs, n_seeds)
        size = -(-n_seeds // programs)
        programs = -(-n_seeds // size)  # e.g. 5 seeds on 4 cores: 3 groups of 2, none left empty
        # equal groups (one compiled program); the last one starts early enough to stay
        # in range, and of the seeds two groups share only the first group's are kept
        self._group_size = size
        self._group_starts = tuple(min(g * size, n_seeds - size) for g in range(programs))
        self._group_keep = tuple(g * size - start for g, start in enumerate(self._group_starts))
        self._group_step = jax.jit(self._group_epoch)
        self._merge = jax.jit(self._merge_groups)
        self._pool = ThreadPoolExecutor(programs, thread_name_prefix="qnet-train") if programs > 1 else None

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
        params, net_state, opt_state = carry
        idx, weights = batch

        def loss_fn(p):
            # whole rows (contiguous) are gathered: a column gather from XT is strided
            x = self.X[idx] if self._rows_in else self.X[idx].T
            fwd = networks.apply_features(self.net, p, net_state, x, training=True, rows=self._rows_in)
            return _cross_entropy(fwd.logits.T, self.y[idx], weights), fwd.ranges

        (loss, ranges), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        net_state = {"ranges": ranges, "steps": net_state["steps"] + 1}
        return (params, net_state, opt_state), loss

    def _evaluate(self, params, net_state):
        x = self.X if self._rows_in else self.XT
        fwd = networks.apply_features(self.net, params, net_state, x, training=False, rows=self._rows_in)
        logits = fwd.logits.T
        train = _loss_and_accuracy(logits, self.y, self.train_idx)
        test = _loss_and_accuracy(logits, self.y, self.test_idx)
        metrics = jnp.stack([train[0], train[1], test[0], test[1]]).astype(jnp.float32)
        return fwd, metrics

    def _epoch_and_evaluate(self, state, order):
        idx, weights = self._batches(order)
        carry = (state.params, state.net_state, state.opt_state)
        (params, net_state, opt_state), _ = jax.lax.scan(self._train_step, carry, (idx, weights))
        fwd, metrics = self._evaluate(params, net_state)
        codes = None
        if self.net.bits is not None:  # (D, n_eval): feature-major, as computed
            codes = jnp.concatenate(fwd.codes, axis=0)
            if self.eval_idx is not None:
                codes = codes[:, self.eval_idx]
        return TrainState(params, net_state, opt_state), metrics, codes

    def _group_epoch(self, state, orders, start):
        """One epoch of the seeds start..start+group_size-1 (orders: theirs)."""
        group = jax.tree_util.tree_map(lambda x: jax.lax.dynamic_slice_in_dim(x, start, self._group_size), state)
        return jax.vmap(self._epoch_and_evaluate)(group, orders)

    def _merge_groups(self, outputs):
        """The groups' (state, metrics, codes) joined along the seed axis."""
        return jax.tree_util.tree_map(
            lambda *xs: jnp.concatenate([x[first:] for x, first in zip(xs, self._group_keep)]), *outputs
        )

    def _eval_values(self, state):
        fwd = networks.apply(self.net, state.params, state.net_state, self.X, training=False)
        values = fwd.values if self.eval_idx is None else tuple(v[self.eval_idx] for v in fwd.values)
        return values

    # -- public --------------------------------------------------------------
    def init(self):
        """Initial :class:`TrainState` of every seed (leading axis = seeds)."""
        nets = [networks.init_numpy(self.net, seed) for seed in self.config.seeds]
        params, net_state = jax.device_put(jax.tree_util.tree_map(lambda *xs: np.stack(xs), *nets))
        return TrainState(params, net_state, self._init_optimizer(params))

    def orders(self, epoch):
        """(S, n_train) int32: the order in which each seed visits the training samples in
        ``epoch``. Drawn on the host (NumPy's Philox keyed by (seed, epoch): a shuffle
        costs ~60 us there, against ~1 ms for ``jax.random.permutation`` on CPU); it
        depends only on seed and epoch, so resuming at any epoch is exact."""
        n = self.train_idx.shape[0]
        out = np.empty((len(self.config.seeds), n), np.int32)
        for row, seed in enumerate(self.config.seeds):
            out[row] = networks.seed_generator(seed, epoch).permutation(n)
        return out

    def step(self, state, epoch):
        """Train every seed one epoch (epoch numbers start at 1), then evaluate.

        Returns ``(state, metrics, codes)``: metrics a dict of (S,) float arrays
        (:data:`METRICS`); codes the (S, n_eval, D) integer codes of all layers side
        by side (widths :attr:`layer_widths`), or ``None`` for a float network.
        Raises :class:`DivergedError` on a non-finite loss.
        """
        epoch = int(epoch)
        cached = self._prefetched
        orders = cached[1] if cached is not None and cached[0] == epoch else self.orders(epoch)

        def run_group(state, start):
            # blocking inside the thread lets the groups' programs run at the same time
            out = self._group_step(state, orders[start : start + self._group_size], np.int32(start))
            return jax.block_until_ready(out)

        if self._pool is None:
            dispatched = self._group_step(state, orders, np.int32(0))  # returns before XLA is done
        else:
            futures = [self._pool.submit(run_group, state, start) for start in self._group_starts]
        self._prefetched = (epoch + 1, self.orders(epoch + 1))  # while XLA runs this epoch
        state, metrics, codes = dispatched if self._pool is None else self._merge(tuple(f.result() for f in futures))
        metrics = np.asarray(metrics)
        bad = ~np.isfinite(metrics[:, 0])
        if bad.any():
            raise DivergedError(self.config.seeds[int(np.argmax(bad))], epoch)
        out = {name: metrics[:, i] for i, name in enumerate(METRICS)}
        # (S, n_eval, D) as a view of the feature-major (S, D, n_eval) array: no copy; the
        # counting kernels read it column by column
        return state, out, (None if codes is None else np.asarray(codes).transpose(0, 2, 1))

    @property
    def eval_inputs(self):
        """(n_eval, d_in) inputs whose codes are counted."""
        X = np.asarray(self.X)
        return X if self.eval_idx is None else X[np.asarray(self.eval_idx)]

    def activations(self, state):
        """Per layer, the (S, n_eval, d_l) float32 values each layer passes on (dequantized)."""
        return [np.asarray(v) for v in self._values(state)]


def train(net, train_config, X, y, train_idx, test_idx=(), eval_idx=None, on_epoch=None, keep_codes=()):
    """Train every seed for ``train_config.epochs`` epochs; a plain loop over :meth:`Trainer.step`.

    on_epoch(epoch, codes, metrics) is called after each epoch (codes: (S, n_eval, D)).
    keep_codes: epochs whose codes are copied and returned.
    Returns ``(state, history, kept)``: history maps each metric to an (epochs, S) array.
    """
    trainer = Trainer(net, train_config, X, y, train_idx, test_idx, eval_idx)
    state = trainer.init()
    history = {m: [] for m in METRICS}
    kept = {}
    keep = set(keep_codes)
    for epoch in range(1, train_config.epochs + 1):
        state, metrics, codes = trainer.step(state, epoch)
        for m in METRICS:
            history[m].append(metrics[m])
        if epoch in keep and codes is not None:
            kept[epoch] = codes.copy()
        if on_epoch is not None:
            on_epoch(epoch, codes, metrics)
    return state, {m: np.stack(v) for m, v in history.items()}, kept
