import numpy as np
import pytest

import qnet
from qnet import data
from qnet.model import Network, QuantizedNetwork
from qnet.model.spec import parse_layers
from qnet.training import TrainConfig, Trainer, seed_groups, train

SYN = data.synthetic()
TRAIN, TEST = SYN.split(0.2, seed=1000)


def _trainer(seeds=1, seed=0, programs=None, epochs=5, net=None, lr=3e-3, **kwargs):
    model = QuantizedNetwork(net or Network(), (12,), 2)
    config = TrainConfig(epochs=epochs, seeds=seeds, seed=seed, learning_rate=lr, programs=programs, **kwargs)
    return Trainer(model, config, SYN.X, SYN.y, TRAIN, TEST)


def _assert_deterministic_chain(codes, widths, labels):
    """H(T_l+1 | T_l) = 0 and the DPI, exactly, for every seed of one epoch."""
    plane = qnet.information_batch(codes, labels, layer_widths=widths)
    chained = qnet.information_batch(codes, labels, layer_widths=widths, chain=True)
    np.testing.assert_array_equal(chained, plane)  # what the runner computes
    assert np.all(np.diff(plane[..., 0], axis=1) <= 1e-12)  # I(X;T1) >= I(X;T2) >= ...
    assert np.all(np.diff(plane[..., 1], axis=1) <= 1e-12)  # I(T1;Y) >= I(T2;Y) >= ...
    bounds = np.cumsum([0] + list(widths))
    for s in range(codes.shape[0]):
        for a, b, c in zip(bounds[:-2], bounds[1:-1], bounds[2:]):
            assert qnet.conditional_entropy(codes[s, :, b:c], codes[s, :, a:b]) == 0.0


def test_default_synthetic_net_learns():
    """tanh, 8 bits, Adam (lr 3e-3 to keep the run short), batch 256."""
    _, _, history = train(QuantizedNetwork(Network(), (12,), 2), TrainConfig(epochs=120, seeds=2, learning_rate=3e-3),
                          SYN.X, SYN.y, TRAIN, TEST)
    majority = max(SYN.y.mean(), 1 - SYN.y.mean())  # 0.517: chance level
    assert history["test_accuracy"][-1].min() > 0.8 > majority + 0.25
    assert history["train_loss"][-1].max() < history["train_loss"][0].min()
    assert history["finite"].all()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_dpi_holds_at_every_epoch_of_a_dense_net(activation):
    trainer = _trainer(seeds=2, seed=3, net=Network(activation=activation))
    state = trainer.init()
    labels = qnet.encode_labels(SYN.y)
    for epoch in range(1, 5):
        state, metrics, codes = trainer.step(state, epoch)
        assert codes.shape == (2, 4096, 31) and codes.dtype == np.uint8
        _assert_deterministic_chain(codes, trainer.layer_widths, labels)


def test_dpi_holds_at_every_epoch_of_a_conv_net():
    """conv -> pool -> conv -> pool -> dense -> dense, trained: every measured layer is a function
    of the one before it, exactly, at every epoch."""
    digits = data.load("digits")
    tr, te = digits.split(0.2, 0)
    net = Network(layers=parse_layers("conv:3:3x3:relu,maxpool:2,conv:4:2x2:relu,maxpool:1,flatten,dense:8:relu,dense:10"),
                  input_size=None, activation="relu")
    trainer = Trainer(QuantizedNetwork(net, digits.sample_shape, 10), TrainConfig(epochs=4, seeds=2, learning_rate=1e-2),
                      digits.X, digits.y, tr, te)
    assert trainer.layer_names == ["conv1", "pool1", "conv2", "pool2", "dense1", "dense2"]
    assert trainer.layer_widths == [6 * 6 * 3, 3 * 3 * 3, 2 * 2 * 4, 2 * 2 * 4, 8, 10]
    state = trainer.init()
    labels = qnet.encode_labels(digits.y)
    for epoch in range(1, 5):
        state, metrics, codes = trainer.step(state, epoch)
        _assert_deterministic_chain(codes, trainer.layer_widths, labels)
    assert np.mean(metrics["train_accuracy"]) > 0.3  # it learns (chance: 0.1)


def test_seed_groups_cover_every_seed_once():
    assert seed_groups(5, 4) == (2, (0, 2, 3), (0, 0, 1))  # 3 groups of 2, none left empty
    for n in range(1, 12):
        for programs in range(1, 6):
            size, starts, keep = seed_groups(n, programs)
            kept = [s for start, k in zip(starts, keep) for s in range(start + k, start + size)]
            assert kept == list(range(n))


def _three_epochs(seeds, programs):
    trainer = _trainer(seeds=len(seeds), seed=seeds[0], programs=programs)
    state = trainer.init()
    for epoch in range(1, 4):
        state, metrics, codes = trainer.step(state, epoch)
    return np.asarray(state.params[0]["w"]), metrics, codes


