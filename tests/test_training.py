import jax
import numpy as np
import pytest

import qnet
from qnet import data, networks, training

SYN = data.synthetic()
TRAIN, TEST = SYN.split(0.2, seed=1000)


def _trainer(seeds=(0,), epochs=5, **net_kwargs):
    net = networks.NetworkConfig(**net_kwargs)
    config = training.TrainConfig(epochs=epochs, seeds=seeds, learning_rate=3e-3)
    return training.Trainer(net, config, SYN.X, SYN.y, TRAIN, TEST)


def test_default_synthetic_net_learns():
    """tanh, 8 bits, truncated-normal init, Adam (lr 3e-3 to keep the run short), batch 256."""
    net = networks.NetworkConfig()
    config = training.TrainConfig(epochs=150, seeds=(0, 1), learning_rate=3e-3)
    _, history, _ = training.train(net, config, SYN.X, SYN.y, TRAIN, TEST)
    majority = max(SYN.y.mean(), 1 - SYN.y.mean())  # 0.517: chance level
    assert history["test_accuracy"][-1].min() > 0.8 > majority + 0.25
    assert history["train_loss"][-1].max() < history["train_loss"][0].min()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_dpi_holds_at_every_recorded_epoch(activation):
    trainer = _trainer(seeds=(3, 4), activation=activation)
    state = trainer.init()
    labels = qnet.encode_labels(SYN.y)
    for epoch in range(1, 6):
        state, metrics, codes = trainer.step(state, epoch)
        assert codes.shape == (2, 4096, sum(trainer.layer_widths)) and codes.dtype == np.uint8
        plane = qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths)
        chained = qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths, chain=True)
        np.testing.assert_array_equal(chained, plane)  # what the runner computes
        assert np.all(np.diff(plane[..., 0], axis=1) <= 1e-12)  # I(X;T1) >= I(X;T2) >= ...
        assert np.all(np.diff(plane[..., 1], axis=1) <= 1e-12)  # I(T1;Y) >= I(T2;Y) >= ...
        assert np.all(plane[..., 1] <= plane[..., 0] + 1e-12)
        bounds = np.cumsum([0] + trainer.layer_widths)
        for s in range(2):
            for a, b, c in zip(bounds[:-2], bounds[1:-1], bounds[2:]):
                assert qnet.conditional_entropy(codes[s, :, b:c], codes[s, :, a:b]) == 0.0


def _train_three_epochs(seeds, programs):
    trainer = _trainer(seeds=seeds)
    trainer = training.Trainer(trainer.net, trainer.config, SYN.X, SYN.y, TRAIN, TEST, programs=programs)
    state = trainer.init()
    for epoch in range(1, 4):
        state, metrics, codes = trainer.step(state, epoch)
    return np.asarray(state.params[0]["w"]), metrics, codes


def test_a_seed_does_not_depend_on_the_seeds_beside_it():
    w_one, m_one, c_one = _train_three_epochs((1,), 1)
    # programs of the same size (one seed each, run side by side): bit for bit
    w_split, m_split, c_split = _train_three_epochs((0, 1, 2), 3)
    np.testing.assert_array_equal(w_split[1], w_one[0])
    np.testing.assert_array_equal(c_split[1], c_one[0])
    assert m_split["train_loss"][1] == m_one["train_loss"][0]
    # one program of three seeds: XLA vectorises it differently, so float results may
    # differ in the last bits (Adam amplifies that where gradients are near zero), which
    # moves a few samples across a quantization boundary (measured: 0.2 % of the codes,
    # by one level or two); another seed's codes would agree almost nowhere
    w_all, m_all, c_all = _train_three_epochs((0, 1, 2), 1)
    np.testing.assert_allclose(w_all[1], w_one[0], rtol=0, atol=1e-4)
    assert (c_all[1] == c_one[0]).mean() > 0.99
    assert (c_all[0] == c_one[0]).mean() < 0.5
    assert m_all["train_accuracy"][1] == pytest.approx(m_one["train_accuracy"][0], abs=2e-3)


def test_same_seed_same_numbers_bit_for_bit():
    runs = []
    for _ in range(2):
        trainer = _trainer(seeds=(7,))
        state = trainer.init()
        for epoch in range(1, 3):
            state, metrics, codes = trainer.step(state, epoch)
        runs.append((np.asarray(state.params[-1]["w"]), metrics["train_loss"], codes))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


def test_kept_codes_and_float_network_activations():
    net = networks.NetworkConfig(bits=None, weight_bits=None)
    config = training.TrainConfig(epochs=2, seeds=(0,))
    trainer = training.Trainer(net, config, SYN.X, SYN.y, TRAIN, TEST)
    state, metrics, codes = trainer.step(trainer.init(), 1)
    assert codes is None
    acts = trainer.activations(state)
    assert [a.shape for a in acts] == [(1, 4096, w) for w in net.widths[1:]]
    _, _, kept = training.train(networks.NetworkConfig(), config, SYN.X, SYN.y, TRAIN, TEST, keep_codes=(2,))
    assert list(kept) == [2] and kept[2].shape == (1, 4096, 31)


def test_divergence_names_seed_and_epoch():
    net = networks.NetworkConfig(widths=(12, 4, 2), activation="linear", bits=None, weight_bits=None)
    config = training.TrainConfig(epochs=3, seeds=(5,), learning_rate=1e30, optimizer="sgd")
    with pytest.raises(training.DivergedError, match="seed 5 at epoch 1"):
        training.train(net, config, SYN.X * 1e30, SYN.y, TRAIN, TEST)


def test_bad_inputs():
    config = training.TrainConfig(epochs=1)
    with pytest.raises(ValueError, match="input width"):
        training.Trainer(networks.NetworkConfig(widths=(10, 2)), config, SYN.X, SYN.y, TRAIN)
    with pytest.raises(ValueError, match="labels must be integers in 0..1"):
        training.Trainer(networks.NetworkConfig(), config, SYN.X, SYN.y + 1, TRAIN)
    with pytest.raises(ValueError, match="optimizer"):
        training.TrainConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="epochs"):
        training.TrainConfig(epochs=0)


def test_wide_inputs_enter_as_rows_and_give_a_deterministic_chain():
    rng = np.random.default_rng(0)
    n, d_in = 600, networks.ROW_INPUT_WIDTH + 36
    X = rng.random((n, d_in)).astype(np.float32)
    y = (X[:, :5].sum(axis=1) > 2.5).astype(np.int64)
    tr, te = data.stratified_split(y, 0.2, 0)
    net = networks.NetworkConfig(widths=(d_in, 8, 4, 2), activation="relu")
    trainer = training.Trainer(net, training.TrainConfig(seeds=(0, 1), learning_rate=1e-2), X, y, tr, te)
    assert trainer._rows_in and trainer.XT is None
    state = trainer.init()
    for epoch in range(1, 4):
        state, metrics, codes = trainer.step(state, epoch)
    assert codes.shape == (2, n, 14) and np.isfinite(metrics["train_loss"]).all()
    bounds = np.cumsum([0] + trainer.layer_widths)
    for s in range(2):
        for a, b, c in zip(bounds[:-2], bounds[1:-1], bounds[2:]):
            assert qnet.conditional_entropy(codes[s, :, b:c], codes[s, :, a:b]) == 0.0
    labels = qnet.encode_labels(y)
    np.testing.assert_array_equal(qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths, chain=True),
                                  qnet.information_batch(codes, labels, layer_widths=trainer.layer_widths))
