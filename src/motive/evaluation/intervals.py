"""Uncertainty of one run's test numbers: percentile bootstrap intervals over query nodes.

The query nodes of a stage (the compounds; the genes for cold_target) are resampled with
replacement, each drawn query bringing all of its pairs, and a metric is recomputed on every
resample (PyKEEN's ``finalize_with_confidence`` and Iyer et al. 2024 resample the same way). A
resample is a vector of per-query counts, so a metric is a weighted mean over pairs and no table is
ever copied. Seeded: the same ranks give the same interval. This is the noise of the test sample;
the spread over model seeds is the other noise a comparison must beat (``motive.report``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from motive.evaluation.full_ranking import harmonic_numbers

RESAMPLES = 1000
LEVEL = 0.95
CHUNK = 100  # resamples computed at once (memory: CHUNK x pairs floats)
SLICE = 50  # resamples of a chunk the AUROC interval counts at once (half: measured fastest)
FLOAT32_EXACT = 2**23  # integers and halves below this are exact in float32


class Bootstrap:
    """The resamples of one stage's query nodes: (resamples x queries) counts, how often each query
    is drawn in each resample, drawn once (seeded) and read in the forms the intervals need, each
    made on first use and kept on the object. An evaluation makes one per stage and passes it to
    the intervals and the calibration of that stage; nothing is kept anywhere else."""

    def __init__(self, n_queries: int, resamples: int = RESAMPLES, seed: int = 0):
        self.n_queries, self.resamples, self.seed = n_queries, resamples, seed
        self.counts = _draw(n_queries, resamples, seed)
        self._slices: dict[str, list[np.ndarray]] = {}
        self._float64: np.ndarray | None = None

    @classmethod
    def of(cls, n_queries: int, bootstrap: Bootstrap | None, resamples: int, seed: int) -> Bootstrap:
        """``bootstrap`` when given (checked against ``n_queries``), else a fresh one."""
        if bootstrap is None:
            return cls(n_queries, resamples, seed)
        if bootstrap.n_queries != n_queries:
            raise ValueError(f"the bootstrap resamples {bootstrap.n_queries} queries, these pairs have {n_queries}")
        return bootstrap

    def chunks(self) -> Iterator[np.ndarray]:
        """The counts, CHUNK resamples at a time."""
        for start in range(0, len(self.counts), CHUNK):
            yield self.counts[start : start + CHUNK]

    def slices(self, dtype: type) -> list[np.ndarray]:
        """The counts in slices of SLICE resamples, each a (queries x SLICE) matrix of ``dtype``."""
        key = np.dtype(dtype).str
        if key not in self._slices:
            drawn = self.counts
            slices = [np.ascontiguousarray(drawn[i : i + SLICE].T, dtype) for i in range(0, len(drawn), SLICE)]
            for weights in slices:
                weights.flags.writeable = False
            self._slices[key] = slices
        return self._slices[key]

    def as_float64(self) -> np.ndarray:
        """The counts as float64 (integers: products with them are exact sums)."""
        if self._float64 is None:
            self._float64 = self.counts.astype(np.float64)
            self._float64.flags.writeable = False
        return self._float64


def _draw(n_queries: int, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    chunks = []
    for start in range(0, resamples, CHUNK):  # chunks of an even size: one call's stream, whatever CHUNK
        size = min(CHUNK, resamples - start)
        draws = rng.integers(0, n_queries, (size, n_queries))
        offsets = np.arange(size)[:, None] * n_queries
        chunks.append(np.bincount((draws + offsets).ravel(), minlength=size * n_queries).reshape(size, n_queries))
    drawn = np.concatenate(chunks) if chunks else np.zeros((0, n_queries), np.int64)
    drawn.flags.writeable = False
    return drawn


def _interval(values: np.ndarray) -> list[float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def ranking_intervals(
    ranks: pd.DataFrame,
    k: int = 10,
    resamples: int = RESAMPLES,
    seed: int = 0,
    bootstrap: Bootstrap | None = None,
) -> dict:
    """Intervals of the full ranking's MRR, Hits@k, adjusted MRR, adjusted Hits@k, AMRI and mAP
    from a per-positive table (``query``, ``rank``, ``candidates``, ``score``); the resamples of
    ``bootstrap`` (queries in order of first appearance), else drawn here."""
    codes, _ = pd.factorize(ranks["query"])
    rank = ranks["rank"].to_numpy(np.float64)
    n = ranks["candidates"].to_numpy(np.int64) + 1
    per_pair = np.stack(
        [1 / rank, rank <= k, harmonic_numbers(int(n.max()))[n] / n, np.minimum(k, n) / n, rank, (n + 1) / 2]
    )  # reciprocal rank, hit, and their expectations; rank and its expectation
    ap = _average_precision_per_query(ranks, codes)
    found: dict[str, list] = {name: [] for name in ("mrr", "hits", "adjusted_mrr", "adjusted_hits", "amri", "map")}
    for counts in Bootstrap.of(codes.max() + 1, bootstrap, resamples, seed).chunks():
        weights = counts[:, codes].astype(np.float64)
        mean = (weights @ per_pair.T) / weights.sum(1, keepdims=True)
        reciprocal, hits, e_reciprocal, e_hits, mean_rank, e_rank = mean.T
        found["mrr"].append(reciprocal)
        found["hits"].append(hits)
        found["adjusted_mrr"].append((reciprocal - e_reciprocal) / (1 - e_reciprocal))
        found["adjusted_hits"].append((hits - e_hits) / (1 - e_hits))
        found["amri"].append((mean_rank - e_rank) / (1 - e_rank))
        found["map"].append(counts @ ap / counts.sum(1))
    names = {"hits": f"hits@{k}", "adjusted_hits": f"adjusted_hits@{k}"}
    return {names.get(name, name): _interval(np.concatenate(values)) for name, values in found.items()}


def _average_precision_per_query(ranks: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    """Each query's AP, as ``full_ranking.ranking_metrics`` computes it (query order of ``codes``)."""
    frame = pd.DataFrame({"code": codes, "rank": ranks["rank"].to_numpy(np.float64), "score": ranks["score"]})
    ordered = frame.sort_values(["code", "score"], ascending=[True, False], kind="stable")
    position = ordered.groupby("code", sort=False).cumcount().to_numpy() + 1
    precision = position / (ordered["rank"].to_numpy() - 1 + position)
    return pd.Series(precision).groupby(ordered["code"].to_numpy()).mean().sort_index().to_numpy()


