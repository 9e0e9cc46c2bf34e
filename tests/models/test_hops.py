"""Bit-parallel hop distances (``motive/models/hops.py``) against scipy's unweighted shortest paths."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from motive.models import hops


@pytest.mark.parametrize("batch_entries", [1 << 23, 1])  # one batch; a batch of 64 starts at a time
def test_hop_distances_equal_scipy_shortest_paths(monkeypatch, batch_entries):
    monkeypatch.setattr(hops, "BATCH_ENTRIES", batch_entries)
    rng = np.random.default_rng(0)
    nodes = 300
    a, b = rng.integers(0, 250, 400), rng.integers(0, 250, 400)  # nodes 250..299 are isolated
    graph = csr_matrix((np.ones(800), (np.r_[a, b], np.r_[b, a])), shape=(nodes, nodes))
    starts = rng.integers(0, nodes, 5000)  # ~290 distinct starts: five words of 64, several batches
    ends = rng.integers(0, nodes, 5000)
    starts[:3], ends[:3] = [7, 260, 261], [7, 3, 261]  # itself (0), isolated to connected, isolated to itself
    expected = shortest_path(graph, directed=False, unweighted=True)[starts, ends]
    found = hops.hop_distances(graph.indptr.astype(np.int64), graph.indices.astype(np.int64), starts, ends)
    assert found[:3].tolist() == [0, -1, 0]
    assert np.array_equal(np.where(np.isfinite(expected), expected, -1), found)
    assert found.max() >= 4 and (found == -1).sum() > 100  # long paths and unreachable pairs were both tested


def test_hop_distances_without_pairs():
    assert hops.hop_distances(np.zeros(4, np.int64), np.zeros(0, np.int64), [], []).tolist() == []
