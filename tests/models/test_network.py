"""Network heuristics (``motive/models/network.py``) against brute-force loops over the stage's
visible edges, ties included, on every split where they apply."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from motive import splits
from motive.data import synth
from motive.errors import MotiveError
from motive.models import StageGraph, build_model, check_model
from motive.models.network import DAMPING, KINDS, NetworkPaths


@pytest.fixture(scope="module")
def graph():
    return synth.generate(synth.SynthConfig(scale=0.03, seed=5))["st_expanded"]


def neighbours(edges, node):
    a, b = edges
    return set(b[a == node].tolist())


def brute_force(stage: StageGraph, kind: str, compound: int, gene: int) -> float:
    """The paths of the module docstring, walked one by one."""
    known = stage.edges[("source", "binds", "target")]
    similar = stage.edges.get(("source", "similar", "source"), (np.zeros(0), np.zeros(0)))
    interacts = stage.edges.get(("target", "interacts", "target"), (np.zeros(0), np.zeros(0)))
    hits = neighbours(known, compound)  # genes the compound is known to hit
    near = neighbours(similar, compound)  # compounds like it
    partners = neighbours(interacts, gene)  # genes interacting with the gene
    hitters = set(known[0][known[1] == gene].tolist())  # compounds known to hit the gene
    gene_degree = {g: len(set(known[0][known[1] == g].tolist())) + len(neighbours(interacts, g)) for g in hits}
    compound_degree = {c: len(neighbours(known, c)) + len(neighbours(similar, c)) for c in near}
    if kind == "gene_neighbours":
        return float(len(hits & partners))
    if kind == "gene_neighbours_ra":
        return float(sum(1 / gene_degree[g] for g in sorted(hits & partners)))
    if kind == "compound_neighbours":
        return float(len(near & hitters))
    if kind == "compound_neighbours_ra":
        return float(sum(1 / compound_degree[c] for c in sorted(near & hitters)))
    three = sum(1 for c, g in itertools.product(near, partners) if g in neighbours(known, c))
    return len(hits & partners) + len(near & hitters) + DAMPING * three


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("split_name", ["random", "cold_source", "cold_target", "cold_both"])
def test_network_heuristics_equal_brute_force_loops_and_rank_alike(graph, kind, split_name):
    split = splits.make_split(graph, splits.SplitConfig(split_name, 1))
    stage = StageGraph.build(graph, split, "test", side_edges=True)
    if split_name in KINDS[kind][1]:  # the path needs the held-out side's own links
        with pytest.raises(MotiveError, match="cannot run on a"):
            check_model(kind, split_name)
        s, t = split.supervision(graph, "test")  # the reason: nothing reaches a held-out node
        assert not NetworkPaths(stage, kind).score(stage, s, t).any()
        return
    if split_name != "random":  # the official visibility hides a held-out node's same-type edges
        with pytest.raises(MotiveError, match="pass --side-edges"):
            build_model(kind, StageGraph.build(graph, split, "test"))
    model = build_model(kind, stage)
    s, t = split.supervision(graph, "test")
    negatives = split.negatives["test"]
    sources, targets = np.r_[s, negatives["source"]][:150], np.r_[t, negatives["target"]][:150]
    scores = model.score(stage, sources, targets)
    expected = [brute_force(stage, kind, c, g) for c, g in zip(sources.tolist(), targets.tolist(), strict=True)]
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=0)
    assert (scores > 0).any()  # the paths exist on this split: not a score of zeros
    # the full ranking reads the same bits, whichever side asks (ties stay ties)
    for side, queries, candidates in (
        ("source", np.unique(sources), np.arange(len(graph.targets))),
        ("target", np.unique(targets), np.arange(len(graph.sources))),
    ):
        matrix = np.concatenate([block for _, block in model.score_blocks(stage, side, queries, candidates)])
        pairs = (np.repeat(queries, len(candidates)), np.tile(candidates, len(queries)))
        alone = model.score(stage, *(pairs if side == "source" else pairs[::-1])).reshape(matrix.shape)
        assert np.array_equal(matrix, alone)


def test_network_heuristics_read_only_what_the_stage_may_see(graph):
    """At the validation stage the test stage's edges are absent: relabelling every test edge as
    anything else changes no validation score."""
    split = splits.make_split(graph, splits.SplitConfig("random", 2))
    stage = StageGraph.build(graph, split, "valid")
    s, t = split.supervision(graph, "valid")
    before = build_model("network_paths", stage).score(stage, s, t)
    hidden = split.subsets["st"] == "test"
    split.subsets["st"] = np.where(hidden, "unused", split.subsets["st"])
    after_stage = StageGraph.build(graph, split, "valid")
    assert np.array_equal(build_model("network_paths", after_stage).score(after_stage, s, t), before)


def test_a_graph_without_the_edges_a_heuristic_needs_is_one_line():
    bipartite = synth.generate(synth.SynthConfig(scale=0.03, seed=5))["bipartite"]
    split = splits.make_split(bipartite, splits.SplitConfig("random", 0))
    stage = StageGraph.build(bipartite, split, "test")
    with pytest.raises(MotiveError, match="needs the graph's interacts edges"):
        build_model("gene_neighbours", stage)
