"""The audit must fail, naming the problem, whenever a leak is planted."""

import numpy as np
import pandas as pd
import pytest

from motive import splits
from motive.splits.audit import audit
from tests.graphs import random_graph


@pytest.fixture()
def graph():
    return random_graph(9, 200, 200, 2000, 300, 300)


def planted(graph, split_name, plant):
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    assert audit(graph, split).passed
    plant(graph, split)
    return audit(graph, split)


def test_test_source_edge_in_training_is_caught(graph):
    def plant(graph, split):
        index = np.flatnonzero(split.subsets["st"] == "test")[0]
        split.subsets["st"][index] = "message"

    report = planted(graph, "cold_source", plant)
    assert not report.passed
    assert "has ST edges in stages train and test" in report.first_failure()


def test_held_out_same_type_edge_in_training_is_caught(graph):
    def plant(graph, split):
        stage = split.node_stage["source"]
        a, b = graph.endpoints("ss")
        index = np.flatnonzero((stage[a] == 2) | (stage[b] == 2))[0]
        split.subsets["ss"][index] = "train"

    report = planted(graph, "cold_source", plant)
    assert "train-stage ss message touches source" in report.first_failure()


def test_message_passing_over_own_supervision_is_caught(graph):
    """A visibility bug (validation messages over the validation edges themselves) is reported."""

    def plant(graph, split):
        correct = split.message_mask

        def leaky(kind, stage, side_edges=False):
            mask = correct(kind, stage, side_edges)
            return mask | (split.subsets[kind] == stage) if kind == "st" else mask

        split.message_mask = leaky

    report = planted(graph, "random", plant)
    assert "valid-stage st message passing uses ['valid'] edges" in report.first_failure()


def test_side_edges_reaching_a_later_stage_are_caught(graph):
    """With side edges a stage sees the same-type edges of its own held-out nodes, never those of
    a later stage: a rule that showed them is reported."""

    def plant(graph, split):
        correct = split.message_mask

        def leaky(kind, stage, side_edges=False):
            mask = correct(kind, stage, side_edges)
            return np.ones_like(mask) if side_edges and kind == "ss" else mask

        split.message_mask = leaky

    report = planted(graph, "cold_source", plant)
    assert not report.passed
    assert "side-edge message touches source" in report.first_failure()
    assert "side edges use ['test'] edges" in report.first_failure() or "held out until test" in report.first_failure()


def test_positive_among_negatives_is_caught(graph):
    def plant(graph, split):
        s, t = split.supervision(graph, "test")
        split.negatives["test"] = pd.concat(
            [split.negatives["test"], pd.DataFrame({"source": s[:1], "target": t[:1]})], ignore_index=True
        )

    report = planted(graph, "cold_target", plant)
    assert "test negatives contain a known positive" in report.first_failure()


def test_unseen_node_among_negatives_is_caught(graph):
    def plant(graph, split):
        test_source = np.flatnonzero(split.node_stage["source"] == 2)[0]
        negatives = split.negatives["valid"].copy()
        negatives.loc[0, "source"] = test_source
        split.negatives["valid"] = negatives

    report = planted(graph, "cold_source", plant)
    assert "valid negatives use source" in report.first_failure()


def test_mislabelled_counts_are_caught(graph):
    def plant(graph, split):
        split.subsets["tt"] = split.subsets["tt"][:-1]

    report = planted(graph, "random", plant)
    assert "tt: 299 labels for 300 edges" in report.first_failure()


def test_unknown_subset_label_is_reported_not_crashed(graph):
    def plant(graph, split):
        split.subsets["ss"] = split.subsets["ss"].copy()
        split.subsets["ss"][0] = "holdout"

    report = planted(graph, "random", plant)
    assert "ss edges carry unknown subset 'holdout'" in report.first_failure()
