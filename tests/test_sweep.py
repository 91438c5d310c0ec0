"""Sweeps: the spec, the local and Ray engines (equal records), resume, failures, tidy frames, compare."""

import json
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pytest
from runs import KEYS, assert_same_records, qnet_cli

import qnet
from qnet import cli
from qnet.sweep import load_spec, plan_from_tables, run_sweep
from qnet.sweep.spec import DEFAULT_PROGRAMS

pd = pytest.importorskip("pandas")

SPEC = """
[base]
preset = "quick"
epochs = 20
seeds = 2

[grid]
bits = [4, 8]
activation = ["tanh", "relu"]
"""
NAMES = ["bits-4_activation-tanh", "bits-4_activation-relu", "bits-8_activation-tanh", "bits-8_activation-relu"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("xla"))  # shared by the module's runs: each program compiles once


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "grid.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory, spec_path, cache):
    out = tmp_path_factory.mktemp("local") / "sweep"
    result = run_sweep(load_spec(spec_path), out, engine="local", cache_dir=cache, progress=False, log=lambda s: None)
    assert result == {"done": sorted(NAMES), "skipped": [], "failed": {}}
    return out


# -- the spec ---------------------------------------------------------------------------------
def test_spec_plans_one_pinned_run_per_combination(spec_path):
    plan = load_spec(spec_path)
    assert [name for name, _, _ in plan] == NAMES
    for (name, settings, config), (bits, act) in zip(plan, [(4, "tanh"), (4, "relu"), (8, "tanh"), (8, "relu")]):
        assert settings == {"bits": bits, "activation": act}
        assert (config.network.bits, config.network.activation) == (bits, act)
        assert (config.training.epochs, config.training.seeds) == (20, 2)
        assert config.training.programs == DEFAULT_PROGRAMS  # pinned: the same split on any machine


def test_spec_values_are_parsed_as_the_command_line_parses_them():
    plan = plan_from_tables({"epochs": 3, "mi_every": 2, "widths": "12-4-2"}, {"bits": ["none", 4]})
    (_, _, float_net), (_, _, four) = plan
    assert float_net.network.bits is None and four.network.bits == 4
    assert float_net.measure.mi_epochs == "every:2" and float_net.network.input_size == 12


def test_a_sweep_folder_refuses_a_plan_with_other_settings(tmp_path):
    """Re-run into its folder, a sweep may change its runs' epochs (they are resumed or extended),
    nothing else: another setting would make every resume fail, and the folder's plan wrong."""
    base = {"epochs": 3, "widths": "12-4-2", "programs": 1}
    plan = plan_from_tables(base, {"bits": [4, 8]})
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "sweep.json").write_text(json.dumps({"runs": [{"name": n, "settings": s, "config": c.to_json()}
                                                            for n, s, c in plan]}))
    with pytest.raises(ValueError, match=r"run bits-4 has other settings \(seeds\)"):
        run_sweep(plan_from_tables(dict(base, seeds=2), {"bits": [4, 8]}), folder)
    assert json.loads((folder / "sweep.json").read_text())["runs"][0]["config"] == plan[0][2].to_json()
    from qnet.sweep.study import _check_same_plan

    _check_same_plan(folder, plan_from_tables(dict(base, epochs=5), {"bits": [4, 8]}))  # accepted


@pytest.mark.parametrize("base, grid, words", [
    ({"epoch": 3}, {}, "unknown option 'epoch'"),
    ({}, {"bits": 4}, "[grid] bits must be a non-empty list"),
    ({"bits": 4}, {"bits": [4, 8]}, "both [base] and [grid]"),
    ({}, {"bits": [4, 4]}, "lists a value twice"),
    ({}, {"bits": ["four"]}, "bits = 'four'"),
    ({}, {"preset": ["quick"]}, "set in [base], not swept"),
])
def test_bad_specs_are_named_in_one_line(base, grid, words):
    with pytest.raises(ValueError) as err:
        plan_from_tables(base, grid, "grid.toml")
    assert words in str(err.value) and "grid.toml" in str(err.value) and "\n" not in str(err.value)


