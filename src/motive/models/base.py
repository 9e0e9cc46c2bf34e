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

from motive.errors import MotiveError
from motive.graph import Graph
from motive.models.attention import AttentionIndex
from motive.models.sparse import Adjacency
from motive.splits import Split

Relation = tuple[str, str, str]


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

    @classmethod
    def from_edges(cls, stage: str, split_name: str, x: dict[str, torch.Tensor], edges, node_ids=None) -> StageGraph:
        num_nodes = {t: len(features) for t, features in x.items()}
        adjacency = {
            (src, rel, dst): Adjacency.from_edges(a, b, num_nodes[src], num_nodes[dst])
            for (src, rel, dst), (a, b) in edges.items()
        }
        return cls(stage, split_name, x, num_nodes, edges, adjacency, node_ids)

    @classmethod
    def build(cls, graph: Graph, split: Split, stage: str) -> StageGraph:
        # Shares memory with the graph's arrays (models never write features), so stages cost no copies.
        x = {"source": torch.as_tensor(graph.sources.x), "target": torch.as_tensor(graph.targets.x)}
        return cls.from_edges(stage, split.config.split, x, split.message_passing(graph, stage))

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
        (first query's position, (block, len(candidates)) float64 matrix). Encodes once."""
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
            yield start, matrix.double().cpu().numpy()


class Heuristic:
    """A parameter-free scorer."""

    trainable = False
    transductive = False

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
