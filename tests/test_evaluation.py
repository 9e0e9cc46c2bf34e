"""The evaluation (``motive/evaluation/evaluator.py``): the filtered full ranking equals a brute-force
ranking, ties and all, and known positives of other stages are never counted as misses."""

import numpy as np
import pandas as pd
import pytest

from motive.data import layout
from motive.evaluation import full_ranking
from motive.training.config import TrainConfig


@pytest.fixture(scope="module")
def dataset(planted_dataset):
    return planted_dataset


def brute_force_ranks(graph, split, stage_graph, model, split_name):
    """Every (query, positive) of the stage, ranked by explicit comparison with each candidate."""
    from motive.evaluation.evaluator import query_side
    from motive.splits import STAGES

    side = query_side(split_name)
    other = "target" if side == "source" else "source"
    s, t = split.supervision(graph, stage_graph.stage)
    known = set(zip(*graph.endpoints("st"), strict=True))
    candidates = np.flatnonzero(split.node_stage[other] <= STAGES.index(stage_graph.stage))
    rows = {}
    for source, target in zip(s, t, strict=True):
        query, partner = (source, target) if side == "source" else (target, source)
        pairs = [(query, c) if side == "source" else (c, query) for c in candidates]
        negatives = [pair for pair in pairs if pair not in known]
        scores = model.score(stage_graph, np.array([p[0] for p in negatives]), np.array([p[1] for p in negatives]))
        positive = model.score(stage_graph, np.array([source]), np.array([target]))[0]
        rows[(query, partner)] = (1 + (scores > positive).sum(), 1 + (scores >= positive).sum())
    return rows


@pytest.mark.parametrize(
    "split_name, model_name", [("random", "shortest_path"), ("cold_source", "gin_cp"), ("cold_target", "mlp")]
)
def test_full_ranking_equals_brute_force_with_ties(dataset, split_name, model_name):
    from motive import splits
    from motive.evaluation.evaluator import ranking_evaluation
    from motive.models import StageGraph
    from motive.training.loop import fit
    from motive.training.prepare import Prepared

    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig(split_name, 1))
    stages = {stage: StageGraph.build(graph, split, stage) for stage in splits.STAGES}
    model = fit(
        TrainConfig(data="unused", split=split_name, model=model_name, epochs=3, batch_size=256, hits_k=20),
        Prepared(graph, graph.content_hash(), split, stages),
    ).model
    frame = ranking_evaluation(graph, split, stages["test"], model, split_name)
    expected = brute_force_ranks(graph, split, stages["test"], model, split_name)
    side_keys = {"source": graph.sources.keys, "target": graph.targets.keys}
    query_keys, partner_keys = (
        (side_keys["source"], side_keys["target"])
        if frame["query_side"].iloc[0] == "source"
        else (side_keys["target"], side_keys["source"])
    )
    got = {
        (query_keys.get_loc(q), partner_keys.get_loc(p)): (lo, hi)
        for q, p, lo, hi in frame[["query", "partner", "rank_optimistic", "rank_pessimistic"]].itertuples(index=False)
    }
    assert got == expected
    if model_name == "shortest_path":
        assert (frame["rank_optimistic"] < frame["rank_pessimistic"]).any()  # ties were exercised


class KnownFirst:
    """Scores every known positive of any stage above everything else (a leak-free ranking must
    still give each test positive rank 1: the other stages' positives are filtered out)."""

    trainable = False

    def __init__(self, graph):
        self.known = set(zip(*graph.endpoints("st"), strict=True))

    def score(self, stage, sources, targets):
        noise = np.random.default_rng(0).random(len(sources))
        return np.array([10.0 if pair in self.known else 0.0 for pair in zip(sources, targets, strict=True)]) + noise

    def score_blocks(self, *args, **kwargs):
        from motive.models.base import Heuristic

        return Heuristic.score_blocks(self, *args, **kwargs)


def test_known_positives_of_other_stages_are_never_misses(dataset):
    from motive import splits
    from motive.evaluation.evaluator import ranking_evaluation
    from motive.models import StageGraph

    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    frame = ranking_evaluation(graph, split, StageGraph.build(graph, split, "test"), KnownFirst(graph), "random")
    result = full_ranking.ranking_metrics(frame)
    assert (frame["rank"] == 1).all() and result["mrr"] == 1.0 and result["map"] == 1.0 and result["success@1"] == 1.0


def test_frequent_hitters_count_candidates_in_most_queries_top_15(dataset):
    """Popularity ranks the same candidates first for every query, so its most popular compounds
    are frequent hitters; a brute-force count over the queries agrees (ties across the cut count
    for none of their members)."""
    from motive import splits
    from motive.evaluation.evaluator import FREQUENT_TOP, ranking_evaluation
    from motive.models import StageGraph, build_model

    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig("cold_target", 0))
    stage = StageGraph.build(graph, split, "test")
    model = build_model("popularity", stage)
    frame = ranking_evaluation(graph, split, stage, model, "cold_target")
    known = set(zip(*graph.endpoints("st"), strict=True))
    genes = np.unique(split.supervision(graph, "test")[1])
    compounds = np.arange(len(graph.sources))
    counts = np.zeros(len(compounds), int)
    for gene in genes:
        scores = model.score(stage, compounds, np.full(len(compounds), gene))
        allowed = np.array([(c, gene) not in known for c in compounds])
        for c in compounds[allowed]:  # surely in the top: at most FREQUENT_TOP allowed candidates score as high
            counts[c] += (scores[allowed] >= scores[c]).sum() <= FREQUENT_TOP
    assert frame.attrs["frequent_hitters"] == int((counts > len(genes) / 2).sum())
    assert frame.attrs["frequent_hitters"] >= 5  # popularity: nearly the same top list everywhere


