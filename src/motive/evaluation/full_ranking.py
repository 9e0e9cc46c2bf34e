"""The full ranking's metrics (``metrics`` holds the sampled protocol's).

Full ranking ("cartesian", filtered as in knowledge-graph completion): each positive of a stage
is ranked against every candidate of its query node that is not a known positive of any stage.
Its rank is realistic: the mean of the optimistic rank (1 + candidates scored strictly higher) and
the pessimistic rank (1 + candidates scored higher or equal), so ties neither help nor hurt on
average. Ties are exact: scores are compared as they are, with no tolerance. That is sound
because a query's scores come from one computation: heuristics give bit-equal scores for equal
evidence whatever they are batched with, and a learned model's candidates of one query are one
row of ``decode_matrix``. Between ``score`` (``decode``, pair by pair) and ``score_blocks``
(``decode_matrix``) a learned model's float32 scores agree to 1e-5 (absolute and relative), not
bit for bit; the full ranking and ``predict`` both use ``score_blocks``. Hits@k and success@k
count rank <= k; AP per query places its i-th best positive after the candidates ranked above it
(realistic count).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from motive.errors import MotiveError


def filtered_ranks(candidate_scores: np.ndarray, positive_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimistic and pessimistic ranks of each positive score among one query's filtered
    candidates (known positives already removed)."""
    ordered = np.sort(np.asarray(candidate_scores, np.float64))
    above = len(ordered) - np.searchsorted(ordered, positive_scores, side="right")
    at_or_above = len(ordered) - np.searchsorted(ordered, positive_scores, side="left")
    return 1.0 + above, 1.0 + at_or_above


def filtered_ranks_of(
    scores: np.ndarray, filtered: tuple[np.ndarray, np.ndarray], rows: np.ndarray, positive_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``filtered_ranks`` of many queries at once: positive i of query row ``rows[i]`` (ascending)
    among that row's candidates but the ``filtered`` ones ((rows, columns) of ``scores``, queries x
    candidates; repeats allowed). Counts, no sort: the same integers, 64 positives at a time, each
    compared with a copy of its row in which the filtered candidates are -inf (below any finite
    score). Scores are compared in their own precision: a learned model's float32, exactly as
    the same values would compare in float64."""
    if not np.isfinite(scores).all():
        raise MotiveError(f"full ranking: {int((~np.isfinite(scores)).sum())} non-finite scores")
    dtype = np.result_type(scores, positive_scores)
    positive_scores = np.asarray(positive_scores, dtype)
    order = np.argsort(filtered[0], kind="stable")
    filtered_rows, filtered_columns = np.asarray(filtered[0])[order], np.asarray(filtered[1])[order]
    above, at_or_above = np.empty(len(rows)), np.empty(len(rows))
    for start in range(0, len(rows), 64):  # memory: 64 x candidates
        part = slice(start, start + 64)
        candidates = scores[rows[part]].astype(dtype, copy=False)  # a copy: the filtered ones are overwritten
        low = np.searchsorted(filtered_rows, rows[part], "left")
        lengths = np.searchsorted(filtered_rows, rows[part], "right") - low
        at = np.arange(lengths.sum()) + np.repeat(low - np.cumsum(lengths) + lengths, lengths)
        candidates[np.repeat(np.arange(len(lengths)), lengths), filtered_columns[at]] = -np.inf
        value = positive_scores[part, None]
        above[part] = _count_true(candidates > value)
        at_or_above[part] = _count_true(candidates >= value)
    return 1.0 + above, 1.0 + at_or_above


_ONES = np.array([bin(byte).count("1") for byte in range(256)], np.uint8)  # set bits of each byte


def _count_true(matrix: np.ndarray) -> np.ndarray:
    """True values per row of a boolean matrix, counted on its rows packed 8 to a byte (``sum(1)``
    would widen every value to an integer first)."""
    packed = np.packbits(matrix, axis=1)
    ones = np.bitwise_count(packed) if hasattr(np, "bitwise_count") else _ONES[packed]  # numpy >= 2.0
    return ones.sum(1, dtype=np.int64)


RANKING_KS = (1, 10, 50, 100)


def ranking_metrics(ranks: pd.DataFrame, ks: tuple[int, ...] = RANKING_KS) -> dict[str, float]:
    """MRR and Hits@k over positives, mAP and success@k over queries, from a per-positive table
    with columns ``query``, ``score`` and ``rank`` (realistic filtered rank)."""
    if len(ranks) == 0:
        raise MotiveError("full ranking: no positives to rank")
    rank = ranks["rank"].to_numpy(np.float64)
    ordered = ranks.sort_values(["query", "score"], ascending=[True, False], kind="stable")
    position_in_query = ordered.groupby("query", sort=False).cumcount().to_numpy() + 1
    precision = position_in_query / (ordered["rank"].to_numpy(np.float64) - 1 + position_in_query)
    average_precision = pd.Series(precision).groupby(ordered["query"].to_numpy()).mean()
    best = ranks.groupby("query")["rank"].min()
    result = {"mrr": float(np.mean(1.0 / rank))}
    result |= {f"hits@{k}": float(np.mean(rank <= k)) for k in ks}
    result["map"] = float(average_precision.mean())
    result |= {f"success@{k}": float(np.mean(best.to_numpy() <= k)) for k in ks}
    result |= {"queries": int(len(best)), "positives": int(len(ranks))}
    return result


def harmonic_numbers(largest: int) -> np.ndarray:
    """H(0) = 0, H(1) = 1, ..., H(largest)."""
    return np.r_[0.0, np.cumsum(1.0 / np.arange(1, largest + 1))]


def expected_ranking(candidates: np.ndarray, ks: tuple[int, ...] = RANKING_KS) -> dict[str, float]:
    """Expected mean rank, MRR and Hits@k of a random ranking, ``candidates`` being each
    positive's candidate count (itself included)."""
    n = np.asarray(candidates, np.int64)
    result = {"mr": float(np.mean((n + 1) / 2)), "mrr": float(np.mean(harmonic_numbers(int(n.max()))[n] / n))}
    return result | {f"hits@{k}": float(np.mean(np.minimum(k, n) / n)) for k in ks}


