import json
import math
import subprocess
import sys

import numpy as np
import pytest

import qnet
from qnet import cli, experiment

SHORT = dict(epochs=12, seeds=2, checkpoint_seconds=0.0)


def _check_records(rec):
    ixt, ity = rec["I_XT"], rec["I_TY"]
    assert np.isfinite(ixt).all() and np.isfinite(ity).all()
    log2n, h_y = math.log2(int(rec["n_eval"])), float(rec["H_Y"])
    assert np.all(ity <= ixt + 1e-12) and np.all(ixt <= log2n + 1e-12) and np.all(ity <= h_y + 1e-12)
    # data-processing inequality across layers, every seed and epoch
    assert np.all(np.diff(ixt, axis=2) <= 1e-12) and np.all(np.diff(ity, axis=2) <= 1e-12)
    np.testing.assert_allclose(rec["H_T_given_Y"], ixt - ity)


def test_cli_run_writes_every_file_and_plot_redraws(tmp_path):
    out = tmp_path / "run"
    code = cli.main(["run", "--epochs", "6", "--seeds", "2", "--mi-every", "2", "--out", str(out), "--no-progress"])
    assert code == 0
    for name in ("config.json", "records.npz", "checkpoint.npz", "information_plane.png", "mi_epochs.png", "accuracy.png"):
        assert (out / name).stat().st_size > 0, name
    rec = qnet.load_records(out)
    assert rec["epoch"].tolist() == [2, 4, 6] and rec["I_XT"].shape == (2, 3, 6)
    _check_records(rec)
    config = json.loads((out / "config.json").read_text())
    assert config["epochs"] == 6 and config["mi_every"] == 2
    (out / "information_plane.png").unlink()
    assert cli.main(["plot", str(out)]) == 0 and (out / "information_plane.png").exists()
    assert cli.main(["run", "--out", str(out), "--epochs", "2"]) == 2  # refuses to overwrite


def test_records_of_relu_run_are_consistent_with_direct_counting(tmp_path):
    config = qnet.preset("quick", activation="relu", **SHORT)
    rec = experiment.run(config, tmp_path / "r", progress=False, plot=False)
    _check_records(rec)
    # the runner's numbers equal a direct count of the codes of the trained state
    ds = qnet.load_dataset("syn")
    tr, te = ds.split(0.2, 1000)
    trainer = qnet.Trainer(config.network(), config.training(), ds.X, ds.y, tr, te)
    state = trainer.init()
    for epoch in range(1, config.epochs + 1):
        state, _, codes = trainer.step(state, epoch)
    bounds = np.cumsum([0] + trainer.layer_widths)
    for layer in range(6):
        i_xt, i_ty = qnet.layer_information(codes[1, :, bounds[layer]:bounds[layer + 1]], ds.y)
        assert rec["I_XT"][1, -1, layer] == i_xt and rec["I_TY"][1, -1, layer] == i_ty


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path):
    config = qnet.preset("quick", **SHORT)
    full = experiment.run(config, tmp_path / "full", progress=False, plot=False)

    def interrupt(epoch, records):
        if epoch == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        experiment.run(config, tmp_path / "cut", progress=False, plot=False, on_epoch=interrupt)
    partial = qnet.load_records(tmp_path / "cut")
    assert int(partial["completed"]) == 7  # interrupted after epoch 7 finished: 1..7 are saved
    assert np.isfinite(partial["I_XT"][:, :7]).all() and np.isnan(partial["I_XT"][:, 7:]).all()
    seen = []
    resumed = experiment.run(None, tmp_path / "cut", resume=True, progress=False, plot=False,
                             on_epoch=lambda e, r: seen.append(e))
    assert seen == list(range(8, 13))  # finished epochs are not recomputed
    for key in ("I_XT", "I_TY", "train_loss", "test_accuracy"):
        np.testing.assert_array_equal(resumed[key], full[key])


def test_sigterm_checkpoints_and_resume_completes(tmp_path):
    out = tmp_path / "killed"
    code = (
        "import os, signal, qnet\n"
        "from qnet import experiment\n"
        "experiment.sigterm_as_keyboard_interrupt()\n"
        "def kill(e, r):\n"
        "    if e == 3: os.kill(os.getpid(), signal.SIGTERM)\n"
        f"experiment.run(qnet.preset('quick', epochs=5, seeds=1), {str(out)!r}, progress=False, plot=False, on_epoch=kill)\n"
    )
    # run outside the source tree, so that the installed package is imported
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr
    assert int(qnet.load_records(out)["completed"]) in (2, 3)
    assert cli.main(["run", "--resume", str(out), "--no-progress"]) == 0
    rec = qnet.load_records(out)
    assert int(rec["completed"]) == 5 and np.isfinite(rec["I_XT"]).all()


def test_presets_and_bad_configs():
    ref = qnet.preset("syn-tanh-8")
    assert (ref.epochs, ref.seeds, ref.learning_rate, ref.batch_size, ref.weight_bits) == (8000, 50, 1e-4, 256, None)
    assert qnet.preset("mnist-bottleneck-2-8").network().widths == (784, 16, 8, 4, 2, 10)
    with pytest.raises(ValueError, match="unknown preset"):
        qnet.preset("nope")
    with pytest.raises(ValueError, match="unknown activation"):
        qnet.preset("quick", activation="gelu")
    with pytest.raises(ValueError, match="bits"):
        qnet.preset("quick", bits=20)
    with pytest.raises(ValueError, match="eval_set"):
        qnet.preset("quick", eval_set="valid")
    assert cli.main(["run", "--bits", "1", "--out", "/nonexistent/x"]) == 2


@pytest.mark.parametrize("epochs, every, expected", [(6, 2, [2, 4, 6]), (7, 3, [3, 6, 7]), (5, 1, [1, 2, 3, 4, 5]),
                                                     (4, 10, [4]), (1, 1, [1])])
def test_recorded_epochs_include_the_last_one(epochs, every, expected):
    config = qnet.preset("quick", epochs=epochs, mi_every=every)
    assert experiment.recorded_epochs(config).tolist() == expected


def test_compilation_cache_reuses_every_program_and_keeps_the_numbers(tmp_path):
    cache = tmp_path / "cache"

    def run_cli(out):
        args = ["run", "--epochs", "3", "--seeds", "2", "--out", str(out), "--no-progress", "--compilation-cache", str(cache)]
        proc = subprocess.run([sys.executable, "-m", "qnet", *args], capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return sorted(p.name for p in cache.iterdir())

    cold = run_cli(tmp_path / "cold")
    assert len(cold) >= 2  # the epoch program and at least one small one
    assert run_cli(tmp_path / "warm") == cold  # every program was found: nothing new stored
    fresh = experiment.run(qnet.preset("quick", epochs=3, seeds=2), tmp_path / "fresh", progress=False, plot=False)
    for name in ("cold", "warm"):
        rec = qnet.load_records(tmp_path / name)
        for key in ("I_XT", "I_TY", "train_loss", "test_accuracy"):
            np.testing.assert_array_equal(rec[key], fresh[key])
