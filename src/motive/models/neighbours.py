"""A neighbour model for the cold start: kNN in every view, blended by learned weights.

A pair (q, c) scores ``sum_v w_v * (max over the nodes j known to pair with c, j != q, of
sim_v(q, j)) + b``: each view's nearest known partner of the candidate (compounds: profile cosine
and structure Tanimoto; genes: profile cosine), the views weighted by ``w`` (equal at first),
learned with the run's loss on the training supervision edges, the known partners being the
stage's visible ST edges. With one view it ranks as ``knn``. A new compound is placed by the
compounds it resembles, as a medicinal chemist would, in the blend the training edges support.
Zero-shot has no known partner and is refused."""

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


def _known_by_partner(stage: StageGraph, side: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The visible ST edges grouped by partner: the query-side nodes in partner order, and each
    partner's start and count there (kept on the stage, as ``_similarities``)."""
    key = f"neighbour-known-{side}"
    if key not in stage.cache:
        s, t = (torch.as_tensor(ends, device=stage.device) for ends in stage.edges[("source", "binds", "target")])
        query, partner = (s, t) if side == "source" else (t, s)
        order = torch.argsort(partner, stable=True)
        counts = torch.bincount(partner, minlength=stage.num_nodes["target" if side == "source" else "source"])
        stage.cache[key] = (query[order], counts.cumsum(0) - counts, counts)
    return stage.cache[key]


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

    def _known(self, stage: StageGraph) -> tuple[torch.Tensor, torch.Tensor]:
        """The visible ST edges as (query-side node, partner) tensors."""
        s, t = stage.edges[("source", "binds", "target")]
        query, partner = (s, t) if self.side == "source" else (t, s)
        device = stage.device
        return torch.as_tensor(query, device=device), torch.as_tensor(partner, device=device)

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        query, partner = (sources, targets) if self.side == "source" else (targets, sources)
        # the evidence of a pair: its partner's known nodes, never the query itself, each pair
        # walking its own partner's list (linear in those lists, not pairs x known edges)
        by_partner, starts, counts = _known_by_partner(stage, self.side)
        count = counts[partner]
        pair = torch.repeat_interleave(torch.arange(len(query), device=query.device), count)
        within = torch.arange(len(pair), device=query.device) - torch.repeat_interleave(count.cumsum(0) - count, count)
        known = by_partner[starts[partner][pair] + within]
        asked = query[pair]
        similarities = _similarities(stage, self.side)
        score = self.bias.expand(len(query))
        for weight, name in zip(self.weights, self.views, strict=True):
            values = similarities[name][asked, known].masked_fill(known == asked, float("-inf"))
            best = torch.full((len(query),), float("-inf"), device=query.device)
            best = best.scatter_reduce(0, pair, values, reduce="amax")
            score = score + weight * torch.where(torch.isfinite(best), best, torch.full_like(best, -1.0))
        return score

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
        keep = position[known_partner] >= 0
        index = position[known_partner[keep]].expand(len(rows), -1)
        similarities = _similarities(stage, self.side)
        total = self.bias.expand(len(rows), len(partners))
        for weight, name in zip(self.weights, self.views, strict=True):
            values = similarities[name][rows][:, known_query]
            values = values.masked_fill(known_query[None, :] == rows[:, None], float("-inf"))
            best = torch.full((len(rows), len(partners)), float("-inf"), device=device)
            best = best.scatter_reduce(1, index, values[:, keep], reduce="amax")
            total = total + weight * torch.where(torch.isfinite(best), best, torch.full_like(best, -1.0))
        return total.double().cpu().numpy()
