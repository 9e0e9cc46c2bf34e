import numpy as np
import pandas as pd
import pytest

from motive.data.graph import GRAPH_TYPES, Graph, NodeTable
from motive.errors import MotiveError


def small_graph(**edges) -> Graph:
    sources = NodeTable(pd.Index(["AAAAAAAAAAAAAA", "BBBBBBBBBBBBBB", "CCCCCCCCCCCCCC"]), np.eye(3, 4))
    targets = NodeTable(pd.Index(["G1", "G2", "G3", "G4"]), np.ones((4, 2)))
    tables = {
        "st": pd.DataFrame({"source": [0, 1], "target": [0, 1]}),
        "ss": pd.DataFrame({"source_a": [0], "source_b": [2]}),
        "tt": pd.DataFrame({"target_a": [2], "target_b": [1]}),
    }
    tables.update(edges)
    return Graph(sources, targets, {k: v for k, v in tables.items() if v is not None})


def test_valid_graph_passes_and_reports_type():
    graph = small_graph().validate()
    assert graph.graph_type == "st_expanded"
    assert small_graph(ss=None, tt=None).graph_type == "bipartite"


@pytest.mark.parametrize(
    "edges, message",
    [
        ({"st": pd.DataFrame({"source": [0, 3], "target": [0, 1]})}, "unknown node id 3"),
        ({"st": pd.DataFrame({"source": [0, 0], "target": [1, 1]})}, "duplicate edge"),
        ({"ss": pd.DataFrame({"source_a": [1], "source_b": [1]})}, "self-loop"),
        ({"ss": pd.DataFrame({"source_a": [0, 2], "source_b": [2, 0]})}, "duplicate edge"),
        ({"st": pd.DataFrame({"source": [0.0], "target": [1.0]})}, "expected integers"),
        ({"tt": pd.DataFrame({"target_a": [0]})}, "missing column 'target_b'"),
    ],
)
def test_invalid_edges_are_named(edges, message):
    with pytest.raises(MotiveError, match=message):
        small_graph(**edges).validate()


def test_invalid_nodes_are_named():
    graph = small_graph()
    graph.sources.x[1, 2] = np.nan
    with pytest.raises(MotiveError, match="non-finite feature for node 'BBBBBBBBBBBBBB'"):
        graph.validate()
    graph = small_graph()
    graph.targets = NodeTable(pd.Index(["G1", "G1", "G3", "G4"]), np.ones((4, 2)))
    with pytest.raises(MotiveError, match="duplicate node key 'G1'"):
        graph.validate()


def test_derive_applies_node_filters_and_consecutive_ids():
    graph = small_graph()
    # ST touches sources {0,1}, targets {0,1}; SS adds source 2; TT adds target 2; target 3 is isolated.
    bipartite = graph.derive("bipartite")
    assert list(bipartite.sources.keys) == ["AAAAAAAAAAAAAA", "BBBBBBBBBBBBBB"]
    assert list(bipartite.targets.keys) == ["G1", "G2"]
    s_expanded = graph.derive("s_expanded")
    assert len(s_expanded.sources) == 3 and len(s_expanded.targets) == 2
    t_expanded = graph.derive("t_expanded")
    assert list(t_expanded.targets.keys) == ["G1", "G2", "G3"]
    assert t_expanded.edges["tt"].values.tolist() == [[2, 1]]
    st = graph.derive("st_expanded")
    assert "G4" not in set(st.targets.keys)
    assert np.array_equal(st.sources.x, graph.sources.x)
    with pytest.raises(MotiveError, match="cannot derive st_expanded"):
        bipartite.derive("st_expanded")


def test_content_hash_tracks_features_and_edges():
    base = small_graph().content_hash()
    assert small_graph().content_hash() == base
    changed = small_graph()
    changed.sources.x[0, 0] += 1
    assert changed.content_hash() != base
    assert small_graph(st=pd.DataFrame({"source": [0, 2], "target": [0, 1]})).content_hash() != base


def test_hetero_data_has_both_directions(tiny_graphs):
    graph = tiny_graphs["st_expanded"]
    data = graph.to_hetero_data()
    assert data["source"].x.shape == graph.sources.x.shape
    forward = data["source", "binds", "target"].edge_index
    backward = data["target", "rev_binds", "source"].edge_index
    assert forward.shape[1] == len(graph.edges["st"])
    assert (backward.flip(0) == forward).all()
    assert data["target", "interacts", "target"].edge_index.shape[1] == 2 * len(graph.edges["tt"])
    assert set(GRAPH_TYPES) == {"bipartite", "s_expanded", "t_expanded", "st_expanded"}
