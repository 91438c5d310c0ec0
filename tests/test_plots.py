"""The figures: what they say (settings, band, estimates, saturation, left-out seeds), the inset
of coinciding layers, per-seed traces, formats, and the animation's frames."""

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.text import Text

import qnet
from qnet import plots
from qnet.plots.animation import frame_epochs


def _records(seeds=3, epochs=12, layers=3, diverged=(0, 0, 0), coincide=True, noisy=False):
    """Records of a made-up run: SYN-like, n = 4096; layers 1 and 2 saturated (4096 codes, 12 bits,
    I(T;Y) = H(Y)) at every epoch when ``coincide``, the rest spread out."""
    rng = np.random.default_rng(0)
    n, h_y = 4096, 0.99916
    e = np.arange(1, epochs + 1)
    ixt = rng.uniform(2, 10, (seeds, epochs, layers))
    ity = rng.uniform(0.1, 0.9, (seeds, epochs, layers))
    counts = rng.integers(10, 4000, (seeds, epochs, layers))
    if coincide:
        ixt[:, :, :2], ity[:, :, :2], counts[:, :, :2] = math.log2(n), h_y, n
    records = {"epoch": e, "I_XT": ixt, "I_TY": ity, "H_T_given_Y": ixt - ity, "n_states": counts,
               "train_accuracy": rng.uniform(0.5, 1, (seeds, epochs)), "test_accuracy": rng.uniform(0.5, 1, (seeds, epochs)),
               "seeds": np.arange(seeds), "layer_names": np.array([f"dense{i + 1}" for i in range(layers)]),
               "layer_widths": np.array([10, 7, 5, 4, 3, 2][:layers]), "n_eval": np.int64(n), "H_Y": np.float64(h_y),
               "diverged_epoch": np.array(diverged), "config": qnet.preset("syn-tanh-8").to_json()}
    if noisy:
        records["exact"] = np.ones((seeds, epochs, layers), bool)
        records["exact"][0, 3, 2] = False
    return records


def _texts(fig):
    return " ".join(t.get_text() for t in fig.findobj(Text))


def test_the_plane_says_its_settings_and_spreads_coinciding_layers_in_an_inset():
    fig = plots.information_plane(_records())
    text = " ".join(_texts(fig).split())
    for words in ("syn", "12-10-7-5-4-3-2", "tanh", "8-bit activations", "float weights", "3 seeds", "n = 4096",
                  "exact MI", "saturated (all 4096 codes distinct): layers 1, 2 at every epoch", "ceiling"):
        assert words in text, words
    insets = [a for a in fig.axes[0].child_axes if a.get_title(loc="left").startswith("zoom")]
    assert len(insets) == 1 and "layers 1, 2 coincide: drawn" in insets[0].get_title(loc="left")
    # the two coinciding layers' last markers are apart in the inset, by the offset the title states
    offset = float(insets[0].get_title(loc="left").split("drawn ")[1].split(" bits")[0])
    ends = [c.get_offsets()[-1] for c in insets[0].collections if isinstance(c, PathCollection)]
    assert ends[0][0] == ends[1][0] == 12.0 and ends[0][1] - ends[1][1] == pytest.approx(offset)
    plt.close(fig)
    fig = plots.information_plane(_records(coincide=False))
    assert not fig.axes[0].child_axes and "saturated" not in _texts(fig)
    plt.close(fig)


def test_left_out_seeds_estimates_and_per_seed_traces_are_on_the_figures():
    rec = _records(diverged=(0, 5, 0), noisy=True)
    fig = plots.information_plane(rec, show_seeds=True, inset=False)
    text = " ".join(_texts(fig).split())
    assert "2 of 3 seeds" in text and "left out (diverged): seed 1 at epoch 5" in text
    assert "ESTIMATE (Monte Carlo over the noise) at 1 of 72 seed-epoch-layer values, layers 3" in text
    grey = [line for line in fig.axes[0].lines if line.get_color() == "0.55"]
    assert len(grey) == 2 * 3  # the two kept seeds, every layer
    plt.close(fig)
    fig = plots.information_vs_epoch(rec, show_seeds=True)
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "band: min-max over 2 seeds" in labels and "thin: each seed" in labels
    assert sum(len(ax.lines) for ax in fig.axes) == 2 * (3 + 3 * 2) + 2  # means, seeds, the two bounds
    plt.close(fig)
    fig = plots.accuracy(rec, show_seeds=True)
    assert len(fig.axes[0].lines) == 2 + 2 * 2 and "left out (diverged)" in _texts(fig)
    plt.close(fig)


