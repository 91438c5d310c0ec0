"""The runner: records equal direct counting, resume and extension are exact, divergence is recorded."""

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest
from runs import KEYS, assert_same_records

import qnet
from qnet import experiment
from qnet.experiment.store import RunError

SHORT = dict(epochs=12, seeds=2)


def _run(config, path, **kwargs):
    return experiment.run(config, path, progress=False, plot=False, checkpoint_seconds=0.0, **kwargs)


def check_records(rec):
    ixt, ity = rec["I_XT"], rec["I_TY"]
    assert np.isfinite(ixt).all() and np.isfinite(ity).all()
    log2n, h_y = math.log2(int(rec["n_eval"])), float(rec["H_Y"])
    assert np.all(ity <= ixt + 1e-12) and np.all(ixt <= log2n + 1e-12) and np.all(ity <= h_y + 1e-12)
    # data-processing inequality across layers, every seed and epoch
    assert np.all(np.diff(ixt, axis=2) <= 1e-12) and np.all(np.diff(ity, axis=2) <= 1e-12)
    np.testing.assert_allclose(rec["H_T_given_Y"], ixt - ity)
    # log2 of the number of distinct states bounds I(X;T), with equality when all are equally likely
    assert np.all(ixt <= np.log2(rec["n_states"]) + 1e-12)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """An uninterrupted 12-epoch, 2-seed quick run (every epoch recorded and committed)."""
    config = qnet.preset("quick", **SHORT)
    return config, _run(config, tmp_path_factory.mktemp("full") / "run")


def test_records_equal_direct_counting_of_the_trained_codes(tmp_path):
    config = qnet.preset("quick", activation="relu", epochs=6, seeds=2, mi_every=2)
    rec = _run(config, tmp_path / "r")
    check_records(rec)
    assert rec["epoch"].tolist() == [1, 2, 4, 6]  # epoch 1 is always recorded
    assert list(rec["layer_names"]) == [f"dense{i}" for i in range(1, 7)] and rec["I_XT"].shape == (2, 4, 6)
    setup = experiment.setup(qnet.ExperimentConfig.from_json(rec["config"]))
    state = setup.trainer.init()
    for epoch in range(1, 7):
        state, metrics, codes = setup.trainer.step(state, epoch)
    bounds = np.cumsum([0] + setup.trainer.layer_widths)
    for seed in range(2):
        for layer in range(6):
            block = codes[seed, :, bounds[layer]:bounds[layer + 1]]
            i_xt, i_ty = qnet.layer_information(block, setup.dataset.y)
            assert rec["I_XT"][seed, -1, layer] == i_xt and rec["I_TY"][seed, -1, layer] == i_ty
            assert rec["n_states"][seed, -1, layer] == len(np.unique(block, axis=0))
        assert rec["test_accuracy"][seed, -1] == metrics["test_accuracy"][seed]


def test_resume_after_interruption_equals_the_uninterrupted_run(tmp_path, full_run):
    config, full = full_run

    def interrupt(epoch, row):
        if epoch == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(config, tmp_path / "cut", on_epoch=interrupt)
    partial = qnet.load_records(tmp_path / "cut")
    assert int(partial["completed"]) == 7 and partial["epoch"].tolist() == list(range(1, 8))
    seen = []
    resumed = _run(None, tmp_path / "cut", resume=True, on_epoch=lambda e, r: seen.append(e))
    assert seen == list(range(8, 13))  # finished epochs are not recomputed
    assert_same_records(resumed, full)


def test_extending_a_finished_run_equals_a_longer_run(tmp_path, full_run):
    config, full = full_run
    short = _run(config.replace(epochs=8), tmp_path / "ext")
    assert short["epoch"].tolist() == list(range(1, 9))
    with pytest.raises(ValueError, match=r"resume cannot change the run's settings: bits = 8 \(asked 4\)"):
        _run(config.replace(epochs=12, bits=4), tmp_path / "ext", resume=True)
    with pytest.raises(ValueError, match="shorter than the 8 epochs already finished"):
        _run(config.replace(epochs=5), tmp_path / "ext", resume=True)
    extended = _run(config, tmp_path / "ext", resume=True)
    assert_same_records(extended, full)
    assert json.loads((tmp_path / "ext" / "config.json").read_text())["training"]["epochs"] == 12


