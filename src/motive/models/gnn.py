"""GNN link predictors (paper Algorithm 2): per-type projection, two heterogeneous conv layers
with L2 normalisation and leaky ReLU, skip connection z = h1 + h2, dot-product decoder.

``features="cp"``: frozen profiles -> Linear -> ReLU per node type (inductive).
``features="embs"``: a learned vector per node (transductive: refuses cold splits).
A layer sums, per destination node type, one convolution per relation (PyG's HeteroConv rule).
SAGE (mean) and GIN (sum) are PyG's operators written over ``Adjacency`` (sparse products with
precomputed transposes; equal to torch_geometric's SAGEConv/GINConv, see tests). GATv2 (2 heads,
averaged) is ``attention.GATv2`` (equal to PyG's GATv2Conv, at a fraction of its time and memory);
it gets a root weight so that isolated nodes keep their own features, as the paper intends
("isolated nodes rely solely on CP features").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from motive.checks import nonnegative_float, positive_int
from motive.models.attention import GATv2
from motive.models.base import LinkModel, Relation, StageGraph, ViewInputs, distinct, model_argument


class SAGE(nn.Module):
    """x'_i = W_root x_i + W_neigh mean_{j in N(i)} x_j (PyG SAGEConv, mean aggregation)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.lin_l = nn.Linear(hidden, hidden)  # neighbours (PyG's name)
        self.lin_r = nn.Linear(hidden, hidden, bias=False)  # root

    def forward(self, x_src, x_dst, stage: StageGraph, relation: Relation, rows: torch.Tensor | None = None):
        """``rows``: only these destinations (sorted unique ids), in that order."""
        neighbours = stage.adjacency[relation].aggregate(x_src, "mean", rows)
        return self.lin_l(neighbours) + self.lin_r(x_dst if rows is None else torch.index_select(x_dst, 0, rows))


class GIN(nn.Module):
    """x'_i = MLP((1 + eps) x_i + sum_{j in N(i)} x_j) with a learned eps (PyG GINConv)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.nn = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.eps = nn.Parameter(torch.zeros(1))

    def forward(self, x_src, x_dst, stage: StageGraph, relation: Relation, rows: torch.Tensor | None = None):
        """``rows``: only these destinations (sorted unique ids), in that order."""
        own = x_dst if rows is None else torch.index_select(x_dst, 0, rows)
        return self.nn((1 + self.eps) * own + stage.adjacency[relation].aggregate(x_src, "sum", rows))


class GAT(nn.Module):
    """GATv2 (heads averaged, no self-loops across node types; equal to PyG's GATv2Conv) plus a root weight."""

    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.attention = GATv2(hidden, hidden, hidden, heads)
        self.root = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x_src, x_dst, stage: StageGraph, relation: Relation, rows: torch.Tensor | None = None):
        """``rows``: only these destinations (sorted unique ids), in that order."""
        index = stage.attention(relation)
        if rows is not None:
            index, x_dst = index.rows(rows), torch.index_select(x_dst, 0, rows)
        return self.attention(x_src, x_dst, index) + self.root(x_dst)


class HeteroLayer(nn.Module):
    def __init__(self, conv: str, relations: list[Relation], hidden: int, heads: int):
        super().__init__()
        self.relations = relations
        make = {"sage": lambda: SAGE(hidden), "gin": lambda: GIN(hidden), "gat": lambda: GAT(hidden, heads)}[conv]
        self.convs = nn.ModuleDict({"__".join(relation): make() for relation in relations})

    def forward(
        self, h: dict[str, torch.Tensor], stage: StageGraph, rows: dict[str, torch.Tensor] | None = None
    ) -> dict[str, torch.Tensor]:
        """Each node type's new embeddings; with ``rows`` only those nodes' (sorted unique ids per
        node type), in that order."""
        out: dict[str, torch.Tensor] = {}
        for relation in self.relations:
            src, _, dst = relation
            message = self.convs["__".join(relation)](
                h[src], h[dst], stage, relation, None if rows is None else rows[dst]
            )
            out[dst] = message if dst not in out else out[dst] + message
        return out


class GNN(LinkModel):
    def __init__(
        self,
        conv: str,
        features: str,
        relations: list[Relation],
        in_dims: dict[str, int],
        num_nodes: dict[str, int],
        hidden: int = 64,  # paper's search space: 64, 128, 256
        heads: int = 2,  # GATv2 heads (paper: 2)
        negative_slope: float = 0.01,  # leaky ReLU between the two layers
        view_dims: dict | None = None,  # views beside the profile: their own input layers (masked mean)
    ):
        super().__init__()
        hidden, heads = model_argument("hidden", positive_int, hidden), model_argument("heads", positive_int, heads)
        negative_slope = model_argument("negative_slope", nonnegative_float, negative_slope)
        self.conv, self.features, self.negative_slope = conv, features, negative_slope
        self.transductive = features == "embs"
        if features == "cp":
            self.project = nn.ModuleDict({t: nn.Sequential(nn.Linear(in_dims[t], hidden), nn.ReLU()) for t in in_dims})
        else:
            self.embedding = nn.ModuleDict({t: nn.Embedding(num_nodes[t], hidden) for t in num_nodes})
            for table in self.embedding.values():
                nn.init.normal_(table.weight, std=0.1)
        self.layers = nn.ModuleList(HeteroLayer(conv, relations, hidden, heads) for _ in range(2))
        self.view_inputs = ViewInputs(view_dims, hidden) if view_dims and features == "cp" else None

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Logits of (source, target) pairs. Only the pairs' own nodes are decoded, so the last
        layer computes only theirs: the same logits, and at MOTIVE scale a training batch's
        nodes are ~10% of the genes and ~30% of the compounds."""
        (sources_rows, sources_at), (targets_rows, targets_at) = (
            distinct(ids, stage.num_nodes[t]) for t, ids in (("source", sources), ("target", targets))
        )
        return self.decode(self.encode(stage, {"source": sources_rows, "target": targets_rows}), sources_at, targets_at)

    def encode(self, stage: StageGraph, rows: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Node embeddings; with ``rows`` (sorted unique ids per node type) only those nodes', in that order."""
        if self.features == "cp" and self.view_inputs is not None:
            h0 = {
                t: project[1](self.view_inputs.fuse(stage, t, project[0](stage.x[t])))
                for t, project in self.project.items()
            }
        elif self.features == "cp":
            h0 = {t: self.project[t](stage.x[t]) for t in self.project}
        else:
            ids = stage.node_ids
            h0 = {t: table.weight if ids is None else table(ids[t]) for t, table in self.embedding.items()}
        h1 = {
            t: F.leaky_relu(F.normalize(h, dim=-1), self.negative_slope) for t, h in self.layers[0](h0, stage).items()
        }
        h2 = self.layers[1](h1, stage, rows)
        return {
            t: (h1[t] if rows is None else torch.index_select(h1[t], 0, rows[t])) + F.normalize(h2[t], dim=-1)
            for t in h1
        }
