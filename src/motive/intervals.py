"""Uncertainty of one run's test numbers: percentile bootstrap intervals over query nodes.

The query nodes of a stage (the compounds; the genes for cold_target) are resampled with
replacement, each drawn query bringing all of its pairs, and a metric is recomputed on every
resample (PyKEEN's ``finalize_with_confidence`` and Iyer et al. 2024 resample the same way). A
resample is a vector of per-query counts, so a metric is a weighted mean over pairs and no table is
ever copied. Seeded: the same ranks give the same interval. This is the noise of the test sample;
the spread over model seeds is the other noise a comparison must beat (``motive.report``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from motive.metrics import harmonic_numbers

RESAMPLES = 1000
LEVEL = 0.95
CHUNK = 100  # resamples computed at once (memory: CHUNK x pairs floats)
SLICE = 25  # resamples of a chunk the AUROC interval counts at once (a quarter: its tables fit in cache)
FLOAT32_EXACT = 2**23  # integers and halves below this are exact in float32


def resample_counts(n_queries: int, resamples: int = RESAMPLES, seed: int = 0):
    """Chunks of (resamples x queries) counts: how often each query is drawn in each resample."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        draws = rng.integers(0, n_queries, (size, n_queries))
        offsets = np.arange(size)[:, None] * n_queries
        yield np.bincount((draws + offsets).ravel(), minlength=size * n_queries).reshape(size, n_queries)


def _interval(values: np.ndarray) -> list[float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def ranking_intervals(ranks: pd.DataFrame, k: int = 10, resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """Intervals of the full ranking's MRR, Hits@k, adjusted MRR, adjusted Hits@k, AMRI and mAP
    from a per-positive table (``query``, ``rank``, ``candidates``, ``score``)."""
    codes, _ = pd.factorize(ranks["query"])
    rank = ranks["rank"].to_numpy(np.float64)
    n = ranks["candidates"].to_numpy(np.int64) + 1
    per_pair = np.stack(
        [1 / rank, rank <= k, harmonic_numbers(int(n.max()))[n] / n, np.minimum(k, n) / n, rank, (n + 1) / 2]
    )  # reciprocal rank, hit, and their expectations; rank and its expectation
    ap = _average_precision_per_query(ranks, codes)
    found: dict[str, list] = {name: [] for name in ("mrr", "hits", "adjusted_mrr", "adjusted_hits", "amri", "map")}
    for counts in resample_counts(codes.max() + 1, resamples, seed):
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
    """Each query's AP, as ``metrics.ranking_metrics`` computes it (query order of ``codes``)."""
    frame = pd.DataFrame({"code": codes, "rank": ranks["rank"].to_numpy(np.float64), "score": ranks["score"]})
    ordered = frame.sort_values(["code", "score"], ascending=[True, False], kind="stable")
    position = ordered.groupby("code", sort=False).cumcount().to_numpy() + 1
    precision = position / (ordered["rank"].to_numpy() - 1 + position)
    return pd.Series(precision).groupby(ordered["code"].to_numpy()).mean().sort_index().to_numpy()


def auroc_interval(
    scores: np.ndarray, labels: np.ndarray, query: np.ndarray, resamples: int = RESAMPLES, seed: int = 0
) -> list[float]:
    """Interval of the sampled AUROC, resampling query nodes with all their pairs (a pair's weight
    is its query's count; ties count half, as ``metrics.auroc``). Every sum is of integers and
    halves, so it is exact, whatever the order the resamples are summed in."""
    from scipy.sparse import csr_matrix

    codes, _ = pd.factorize(query)
    _, tie_group = np.unique(scores, return_inverse=True)
    positive = np.asarray(labels, bool)
    negative = ~positive
    # Only the negatives below each positive's score matter: the k-th score that has a positive
    # gets slot 2k+1 (its ties), the negatives between it and the previous one slot 2k.
    with_positive = np.unique(tie_group[positive])
    order = np.searchsorted(with_positive, tie_group)
    tied = order < len(with_positive)
    tied[tied] = with_positive[order[tied]] == tie_group[tied]
    slot = 2 * order + tied
    queries, groups = codes.max() + 1, len(with_positive)
    positives_per_query = np.bincount(codes[positive], minlength=queries)
    negatives_per_query = np.bincount(codes[negative], minlength=queries)
    # Weighted counts of negatives are integers (and halves) up to queries x the most a query has:
    # float32 holds them exactly below 2^23, in half the memory traffic; float64 otherwise.
    dtype = np.float32 if negatives_per_query.max(initial=0) * queries < FLOAT32_EXACT else np.float64
    negatives_of = csr_matrix(
        (np.ones(negative.sum(), dtype), (slot[negative], codes[negative])), (2 * groups + 1, queries)
    )
    positives_of = csr_matrix((np.ones(positive.sum(), dtype), (order[positive], codes[positive])), (groups, queries))
    totals = np.stack([positives_per_query, negatives_per_query]).astype(np.float64)
    values = []
    for counts in resample_counts(queries, resamples, seed):
        for start in range(0, len(counts), SLICE):  # (slots x SLICE) tables stay in cache
            weights = np.ascontiguousarray(counts[start : start + SLICE].T, dtype)  # queries x resamples
            below = np.cumsum(negatives_of @ weights, axis=0)  # row 2k: every negative below group k
            ties = below[1::2] - below[0:-1:2]
            won = ((positives_of @ weights).astype(np.float64) * (below[0:-1:2] + 0.5 * ties)).sum(0)
            total_positives, total_negatives = totals @ weights.astype(np.float64)
            values.append(won / (total_positives * total_negatives))
    return _interval(np.concatenate(values))
