"""``qnet estimators``: --list, estimator choice and settings, and a run folder benchmarked
with its own config, checked against its records."""

import numpy as np
import pytest

from qnet import cli, experiment
from qnet import estimators as E
from qnet.estimators.benchmark import run_benchmark

# a tiny run: SYN's 820 test inputs through a 12-5-3-2 net, 4 epochs, 2 seeds, all recorded
RUN = ["--epochs", "4", "--seeds", "3", "--widths", "12-5-3-2", "--eval-set", "test", "--mi-epochs", "1,2,4"]


def _error_line(capsys, argv):
    code = cli.main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    assert cli.main(["run", *RUN, "--out", str(out), "--no-progress"]) == 0
    return out


def test_list_names_every_estimator_its_family_and_the_defaults(capsys):
    assert cli.main(["estimators", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [e.name for e in E.available()]
    text = "\n".join(lines)
    for est in E.default_estimators():  # every default estimator is named as one
        assert f" {est.name}" in text, est.name
    by_name = {line.split()[0]: line for line in lines}
    assert "family=knn" in by_name["mixed-ksg"] and "[k=3]" in by_name["mixed-ksg"]
    for name in ("mine", "nwj", "infonce"):
        assert "family=neural" in by_name[name] and "opt-in" in by_name[name] and "batch=256" in by_name[name]
    assert all(" estimate " in line and "cost:" in line for line in lines)


def test_settings_need_estimators_that_take_them(capsys):
    assert "give it too" in _error_line(capsys, ["estimators", "--bins", "10"])
    assert "sigma2=0.1 is taken by none of ksg" in _error_line(capsys, ["estimators", "--estimators", "ksg",
                                                                          "--sigma2", "0.1"])
    assert "unknown estimator 'nope'" in _error_line(capsys, ["estimators", "--estimators", "ksg,nope"])


def test_run_folder_benchmarked_with_its_own_config_and_checked_against_its_records(run_dir, capsys):
    argv = ["estimators", str(run_dir), "--estimators", "binning-layer,binning-neuron", "--bins", "20",
            "--probes", "2", "--no-progress", "--epochs", "4"]  # --epochs 4 agrees with the run: accepted
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "equal " + str(run_dir) + "'s records" in out
    folder = run_dir / "estimators"
    for name in ("estimators.npz", "estimators.csv", "estimators.md", "estimators_plane.png"):
        assert str(folder / name) in out and (folder / name).stat().st_size > 0
    saved = np.load(folder / "estimators.npz")
    assert list(saved["names"]) == ["binning-20-layer", "binning-20-neuron"]
    np.testing.assert_array_equal(saved["probes"], [1, 4])  # log-spread over the recorded 1, 2, 4
    records = experiment.load_records(run_dir)
    rows = np.searchsorted(records["epoch"], saved["probes"])
    # the benchmark's exact values are the run's (2 of its 3 seeds), computed by the runner
    np.testing.assert_allclose(saved["exact"][..., 0], records["I_XT"][:2, rows], atol=1e-12)
    np.testing.assert_allclose(saved["exact"][..., 1], records["I_TY"][:2, rows], atol=1e-12)
    np.testing.assert_array_equal(saved["n_states"], records["n_states"][:2, rows])


def test_run_folder_refuses_contradicting_flags_and_unrecorded_epochs(run_dir, capsys):
    line = _error_line(capsys, ["estimators", str(run_dir), "--epochs", "6"])
    assert "refused: --epochs 6" in line and "epochs=4" in line
    assert "--preset and --config do not apply" in _error_line(capsys, ["estimators", str(run_dir), "--preset", "quick"])
    line = _error_line(capsys, ["estimators", str(run_dir), "--probe-epochs", "1,3"])
    assert "--probe-epochs [3] were not recorded" in line


def test_run_folder_whose_records_differ_is_refused(run_dir, capsys, monkeypatch):
    real = experiment.load_records

    def tampered(path, verify=True):
        records = real(path, verify)
        records["I_XT"] = records["I_XT"].copy()
        records["I_XT"][1, -1, 0] += 0.01  # seed index 1, epoch 4, layer 1
        return records

    monkeypatch.setattr(experiment, "load_records", tampered)
    line = _error_line(capsys, ["estimators", str(run_dir), "--estimators", "binning-layer", "--probe-epochs", "4",
                                "--no-progress"])
    assert "differs from the run's records at epoch 4" in line and "seed index 1, layer 1" in line


def test_run_summary_states_the_regime_of_every_layer(run_dir):
    records = experiment.load_records(run_dir)
    n = int(records["n_eval"])
    text = experiment.summary(records)
    for layer, name in enumerate(records["layer_names"]):
        states = records["n_states"][:, -1, layer]
        line = next(line for line in text.splitlines() if line.strip().startswith(str(name)))
        assert f"{states.max()} of {n} codes distinct" in line
        assert f"saturated (k = n, I(X;T) = log2 n) in {int(np.sum(states == n))} of 3 seeds" in line


def test_a_diverged_seed_is_left_out_not_refused(run_dir, capsys, monkeypatch, tmp_path):
    real = experiment.load_records

    def diverged(path, verify=True):
        records = real(path, verify)
        for key in ("I_XT", "I_TY"):
            records[key] = records[key].copy()
            records[key][1, 1:] = np.nan  # seed index 1 diverged after epoch 1 (NaN in the records from then)
        return records

    monkeypatch.setattr(experiment, "load_records", diverged)
    argv = ["estimators", str(run_dir), "--estimators", "binning-layer", "--probe-epochs", "1,4", "--no-progress"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    exact = np.load(run_dir / "estimators" / "estimators.npz")["exact"]  # (S, P, L, 2)
    assert np.isfinite(exact[0]).all() and np.isfinite(exact[1, 0]).all() and np.isnan(exact[1, 1]).all()


def test_noisy_networks_are_refused_in_one_line(tmp_path):
    config = experiment.preset("syn-tanh-8-noisy", epochs=2, seeds=1)
    with pytest.raises(ValueError, match="noise layers"):
        run_benchmark(config, tmp_path, estimators="binning-layer", probes=[1], float_net=False, progress=False)


@pytest.mark.parametrize("seeds, programs, kept, trained, groups", [
    (5, 2, 2, 3, 1),  # the run's groups hold 3 seeds: its first 2 are trained in a group of 3
    (5, 2, 4, 5, 2),  # the whole run
    (6, 3, 3, 4, 2),
    (4, None, 2, 2, None),  # programs not pinned (not a run's config): just the seeds kept
])
def test_benchmarked_seeds_are_trained_in_groups_of_the_runs_size(seeds, programs, kept, trained, groups):
    from qnet.estimators.benchmark import _same_groups

    config = _same_groups(experiment.preset("quick", seeds=seeds, programs=programs), kept)
    assert (config.training.seeds, config.training.programs) == (trained, groups)


def test_a_run_on_its_own_arrays_is_benchmarked_from_any_folder(tmp_path, capsys, monkeypatch):
    """Its data.npz is in the run folder, not where the command is given."""
    import qnet

    rng = np.random.default_rng(0)
    X = rng.random((400, 6)).astype(np.float32)
    data = qnet.data.from_arrays(X, (X[:, 0] + X[:, 1] > 1).astype(int))
    run = tmp_path / "own"
    qnet.run(qnet.preset("quick", widths=(6, 5, 3, 2), epochs=3, seeds=2), run, data=data, progress=False, plot=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    argv = ["estimators", str(run), "--estimators", "binning-layer", "--probe-epochs", "3", "--no-progress"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert (run / "estimators" / "estimators.npz").exists()


def test_benchmarks_run_apart_merge_into_the_benchmark_run_together(tmp_path):
    """The classic and neural families are benchmarked apart (README): merged, their tables
    are those of one benchmark of all the estimators (deterministic ones: same values)."""
    from qnet.estimators import benchmark

    config = experiment.preset("quick", epochs=4, seeds=2)
    kw = dict(probes=[1, 4], float_net=True, progress=False)
    apart = [benchmark.run_benchmark(config, tmp_path / name, estimators=name, **kw) for name in
             ("binning-layer", "kde-upper,ksg")]
    together = benchmark.run_benchmark(config, tmp_path / "together", estimators="binning-layer,kde-upper,ksg", **kw)
    load = lambda paths: dict(np.load(paths[0]))  # noqa: E731
    merged = benchmark.merge_results(*map(load, apart))
    joint = load(together)
    assert merged["names"].tolist() == joint["names"].tolist() == ["binning-30-layer", "kde-upper-0.001", "ksg-3"]
    for key in ("quantized", "float", "quantized_success", "float_success", "exact", "probed"):
        np.testing.assert_array_equal(merged[key], joint[key])
    benchmark.write_reports(tmp_path / "together", merged)
    table = (tmp_path / "together" / "estimators.md").read_text()
    assert all(f"| {name} | 2 | 0 / 24 |" in table for name in joint["names"])
    with pytest.raises(ValueError, match="more than one"):
        benchmark.merge_results(load(apart[0]), load(apart[0]))
    other = experiment.preset("quick", epochs=4, seeds=2, seed=7)
    different = benchmark.run_benchmark(other, tmp_path / "other", estimators="ksg", **kw)
    with pytest.raises(ValueError, match="'exact'"):
        benchmark.merge_results(load(apart[0]), load(different))
