"""The evaluation (``motive/evaluation.py``): the filtered full ranking equals a brute-force
ranking, ties and all, and known positives of other stages are never counted as misses."""

import numpy as np
import pytest

from motive import layout, metrics
from motive.config import TrainConfig


@pytest.fixture(scope="module")
def dataset(planted_dataset):
    return planted_dataset


def brute_force_ranks(graph, split, stage_graph, model, split_name):
    """Every (query, positive) of the stage, ranked by explicit comparison with each candidate."""
    from motive.evaluation import query_side
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
    from motive.evaluation import ranking_evaluation
    from motive.models import StageGraph
    from motive.prepare import Prepared
    from motive.train import fit

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
    from motive.evaluation import ranking_evaluation
    from motive.models import StageGraph

    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    frame = ranking_evaluation(graph, split, StageGraph.build(graph, split, "test"), KnownFirst(graph), "random")
    result = metrics.ranking_metrics(frame)
    assert (frame["rank"] == 1).all() and result["mrr"] == 1.0 and result["map"] == 1.0 and result["success@1"] == 1.0
