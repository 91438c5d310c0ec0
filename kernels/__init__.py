"""Numba kernels that count distinct rows of integer code arrays exactly.

Installed as ``qnet.kernels``. Only ``@njit`` functions over integer arrays live here;
argument checking, dtype handling and error messages are the job of
:mod:`qnet.information`, which is the public face of these kernels. Modules:
``counting`` (layers of a stack of seeds' codes -> information-plane coordinates, the entry
points), ``rows`` (rows of up to 64 bytes, packed into words), ``wide`` (wider rows, hashed
and verified), ``entropy`` (plug-in entropies from counts), ``_common`` (Numba options,
hashing primitives, and the guard against a stale Numba cache, run here on import).
"""

from ._common import drop_stale_cache
from .counting import (
    information_batch,
    information_of_ids,
    joint_entropy_of_ids,
    layer_ids,
    layer_plane,
    row_ids,
    stack_row_ids,
)
from .entropy import entropy_of_counts, entropy_of_ids
from .noisy import mixture_entropies, push_products, sample_log_ratios
from .rows import integer_ids, key_ids

drop_stale_cache(information_batch)

__all__ = [
    "entropy_of_counts",
    "entropy_of_ids",
    "information_batch",
    "information_of_ids",
    "integer_ids",
    "joint_entropy_of_ids",
    "key_ids",
    "layer_ids",
    "layer_plane",
    "mixture_entropies",
    "push_products",
    "row_ids",
    "sample_log_ratios",
    "stack_row_ids",
]
