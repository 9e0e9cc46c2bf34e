"""The evidence behind a ranked candidate: its known partners most like the query."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from motive.predict.domain import similarities
from motive.predict.load import Predictor

EVIDENCE_RANKS = 100  # candidates of each query that get an evidence string


EVIDENCE_BLOCK = 8192  # (query, candidate) rows explained at once: bounds the similarity matrices


def evidence(stage, side: str, query_ids: np.ndarray, candidates, loaded: Predictor, shown: int = 2) -> list[str]:
    """Why a candidate ranks where it does, in the words of the nodes behind it: the ``shown``
    visible nodes of the query's side most similar to the query among those known to pair with
    the candidate, with their similarity in each view (profile cosine; structure Tanimoto), e.g.
    ``DB00945 (profile 0.81; structure 0.64)``. Empty when nothing visible pairs with it. Ties
    keep the order of the stage's edges. Computed for blocks of queries at once (a query x
    partners similarity product), so a full matrix's millions of rows stay cheap."""
    other = "target" if side == "source" else "source"
    other_keys = (loaded.graph.targets if other == "target" else loaded.graph.sources).keys
    return evidence_of_ids(stage, side, query_ids, other_keys.get_indexer(pd.Index(candidates)), loaded, shown)


def evidence_of_ids(
    stage, side: str, query_ids: np.ndarray, partner_ids: np.ndarray, loaded: Predictor, shown: int = 2
) -> list[str]:
    """``evidence`` for candidates given as node ids of the stage (-1: none; empty evidence)."""
    other = "target" if side == "source" else "source"
    s, t = stage.edges[("source", "binds", "target")]
    known_node, known_partner = (np.asarray(s), np.asarray(t)) if side == "source" else (np.asarray(t), np.asarray(s))
    by_partner = np.argsort(known_partner, kind="stable")  # each partner's nodes in edge order
    nodes_of = known_node[by_partner]
    start = np.searchsorted(known_partner[by_partner], np.arange(stage.num_nodes[other] + 2))
    partner_ids = np.where(np.asarray(partner_ids) < 0, stage.num_nodes[other], partner_ids)  # none: no nodes
    views = _evidence_views(stage, side)
    graph_keys = (loaded.graph.sources if side == "source" else loaded.graph.targets).keys.to_numpy().astype(object)
    query_ids = np.asarray(query_ids)
    found = np.full(len(query_ids), "", dtype=object)
    for first in range(0, len(query_ids), EVIDENCE_BLOCK):
        rows = np.arange(first, min(first + EVIDENCE_BLOCK, len(query_ids)))
        counts = start[partner_ids[rows] + 1] - start[partner_ids[rows]]
        pair = np.repeat(rows, counts)  # one entry per (row, known node of its candidate), in edge order
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        node = nodes_of[np.repeat(start[partner_ids[rows]], counts) + within]
        keep = node != query_ids[pair]
        pair, node = pair[keep], node[keep]
        queries, row_query = np.unique(query_ids[rows], return_inverse=True)
        nodes, node_at = _distinct(node, stage.num_nodes[side])
        similarity = {name: view(queries, nodes)[row_query[pair - first], node_at] for name, view in views.items()}
        stacked = np.stack(list(similarity.values()))
        best = np.where(np.isnan(stacked), -np.inf, stacked).max(axis=0)
        for chosen in _best_of_each_row(best, pair, shown):
            said = _said(graph_keys, node[chosen], {name: values[chosen] for name, values in similarity.items()})
            before = found[pair[chosen]]
            found[pair[chosen]] = np.where(before == "", said, before + ", " + said)
    return found.tolist()


def _distinct(ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True)`` for ids below ``size``, by marking, not sorting."""
    present = np.zeros(size, bool)
    present[ids] = True
    position = np.cumsum(present) - 1
    return np.flatnonzero(present), position[ids]


def _best_of_each_row(best: np.ndarray, row: np.ndarray, shown: int) -> Iterator[np.ndarray]:
    """The entries (indices) of each row's best, second best, ... value, ``shown`` rounds, one
    array per round; ``row`` is sorted, and ties go to the earlier entry (the edge order)."""
    if len(best) == 0:
        return
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    sizes = np.diff(np.r_[starts, len(best)])
    index, taken = np.arange(len(best)), np.zeros(len(best), bool)
    for _ in range(shown):
        value = np.where(taken, -np.inf, best)
        top = np.repeat(np.maximum.reduceat(value, starts), sizes)
        first = np.minimum.reduceat(np.where((value == top) & ~taken, index, len(best)), starts)
        chosen = first[first < len(best)]
        if len(chosen) == 0:
            return
        taken[chosen] = True
        yield chosen


def _said(graph_keys: np.ndarray, nodes: np.ndarray, similarity: dict[str, np.ndarray]) -> np.ndarray:
    """``KEY (profile 0.81; structure 0.64)`` for each node, the views it has (just ``KEY`` with none);
    a new node of the stage is ``query N``."""
    keys = graph_keys[np.minimum(nodes, len(graph_keys) - 1)]
    for i in np.flatnonzero(nodes >= len(graph_keys)):
        keys[i] = f"query {nodes[i] - len(graph_keys)}"
    values = np.full(len(nodes), "", dtype=object)
    for name, similar in similarity.items():
        finite = np.isfinite(similar)
        shown = np.array([f"{name} {value:.2f}" for value in similar.tolist()], dtype=object)
        values = np.where(finite, np.where(values == "", shown, values + "; " + shown), values)
    return np.where(values == "", keys, keys + " (" + values + ")")


def _evidence_views(stage, side: str) -> dict:
    """Similarity matrices of query nodes to other nodes (ids of one side), per view the stage has;
    only the rows asked for are read (a full matrix's stage holds every new compound)."""
    import torch

    x = stage.x[side]
    profile_mask = stage.masks.get(side, {}).get("profile")

    def unit(ids):
        rows = x[torch.as_tensor(ids)].cpu().numpy().astype(np.float64)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)

    def has(ids, mask):
        return np.ones(len(ids), bool) if mask is None else mask.cpu().numpy()[ids]

    def cosine(q, nodes):
        valid = has(q, profile_mask)[:, None] & has(nodes, profile_mask)[None, :]
        return np.where(valid, similarities(unit(q), unit(nodes), "cosine"), np.nan)

    views = {"profile": cosine}
    if "structure" in stage.views.get(side, {}):
        bits, present = stage.views[side]["structure"], stage.masks[side]["structure"]

        def tanimoto(q, nodes):
            a = bits[torch.as_tensor(q)].cpu().numpy().astype(np.float64)
            b = bits[torch.as_tensor(nodes)].cpu().numpy().astype(np.float64)
            valid = has(q, present)[:, None] & has(nodes, present)[None, :]
            return np.where(valid, similarities(a, b, "tanimoto"), np.nan)

        views["structure"] = tanimoto
    return views
