"""Independent, obviously correct information quantities (collections.Counter over row tuples)."""

import math
from collections import Counter

import numpy as np


def rows(a):
    a = np.asarray(a)
    a = a.reshape(a.shape[0], -1) if a.ndim != 1 else a.reshape(-1, 1)
    return [tuple(int(v) if not isinstance(v, str) else v for v in r) for r in a.tolist()]


def entropy(*arrays):
    """Joint plug-in entropy in bits of the rows of the given arrays, side by side."""
    joint = list(zip(*[rows(a) for a in arrays]))
    n = len(joint)
    return -sum(c / n * math.log2(c / n) for c in Counter(joint).values())


def mutual_information(a, b):
    return entropy(a) + entropy(b) - entropy(a, b)
