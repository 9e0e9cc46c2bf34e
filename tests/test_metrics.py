"""Hand-computed answers and a cross-check against scikit-learn."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from motive.errors import MotiveError
from motive.evaluation import full_ranking, metrics

# 3 positives, 5 negatives; one positive ties a negative at 0.5.
SCORES = np.array([0.9, 0.5, 0.1, 0.8, 0.5, 0.3, 0.2, 0.0])
LABELS = np.array([1, 1, 1, 0, 0, 0, 0, 0])


def test_hits_at_k_hand_computed_and_ties():
    # Negatives sorted: 0.8, 0.5, 0.3, 0.2, 0.0. k=1 -> threshold 0.8: only 0.9 beats it.
    assert metrics.hits_at_k(SCORES, LABELS, 1) == pytest.approx(1 / 3)
    # k=2 -> threshold 0.5: the tied positive 0.5 does not count (strictly greater).
    assert metrics.hits_at_k(SCORES, LABELS, 2) == pytest.approx(1 / 3)
    # k=3 -> threshold 0.3: 0.9 and 0.5 count.
    assert metrics.hits_at_k(SCORES, LABELS, 3) == pytest.approx(2 / 3)
    with pytest.raises(MotiveError, match="hits@6 needs at least 6 negatives, got 5"):
        metrics.hits_at_k(SCORES, LABELS, 6)


def test_precision_at_k_is_pessimistic_on_ties():
    # Order: 0.9(+), 0.8(-), 0.5(- first on the tie), 0.5(+), ...
    assert metrics.precision_at_k(SCORES, LABELS, 1) == 1.0
    assert metrics.precision_at_k(SCORES, LABELS, 3) == pytest.approx(1 / 3)
    assert metrics.precision_at_k(SCORES, LABELS, 4) == pytest.approx(2 / 4)
    with pytest.raises(MotiveError, match="at least 9 scored pairs"):
        metrics.precision_at_k(SCORES, LABELS, 9)


def test_auroc_auprc_f1_hand_computed():
    # Pairs (pos, neg) won: 0.9 beats 5; 0.5 beats 3 and ties 1 (0.5); 0.1 beats 1 -> (5 + 3.5 + 1) / 15.
    assert metrics.auroc(SCORES, LABELS) == pytest.approx(9.5 / 15)
    # Thresholds: 0.9 (P=1, R=1/3), 0.8 (1/2, 1/3), 0.5 (2/4, 2/3), ..., 0.1 (3/7, 1): AP = 1/3*1 + 1/3*1/2 + 1/3*3/7.
    assert metrics.auprc(SCORES, LABELS) == pytest.approx(1 / 3 + 1 / 6 + 1 / 7)
    # At threshold 0.5: predicted {0.9, 0.5, 0.8, 0.5}: tp=2, fp=2, fn=1 -> F1 = 4/7.
    assert metrics.f1_at(SCORES, LABELS, 0.5) == pytest.approx(4 / 7)
    # Best F1 over thresholds: 0.9 -> 2/4; 0.5 -> 4/7; 0.1 -> 6/10; 0.0 -> 6/11: threshold 0.1.
    assert metrics.best_threshold(SCORES, LABELS) == pytest.approx(0.1)


def test_mrr_per_query_node():
    scores = np.array([3.0, 2.0, 1.0, 5.0, 4.0, 0.0])
    labels = np.array([0, 1, 0, 0, 0, 1])
    query = np.array(["a", "a", "a", "b", "b", "b"])
    # a: best positive ranked 2nd; b: 3rd -> (1/2 + 1/3) / 2
    assert metrics.mrr(scores, labels, query) == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_mrr_is_the_groupby_of_pairs_bit_for_bit():
    """Ties (negatives first), queries as strings out of order, a query without a positive."""
    rng = np.random.default_rng(3)
    query = rng.choice(np.array(["q7", "q1", "q3", "q10", "q2"]), 400)
    labels = (rng.random(400) < 0.2) & (query != "q2")
    scores = np.round(rng.normal(size=400), 1)
    frame = pd.DataFrame({"query": query, "score": scores, "label": labels})
    frame = frame.iloc[np.lexsort((labels, -scores))]
    frame["rank"] = frame.groupby("query", sort=False).cumcount() + 1
    expected = float((1.0 / frame[frame["label"]].groupby("query")["rank"].min()).mean())
    assert metrics.mrr(scores, labels.astype(np.int8), query) == expected


def test_per_node_average_precision():
    frame = metrics.average_precision_per_node(SCORES, LABELS, np.array(["x", "x", "y", "x", "y", "y", "z", "z"]))
    assert frame["node"].tolist() == ["x", "y"]  # z has no positive
    assert frame.set_index("node").loc["x", "ap"] == pytest.approx(1 / 2 * 1 + 1 / 2 * 2 / 3)


@pytest.mark.parametrize("seed", range(10))
def test_per_node_average_precision_equals_a_loop_over_nodes(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 3000))
    scores = rng.integers(0, 12, n) / 4.0 if seed % 2 else rng.normal(size=n)  # even seeds: many ties
    labels = (rng.random(n) < 0.3).astype(int)
    labels[:2] = [0, 1]
    nodes = rng.integers(0, max(2, n // 8), n)
    expected = []
    for node in np.unique(nodes):
        mask = nodes == node
        if 0 < labels[mask].sum() < mask.sum():
            expected.append(
                (
                    node,
                    average_precision_score(labels[mask], scores[mask]),
                    labels[mask].sum(),
                    (1 - labels[mask]).sum(),
                )
            )
    frame = metrics.average_precision_per_node(scores, labels, nodes)
    assert frame["node"].tolist() == [row[0] for row in expected]
    np.testing.assert_allclose(frame["ap"], [row[1] for row in expected], rtol=1e-12)
    assert frame["n_pos"].tolist() == [row[2] for row in expected] and frame["n_neg"].tolist() == [
        row[3] for row in expected
    ]


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_scikit_learn_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 400)
    labels = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    labels[:2] = [0, 1]
    scores = np.round(rng.normal(labels * rng.uniform(0, 2), 1.0), int(rng.integers(0, 3)))  # rounding makes ties
    assert metrics.auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert metrics.auprc(scores, labels) == pytest.approx(average_precision_score(labels, scores))
    threshold = float(np.median(scores))
    assert metrics.f1_at(scores, labels, threshold) == pytest.approx(f1_score(labels, scores >= threshold))
    best = metrics.best_threshold(scores, labels)
    assert metrics.f1_at(scores, labels, best) >= max(f1_score(labels, scores >= t) for t in np.unique(scores)) - 1e-12


@pytest.mark.parametrize(
    "scores, labels, message",
    [
        ([0.1, 0.2], [1], "must be 1-D of one length"),
        ([0.1, np.nan], [1, 0], "non-finite"),
        ([0.1, 0.2], [1, 2], "labels must be 0 or 1"),
        ([0.1, 0.2], [1, 1], "at least one positive and one negative"),
    ],
)
def test_inputs_are_validated(scores, labels, message):
    with pytest.raises(MotiveError, match=message):
        metrics.auroc(np.array(scores), np.array(labels))


def test_average_ranks_are_scipys_rankdata():
    """Ties share the mean of their places: the same floats as scipy's ``rankdata``, which
    ``auroc`` used before (its import is what is saved)."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 500):
        for decimals in (0, 1, 3):
            values = np.round(rng.normal(size=size), decimals)
            assert np.array_equal(metrics.average_ranks(values), rankdata(values))
    assert metrics.average_ranks(np.array([0.5, 0.1, 0.5, 0.5])).tolist() == [3.0, 1.0, 3.0, 3.0]


