"""The command line: what it writes, and one clear line (no traceback, non-zero exit) for bad input."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from runs import one_error_line, qnet_cli

import qnet
from qnet import cli

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--epochs", "2", "--seeds", "1", "--no-progress"]


def _main_error(args, capsys):
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    return err


def test_run_writes_every_file_and_plot_redraws(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["run", "--epochs", "6", "--seeds", "2", "--mi-every", "2", "--out", str(out), "--no-progress"]) == 0
    for name in ("config.json", "manifest.json", "information_plane.png", "mi_epochs.png", "accuracy.png"):
        assert (out / name).stat().st_size > 0, name
    rec = qnet.load_records(out)
    assert rec["epoch"].tolist() == [1, 2, 4, 6] and rec["I_XT"].shape == (2, 4, 6)
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["epochs"] == 6 and config["measure"]["mi_epochs"] == "every:2"
    (out / "information_plane.png").unlink()
    assert cli.main(["plot", str(out)]) == 0 and (out / "information_plane.png").exists()


def test_none_and_full_values_reach_the_config(tmp_path):
    out = tmp_path / "run"
    args = ["run", *QUICK, "--bits", "none", "--weight-bits", "none", "--batch-size", "full", "--out", str(out)]
    assert cli.main(args) == 0
    network = json.loads((out / "config.json").read_text())["network"]
    training = json.loads((out / "config.json").read_text())["training"]
    assert network["bits"] is None and network["weight_bits"] is None and training["batch_size"] is None


def test_the_issue_conv_command_runs(tmp_path):
    out = tmp_path / "conv"
    args = ["run", "--dataset", "digits", "--layers", "conv:4:3x3:relu,maxpool:2,conv:4:3x3:relu,flatten,dense:10:softmax",
            "--epochs", "20", "--seeds", "2", "--out", str(out), "--no-progress"]
    assert cli.main(args) == 0
    rec = qnet.load_records(out)
    assert list(rec["layer_names"]) == ["conv1", "pool1", "conv2", "dense1"] and rec["I_XT"].shape == (2, 20, 4)
    assert (out / "information_plane.png").exists()


def test_a_config_file_and_flags_on_top(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"epochs": 2, "seeds": 1, "widths": "12-4-2", "activation": "relu"}))
    out = tmp_path / "run"
    assert cli.main(["run", "--config", str(path), "--bits", "4", "--out", str(out), "--no-progress"]) == 0
    config = qnet.ExperimentConfig.from_json(json.loads((out / "config.json").read_text()))
    assert config.network.widths == (12, 4, 2) and config.network.bits == 4 and config.network.activation == "relu"
    path.write_text("{broken")
    assert "--config" in _main_error(["run", "--config", str(path), "--out", str(tmp_path / "x")], capsys)


@pytest.mark.parametrize("args, expected", [
    (["--seed", str(2**63)], "seed must be between 0 and"),
    (["--epochs", "1000000000"], "the records of this run need about"),
    (["--layers", "conv:x"], "bad layer 'conv:x'"),
    (["--layers", "conv:4:3x3,flatten,dense:2"], "conv1 needs a (height, width, channels) input"),
    (["--widths", "784-10-2"], "expects 784 input values per sample"),
    (["--activation", "gelu"], "unknown activation"),
    (["--dataset", "mat", "--widths", "12-2"], "dataset mat needs the option(s) ['path'] (--data-path FILE"),
    (["--dataset", "mat", "--widths", "12-2", "--data-path", "/nonexistent.mat"], "not found"),
    (["--mi-epochs", "0,5"], "mi_epochs"),
    (["--mi-every", "2", "--mi-epochs", "log:3"], "either --mi-every or --mi-epochs"),
])
def test_bad_run_settings_are_one_line(tmp_path, capsys, args, expected):
    err = _main_error(["run", *QUICK, "--out", str(tmp_path / "r"), *args], capsys)
    assert expected in err


def test_bad_folders_are_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "is a file" in _main_error(["run", *QUICK, "--out", str(afile)], capsys)
    assert "cannot create the run folder" in _main_error(["run", *QUICK, "--out", str(afile / "sub")], capsys)
    assert "not a run folder" in _main_error(["run", "--resume", str(afile)], capsys)
    assert "not a run folder" in _main_error(["run", "--resume", str(tmp_path / "nowhere")], capsys)
    assert "--preset" in _main_error(["run", "--resume", str(tmp_path), "--preset", "quick"], capsys)
    assert "not a qnet run folder" in _main_error(["plot", str(tmp_path)], capsys)
    assert "must be >= 1" in _main_error(["estimators", "--probes", "0"], capsys)


def test_plot_of_a_run_with_no_finished_epoch_is_one_line(tmp_path):
    out = tmp_path / "run"
    killed = qnet_cli(["run", *QUICK, "--out", out], cwd=tmp_path, env={"QNET_KILL_AT": "commit:records-written:1"})
    assert killed.returncode < 0
    assert "no finished recorded epoch" in one_error_line(qnet_cli(["plot", out], cwd=tmp_path))


def test_resume_refuses_contradicting_flags_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", *QUICK, "--out", str(out)]) == 0
    err = _main_error(["run", "--resume", str(out), "--bits", "4"], capsys)
    assert "bits = 8 (asked 4)" in err and "only epochs can change" in err
    assert cli.main(["run", "--resume", str(out), "--seeds", "1", "--epochs", "3", "--no-progress"]) == 0  # equal: fine
    assert qnet.load_records(out)["epoch"].tolist() == [1, 2, 3]


def test_an_unwritable_compilation_cache_warns_once_and_runs(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "qnet", "run", *QUICK, "--out", str(tmp_path / "r"),
                           "--compilation-cache", str(afile / "cache")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("warning: the compilation cache") == 1


def test_version_help_presets_and_a_broken_pipe(tmp_path):
    proc = qnet_cli(["--version"], cwd=tmp_path)
    assert proc.stdout.strip() == f"qnet {qnet.__version__}"
    assert "(default: 30.0)" in qnet_cli(["run", "--help"], cwd=tmp_path).stdout
    assert "(default: 120)" in qnet_cli(["plot", "--help"], cwd=tmp_path).stdout
    listing = qnet_cli(["presets"], cwd=tmp_path).stdout
    blocks = {b.split(":")[0]: b for b in listing.strip().split("\n\n")}
    assert sorted(blocks) == sorted(qnet.experiment.DESCRIPTIONS)
    for name, block in blocks.items():  # every field, the falsy ones too
        for field in qnet.preset(name).flat():
            assert f" {field} = " in block, (name, field)
    assert "weight_bits = float" in blocks["syn-tanh-8"] and "symmetric = no" in blocks["quick"]
    assert "prefit_epochs = 0" in blocks["quick"] and "binning = none" in blocks["quick"]
    one = qnet_cli(["presets", "syn-tanh-8-noisy"], cwd=tmp_path).stdout
    assert one.strip() == blocks["syn-tanh-8-noisy"].strip()
    piped = subprocess.run(f"{sys.executable} -m qnet presets | head -1", shell=True, capture_output=True, text=True,
                           cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("quick:")


def test_import_from_the_repository_root_and_the_backend_is_left_alone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    code = ("import matplotlib; matplotlib.use('svg'); import qnet, qnet.kernels, qnet.plots; "
            "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend(); print(qnet.kernels.__file__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).resolve() == (REPO / "kernels" / "__init__.py").resolve()


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "soon"])
def test_checkpoint_interval_must_be_finite_seconds(capsys, value):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--checkpoint-every", value])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and "--checkpoint-every" in err[0] and value in err[0]


def test_importing_qnet_imports_neither_pyplot_nor_the_command_line_parsers():
    """pyplot picks a backend and, under IPython, hooks the display: only what draws imports it."""
    code = ("import sys, signal; before = signal.getsignal(signal.SIGINT); import qnet; "
            "assert 'matplotlib.pyplot' not in sys.modules and 'qnet.cli.plot' not in sys.modules; "
            "assert signal.getsignal(signal.SIGINT) is before")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_an_in_process_run_gives_back_the_signal_handlers(tmp_path):
    """cli.main in a notebook or a test: Ctrl-C works as before once the run is done."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert cli.main(["run", "--epochs", "2", "--seeds", "1", "--widths", "12-3-2", "--out", str(tmp_path / "r"),
                     "--no-progress"]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