def test_similarity_bins_and_nearest_training_similarity():
    from motive.evaluation.evaluator import nearest_training_similarity, similarity_bins
    from tests.graphs import random_graph

    assert list(similarity_bins(np.array([0.0, 0.29, 0.3, 0.5, 0.69, 0.7, 1.0, np.nan]))) == [
        "0.0", "0.0", "0.3", "0.5", "0.5", "0.7", "0.7", "none"
    ]  # fmt: skip
    from motive import splits

    graph = random_graph(2, 40, 200, 300, 0, 0)
    split = splits.make_split(graph, splits.SplitConfig("cold_source", 0))
    bits = np.random.default_rng(0).random((40, 64)) < 0.3
    present = np.ones(40, bool)
    present[3] = False
    nearest = nearest_training_similarity(graph, split, bits.astype(np.float32), present)
    s, _ = graph.endpoints("st")
    trained = set(s[np.isin(split.subsets["st"], ["message", "train"])].tolist())
    for c in range(40):
        others = [x for x in trained if x != c and present[x]]
        tanimoto = [(bits[c] & bits[x]).sum() / (bits[c] | bits[x]).sum() for x in others]
        expected = np.nan if not present[c] else max(tanimoto)
        np.testing.assert_allclose(nearest[c], expected, rtol=1e-9)


def test_validation_mrr_monitor_is_the_full_rankings(dataset):
    from motive import splits
    from motive.evaluation.evaluator import ModelEvaluator, ranking_evaluation
    from motive.models import StageGraph, build_model

    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    stage = StageGraph.build(graph, split, "valid")
    model = build_model("popularity", stage)
    value = ModelEvaluator(graph, split, "random", 20).monitor(model, stage, "mrr")
    expected = (1 / ranking_evaluation(graph, split, stage, model, "random")["rank"]).mean()
    assert value == pytest.approx(expected) and value > 0


def test_the_monitor_ranks_a_fixed_subset_of_queries_as_the_full_ranking_does(dataset):
    """With ``queries``, the mrr monitor ranks that many query nodes, the same ones every call, each
    exactly as the whole stage's ranking ranks it; a stage with no more queries is ranked whole."""
    from motive import splits
    from motive.evaluation.evaluator import ModelEvaluator, monitored, ranking_evaluation
    from motive.models import StageGraph, build_model

    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    stage = StageGraph.build(graph, split, "valid")
    model = build_model("knn", stage)
    whole = ranking_evaluation(graph, split, stage, model, "random")
    queries = whole["query"].nunique()
    few = ranking_evaluation(graph, split, stage, model, "random", queries=5)
    assert few["query"].nunique() == 5 and set(few["query"]) < set(whole["query"])
    expected = whole[whole["query"].isin(few["query"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(few.reset_index(drop=True), expected)
    evaluator = ModelEvaluator(graph, split, "random", 20)
    assert evaluator.monitor(model, stage, "mrr", 5) == pytest.approx((1 / few["rank"]).mean())
    assert evaluator.monitor(model, stage, "mrr", queries) == evaluator.monitor(model, stage, "mrr")
    ids = np.arange(100, 400, 3)
    assert np.array_equal(monitored(ids, 10), monitored(ids, 10)) and np.all(np.diff(monitored(ids, 10)) > 0)
    assert set(monitored(ids, 10)) < set(ids) and monitored(ids, len(ids)) is ids


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_top_counts_equal_a_brute_force_count(dtype):
    """Each column counts the rows where at most ``top`` unfiltered scores are at least its own
    (ties across the cut, filtered pairs, -inf and NaN scores, any dtype)."""
    from motive.evaluation.evaluator import _top_counts

    rng = np.random.default_rng(3)
    block = rng.integers(0, 6, (40, 50)).astype(dtype)  # many ties
    if dtype != np.int64:
        block[rng.random(block.shape) < 0.05] = np.nan
        block[rng.random(block.shape) < 0.05] = -np.inf
    block[:3, 8:] = 0 if dtype == np.int64 else np.nan  # rows with fewer scores than the top
    filtered = np.nonzero(rng.random(block.shape) < 0.1)
    for top in (1, 5, 15, 50):
        expected = np.zeros(block.shape[1], np.int64)
        for r, row in enumerate(block.astype(np.float64)):
            allowed = np.ones(len(row), bool)
            allowed[filtered[1][filtered[0] == r]] = False
            for c in np.flatnonzero(allowed & (row > -np.inf)):
                expected[c] += (row[allowed] >= row[c]).sum() <= top
        assert np.array_equal(_top_counts(block, filtered, top), expected), top


def test_a_tie_across_the_top_cut_makes_no_frequent_hitter():
    from motive.evaluation.evaluator import _top_counts

    ties = np.zeros((4, 30))  # every candidate tied: none is surely in the top 15
    assert not _top_counts(ties, (np.array([], int), np.array([], int)), 15).any()
    ranked = np.tile(np.arange(30.0)[::-1], (4, 1))  # the same strict order everywhere
    counts = _top_counts(ranked, (np.array([0]), np.array([0])), 15)  # row 0 loses candidate 0 (filtered)
    assert list(counts[:16]) == [3] + [4] * 14 + [1] and not counts[16:].any()