def test_filtered_ranks_hand_computed_with_ties():
    optimistic, pessimistic = full_ranking.filtered_ranks(np.array([0.9, 0.5, 0.5, 0.1]), np.array([0.5, 1.0, 0.05]))
    assert optimistic.tolist() == [2, 1, 5] and pessimistic.tolist() == [4, 1, 5]


def test_block_ranks_equal_the_ranks_of_each_query_alone():
    rng = np.random.default_rng(5)
    scores = np.round(rng.normal(size=(70, 40)), 1)  # ties
    keep = rng.random((70, 40)) > 0.2
    rows = np.sort(rng.integers(0, 70, 150))
    positive = scores[rows, rng.integers(0, 40, 150)]
    filtered = np.nonzero(~keep)
    shuffled = rng.permutation(len(filtered[0]))
    repeated = tuple(np.r_[ends[shuffled], ends[:9]] for ends in filtered)  # any order, some twice
    for given in (filtered, repeated):
        optimistic, pessimistic = full_ranking.filtered_ranks_of(scores, given, rows, positive)
        for i, row in enumerate(rows):
            alone = full_ranking.filtered_ranks(scores[row][keep[row]], positive[i : i + 1])
            assert (optimistic[i], pessimistic[i]) == (alone[0][0], alone[1][0])
    # float32 scores (ties included) rank as the same values in float64; a float64 positive score
    # between two float32 values is compared in float64
    narrow = (scores + 1e-3 * rng.integers(0, 3, scores.shape)).astype(np.float32)
    columns = rng.integers(0, 40, 150)
    for positive32 in (narrow[rows, columns], narrow[rows, columns].astype(np.float64) + 1e-9):
        optimistic, pessimistic = full_ranking.filtered_ranks_of(narrow, filtered, rows, positive32)
        for i, row in enumerate(rows):
            alone = full_ranking.filtered_ranks(narrow[row][keep[row]].astype(np.float64), positive32[i : i + 1])
            assert (optimistic[i], pessimistic[i]) == (alone[0][0], alone[1][0])
    scores[3, 0] = np.nan
    with pytest.raises(MotiveError, match="1 non-finite scores"):
        full_ranking.filtered_ranks_of(scores, filtered, rows, positive)


