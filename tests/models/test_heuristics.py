"""The heuristics' scores against independent brute-force definitions, exact ties included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from motive import splits
from motive.data import layout, synth
from motive.data.graph import Graph, NodeTable
from motive.evaluation.evaluator import query_side, ranking_evaluation
from motive.models import StageGraph, build_model
from motive.splits import STAGES


def brute_force_knn_ranks(graph, split, stage: str, split_name: str) -> dict[tuple[int, int], tuple[float, float]]:
    """knn's filtered ranks from its definition, one candidate at a time: a candidate's score is
    the highest cosine similarity (one float64 dot product per pair of unit vectors) between the
    query and the visible nodes known to hit the candidate, the query itself excluded."""
    side = query_side(split_name)
    other = "target" if side == "source" else "source"
    x = (graph.sources if side == "source" else graph.targets).x.astype(np.float64)
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    visible_s, visible_t = split.message_passing(graph, stage)[("source", "binds", "target")]
    evidence: dict[int, list[int]] = {}
    for a, b in zip(visible_s, visible_t, strict=True):
        query_end, partner_end = (a, b) if side == "source" else (b, a)
        evidence.setdefault(int(partner_end), []).append(int(query_end))
    all_s, all_t = graph.endpoints("st")
    known = {(a, b) if side == "source" else (b, a) for a, b in zip(all_s.tolist(), all_t.tolist(), strict=True)}
    candidates = np.flatnonzero(split.node_stage[other] <= STAGES.index(stage)).tolist()
    s, t = split.supervision(graph, stage)
    ranks = {}
    similarity_cache: dict[tuple[int, int], float] = {}

    def score(query: int, candidate: int) -> float:
        best = -1.0
        for neighbour in evidence.get(candidate, []):
            if neighbour != query:
                if (query, neighbour) not in similarity_cache:
                    similarity_cache[(query, neighbour)] = float(np.dot(unit[query], unit[neighbour]))
                best = max(best, similarity_cache[(query, neighbour)])
        return best

    for a, b in zip(s.tolist(), t.tolist(), strict=True):
        query, partner = (a, b) if side == "source" else (b, a)
        positive = score(query, partner)
        scores = [score(query, c) for c in candidates if (query, c) not in known]
        ranks[(query, partner)] = (1.0 + sum(v > positive for v in scores), 1.0 + sum(v >= positive for v in scores))
    return ranks


def ranks_of(frame, graph) -> dict[tuple[int, int], tuple[float, float]]:
    keys = {"source": graph.sources.keys, "target": graph.targets.keys}
    side = frame["query_side"].iloc[0]
    query_keys, partner_keys = keys[side], keys["target" if side == "source" else "source"]
    columns = frame[["query", "partner", "rank_optimistic", "rank_pessimistic"]].itertuples(index=False)
    return {(query_keys.get_loc(q), partner_keys.get_loc(p)): (lo, hi) for q, p, lo, hi in columns}


def knn_frame(graph, split, split_name: str, stage: str = "test"):
    stage_graph = StageGraph.build(graph, split, stage)
    return ranking_evaluation(graph, split, stage_graph, build_model("knn", stage_graph), split_name)


@pytest.fixture(scope="module")
def hub_graph():
    """A graph where a few compounds hit many genes: every gene a hub compound hits shares its
    similarity to a query, so the full ranking is full of exact ties."""
    return synth.generate(synth.SynthConfig(scale=0.03, seed=11, signal=0.5, source_dim=16, target_dim=12))[
        "st_expanded"
    ]


@pytest.mark.parametrize("split_name", ["random", "cold_source", "cold_target"])
def test_knn_full_ranking_equals_a_brute_force_loop_with_planted_ties(hub_graph, split_name):
    split = splits.make_split(hub_graph, splits.SplitConfig(split_name, 0))
    frame = knn_frame(hub_graph, split, split_name)
    assert ranks_of(frame, hub_graph) == brute_force_knn_ranks(hub_graph, split, "test", split_name)
    assert (frame["rank_optimistic"] < frame["rank_pessimistic"]).any()  # ties were exercised


def test_knn_scores_a_pair_the_same_whatever_it_is_scored_with(hub_graph):
    split = splits.make_split(hub_graph, splits.SplitConfig("cold_source", 0))
    stage = StageGraph.build(hub_graph, split, "test")
    model = build_model("knn", stage)
    rng = np.random.default_rng(0)
    sources = rng.integers(0, len(hub_graph.sources), 400)
    targets = rng.integers(0, len(hub_graph.targets), 400)
    together = model.score(stage, sources, targets)
    for chunk in np.array_split(np.arange(400), 7):  # other companions, other batch sizes
        assert np.array_equal(model.score(stage, sources[chunk][::-1], targets[chunk][::-1])[::-1], together[chunk])


def test_l1000_knn_full_ranking_equals_a_brute_force_loop(raw_dir, tmp_path):
    from motive.data.datasets import l1000, registry

    l1000.build(registry.fetch("l1000", mirror=raw_dir, cache_dir=tmp_path / "cache"), tmp_path / "l1000")
    graph = layout.read_graph(layout.graph_dir(tmp_path / "l1000", "st_expanded"))
    split = splits.make_split(graph, splits.SplitConfig("cold_source", 0))
    frame = knn_frame(graph, split, "cold_source")
    assert len(frame) > 100
    assert ranks_of(frame, graph) == brute_force_knn_ranks(graph, split, "test", "cold_source")


def tiny_graph():
    sources = NodeTable(pd.Index(["A" * 14, "B" * 14, "C" * 14]), np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
    targets = NodeTable(pd.Index(["G1", "G2", "G3"]), np.eye(3, 2))
    edges = {
        "st": pd.DataFrame({"source": [0, 2], "target": [0, 1]}),
        "tt": pd.DataFrame({"target_a": [1], "target_b": [2]}),
    }
    return Graph(sources, targets, edges)


def stage_with_all_edges(graph):
    s, t = graph.endpoints("st")
    a, b = graph.endpoints("tt")
    edges = {
        ("source", "binds", "target"): (s, t),
        ("target", "rev_binds", "source"): (t, s),
        ("target", "interacts", "target"): (np.r_[a, b], np.r_[b, a]),
    }
    x = {"source": torch.from_numpy(graph.sources.x), "target": torch.from_numpy(graph.targets.x)}
    return StageGraph.from_edges("test", "random", x, edges)


def test_shortest_path_hand_example():
    stage = stage_with_all_edges(tiny_graph())
    model = build_model("shortest_path", stage)
    # A-G1 direct (1); C-G3 via G2 (2); A-G2: A-G1 ... no path from G1 to G2 -> unreachable; B isolated.
    scores = model.score(stage, np.array([0, 2, 0, 1]), np.array([0, 2, 1, 0]))
    assert scores.tolist() == [-1.0, -2.0, -1e6, -1e6]


def test_knn_hand_example():
    stage = stage_with_all_edges(tiny_graph())
    model = build_model("knn", stage)
    # B is similar to A (known to hit G1) and unrelated to C (known to hit G2).
    scores = model.score(stage, np.array([1, 1, 1]), np.array([0, 1, 2]))
    assert scores[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    assert scores[1] == pytest.approx(0.1 / np.hypot(0.9, 0.1))
    assert scores[2] == -1.0  # G3 has no known compound
    # A known pair is never its own evidence: A-G1's only evidence is A itself.
    assert model.score(stage, np.array([0]), np.array([0]))[0] == -1.0
