"""Synthetic MOTIVE-like graphs of any scale, with a tunable, documented feature signal.

At ``scale=1`` the st_expanded graph has exactly the counts of the paper's Table 2 (3,632
sources x 737 features, 11,509 targets x 722 features, 24,798 ST, 75,330 SS, 203,028 TT edges;
2,961 sources and 4,505 targets with an ST edge) and the other graph types follow from the
reference's node filters. It writes nothing itself (``layout`` does) and reads no real data.

How edges and features relate (the generative model):
- every node has a latent vector ``z`` in R^latent_dim, drawn around one of ``n_clusters``
  random centroids (``z = c + 0.5 * noise``), shared by compounds and genes;
- every node has a heavy-tailed activity weight (Pareto, shape 1.0, clipped so that expected
  degrees stay under the cap of 150);
- a candidate pair (i, j) drawn with probability proportional to w_i * w_j is kept with
  probability sigmoid(affinity * cos(z_i, z_j) - 1), so linked nodes have similar latents;
- features are ``sqrt(signal) * standardize(z @ P) + sqrt(1 - signal) * noise`` with a random
  projection P: ``signal`` is the share of each feature's variance that comes from the latent.
  signal=0 makes features useless (graph-only models win); signal=1 makes them noiseless.
  Graph models can beat feature-only models because averaging neighbours' noisy features
  recovers the latent better than one node's own features, and because degree is not in features.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from motive.data.build import MAX_DEGREE
from motive.data.graph import Graph, NodeTable
from motive.data.views import structure_frame
from motive.names import GRAPH_TYPES, SIGNAL_VIEWS

log = logging.getLogger(__name__)

# MOTIVE Table 2 (st_expanded, ORF) at scale 1.
TABLE2 = {
    "sources": 3632,
    "st_sources": 2961,
    "source_dim": 737,
    "targets": 11509,
    "st_targets": 4505,
    "target_dim": 722,
    "st": 24798,
    "ss": 75330,
    "tt": 203028,
}
MAX_DENSITY = 0.5  # at tiny scales, no more than half of all possible pairs of an edge type


@dataclass(frozen=True)
class SynthConfig:
    scale: float = 1.0  # multiplies every node and edge count of Table 2; feature dims stay fixed
    seed: int = 0
    signal: float = 0.5  # share of feature variance explained by the latent (0..1)
    affinity: float = 4.0  # how strongly latent similarity drives linking (0 = edges ignore latents)
    latent_dim: int = 16
    n_clusters: int = 50
    source_dim: int = TABLE2["source_dim"]
    target_dim: int = TABLE2["target_dim"]
    max_degree: int = MAX_DEGREE
    # Which view carries the latent: profile (as before views existed), structure (then the
    # profile is pure noise) or both. The structure view is ``structure_bits`` binary features.
    signal_view: str = "profile"
    structure_bits: int = 256


def _counts(scale: float) -> dict[str, int]:
    counts = {key: max(2, round(value * scale)) for key, value in TABLE2.items() if not key.endswith("_dim")}
    counts["st_sources"] = min(counts["st_sources"], counts["sources"])
    counts["st_targets"] = min(counts["st_targets"], counts["targets"])
    counts["st"] = min(counts["st"], int(MAX_DENSITY * counts["st_sources"] * counts["st_targets"]))
    counts["ss"] = min(counts["ss"], int(MAX_DENSITY * counts["sources"] * (counts["sources"] - 1) / 2))
    counts["tt"] = min(counts["tt"], int(MAX_DENSITY * counts["targets"] * (counts["targets"] - 1) / 2))
    return counts


def _weights(rng: np.random.Generator, n: int, n_edge_ends: int, cap: int) -> np.ndarray:
    """Heavy-tailed activity weights, clipped so that no expected degree exceeds 0.7 * cap."""
    weights = rng.pareto(1.0, n) + 1.0
    for _ in range(5):
        weights = np.minimum(weights, 0.7 * cap * weights.sum() / max(n_edge_ends, 1))
    return weights / weights.sum()


def _unit(z: np.ndarray) -> np.ndarray:
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _occurrence_rank(values: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same value."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    rank = np.empty(len(values), np.int64)
    rank[order] = np.arange(len(values)) - np.searchsorted(ordered, ordered, side="left")
    return rank


def _keep_under_cap(a: np.ndarray, b: np.ndarray, n_fixed: int, cap: int, same_type: bool) -> np.ndarray:
    """Mask over edges: the first ``n_fixed`` are kept; a later edge only if both ends are still under the cap."""
    if same_type:  # a node's degree counts both columns, in edge order
        ok = (_occurrence_rank(np.stack([a, b], axis=1).ravel()).reshape(-1, 2) < cap).all(axis=1)
    else:
        ok = (_occurrence_rank(a) < cap) & (_occurrence_rank(b) < cap)
    ok[:n_fixed] = True
    return ok


def _sample_edges(
    rng: np.random.Generator,
    n_edges: int,
    a_nodes: np.ndarray,
    b_nodes: np.ndarray,
    z_a: np.ndarray,
    z_b: np.ndarray,
    affinity: float,
    cap: int,
    same_type: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``n_edges`` distinct pairs; every node of a_nodes and b_nodes gets at least one.

    ``z_a``/``z_b`` are unit latents indexed by node id; a_nodes/b_nodes are the eligible ids.
    """
    n_b_space = int(max(b_nodes.max(), a_nodes.max())) + 1
    w_a = _weights(rng, len(a_nodes), n_edges * (2 if same_type else 1), cap)
    w_b = w_a if same_type else _weights(rng, len(b_nodes), n_edges, cap)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        return a_nodes[rng.choice(len(a_nodes), n, p=w_a)], b_nodes[rng.choice(len(b_nodes), n, p=w_b)]

    def canonical(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.minimum(a, b), np.maximum(a, b)) if same_type else (a, b)

    # Coverage: each node picks, among 8 weighted candidates, the one closest in latent space.
    n_candidates = 8
    heads, tails = [], []
    for nodes, other_nodes, other_w, z_self, z_other, flip in (
        (a_nodes, b_nodes, w_b, z_a, z_b, False),
        (b_nodes, a_nodes, w_a, z_b, z_a, True),
    ):
        if same_type and flip:
            break
        candidates = other_nodes[rng.choice(len(other_nodes), (len(nodes), n_candidates), p=other_w)]
        if same_type:
            candidates = np.where(
                candidates == nodes[:, None],
                other_nodes[(np.searchsorted(other_nodes, candidates) + 1) % len(other_nodes)],
                candidates,
            )
        score = np.einsum("nd,nkd->nk", z_self[nodes], z_other[candidates])
        partner = candidates[np.arange(len(nodes)), score.argmax(1)]
        heads.append(partner if flip else nodes)
        tails.append(nodes if flip else partner)
    a, b = canonical(np.concatenate(heads), np.concatenate(tails))
    _, first = np.unique(a * n_b_space + b, return_index=True)
    first.sort()
    a, b = a[first], b[first]
    if len(a) > n_edges:
        raise ValueError(f"cannot cover {len(a_nodes)}+{len(b_nodes)} nodes with {n_edges} edges")

    for _ in range(500):
        need = n_edges - len(a)
        if need == 0:
            return a, b
        cand_a, cand_b = draw(4 * need + 64)
        if same_type:
            distinct = cand_a != cand_b
            cand_a, cand_b = cand_a[distinct], cand_b[distinct]
        cand_a, cand_b = canonical(cand_a, cand_b)
        similarity = np.einsum("nd,nd->n", z_a[cand_a], z_b[cand_b])
        accept = rng.random(len(cand_a)) < 1.0 / (1.0 + np.exp(1.0 - affinity * similarity))
        cand_a, cand_b = cand_a[accept], cand_b[accept]
        cand_keys = cand_a * n_b_space + cand_b
        _, first = np.unique(cand_keys, return_index=True)
        first.sort()
        fresh = first[~np.isin(cand_keys[first], a * n_b_space + b)]
        cand_a, cand_b = cand_a[fresh], cand_b[fresh]
        all_a, all_b = np.concatenate([a, cand_a]), np.concatenate([b, cand_b])
        ok = _keep_under_cap(all_a, all_b, len(a), cap, same_type)
        new_a, new_b = all_a[len(a) :][ok[len(a) :]][:need], all_b[len(a) :][ok[len(a) :]][:need]
        a, b = np.concatenate([a, new_a]), np.concatenate([b, new_b])
    raise RuntimeError(f"could not place {n_edges} edges under the degree cap {cap}; lower the scale or density")


