"""Numba kernels that count distinct rows of integer code arrays exactly.

Installed as ``qnet.kernels``. Only ``@njit`` functions over integer arrays live
here; argument checking, dtype handling and error messages are the job of
:mod:`qnet.information`, which is the public face of these kernels.
"""

from .counting import (
    entropy_of_ids,
    information_batch,
    information_batch_parallel,
    information_of_ids,
    integer_ids,
    joint_entropy_of_ids,
    layer_information_of_block,
    row_ids,
)
from .noisy import mixture_entropies, push_products, sample_log_ratios

__all__ = [
    "entropy_of_ids",
    "information_batch",
    "information_batch_parallel",
    "information_of_ids",
    "integer_ids",
    "joint_entropy_of_ids",
    "layer_information_of_block",
    "mixture_entropies",
    "push_products",
    "row_ids",
    "sample_log_ratios",
]
