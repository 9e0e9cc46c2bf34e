"""Parameter-free baselines: shortest path on the stage's visible graph, profile kNN, popularity."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from motive.errors import MotiveError
from motive.models.base import Heuristic, StageGraph

UNREACHABLE = -1e6  # logit for pairs with no path (worse than any finite distance)


class ShortestPath(Heuristic):
    """Score = minus the hop distance between source and target over every visible message edge
    (undirected, all node types in one graph); the paper's topology-only baseline."""

    transductive = True

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        n_s = stage.num_nodes["source"]
        if "shortest_path" not in stage.cache:  # the stage's undirected graph, built once
            offset = {"source": 0, "target": n_s}
            rows, cols = [], []
            for (src, _, dst), (a, b) in stage.edges.items():
                rows += [a + offset[src], b + offset[dst]]
                cols += [b + offset[dst], a + offset[src]]
            size = n_s + stage.num_nodes["target"]
            rows, cols = np.concatenate(rows or [[]]).astype(np.int64), np.concatenate(cols or [[]]).astype(np.int64)
            adjacency = csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(size, size))
            stage.cache["shortest_path"] = (adjacency.indptr.astype(np.int64), adjacency.indices.astype(np.int64))
        from motive.models.hops import hop_distances  # numba: loaded when a shortest path is asked for

        pointer, neighbours = stage.cache["shortest_path"]
        hops = hop_distances(pointer, neighbours, sources, np.asarray(targets) + n_s)
        return np.where(hops >= 0, -hops.astype(np.float64), UNREACHABLE)


class KNN(Heuristic):
    """Similarity to known partners, in one view: the profile (cosine, ``knn``) or the compound
    structure (Tanimoto of Morgan bits, ``knn_structure``: the similarity principle behind SEA).

    Compound side (random, cold_source): score(s, t) = the highest cosine similarity between the
    compound's profile and the profiles of compounds known to hit t (stage-visible ST edges).
    Gene side (cold_target): the highest similarity between the gene's profile and the genes the
    compound is known to hit. Zero-shot has no known partner on either side and is refused.

    A pair's score does not depend on what it is scored with: the similarities of a query are
    one row of a matrix product whose shape is fixed for the stage (a fixed chunk of node ids
    against every node with a known partner), and a score is the maximum of entries read from it.
    So equal evidence gives bit-equal scores, and exact ties stay ties in the full ranking.
    """

    CHUNK = 256  # query rows per similarity product; a constant, so the product's shape never varies

    def __init__(self, split_name: str, view: str = "profile"):
        if split_name == "cold_both":
            raise MotiveError(
                "model 'knn' cannot run on a cold_both split: neither end has known partners; use a model that reads "
                "profiles (*_cp, mlp, bilinear, cosine)"
            )
        self.side = "target" if split_name == "cold_target" else "source"
        self.view = view

    def _features(self, stage: StageGraph) -> tuple[np.ndarray, np.ndarray]:
        """The query side's view (rows normalised for cosine) and which nodes have it."""
        if self.view == "profile":
            x = stage.x[self.side].cpu().numpy().astype(np.float64)
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        else:
            if self.view not in stage.views.get(self.side, {}):
                raise MotiveError(
                    f"knn on the {self.view} view: the run's stage has no {self.side} {self.view} view; add it to views"
                )
            x = stage.views[self.side][self.view].cpu().numpy().astype(np.float64)
        mask = stage.masks.get(self.side, {}).get(self.view)
        return x, np.ones(len(x), bool) if mask is None else mask.cpu().numpy()

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        known_s, known_t = stage.edges[("source", "binds", "target")]
        sources, targets = np.asarray(sources, np.int64), np.asarray(targets, np.int64)
        query, partner = (sources, targets) if self.side == "source" else (targets, sources)
        known_query, known_partner = (known_s, known_t) if self.side == "source" else (known_t, known_s)
        scores = np.full(len(query), -1.0)
        if len(known_query) == 0 or len(query) == 0:
            return scores
        x, has_view = self._features(stage)
        evidence = np.unique(known_query)  # every node with a known partner: the columns of the product
        column = np.full(len(x), -1, np.int64)
        column[evidence] = np.arange(len(evidence))
        evidence_x = np.ascontiguousarray(x[evidence].T)
        order = np.argsort(known_partner, kind="stable")
        known_partner, known_query = known_partner[order], known_query[order]
        other = "source" if self.side == "target" else "target"
        pointer = np.searchsorted(known_partner, np.arange(stage.num_nodes[other] + 1))
        chunk_of = query // self.CHUNK
        for chunk in np.unique(chunk_of):
            pairs = np.flatnonzero(chunk_of == chunk)
            first = chunk * self.CHUNK
            rows = np.zeros((self.CHUNK, x.shape[1]))
            rows[: min(self.CHUNK, len(x) - first)] = x[first : first + self.CHUNK]
            similarity = rows @ evidence_x  # (CHUNK, len(evidence)), the same product whoever asks
            if self.view == "structure":  # Tanimoto: shared bits over the union of bits
                bits = rows.sum(1)[:, None] + evidence_x.sum(0)[None, :]
                similarity = similarity / np.maximum(bits - similarity, 1e-12)
            similarity[:, ~has_view[evidence]] = -1.0  # a node without the view is no evidence
            lo, count = pointer[partner[pairs]], pointer[partner[pairs] + 1] - pointer[partner[pairs]]
            has = count > 0
            pairs, lo, count = pairs[has], lo[has], count[has]
            if len(pairs) == 0:
                continue
            starts = np.cumsum(count) - count
            pair_of_edge = np.repeat(np.arange(len(pairs)), count)
            edge = np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(starts, count)
            neighbour = known_query[edge]
            values = similarity[query[pairs][pair_of_edge] - first, column[neighbour]]
            values[neighbour == query[pairs][pair_of_edge]] = -1.0  # a pair never counts itself as its own evidence
            values[~has_view[query[pairs][pair_of_edge]]] = -1.0  # a query without the view has no evidence
            scores[pairs] = np.maximum.reduceat(values, starts)
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
