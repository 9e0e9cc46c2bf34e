"""Network heuristics: typed path counts over the stage's visible edges (compound-gene known
pairs, compound-compound similarity, gene-gene interactions). Parameter-free and seed-free; what
a pair's score reads is only what its stage may see, so `predict` applies the same rule to a
new node joined by its edges.

- ``gene_neighbours``: how many of the gene's visible interaction partners the compound is known
  to hit (paths compound-gene-gene); ``gene_neighbours_ra`` weights each path by one over the
  middle gene's visible degree (resource allocation, Zhou et al. 2009).
- ``compound_neighbours``: how many compounds similar to the compound (the graph's
  compound-compound edges) are known to hit the gene (compound-compound-gene);
  ``compound_neighbours_ra`` likewise weighted by the middle compound's degree.
- ``network_paths``: the typed paths of length two and three together, each further hop damped
  by ``DAMPING`` (a Katz-like sum): compound-gene-gene + compound-compound-gene + DAMPING x
  compound-compound-gene-gene. The three-hop term is what reaches a pair whose ends both lack
  known partners (cold_both).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.sparse import csr_matrix, diags

from motive.errors import MotiveError
from motive.models.base import Heuristic, StageGraph

BINDS = ("source", "binds", "target")
SIMILAR = ("source", "similar", "source")
INTERACTS = ("target", "interacts", "target")
DAMPING = 0.1  # a three-hop path counts a tenth of a two-hop one (Katz's beta, fixed: nothing is tuned)

# kind -> (the relations it needs, the splits it cannot score and why). A path through a node's
# own known partners is empty for a held-out node: gene-side paths need the compound's partners,
# compound-side paths the gene's; only the three-hop path starts and ends on same-type edges.
NO_COMPOUND = "a held-out compound has no known gene to start a path from"
NO_GENE = "a held-out gene has no known compound to end a path at"
KINDS = {
    "gene_neighbours": ((INTERACTS,), ("cold_source", "cold_both"), NO_COMPOUND),
    "gene_neighbours_ra": ((INTERACTS,), ("cold_source", "cold_both"), NO_COMPOUND),
    "compound_neighbours": ((SIMILAR,), ("cold_target", "cold_both"), NO_GENE),
    "compound_neighbours_ra": ((SIMILAR,), ("cold_target", "cold_both"), NO_GENE),
    "network_paths": ((SIMILAR, INTERACTS), (), ""),
}


def refusal(kind: str):
    """The registry's ``refuses`` for a kind: split name -> why it cannot score it, or None."""
    _, splits, why = KINDS[kind]
    return lambda split_name: why if split_name in splits else None


class NetworkPaths(Heuristic):
    """Score = the number (or degree-weighted number) of typed paths between the pair over the
    stage's visible edges; see the module docstring for each kind. Exact: integer path counts in
    float64, a pair's score the same whatever it is scored with."""

    def __init__(self, stage: StageGraph, kind: str):
        if kind not in KINDS:
            raise MotiveError(f"unknown network heuristic {kind!r}; expected one of {', '.join(KINDS)}")
        missing = [relation[1] for relation in KINDS[kind][0] if relation not in stage.edges]
        if missing:
            raise MotiveError(
                f"model {kind!r} needs the graph's {missing[0]} edges, which this graph type lacks; use st_expanded "
                f"({'s' if missing[0] == 'similar' else 't'}_expanded has them too)"
            )
        if stage.split_name != "random" and not stage.side_edges:
            raise MotiveError(
                f"model {kind!r} on {stage.split_name}: under the official visibility a held-out node's same-type "
                "edges are hidden at its stage, so it has no path; pass --side-edges (side_edges=True in Python: "
                "its interactions and similar compounds are known before its links)"
            )
        self.kind = kind

    def _matrices(self, stage: StageGraph) -> tuple[csr_matrix, csr_matrix, csr_matrix]:
        """The stage's compound x gene known pairs, compound x compound and gene x gene adjacency
        (0/1, duplicates merged), built once per stage graph."""
        key = "network_paths"
        if key not in stage.cache:
            n_s, n_t = stage.num_nodes["source"], stage.num_nodes["target"]
            stage.cache[key] = (
                adjacency(stage.edges[BINDS], n_s, n_t),
                adjacency(stage.edges.get(SIMILAR, no_edges()), n_s, n_s),
                adjacency(stage.edges.get(INTERACTS, no_edges()), n_t, n_t),
            )
        return stage.cache[key]

    def _block(self, stage: StageGraph, sources: np.ndarray | None, targets: np.ndarray | None) -> np.ndarray:
        """The dense scores of ``sources`` x ``targets`` (None: all of that side). Every entry is a
        sum over the same middle nodes in the same order whichever rows and columns are asked for,
        so a pair gets the same bits alone, in a batch and in the full ranking."""
        known, similar, interacts = self._matrices(stage)

        def rows(matrix):
            return matrix if sources is None else matrix[sources]

        def columns(matrix):
            return matrix if targets is None else matrix[:, targets]

        if self.kind == "gene_neighbours":
            block = rows(known) @ columns(interacts)
        elif self.kind == "gene_neighbours_ra":
            block = rows(known) @ diags(inverse(known.sum(0).A1 + interacts.sum(0).A1)) @ columns(interacts)
        elif self.kind == "compound_neighbours":
            block = rows(similar) @ columns(known)
        elif self.kind == "compound_neighbours_ra":
            block = rows(similar) @ diags(inverse(known.sum(1).A1 + similar.sum(1).A1)) @ columns(known)
        else:  # path counts are integers, exact in any association
            three = rows(similar) @ (known @ columns(interacts))
            block = rows(known) @ columns(interacts) + rows(similar) @ columns(known) + DAMPING * three
        return np.asarray(block.todense(), np.float64)

    def score(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        sources, targets = np.asarray(sources, np.int64), np.asarray(targets, np.int64)
        distinct, row = np.unique(sources, return_inverse=True)
        scores = np.empty(len(sources))
        for start in range(0, len(distinct), 1024):  # bounded blocks of rows
            chosen = (row >= start) & (row < start + 1024)
            block = self._block(stage, distinct[start : start + 1024], None)
            scores[chosen] = block[row[chosen] - start, targets[chosen]]
        return scores

    def score_blocks(
        self, stage: StageGraph, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 1024
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Blocks of queries x candidates straight from the sparse path products."""
        queries, candidates = np.asarray(queries, np.int64), np.asarray(candidates, np.int64)
        for start in range(0, len(queries), block):
            chosen = queries[start : start + block]
            if query_side == "source":
                yield start, self._block(stage, chosen, candidates)
            else:  # genes as queries: their columns, transposed
                yield start, self._block(stage, candidates, chosen).T


def no_edges() -> tuple[np.ndarray, np.ndarray]:
    """An empty edge list (a graph type without that relation)."""
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


def adjacency(edges: tuple[np.ndarray, np.ndarray], rows: int, columns: int) -> csr_matrix:
    """The 0/1 sparse matrix of a directed edge list (a duplicated edge is one edge)."""
    a, b = (np.asarray(e, np.int64) for e in edges)
    matrix = csr_matrix((np.ones(len(a)), (a, b)), shape=(rows, columns))
    matrix.data[:] = 1.0  # a duplicated edge is one edge
    return matrix


def inverse(degree: np.ndarray) -> np.ndarray:
    """1 / degree, 0 where the degree is 0 (resource-allocation weights)."""
    return np.divide(1.0, degree, out=np.zeros(len(degree)), where=degree > 0)