def test_a_seed_does_not_depend_on_the_seeds_beside_it():
    w_one, m_one, c_one = _three_epochs((1,), 1)
    # programs of the same size (one seed each, run side by side): bit for bit
    w_split, m_split, c_split = _three_epochs((0, 1, 2), 3)
    np.testing.assert_array_equal(w_split[1], w_one[0])
    np.testing.assert_array_equal(c_split[1], c_one[0])
    assert m_split["train_loss"][1] == m_one["train_loss"][0]
    # one program of three seeds: XLA vectorises it differently, so float results may differ in
    # the last bits, which moves a few samples across a quantization boundary (measured: 0.2 %
    # of the codes); another seed's codes would agree almost nowhere
    w_all, m_all, c_all = _three_epochs((0, 1, 2), 1)
    np.testing.assert_allclose(w_all[1], w_one[0], rtol=0, atol=1e-4)
    assert (c_all[1] == c_one[0]).mean() > 0.99
    assert (c_all[0] == c_one[0]).mean() < 0.5


def test_same_seed_same_numbers_bit_for_bit():
    runs = []
    for _ in range(2):
        trainer = _trainer(seed=7)
        state = trainer.init()
        for epoch in range(1, 3):
            state, metrics, codes = trainer.step(state, epoch)
        runs.append((np.asarray(state.params[-1]["w"]), metrics["train_loss"], codes))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_float_network_activations():
    trainer = _trainer(net=Network(bits=None, weight_bits=None))
    state, metrics, codes = trainer.step(trainer.init(), 1)
    assert codes is None and trainer.layer_widths == []
    assert [a.shape for a in trainer.activations(state)] == [(1, 4096, w) for w in (10, 7, 5, 4, 3, 2)]


def test_a_diverging_seed_is_flagged_and_the_others_go_on():
    net = Network.from_widths((12, 4, 2), activation="linear", bits=None, weight_bits=None)
    model = QuantizedNetwork(net, (12,), 2)
    X = SYN.X.copy()
    trainer = Trainer(model, TrainConfig(epochs=3, seeds=2, learning_rate=1e-3), X, SYN.y, TRAIN, TEST)
    state = trainer.init()
    # blow up seed 1's weights: its loss becomes non-finite, seed 0 is untouched
    params = [{"w": layer["w"].at[1].multiply(1e38), "b": layer["b"]} for layer in state.params]
    state = state._replace(params=params)
    state, metrics, _ = trainer.step(state, 1)
    assert metrics["finite"].tolist() == [True, False]
    assert np.isfinite(metrics["train_loss"][0])


def test_prefit_labels_are_a_seeded_permutation_of_the_training_labels():
    trainer = _trainer(seeds=2, prefit_epochs=2)
    labels = np.asarray(trainer.prefit_labels())
    for row in labels:
        np.testing.assert_array_equal(row[TEST], SYN.y[TEST])  # test labels stay true
        assert sorted(row[TRAIN]) == sorted(SYN.y[TRAIN]) and np.mean(row[TRAIN] == SYN.y[TRAIN]) < 0.6
    assert not np.array_equal(labels[0], labels[1])
    np.testing.assert_array_equal(labels, np.asarray(_trainer(seeds=2, prefit_epochs=2).prefit_labels()))


def test_bad_inputs():
    model = QuantizedNetwork(Network(), (12,), 2)
    with pytest.raises(ValueError, match="labels must be integers in 0..1"):
        Trainer(model, TrainConfig(epochs=1), SYN.X, SYN.y + 1, TRAIN)
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="seed must be between"):
        TrainConfig(seeds=2, seed=2**63 - 1)
    with pytest.raises(TypeError, match="init"):
        Trainer(object(), TrainConfig(), SYN.X, SYN.y, TRAIN)


def test_wide_inputs_enter_as_rows_and_give_a_deterministic_chain():
    rng = np.random.default_rng(0)
    n, d_in = 600, 100
    X = rng.random((n, d_in)).astype(np.float32)
    y = (X[:, :5].sum(axis=1) > 2.5).astype(np.int64)
    tr, te = data.stratified_split(y, 0.2, 0)
    model = QuantizedNetwork(Network.from_widths((d_in, 8, 4, 2), activation="relu"), (d_in,), 2)
    trainer = Trainer(model, TrainConfig(seeds=2, learning_rate=1e-2), X, y, tr, te)
    state = trainer.init()
    for epoch in range(1, 4):
        state, metrics, codes = trainer.step(state, epoch)
    assert codes.shape == (2, n, 14) and metrics["finite"].all()
    _assert_deterministic_chain(codes, trainer.layer_widths, qnet.encode_labels(y))


def test_seeds_evaluated_one_after_another_give_each_seeds_own_codes():
    """A conv net's seeds are evaluated with lax.map, not vmap: each seed's codes are those of
    the model applied to that seed's parameters alone."""
    digits = data.load("digits")
    net = Network(layers=parse_layers("conv:2:3x3:relu,maxpool:2,flatten,dense:10"), input_size=None, activation="relu")
    model = QuantizedNetwork(net, digits.sample_shape, 10)
    model.eval_chunk = 500
    trainer = Trainer(model, TrainConfig(epochs=1, seeds=3, programs=1), digits.X, digits.y, np.arange(1400))
    state, _, codes = trainer.step(trainer.init(), 1)
    for s in range(3):
        params, model_state = [{k: np.asarray(v[s]) for k, v in p.items()} for p in state.params], \
            {k: np.asarray(v[s]) for k, v in state.model_state.items()}
        fwd = model.apply(params, model_state, digits.X)
        alone = np.concatenate([c.reshape(len(digits.X), -1) for c in fwd.codes], axis=1)
        assert (codes[s] == alone).mean() > 0.999  # another program: last-bit float differences at most
        assert (codes[(s + 1) % 3] == alone).mean() < 0.8  # another seed's codes
