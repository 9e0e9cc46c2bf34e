"""A learned-similarity neighbour model for the cold start: kNN with its similarity learned.

A pair (q, c) scores ``max over the nodes j known to pair with c (j != q) of  sum_v w_v * sim_v(q, j)
+ b``: the query side's views (compounds: profile cosine and structure Tanimoto; genes: profile
cosine) weighted by ``w``, learned with the loss of the run on the training supervision edges,
the known partners being the stage's visible ST edges. With one view and w = 1 it is ``knn``; it
learns how much the profile adds to the structure (or the reverse) from training pairs only, so a
new compound is placed by the compounds it resembles, as a medicinal chemist would, in the blend
the training edges support. Zero-shot has no known partner and is refused.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from motive.errors import MotiveError
from motive.models.base import LinkModel, StageGraph


def _similarities(stage: StageGraph, side: str) -> dict[str, torch.Tensor]:
    """Every view's similarity between all nodes of ``side`` (dense), and ``has``: which nodes
    have each view; computed once per stage graph (kept on it, as derived data of the stage)."""
    key = f"neighbour-similarities-{side}"
    if key not in stage.cache:
        found = {}
        masks = stage.masks.get(side, {})
        profile_mask = masks.get("profile")
        if profile_mask is None or bool(profile_mask.any()):
            x = stage.x[side].double()
            x = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
            found["profile"] = _masked(x @ x.T, profile_mask)
        if "structure" in stage.views.get(side, {}):
            bits = stage.views[side]["structure"].double()
            shared = bits @ bits.T
            union = bits.sum(1)[:, None] + bits.sum(1)[None, :] - shared
            found["structure"] = _masked(shared / union.clamp(min=1e-12), masks.get("structure"))
        stage.cache[key] = {name: value.float() for name, value in found.items()}
    return stage.cache[key]


def _masked(similarity: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Similarities with a node that lacks the view set to 0 (no evidence either way)."""
    if mask is None:
        return similarity
    keep = mask[:, None] & mask[None, :]
    return torch.where(keep, similarity, torch.zeros_like(similarity))


class Neighbours(LinkModel):
    """Learned-similarity neighbours (see the module docstring)."""

    def __init__(self, stage: StageGraph, split_name: str):
        super().__init__()
        if split_name == "cold_both":
            raise MotiveError("model 'neighbours' cannot run on a cold_both split: neither end has known partners")
        self.side = "target" if split_name == "cold_target" else "source"
        self.views = sorted(_similarities(stage, self.side))
        self.weights = nn.Parameter(torch.ones(len(self.views)))
        self.bias = nn.Parameter(torch.zeros(()))

    def _combined(self, stage: StageGraph, rows: torch.Tensor) -> torch.Tensor:
        similarities = _similarities(stage, self.side)
        return sum(self.weights[i] * similarities[name][rows] for i, name in enumerate(self.views))

    def _known(self, stage: StageGraph) -> tuple[torch.Tensor, torch.Tensor]:
        """The visible ST edges as (query-side node, partner) tensors."""
        s, t = stage.edges[("source", "binds", "target")]
        query, partner = (s, t) if self.side == "source" else (t, s)
        device = stage.device
        return torch.as_tensor(query, device=device), torch.as_tensor(partner, device=device)

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        query, partner = (sources, targets) if self.side == "source" else (targets, sources)
        known_query, known_partner = self._known(stage)
        combined = self._combined(stage, query)  # (pairs, nodes of the query side)
        # the evidence of a pair: its partner's known nodes, never the query itself
        hits = (known_partner[None, :] == partner[:, None]) & (known_query[None, :] != query[:, None])
        values = combined[:, known_query].masked_fill(~hits, float("-inf"))
        best = values.max(dim=1).values
        return torch.where(torch.isfinite(best), best, torch.full_like(best, -10.0)) + self.bias

    @torch.no_grad()
    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        self.eval()
        device = stage.device
        scores = [
            self(
                stage,
                torch.as_tensor(sources[i : i + 4096], device=device),
                torch.as_tensor(targets[i : i + 4096], device=device),
            )
            for i in range(0, len(sources), 4096)
        ]  # chunks: a (pairs x known edges) mask per chunk
        return torch.cat(scores).double().cpu().numpy() if scores else np.zeros(0)

    @torch.no_grad()
    def score_blocks(
        self, stage: StageGraph, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 256
    ):
        """Every query against every candidate, a block of queries at a time; a pair's score is
        the maximum over its partner's known nodes (a scatter-max over the visible edges)."""
        self.eval()
        for start in range(0, len(queries), block):
            rows = queries[start : start + block]
            if query_side == self.side:
                yield start, self._matrix(stage, rows, candidates)
            else:
                yield start, self._matrix(stage, candidates, rows).T

    def _matrix(self, stage: StageGraph, nodes: np.ndarray, partners: np.ndarray) -> np.ndarray:
        """Scores of every (node of the query side, partner) combination."""
        known_query, known_partner = self._known(stage)
        device = stage.device
        n_partners = stage.num_nodes["target" if self.side == "source" else "source"]
        position = torch.full((n_partners,), -1, dtype=torch.long, device=device)
        position[torch.as_tensor(partners, device=device)] = torch.arange(len(partners), device=device)
        rows = torch.as_tensor(nodes, device=device)
        values = self._combined(stage, rows)[:, known_query]
        values = values.masked_fill(known_query[None, :] == rows[:, None], float("-inf"))
        keep = position[known_partner] >= 0
        matrix = torch.full((len(rows), len(partners)), float("-inf"), device=device)
        index = position[known_partner[keep]].expand(len(rows), -1)
        matrix = matrix.scatter_reduce(1, index, values[:, keep], reduce="amax")
        matrix = torch.where(torch.isfinite(matrix), matrix, torch.full_like(matrix, -10.0)) + self.bias
        return matrix.double().cpu().numpy()
