"""Neural variational estimators of mutual information: MINE (Belghazi et al. 2018), NWJ
(Nguyen, Wainwright & Jordan 2010) and InfoNCE (van den Oord et al. 2018), in the forms
and with the defaults of the bmi benchmark (Czyz et al., NeurIPS 2023; Poole et al. 2019).

A joint critic f(x, y), an MLP on the concatenated pair (hidden (16, 8), ReLU), is trained
by Adam (lr 0.1) on mini-batches of 256 from a random half of the samples to maximise a
lower bound on I(X;Y); every 250 steps the bound is evaluated on the held-out half, and
training stops when two evaluations in a row do not improve on the best one (or after
``steps`` steps). The estimate is the best held-out value: the maximum of noisy values, so
biased upwards a little on top of the bias of the bound. Both variables are standardised
(per column, before the split). Each chunk of 250 steps is one jitted ``lax.scan``; the
variables are padded with zero columns to a multiple of 16 so that layers of different
widths share the compiled programs (the padding changes nothing but float32 rounding).

On a batch of B pairs the critic scores every (x_i, y_j): S_ij = f(x_i, y_j); the diagonal
are samples of the joint, the off-diagonal ones of the product of the marginals (NWJ and
InfoNCE train on all B^2 scores, as bmi does; MINE on B shuffled pairs). The first
layer of f acts on the concatenation, W [x; y] = W_x x + W_y y, so the B x B scores cost
two B-row products plus the deeper layers (the same function, computed cheaper).
"""

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qnet._checks import check_int
from qnet.estimators._common import LN2, _pair, _require_inputs, one_hot


def _init_critic(key, d_x, d_y, hidden, padded_x=None, padded_y=None):
    """Parameters of the MLP f: [x; y] -> R, uniform(+-1/sqrt(fan_in)) as equinox and PyTorch
    initialise a linear layer; the first layer's matrix is kept as its x and y blocks, with
    zero rows for the zero columns padding x to ``padded_x`` and y to ``padded_y`` columns."""
    sizes = (d_x + d_y,) + tuple(hidden) + (1,)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / math.sqrt(fan_in)
        layers.append((jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -bound, bound),
                       jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound)))
    w, b = layers[0]
    w_x = jnp.pad(w[:d_x], ((0, (padded_x or d_x) - d_x), (0, 0)))
    w_y = jnp.pad(w[d_x:], ((0, (padded_y or d_y) - d_y), (0, 0)))
    return {"w_x": w_x, "w_y": w_y, "b": b, "deeper": layers[1:]}


def _scores(params, x, y):
    """(B, B) critic scores S_ij = f(x_i, y_j) for x: (B, d_x), y: (B, d_y)."""
    h = jax.nn.relu((x @ params["w_x"])[:, None, :] + (y @ params["w_y"] + params["b"])[None, :, :])
    deeper = params["deeper"]
    for w, b in deeper[:-1]:
        h = jax.nn.relu(h @ w + b)
    w, b = deeper[-1]
    return (h @ w + b)[..., 0]


def _log_mean_exp_off_diagonal(s):
    b = s.shape[0]
    off = jnp.where(jnp.eye(b, dtype=bool), -jnp.inf, s)
    return jax.scipy.special.logsumexp(off) - jnp.log(b * (b - 1.0))


def _bound(kind, s):
    """The lower bound on I (nats) from a batch's scores s: (B, B), all pairs (i, j)."""
    joint = jnp.mean(jnp.diagonal(s))
    if kind == "infonce":
        return jnp.mean(jnp.diagonal(s) - jax.scipy.special.logsumexp(s, axis=1)) + jnp.log(s.shape[0])
    if kind == "nwj":
        b = s.shape[0]
        return joint - jnp.sum(jnp.where(jnp.eye(b, dtype=bool), 0.0, jnp.exp(s - 1.0))) / (b * (b - 1.0))
    return joint - _log_mean_exp_off_diagonal(s)  # Donsker-Varadhan, MINE's bound


