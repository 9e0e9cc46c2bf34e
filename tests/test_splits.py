import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motive import splits
from motive.data import layout, synth
from motive.errors import MotiveError
from motive.names import COLD_SIDES, GRAPH_TYPES, OFFICIAL_NAMES
from motive.splits.audit import audit
from motive.splits.files import load_split, save_split, split_from_tables
from tests.graphs import random_graph

SPLITS = splits.SPLITS


@st.composite
def graphs(draw):
    # Sparse like real DTI graphs (density <= 6%), so that 1:10 evaluation negatives exist.
    n_sources, n_targets = draw(st.integers(80, 200)), draw(st.integers(80, 200))
    density = draw(st.floats(0.02, 0.06))
    return random_graph(
        seed=draw(st.integers(0, 10_000)),
        n_sources=n_sources,
        n_targets=n_targets,
        n_st=max(100, int(density * n_sources * n_targets)),
        n_ss=draw(st.integers(0, 300)),
        n_tt=draw(st.integers(0, 300)),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    graph=graphs(),
    graph_type=st.sampled_from(sorted(GRAPH_TYPES)),
    split_name=st.sampled_from(SPLITS),
    seed=st.integers(0, 99),
)
def test_every_split_of_every_graph_passes_the_audit(graph, graph_type, split_name, seed):
    graph = graph.derive(graph_type)
    split = splits.make_split(graph, splits.SplitConfig(split_name, seed))
    report = audit(graph, split)
    assert report.passed, report.first_failure()

    labels = split.subsets["st"]
    kept = labels[labels != "unused"]
    share = {
        stage: np.isin(kept, ("message", "train") if stage == "train" else (stage,)).mean() for stage in splits.STAGES
    }
    tolerance = 0.02 if split_name == "random" else 0.12  # cold splits hold out nodes, so edge shares vary with degree
    if split_name == "cold_both":
        tolerance = 0.2
    for stage, ratio in zip(splits.STAGES, (0.7, 0.1, 0.2), strict=True):
        assert abs(share[stage] - ratio) <= tolerance, (stage, share)
    train_edges = np.isin(labels, ("message", "train")).sum()
    assert abs((labels == "message").sum() - 0.6 * train_edges) <= 1


@settings(max_examples=10, deadline=None)
@given(graph=graphs(), split_name=st.sampled_from(SPLITS), seed=st.integers(0, 99))
def test_same_seed_gives_identical_files(tmp_path_factory, graph, split_name, seed):
    config = splits.SplitConfig(split_name, seed)
    folders = []
    for _ in range(2):
        folder = tmp_path_factory.mktemp("split") / "s"
        save_split(splits.make_split(graph, config), graph, folder)
        folders.append(folder)
    for path in sorted(folders[0].iterdir()):
        assert path.read_bytes() == (folders[1] / path.name).read_bytes(), path.name


def test_cold_source_holds_out_whole_nodes_stratified_by_degree():
    graph = random_graph(1, 200, 150, 2000, 300, 300)
    split = splits.make_split(graph, splits.SplitConfig("cold_source", 0))
    stage = split.node_stage["source"]
    assert np.bincount(stage, minlength=3).tolist() == [140, 20, 40]
    degree = np.bincount(graph.endpoints("st")[0], minlength=200)
    high = degree >= np.median(degree)
    for k, ratio in enumerate((0.7, 0.1, 0.2)):  # both halves of the degree distribution are held out alike
        assert abs((stage[high] == k).mean() - ratio) < 0.06
    assert not split.node_stage["target"].any()
    # Same-type edges of the held-out side take the later stage of their two ends.
    a, b = graph.endpoints("ss")
    expected = np.array(splits.STAGES, dtype=object)[np.maximum(stage[a], stage[b])]
    assert (split.subsets["ss"] == expected).all()
    assert (split.subsets["tt"] == "train").all()


def test_zero_shot_edges_have_both_ends_unseen():
    graph = random_graph(2, 300, 300, 4000, 0, 0)
    split = splits.make_split(graph, splits.SplitConfig("cold_both", 0))
    s, t = graph.endpoints("st")
    for k, stage in enumerate(splits.STAGES):
        mask = np.isin(split.subsets["st"], ("message", "train") if k == 0 else (stage,))
        assert (split.node_stage["source"][s[mask]] == k).all() and (split.node_stage["target"][t[mask]] == k).all()
    unused = split.subsets["st"] == "unused"
    assert (split.node_stage["source"][s[unused]] != split.node_stage["target"][t[unused]]).all()
    ratios = splits.zero_shot_node_ratios((0.7, 0.1, 0.2))
    assert sum(ratios) == pytest.approx(1) and np.array(ratios) ** 2 / sum(np.array(ratios) ** 2) == pytest.approx(
        [0.7, 0.1, 0.2]
    )


