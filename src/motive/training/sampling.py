"""Neighbour-sampled training batches without compiled extensions (``mode="neighbor"``): the
2-hop subgraph around a batch of pairs over a stage's visible message edges, for the training loop.
"""

from __future__ import annotations

import numpy as np
import torch

from motive.models import StageGraph


class NeighborBatches:
    """Neighbour-sampled mini-batches without compiled extensions: for a batch of pairs, sample up
    to ``fanouts[h]`` incoming neighbours per node and hop over the stage's message edges, and run
    the model on the induced 2-hop subgraph (embedding tables are sliced to its nodes)."""

    def __init__(self, stage: StageGraph, fanouts: tuple[int, int]):
        self.stage, self.fanouts = stage, fanouts
        self.incoming = {}
        for relation, (a, b) in stage.edges.items():
            order = np.argsort(b, kind="stable")
            pointer = np.searchsorted(b[order], np.arange(stage.num_nodes[relation[2]] + 1))
            self.incoming[relation] = (pointer, a[order])

    def _sample(self, nodes: dict[str, np.ndarray], fanout: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Add up to ``fanout`` random incoming neighbours per node and relation (all if -1), vectorised."""
        found = {t: [v] for t, v in nodes.items()}
        for (src, _, dst), (pointer, neighbours) in self.incoming.items():
            starts = pointer[nodes[dst]]
            counts = pointer[nodes[dst] + 1] - starts
            total = int(counts.sum())
            if total == 0:
                continue
            segment = np.repeat(np.arange(len(starts)), counts)
            offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)  # position within its node
            positions = np.repeat(starts, counts) + offset
            if fanout >= 0:
                order = np.lexsort((rng.random(total), segment))  # shuffle within each node's neighbours
                rank = np.empty(total, np.int64)
                rank[order] = offset
                positions = positions[rank < fanout]
            found[src].append(neighbours[positions])
        return {t: np.unique(np.concatenate(v)) for t, v in found.items()}

    def subgraph(
        self, sources: np.ndarray, targets: np.ndarray, rng: np.random.Generator
    ) -> tuple[StageGraph, dict[str, np.ndarray]]:
        nodes = {"source": np.unique(sources), "target": np.unique(targets)}
        for fanout in self.fanouts:
            nodes = self._sample(nodes, fanout, rng)
        local = {t: np.full(self.stage.num_nodes[t], -1, np.int64) for t in nodes}
        for t, ids in nodes.items():
            local[t][ids] = np.arange(len(ids))
        edges = {}
        for relation, (a, b) in self.stage.edges.items():
            keep = (local[relation[0]][a] >= 0) & (local[relation[2]][b] >= 0)
            edges[relation] = (local[relation[0]][a[keep]], local[relation[2]][b[keep]])
        device = self.stage.device
        x = {t: self.stage.x[t][torch.as_tensor(ids, device=device)] for t, ids in nodes.items()}
        node_ids = {t: torch.as_tensor(ids, device=device) for t, ids in nodes.items()}
        sub = StageGraph.from_edges(
            self.stage.stage, self.stage.split_name, x, edges, node_ids, side_edges=self.stage.side_edges
        )
        return sub.to(device), nodes

    def forward(self, model, sources: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        sub, nodes = self.subgraph(sources, targets, rng)
        z = model.encode(sub)
        local_s = np.searchsorted(nodes["source"], sources)
        local_t = np.searchsorted(nodes["target"], targets)
        return model.decode(z, torch.as_tensor(local_s, device=sub.device), torch.as_tensor(local_t, device=sub.device))
