"""Best similarities over sparse sets of members, for the rankers' nearest-partner features
(``motive.models.pair_features``): for each query and node, the maximum of a dense table's
values over the members a CSR row lists, a bounded number of values gathered at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.sparse import csr_matrix

NONE = -1.0  # the similarity of a missing nearest partner
GATHERED = 2**24  # values gathered at once


def nearest(similarity: np.ndarray, members: csr_matrix, columns: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For each row of ``similarity`` (queries x the nodes ``position`` indexes) and each column
    node, the best similarity to the nodes ``members[column]`` lists (``NONE`` where none):
    ``best_rows`` of the transposed table, whose rows (a node's similarities to every query) are
    gathered whole instead of a column at a time."""
    return best_rows(np.ascontiguousarray(similarity.T), members, columns, position).T


def best_rows(table: np.ndarray, members: csr_matrix, rows: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For each node of ``rows``, the column-wise maximum of ``table``'s rows of the nodes
    ``members[row]`` lists (``position`` maps a node to its row; ``NONE`` where none): whole rows
    gathered, about ``GATHERED`` values at a time, and reduced row-wise (contiguous runs, where
    gathering columns of a row-major table would stride)."""
    chosen = members[rows]
    out = np.full((len(rows), table.shape[1]), NONE, table.dtype)
    for start, stop, filled in segments(chosen.indptr, max(GATHERED // max(table.shape[1], 1), 1)):
        lo, hi = chosen.indptr[start], chosen.indptr[stop]
        out[filled] = run_maxima(table[position[chosen.indices[lo:hi]]], chosen.indptr[filled] - lo)
    return out


def run_maxima(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``np.maximum.reduceat(rows, starts, axis=0)`` for increasing ``starts`` (runs of at least
    one row): the runs ordered longest first, so the k-th rows of every run longer than k are one
    gather and one in-place maximum over a prefix of the result. Maxima are exact, so the order of
    the comparisons does not change a value; numpy's reduceat along the first axis goes an element
    at a time (``benchmarks/run_maxima.py``)."""
    lengths = np.diff(np.append(starts, len(rows)))
    order = np.argsort(-lengths, kind="stable")
    starts, lengths = starts[order], lengths[order]
    best, descending = rows[starts], -lengths
    for k in range(1, int(lengths[0]) if len(lengths) else 0):
        longer = int(np.searchsorted(descending, -k, "left"))  # the runs longer than k: a prefix
        np.maximum(best[:longer], rows[starts[:longer] + k], out=best[:longer])
    out = np.empty_like(best)
    out[order] = best
    return out


def take_columns(table: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``table[:, columns]``, the table itself when ``columns`` are all of its columns in order."""
    if len(columns) == table.shape[1] and np.array_equal(columns, np.arange(table.shape[1])):
        return table
    return np.ascontiguousarray(table[:, columns])


def segments(indptr: np.ndarray, budget: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """Consecutive ranges [start, stop) of a CSR matrix's rows holding about ``budget`` members
    each (whole rows, at least one), with the rows of each range that have members; ranges
    without any are skipped."""
    sizes, count, start = np.diff(indptr), len(indptr) - 1, 0
    while start < count:
        stop = min(max(int(np.searchsorted(indptr, indptr[start] + budget, "right")) - 1, start + 1), count)
        filled = np.flatnonzero(sizes[start:stop] > 0) + start
        if len(filled):
            yield start, stop, filled
        start = stop
