"""Estimators by name, for a command line: ``--estimators NAME[,NAME...]`` plus settings.

Names are families (``binning-layer``, ``mixed-ksg``, ``infonce``...); the settings a
command line passes are ``bins`` (binning), ``sigma2`` (KDE noise variance), ``k`` (kNN
neighbours), ``steps`` and ``batch`` (neural training steps and batch size). An estimator object's own ``name`` adds
its parameters (``binning-30-layer-mm``, ``mixed-ksg-3``).
"""

from dataclasses import dataclass

from qnet.estimators.binning import AdaptiveBinning, UniformBinning
from qnet.estimators.kde import KDE
from qnet.estimators.knn import KSG
from qnet.estimators.mixed_ksg import MixedKSG
from qnet.estimators.neural import MINE, NWJ, InfoNCE

#: setting -> (what it is, the estimator field it sets)
SETTINGS = {
    "bins": ("number of bins (binning)", "n_bins"),
    "sigma2": ("variance of the Gaussian noise (KDE)", "variance"),
    "k": ("number of nearest neighbours (KSG, mixed KSG)", "k"),
    "steps": ("maximum number of training steps (neural)", "steps"),
    "batch": ("batch size of the critic's training and held-out batches (neural)", "batch_size"),
}


@dataclass(frozen=True)
class EstimatorInfo:
    """A registered estimator family: ``name``, a one-line ``description``, ``settings``
    (setting -> its default) and ``make(**fields)`` building the estimator."""

    name: str
    description: str
    settings: dict
    make: object

    def build(self, **settings):
        """The estimator with ``settings`` (None = default); a setting it does not take is a TypeError."""
        fields = {}
        for key, value in settings.items():
            if key not in self.settings:
                raise TypeError(f"estimator {self.name!r} takes no setting {key!r} "
                                f"(it takes: {', '.join(self.settings) or 'none'})")
            if value is not None:
                fields[SETTINGS[key][1]] = value
        return self.make(**fields)


def _defaults(cls, *keys):
    """The settings ``keys`` of an estimator class with its own defaults (one source of truth)."""
    return {key: cls.__dataclass_fields__[SETTINGS[key][1]].default for key in keys}


def _entries():
    out = []
    mm_note = "; Miller-Madow corrected entropies (can exceed log2 n)"
    for mm in (False, True):
        suffix, note = ("-mm", mm_note) if mm else ("", "")
        for bounds, text in (("fixed", "equal-width bins on [-1, 1], as Shwartz-Ziv & Tishby 2017"),
                             ("layer", "equal-width bins over the layer's range"),
                             ("neuron", "equal-width bins over each unit's range")):
            out.append(EstimatorInfo(f"binning-{bounds}{suffix}", text + note, _defaults(UniformBinning, "bins"),
                                     lambda b=bounds, m=mm, **f: UniformBinning(bounds=b, miller_madow=m, **f)))
        for strategy, text in (("mass", "equal-mass bins over the layer's values (quantiles)"),
                               ("distinct", "bins with equal numbers of distinct values, as Chelombiev et al. 2019")):
            out.append(EstimatorInfo(f"adaptive-{strategy}{suffix}", text + note, _defaults(AdaptiveBinning, "bins"),
                                     lambda s=strategy, m=mm, **f: AdaptiveBinning(strategy=s, miller_madow=m, **f)))
    out += [
        EstimatorInfo("kde-upper", "Kolchinsky-Tracey KDE upper bound, as Saxe et al. 2018", _defaults(KDE, "sigma2"),
                      lambda **f: KDE(bound="upper", **f)),
        EstimatorInfo("kde-lower", "Kolchinsky-Tracey KDE lower bound", _defaults(KDE, "sigma2"),
                      lambda **f: KDE(bound="lower", **f)),
        EstimatorInfo("ksg", "KSG algorithm 1 (I(X;T)) and Ross 2014 (I(T;Y)); biased on ties", _defaults(KSG, "k"), KSG),
        EstimatorInfo("mixed-ksg", "Gao et al. 2017 kNN estimator for discrete-continuous mixtures (ties)",
                      _defaults(MixedKSG, "k"), MixedKSG),
        EstimatorInfo("mine", "MINE (Donsker-Varadhan bound, moving-average gradient), bmi defaults",
                      _defaults(MINE, "steps", "batch"), MINE),
        EstimatorInfo("nwj", "NWJ bound (Nguyen, Wainwright & Jordan 2010), bmi defaults", _defaults(NWJ, "steps", "batch"), NWJ),
        EstimatorInfo("infonce", "InfoNCE bound (van den Oord et al. 2018); at most log2(batch) bits",
                      _defaults(InfoNCE, "steps", "batch"), InfoNCE),
    ]
    return {e.name: e for e in out}


_REGISTRY = _entries()