def _pair_scores(params, x, y):
    """(B,) critic scores f(x_i, y_i) of the rows of x: (B, d_x), y: (B, d_y)."""
    h = jax.nn.relu(x @ params["w_x"] + y @ params["w_y"] + params["b"])
    deeper = params["deeper"]
    for w, b in deeper[:-1]:
        h = jax.nn.relu(h @ w + b)
    w, b = deeper[-1]
    return (h @ w + b)[:, 0]


def _log_mean_exp(v):
    return jax.scipy.special.logsumexp(v) - jnp.log(v.shape[0])


def _objective(params, kind, x, y, log_ema, alpha, shuffle):
    """(surrogate to maximise, new log moving average) on one training batch.

    NWJ and InfoNCE: the bound on all B x B pairs of the batch, its plain gradient. MINE: as
    in Belghazi et al. (2018), the marginal samples are the batch with y shuffled,
    (x_i, y_pi(i)), so a step costs 2B critic evaluations; the surrogate's gradient is the
    paper's bias-corrected one (section 3.2), E_joint[grad f] - E_marg[e^f grad f] /
    EMA(E_marg[e^f]), the denominator an exponential moving average over batches (weight
    ``alpha`` on the past, started at the first batch's value), kept in log space;
    ``shuffle``: (B,) the permutation pi.
    """
    if kind != "mine":
        return _bound(kind, _scores(params, x, y)), log_ema
    joint = jnp.mean(_pair_scores(params, x, y))
    lme = _log_mean_exp(_pair_scores(params, x, y[shuffle]))
    past = jnp.where(jnp.isfinite(log_ema), log_ema, lme)
    new_log_ema = jax.lax.stop_gradient(jnp.logaddexp(jnp.log(alpha) + past, jnp.log1p(-alpha) + lme))
    return joint - jnp.exp(lme - new_log_ema), new_log_ema


@partial(jax.jit, static_argnames=("kind", "learning_rate", "alpha"))
def _train_chunk(params, opt_state, log_ema, rows, shuffles, x, y, *, kind, learning_rate, alpha):
    """One Adam step per row of ``rows: (steps, B)`` (the batch's sample indices into x, y;
    ``shuffles: (steps, B)`` MINE's permutations of each batch); one lax.scan."""
    optimizer = optax.adam(learning_rate)

    def step(carry, batch):
        params, opt_state, log_ema = carry
        rows, shuffle = batch
        grads, log_ema = jax.grad(_objective, has_aux=True)(params, kind, x[rows], y[rows], log_ema, alpha, shuffle)
        grads = jax.tree_util.tree_map(jnp.negative, grads)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, log_ema), None

    (params, opt_state, log_ema), _ = jax.lax.scan(step, (params, opt_state, log_ema), (rows, shuffles))
    return params, opt_state, log_ema


@partial(jax.jit, static_argnames=("kind",))
def _held_out_bound(params, x_batches, y_batches, *, kind):
    """Mean of the bound (nats) over held-out batches x_batches: (m, B, d_x), y_batches: (m, B, d_y)."""
    return jnp.mean(jax.lax.map(lambda xy: _bound(kind, _scores(params, *xy)), (x_batches, y_batches)))