def test_a_diverging_seed_is_recorded_and_the_others_go_on(tmp_path):
    """A model of our own whose seed 1 blows up at epoch 3: its epoch and NaN from there, a flag;
    seed 0's numbers are those of a run without seed 1 beside it."""

    def init(seed):
        w = np.random.default_rng(seed).normal(0, 0.3, (12, 2)).astype(np.float32)
        return {"w": w}, {"seed": np.float32(seed), "steps": np.int32(0)}

    def apply(params, state, x, *, key, training):
        boom = jnp.where((state["seed"] == 1) & (state["steps"] >= 27), jnp.float32(jnp.inf), jnp.float32(1.0))
        z = (x @ params["w"]) * boom
        codes = jnp.clip(jnp.round(jnp.tanh(z) * 3 + 3), 0, 6).astype(jnp.uint8)
        steps = state["steps"] + 1 if training else state["steps"]
        return qnet.Forward(z, (codes,), {"seed": state["seed"], "steps": steps})

    model = qnet.FunctionalModel(init, apply, name="blows-up")
    config = qnet.preset("quick", epochs=5, seeds=2, programs=2)
    rec = _run(config, tmp_path / "d", model=model)
    assert rec["diverged_epoch"].tolist() == [0, 3]  # 13 steps per epoch: step 27 is in epoch 3
    assert np.isnan(rec["I_XT"][1, 2:]).all() and np.isfinite(rec["I_XT"][1, :2]).all()
    assert np.isfinite(rec["I_XT"][0]).all() and np.isfinite(rec["train_loss"][0]).all()
    alone = _run(config.replace(seeds=1), tmp_path / "alone", model=model)
    np.testing.assert_array_equal(alone["I_XT"][0], rec["I_XT"][0])
    assert "seed 1 diverged at epoch 3" in experiment.summary(rec)
    from qnet import plots

    assert "seed 1 at epoch 3" in plots.diverged_note(rec)


def test_codes_are_saved_at_chosen_epochs(tmp_path):
    config = qnet.preset("quick", epochs=4, seeds=2, save_codes=[1, 4])
    rec = _run(config, tmp_path / "c")
    codes = qnet.load_codes(tmp_path / "c", 4)
    assert list(codes) == list(rec["layer_names"]) and codes["dense1"].shape == (2, 4096, 10)
    for layer, name in enumerate(rec["layer_names"]):
        assert qnet.layer_information(codes[name][1], rec_labels(rec))[0] == rec["I_XT"][1, 3, layer]
    assert qnet.saved_code_epochs(tmp_path / "c") == [1, 4]
    with pytest.raises(ValueError, match="no codes saved at epoch 2"):
        qnet.load_codes(tmp_path / "c", 2)


def rec_labels(rec):
    setup_ = experiment.setup(qnet.ExperimentConfig.from_json(rec["config"]))
    return setup_.eval_labels


def test_own_arrays_and_own_models_through_run(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((400, 6)).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 1] > 1, "big", "small")
    ds = qnet.data.from_arrays(X, y)
    config = qnet.preset("quick", widths=(6, 5, 3, 2), epochs=3, seeds=2)
    rec = _run(config, tmp_path / "own", data=ds)
    check_records(rec)
    stored = json.loads((tmp_path / "own" / "config.json").read_text())
    assert stored["data"]["dataset"] == "file" and (tmp_path / "own" / "data.npz").exists()
    more = _run(config.replace(epochs=5), tmp_path / "own", resume=True)  # the copy in the run folder is used
    assert more["epoch"].tolist() == [1, 2, 3, 4, 5]

    model = qnet.QuantizedNetwork(qnet.Network.from_widths((6, 4, 2), activation="relu"), (6,), 2)
    rec = _run(config, tmp_path / "model", data=ds, model=model)
    assert "custom" in json.loads((tmp_path / "model" / "config.json").read_text())["network"]
    with pytest.raises(ValueError, match="pass it again"):
        _run(None, tmp_path / "model", resume=True)
    other = qnet.QuantizedNetwork(qnet.Network.from_widths((6, 3, 2), activation="relu"), (6,), 2)
    with pytest.raises(ValueError, match="differs from the one this run was started with"):
        _run(None, tmp_path / "model", resume=True, model=other)


def test_a_run_folder_is_refused_when_it_holds_something(tmp_path, full_run):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="is not empty"):
        _run(full_run[0], tmp_path / "x")
    (tmp_path / "f").write_text("a file")
    with pytest.raises(RunError, match="is a file"):
        _run(full_run[0], tmp_path / "f")
    with pytest.raises(RunError, match="not a run folder"):
        _run(None, tmp_path / "f", resume=True)


def test_all_keys_are_in_the_records(full_run):
    _, rec = full_run
    for key in KEYS + ("seeds", "layer_names", "layer_widths", "n_eval", "H_Y", "completed", "diverged_epoch"):
        assert key in rec
    check_records(rec)


def test_float_nets_are_measured_by_binning_and_labelled_as_estimates(tmp_path):
    config = qnet.preset("quick", epochs=3, seeds=2, bits=None, weight_bits=None, binning=[30, 256])
    rec = _run(config, tmp_path / "float")
    assert rec["I_XT"].shape == (2, 3, 0)  # a float net has no codes: nothing exact to count
    assert rec["binned_I_XT"].shape == (2, 3, 6, 2) and list(rec["binning"]) == [30, 256]
    # the binned values are those of the binning estimator on the trained net's activations
    setup = experiment.setup(qnet.ExperimentConfig.from_json(rec["config"]))
    state = setup.trainer.init()
    for epoch in range(1, 4):
        state, _, _ = setup.trainer.step(state, epoch)
    values = setup.trainer.activations(state)
    for b, bins in enumerate((30, 256)):
        for layer in range(6):
            expected = qnet.estimators.UniformBinning(bins, "layer")(values[layer][1], setup.eval_labels)
            assert rec["binned_I_XT"][1, -1, layer, b] == pytest.approx(expected[0], abs=1e-12)
            assert rec["binned_I_TY"][1, -1, layer, b] == pytest.approx(expected[1], abs=1e-12)
