"""What every model sees: a stage's graph (features + message-passing adjacency) and pairs to score.

A ``StageGraph`` is built from a split for one stage, so a model can only use what that stage
may see. Trainable models are ``torch.nn.Module``s with ``encode`` (node embeddings) and
``decode`` (pair logits); heuristics score pairs directly and have no parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from motive.data.graph import Graph
from motive.errors import MotiveError
from motive.models.attention import AttentionIndex
from motive.models.sparse import Adjacency
from motive.names import STAGES
from motive.splits import Split

Relation = tuple[str, str, str]


def distinct(ids: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.unique(ids, return_inverse=True)`` of node ids in [0, size), the same tensors, from
    a mask of the ids present and its running count instead of a sort."""
    present = torch.zeros(size, dtype=torch.bool, device=ids.device).index_fill_(0, ids, True)
    return present.nonzero().squeeze(1), (torch.cumsum(present, 0) - 1)[ids]


@dataclass
class StageGraph:
    stage: str
    split_name: str
    x: dict[str, torch.Tensor]  # frozen profile features per node type
    num_nodes: dict[str, int]
    edges: dict[Relation, tuple[np.ndarray, np.ndarray]]  # directed message edges (both ways)
    adjacency: dict[Relation, Adjacency]  # sparse sum/mean aggregation, both directions precomputed
    node_ids: dict[str, torch.Tensor] | None = None  # global ids of a sampled subgraph's nodes
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _attention: dict[Relation, AttentionIndex] = field(default_factory=dict, repr=False)
    # Views beside the profile (motive.data.views): node type -> view name -> features, and which nodes
    # have it; the profile is ``x`` (``masks[t]["profile"]`` says which nodes have one).
    views: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    masks: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)  # what is derived once per stage graph (graph and split)
    side_edges: bool = False  # same-type edges of held-out nodes shown (``Split.message_mask``)

    @classmethod
    def from_edges(
        cls,
        stage: str,
        split_name: str,
        x: dict[str, torch.Tensor],
        edges,
        node_ids=None,
        views=None,
        masks=None,
        side_edges: bool = False,
    ) -> StageGraph:
        num_nodes = {t: len(features) for t, features in x.items()}
        adjacency = {
            (src, rel, dst): Adjacency.from_edges(a, b, num_nodes[src], num_nodes[dst])
            for (src, rel, dst), (a, b) in edges.items()
        }
        graph = cls(stage, split_name, x, num_nodes, edges, adjacency, node_ids)
        graph.views, graph.masks, graph.side_edges = views or {}, masks or {}, side_edges
        return graph

    @classmethod
    def build(
        cls,
        graph: Graph,
        split: Split,
        stage: str,
        views: dict | None = None,
        links: tuple | None = None,
        side_edges: bool = False,
    ) -> StageGraph:
        """The stage's graph: profiles, ``views`` (side -> view -> (matrix, mask), from
        ``motive.data.views.node_views``) and the stage's visible message edges (``side_edges``: with
        every same-type edge between nodes it may see, ``Split.message_mask``), plus with ``links
        = (view, k, matrix, mask)`` the compound-compound similarity links of the nodes the stage
        may see."""
        # Shares memory with the graph's arrays (models never write features), so stages cost no copies.
        x = {"source": torch.as_tensor(graph.sources.x), "target": torch.as_tensor(graph.targets.x)}
        edges = split.message_passing(graph, stage, side_edges)
        extra, masks = {t: {} for t in x}, {t: {} for t in x}
        for side, named in (views or {}).items():
            for name, (matrix, mask) in named.items():
                masks[side][name] = torch.as_tensor(mask)
                if matrix is not None:  # the profile is x; a view of None only masks it out
                    extra[side][name] = torch.as_tensor(matrix)
        if links is not None:
            from motive.data.views import similarity_links

            view, k, matrix, mask = links
            visible = split.node_stage["source"] <= STAGES.index(stage)
            edges[("source", f"similar_{view}", "source")] = similarity_links(view, matrix, mask, visible, k)
        if not any(extra.values()) and not any(masks.values()):
            extra, masks = {}, {}
        return cls.from_edges(stage, split.config.split, x, edges, views=extra, masks=masks, side_edges=side_edges)

    def attention(self, relation: Relation) -> AttentionIndex:
        """Destination-sorted edge layout for attention convolutions, built on first use."""
        if relation not in self._attention:
            a, b = self.edges[relation]
            self._attention[relation] = AttentionIndex.from_edges(
                a, b, self.num_nodes[relation[0]], self.num_nodes[relation[2]]
            ).to(self.device)
        return self._attention[relation]

    def to(self, device: torch.device) -> StageGraph:
        """The same stage with every tensor on ``device`` (moved once, before training)."""
        if device == self.device:
            return self
        return StageGraph(
            self.stage,
            self.split_name,
            {t: x.to(device) for t, x in self.x.items()},
            self.num_nodes,
            self.edges,
            {relation: adjacency.to(device) for relation, adjacency in self.adjacency.items()},
            None if self.node_ids is None else {t: ids.to(device) for t, ids in self.node_ids.items()},
            device,
            {relation: index.to(device) for relation, index in self._attention.items()},
            {t: {name: v.to(device) for name, v in named.items()} for t, named in self.views.items()},
            {t: {name: m.to(device) for name, m in named.items()} for t, named in self.masks.items()},
            side_edges=self.side_edges,
        )


