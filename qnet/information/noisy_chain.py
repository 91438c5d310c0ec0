"""Exact conditionals P(T_l | X) through a chain of noisy layers, for narrow layers.

With noise at every layer, X -> T_1 -> T_2 -> ... is a Markov chain:
T_1 = clip(S_1 + Z_1), T_{l+1} = clip(f_l(T_l) + Z_{l+1}) with f_l the network's
deterministic integer map, so

    P(T_{l+1} = t' | x) = sum_t P(T_l = t | x) prod_u P_{l+1}(t'_u - f_l(t)_u)   (clipped).

Inputs with equal first-layer codes S_1 have equal conditionals at every depth, so the
conditionals are kept per *group* (distinct S_1 code) as sparse rows (CSR): group g's rows
``offsets[g]:offsets[g + 1]`` of ``codes`` and ``probs``, each support code once. Pushing
first merges, per group, the rows with equal next-layer codes s' = f_l(t), then sums
sum_{s'} P(f_l(T_l) = s' | g) prod_u P(t'_u - s'_u) for every t' by the lexicographic sweep
of ``qnet.kernels.noisy`` (exact, each t' once). f_l is evaluated once on the distinct
support codes of all groups.

Where it stops: a push enumerates terms = sum_g sum_{s'} prod_u |supp P_u(. - s'_u)|
(about |supp f_l(T_l) given g| |K|^d summed over groups) and stores every row
(8 (d + 1) bytes each); past ``max_support`` terms it raises ValueError. The support of a
group's conditional grows with depth, so narrow layers with small noise go deepest. With
4096 distinct first-layer codes and |K| = 5 offsets per unit, a first layer of width <= 4
fits the default (width 4: 2.6M rows), width 5 (12.8M) does not; measured on SYN's
12-10-7-5-4-3-2 net (benchmarks/bench_noisy.py), its layers 3 -> 2 take 0.4 s together.
The data-processing inequality I(X;T_1) >= I(X;T_2) >= ... holds for the exact values.
"""

from typing import NamedTuple

import numpy as np

from qnet import kernels
from qnet._checks import as_labels, check_int, log2_of_base
from qnet.information.noise import noise_pmf
from qnet.information.noisy import NoisyInformation, _entropy, check_codes, unit_laws

DEFAULT_MAX_ROWS = 2**22  # terms per push: ~0.5 s and 8 (d + 1) bytes a row (~200 MB at d = 5) at most


class NoisyConditionals(NamedTuple):
    """Sparse conditionals P(T | X) of a noisy layer.

    offsets: (G + 1,) int64; codes: (nnz, d) int64; probs: (nnz,) float64 (each group's sum 1);
    groups: (n,) int64, the group of each input (P(T | x_i) is group groups[i]'s rows).
    """

    offsets: np.ndarray
    codes: np.ndarray
    probs: np.ndarray
    groups: np.ndarray


def _push(pair_offsets, pair_comp, pair_weight, values, noise, low, high, max_support, groups):
    pmf, offset = noise_pmf(noise)
    max_support = check_int(max_support, "max_support", 1)
    lo, length, probs = unit_laws(values, pmf, offset, low, high)
    per_pair = np.prod(length, axis=1, dtype=np.float64)[pair_comp]
    per_group = np.add.reduceat(per_pair, pair_offsets[:-1]) if len(per_pair) else np.zeros(0)
    total = float(per_group.sum())
    if total > max_support:
        raise ValueError(f"the conditionals would need {total:.4g} terms (> max_support = {max_support}): "
                         "the exact chain stops here; raise max_support or use fewer units or less noise")
    offsets, codes, probs_out = kernels.push_products(pair_offsets, pair_comp, pair_weight, lo, length, probs,
                                                      int(total))
    return NoisyConditionals(offsets, codes, probs_out, groups)


def _distinct_rows(codes):
    """(ids (n,), rows (k, d)): ids[i] numbers the distinct rows, rows[ids[i]] == codes[i]."""
    ids, k = kernels.row_ids(codes)
    rows = np.empty((k, codes.shape[1]), codes.dtype)
    rows[ids] = codes  # rows with equal ids are equal: any of them will do
    return ids, rows


def noisy_conditionals(codes, noise, *, low=None, high=None, max_support=DEFAULT_MAX_ROWS):
    """P(T | X) of the first noisy layer T = clip(S + Z, low, high), one group per distinct code.

    codes: (n, d) integer codes S; noise, low, high as in :func:`qnet.information.noisy_information`.
    """
    codes, low, high = check_codes(codes, low, high)
    ids, rows = _distinct_rows(codes)
    pairs = np.arange(len(rows) + 1, dtype=np.int64)
    return _push(pairs, pairs[:-1].copy(), np.ones(len(rows)), rows, noise, low, high, max_support, ids)


def _check_conditionals(conditionals):
    if not isinstance(conditionals, NoisyConditionals):
        raise TypeError(f"conditionals must be NoisyConditionals (from noisy_conditionals), got "
                        f"{type(conditionals).__name__}")
    return conditionals