def _standardise(a, multiple=16):
    """Columns shifted and scaled to mean 0, variance 1 (constant columns to 0), as float32,
    padded with zero columns to a multiple of ``multiple``. A zero column adds exact zeros to
    the critic's first layer and gets zero gradients (its weights, zero-initialised, stay 0),
    so the estimate is the same (up to float32 rounding) while layers of different widths
    share one compiled program."""
    std = a.std(axis=0)
    z = (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)
    z[:, std == 0] = 0.0
    width = -(-a.shape[1] // multiple) * multiple
    return np.pad(z, ((0, 0), (0, width - a.shape[1]))).astype(np.float32)


@dataclass(frozen=True)
class _NeuralEstimator:
    """Shared settings and training of the neural estimators (see the module docstring).

    steps: at most this many Adam steps; batch_size: B; learning_rate: Adam's; hidden: the
    critic's hidden widths; test_every: steps between held-out evaluations; patience:
    evaluations without improvement before stopping; train_fraction: share of samples
    trained on; seed: the one source of randomness (split, initialisation, batches), so the
    same seed gives the same number.
    """

    steps: int = 10_000
    batch_size: int = 256
    learning_rate: float = 0.1
    hidden: tuple = (16, 8)
    test_every: int = 250
    patience: int = 2
    train_fraction: float = 0.5
    seed: int = 0

    _kind = None

    def __post_init__(self):
        check_int(self.steps, "steps", 1)
        check_int(self.batch_size, "batch_size", 2)
        check_int(self.test_every, "test_every", 1)
        check_int(self.patience, "patience", 1)
        check_int(self.seed, "seed", 0)
        if not (isinstance(self.hidden, tuple) and len(self.hidden) >= 1):
            raise TypeError(f"hidden must be a non-empty tuple of widths, got {self.hidden!r}")
        for width in self.hidden:
            check_int(width, "hidden width", 1)
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 < self.train_fraction < 1:
            raise ValueError(f"train_fraction must be in (0, 1), got {self.train_fraction}")

    @property
    def name(self):
        """``KIND-STEPS``, and ``-bBATCH`` where the batch is not the default (InfoNCE's ceiling
        is log2 of it)."""
        default = type(self).__dataclass_fields__["batch_size"].default
        return f"{self._kind}-{self.steps}" + ("" if self.batch_size == default else f"-b{self.batch_size}")

    def _split(self, n):
        n_train = int(round(n * self.train_fraction))
        if n_train < 2 or n - n_train < 2:
            raise ValueError(f"{n} samples are too few to split {self.train_fraction:g}/"
                             f"{1 - self.train_fraction:g} into train and held-out halves of >= 2")
        return n_train, min(self.batch_size, n_train), min(self.batch_size, n - n_train)

    def _alpha(self):
        return 0.0

    def mutual_information(self, x, y):
        """Estimate of I(X;Y) in bits from x: (n, d_x), y: (n, d_y) paired samples.

        Raises FloatingPointError if no held-out value was finite (the critic diverged).
        """
        return self.fit(x, y)["bits"]

    def fit(self, x, y):
        """Train on x: (n, d_x), y: (n, d_y); returns ``{"bits": the estimate, "steps": steps
        taken, "held_out_bits": [the held-out bound after each chunk]}`` (see :meth:`mutual_information`)."""
        x, y = _pair(x, y, "x", "y")
        n = x.shape[0]
        n_train, batch, test_batch = self._split(n)
        d_x, d_y = x.shape[1], y.shape[1]
        x, y = _standardise(x), _standardise(y)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(n)
        train, test = order[:n_train], order[n_train:]
        m = len(test) // test_batch
        test = test[:m * test_batch]
        x_test, y_test = (jnp.asarray(a[test].reshape(m, test_batch, -1)) for a in (x, y))
        x_train, y_train = jnp.asarray(x[train]), jnp.asarray(y[train])
        params = _init_critic(jax.random.PRNGKey(self.seed), d_x, d_y, self.hidden, x.shape[1], y.shape[1])
        opt_state = optax.adam(self.learning_rate).init(params)
        log_ema = jnp.float32(-jnp.inf)
        best, since_best, done, history = -math.inf, 0, 0, []
        while done < self.steps:
            chunk = min(self.test_every, self.steps - done)
            rows = np.stack([rng.permutation(n_train)[:batch] for _ in range(chunk)]).astype(np.int32)
            shuffles = np.stack([rng.permutation(batch) for _ in range(chunk)]).astype(np.int32)
            params, opt_state, log_ema = _train_chunk(
                params, opt_state, log_ema, rows, shuffles, x_train, y_train, kind=self._kind,
                learning_rate=float(self.learning_rate), alpha=float(self._alpha()))
            done += chunk
            value = float(_held_out_bound(params, x_test, y_test, kind=self._kind))
            history.append(value / LN2)
            if math.isfinite(value) and value > best:
                best, since_best = value, 0
            else:
                since_best += 1
                if since_best >= self.patience:
                    break
        if not math.isfinite(best):
            raise FloatingPointError(f"{self.name}: no finite held-out value in {done} steps (the critic diverged)")
        return {"bits": best / LN2, "steps": done, "held_out_bits": history}

    def __call__(self, activations, labels, inputs=None):
        """(I_XT, I_TY) estimates in bits: I(X;T) from (inputs, activations), I(T;Y) from
        (activations, one-hot labels). activations: (n, d); labels: (n,); inputs: (n, d_x)."""
        inputs = _require_inputs(inputs, type(self).__name__)
        return (self.mutual_information(inputs, activations),
                self.mutual_information(activations, one_hot(labels, np.shape(activations)[0])))


@dataclass(frozen=True)
class MINE(_NeuralEstimator):
    """MINE (Belghazi et al. 2018, arXiv:1801.04062): the Donsker-Varadhan bound

    I(X;Y) >= E_p(x,y)[f] - ln E_p(x)p(y)[e^f].

    Training, as in the paper (and bmi): each step takes B joint pairs (x_i, y_i) and as
    marginal samples the same batch with y shuffled, (x_i, y_pi(i)) (2B critic evaluations,
    not B^2), and follows the moving-average gradient correction of section 3.2: the gradient
    of the second term, E[e^f grad f] / E[e^f], has its denominator replaced by an exponential
    moving average over batches (``smoothing``: weight on the past, 0.9 as in bmi; started at
    the first batch's value) to reduce the bias of the mini-batch gradient. The held-out value
    is the plain bound on all pairs of each held-out batch, mean_i S_ii - ln mean_{i != j}
    e^{S_ij}. An estimate in bits; see :class:`_NeuralEstimator` for the settings.
    """

    smoothing: float = 0.9

    _kind = "mine"

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.smoothing < 1:
            raise ValueError(f"smoothing must be in (0, 1), got {self.smoothing}")

    def _alpha(self):
        return self.smoothing


@dataclass(frozen=True)
class NWJ(_NeuralEstimator):
    """NWJ (Nguyen, Wainwright & Jordan 2010; "f-GAN KL" / I_NWJ of Poole et al. 2019):

    I(X;Y) >= E_p(x,y)[f] - e^{-1} E_p(x)p(y)[e^f],

    on a batch: mean_i S_ii - mean_{i != j} e^{S_ij - 1}. Unbiased on a batch but of high
    variance (the exponential); an estimate in bits. Settings: see :class:`_NeuralEstimator`.
    """

    _kind = "nwj"


@dataclass(frozen=True)
class InfoNCE(_NeuralEstimator):
    """InfoNCE (van den Oord, Li & Vinyals 2018, arXiv:1807.03748; Poole et al. 2019):

    I(X;Y) >= E[ (1/B) sum_i ln( e^{S_ii} / ((1/B) sum_j e^{S_ij}) ) ],

    the contrastive bound over batches of B pairs. Every term is at most ln B, so the
    estimate can never exceed log2 B bits, whatever the true value: the held-out value is
    averaged over held-out batches of B' = min(batch_size, held-out samples) pairs, so its
    ceiling is :meth:`ceiling_bits` = log2 B'. Estimates at the ceiling say "at least this
    much", not "this much". Settings: see :class:`_NeuralEstimator`.
    """

    _kind = "infonce"

    def ceiling_bits(self, n):
        """The largest value this estimator can return on n samples: log2 of its held-out batch."""
        return math.log2(self._split(check_int(n, "n", 4))[2])
