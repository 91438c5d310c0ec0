"""Numba kernels that count distinct rows of integer code arrays exactly.

Installed as ``qnet.kernels``. Only ``@njit`` functions over integer arrays live
here; argument checking, dtype handling and error messages are the job of
:mod:`qnet.information`, which is the public face of these kernels.
"""

from .counting import (
    dense_ids,
    entropy_of_ids,
    information_batch,
    information_batch_parallel,
    layer_information_of_block,
    pair_entropies,
    row_ids,
)

__all__ = [
    "dense_ids",
    "entropy_of_ids",
    "information_batch",
    "information_batch_parallel",
    "layer_information_of_block",
    "pair_entropies",
    "row_ids",
]
