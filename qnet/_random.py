"""Stateless seeded randomness on the host: one NumPy stream per (seed, use)."""

import numpy as np

INIT_STREAM = 2**64 - 1  # (seed, INIT_STREAM) draws the initial weights
PREFIT_STREAM = 2**64 - 2  # (seed, PREFIT_STREAM) draws the permutation of the prefit labels
# (seed, epoch) for epoch = 1, 2, ... draws that epoch's order of the training samples


def seed_generator(seed, stream):
    """A NumPy generator keyed by ``(seed, stream)`` (counter-based Philox): independent
    streams for independent uses (initial weights, each epoch's shuffle), no state to carry."""
    key = np.array([int(seed) % 2**64, int(stream) % 2**64], np.uint64)
    return np.random.Generator(np.random.Philox(key=key))
