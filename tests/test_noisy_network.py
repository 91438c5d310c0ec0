"""Noise layers in networks: drawn in training with seeded keys, summed over exactly when measured."""

import itertools
import math
from collections import defaultdict

import jax
import numpy as np
import pytest
from runs import assert_same_records

import qnet
from qnet import experiment
from qnet.measure import noisy_plane
from qnet.model import QuantizedNetwork
from qnet.model.layers import Noise
from qnet.model.spec import parse_layers

SYN = qnet.load_dataset("syn")
SPEC = "dense:6,dense:3,noise:flip:0.2,dense:2:tanh,noise:uniform:1,dense:2"


def _model(spec=SPEC, **kwargs):
    net = qnet.Network(layers=parse_layers(spec), input_size=12, activation_range="fixed", **kwargs)
    return QuantizedNetwork(net, (12,), 2)


def test_the_grammar_and_the_checks_of_noise_layers():
    layers = parse_layers("dense:4,noise:gaussian:0.7,dense:2")
    assert layers[1] == Noise("gaussian", 0.7) and np.isclose(layers[1].law().pmf().sum(), 1.0)
    model = _model()
    assert model.layer_names == ("dense1", "noise1", "noise2", "dense4") and not model.chain
    with pytest.raises(ValueError, match="must follow a layer with quantized activations"):
        _model("noise:flip:0.1,dense:2")
    with pytest.raises(ValueError, match="not 'batch'"):
        qnet.model.build(qnet.Network(layers=parse_layers("dense:4,noise:flip:0.1,dense:2"), activation_range="batch"),
                         (12,), 2)
    with pytest.raises(ValueError, match="flip: eps must be in"):
        Noise("flip", 2.0)
    with pytest.raises(ValueError, match="bad layer 'noise:loud:1'"):
        parse_layers("dense:3,noise:loud:1,dense:2")


def test_noise_is_drawn_from_its_law_and_only_with_a_key():
    model = _model("dense:8,noise:uniform:1,dense:2", bits=4)
    params, state = model.init(0)
    clean = model.apply(params, state, SYN.X)
    noisy = model.apply(params, state, SYN.X, key=jax.random.PRNGKey(3))
    again = model.apply(params, state, SYN.X, key=jax.random.PRNGKey(3))
    np.testing.assert_array_equal(np.asarray(noisy.logits), np.asarray(again.logits))  # seeded
    assert not np.allclose(np.asarray(noisy.logits), np.asarray(clean.logits))
    # the codes of a noise layer are its codes before the noise: the same with and without a key
    np.testing.assert_array_equal(np.asarray(noisy.codes[0]), np.asarray(clean.codes[0]))
    # the values passed on are the codes plus an offset in {-1, 0, 1} with probability 1/3 each (clipped at 0, 15)
    s = np.asarray(clean.codes[0]).astype(int)
    lo, step = -1.0, 2.0 / 15
    t = np.rint((np.asarray(noisy.values[1]) - lo) / step).astype(int)
    inside = (s > 0) & (s < 15)
    offsets = (t - s)[inside]
    assert set(np.unique(offsets)) == {-1, 0, 1}
    for k in (-1, 0, 1):
        assert abs(np.mean(offsets == k) - 1 / 3) < 0.01  # about 30,000 draws: 4 standard errors


