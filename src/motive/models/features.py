"""Feature-only link predictors: they ignore the graph (paper's MLP and Bilinear, plus cosine)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from motive.checks import positive_int
from motive.models.base import LinkModel, StageGraph, ViewInputs, distinct, model_argument
from motive.models.products import Products


def rows_only(model: LinkModel, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The logits of (source, target) pairs, the per-node towers applied to the pairs' own nodes
    only (``model.towers_of(stage, node_type, rows)``), not to every node of the stage, then
    ``model.decode_distinct`` (``decode`` on embeddings with one row per distinct node): the same
    logits for a cheaper training epoch (``benchmarks/epoch_speed.py``). Gradients
    sum over fewer rows, so a run's weights agree with encoding every node to rounding, not to
    the bit."""
    rows_s, at_s = distinct(sources, stage.num_nodes["source"])
    rows_t, at_t = distinct(targets, stage.num_nodes["target"])
    z = {"source": model.towers_of(stage, "source", rows_s), "target": model.towers_of(stage, "target", rows_t)}
    return model.decode_distinct(z, at_s, at_t)  # z: one row per distinct node


def bilinear_pairs(
    head: nn.Bilinear, left: torch.Tensor, right: torch.Tensor, sources: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """``head`` (one output) on the pairs (left[sources], right[targets]): x_s^T W x_t as one
    product per distinct source (x_s W) and a row-wise dot. torch's ``bilinear`` makes a (pairs x
    d_s x d_t) product outside a GEMM, most of an mlp training epoch at MOTIVE scale
    (``benchmarks/epoch_speed.py``)."""
    rows, at = distinct(sources, len(left))
    return bilinear_of_distinct(head, left[rows], right, at, targets)


def bilinear_of_distinct(
    head: nn.Bilinear, rows: torch.Tensor, right: torch.Tensor, at: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """``bilinear_pairs`` when the left rows are already one per distinct source (``at``: each
    pair's row there), as ``rows_only`` makes them: no second ``unique`` and copy."""
    projected = rows @ head.weight[0]
    return (projected[at] * right[targets]).sum(-1) + head.bias


def bilinear_matrix(head: nn.Bilinear, products: Products, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """``head`` (one output) applied to every (left row, right row) combination: (left W) right^T
    as two ``products``."""
    return products(products(left, head.weight[0].T), right).add_(head.bias)  # in place: no second matrix


class MLP(LinkModel):
    """Two dense layers per node type, then a bilinear head (paper Section 3.6). With views
    beside the profile (``view_dims``), each view has its own first layer and a node's first
    layer is the masked mean of those of the views it has."""

    def __init__(self, in_dims: dict[str, int], hidden: int = 64, view_dims: dict | None = None):
        super().__init__()
        hidden = model_argument("hidden", positive_int, hidden)
        self.towers = nn.ModuleDict(
            {
                t: nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
                for t, d in in_dims.items()
            }
        )
        self.head = nn.Bilinear(hidden, hidden, 1)
        self.products = Products()
        self.view_inputs = ViewInputs(view_dims, hidden) if view_dims else None

    def encode(self, stage: StageGraph) -> dict[str, torch.Tensor]:
        if self.view_inputs is None:
            return {t: tower(stage.x[t]) for t, tower in self.towers.items()}
        return {t: tower[1:](self.view_inputs.fuse(stage, t, tower[0](stage.x[t]))) for t, tower in self.towers.items()}

    def towers_of(self, stage: StageGraph, node_type: str, rows: torch.Tensor) -> torch.Tensor:
        return self.towers[node_type](stage.x[node_type][rows])

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.view_inputs is not None:  # views fuse per stage: every node
            return super().forward(stage, sources, targets)
        return rows_only(self, stage, sources, targets)

    def decode(self, z, sources, targets):
        return bilinear_pairs(self.head, z["source"], z["target"], sources, targets)

    def decode_distinct(self, z, sources, targets):
        return bilinear_of_distinct(self.head, z["source"], z["target"], sources, targets)

    def decode_matrix(self, z, sources, targets):
        return bilinear_matrix(self.head, self.products, z["source"][sources], z["target"][targets])


class Bilinear(LinkModel):
    """y = x_s^T W x_t on the raw profiles."""

    def __init__(self, in_dims: dict[str, int]):
        super().__init__()
        self.head = nn.Bilinear(in_dims["source"], in_dims["target"], 1)
        self.products = Products()

    def encode(self, stage: StageGraph) -> dict[str, torch.Tensor]:
        return stage.x

    def decode(self, z, sources, targets):
        return bilinear_pairs(self.head, z["source"], z["target"], sources, targets)

    def decode_matrix(self, z, sources, targets):
        return bilinear_matrix(self.head, self.products, z["source"][sources], z["target"][targets])


class Cosine(LinkModel):
    """Cosine similarity of learned linear projections into a shared space, with a learned scale."""

    def __init__(self, in_dims: dict[str, int], hidden: int = 64):
        super().__init__()
        hidden = model_argument("hidden", positive_int, hidden)
        self.project = nn.ModuleDict({t: nn.Linear(d, hidden, bias=False) for t, d in in_dims.items()})
        self.scale = nn.Parameter(torch.tensor(5.0))
        self.bias = nn.Parameter(torch.tensor(0.0))
        self.products = Products()

    def encode(self, stage: StageGraph) -> dict[str, torch.Tensor]:
        return {t: F.normalize(layer(stage.x[t]), dim=-1) for t, layer in self.project.items()}

    def towers_of(self, stage: StageGraph, node_type: str, rows: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.project[node_type](stage.x[node_type][rows]), dim=-1)

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return rows_only(self, stage, sources, targets)

    def decode(self, z, sources, targets):
        return self.scale * (z["source"][sources] * z["target"][targets]).sum(-1) + self.bias

    decode_distinct = decode  # ``rows_only``'s: a row-wise dot needs no distinct sources

    def decode_matrix(self, z, sources, targets):
        return self.scale * self.products(z["source"][sources], z["target"][targets]) + self.bias