def auroc_interval(
    scores: np.ndarray,
    labels: np.ndarray,
    query: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = 0,
    bootstrap: Bootstrap | None = None,
) -> list[float]:
    """Interval of the sampled AUROC, resampling query nodes with all their pairs (a pair's weight
    is its query's count; ties count half, as ``metrics.auroc``; the resamples of ``bootstrap``,
    else drawn here). Every sum is of integers and halves, so it is exact, whatever the order the
    resamples are summed in."""
    import torch
    from scipy.sparse import csr_matrix

    codes, _ = pd.factorize(query)
    _, tie_group = np.unique(scores, return_inverse=True)
    positive = np.asarray(labels, bool)
    negative = ~positive
    # Positives grouped by distinct score, highest first: group d. A negative wins against every
    # positive group above it and half of the group it ties.
    with_positive = np.unique(tie_group[positive])
    ascending = np.searchsorted(with_positive, tie_group)  # the lowest positive group not below
    tied = ascending < len(with_positive)
    tied[tied] = with_positive[ascending[tied]] == tie_group[tied]
    queries, groups = codes.max() + 1, len(with_positive)
    group = groups - 1 - ascending  # a negative's: the lowest group above or tied with it; -1: none
    positives_per_query = np.bincount(codes[positive], minlength=queries)
    negatives_per_query = np.bincount(codes[negative], minlength=queries)
    # Weighted counts are integers (and halves) up to queries x the most a query has: float32
    # holds them exactly below 2^23, in half the memory traffic; float64 otherwise.
    most = max(negatives_per_query.max(initial=0), positives_per_query.max(initial=0))
    dtype = np.float32 if most * queries < FLOAT32_EXACT else np.float64

    def counts_of(rows: np.ndarray, columns: np.ndarray, size: int):
        return csr_matrix((np.ones(len(rows), dtype), (rows, columns)), (size, queries))

    below, at = negative & ~tied, negative & tied
    tied_groups = np.unique(group[at])  # few: only groups with a tied negative
    positives_of = counts_of(group[positive], codes[positive], groups)
    below_of = counts_of(np.where(group[below] < 0, groups, group[below]), codes[below], groups + 1)  # last: none above
    tied_of = counts_of(np.searchsorted(tied_groups, group[at]), codes[at], len(tied_groups))
    totals = np.stack([positives_per_query, negatives_per_query]).astype(np.float64)
    values = []
    for weights in Bootstrap.of(queries, bootstrap, resamples, seed).slices(dtype):
        positives = positives_of @ weights  # (groups x SLICE) tables stay in cache
        above = np.zeros((groups + 1, weights.shape[1]), dtype)  # row d: positives of group d and higher
        # torch's cumsum, in place: faster than numpy's here
        torch.cumsum(torch.from_numpy(positives), 0, out=torch.from_numpy(above[:groups]))
        won = ((below_of @ weights).astype(np.float64) * above).sum(0)
        if len(tied_groups):
            ties = above[tied_groups] - 0.5 * positives[tied_groups]
            won += ((tied_of @ weights).astype(np.float64) * ties).sum(0)
        total_positives, total_negatives = totals @ weights.astype(np.float64)
        values.append(won / (total_positives * total_negatives))
    return _interval(np.concatenate(values))