def test_frames_are_log_spaced_bounded_and_keep_the_first_and_last_epoch():
    epochs = np.arange(1, 8001)
    idx = frame_epochs(epochs, 120)
    assert len(idx) == 120 and idx[0] == 0 and idx[-1] == 7999 and (np.diff(idx) > 0).all()
    assert (epochs[idx] <= 800).sum() > 60  # log spacing: most frames in the first tenth
    ratios = epochs[idx][1:] / epochs[idx][:-1]
    assert ratios[-30:].max() < 1.2 * (8000 ** (1 / 119))  # late frames about one log step apart
    short = np.arange(1, 102)
    assert short[frame_epochs(short, 5, "linear")].tolist() == [1, 26, 51, 76, 101]
    long = np.arange(1, 10001)
    assert long[frame_epochs(long, 5)].tolist() == [1, 10, 100, 1000, 10000]
    sparse = np.array([1, 2, 3, 50, 100])  # nearest recorded epochs, then distinct
    assert frame_epochs(sparse, 3).tolist() == [0, 2, 4]
    assert frame_epochs(np.array([1, 5, 9]), 10).tolist() == [0, 1, 2]
    assert frame_epochs(np.arange(1, 31), 10).size == 10
    with pytest.raises(ValueError, match="frames"):
        frame_epochs(epochs, 1)
    with pytest.raises(ValueError, match="spacing"):
        frame_epochs(epochs, 10, "cubic")


def test_formats_are_checked():
    assert plots.parse_formats(["png,pdf", "svg", "png"]) == ("png", "pdf", "svg")
    with pytest.raises(ValueError, match="jpg"):
        plots.parse_formats("jpg")


def test_plot_and_animate_a_short_run_from_the_command_line(tmp_path, capsys):
    from PIL import Image

    from qnet import cli

    out = tmp_path / "run"
    assert cli.main(["run", "--epochs", "30", "--seeds", "2", "--no-progress", "--out", str(out)]) == 0
    assert matplotlib.get_backend().lower() == "agg"
    assert cli.main(["plot", str(out), "--seeds", "--format", "png,svg", "--format", "pdf", "--animate",
                     "--frames", "10", "--no-progress"]) == 0
    printed = capsys.readouterr().out.split()
    for name in ("information_plane", "mi_epochs", "accuracy"):
        assert (out / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
        assert b"<svg" in (out / f"{name}.svg").read_bytes()[:1000]
        assert str(out / f"{name}.png") in printed
    with Image.open(out / "information_plane.gif") as gif:
        assert gif.n_frames == 10
    assert not list(out.glob(".*partial*"))


def test_a_run_whose_every_seed_diverged_is_one_line_not_a_crash(tmp_path):
    """Every seed diverged: nothing to draw, said in one line (a ValueError), no numpy reduction error."""
    from qnet import plots

    records = {"epoch": np.array([1, 2]), "seeds": np.array([0, 1]), "diverged_epoch": np.array([2, 1]),
               "I_XT": np.full((2, 2, 1), np.nan), "I_TY": np.full((2, 2, 1), np.nan)}
    with pytest.raises(ValueError, match="every seed diverged"):
        plots.plot_run(tmp_path, records)
    assert list(tmp_path.iterdir()) == []


def test_a_noisy_layer_is_not_called_saturated_for_its_support():
    """Through noise a layer's n_states counts the codes of positive probability, which can pass
    n; the regime (k = n, I(X;T) = log2 n) is only said of deterministic layers."""
    from qnet.plots.captions import saturated

    records = _records()  # layers 1 and 2: 4096 distinct codes of 4096 inputs
    records["H_T_given_X"] = np.zeros_like(records["I_XT"])
    assert saturated(records)[0] == [0, 1]
    records["H_T_given_X"][:, :, 1] = 0.5  # layer 2 is measured through noise: its 4096 codes are a support
    assert saturated(records)[0] == [0]
    records["n_states"][:, :, 1] = 9000
    lines = qnet.experiment.summary(records).splitlines()
    (noisy,) = [line for line in lines if line.startswith("  dense2")]
    assert "through noise, up to 9000 codes of positive probability" in noisy and "saturated" not in noisy
    (clean,) = [line for line in lines if line.startswith("  dense1")]
    assert "4096 of 4096 codes distinct, saturated (k = n, I(X;T) = log2 n) in 3 of 3 seeds" in clean
