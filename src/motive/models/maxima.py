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
    node, the best similarity to the nodes ``members[column]`` lists (``NONE`` where none); the
    columns in chunks of at most ``GATHERED`` gathered similarities. ``best_rows`` is the same
    maximum over a table with a row per member: the layout that suits long rows (every gene)."""
    chosen = members[columns]
    out = np.full((similarity.shape[0], len(columns)), NONE, similarity.dtype)
    for start, stop, filled in segments(chosen.indptr, max(GATHERED // max(similarity.shape[0], 1), 1)):
        lo, hi = chosen.indptr[start], chosen.indptr[stop]
        gathered = similarity[:, position[chosen.indices[lo:hi]]]
        out[:, filled] = np.maximum.reduceat(gathered, chosen.indptr[filled] - lo, axis=1)
    return out


def best_rows(table: np.ndarray, members: csr_matrix, rows: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For each node of ``rows``, the column-wise maximum of ``table``'s rows of the nodes
    ``members[row]`` lists (``position`` maps a node to its row; ``NONE`` where none): whole rows
    gathered, about ``GATHERED`` values at a time, and reduced row-wise (contiguous runs, where
    gathering columns of a row-major table would stride)."""
    chosen = members[rows]
    out = np.full((len(rows), table.shape[1]), NONE, table.dtype)
    for start, stop, filled in segments(chosen.indptr, max(GATHERED // max(table.shape[1], 1), 1)):
        lo, hi = chosen.indptr[start], chosen.indptr[stop]
        gathered = table[position[chosen.indices[lo:hi]]]
        out[filled] = np.maximum.reduceat(gathered, chosen.indptr[filled] - lo, axis=0)
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
