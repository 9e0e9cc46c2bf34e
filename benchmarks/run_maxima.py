"""Milliseconds of the maxima of runs of rows (``motive.models.maxima.run_maxima``) against
numpy's ``np.maximum.reduceat(..., axis=0)``, which it replaces, and of ``maxima.nearest`` (the
maxima over columns, taken on the transposed table) against reduceat along the second axis. Run on
demand:

    .venv/bin/python benchmarks/run_maxima.py

Shapes as the evidence ranker meets them at MOTIVE size (the scale-1 synthetic graph): about
2^24 / 11,509 gathered gene rows of 11,509 genes, runs a compound's known genes long; and a block
of 128 query compounds against 3,000 compounds with a known gene, 11,509 genes' hitters. Prints a
Markdown table; every pair of results is checked equal first.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import csr_matrix

from motive.models.maxima import NONE, nearest, run_maxima


def milliseconds(function, *arguments, repeats: int = 10) -> float:
    function(*arguments)
    started = time.perf_counter()
    for _ in range(repeats):
        function(*arguments)
    return (time.perf_counter() - started) / repeats * 1e3


def reduceat_rows(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.maximum.reduceat(rows, starts, axis=0)


def reduceat_nearest(similarity: np.ndarray, members: csr_matrix, position: np.ndarray) -> np.ndarray:
    """``nearest`` over every column as it was: columns gathered, reduceat along the second axis."""
    out = np.full((similarity.shape[0], members.shape[0]), NONE, similarity.dtype)
    filled = np.flatnonzero(np.diff(members.indptr) > 0)
    gathered = similarity[:, position[members.indices]]
    out[:, filled] = np.maximum.reduceat(gathered, members.indptr[filled], axis=1)
    return out


def main() -> None:
    rng = np.random.default_rng(0)
    print("| case | numpy reduceat | motive | ratio |")
    print("|---|---|---|---|")
    for mean_run in (1.5, 3.0, 10.0):
        rows = rng.random((1457, 11509), dtype=np.float32)
        lengths = rng.geometric(1 / mean_run, size=1457)
        starts = np.r_[0, np.cumsum(lengths)]
        starts = starts[starts < len(rows)]
        assert np.array_equal(run_maxima(rows, starts), reduceat_rows(rows, starts))
        before, after = milliseconds(reduceat_rows, rows, starts), milliseconds(run_maxima, rows, starts)
        case = f"1,457 x 11,509 rows, runs of {mean_run} on average"
        print(f"| {case} | {before:.1f} ms | {after:.1f} ms | {before / after:.1f}x |")
    similarity = rng.random((128, 3000), dtype=np.float32)
    members = csr_matrix((rng.random((11509, 3000)) < 0.003).astype(float))
    position = np.arange(3000)
    columns = np.arange(11509)
    found = nearest(similarity, members, columns, position)
    assert np.array_equal(found, reduceat_nearest(similarity, members, position))
    before = milliseconds(reduceat_nearest, similarity, members, position)
    after = milliseconds(nearest, similarity, members, columns, position)
    case = f"nearest: 128 queries x 11,509 genes, {members.nnz:,} members"
    print(f"| {case} | {before:.1f} ms | {after:.1f} ms | {before / after:.1f}x |")


if __name__ == "__main__":
    main()
