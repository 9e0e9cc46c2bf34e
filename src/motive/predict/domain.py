"""The applicability domain: how like the training nodes a query is, and the threshold below which
its ranks deserve a warning."""

from __future__ import annotations

import numpy as np

from motive.predict.load import Predictor


def domain_view(run: Predictor, side: str) -> str:
    """The view the applicability domain is measured in: the profile when the run reads it, else
    the run's first view of that side (the structure of a structure-only compound model)."""
    views = run.config.views[side]
    return "profile" if "profile" in views else views[0]


def _training_nodes(run: Predictor, side: str) -> tuple[np.ndarray, np.ndarray, str]:
    """The training stage's nodes of ``side`` that have the domain view: their vectors (unit rows
    for cosine, bits for Tanimoto), their ids, and the similarity used."""
    view = domain_view(run, side)
    seen = np.flatnonzero(run.split.node_stage[side] == 0)
    if view == "profile":
        nodes = run.graph.sources if side == "source" else run.graph.targets
        matrix = nodes.x[seen].astype(np.float32)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12), seen, "cosine"
    mask = run.stage.masks.get(side, {}).get(view)
    present = np.ones(len(seen), bool) if mask is None else mask.cpu().numpy()[seen]
    matrix = run.stage.views[side][view].cpu().numpy()[seen[present]].astype(np.float32)
    return matrix, seen[present], "tanimoto"


def similarities(queries: np.ndarray, reference: np.ndarray, metric: str) -> np.ndarray:
    """Every query row against every reference row: cosine of unit rows, or Tanimoto of 0/1 bits
    (shared bits over the union; 0 for two empty rows), in the rows' own dtype."""
    product = queries @ reference.T
    if metric == "cosine":
        return product
    union = queries.sum(1, keepdims=True) + reference.sum(1)[None, :] - product
    return np.where(union > 0, product / np.maximum(union, 1), 0.0)


def domain_threshold(run: Predictor, side: str) -> float:
    """The applicability domain's edge: the 5th percentile of the training nodes' similarity to
    their nearest other training node, in the domain view (a query below it is less like the
    training nodes than 95% of them are like each other)."""
    seen, _, metric = _training_nodes(run, side)
    nearest = np.empty(len(seen), np.float32)
    for start in range(0, len(seen), 4096):
        similarity = similarities(seen[start : start + 4096], seen, metric)
        similarity[np.arange(len(similarity)), start + np.arange(len(similarity))] = -np.inf
        nearest[start : start + 4096] = similarity.max(axis=1)
    return float(np.percentile(nearest, 5)) if len(nearest) > 1 else -1.0


def applicability(run: Predictor, side: str, x: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Similarity of each query (``x``: its vector in the domain view) to its nearest node of the
    same side that the training stage saw, and that node's key: low values mean the model never
    saw anything like it. A query without the domain view (``present`` false) gets no verdict:
    NaN and no key."""
    nodes = run.graph.sources if side == "source" else run.graph.targets
    reference, ids, metric = _training_nodes(run, side)
    x = x.astype(np.float32)
    if metric == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    best, where = np.full(len(x), np.nan, np.float32), np.zeros(len(x), np.int64)
    for start in range(0, len(x) if len(ids) else 0, 4096):
        similarity = similarities(x[start : start + 4096], reference, metric)
        where[start : start + 4096] = similarity.argmax(axis=1)
        best[start : start + 4096] = similarity.max(axis=1)
    best[~present] = np.nan
    keys = nodes.keys.to_numpy()[ids][where] if len(ids) else np.full(len(x), None, object)
    return best, np.where(present & np.isfinite(best), keys, None)
