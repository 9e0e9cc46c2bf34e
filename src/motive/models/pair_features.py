"""The pair evidence the rankers (``motive.models.ranker``) read: each feature of a pair computed
from the stage's visible edges only.

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
log(1 + count), a missing nearest partner as similarity -1.

Training reads each pair on its own (``pair_features``: counts as row-wise products of sparse
rows, nearest partners as maxima over the pair's own partners); ranking reads dense planes of
every combination (``feature_planes``): the same numbers, sums up to rounding (tested).

Leakage-free by construction: the features of a stage read only that stage's edges, and the
training stage's edges never include its supervision edges, so a supervision edge never
contributes to its own features; ``predict`` builds the same features for a new node from the
edges that join it (its similar compounds, its interactions).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, diags

from motive.data.views import similarity
from motive.models import maxima
from motive.models.base import StageGraph
from motive.models.maxima import NONE, best_rows, nearest, segments, take_columns
from motive.models.network import BINDS, INTERACTS, SIMILAR, adjacency, inverse, no_edges

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


HELD_OUT = {"random": set(), "cold_source": {"source"}, "cold_target": {"target"}, "cold_both": {"source", "target"}}


def features_for(split_name: str, has_structure: bool) -> list[str]:
    """The features a split can show for its held-out pairs (``FEATURES``' rule)."""
    held_out = HELD_OUT[split_name]
    names = [name for name, reads in FEATURES.items() if not reads & held_out]
    return [name for name in names if has_structure or not name.startswith("structure")]


WHOLE_BYTES = 256 * 2**20  # every compound's similarities to the hitters, computed at once up to this size


def pair_features(stage: StageGraph, sources: np.ndarray, targets: np.ndarray, names: list[str]) -> np.ndarray:
    """Features (``names``) of the pairs (sources[i], targets[i]), each pair on its own: counts as
    row-wise products of sparse rows, nearest partners as maxima over the pair's own partners (the
    same numbers as ``feature_planes`` read at the pairs, sums up to rounding; linear in the
    pairs' partners, where a block would cost every combination of the pairs' two ends)."""
    m = _matrices(stage)
    # copies: scipy's element indexing wants writeable index arrays (a caller's may be read-only)
    sources, targets = np.array(sources, np.int64), np.array(targets, np.int64)
    out = np.empty((len(sources), len(names)))
    for i, name in enumerate(names):
        if name in ROW_PRODUCTS:
            left, right = ROW_PRODUCTS[name]
            value = _row_products(m[left], sources, m[right], targets)
            if name == "gene_paths_far":  # (K I I)[c, g] less the paths g-g-g back through g itself
                value -= np.asarray(m["known"][sources, targets]).ravel() * m["interactions"][targets]
            value = np.log1p(value)
        elif name == "compound_degree":
            value = np.log1p(m["compound_degree"][sources])
        elif name == "gene_degree":
            value = np.log1p(m["gene_degree"][targets])
        else:
            value = _pair_partners(m, name, sources, targets)
        out[:, i] = value
    return out


# count feature -> (left, right): the count of a pair (c, g) is left[c] . right[g], two sparse rows
ROW_PRODUCTS = {
    "gene_paths": ("known", "interacts"),  # interactions are symmetric: a row is a column
    "gene_paths_ra": ("known_weighted", "interacts"),
    "compound_paths": ("similar", "hitters"),
    "compound_paths_ra": ("similar_weighted", "hitters"),
    "gene_paths_far": ("known_interacts", "interacts"),  # less the paths back through g: ``pair_features``
    "three_hop": ("similar", "paths_by_gene"),
}


# nearest-partner feature -> (the pair's partners: compounds of g or genes of c, the view, the reduction)
PARTNERS = {
    "profile_near_compound": ("hitters", "source_profiles", "max"),
    "structure_near_compound": ("hitters", "structure", "max"),
    "structure_sum": ("hitters", "structure", "cubed_sum"),
    "structure_near_interactor": ("interactor_hitters", "structure", "max"),
    "profile_near_gene": ("known", "hit_to_gene", "max"),
    "profile_near_similar": ("similar_known", "hit_to_gene", "max"),
}


def _row_products(left: csr_matrix, rows: np.ndarray, right: csr_matrix, others: np.ndarray) -> np.ndarray:
    """``left[rows[i]] . right[others[i]]`` for every i, in chunks of pairs."""
    out = np.empty(len(rows))
    for start in range(0, len(rows), 65536):
        chunk = slice(start, start + 65536)
        out[chunk] = left[rows[chunk]].multiply(right[others[chunk]]).sum(1).A1
    return out


def _pair_partners(m: _Derived, name: str, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """One nearest-partner feature of each pair: the pair's partners (``PARTNERS``) gathered from
    its similarity row and reduced, about ``maxima.GATHERED`` similarities at a time."""
    members, view, reduction = PARTNERS[name]
    on_gene = view == "hit_to_gene"  # similarities of g to c's genes; else of c to g's compounds
    keys, queries = (sources, targets) if on_gene else (targets, sources)
    position = m["hit_at"] if on_gene else m["hitter_at"]
    chosen = m[members][keys]  # the pairs' partners, a row each
    sizes = np.diff(chosen.indptr)
    out = np.full(len(keys), 0.0 if reduction == "cubed_sum" else NONE)
    for start, stop, filled in segments(chosen.indptr, maxima.GATHERED):
        lo, hi = chosen.indptr[start], chosen.indptr[stop]
        partners = position[chosen.indices[lo:hi]]
        if on_gene:
            gathered = m["hit_to_gene"][partners, np.repeat(queries[start:stop], sizes[start:stop])]
        else:
            distinct, row = np.unique(queries[start:stop], return_inverse=True)
            gathered = _to_hitters(m, view, distinct)[np.repeat(row, sizes[start:stop]), partners]
        if reduction == "max":
            out[filled] = np.maximum.reduceat(gathered, chosen.indptr[filled] - lo)
        else:
            out[filled] = np.log1p(np.add.reduceat((gathered**3).astype(np.float64), chosen.indptr[filled] - lo))
    return out


def feature_planes(stage: StageGraph, sources: np.ndarray, targets: np.ndarray, names: list[str]) -> np.ndarray:
    """The features of every combination, a (len(sources), len(targets)) float32 plane per name:
    a count as the product of the two ends' sparse rows (``ROW_PRODUCTS``), the rest as ``PLANES``
    computes them."""
    m = _matrices(stage)
    out = np.empty((len(names), len(sources), len(targets)), np.float32)
    for i, name in enumerate(names):
        if name in PLANES:
            out[i] = PLANES[name](m, sources, targets)
        else:
            left, right = ROW_PRODUCTS[name]
            out[i] = np.log1p((m[left][sources] @ m[right][targets].T).toarray())
    return out


def _far_plane(m: _Derived, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """gene_paths_far: (K I I)[c, g] less the paths g-g-g back through g itself, with a dense
    middle factor (K I I's sparse product is far denser than its factors)."""
    rows_known, interacts = m["known"][sources], m["interacts"]
    two_hops = sparse_product((rows_known @ interacts).toarray(), interacts, targets)
    return np.log1p(two_hops - rows_known[:, targets].toarray() * m["interactions"][targets])


def _structure_sum_plane(m: _Derived, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """structure_sum; 0 for a compound without structure (Tanimoto 0 to every compound)."""
    value = np.zeros((len(sources), len(targets)))
    drawn = m["has_structure"][sources]
    cubes = _to_hitters(m, "structure", sources[drawn]) ** 3
    value[drawn] = np.log1p(sparse_product(cubes, m["hitter_genes"], targets))
    return value


def _near_similar_plane(m: _Derived, sources: np.ndarray, targets: np.ndarray) -> np.ndarray | float:
    """profile_near_similar: the best profile_near_gene of a compound similar to c (``NONE`` for
    every pair when none of ``sources`` has a similar compound with a known gene, as new compounds
    without structure, without building that table)."""
    if not m["similar_hitters"][sources].nnz:
        return NONE
    return best_rows(take_columns(m["near_gene_of_hitters"], targets), m["similar_hitters"], sources, m["hitter_at"])


def _near_interactor_plane(m: _Derived, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """structure_near_interactor as the best structure_near_compound over g's interactors: the
    compounds hitting an interactor of g are the union of the interactors' hitters, so the best
    over that union is the best of the interactors' bests (exact, and it gathers one value per
    interaction instead of one per (interactor, hitter) pair). Only interactors with a known
    compound count: the others have none to be near."""
    interactors = m["interactor_hit_genes"]
    needed = np.unique(interactors[targets].indices)
    near = _nearest_structure(m, sources, m["hitters"], needed)
    return nearest(near, interactors, targets, _positions(needed, _sizes(m.stage)[1]))


PLANES = {
    "gene_paths_far": _far_plane,
    "structure_sum": _structure_sum_plane,
    "profile_near_similar": _near_similar_plane,
    "compound_degree": lambda m, s, t: np.log1p(m["compound_degree"][s])[:, None],
    "gene_degree": lambda m, s, t: np.log1p(m["gene_degree"][t])[None, :],
    "profile_near_compound": lambda m, s, t: nearest(
        _to_hitters(m, "source_profiles", s), m["hitters"], t, m["hitter_at"]
    ),
    "profile_near_gene": lambda m, s, t: best_rows(take_columns(m["hit_to_gene"], t), m["known"], s, m["hit_at"]),
    "structure_near_compound": lambda m, s, t: _nearest_structure(m, s, m["hitters"], t),
    "structure_near_interactor": _near_interactor_plane,
}


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
# fits in WHOLE_BYTES), genes once, every gene against the hit genes.
BUILDERS = {
    "known": lambda m, stage: adjacency(stage.edges[BINDS], *_sizes(stage)),
    "similar": lambda m, stage: adjacency(stage.edges.get(SIMILAR, no_edges()), *[_sizes(stage)[0]] * 2),
    "interacts": lambda m, stage: adjacency(stage.edges.get(INTERACTS, no_edges()), *[_sizes(stage)[1]] * 2),
    "compound_degree": lambda m, stage: m["known"].sum(1).A1,
    "gene_degree": lambda m, stage: m["known"].sum(0).A1,
    "gene_weight": lambda m, stage: diags(inverse(m["gene_degree"] + m["interacts"].sum(0).A1)),
    "compound_weight": lambda m, stage: diags(inverse(m["compound_degree"] + m["similar"].sum(1).A1)),
    "known_interacts": lambda m, stage: (m["known"] @ m["interacts"]).tocsr(),
    "paths_by_gene": lambda m, stage: m["known_interacts"].T.tocsr(),  # gene -> compounds, counted by c-g-g paths
    "known_weighted": lambda m, stage: (m["known"] @ m["gene_weight"]).tocsr(),
    "similar_weighted": lambda m, stage: (m["similar"] @ m["compound_weight"]).tocsr(),
    "hitters": lambda m, stage: m["known"].T.tocsr(),  # gene -> compounds known to hit it
    # gene -> the genes interacting with it that have a known compound
    "interactor_hit_genes": lambda m, stage: _binary(m["interacts"].T @ diags((m["gene_degree"] > 0).astype(float))),
    # gene -> compounds hitting an interactor; compound -> genes hit by a similar compound
    "interactor_hitters": lambda m, stage: _binary(m["known_interacts"].T),
    "similar_known": lambda m, stage: _binary(m["similar"] @ m["known"]),
    "similar_hitters": lambda m, stage: _binary(m["similar"] @ diags((m["compound_degree"] > 0).astype(float))),
    "interactions": lambda m, stage: m["interacts"].sum(0).A1,
    # profile_near_gene of every compound with a known gene against every gene, (hitters, genes)
    "near_gene_of_hitters": lambda m, stage: best_rows(m["hit_to_gene"], m["known"], m["hitter_list"], m["hit_at"]),
    "source_profiles": lambda m, stage: _profiles(stage, "source"),
    "structure": lambda m, stage: _bits(stage),
    "has_structure": lambda m, stage: m["structure"].any(1),
    "hitter_list": lambda m, stage: np.flatnonzero(m["compound_degree"] > 0),
    "hitter_at": lambda m, stage: _positions(m["hitter_list"], _sizes(stage)[0]),
    "hitter_genes": lambda m, stage: m["known"][m["hitter_list"]].tocsc(),  # the hitters' known genes, by gene
    "hit_list": lambda m, stage: np.flatnonzero(m["gene_degree"] > 0),
    "hit_at": lambda m, stage: _positions(m["hit_list"], _sizes(stage)[1]),
    "hit_to_gene": lambda m, stage: _hit_to_gene(stage, m["hit_list"]),
    "source_profiles_to_hitters": lambda m, stage: _similarity_to_hitters(m, "source_profiles", None),
    "structure_to_hitters": lambda m, stage: _similarity_to_hitters(m, "structure", None),
}


def _hit_to_gene(stage: StageGraph, hit: np.ndarray) -> np.ndarray:
    """The profile cosine of each gene with a known compound to every gene, a row per hit gene
    (the rows ``best_rows`` gathers)."""
    genes = _profiles(stage, "target")
    # the product taken genes x hits, as before the table was kept by row, then transposed: the
    # same float64 sums (BLAS may round a product taken the other way round differently)
    return np.ascontiguousarray(similarity("profile", genes, np.arange(len(genes)), hit).astype(np.float32).T)


def sparse_product(dense: np.ndarray, matrix, columns: np.ndarray) -> np.ndarray:
    """``dense @ matrix[:, columns]`` as a dense array (a sparse right factor)."""
    return np.asarray((matrix[:, columns].T @ dense.T).T)


def _positions(members: np.ndarray, size: int) -> np.ndarray:
    position = np.full(size, -1, np.int64)
    position[members] = np.arange(len(members))
    return position


def _to_hitters(m: _Derived, view: str, sources: np.ndarray) -> np.ndarray:
    """Similarity of ``sources`` to every compound with a known link, in ``view`` (read from every
    compound's, computed once, when that fits in ``WHOLE_BYTES``)."""
    if m.stage.num_nodes["source"] * len(m["hitter_list"]) * 4 <= WHOLE_BYTES:
        return m[f"{view}_to_hitters"][sources]
    return _similarity_to_hitters(m, view, sources)


def _nearest_structure(m: _Derived, sources: np.ndarray, members: csr_matrix, targets: np.ndarray) -> np.ndarray:
    """``nearest`` in the structure view; a compound without structure bits has Tanimoto 0 to
    every compound, so its row is 0 wherever a target has members (``NONE`` elsewhere), read off
    without gathering (a new compound given by its profile alone)."""
    filled = np.diff(members[targets].indptr) > 0
    out = np.tile(np.where(filled, 0.0, NONE).astype(np.float32), (len(sources), 1))
    drawn = m["has_structure"][sources]
    if drawn.any():
        out[drawn] = nearest(_to_hitters(m, "structure", sources[drawn]), members, targets, m["hitter_at"])
    return out


def _similarity_to_hitters(m: _Derived, view: str, sources: np.ndarray | None) -> np.ndarray:
    """``_to_hitters`` computed (``sources`` None: every compound, as float32): Tanimoto of the
    structure bits or cosine of the profiles (``views.similarity``)."""
    rows = np.arange(m.stage.num_nodes["source"]) if sources is None else sources
    found = similarity("structure" if view == "structure" else "profile", m[view], rows, m["hitter_list"])
    return found.astype(np.float32) if sources is None else found


def _binary(matrix) -> csr_matrix:
    """The pattern of ``matrix``'s nonzero entries, as ones."""
    matrix = csr_matrix(matrix)
    matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    return matrix


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
