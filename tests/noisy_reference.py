"""Plain-Python reference for noisy layers: enumerate every noise outcome of every input
(itertools.product over the offsets), collect P(t | x_i) in dicts, and sum the entropies.
Obviously correct and slow; shared by test_noisy.py and test_noisy_chain.py."""

import itertools
import math


def _clip(v, low, high):
    if low is not None:
        v = max(v, low)
    if high is not None:
        v = min(v, high)
    return v


def layer_conditionals(codes, pmf, low=None, high=None):
    """[dict t -> P(T = t | x_i) for each row of codes], T = clip(s + Z), Z on -r..r with pmf."""
    r = (len(pmf) - 1) // 2
    out = []
    for row in [[int(v) for v in r_] for r_ in codes]:
        cond = {}
        for z in itertools.product(range(-r, r + 1), repeat=len(row)):
            p = 1.0
            for zu in z:
                p *= float(pmf[zu + r])
            if p > 0:
                t = tuple(_clip(s + zu, low, high) for s, zu in zip(row, z))
                cond[t] = cond.get(t, 0.0) + p
        out.append(cond)
    return out


def stochastic_conditionals(codes, p_up):
    """[dict t -> P(T = t | x_i)] for T_u = s_u + Bernoulli(p_up[i, u])."""
    out = []
    for row, ps in zip(codes, p_up):
        cond = {}
        for bits in itertools.product((0, 1), repeat=len(row)):
            p = 1.0
            for b, q in zip(bits, ps):
                p *= float(q) if b else 1.0 - float(q)
            if p > 0:
                t = tuple(int(s) + b for s, b in zip(row, bits))
                cond[t] = cond.get(t, 0.0) + p
        out.append(cond)
    return out


def push(conditionals, f, pmf, low=None, high=None):
    """P(T' | x_i) for T' = clip(f(T) + Z'), from P(T | x_i); f maps a code tuple to a list of ints."""
    out = []
    for cond in conditionals:
        new = {}
        for t, p in cond.items():
            for t2, q in layer_conditionals([f(t)], pmf, low, high)[0].items():
                new[t2] = new.get(t2, 0.0) + p * q
        out.append(new)
    return out


def _h(dist):
    return -sum(p * math.log2(p) for p in dist.values() if p > 0)


def information(conditionals, labels):
    """dict of I_XT, I_TY, H_T, H_T_given_X, H_T_given_Y, support (bits) for equiprobable inputs."""
    n = len(conditionals)
    p_t, p_ty, p_y = {}, {}, {}
    for cond, y in zip(conditionals, labels):
        y = int(y)
        p_y[y] = p_y.get(y, 0.0) + 1.0 / n
        for t, p in cond.items():
            p_t[t] = p_t.get(t, 0.0) + p / n
            p_ty[t, y] = p_ty.get((t, y), 0.0) + p / n
    h_t = _h(p_t)
    h_x = sum(_h(c) for c in conditionals) / n
    h_ty = _h(p_ty) - _h(p_y)
    return dict(I_XT=h_t - h_x, I_TY=h_t - h_ty, H_T=h_t, H_T_given_X=h_x, H_T_given_Y=h_ty,
                support=sum(1 for p in p_t.values() if p > 0))