def push_conditionals(conditionals, next_codes, noise, *, low=None, high=None, max_support=DEFAULT_MAX_ROWS):
    """P(T_{l+1} | X) from P(T_l | X): T_{l+1} = clip(next_codes(T_l) + Z, low, high).

    conditionals: :class:`NoisyConditionals` of T_l; next_codes: callable mapping the
    distinct support codes (m, d_l) int64 to the next layer's integer codes (m, d_{l+1})
    (the network's deterministic map); noise, low, high: the next layer's noise and bounds.
    Raises ValueError past ``max_support`` terms (see the module docstring).
    """
    cond = _check_conditionals(conditionals)
    if not callable(next_codes):
        raise TypeError(f"next_codes must be callable, got {type(next_codes).__name__}")
    ids, support = _distinct_rows(cond.codes)
    k = len(support)
    mapped = np.asarray(next_codes(support.copy()))
    if mapped.ndim != 2 or mapped.shape[0] != k:
        raise ValueError(f"next_codes must return a ({k}, d) array for {k} codes, got shape {mapped.shape}")
    mapped, low, high = check_codes(mapped, low, high, name="next_codes(codes)")
    ids2, laws = _distinct_rows(mapped)
    # pairs (group, next code) numbered by first appearance: rows are grouped, so pair ids grow with the group
    n_groups = len(cond.offsets) - 1
    group_of_row = np.repeat(np.arange(n_groups, dtype=np.int64), np.diff(cond.offsets))
    law_of_row = ids2[ids]
    pair, n_pairs = kernels.integer_ids(group_of_row * len(laws) + law_of_row)
    pair_group = np.empty(n_pairs, np.int64)
    pair_group[pair] = group_of_row  # every row of a pair has the same group and law
    pair_law = np.empty(n_pairs, np.int64)
    pair_law[pair] = law_of_row
    weights = np.bincount(pair, cond.probs, minlength=n_pairs)
    pair_offsets = np.searchsorted(pair_group, np.arange(n_groups + 1)).astype(np.int64)
    return _push(pair_offsets, pair_law, weights, laws, noise, low, high, max_support, cond.groups)


def conditional_information(conditionals, labels, *, base=2):
    """Exact :class:`NoisyInformation` of T from its conditionals P(T | X) and labels Y (n,).

    H(T|X) = sum_g w_g H(rows of g); H(T) and H(T|Y) from q(t, y) = sum_g w_{g,y} P(t | g),
    the rows of all groups merged by equal code (``qnet.kernels.row_ids``: lossless packing,
    every hash match verified, so distinct codes are never merged).
    """
    scale = log2_of_base(base)
    cond = _check_conditionals(conditionals)
    label_ids, n_classes = as_labels(labels, len(cond.groups))
    n_groups = len(cond.offsets) - 1
    w = np.bincount(cond.groups * n_classes + label_ids, minlength=n_groups * n_classes)
    w = w.reshape(n_groups, n_classes) / len(cond.groups)
    group_of_row = np.repeat(np.arange(n_groups), np.diff(cond.offsets))
    p = cond.probs
    h_rows = np.bincount(group_of_row, -p * np.log2(np.where(p > 0, p, 1.0)), minlength=n_groups)
    h_x = float(w.sum(axis=1) @ h_rows)
    ids, k = kernels.row_ids(cond.codes)
    q = np.stack([np.bincount(ids, p * w[group_of_row, c], minlength=k) for c in range(n_classes)], axis=1)
    h_t, h_ty = _entropy(q.sum(axis=1)), _entropy(q.reshape(-1))
    h_t_given_y = max(h_ty - _entropy(w.sum(axis=0)), 0.0)
    return NoisyInformation(max(h_t - h_x, 0.0) / scale, max(h_t - h_t_given_y, 0.0) / scale, h_t / scale,
                            h_x / scale, h_t_given_y / scale, True, 0.0, 0.0, int((q.sum(axis=1) > 0).sum()),
                            len(p), 0)


def noisy_chain_information(codes, labels, noises, next_codes=(), *, bounds=None, base=2,
                            max_support=DEFAULT_MAX_ROWS):
    """Exact NoisyInformation of every layer of a noisy chain.

    codes: (n, d_1) first-layer codes S_1; noises: one noise per layer; next_codes: one
    callable per later layer (len(noises) - 1), f_l mapping T_l codes to S_{l+1};
    bounds: optional (low, high) per layer. Returns a list, one entry per layer.
    """
    if len(next_codes) != len(noises) - 1:
        raise ValueError(f"next_codes needs {len(noises) - 1} maps for {len(noises)} noises, got {len(next_codes)}")
    bounds = [(None, None)] * len(noises) if bounds is None else list(bounds)
    if len(bounds) != len(noises):
        raise ValueError(f"bounds needs one (low, high) per layer ({len(noises)}), got {len(bounds)}")
    cond = noisy_conditionals(codes, noises[0], low=bounds[0][0], high=bounds[0][1], max_support=max_support)
    out = [conditional_information(cond, labels, base=base)]
    for f, noise, (low, high) in zip(next_codes, noises[1:], bounds[1:]):
        cond = push_conditionals(cond, f, noise, low=low, high=high, max_support=max_support)
        out.append(conditional_information(cond, labels, base=base))
    return out
