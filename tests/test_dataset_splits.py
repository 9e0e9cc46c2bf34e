"""Acceptance: every split of every graph type of the real and the synthetic dataset passes the audit."""

import pytest

from motive import splits
from motive.data import layout, synth
from motive.data.datasets import l1000, registry
from motive.splits.audit import audit


def audit_all(graphs):
    for graph_type, graph in graphs.items():
        for split_name in splits.SPLITS:
            split = splits.make_split(graph, splits.SplitConfig(split_name, seed=0))
            report = audit(graph, split)
            assert report.passed, f"{graph_type}/{split_name}: {report.first_failure()}"
            assert len(split.negatives["test"]) == 10 * (split.subsets["st"] == "test").sum()


def test_synthetic_scale_one_all_splits_pass_the_audit():
    audit_all(synth.generate(synth.SynthConfig(scale=1, seed=0)))


@pytest.fixture(scope="module")
def l1000_graphs(raw_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("l1000")
    l1000.build(registry.fetch("l1000", mirror=raw_dir, cache_dir=out / "cache"), out / "l1000")
    return layout.read_dataset(out / "l1000")


def test_l1000_all_splits_pass_the_audit(l1000_graphs):
    audit_all(l1000_graphs)
