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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from motive.errors import MotiveError
from motive.graph import Graph
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


DEGREE_WINDOW = 20  # a positive's negatives come from the 20 candidates nearest its partner in degree


def draw_degree_negatives(graph: Graph, split: Split, stage: str, tries: int = 200) -> pd.DataFrame:
    """Degree-matched 1:eval_ratio negatives of a valid/test stage: each keeps a positive's query
    node (the compound; the gene for cold_target) and replaces its partner by a candidate of about
    the same degree among the stage's visible ST edges: one of the ``DEGREE_WINDOW`` candidates
    nearest the partner in that degree (ties by id), uniformly. Candidates are those the stage
    may see (on a cold side, exactly the stage's held-out nodes) that have an ST edge. Never a
    known positive, never a duplicate; a query whose candidates run out keeps fewer.

    Positives and negatives then share one distribution of candidate degree, so a score of the
    candidate's degree alone (popularity) has an AUROC close to 0.5 (Aiyappa et al., ICML 2025,
    correct degree bias the same way). Drawing in proportion to degree instead leaves it off
    0.5: a held-out edge lowers its own partner's visible degree, so positives sit lower."""
    rng = np.random.default_rng([split.config.seed, STAGES.index(stage), 0x444547])
    query_side = "target" if split.config.split == "cold_target" else "source"
    other = "target" if query_side == "source" else "source"
    s, t = split.supervision(graph, stage)
    queries = np.repeat(s if query_side == "source" else t, split.config.eval_ratio)
    partners = np.repeat(t if query_side == "source" else s, split.config.eval_ratio)
    all_s, all_t = graph.endpoints("st")
    k = STAGES.index(stage)
    stages = split.node_stage[other]
    allowed = stages == k if other in COLD_SIDES[split.config.split] else stages <= k
    candidates = np.intersect1d(np.flatnonzero(allowed), all_s if other == "source" else all_t)
    if len(queries) == 0 or len(candidates) == 0:
        return pd.DataFrame({"source": np.zeros(0, np.int64), "target": np.zeros(0, np.int64)})
    degree = candidate_degrees(graph, split, stage, other)
    by_degree = candidates[np.argsort(degree[candidates], kind="stable")]
    position = np.full(len(stages), -1)
    position[by_degree] = np.arange(len(by_degree))
    n_targets, forbidden = len(graph.targets), positive_keys(graph)
    accepted, pending = np.zeros(0, np.int64), np.arange(len(queries))
    for attempt in range(tries):
        # a query whose nearest candidates are all taken looks a little further each 5 tries
        width = min(DEGREE_WINDOW * 2 ** (attempt // 5), len(by_degree))
        centre = position[partners[pending]]
        low = np.clip(centre - width // 2, 0, len(by_degree) - width)
        drawn = by_degree[low + rng.integers(0, width, len(pending))]
        pair_s, pair_t = (queries[pending], drawn) if query_side == "source" else (drawn, queries[pending])
        keys = pair_s * n_targets + pair_t
        _, first = np.unique(keys, return_index=True)
        good = np.zeros(len(keys), bool)
        good[first] = True
        good &= ~is_member(keys, forbidden) & ~np.isin(keys, accepted)
        accepted = np.concatenate([accepted, keys[good]])
        pending = pending[~good]
        if len(pending) == 0:
            break
    if len(pending):
        log.info("%s: %d degree-matched negatives could not be drawn (candidates ran out)", stage, len(pending))
    frame = pd.DataFrame({"source": accepted // n_targets, "target": accepted % n_targets})
    return frame.sort_values(["source", "target"], ignore_index=True)