def test_visibility_rules_match_the_official_protocol():
    graph = random_graph(3, 150, 150, 900, 100, 100)
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    labels = split.subsets["st"]
    assert set(labels[split.message_mask("st", "train")]) == {"message"}
    assert set(labels[split.message_mask("st", "valid")]) == {"message", "train"}
    assert set(labels[split.message_mask("st", "test")]) == {"message", "train", "valid"}
    cold = splits.make_split(graph, splits.SplitConfig("cold_source", 0))
    assert set(cold.subsets["ss"][cold.message_mask("ss", "valid")]) == {"train"}
    assert set(cold.subsets["ss"][cold.message_mask("ss", "test")]) == {"train", "valid"}


@pytest.mark.parametrize("split_name", ["cold_source", "cold_target", "cold_both"])
def test_side_edges_show_every_same_type_edge_between_nodes_the_stage_may_see(split_name):
    graph = random_graph(3, 150, 150, 900, 300, 300)
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    for kind, side in (("ss", "source"), ("tt", "target")):
        a, b = graph.endpoints(kind)
        stage_of = split.node_stage[side]
        for k, stage in enumerate(splits.STAGES):
            side_mask = split.message_mask(kind, stage, side_edges=True)
            assert np.array_equal(side_mask, (stage_of[a] <= k) & (stage_of[b] <= k)), (kind, stage)
            official = split.message_mask(kind, stage)
            assert not (official & ~side_mask).any()  # the official edges are among them
        held_out = side in COLD_SIDES[split_name]
        # a held-out side's test nodes gain their edges at the test stage only, and only with side edges
        gained = split.message_mask(kind, "test", True) & ~split.message_mask(kind, "test")
        assert gained.any() == held_out
        assert (np.maximum(stage_of[a], stage_of[b])[gained] == 2).all()


def test_save_load_round_trip_and_graph_identity(tmp_path):
    graph = random_graph(4, 150, 150, 900, 50, 50)
    split = splits.make_split(graph, splits.SplitConfig("cold_target", 5))
    save_split(split, graph, tmp_path / "split")
    back = load_split(tmp_path / "split", graph)
    assert back.config == split.config
    assert all((back.subsets[k] == split.subsets[k]).all() for k in split.subsets)
    assert all(back.negatives[s].equals(split.negatives[s]) for s in ("valid", "test"))
    other = random_graph(5, 150, 150, 900, 50, 50)
    with pytest.raises(MotiveError, match="split was made for graph"):
        load_split(tmp_path / "split", other)


def test_official_tables_reconstruct_the_split(tmp_path):
    graph = random_graph(6, 150, 150, 1000, 100, 100)
    for name in SPLITS:
        split = splits.make_split(graph, splits.SplitConfig(name, 1))
        folder = layout.write_split_tables(split.tables(graph), tmp_path / OFFICIAL_NAMES[name])
        rebuilt = split_from_tables(graph, layout.read_split_tables(folder), folder.name)
        assert rebuilt.config.split == name
        assert audit(graph, rebuilt).passed
        used = split.subsets["st"] != "unused"
        for side, ends in zip(("source", "target"), graph.endpoints("st"), strict=True):
            labelled = np.unique(ends[used])  # stages are recoverable for nodes with a labelled ST edge
            assert (rebuilt.node_stage[side][labelled] == split.node_stage[side][labelled]).all()
        unnamed = split_from_tables(graph, layout.read_split_tables(folder), "mystery")
        assert unnamed.config.split == name


def test_bad_config():
    with pytest.raises(MotiveError, match="unknown split 'cold'"):
        splits.SplitConfig("cold")
    with pytest.raises(MotiveError, match="must be three positive numbers"):
        splits.SplitConfig("random", ratios=(0.5, 0.5, 0.5))


@pytest.mark.parametrize("negatives", ["uniform", "degree"])
def test_split_frames_hold_every_labelled_pair_once(tmp_path, negatives):
    from motive.cli import main

    graph = synth.generate(synth.SynthConfig(scale=0.05, seed=2))["st_expanded"]
    split = splits.make_split(graph, splits.SplitConfig("cold_source", 0))
    frames = split.to_frames(graph, negatives)
    counts = split.counts()["st"]
    assert len(frames["train"]) == counts["message"] + counts["train"] and (frames["train"]["label"] == 1).all()
    for stage in ("valid", "test"):
        frame = frames[stage]
        stored = split.negatives[stage if negatives == "uniform" else f"{stage}_degree"]
        assert (frame["label"] == 1).sum() == counts[stage] and (frame["label"] == 0).sum() == len(stored)
        assert set(frame["source"]) <= set(graph.sources.keys) and not frame.duplicated(["source", "target"]).any()
    held_out = {graph.sources.keys[i] for i in np.flatnonzero(split.node_stage["source"] > 0)}
    assert not held_out & set(frames["train"]["source"])  # a new compound is never in the training table
    dataset = tmp_path / "data"
    layout.write_dataset({"st_expanded": graph}, dataset)
    argv = ["-q", "split", "make", str(dataset), "--graph", "st_expanded", "--split", "cold_source"]
    assert main([*argv, "--frames", str(tmp_path / "frames"), "--eval-negatives", negatives]) == 0
    assert pd.read_parquet(tmp_path / "frames" / "test.parquet").equals(frames["test"])