class LinkModel(nn.Module):
    """A trainable link predictor: embeddings per node type, a logit per (source, target) pair."""

    trainable = True
    transductive = False  # True: learns one vector per node, so it cannot score unseen nodes

    def encode(self, stage: StageGraph) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def decode(self, z: dict[str, torch.Tensor], sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (z["source"][sources] * z["target"][targets]).sum(-1)

    def decode_matrix(self, z: dict[str, torch.Tensor], sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Logits of every (source, target) combination, (len(sources), len(targets)); equal to
        ``decode`` on the Cartesian pairs, as one matrix product where the decoder allows."""
        return z["source"][sources] @ z["target"][targets].T

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(stage), sources, targets)

    @torch.no_grad()
    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        self.eval()
        device = stage.device
        return (
            self(stage, torch.as_tensor(sources, device=device), torch.as_tensor(targets, device=device))
            .double()
            .cpu()
            .numpy()
        )

    @torch.no_grad()
    def score_blocks(
        self, stage: StageGraph, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 512
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Scores of every query against every candidate, a block of queries at a time:
        (first query's position, (block, len(candidates)) matrix in the model's float dtype,
        float32 unless it computes in float64). Encodes once."""
        self.eval()
        z = self.encode(stage)
        device = stage.device
        candidates_t = torch.as_tensor(candidates, device=device)
        for start in range(0, len(queries), block):
            rows = torch.as_tensor(queries[start : start + block], device=device)
            matrix = (
                self.decode_matrix(z, rows, candidates_t)
                if query_side == "source"
                else self.decode_matrix(z, candidates_t, rows).T
            )
            yield start, np.ascontiguousarray(matrix.cpu().numpy())  # a row per query


class Heuristic:
    """A parameter-free scorer. Taken to be seed-free (``seeded = False``: a grid runs it once per
    split); a subclass that draws random numbers says ``seeded = True``."""

    trainable = False
    transductive = False
    seeded = False

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_blocks(
        self, stage: StageGraph, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 64
    ) -> Iterator[tuple[int, np.ndarray]]:
        """As ``LinkModel.score_blocks``, through ``score`` on the Cartesian pairs."""
        for start in range(0, len(queries), block):
            rows = queries[start : start + block]
            pairs = (np.repeat(rows, len(candidates)), np.tile(candidates, len(rows)))
            sources, targets = pairs if query_side == "source" else pairs[::-1]
            yield start, self.score(stage, sources, targets).reshape(len(rows), len(candidates))


def model_argument(name: str, check: Callable[[Any], Any], value: Any) -> Any:
    """A model's keyword argument checked by ``check`` (from ``motive.checks``), or one line naming
    it: ``model argument 'hidden' must be a positive integer, got 0``. For plugin authors too."""
    try:
        return check(value)
    except MotiveError as error:
        raise MotiveError(f"model argument {name!r} {error}") from None


def refuse_cold(name: str, split_name: str, why: str) -> None:
    raise MotiveError(
        f"model {name!r} cannot run on a {split_name} split: {why}; use a model that reads profiles (*_cp, mlp, "
        "bilinear, cosine)"
    )


class ViewInputs(nn.Module):
    """The first layer of every view beside the profile (one linear map per node type and view),
    fused with the profile's by a masked mean: a node missing a view averages the views it has.
    Without extra views a model computes exactly what it did before views existed."""

    def __init__(self, view_dims: dict[str, dict[str, int]], width: int):
        super().__init__()
        self.maps = nn.ModuleDict(
            {f"{t}__{name}": nn.Linear(dim, width) for t, named in view_dims.items() for name, dim in named.items()}
        )

    def fuse(self, stage: StageGraph, node_type: str, profile_part: torch.Tensor) -> torch.Tensor:
        masks = stage.masks.get(node_type, {})
        names = [name for name in stage.views.get(node_type, {}) if f"{node_type}__{name}" in self.maps]
        if not names and "profile" not in masks:
            return profile_part
        present = masks.get("profile", torch.ones(len(profile_part), dtype=torch.bool, device=profile_part.device))
        total = profile_part * present[:, None]
        count = present.float()
        for name in names:
            mask = masks[name]
            total = total + self.maps[f"{node_type}__{name}"](stage.views[node_type][name]) * mask[:, None]
            count = count + mask.float()
        return total / count.clamp(min=1.0)[:, None]


def view_dims(stage: StageGraph) -> dict[str, dict[str, int]]:
    """The widths of a stage's views beside the profile, per node type."""
    return {t: {name: v.shape[1] for name, v in named.items()} for t, named in stage.views.items() if named}
