"""The text written on a run's figures: its settings, and what each drawn number is.

Every figure says which data, network, activation, bit widths, seeds and n it shows, that the
information values are exact (and which are estimates, when a run holds any), which layers are
saturated at log2 n, and which seeds were left out.
"""

import numpy as np

from qnet.experiment.store import noisy_layers
from qnet.plots.style import alive, diverged_note


def _flat(records):
    """The run's config as a flat dict (empty when the records carry none)."""
    config = records.get("config")
    if not config:
        return {}
    from qnet.experiment.config import ExperimentConfig

    return ExperimentConfig.from_json(config).flat()


def network_text(flat, records):
    """``"12-10-7-5-4-3-2"`` for an MLP of dense layers, else the layer spec (or the own model's name)."""
    if "model" in flat:
        return f"own model {flat['model']}"
    spec = str(flat.get("layers", ""))
    parts = spec.split(",") if spec else []
    if parts and flat.get("input_size") and all(p.startswith("dense:") and p.count(":") == 1 for p in parts):
        return "-".join([str(flat["input_size"])] + [p.split(":")[1] for p in parts])
    return spec or "-".join(str(int(w)) for w in records["layer_widths"])


def settings(records):
    """One line: dataset, network, activation, bits, seeds drawn, n (the inputs counted)."""
    flat = _flat(records)
    n_alive, n_seeds = int(alive(records).sum()), len(records["seeds"])
    seeds = f"{n_alive} seeds" if n_alive == n_seeds else f"{n_alive} of {n_seeds} seeds"
    n = f"n = {int(records['n_eval'])}"
    if not flat:
        return f"{seeds}, {n}"
    bits = flat.get("bits")
    weights = flat.get("weight_bits")
    parts = [str(flat.get("dataset", "?")), network_text(flat, records)]
    if "model" not in flat:
        parts += [str(flat.get("activation")),
                  f"{bits}-bit activations" if bits is not None else "float activations",
                  f"{weights}-bit weights" if weights is not None else "float weights"]
    return ", ".join(parts + [seeds, n])


def saturated(records):
    """Layers whose codes keep all n inputs apart (``n_states == n``) at the last recorded epoch in
    every drawn seed: ``(layer indices, also_at_every_epoch)``; their I(X;T) is log2 n."""
    counts = np.asarray(records.get("n_states", np.zeros((0, 0, 0))))
    if counts.ndim != 3 or counts.shape[1] == 0:
        return [], []
    counts = counts[alive(records)]
    full = (counts == int(records["n_eval"])) & ~noisy_layers(records)  # a noisy layer's count is its support
    last = [layer for layer in range(counts.shape[2]) if full[:, -1, layer].all()]
    always = [layer for layer in last if full[:, :, layer].all()]
    return last, always


def _layers_text(layers):
    return ", ".join(str(layer + 1) for layer in layers)


def saturation_note(records):
    """``"saturated (all n codes distinct, I(X;T) = log2 n): layers 1, 2 at every epoch"``, or ``""``."""
    last, always = saturated(records)
    if not last:
        return ""
    when = "at every epoch" if last == always else "at the last epoch"
    return f"saturated (all {int(records['n_eval'])} codes distinct): layer{'s' if len(last) > 1 else ''} " \
           f"{_layers_text(last)} {when}"


def estimate_note(records):
    """What in the records is not exact: Monte-Carlo values of noisy layers, values not computed
    (beyond the noise sum's budget). ``""`` when every drawn value is exact."""
    if "exact" not in records:
        return ""
    exact = np.asarray(records["exact"])[alive(records)]
    values = np.asarray(records["I_XT"])[alive(records)]
    notes = []
    estimated = ~exact & np.isfinite(values)
    if estimated.any():
        layers = sorted(set(np.nonzero(estimated)[2].tolist()))
        notes.append(f"ESTIMATE (Monte Carlo over the noise) at {int(estimated.sum())} of {estimated.size} "
                     f"seed-epoch-layer values, layers {_layers_text(layers)}; the rest exact")
    missing = ~np.isfinite(values)
    if missing.any():
        notes.append(f"{int(missing.sum())} values not computed (noise sum over budget)")
    if not notes:
        notes.append("noisy layers: exact sums over the noise")
    return "; ".join(notes)


def caption(records, band=None):
    """The settings line, then one line of what is drawn: exact or estimates, the band, the
    saturated layers and the seeds left out."""
    kind = "exact MI" if not estimate_note(records) else estimate_note(records)
    if "exact" in records and kind.startswith("noisy"):
        kind = "exact MI (" + kind + ")"
    notes = [kind] + [t for t in (band, saturation_note(records)) if t]
    return settings(records) + "\n" + "; ".join(notes) + diverged_note(records)


def wrapped(text, width=110):
    """``text`` with each of its lines wrapped at ``width`` characters (for titles)."""
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))
