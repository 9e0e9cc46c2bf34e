"""Bootstrap intervals over query nodes (``motive/evaluation/intervals.py``)."""

import numpy as np
import pandas as pd
import pytest

from motive.evaluation import full_ranking, intervals, metrics


def ranking(rng, queries):
    candidates = np.repeat(rng.integers(50, 500, queries), 3)
    rank = np.floor(rng.random(len(candidates)) ** 3 * candidates) + 1  # better than chance
    return pd.DataFrame(
        {
            "query": np.repeat(np.arange(queries), 3),
            "rank": rank,
            "candidates": candidates,
            "score": rng.random(len(candidates)),
        }
    )


def width(bounds):
    return bounds[1] - bounds[0]


def test_ranking_intervals_hold_the_estimate_narrow_with_more_queries_and_repeat():
    rng = np.random.default_rng(0)
    small, large = ranking(rng, 100), ranking(rng, 1600)
    for frame in (small, large):
        point = full_ranking.ranking_metrics(frame) | full_ranking.adjusted_ranking_metrics(frame)
        bounds = intervals.ranking_intervals(frame)
        for name in ("mrr", "hits@10", "adjusted_mrr", "adjusted_hits@10", "amri", "map"):
            assert bounds[name][0] <= point[name] <= bounds[name][1], name
    narrow, wide = intervals.ranking_intervals(large), intervals.ranking_intervals(small)
    for name in ("mrr", "adjusted_mrr", "amri"):
        assert width(narrow[name]) < 0.5 * width(wide[name])  # 16x the queries: about 1/4 the width
    assert intervals.ranking_intervals(small) == wide  # seeded


def test_auroc_interval_holds_the_estimate_and_narrows():
    rng = np.random.default_rng(1)
    found = []
    for queries in (50, 800):
        query = np.repeat(np.arange(queries), 11)
        labels = np.tile(np.r_[1, np.zeros(10)], queries).astype(np.int8)
        scores = rng.normal(size=len(labels)) + labels * 0.8
        scores[::7] = 0.0  # ties count half
        bounds = intervals.auroc_interval(scores, labels, query)
        assert bounds[0] <= metrics.auroc(scores, labels) <= bounds[1]
        found.append(width(bounds))
    assert found[1] < 0.5 * found[0]


def drawn(counts: np.ndarray) -> intervals.Bootstrap:
    """A bootstrap whose resamples are ``counts`` (resamples x queries)."""
    bootstrap = intervals.Bootstrap(counts.shape[1], 0)
    bootstrap.counts = counts
    return bootstrap


def test_a_bootstrap_of_other_queries_is_refused():
    frame = ranking(np.random.default_rng(3), 30)
    with pytest.raises(ValueError, match="the bootstrap resamples 7 queries, these pairs have 30"):
        intervals.ranking_intervals(frame, bootstrap=intervals.Bootstrap(7, 10))


def test_one_resample_of_every_query_once_is_the_point_estimate():
    """With every query drawn exactly once the weighted formulas give the plain metrics."""
    rng = np.random.default_rng(2)
    frame = ranking(rng, 30)
    bounds = intervals.ranking_intervals(frame, bootstrap=drawn(np.ones((1, 30), int)))
    point = full_ranking.ranking_metrics(frame) | full_ranking.adjusted_ranking_metrics(frame)
    for name in ("mrr", "hits@10", "adjusted_mrr", "amri", "map"):
        assert bounds[name][0] == pytest.approx(point[name]) == bounds[name][1]
    query = np.repeat(np.arange(30), 5)
    labels = np.tile(np.r_[1, 0, 0, 0, 0], 30).astype(np.int8)
    scores = np.round(rng.normal(size=150), 1)
    assert intervals.auroc_interval(scores, labels, query, bootstrap=drawn(np.ones((1, 30), int)))[0] == pytest.approx(
        metrics.auroc(scores, labels)
    )


def test_a_resamples_auroc_is_the_auroc_of_its_drawn_pairs(monkeypatch):
    """Each query drawn c times counts c times: the same number as metrics.auroc on the pairs
    repeated, exactly (ties, queries drawn 0 to 3 times, interleaved scores)."""
    rng = np.random.default_rng(4)
    query = rng.integers(0, 12, 200)
    labels = (rng.random(200) < 0.3).astype(np.int8)
    scores = np.round(rng.normal(size=200) + labels, 1)
    counts = rng.integers(0, 4, (3, 12))
    seen = []
    monkeypatch.setattr(intervals, "_interval", lambda values: seen.extend(values) or [0.0, 0.0])
    intervals.auroc_interval(scores, labels, query, bootstrap=drawn(counts))
    codes = pd.factorize(query)[0]  # counts are per query in order of first appearance
    for row, value in zip(counts, seen, strict=True):
        repeat = row[codes]
        assert value == metrics.auroc(np.repeat(scores, repeat), np.repeat(labels, repeat))


def test_auroc_interval_is_the_same_in_float32_and_float64(monkeypatch):
    """Large sets count in float64 (float32 is exact only below 2^23): the same bits."""
    rng = np.random.default_rng(5)
    query = rng.integers(0, 40, 600)
    labels = (rng.random(600) < 0.25).astype(np.int8)
    scores = np.round(rng.normal(size=600) + labels, 1)
    narrow = intervals.auroc_interval(scores, labels, query, resamples=300)
    monkeypatch.setattr(intervals, "FLOAT32_EXACT", 0)
    assert intervals.auroc_interval(scores, labels, query, resamples=300) == narrow
