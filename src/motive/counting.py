"""The evaluation's counting loops in numba: one pass where numpy makes several over (queries x
candidates) or (score slots x resamples) tables. Every count is an integer or a half, exact in
float64 whatever the order it is summed in, so these give the numbers numpy gave, bit for bit.
Compiled on first use and cached next to this file (numba's ``cache=True``); imported only where
a full ranking or a bootstrap interval is computed.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def ranks_among(scores, keep, rows, values, above, at_or_above):
    """For each i: how many kept candidates of row ``rows[i]`` score above ``values[i]``, and at
    or above it (``scores`` and ``keep``: queries x candidates)."""
    for i in range(len(rows)):
        row, kept, value = scores[rows[i]], keep[rows[i]], values[i]
        strictly = loosely = np.int32(0)
        for c in range(len(row)):  # no branch: the compiler vectorises it
            strictly += (row[c] > value) & kept[c]
            loosely += (row[c] >= value) & kept[c]
        above[i], at_or_above[i] = strictly, loosely


@numba.njit(cache=True)
def weighted_wins(weights, slot_pointer, negative_query, group_pointer, positive_query, won):
    """For each resample r (a column of ``weights``: queries x resamples, each query's count):
    the weighted number of (positive, negative) pairs whose positive scores higher, ties counting
    half. Positives are grouped by distinct score (``group_pointer``, ascending scores); slot 2k
    holds the negatives below group k and above group k - 1, slot 2k + 1 those tied with it
    (``slot_pointer``; the last slot, above every positive, is never read)."""
    resamples = weights.shape[1]
    below = np.zeros(resamples)
    tied = np.empty(resamples)
    positives = np.empty(resamples)
    won[:] = 0
    for k in range(len(group_pointer) - 1):
        for e in range(slot_pointer[2 * k], slot_pointer[2 * k + 1]):
            row = weights[negative_query[e]]
            for r in range(resamples):
                below[r] += row[r]
        tied[:] = 0
        for e in range(slot_pointer[2 * k + 1], slot_pointer[2 * k + 2]):
            row = weights[negative_query[e]]
            for r in range(resamples):
                tied[r] += row[r]
        positives[:] = 0
        for e in range(group_pointer[k], group_pointer[k + 1]):
            row = weights[positive_query[e]]
            for r in range(resamples):
                positives[r] += row[r]
        for r in range(resamples):
            won[r] += positives[r] * (below[r] + 0.5 * tied[r])
            below[r] += tied[r]
