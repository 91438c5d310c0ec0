"""qnet: exact information-plane analysis of quantized neural networks.

Flat public API; each idea lives in its own module:
information (exact MI of integer codes), data, quantizers, networks, training,
experiment (the runner), plots, estimators (binning, KDE, KSG) and cli.
"""


def _kernels_of_a_source_checkout():
    """Make ``qnet.kernels`` importable when qnet is imported from a source checkout.

    Installed, the kernels are the subpackage ``qnet/kernels``; in the repository they sit
    beside the package, in ``kernels/`` (``[tool.setuptools.package-dir]``). Run from the
    repository root (``python -c "import qnet"`` after the README's install), the source folder
    ``qnet/`` shadows the installed package, so the sibling folder is loaded as ``qnet.kernels``.
    """
    import importlib.util
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    source = here.parent / "kernels" / "__init__.py"
    if "qnet.kernels" in sys.modules or (here / "kernels").is_dir() or not source.is_file():
        return
    spec = importlib.util.spec_from_file_location("qnet.kernels", source, submodule_search_locations=[str(source.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["qnet.kernels"] = module
    spec.loader.exec_module(module)
    setattr(sys.modules[__name__], "kernels", module)  # as the import system does for a subpackage


_kernels_of_a_source_checkout()

from qnet.data import Dataset, stratified_split  # noqa: E402
from qnet.data import load as load_dataset  # noqa: E402
from qnet.experiment import (  # noqa: E402
    DataConfig,
    ExperimentConfig,
    MeasureConfig,
    RunError,
    load_codes,
    load_records,
    preset,
    run,
    saved_code_epochs,
)
from qnet.information import (  # noqa: E402
    EncodedLabels,
    Flip,
    Gaussian,
    Uniform,
    conditional_entropy,
    encode_labels,
    entropy,
    information_batch,
    joint_entropy,
    layer_information,
    mutual_information,
    noisy_information,
    noisy_layer_information,
    stochastic_information,
    stochastic_layer_information,
)
from qnet.model import (  # noqa: E402
    Conv2D,
    Dense,
    Flatten,
    Forward,
    FunctionalModel,
    MaxPool2D,
    Network,
    QuantizedNetwork,
    Quantizer,
    fake_quantize,
    parse_layers,
    quantize,
)

from qnet import estimators  # noqa: E402
from qnet.measure import InformationPlane, layer_codes, measure  # noqa: E402
from qnet.training import TrainConfig, Trainer, train  # noqa: E402
from qnet.sweep import load_spec, records_frame, run_sweep, sweep_frame  # noqa: E402

__version__ = "0.2.0"
