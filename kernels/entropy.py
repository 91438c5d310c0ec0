"""Plug-in entropies (bits) from counts, summed over the histogram of the counts.

H = log2 n - (1/n) sum_c h[c] c log2 c, where h[c] is the number of symbols seen c times
and the sum runs over c in increasing order. The result depends only on the multiset of
counts, not on how symbols are numbered: two partitions with equal counts give
bit-identical entropies (so e.g. H(T2 | T1) is exactly 0 when T2 is a function of T1, and
every counting path below gives the same bits).
"""

import numpy as np

from ._common import inline, jit


@inline
def entropy_of_histogram(histogram, n):
    """log2 n - (1/n) sum_c histogram[c] c log2 c over counts c in increasing order (bits);
    histogram[c] = number of symbols seen c times, n = number of samples."""
    s = 0.0
    for c in range(2, histogram.shape[0]):
        if histogram[c] > 0:
            s += histogram[c] * (c * np.log2(c))
    h = np.log2(n) - s / n
    return h if h > 0.0 else 0.0


@jit
def entropy_of_counts(counts, n):
    """Plug-in entropy (bits) of symbols with the given counts (any integer array) summing to n."""
    largest = 0
    for c in counts:
        if c > largest:
            largest = c
    histogram = np.zeros(largest + 1, np.int64)
    for c in counts:
        histogram[c] += 1
    return entropy_of_histogram(histogram, n)


@jit
def entropy_of_ids(ids, k):
    """Plug-in entropy (bits) of the empirical distribution of ids: (n,) int64 in 0..k-1."""
    counts = np.zeros(k, np.int64)
    for i in range(ids.shape[0]):
        counts[ids[i]] += 1
    return entropy_of_counts(counts, ids.shape[0])


@jit
def plug_in_entropies(joint, k, n_classes, n):
    """(H(T), H(T, Y)) in bits from a (row-symbol, label) count table.

    joint: int32 array, ``joint[v * n_classes + c]`` the number of samples with row-symbol
    v < k and label c < n_classes; n: number of samples.
    """
    if k == n:  # every row distinct: both sums below are empty
        return np.log2(n), np.log2(n)
    totals = np.empty(k, np.int64)
    largest = 1
    for v in range(k):
        total = 0
        for c in range(n_classes):
            total += joint[v * n_classes + c]
        totals[v] = total
        if total > largest:
            largest = total
    hist_t = np.zeros(largest + 1, np.int64)
    hist_ty = np.zeros(largest + 1, np.int64)
    for v in range(k):
        if totals[v] > 1:
            hist_t[totals[v]] += 1
            for c in range(n_classes):
                hist_ty[joint[v * n_classes + c]] += 1
    return entropy_of_histogram(hist_t, n), entropy_of_histogram(hist_ty, n)
