"""Negative sampling: the paper's Algorithm 1 ("batch") and a "global" mode, unbiased.

A negative is a (source, target) pair drawn uniformly from a stage's allowed pool, never a
known positive of the graph (any split), never a node the stage must not see, and distinct
within one draw. Pairs are int64 keys ``source * n_targets + target``; membership is a binary
search in the sorted positive keys, so no (candidates x positives) matrix is ever built.

Pools (``stage-visible ST edges`` = message-passing plus supervision ST edges of the stage):
- batch, random: heads = sources of the batch's positives, tails = their targets (paper 3.5);
- batch, cold_source: heads = the batch's sources, tails = targets of stage-visible ST edges;
- batch, cold_target: symmetric; batch, cold_both: the batch's sources x the batch's targets;
- global: the cold side's pool is every node held out for this stage that has an ST edge, the
  other side's every node of a stage-visible ST edge (random split: both sides from those edges).
Validation/test negatives are drawn once per split and seed (``draw_eval_negatives``) and
stored with the split; training negatives are redrawn per batch.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from motive.data.graph import Graph
from motive.errors import MotiveError
from motive.names import COLD_SIDES, STAGES

if TYPE_CHECKING:
    from motive.splits import Split

log = logging.getLogger(__name__)
EXACT_ENUMERATION_LIMIT = 4_000_000  # pools up to this many pairs are enumerated when nearly exhausted


def positive_keys(graph: Graph) -> np.ndarray:
    s, t = graph.endpoints("st")
    return np.unique(s * len(graph.targets) + t)


def is_member(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), bool)
    index = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[index] == keys


def sample_pairs(
    heads: np.ndarray,
    tails: np.ndarray,
    n: int,
    forbidden: np.ndarray,
    n_targets: int,
    rng: np.random.Generator,
    strict: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct pairs uniform over heads x tails minus ``forbidden`` keys (sorted int64).

    Rejection sampling keeps the draw uniform; when the request is close to the pool size the
    allowed pairs are enumerated and ``n`` of them chosen without replacement. With
    ``strict=False`` a too-small pool yields all of its pairs instead of an error.
    """
    heads, tails = np.unique(heads), np.unique(tails)
    pool = len(heads) * len(tails)
    inside = (
        forbidden[np.isin(forbidden // n_targets, heads) & np.isin(forbidden % n_targets, tails)]
        if pool
        else forbidden[:0]
    )
    capacity = pool - len(inside)
    if n > capacity:
        if strict:
            raise MotiveError(
                f"only {capacity} allowed negative pairs for {n} requested ({len(heads)} sources x {len(tails)} "
                "targets); use a lower ratio or negative mode 'global'"
            )
        n = capacity
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if 2 * n > capacity and pool <= EXACT_ENUMERATION_LIMIT:
        keys = (heads[:, None] * n_targets + tails[None, :]).ravel()
        keys = keys[~is_member(keys, inside)]
        chosen = keys[rng.choice(len(keys), n, replace=False)]
        return chosen // n_targets, chosen % n_targets
    chosen = np.zeros(0, np.int64)
    while len(chosen) < n:
        draw = 2 * (n - len(chosen)) + 16
        keys = heads[rng.integers(0, len(heads), draw)] * n_targets + tails[rng.integers(0, len(tails), draw)]
        keys = keys[~is_member(keys, inside)]
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]  # distinct, in draw order (keeps the draw uniform)
        keys = keys[~np.isin(keys, chosen)]
        chosen = np.concatenate([chosen, keys[: n - len(chosen)]])
    return chosen // n_targets, chosen % n_targets


class NegativeSampler:
    """Negatives for one stage of one split."""

    def __init__(self, graph: Graph, split: Split, stage: str, mode: str | None = None):
        if stage not in STAGES:
            raise MotiveError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
        self.mode = mode or split.config.negative_mode
        if self.mode not in ("batch", "global"):
            raise MotiveError(f"unknown negative mode {self.mode!r}; expected 'batch' or 'global'")
        self.cold = COLD_SIDES[split.config.split]
        self.n_targets = len(graph.targets)
        self.forbidden = positive_keys(graph)
        s, t = graph.endpoints("st")
        visible = split.message_mask("st", stage) | (split.subsets["st"] == stage)
        self.visible_sources, self.visible_targets = np.unique(s[visible]), np.unique(t[visible])
        # Held-out nodes of this stage that have any ST edge (the cold side's global pool).
        k = STAGES.index(stage)
        self.stage_sources = np.intersect1d(np.flatnonzero(split.node_stage["source"] == k), s)
        self.stage_targets = np.intersect1d(np.flatnonzero(split.node_stage["target"] == k), t)

    def pools(self, batch_sources: np.ndarray, batch_targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.mode == "global":
            heads = self.stage_sources if "source" in self.cold else self.visible_sources
            tails = self.stage_targets if "target" in self.cold else self.visible_targets
            return heads, tails
        if not self.cold:
            return np.unique(batch_sources), np.unique(batch_targets)
        heads = np.unique(batch_sources) if "source" in self.cold else self.visible_sources
        tails = np.unique(batch_targets) if "target" in self.cold else self.visible_targets
        return heads, tails

    def sample(
        self,
        batch_sources: np.ndarray,
        batch_targets: np.ndarray,
        ratio: int,
        rng: np.random.Generator,
        strict: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        heads, tails = self.pools(batch_sources, batch_targets)
        return sample_pairs(heads, tails, ratio * len(batch_sources), self.forbidden, self.n_targets, rng, strict)

    def corrupt(
        self,
        batch_sources: np.ndarray,
        batch_targets: np.ndarray,
        query_side: str,
        rng: np.random.Generator,
        tries: int = 20,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One negative per positive that keeps its ``query_side`` node and replaces the other end
        by a uniform draw from the batch's allowed pool (BPR pairs). Known positives are redrawn up
        to ``tries`` times; positives still without a negative are dropped (returned mask)."""
        heads, tails = self.pools(batch_sources, batch_targets)
        pool = tails if query_side == "source" else heads
        neg_s, neg_t = batch_sources.copy(), batch_targets.copy()
        pending = np.arange(len(batch_sources))
        for _ in range(tries):
            draws = pool[rng.integers(0, len(pool), len(pending))]
            if query_side == "source":
                neg_t[pending] = draws
            else:
                neg_s[pending] = draws
            pending = pending[is_member(neg_s[pending] * self.n_targets + neg_t[pending], self.forbidden)]
            if len(pending) == 0:
                break
        kept = np.ones(len(batch_sources), bool)
        kept[pending] = False
        return neg_s[kept], neg_t[kept], kept


def draw_eval_negatives(graph: Graph, split: Split, stage: str) -> tuple[pd.DataFrame, str]:
    """The stored 1:eval_ratio negatives of a valid/test stage, and the mode that drew them.

    The whole stage is one batch. When the paper's batch pool is too small for the ratio (tiny
    evaluation sets of a random split), the global pool is used instead, and the returned mode
    says so (it is saved with the split).
    """
    rng = np.random.default_rng([split.config.seed, STAGES.index(stage), 0x4E4547])
    s, t = split.supervision(graph, stage)
    mode = split.config.negative_mode
    if len(s) == 0:
        return pd.DataFrame({"source": np.zeros(0, np.int64), "target": np.zeros(0, np.int64)}), mode
    try:
        neg_s, neg_t = NegativeSampler(graph, split, stage, mode).sample(
            s, t, split.config.eval_ratio, rng, strict=True
        )
    except MotiveError:
        if mode == "global":
            raise
        mode = "global"
        log.warning(
            "%s: batch negative pool too small for 1:%d, drawing from the global pool", stage, split.config.eval_ratio
        )
        neg_s, neg_t = NegativeSampler(graph, split, stage, mode).sample(
            s, t, split.config.eval_ratio, rng, strict=True
        )
    frame = pd.DataFrame({"source": neg_s, "target": neg_t}).sort_values(["source", "target"], ignore_index=True)
    return frame, mode


def candidate_degrees(graph: Graph, split: Split, stage: str, side: str) -> np.ndarray:
    """Every ``side`` node's degree among the ST edges the stage passes messages over (what a
    degree-only scorer such as popularity counts)."""
    s, t = graph.endpoints("st")
    visible = split.message_mask("st", stage)
    ends, size = (s, len(graph.sources)) if side == "source" else (t, len(graph.targets))
    return np.bincount(ends[visible], minlength=size)


def _stage_nodes(graph: Graph, split: Split, stage: str, side: str) -> np.ndarray:
    """The ``side`` nodes a stage's negatives may use: on a cold side exactly the stage's held-out
    nodes, elsewhere every node the stage may see; in both cases only nodes with an ST edge."""
    stages = split.node_stage[side]
    k = STAGES.index(stage)
    allowed = stages == k if side in COLD_SIDES[split.config.split] else stages <= k
    all_s, all_t = graph.endpoints("st")
    return np.intersect1d(np.flatnonzero(allowed), all_s if side == "source" else all_t)


def draw_degree_negatives(graph: Graph, split: Split, stage: str, rounds: int = 8) -> pd.DataFrame:
    """Degree-matched 1:eval_ratio negatives of a valid/test stage.

    The rule: each negative keeps a positive's query node (the compound; the gene for
    cold_target) and takes, uniformly, a partner of exactly the same degree among the stage's
    visible ST edges (candidates: the nodes the stage may see, on a cold side exactly its
    held-out nodes, with an ST edge). Where no such partner is free (a hub whose degree no other
    node has, or whose peers are all the query's known partners), the negative keeps the
    positive's partner instead and takes a query node of the same degree. Never a known positive,
    never a duplicate.

    What is still left (the saturated hubs of a small graph, where the few nodes of a degree are
    the query's own partners) takes the nearest free degrees below and above in turns; the shift
    that costs is repaid by moving other negatives of the same query to the nearest free degree
    the other way, and where nothing can move, the negatives furthest on the heavy side are
    thinned (``_repay``).

    The guarantee: a score of the partner's degree alone (popularity) has an AUROC within 0.001
    of 0.5 on graphs of every size and split (tests/test_negatives.py over synthetic scales 0.05
    to 1). The limit: on a small graph some positives keep fewer than eval_ratio negatives (7.3
    per positive on cold_source at scale 0.05, seed 3). Aiyappa et al. (ICML 2025) correct degree
    bias the same way; drawing in proportion to degree instead leaves it off 0.5, because a
    held-out edge lowers its own partner's visible degree."""
    rng = np.random.default_rng([split.config.seed, STAGES.index(stage), 0x444547])
    query_side = "target" if split.config.split == "cold_target" else "source"
    other = "target" if query_side == "source" else "source"
    ratio = split.config.eval_ratio
    s, t = split.supervision(graph, stage)
    queries = np.repeat(s if query_side == "source" else t, ratio)
    partners = np.repeat(t if query_side == "source" else s, ratio)
    candidates = _stage_nodes(graph, split, stage, other)
    if len(queries) == 0 or len(candidates) == 0:
        return pd.DataFrame({"source": np.zeros(0, np.int64), "target": np.zeros(0, np.int64)})
    degree = candidate_degrees(graph, split, stage, other)
    query_degree = candidate_degrees(graph, split, stage, query_side)
    n_targets, forbidden = len(graph.targets), positive_keys(graph)

    def key(query, partner):
        return query * n_targets + partner if query_side == "source" else partner * n_targets + query

    # Same-degree partners, drawn uniformly by rejection: most requests are served here.
    by_degree = candidates[np.argsort(degree[candidates], kind="stable")]
    low = np.searchsorted(degree[by_degree], degree[partners], "left")
    size = np.searchsorted(degree[by_degree], degree[partners], "right") - low
    accepted, pending = np.zeros(0, np.int64), np.flatnonzero(size > 0)
    for _ in range(rounds):
        drawn = by_degree[low[pending] + (rng.random(len(pending)) * size[pending]).astype(np.int64)]
        keys = key(queries[pending], drawn)
        _, first = np.unique(keys, return_index=True)
        good = np.zeros(len(keys), bool)
        good[first] = True
        good &= ~is_member(keys, forbidden) & ~np.isin(keys, accepted)
        accepted = np.concatenate([accepted, keys[good]])
        pending = pending[~good]
    left = np.union1d(pending, np.flatnonzero(size == 0))
    # The rest, one positive at a time, enumerating what is free.
    query_nodes = _stage_nodes(graph, split, stage, query_side)
    taken = set(np.concatenate([forbidden, accepted]).tolist())
    missing = 0
    for requests in np.split(left, np.flatnonzero(np.diff(left // ratio)) + 1) if len(left) else []:
        query, partner = queries[requests[0]], partners[requests[0]]
        same = by_degree[degree[by_degree] == degree[partner]]
        keys = [k for k in key(query, rng.permutation(same)).tolist() if k not in taken][: len(requests)]
        if len(keys) < len(requests):  # keep the partner, take a query of the same degree
            peers = query_nodes[query_degree[query_nodes] == query_degree[query]]
            keys += [k for k in key(rng.permutation(peers), partner).tolist() if k not in taken][
                : len(requests) - len(keys)
            ]
        if len(keys) < len(requests):  # nearest degrees below and above the partner's, in turns
            need = len(requests) - len(keys)
            keys += _nearest_free(partial(key, query), by_degree, degree, degree[partner], taken, keys, need, rng)
        missing += len(requests) - len(keys)
        taken.update(keys)
        accepted = np.concatenate([accepted, np.asarray(keys, np.int64)])
    if missing:
        log.info("%s: %d degree-matched negatives could not be drawn (no free node of the degree)", stage, missing)
    accepted = _repay(accepted, degree[partners[::ratio]], by_degree, degree, taken, query_side, n_targets, rng)
    frame = pd.DataFrame({"source": accepted // n_targets, "target": accepted % n_targets})
    return frame.sort_values(["source", "target"], ignore_index=True)


def _nearest_free(
    keys_of, by_degree: np.ndarray, degree: np.ndarray, wanted: int, taken: set, chosen: list, need: int, rng
) -> list[int]:
    """``need`` free pair keys (``keys_of(nodes)``) whose node is nearest ``wanted`` in degree, in
    turns below and above; the window of nodes looked at grows until enough are free."""
    width, sorted_degree, chosen = 16, degree[by_degree], set(chosen)
    while True:
        nearest = keys_of(_nearest_in_turns(by_degree, sorted_degree, wanted, width, rng)).tolist()
        found = [k for k in nearest if k not in taken and k not in chosen][:need]
        if len(found) == need or width >= len(by_degree):
            return found
        width *= 4


def _nearest_in_turns(
    nodes: np.ndarray, sorted_degree: np.ndarray, wanted: int, width: int, rng: np.random.Generator
) -> np.ndarray:
    """Of ``nodes`` (sorted by degree), about the ``width`` nearest below and above ``wanted`` (whole
    degree groups), nearest first, taken in turns from below and from above (the first side at
    random; ties in random order); one side's nodes follow alone once the other has none left."""
    low, high = np.searchsorted(sorted_degree, wanted, "left"), np.searchsorted(sorted_degree, wanted, "right")
    start = np.searchsorted(sorted_degree, sorted_degree[max(low - width, 0)], "left") if low else 0
    end = (
        np.searchsorted(sorted_degree, sorted_degree[min(high + width, len(nodes)) - 1], "right")
        if high < len(nodes)
        else high
    )
    below, above = nodes[start:low], nodes[high:end]
    below = below[np.lexsort((rng.random(len(below)), wanted - sorted_degree[start:low]))]
    above = above[np.lexsort((rng.random(len(above)), sorted_degree[high:end] - wanted))]
    first, second = (below, above) if rng.random() < 0.5 else (above, below)
    turns = np.empty(len(first) + len(second), np.int64)
    both = min(len(first), len(second))
    turns[0 : 2 * both : 2], turns[1 : 2 * both : 2] = first[:both], second[:both]
    turns[2 * both :] = first[both:] if len(first) > both else second[both:]
    return turns


def _repay(
    keys: np.ndarray,
    positive_degrees: np.ndarray,
    by_degree: np.ndarray,
    degree: np.ndarray,
    taken: set,
    query_side: str,
    n_targets: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Negatives moved until a score of the partner's degree ranks positives above negatives as
    often as below (AUROC within 0.001 of 0.5): what the fallbacks of a small graph cost (a hub's
    negatives at lower degrees) is paid back by other negatives of the same query, drawn in random
    order, each moved to the nearest free degree on the other side (up when negatives sit too
    low, down when too high). When nothing is left to move (a tiny graph's saturated hubs), the
    negatives furthest on the heavy side are thinned instead."""
    ranked = np.sort(positive_degrees)

    def above(x):  # share of positives a negative of degree x sits below (ties count half)
        left, right = np.searchsorted(ranked, x, "left"), np.searchsorted(ranked, x, "right")
        return (len(ranked) - right + 0.5 * (right - left)) / len(ranked)

    def pair(query, partner):
        return query * n_targets + partner if query_side == "source" else partner * n_targets + query

    query, partner = (
        (keys // n_targets, keys % n_targets) if query_side == "source" else (keys % n_targets, keys // n_targets)
    )
    debt = above(degree[partner]).sum() - 0.5 * len(keys)  # > 0: negatives sit too low
    sign = 1 if debt > 0 else -1
    debt, tolerance = abs(debt), 1e-3 * len(keys)  # an AUROC within 0.001 of 0.5 is left as drawn
    sorted_degree = degree[by_degree]
    moved = True
    while debt > tolerance and moved:  # each pass moves a negative at most once
        moved = False
        for i in rng.permutation(len(keys)):
            if debt <= tolerance:
                break
            if sign > 0:
                further = by_degree[np.searchsorted(sorted_degree, degree[partner[i]], "right") :]
            else:
                further = by_degree[: np.searchsorted(sorted_degree, degree[partner[i]], "left")][::-1]
            for candidate in further:
                if pair(query[i], candidate) in taken:
                    continue
                gain = sign * (above(degree[partner[i]]) - above(degree[candidate]))
                if gain <= 2 * debt:  # never a step past the balance by more than it repays
                    taken.add(pair(query[i], candidate))
                    taken.discard(int(keys[i]))
                    keys[i], partner[i], debt, moved = pair(query[i], candidate), candidate, debt - gain, True
                break
    if debt > tolerance:
        excess = sign * (above(degree[partner]) - 0.5)
        order = np.lexsort((rng.random(len(keys)), -excess))
        dropped = np.searchsorted(np.cumsum(excess[order]), debt) + 1
        keys = np.delete(keys, order[:dropped])
        log.info("%d degree-matched negatives thinned to keep degree at chance (a small graph)", dropped)
    return keys
