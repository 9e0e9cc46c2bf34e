"""The graph data model: typed node tables with frozen profile features and typed edge tables.

Owns validation, derivation of the four MOTIVE graph types from the full graph, hashing and
conversion to PyG. It must not read files (``layout``) nor decide which edges exist (``build``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from motive.errors import MotiveError
from motive.names import GRAPH_TYPES

SOURCE_INDEX = "Metadata_InChIKey"  # compounds are keyed by InChIKey connectivity block (14 chars)
TARGET_INDEX = "Metadata_Symbol"  # genes by NCBI gene symbol

# Edge tables and their two endpoint columns (official names).
EDGE_COLUMNS = {
    "st": ("source", "target"),
    "ss": ("source_a", "source_b"),
    "tt": ("target_a", "target_b"),
}
PROVENANCE_COLUMNS = ("database", "rel_type")


@dataclass
class NodeTable:
    """Nodes of one type: unique string keys (row i is node id i) and a float32 feature matrix."""

    keys: pd.Index
    x: np.ndarray

    def __post_init__(self) -> None:
        self.keys = pd.Index(np.asarray(self.keys, dtype=object), name=self.keys.name)
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.keys)

    def validate(self, what: str) -> None:
        if self.x.ndim != 2 or self.x.shape[0] != len(self.keys):
            raise MotiveError(f"{what}: feature matrix shape {self.x.shape} does not match {len(self.keys)} keys")
        if self.keys.hasnans:
            raise MotiveError(f"{what}: a node key is missing (NaN); drop rows without an identifier")
        if self.keys.has_duplicates:
            duplicate = self.keys[self.keys.duplicated()][0]
            raise MotiveError(f"{what}: duplicate node key {duplicate!r}; aggregate profiles per key first")
        if not np.isfinite(self.x).all():
            row = int(np.argwhere(~np.isfinite(self.x))[0, 0])
            raise MotiveError(f"{what}: non-finite feature for node {self.keys[row]!r}; impute or drop it")

    def subset(self, keep: np.ndarray) -> NodeTable:
        return NodeTable(self.keys[keep], self.x[keep])


@dataclass
class Graph:
    """A compound (source) - gene (target) graph.

    ``edges[kind]`` holds int64 node ids in the columns of ``EDGE_COLUMNS[kind]`` plus optional
    provenance columns (``database``, ``rel_type``). Same-type edges are undirected and stored
    once. A graph type without a same-type table simply has no such key.
    """

    sources: NodeTable
    targets: NodeTable
    edges: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources.keys.name = SOURCE_INDEX
        self.targets.keys.name = TARGET_INDEX
        for kind, table in self.edges.items():
            if kind not in EDGE_COLUMNS:
                raise MotiveError(f"unknown edge type {kind!r}; expected one of {sorted(EDGE_COLUMNS)}")
            self.edges[kind] = table.reset_index(drop=True)

    @property
    def graph_type(self) -> str:
        present = tuple(kind for kind in ("ss", "tt") if kind in self.edges)
        return next(name for name, kinds in GRAPH_TYPES.items() if kinds == present)

    def endpoints(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        a, b = EDGE_COLUMNS[kind]
        table = self.edges[kind]
        return table[a].to_numpy(np.int64), table[b].to_numpy(np.int64)

    def validate(self) -> Graph:
        """Check ids, dtypes, duplicates and self-loops; return self so it chains."""
        self.sources.validate("source nodes")
        self.targets.validate("target nodes")
        if "st" not in self.edges:
            raise MotiveError("graph has no source-target (st) edge table")
        sizes = {"source": len(self.sources), "target": len(self.targets)}
        for kind, table in self.edges.items():
            for column in EDGE_COLUMNS[kind]:
                if column not in table.columns:
                    raise MotiveError(f"{kind} edges: missing column {column!r}")
                values = table[column]
                if not pd.api.types.is_integer_dtype(values):
                    raise MotiveError(f"{kind} edges: column {column!r} has dtype {values.dtype}, expected integers")
                size = sizes[column.split("_")[0]]
                bad = (values < 0) | (values >= size)
                if bad.any():
                    raise MotiveError(
                        f"{kind} edges: column {column!r} names unknown node id {int(values[bad].iloc[0])} (there are "
                        f"{size} {column.split('_')[0]} nodes)"
                    )
            a, b = self.endpoints(kind)
            if kind != "st":
                if (a == b).any():
                    raise MotiveError(f"{kind} edges: self-loop on node id {int(a[a == b][0])}")
                a, b = np.minimum(a, b), np.maximum(a, b)
            keys = a * max(sizes.values()) + b
            if len(np.unique(keys)) != len(keys):
                raise MotiveError(f"{kind} edges: duplicate edge; each pair must appear once")
        return self

    def derive(self, graph_type: str) -> Graph:
        """The given graph type, with the reference's node filters and consecutive ids.

        A source is kept if it has an ST edge (or an SS edge when SS edges are kept), a target
        if it has an ST edge (or a TT edge when TT edges are kept); ids follow key order.
        """
        if graph_type not in GRAPH_TYPES:
            raise MotiveError(f"unknown graph type {graph_type!r}; expected one of {', '.join(GRAPH_TYPES)}")
        kinds = ("st",) + GRAPH_TYPES[graph_type]
        missing = [kind for kind in kinds if kind not in self.edges]
        if missing:
            raise MotiveError(f"cannot derive {graph_type} from a {self.graph_type} graph: no {missing} edges")
        keep_source = np.zeros(len(self.sources), bool)
        keep_target = np.zeros(len(self.targets), bool)
        s, t = self.endpoints("st")
        keep_source[s] = True
        keep_target[t] = True
        if "ss" in kinds:
            for ends in self.endpoints("ss"):
                keep_source[ends] = True
        if "tt" in kinds:
            for ends in self.endpoints("tt"):
                keep_target[ends] = True
        new_source = np.cumsum(keep_source) - 1
        new_target = np.cumsum(keep_target) - 1
        remap = {"source": new_source, "target": new_target}
        edges = {}
        for kind in kinds:
            table = self.edges[kind].copy()
            for column in EDGE_COLUMNS[kind]:
                table[column] = remap[column.split("_")[0]][table[column].to_numpy(np.int64)]
            edges[kind] = table
        return Graph(self.sources.subset(keep_source), self.targets.subset(keep_target), edges)

    def content_hash(self) -> str:
        """sha256 over keys, features and edge ids: the identity a split or checkpoint refers to."""
        digest = hashlib.sha256()
        for nodes in (self.sources, self.targets):
            digest.update("\x1f".join(map(str, nodes.keys)).encode())
            digest.update(str(nodes.x.shape).encode())
            digest.update(nodes.x.tobytes())
        for kind in sorted(self.edges):
            digest.update(kind.encode())
            for ends in self.endpoints(kind):
                digest.update(ends.tobytes())
        return digest.hexdigest()

    def equals(self, other: Graph) -> bool:
        if self.graph_type != other.graph_type:
            return False
        for mine, theirs in ((self.sources, other.sources), (self.targets, other.targets)):
            if not (mine.keys.equals(theirs.keys) and np.array_equal(mine.x, theirs.x)):
                return False
        return all(self.edges[kind].equals(other.edges[kind]) for kind in self.edges)

    def to_hetero_data(self):
        """A PyG ``HeteroData``: node types ``source``/``target``, every edge type in both directions."""
        import torch
        from torch_geometric.data import HeteroData

        data = HeteroData()
        data["source"].x = torch.from_numpy(self.sources.x)
        data["target"].x = torch.from_numpy(self.targets.x)
        data["source"].node_key = list(self.sources.keys)
        data["target"].node_key = list(self.targets.keys)
        s, t = (torch.tensor(ends) for ends in self.endpoints("st"))
        data["source", "binds", "target"].edge_index = torch.stack([s, t])
        data["target", "rev_binds", "source"].edge_index = torch.stack([t, s])
        for kind, node, relation in (("ss", "source", "similar"), ("tt", "target", "interacts")):
            if kind in self.edges:
                a, b = (torch.tensor(ends) for ends in self.endpoints(kind))
                data[node, relation, node].edge_index = torch.stack([torch.cat([a, b]), torch.cat([b, a])])
        return data
