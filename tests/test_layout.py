import numpy as np
import pandas as pd
import pytest

from motive.data import layout
from motive.errors import MotiveError


def test_round_trip_is_identical(tmp_path, tiny_graphs):
    layout.write_dataset(tiny_graphs, tmp_path)
    back = layout.read_dataset(tmp_path)
    assert set(back) == set(tiny_graphs)
    for graph_type, graph in tiny_graphs.items():
        assert back[graph_type].equals(graph), graph_type
        assert back[graph_type].content_hash() == graph.content_hash()


def test_official_file_shapes(tmp_path, tiny_graphs):
    folder = layout.write_graph(tiny_graphs["st_expanded"], tmp_path / "g")
    source = pd.read_parquet(folder / "source.parquet")
    assert source.index.name == "Metadata_InChIKey"
    assert list(source.columns[:2]) == ["X_1", "X_2"] and source.shape[1] == 737
    target_map = pd.read_parquet(folder / "target_map.parquet")
    assert target_map.index.name == "Metadata_Symbol" and list(target_map.columns) == ["0"]
    assert target_map["0"].tolist() == list(range(len(target_map)))
    assert list(pd.read_parquet(folder / "s_s_labels.parquet").columns) == ["source_a", "source_b"]
    assert list(pd.read_parquet(folder / "t_t_labels.parquet").columns) == ["target_a", "target_b"]


def test_provenance_survives_round_trip(tmp_path, tiny_graphs):
    graph = tiny_graphs["bipartite"]
    graph.edges["st"]["database"] = "hetionet"
    graph.edges["st"]["rel_type"] = "binds"
    try:
        back = layout.read_graph(layout.write_graph(graph, tmp_path / "g"))
        assert back.edges["st"]["database"].eq("hetionet").all()
        assert list(pd.read_parquet(tmp_path / "g" / "s_t_labels.parquet").columns) == ["source", "target"]
    finally:
        graph.edges["st"] = graph.edges["st"].drop(columns=["database", "rel_type"])


def test_split_tables_round_trip_and_reject_unknown_subset(tmp_path):
    tables = {
        "st": pd.DataFrame({"source": [0, 1, 2], "target": [1, 1, 0], "subset": ["train", "message", "test"]}),
        "ss": pd.DataFrame({"source_a": [0], "source_b": [1], "subset": ["valid"]}),
    }
    layout.write_split_tables(tables, tmp_path / "random")
    back = layout.read_split_tables(tmp_path / "random")
    assert back["st"].equals(tables["st"]) and back["ss"].equals(tables["ss"])
    bad = {"st": tables["st"].assign(subset=["train", "oops", "test"])}
    with pytest.raises(MotiveError, match="unknown value 'oops'"):
        layout.write_split_tables(bad, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def corrupt(folder, name, change):
    path = folder / name
    frame = pd.read_parquet(path)
    change(frame).to_parquet(path)


@pytest.mark.parametrize(
    "name, change, message",
    [
        (
            "source.parquet",
            lambda f: f.assign(X_3=np.where(np.arange(len(f)) == 2, np.nan, f["X_3"])),
            "non-finite feature value nan in column 'X_3'",
        ),
        ("source.parquet", lambda f: f.assign(X_2="a"), "feature column 'X_2' has dtype"),
        ("target.parquet", lambda f: f.iloc[[0] + list(range(len(f)))], "duplicate node key"),
        ("s_t_labels.parquet", lambda f: f.assign(target=f["target"] + 10_000), "names unknown node id"),
        ("s_t_labels.parquet", lambda f: f.rename(columns={"target": "gene"}), "missing column"),
        ("s_t_labels.parquet", lambda f: f.iloc[:0], "table is empty"),
        ("target_map.parquet", lambda f: f.iloc[::-1], "ids are not 0..n-1"),
    ],
)
def test_bad_files_give_one_clear_line(tmp_path, tiny_graphs, name, change, message):
    folder = layout.write_graph(tiny_graphs["st_expanded"], tmp_path / "g")
    corrupt(folder, name, change)
    with pytest.raises(MotiveError, match=message) as info:
        layout.read_graph(folder)
    assert "\n" not in str(info.value)


def test_unreadable_and_missing_files(tmp_path, tiny_graphs):
    folder = layout.write_graph(tiny_graphs["bipartite"], tmp_path / "g")
    (folder / "target.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(MotiveError, match="target.parquet: unreadable"):
        layout.read_graph(folder)
    (folder / "source.parquet").unlink()
    with pytest.raises(MotiveError, match="source.parquet: file not found"):
        layout.read_graph(folder)


def test_failed_write_leaves_old_output_intact(tmp_path, tiny_graphs):
    folder = layout.write_graph(tiny_graphs["bipartite"], tmp_path / "g")
    before = sorted(p.name for p in folder.iterdir())
    broken = tiny_graphs["st_expanded"].derive("st_expanded")
    broken.edges["st"].loc[0, "source"] = 10_000
    with pytest.raises(MotiveError):
        layout.write_graph(broken, folder)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert layout.read_graph(folder).equals(tiny_graphs["bipartite"])
    assert [p.name for p in tmp_path.iterdir()] == ["g"]