def _features(rng: np.random.Generator, z: np.ndarray, dim: int, signal: float) -> np.ndarray:
    projection = rng.standard_normal((z.shape[1], dim)).astype(np.float32)
    latent_part = z.astype(np.float32) @ projection
    latent_part = (latent_part - latent_part.mean(0)) / (latent_part.std(0) + 1e-8)
    noise = rng.standard_normal((len(z), dim), dtype=np.float32)
    return (np.sqrt(signal) * latent_part + np.sqrt(1.0 - signal) * noise).astype(np.float32)


def _source_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique, sorted, InChIKey14-shaped strings (14 upper-case letters)."""
    keys: set[str] = set()
    while len(keys) < n:
        letters = rng.integers(0, 26, (n - len(keys), 14), dtype=np.uint8) + ord("A")
        keys.update(letters.view(f"S{14}").ravel().astype(str))
    return np.array(sorted(keys)[:n], dtype=object)


def generate(config: SynthConfig = SynthConfig()) -> dict[str, Graph]:
    """All four graph types of one synthetic dataset; deterministic given the config."""
    return generate_with_views(config)[0]


def structure_bits(config: SynthConfig, z_s: np.ndarray) -> np.ndarray:
    """Binary structure features of the compounds: ``sqrt(s) * standardize(z @ Q) + sqrt(1 - s) *
    noise > 1`` (about 16% of bits set), s = signal when the structure carries it, else 0. Drawn
    with a generator of its own, so the graphs are the same with or without them."""
    rng = np.random.default_rng([config.seed, 0x5354])
    signal = config.signal if config.signal_view in ("structure", "both") else 0.0
    values = _features(rng, z_s, config.structure_bits, signal)
    return (values > 1.0).astype(np.uint8)


def generate_with_views(config: SynthConfig = SynthConfig()) -> tuple[dict[str, Graph], pd.DataFrame]:
    """The four graph types and the compounds' structure view (index: compound key)."""
    if config.signal_view not in SIGNAL_VIEWS:
        raise ValueError(f"signal view must be one of {', '.join(SIGNAL_VIEWS)}, got {config.signal_view!r}")
    if not 0.0 <= config.signal <= 1.0:
        raise ValueError(f"signal must be within [0, 1], got {config.signal}")
    if config.scale <= 0:
        raise ValueError(f"scale must be positive, got {config.scale}")
    rng = np.random.default_rng(config.seed)
    counts = _counts(config.scale)
    n_s, n_t = counts["sources"], counts["targets"]
    centroids = rng.standard_normal((config.n_clusters, config.latent_dim))
    z = centroids[rng.integers(0, config.n_clusters, n_s + n_t)] + 0.5 * rng.standard_normal(
        (n_s + n_t, config.latent_dim)
    )
    z_s, z_t = _unit(z[:n_s]), _unit(z[n_s:])

    st_sources = np.sort(rng.choice(n_s, counts["st_sources"], replace=False))
    st_targets = np.sort(rng.choice(n_t, counts["st_targets"], replace=False))
    log.info("sampling %d ST, %d SS and %d TT edges", counts["st"], counts["ss"], counts["tt"])
    s, t = _sample_edges(rng, counts["st"], st_sources, st_targets, z_s, z_t, config.affinity, config.max_degree, False)
    ss = _sample_edges(
        rng, counts["ss"], np.arange(n_s), np.arange(n_s), z_s, z_s, config.affinity, config.max_degree, True
    )
    tt = _sample_edges(
        rng, counts["tt"], np.arange(n_t), np.arange(n_t), z_t, z_t, config.affinity, config.max_degree, True
    )

    log.info("drawing features (signal=%.2f in the %s view)", config.signal, config.signal_view)
    profile_signal = config.signal if config.signal_view in ("profile", "both") else 0.0
    sources = NodeTable(pd.Index(_source_keys(rng, n_s)), _features(rng, z_s, config.source_dim, profile_signal))
    width = len(str(n_t))
    targets = NodeTable(
        pd.Index([f"SYN{i:0{width}d}" for i in range(n_t)]), _features(rng, z_t, config.target_dim, config.signal)
    )
    edges = {
        "st": pd.DataFrame({"source": s, "target": t}).sort_values(["source", "target"], ignore_index=True),
        "ss": pd.DataFrame({"source_a": ss[0], "source_b": ss[1]}).sort_values(
            ["source_a", "source_b"], ignore_index=True
        ),
        "tt": pd.DataFrame({"target_a": tt[0], "target_b": tt[1]}).sort_values(
            ["target_a", "target_b"], ignore_index=True
        ),
    }
    full = Graph(sources, targets, edges).validate()
    structure = structure_frame(sources.keys, structure_bits(config, z_s))
    return {graph_type: full.derive(graph_type) for graph_type in GRAPH_TYPES}, structure


def describe(config: SynthConfig) -> dict:
    return {"name": "synthetic", "generator": asdict(config), "counts": _counts(config.scale)}