def available():
    """Every registered family, in a fixed order: a list of :class:`EstimatorInfo`."""
    return list(_REGISTRY.values())


NEURAL_PROBES = 3  # probed epochs of the neural estimators in a benchmark, by default (0.4-7 s an estimate)

#: family -> what one estimate costs: mean seconds per estimate in benchmarks/estimators_results.md
#: (syn-tanh-8 and syn-relu-8, n = 4096 inputs, on 2 cores with no other jobs)
COSTS = {
    "binning": "< 1 ms (the first Miller-Madow call also compiles)",
    "kde": "~0.05 s (n x n distances)",
    "knn": "~0.05 s (k-d trees)",
    "neural": f"~0.4-7 s (trains a critic twice); run at {NEURAL_PROBES} probed epochs by default",
}


def family(name):
    """The family of a registered name: binning, kde, knn or neural."""
    if name.startswith(("binning", "adaptive")):
        return "binning"
    if name.startswith("kde"):
        return "kde"
    if name in ("ksg", "mixed-ksg"):
        return "knn"
    return "neural"


def _default_names(entry):
    """Names of the default estimators (:func:`default_estimators`) that ``entry`` builds."""
    out = []
    for est in default_estimators():
        try:
            built = entry.build(**{k: getattr(est, SETTINGS[k][1]) for k in entry.settings if hasattr(est, SETTINGS[k][1])})
        except (TypeError, ValueError):
            continue
        if built == est:
            out.append(est.name)
    return out


def describe(columns=False):
    """Text listing every name, its settings with defaults, and its description (one line each).

    columns: also the family, that every value is an estimate (none is exact), whether the
    benchmark runs it by default (and as which names) and what one estimate costs."""
    width = max(len(e.name) for e in available())
    lines = []
    for e in available():
        settings = ", ".join(f"{k}={v:g}" for k, v in e.settings.items())
        if columns:
            defaults = _default_names(e)
            used = f"default: {', '.join(defaults)}" if defaults else "opt-in"
            lines.append(f"{e.name:<{width}}  family={family(e.name)}  estimate  [{settings}]  {used}  "
                         f"cost: {COSTS[family(e.name)]}  -- {e.description}")
        else:
            lines.append(f"{e.name:<{width}}  [{settings}]  {e.description}")
    return "\n".join(lines)


def info(name):
    """The :class:`EstimatorInfo` registered as ``name``; unknown name: ValueError listing the names."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown estimator {name!r}; expected one of: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def by_name(name, **settings):
    """The estimator registered as ``name`` with ``settings`` (bins, sigma2, k, steps; None =
    default), e.g. ``by_name("mixed-ksg", k=5)``. Unknown name: ValueError listing the names."""
    return info(name).build(**settings)


def parse(names, **settings):
    """Estimators from ``"NAME[,NAME...]"`` (or a list of names); each setting goes to the
    estimators that take it. A setting given (not None) that none of them takes is a
    ValueError, as are unknown, repeated or empty names."""
    if isinstance(names, str):
        names = [part.strip() for part in names.split(",")]
    names = list(names)
    if not names or any(not n for n in names):
        raise ValueError(f"estimators must be a comma-separated list of names, got {names!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"estimators lists {', '.join(repeated)} more than once")
    for key in settings:
        if key not in SETTINGS:
            raise TypeError(f"unknown setting {key!r}; expected one of {', '.join(SETTINGS)}")
    infos = [info(n) for n in names]
    for key, value in settings.items():
        if value is not None and not any(key in e.settings for e in infos):
            raise ValueError(f"setting {key}={value} is taken by none of {', '.join(names)}")
    return [e.build(**{k: v for k, v in settings.items() if k in e.settings}) for e in infos]


def default_estimators():
    """The benchmark's default estimators, with the parameters of the studies they come from:
    the classic binning, KDE and KSG estimators, plus mixed KSG and two Miller-Madow binnings.
    The neural ones are opt-in (:func:`neural_estimators`; their cost: ``COSTS["neural"]``)."""
    return [UniformBinning(30, "fixed"), UniformBinning(30, "layer"), UniformBinning(100, "layer"),
            UniformBinning(256, "neuron"), AdaptiveBinning(30, "mass"), KDE(1e-3, "upper"), KDE(1e-3, "lower"),
            KSG(3), MixedKSG(3), UniformBinning(30, "layer", miller_madow=True),
            UniformBinning(256, "neuron", miller_madow=True)]


def neural_estimators(steps=None, seed=0):
    """MINE, NWJ and InfoNCE with bmi's defaults (``steps``: None for their default); meant for
    a few probed epochs (the benchmark runs them at ``--neural-probes`` of its epochs)."""
    kept = {} if steps is None else {"steps": steps}
    return [cls(seed=seed, **kept) for cls in (MINE, NWJ, InfoNCE)]