def _brute_force_chain(model, params, state, X, labels):
    """I(X;T) and I(T;Y) of every measured layer from the first noisy one, by enumerating every
    noise value of every unit and sample (plain Python dictionaries), in bits."""
    built = model.built
    chain = model.noisy_chain(params, state)
    first = model.apply(params, state, X).codes[chain.first]
    n = len(X)
    laws = [dict(zip(range(-(len(p) // 2), len(p) // 2 + 1), p)) for p in chain.noises]
    # P(T_l = t | x_i) for every layer, as {t: p} per sample
    current = []
    for s in np.asarray(first).reshape(n, -1).astype(int).tolist():
        dist = defaultdict(float)
        for z in itertools.product(*[laws[0].items()] * len(s)):
            t = tuple(int(np.clip(v + dz, *chain.bounds[0])) for v, (dz, _) in zip(s, z))
            dist[t] += math.prod(p for _, p in z)
        current.append(dist)
    results = [current]
    for j, f in enumerate(chain.maps, start=1):
        nxt = []
        for dist in current:
            out = defaultdict(float)
            ts = list(dist)
            mapped = f(np.array(ts))
            for t, s in zip(ts, mapped.tolist()):
                for z in itertools.product(*[laws[j].items()] * len(s)):
                    t2 = tuple(int(np.clip(v + dz, *chain.bounds[j])) for v, (dz, _) in zip(s, z))
                    out[t2] += dist[t] * math.prod(p for _, p in z)
            nxt.append(out)
        results.append(nxt)
        current = nxt
    planes = []
    for dists in results:
        def h(ds):
            total = defaultdict(float)
            for d in ds:
                for t, p in d.items():
                    total[t] += p / len(ds)
            return -sum(p * math.log2(p) for p in total.values() if p > 0)
        h_x = np.mean([-sum(p * math.log2(p) for p in d.values() if p > 0) for d in dists])
        h_t = h(dists)
        h_ty = sum(np.mean(labels == y) * h([d for d, l in zip(dists, labels) if l == y]) for y in np.unique(labels))
        planes.append((h_t - h_x, h_t - h_ty))
    return planes


def test_exact_noisy_plane_equals_brute_force_enumeration():
    model = _model()
    trainer = qnet.Trainer(model, qnet.TrainConfig(epochs=3, seeds=1, learning_rate=1e-2), SYN.X, SYN.y,
                           *SYN.split(0.2, 1000))
    state = trainer.init()
    for epoch in range(1, 4):
        state, _, _ = trainer.step(state, epoch)
    params, model_state = jax.tree_util.tree_map(lambda x: x[0], (state.params, state.model_state))
    idx = np.random.default_rng(0).choice(4096, 40, replace=False)
    X, y = SYN.X[idx], SYN.y[idx]
    chain = model.noisy_chain(params, model_state)
    first = np.asarray(model.apply(params, model_state, X).codes[chain.first]).reshape(len(X), -1)
    ours = noisy_plane(chain, first, y)
    expected = _brute_force_chain(model, params, model_state, X, y)
    assert ours["exact"].all() and len(expected) == 3
    np.testing.assert_allclose(ours["I_XT"], [e[0] for e in expected], atol=1e-9)
    np.testing.assert_allclose(ours["I_TY"], [e[1] for e in expected], atol=1e-9)
    assert np.all(np.diff(ours["I_XT"]) <= 1e-9)  # the data-processing inequality through the noisy chain


def test_the_maps_between_layers_are_the_forward_pass():
    model = _model()
    params, state = model.init(1)
    clean = model.apply(params, state, SYN.X)
    chain = model.noisy_chain(params, state)
    codes = [np.asarray(c).reshape(4096, -1) for c in clean.codes]
    for j, f in enumerate(chain.maps):
        np.testing.assert_array_equal(f(codes[chain.first + j]), codes[chain.first + j + 1])


def test_a_wide_first_noisy_layer_is_estimated_and_labelled():
    model = _model("dense:12,noise:gaussian:3,dense:2", bits=8)
    params, state = model.init(0)
    chain = model.noisy_chain(params, state)
    first = np.asarray(model.apply(params, state, SYN.X).codes[0])
    out = noisy_plane(chain, first, SYN.y)
    assert not out["exact"][0] and out["stderr_I_XT"][0] > 0  # about 43**12 noise values per code: a Monte Carlo estimate
    assert np.isnan(out["I_XT"][1]) and not out["exact"][1]  # beyond the exact chain: NaN, not a guess


def test_a_noisy_run_records_the_exact_plane_and_resumes_bit_identically(tmp_path):
    config = qnet.preset("quick", spec=SPEC, activation_range="fixed", epochs=6, seeds=2, mi_every=2)
    full = experiment.run(config, tmp_path / "full", progress=False, plot=False, checkpoint_seconds=0.0)
    assert full["exact"].all() and np.all(np.diff(full["I_XT"], axis=2) <= 1e-9)
    assert (full["H_T_given_X"][:, :, 0] == 0).all() and (full["H_T_given_X"][:, :, 1:3] > 0).all()

    def interrupt(epoch, row):
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        experiment.run(config, tmp_path / "cut", progress=False, plot=False, checkpoint_seconds=0.0, on_epoch=interrupt)
    resumed = experiment.run(None, tmp_path / "cut", resume=True, progress=False, plot=False)
    assert_same_records(resumed, full, keys=("I_XT", "I_TY", "H_T_given_X", "train_loss", "test_accuracy"))