def _adjusted(value: float, expected: float, best: float = 1.0) -> float:
    return float((value - expected) / (best - expected)) if best != expected else float("nan")


def adjusted_ranking_metrics(ranks: pd.DataFrame, ks: tuple[int, ...] = RANKING_KS) -> dict[str, float]:
    """AMRI, adjusted MRR and adjusted Hits@k of a per-positive table with columns ``rank``
    (realistic) and ``candidates`` (the filtered candidates it was ranked among, itself excluded),
    plus macro Hits@k (the mean over query nodes of each query's Hits@k)."""
    rank = ranks["rank"].to_numpy(np.float64)
    expected = expected_ranking(ranks["candidates"].to_numpy(np.int64) + 1, ks)
    result = {
        "amri": _adjusted(float(rank.mean()), expected["mr"]),  # the best mean rank is 1
        "adjusted_mrr": _adjusted(float(np.mean(1 / rank)), expected["mrr"]),
    }
    result |= {f"adjusted_hits@{k}": _adjusted(float(np.mean(rank <= k)), expected[f"hits@{k}"]) for k in ks}
    per_query = pd.DataFrame({"query": ranks["query"].to_numpy()} | {k: rank <= k for k in ks}).groupby("query")
    return result | {f"macro_hits@{k}": float(per_query[k].mean().mean()) for k in ks}


def enrichment(ranks: pd.DataFrame) -> dict[str, float]:
    """Enrichment at the top of each query's ranking (Iyer et al. 2024): R-precision (the share of
    a query's R best-ranked candidates that are its R positives, averaged over queries) and the
    Fisher exact odds ratio of the pooled 2 x 2 table (in its query's top R or not) x (positive or
    not), with its one-sided p-value."""
    from scipy.stats import fisher_exact

    ordered = ranks.sort_values(["query", "rank"], kind="stable")
    groups = ordered.groupby("query", sort=False)
    # the j-th best positive of a query sits after the candidates ranked above it
    place = ordered["rank"].to_numpy(np.float64) - 1 + groups.cumcount().to_numpy() + 1
    size = groups["rank"].transform("size").to_numpy()
    top = pd.Series(place <= size).groupby(ordered["query"].to_numpy(), sort=False)
    in_top, positives = top.sum().to_numpy(), top.size().to_numpy()
    negatives = int(groups["candidates"].first().sum())
    hit, total = int(in_top.sum()), int(positives.sum())
    odds, p = fisher_exact([[hit, total - hit], [total - hit, negatives - (total - hit)]], alternative="greater")
    return {"r_precision": float(np.mean(in_top / positives)), "odds_ratio": float(odds), "odds_ratio_p": float(p)}
