"""The result record of an estimate, and estimators by name."""

import math

import numpy as np
import pytest

from qnet import estimators as E
from qnet.estimators import records


class _Raises:
    name = "raises"

    def __init__(self, error):
        self.error = error

    def __call__(self, activations, labels, inputs=None):
        raise self.error


class _Returns:
    name = "returns"

    def __init__(self, value):
        self.value = value

    def __call__(self, activations, labels, inputs=None):
        return self.value


ACTS, LABELS = np.zeros((4, 1)), np.array([0, 1, 0, 1])


def test_a_successful_estimate_is_timed_and_recorded():
    rec = E.estimate(E.UniformBinning(2, "fixed", value_range=(0.0, 2.0)), np.array([[0.5], [1.5], [0.5], [1.5]]),
                     LABELS)
    assert rec == E.Estimate("binning-2-fixed", 1.0, 1.0, True, "", rec.seconds)
    assert 0 < rec.seconds < 5


@pytest.mark.parametrize("error", [ValueError("degenerate"), FloatingPointError("overflow"), MemoryError("big"),
                                   ZeroDivisionError("zero"), np.linalg.LinAlgError("singular")])
def test_recorded_failures(error):
    rec = E.estimate(_Raises(error), ACTS, LABELS)
    assert not rec.success and math.isnan(rec.I_XT) and math.isnan(rec.I_TY)
    assert rec.reason == f"{type(error).__name__}: {error}" and rec.estimator == "raises"


def test_a_caller_bug_is_not_recorded_but_raised():
    with pytest.raises(TypeError):
        E.estimate(_Raises(TypeError("wrong argument")), ACTS, LABELS)


@pytest.mark.parametrize("value", [(math.nan, 1.0), (1.0, math.inf)])
def test_non_finite_results_are_failures(value):
    rec = E.estimate(_Returns(value), ACTS, LABELS)
    assert not rec.success and rec.reason.startswith("non-finite result") and math.isnan(rec.I_TY)


def test_a_real_estimator_failing_on_bad_data_is_recorded():
    rec = E.estimate(E.KDE(), np.array([[np.nan], [0.0]]), [0, 1])
    assert not rec.success and "NaN" in rec.reason
    rec = E.estimate(E.MixedKSG(3), np.zeros((3, 1)), [0, 1, 0], np.zeros((3, 1)))  # k > n - 1
    assert not rec.success and "k must be between" in rec.reason


def test_stack():
    good = records.Estimate("a", 1.0, 0.5, True, "", 0.1)
    bad = records.Estimate("a", math.nan, math.nan, False, "ValueError: x", 0.2)
    arrays = records.stack([[good, bad], [bad, good]])
    assert arrays["values"].shape == (2, 2, 2) and arrays["success"].tolist() == [[True, False], [False, True]]
    assert arrays["reasons"][0, 1] == "ValueError: x" and arrays["seconds"][1, 0] == 0.2
    with pytest.raises(ValueError, match="ragged"):
        records.stack([[good, bad], [good]])


def test_registry_lists_and_builds_every_estimator():
    infos = E.available()
    names = [e.name for e in infos]
    assert len(names) == len(set(names))
    for must in ("binning-layer", "binning-layer-mm", "kde-upper", "ksg", "mixed-ksg", "mine", "nwj", "infonce"):
        assert must in names
    for e in infos:
        assert e.description and set(e.settings) <= set(E.SETTINGS)
        est = E.by_name(e.name)
        assert isinstance(est.name, str) and callable(est)
    assert "mixed-ksg" in E.describe() and "k=3" in E.describe()


def test_by_name_passes_settings():
    assert E.by_name("mixed-ksg", k=5) == E.MixedKSG(5)
    assert E.by_name("binning-neuron-mm", bins=256) == E.UniformBinning(256, "neuron", miller_madow=True)
    assert E.by_name("kde-lower", sigma2=0.1) == E.KDE(0.1, "lower")
    assert E.by_name("nwj", steps=300) == E.NWJ(steps=300)
    assert E.by_name("ksg", k=None) == E.KSG(3)  # None: the default
    with pytest.raises(ValueError, match="unknown estimator 'ksg2'"):
        E.by_name("ksg2")
    with pytest.raises(TypeError, match="takes no setting 'bins'"):
        E.by_name("ksg", bins=30)


def test_parse_routes_settings_to_the_estimators_that_take_them():
    ests = E.parse("binning-layer, mixed-ksg,infonce", bins=20, k=4, steps=50, sigma2=None)
    assert ests == [E.UniformBinning(20, "layer"), E.MixedKSG(4), E.InfoNCE(steps=50)]
    assert [e.name for e in E.parse(["kde-upper"])] == ["kde-upper-0.001"]
    with pytest.raises(ValueError, match="taken by none"):
        E.parse("binning-layer", k=5)
    with pytest.raises(ValueError, match="more than once"):
        E.parse("ksg,ksg")
    with pytest.raises(ValueError, match="comma-separated"):
        E.parse("ksg,,kde-upper")
    with pytest.raises(TypeError, match="unknown setting"):
        E.parse("ksg", neighbours=3)


def test_default_set_holds_the_classic_estimators_mixed_ksg_and_miller_madow():
    names = [e.name for e in E.default_estimators()]
    assert "mixed-ksg-3" in names and "binning-30-layer-mm" in names and "ksg-3" in names
    assert not any(n.startswith(("mine", "nwj", "infonce")) for n in names)
    assert [type(e) for e in E.neural_estimators(steps=10)] == [E.MINE, E.NWJ, E.InfoNCE]