def test_bad_spec_files_from_the_cli(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[base]\nepochs = \n")
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: not a TOML file" in err and len(err.strip().splitlines()) == 1
    path.write_text("[grids]\nbits = [4]\n")
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown table(s) ['grids']" in capsys.readouterr().err


# -- engines -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_local_sweep_equals_the_runs_made_alone(local_sweep, spec_path):
    """Each run of the sweep has the numbers of the same config run on its own with the runner."""
    name, _, config = load_spec(spec_path)[1]
    alone = qnet.experiment.run(config, local_sweep.parent / "alone", progress=False, plot=False)
    assert_same_records(qnet.load_records(local_sweep / name), alone)


@pytest.mark.parametrize("runs", [2, pytest.param(4, marks=pytest.mark.slow)])
def test_ray_sweep_gives_the_local_records(local_sweep, spec_path, cache, tmp_path, runs):
    """Ray tasks (a local Ray of 2 CPUs) give the local engine's records, bit for bit (the default
    suite runs the first two runs of the grid, -m slow all four)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_sweep(load_spec(spec_path)[:runs], tmp_path / "ray", engine="ray", cache_dir=cache, progress=False,
                           log=lambda s: None)
    finally:
        ray.shutdown()
    assert result["failed"] == {} and result["done"] == sorted(NAMES[:runs])
    for name in NAMES[:runs]:
        assert_same_records(qnet.load_records(tmp_path / "ray" / name), qnet.load_records(local_sweep / name))


def test_an_interrupted_sweep_resumes_where_it_stopped(local_sweep, spec_path, cache, tmp_path, monkeypatch):
    """Workers killed (SIGKILL) after their first commit: reported as failed; the same call again
    skips the finished run, resumes the interrupted one and gives the uninterrupted numbers."""
    plan = load_spec(spec_path)[:2]
    out = tmp_path / "sweep"
    out.mkdir()
    shutil.copytree(local_sweep / NAMES[0], out / NAMES[0])  # one finished run
    (out / "sweep.json").write_text('{"runs": []}')
    before = (out / NAMES[0] / "manifest.json").stat().st_mtime_ns
    monkeypatch.setenv("QNET_KILL_AT", "commit:manifest-written:1")
    first = run_sweep(plan, out, cache_dir=cache, progress=False, log=lambda s: None)
    assert first["skipped"] == [NAMES[0]] and list(first["failed"]) == [NAMES[1]]
    assert "worker process died" in first["failed"][NAMES[1]]
    assert 1 <= qnet.experiment.read_manifest(out / NAMES[1])["completed"] < 20
    monkeypatch.delenv("QNET_KILL_AT")
    again = run_sweep(plan, out, cache_dir=cache, progress=False, log=lambda s: None)
    assert again == {"done": [NAMES[1]], "skipped": [NAMES[0]], "failed": {}}
    assert (out / NAMES[0] / "manifest.json").stat().st_mtime_ns == before
    for name in NAMES[:2]:
        assert_same_records(qnet.load_records(out / name), qnet.load_records(local_sweep / name))


def test_a_failing_run_is_reported_and_the_others_go_on(tmp_path, cache, capsys, local_sweep):
    """A net whose input width (13) does not fit the data (12) fails in its worker; the other run
    (the grid's bits-8 tanh run, compiled already) finishes; the command exits 1 with a summary."""
    spec = tmp_path / "fail.toml"
    spec.write_text('[base]\nepochs = 20\nseeds = 2\nbits = 8\nactivation = "tanh"\n'
                    '[grid]\nwidths = ["12-10-7-5-4-3-2", "13-10-7-5-4-3-2"]\n')
    code = cli.main(["sweep", str(spec), "--out", str(tmp_path / "s"), "--no-progress", "--compilation-cache", cache])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    bad, good = tmp_path / "s" / "widths-13-10-7-5-4-3-2", tmp_path / "s" / "widths-12-10-7-5-4-3-2"
    assert lines[-1] == "1 runs done, 0 already finished, 1 failed"
    assert lines[-2].startswith(f"failed: {bad.name}: ") and "13" in lines[-2]
    assert (bad / "failed.txt").read_text().splitlines()[0] == lines[-2][len(f"failed: {bad.name}: "):]
    assert not (good / "failed.txt").exists()
    assert_same_records(qnet.load_records(good), qnet.load_records(local_sweep / "bits-8_activation-tanh"))


# -- frames ----------------------------------------------------------------------------------
def test_frames_hold_every_record_once(local_sweep):
    frame = pd.read_parquet(local_sweep / "results.parquet")
    pd.testing.assert_frame_equal(frame, qnet.sweep_frame(local_sweep))
    assert len(frame) == len(NAMES) * 2 * 20 * 6  # runs x seeds x epochs x layers
    rng = np.random.default_rng(0)
    for name in NAMES:
        records = qnet.load_records(local_sweep / name)
        config = json.loads((local_sweep / name / "config.json").read_text())
        run = frame[frame["run"] == name]
        assert (run["bits"] == config["network"]["bits"]).all()
        assert (run["activation"] == config["network"]["activation"]).all()
        for _ in range(5):
            s, e, l = rng.integers(2), rng.integers(20), rng.integers(6)
            row = run[(run["seed"] == records["seeds"][s]) & (run["epoch"] == records["epoch"][e])
                      & (run["layer"] == records["layer_names"][l])]
            assert len(row) == 1
            for key in KEYS:
                value = records[key][s, e, l] if records[key].ndim == 3 else records[key][s, e]
                assert row[key].item() == value, key


def test_records_frame_of_a_float_net_labels_the_binned_estimates(tmp_path):
    config = qnet.preset("quick", epochs=2, seeds=1, bits=None, binning=[30], widths="12-3-2", programs=1)
    records = qnet.experiment.run(config, tmp_path / "float", progress=False, plot=False)
    frame = qnet.records_frame(tmp_path / "float")
    assert list(frame["layer"][:2]) == list(records["value_names"]) and frame["I_XT"].isna().all()
    got = frame.set_index(["epoch", "layer"])["estimate_binned30_I_XT"]
    for e, epoch in enumerate(records["epoch"]):
        for v, name in enumerate(records["value_names"]):
            assert got[(epoch, name)] == records["binned_I_XT"][0, e, v, 0]


# -- compare and reproduce ---------------------------------------------------------------------
def test_compare_draws_a_sweep_labelled_by_its_grid(local_sweep, tmp_path):
    from qnet.sweep.compare import collect_runs, curves_figure, labels

    runs = collect_runs([local_sweep])
    names, fields, _ = labels(runs, by="activation")
    assert fields == ["activation", "bits"]
    assert sorted(names) == sorted(f"activation={a}, bits={b}" for b in (4, 8) for a in ("tanh", "relu"))
    fig = curves_figure(runs, by="activation")  # columns named by the layers, not by their index
    assert [ax.get_title() for ax in fig.axes[:6]] == [f"dense{i}" for i in range(1, 7)]
    plt.close(fig)
    assert cli.main(["compare", str(local_sweep), "--by", "activation", "--out", str(tmp_path)]) == 0
    for name in ("compare_plane.png", "compare_mi.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli.main(["compare", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "neither a run folder" in err and str(tmp_path) in err


def test_reproduce_prints_its_plan_and_cost(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QNET_DATA", str(tmp_path))  # no MNIST there
    assert cli.main(["reproduce", "lorenzen2022", "--dry-run", "--seeds", "3"]) == 0
    out = capsys.readouterr().out
    assert "MNIST IDX files not found" in out and "8 runs" in out
    seed_epochs = 3 * 8000 * 6 + 2 * 3 * 9000
    assert f"{seed_epochs:,} seed-epochs" in out and "estimated wall time" in out
    for name in ("syn-tanh-8", "syn-relu-4", "syn-tanh-float-binned", "syn-relu-8-prefit"):
        assert f"  {name}: 3 seeds" in out


@pytest.mark.slow
def test_reproduce_end_to_end_shortened(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("QNET_DATA", str(tmp_path))
    proc = qnet_cli(["reproduce", "lorenzen2022", "--epochs", "8", "--seeds", "1", "--out", tmp_path / "r",
                     "--no-progress"], tmp_path, cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "compare-quantized" / "compare_plane.png").exists()
    table = (tmp_path / "r" / "summary.md").read_text()
    assert table.count("\n") == 2 + 8 and "estimate (30 bins)" in table


def test_ctrl_c_stops_a_local_sweep_in_one_line(tmp_path, cache):
    """A terminal's Ctrl-C (SIGINT to the process group) while two runs train and a third waits:
    exit 130, one line, no traceback; the running runs committed, the queued one never started."""
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = tmp_path / "long.toml"
    spec.write_text('[base]\npreset = "quick"\nepochs = 4000\nseeds = 1\n\n[grid]\nbits = [4, 6, 8]\n')
    out = tmp_path / "s"
    env = dict(os.environ, QNET_COMPILATION_CACHE=cache)
    proc = subprocess.Popen([sys.executable, "-m", "qnet", "sweep", str(spec), "--out", str(out), "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    def committed(b):
        try:
            return qnet.experiment.read_manifest(out / f"bits-{b}", verify=False)["completed"] >= 1
        except (qnet.experiment.RunError, OSError, ValueError):
            return False

    deadline = time.time() + 240
    while sum(committed(b) for b in (4, 6, 8)) < 2:  # two runs have finished epochs, the third waits
        assert time.time() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() is not None else ""
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 130 and "Traceback" not in err and len(lines) == 1, err
    assert "run the same command again" in lines[0]
    started = [b for b in (4, 6, 8) if (out / f"bits-{b}" / "manifest.json").exists()]
    assert len(started) == 2
    for b in started:
        assert 1 <= qnet.experiment.read_manifest(out / f"bits-{b}")["completed"] < 4000
