"""Parameter-free baselines: shortest path on the stage's visible graph, profile kNN, popularity."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from motive.errors import MotiveError
from motive.models.base import Heuristic, StageGraph

UNREACHABLE = -1e6  # logit for pairs with no path (worse than any finite distance)


class ShortestPath(Heuristic):
    """Score = minus the hop distance between source and target over every visible message edge
    (undirected, all node types in one graph); the paper's topology-only baseline."""

    transductive = True

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        n_s = stage.num_nodes["source"]
        offset = {"source": 0, "target": n_s}
        rows, cols = [], []
        for (src, _, dst), (a, b) in stage.edges.items():
            rows.append(a + offset[src])
            cols.append(b + offset[dst])
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        size = n_s + stage.num_nodes["target"]
        adjacency = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size)).tocsr()
        unique_sources, inverse = np.unique(sources, return_inverse=True)
        distances = shortest_path(adjacency, directed=False, unweighted=True, indices=unique_sources)
        hops = distances[inverse, np.asarray(targets) + n_s]
        return np.where(np.isfinite(hops), -hops, UNREACHABLE)


class KNN(Heuristic):
    """Profile similarity to known partners.

    Compound side (random, cold_source): score(s, t) = the highest cosine similarity between the
    compound's profile and the profiles of compounds known to hit t (stage-visible ST edges).
    Gene side (cold_target): the highest similarity between the gene's profile and the genes the
    compound is known to hit. Zero-shot has no known partner on either side and is refused.
    """

    def __init__(self, split_name: str):
        if split_name == "cold_both":
            raise MotiveError("model 'knn' cannot run on a cold_both split: neither end has known partners; use a model that reads profiles (*_cp, mlp, bilinear, cosine)")
        self.side = "target" if split_name == "cold_target" else "source"

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        known_s, known_t = stage.edges[("source", "binds", "target")]
        query, partner = (sources, targets) if self.side == "source" else (targets, sources)
        known_query, known_partner = (known_s, known_t) if self.side == "source" else (known_t, known_s)
        x = stage.x[self.side].cpu().numpy().astype(np.float64)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        scores = np.full(len(query), -1.0)
        order = np.argsort(known_partner, kind="stable")
        known_partner, known_query = known_partner[order], known_query[order]
        for p in np.unique(partner):
            pairs = np.flatnonzero(partner == p)
            lo, hi = np.searchsorted(known_partner, [p, p + 1])
            if hi > lo:
                neighbours = known_query[lo:hi]
                similarity = x[query[pairs]] @ x[neighbours].T
                # a pair never counts itself as its own evidence
                similarity[query[pairs][:, None] == neighbours[None, :]] = -1.0
                scores[pairs] = similarity.max(axis=1)
        return scores


class Popularity(Heuristic):
    """Score = the candidate's number of known partners among the stage's visible ST edges: the
    target's training degree when compounds are the queries (random, cold_source, cold_both), the
    compound's for cold_target. It knows nothing about the pair, so whatever it reaches is what
    degree bias alone buys; every held-out candidate of a cold side scores 0 (ties)."""

    def __init__(self, split_name: str):
        self.side = "source" if split_name == "cold_target" else "target"

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        known_s, known_t = stage.edges[("source", "binds", "target")]
        ends = known_s if self.side == "source" else known_t
        degree = np.bincount(ends, minlength=stage.num_nodes[self.side]).astype(np.float64)
        return degree[np.asarray(sources if self.side == "source" else targets)]