def test_packed_counts_of_true_values_with_and_without_numpys_bitwise_count(monkeypatch):
    """The full ranking's counts: rows of any length (not whole bytes), numpy >= 2 and older."""
    matrix = np.random.default_rng(8).random((6, 37)) > 0.4
    matrix[0], matrix[1] = True, False
    expected = matrix.sum(1)
    assert np.array_equal(full_ranking._count_true(matrix), expected)
    monkeypatch.delattr(np, "bitwise_count", raising=False)  # numpy 1.26: a table of each byte's bits
    assert np.array_equal(full_ranking._count_true(matrix), expected)


def test_ranking_metrics_hand_computed():
    import pandas as pd

    ranks = pd.DataFrame({"query": ["a", "a", "b"], "score": [0.4, 0.9, 0.7], "rank": [3.0, 1.0, 2.0]})
    result = full_ranking.ranking_metrics(ranks, ks=(1, 10))
    assert result["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert result["hits@1"] == pytest.approx(1 / 3) and result["hits@10"] == 1.0
    # a: best positive first (precision 1), second after 2 candidates (2 / 4); b: 1 / 2
    assert result["map"] == pytest.approx(((1 + 0.5) / 2 + 0.5) / 2)
    assert result["success@1"] == 0.5 and result["success@10"] == 1.0
    assert (result["queries"], result["positives"]) == (2, 3)


def random_and_perfect_rankings(rng, queries=400, per_query=3):
    """Per-positive tables of a random scorer (ranks uniform among each query's candidates) and of
    a perfect one, with candidate counts that differ between queries."""
    candidates = np.repeat(rng.integers(20, 2000, queries), per_query)
    query = np.repeat(np.arange(queries), per_query)
    random_rank = np.floor(rng.random(len(query)) * (candidates + 1)) + 1
    score = rng.random(len(query))
    random = pd.DataFrame({"query": query, "rank": random_rank, "candidates": candidates, "score": score})
    return random, random.assign(rank=1.0)


def test_adjusted_metrics_are_zero_for_random_and_one_for_perfect_rankings():
    random, perfect = random_and_perfect_rankings(np.random.default_rng(0), queries=4000)
    chance = full_ranking.adjusted_ranking_metrics(random)
    best = full_ranking.adjusted_ranking_metrics(perfect)
    for name in ("amri", "adjusted_mrr", "adjusted_hits@10", "adjusted_hits@100"):
        assert abs(chance[name]) < 0.02, (name, chance[name])
        assert best[name] == pytest.approx(1.0)
    assert full_ranking.ranking_metrics(random)["mrr"] > 0.005  # the raw MRR of chance is not 0


def test_adjusted_metrics_and_enrichment_hand_computed():
    # query a: positives at ranks 1 and 2 among 10 filtered candidates; query b: rank 5 among 20
    ranks = pd.DataFrame({"query": ["a", "a", "b"], "rank": [1.0, 2.0, 5.0], "candidates": [10, 10, 20]})
    adjusted = full_ranking.adjusted_ranking_metrics(ranks.assign(score=[3, 2, 1]), ks=(1, 10))
    expected_rank = (6 + 6 + 11) / 3  # (N + 1) / 2 with N = candidates + 1
    assert adjusted["amri"] == pytest.approx((8 / 3 - expected_rank) / (1 - expected_rank))
    harmonic = {11: sum(1 / k for k in range(1, 12)), 21: sum(1 / k for k in range(1, 22))}
    expected_mrr = (2 * harmonic[11] / 11 + harmonic[21] / 21) / 3
    assert adjusted["adjusted_mrr"] == pytest.approx(((1 + 1 / 2 + 1 / 5) / 3 - expected_mrr) / (1 - expected_mrr))
    assert adjusted["macro_hits@1"] == pytest.approx((1 / 2 + 0) / 2)
    top = full_ranking.enrichment(ranks)
    # a's second positive has one candidate above it: third in a's list, outside its top 2
    assert top["r_precision"] == pytest.approx((1 / 2 + 0) / 2)
    assert top["odds_ratio"] == pytest.approx(1 * (30 - 2) / (2 * 2))
