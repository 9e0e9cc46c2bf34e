"""A learned ranker over pair evidence: the network heuristics and the lookups as features of a
pair, combined by a small network trained on the training supervision edges.

A pair (compound c, gene g) is described by what its stage shows about it:

- path counts over the visible edges (``motive.models.network``): genes interacting with g that c
  is known to hit, compounds similar to c known to hit g (each as a count and degree-weighted),
  the three-hop compound-compound-gene-gene paths, and the compound-gene-gene-gene paths (c's
  known genes two interactions away from g);
- the known degrees of c and g (popularity);
- nearest known partners (``knn``): the best profile cosine between c and a compound known to hit
  g, between g and a gene c is known to hit, and the best structure Tanimoto between c and a
  compound known to hit g, with the sum of the cubed Tanimotos beside it (many close analogues
  count more than one);
- nearest partners one hop further, which reach a pair whose ends both lack known partners: the
  best structure Tanimoto between c and a compound known to hit a gene interacting with g, and the
  best profile cosine between g and a gene known to be hit by a compound similar to c.

A feature that needs the held-out side's own known links is left out on a split that holds that
side out (it is empty there), so training sees what the held-out nodes will show. Counts enter as
log(1 + count), a missing nearest partner as similarity -1. The score is a linear term plus a
one-hidden-layer network of the features (32 units: chosen on the validation full MRR of l1000's
four splits over 8, 16, 32 and 64); with ``gnn`` the dot product of a two-layer GNN's embeddings
(the paper's ``*_cp`` encoder) joins it. ``gin_evidence`` is GIN given the pair evidence: the
ablation that shows what a node-wise GNN misses (the counts of paths between the two ends of a
pair, which a dot product of two node embeddings cannot express: Zhang et al. 2021, "Labeling
Trick").

Leakage-free by construction: the features of a stage read only that stage's edges, and the
training stage's edges never include its supervision edges, so a supervision edge never
contributes to its own features; ``predict`` builds the same features for a new node from the
edges that join it (its similar compounds, its interactions).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import torch
from scipy.sparse import csr_matrix, diags
from torch import nn

from motive.checks import positive_int
from motive.errors import MotiveError
from motive.models.base import LinkModel, StageGraph, model_argument
from motive.models.network import BINDS, INTERACTS, SIMILAR, adjacency, inverse, no_edges
from motive.views import similarity

# feature -> the sides whose own known links it reads (left out when such a side is held out)
FEATURES = {
    "gene_paths": {"source"},  # c's known genes that interact with g
    "gene_paths_ra": {"source"},
    "compound_paths": {"target"},  # compounds similar to c that are known to hit g
    "compound_paths_ra": {"target"},
    "three_hop": set(),  # compounds similar to c hitting genes that interact with g
    "gene_paths_far": {"source"},  # c's known genes two interactions away from g
    "compound_degree": {"source"},
    "gene_degree": {"target"},
    "profile_near_compound": {"target"},  # best cosine between c and a compound known to hit g
    "profile_near_gene": {"source"},  # best cosine between g and a gene c is known to hit
    "structure_near_compound": {"target"},  # best Tanimoto between c and a compound known to hit g
    "structure_sum": {"target"},  # sum of cubed Tanimoto between c and the compounds known to hit g
    "structure_near_interactor": set(),  # ... and a compound known to hit a gene interacting with g
    "profile_near_similar": set(),  # best cosine between g and a gene hit by a compound similar to c
}
CONVS = ("gin", "sage", "gat")  # the GNN a ranker may add (``gnn``)
HELD_OUT = {"random": set(), "cold_source": {"source"}, "cold_target": {"target"}, "cold_both": {"source", "target"}}
NONE = -1.0  # the similarity of a missing nearest partner


def features_for(split_name: str, has_structure: bool) -> list[str]:
    """The features a split can show for its held-out pairs (``FEATURES``' rule)."""
    held_out = HELD_OUT[split_name]
    names = [name for name, reads in FEATURES.items() if not reads & held_out]
    return [name for name in names if has_structure or not name.startswith("structure")]


class EvidenceRanker(LinkModel):
    """Learned combination of pair evidence (see the module docstring)."""

    def __init__(
        self,
        stage: StageGraph,
        hidden: int = 32,
        gnn: str = "none",
        gnn_hidden: int = 64,
    ):
        super().__init__()
        hidden = model_argument("hidden", positive_int, hidden)
        gnn_hidden = model_argument("gnn_hidden", positive_int, gnn_hidden)
        if gnn not in ("none", *CONVS):
            raise MotiveError(f"model argument 'gnn' must be none or one of {', '.join(CONVS)}, got {gnn!r}")
        self.names = features_for(stage.split_name, "structure" in stage.views.get("source", {}))
        n = len(self.names)
        # the GNN term enters through a gate that starts at 0: training starts from the evidence
        # alone and adds it only as far as it helps (a random embedding's dot products would
        # otherwise drown the evidence at the first epochs)
        self.gate = nn.Parameter(torch.zeros(()))
        self.gnn = None
        if gnn != "none":
            from motive.models.gnn import GNN

            in_dims = {side: x.shape[1] for side, x in stage.x.items()}
            self.gnn = GNN(gnn, "cp", sorted(stage.edges), in_dims, stage.num_nodes, hidden=gnn_hidden)
        self.linear = nn.Linear(n, 1)
        self.mlp = nn.Sequential(nn.Linear(n, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        s, t = sources.cpu().numpy(), targets.cpu().numpy()
        # scoring (no gradient) meets the same pairs again, training batches never do
        features = pair_features(stage, s, t, self.names, keep=not torch.is_grad_enabled())
        block = torch.as_tensor(features, dtype=torch.float32, device=sources.device)
        score = self._combine(block)
        return score if self.gnn is None else score + self.gate * self.gnn(stage, sources, targets)

    def _combine(self, block: torch.Tensor) -> torch.Tensor:
        """The score of each row of pair features."""
        return self.linear(block).squeeze(-1) + self.mlp(block).squeeze(-1)

    @torch.no_grad()
    def score_blocks(
        self, stage: StageGraph, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 128
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Every query against every candidate from dense feature blocks (compounds x genes x
        features), a block of queries at a time."""
        self.eval()
        queries, candidates = np.asarray(queries, np.int64), np.asarray(candidates, np.int64)
        z = None if self.gnn is None else self.gnn.encode(stage)  # once for every block
        for start in range(0, len(queries), block):
            rows = queries[start : start + block]
            sources, targets = (rows, candidates) if query_side == "source" else (candidates, rows)
            matrix = self._matrix(stage, sources, targets, z)
            yield start, np.ascontiguousarray(matrix if query_side == "source" else matrix.T)

    def _matrix(self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray, z: dict | None) -> np.ndarray:
        dense = torch.as_tensor(_kept_block(stage, sources, targets, self.names), dtype=torch.float32)
        n_s, n_t = len(sources), len(targets)
        matrix = self._combine(dense.reshape(n_s * n_t, -1).to(stage.device)).reshape(n_s, n_t)
        if z is not None:
            s_rows, t_rows = (torch.as_tensor(ids, device=stage.device) for ids in (sources, targets))
            matrix = matrix + self.gate * self.gnn.decode_matrix(z, s_rows, t_rows)
        return matrix.cpu().numpy()


KEPT_BYTES = 256 * 2**20  # feature blocks a stage keeps for the next full ranking (every epoch's validation)


def _kept_block(stage: StageGraph, sources: np.ndarray, targets: np.ndarray, names: list[str]) -> np.ndarray:
    """``feature_block``, kept on the stage while the kept blocks stay under ``KEPT_BYTES``: a
    stage's features never change, and validation ranks the same blocks every epoch."""
    digest = hashlib.sha256(np.r_[sources, -1, targets].tobytes() + ",".join(names).encode()).hexdigest()
    kept = stage.cache.setdefault("evidence-ranker-blocks", {})
    if digest in kept:
        return kept[digest]
    block = feature_block(stage, sources, targets, names).astype(np.float32)
    if sum(b.nbytes for b in kept.values()) + block.nbytes <= KEPT_BYTES:
        kept[digest] = block
    return block


def pair_features(
    stage: StageGraph,
    sources: np.ndarray,
    targets: np.ndarray,
    names: list[str],
    keep: bool = False,
) -> np.ndarray:
    """Features (``names``) of the pairs (sources[i], targets[i]): each distinct compound's dense
    block against the genes asked for, read at the pairs (the same numbers as ``feature_block``;
    ``keep``: blocks kept on the stage, for pairs that will be scored again)."""

    compute = _kept_block if keep else feature_block
    sources, targets = np.asarray(sources, np.int64), np.asarray(targets, np.int64)
    out = np.empty((len(sources), len(names)))
    distinct, row = np.unique(sources, return_inverse=True)
    genes, column = np.unique(targets, return_inverse=True)
    for start in range(0, len(distinct), 256):
        chosen = (row >= start) & (row < start + 256)
        block = compute(stage, distinct[start : start + 256], genes, names)
        out[chosen] = block[row[chosen] - start, column[chosen]]
    return out


def feature_block(stage: StageGraph, sources: np.ndarray, targets: np.ndarray, names: list[str]) -> np.ndarray:
    """The (len(sources), len(targets), len(names)) features of every combination."""
    m = _matrices(stage)
    known, similar, interacts = m["known"], m["similar"], m["interacts"]
    rows_known, rows_similar = known[sources], similar[sources]
    shape = (len(sources), len(targets))
    out = np.empty((*shape, len(names)))
    for i, name in enumerate(names):
        if name == "gene_paths":
            value = _log_count(rows_known @ interacts[:, targets])
        elif name == "gene_paths_ra":
            value = np.log1p((rows_known @ m["gene_weight"] @ interacts[:, targets]).toarray())
        elif name == "compound_paths":
            value = _log_count(rows_similar @ known[:, targets])
        elif name == "compound_paths_ra":
            value = np.log1p((rows_similar @ m["compound_weight"] @ known[:, targets]).toarray())
        elif name == "gene_paths_far":
            value = _log_count(rows_known @ m["interacts_far"][:, targets])
        elif name == "structure_sum":
            value = np.log1p(sparse_product(_to_hitters(m, "structure", sources) ** 3, m["hitter_genes"], targets))
        elif name == "three_hop":
            value = _log_count(rows_similar @ m["known_interacts"][:, targets])
        elif name == "compound_degree":
            value = np.broadcast_to(np.log1p(m["compound_degree"][sources])[:, None], shape)
        elif name == "gene_degree":
            value = np.broadcast_to(np.log1p(m["gene_degree"][targets])[None, :], shape)
        elif name == "profile_near_compound":
            value = _nearest(_to_hitters(m, "source_profiles", sources), m["hitters"], targets, m["hitter_at"])
        elif name == "profile_near_gene":
            value = _nearest(m["gene_to_hit"][targets], known, sources, m["hit_at"]).T
        elif name == "structure_near_compound":
            value = _nearest(_to_hitters(m, "structure", sources), m["hitters"], targets, m["hitter_at"])
        elif name == "structure_near_interactor":
            value = _nearest(_to_hitters(m, "structure", sources), m["interactor_hitters"], targets, m["hitter_at"])
        else:  # profile_near_similar
            value = _nearest(m["gene_to_hit"][targets], m["similar_known"], sources, m["hit_at"]).T
        out[..., i] = value
    return out


def _matrices(stage: StageGraph) -> _Derived:
    """The stage's derived matrices (``_Derived``), kept on the stage."""
    return stage.cache.setdefault("evidence-ranker", _Derived(stage))


class _Derived(dict):
    """The stage's sparse adjacency, its products and the normalised node vectors, each built on
    first use (a split's features read only some of them) and then kept."""

    def __init__(self, stage: StageGraph):
        super().__init__()
        self.stage = stage

    def __missing__(self, name: str):
        self[name] = value = BUILDERS[name](self, self.stage)
        return value


def _sizes(stage: StageGraph) -> tuple[int, int]:
    return stage.num_nodes["source"], stage.num_nodes["target"]


# name -> builder(derived, stage). Nearest partners are always nodes with a known link, so
# similarities are taken to those only: compounds per block (or once for every compound when that
# fits in KEPT_BYTES), genes once, every gene against the hit genes.
BUILDERS = {
    "known": lambda m, stage: adjacency(stage.edges[BINDS], *_sizes(stage)),
    "similar": lambda m, stage: adjacency(stage.edges.get(SIMILAR, no_edges()), *[_sizes(stage)[0]] * 2),
    "interacts": lambda m, stage: adjacency(stage.edges.get(INTERACTS, no_edges()), *[_sizes(stage)[1]] * 2),
    "compound_degree": lambda m, stage: m["known"].sum(1).A1,
    "gene_degree": lambda m, stage: m["known"].sum(0).A1,
    "gene_weight": lambda m, stage: diags(inverse(m["gene_degree"] + m["interacts"].sum(0).A1)),
    "compound_weight": lambda m, stage: diags(inverse(m["compound_degree"] + m["similar"].sum(1).A1)),
    "known_interacts": lambda m, stage: (m["known"] @ m["interacts"]).tocsr(),
    # gene-gene-gene paths, g to itself left out
    "interacts_far": lambda m, stage: _off_diagonal(m["interacts"] @ m["interacts"]),
    "hitters": lambda m, stage: m["known"].T.tocsr(),  # gene -> compounds known to hit it
    # gene -> compounds hitting an interactor; compound -> genes hit by a similar compound
    "interactor_hitters": lambda m, stage: _binary(m["known_interacts"].T),
    "similar_known": lambda m, stage: _binary(m["similar"] @ m["known"]),
    "source_profiles": lambda m, stage: _profiles(stage, "source"),
    "structure": lambda m, stage: _bits(stage),
    "hitter_list": lambda m, stage: np.flatnonzero(m["compound_degree"] > 0),
    "hitter_at": lambda m, stage: _positions(m["hitter_list"], _sizes(stage)[0]),
    "hitter_genes": lambda m, stage: m["known"][m["hitter_list"]].tocsc(),  # the hitters' known genes, by gene
    "hit_list": lambda m, stage: np.flatnonzero(m["gene_degree"] > 0),
    "hit_at": lambda m, stage: _positions(m["hit_list"], _sizes(stage)[1]),
    "gene_to_hit": lambda m, stage: _gene_to_hit(stage, m["hit_list"]),
    "source_profiles_to_hitters": lambda m, stage: _similarity_to_hitters(m, "source_profiles", None),
    "structure_to_hitters": lambda m, stage: _similarity_to_hitters(m, "structure", None),
}


def _gene_to_hit(stage: StageGraph, hit: np.ndarray) -> np.ndarray:
    """Every gene's profile cosine to each gene with a known compound."""
    genes = _profiles(stage, "target")
    return similarity("profile", genes, np.arange(len(genes)), hit).astype(np.float32)


def _off_diagonal(matrix) -> csr_matrix:
    matrix = csr_matrix(matrix)
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    return matrix


def sparse_product(dense: np.ndarray, matrix, columns: np.ndarray) -> np.ndarray:
    """``dense @ matrix[:, columns]`` as a dense array (a sparse right factor)."""
    return np.asarray((matrix[:, columns].T @ dense.T).T)


def _positions(members: np.ndarray, size: int) -> np.ndarray:
    position = np.full(size, -1, np.int64)
    position[members] = np.arange(len(members))
    return position


def _to_hitters(m: _Derived, view: str, sources: np.ndarray) -> np.ndarray:
    """Similarity of ``sources`` to every compound with a known link, in ``view`` (read from every
    compound's, computed once, when that fits in ``KEPT_BYTES``)."""
    if m.stage.num_nodes["source"] * len(m["hitter_list"]) * 4 <= KEPT_BYTES:
        return m[f"{view}_to_hitters"][sources]
    return _similarity_to_hitters(m, view, sources)


def _similarity_to_hitters(m: _Derived, view: str, sources: np.ndarray | None) -> np.ndarray:
    """``_to_hitters`` computed (``sources`` None: every compound, as float32): Tanimoto of the
    structure bits or cosine of the profiles (``views.similarity``)."""
    rows = np.arange(m.stage.num_nodes["source"]) if sources is None else sources
    found = similarity("structure" if view == "structure" else "profile", m[view], rows, m["hitter_list"])
    return found.astype(np.float32) if sources is None else found


def _binary(matrix) -> csr_matrix:
    matrix = csr_matrix(matrix)
    matrix.data[:] = 1.0
    return matrix


def _log_count(product) -> np.ndarray:
    return np.log1p(product.toarray())


def _profiles(stage: StageGraph, side: str) -> np.ndarray:
    """The profiles in float64 (a node without a profile: zeros, so its cosines are 0)."""
    x = stage.x[side].double().cpu().numpy().copy()
    mask = stage.masks.get(side, {}).get("profile")
    if mask is not None:
        x[~mask.cpu().numpy()] = 0.0
    return x


def _bits(stage: StageGraph) -> np.ndarray | None:
    if "structure" not in stage.views.get("source", {}):
        return None
    bits = stage.views["source"]["structure"].double().cpu().numpy()
    mask = stage.masks.get("source", {}).get("structure")
    if mask is not None:
        bits[~mask.cpu().numpy()] = 0.0
    return bits


GATHERED = 2**24  # similarities gathered at once by ``_nearest`` (128 MiB of float64)


def _nearest(similarity: np.ndarray, members: csr_matrix, columns: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For each row of ``similarity`` (queries x the nodes ``position`` indexes) and each column
    node, the best similarity to the nodes ``members[column]`` lists (``NONE`` where none); the
    columns in chunks of at most ``GATHERED`` gathered similarities."""
    chosen = members[columns]
    out = np.full((similarity.shape[0], len(columns)), NONE)
    sizes = np.diff(chosen.indptr)
    per_chunk = max(GATHERED // max(similarity.shape[0], 1), 1)
    start = 0
    while start < len(columns):  # whole columns, about per_chunk members at a time
        stop = max(int(np.searchsorted(chosen.indptr, chosen.indptr[start] + per_chunk, "right")) - 1, start + 1)
        stop = min(stop, len(columns))
        filled = np.flatnonzero(sizes[start:stop] > 0) + start
        if len(filled):
            lo, hi = chosen.indptr[start], chosen.indptr[stop]
            gathered = similarity[:, position[chosen.indices[lo:hi]]]
            out[:, filled] = np.maximum.reduceat(gathered, chosen.indptr[filled] - lo, axis=1)
        start = stop
    return out
