"""Scoring a model on a split's valid and test stages, behind one ``ModelEvaluator``
(``motive.Evaluator``, for predictions made elsewhere, scores through it).

Two protocols: the sampled one (each stage's positives against the split's stored 1:10
negatives: F1 at the validation threshold, Hits@K, AUROC, AUPRC, MRR, BCE, per-node AP), and the
filtered full ranking (every query node against every candidate its stage may see, known
positives of every stage filtered). Metric definitions and tie rules live in ``motive.evaluation.metrics``;
this module decides which pairs are scored and gathers the tables a run folder keeps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from motive import splits
from motive.data.graph import Graph
from motive.evaluation import calibration, full_ranking, intervals, metrics
from motive.models import StageGraph
from motive.names import STAGES, negatives_key

EVALUATED = ("valid", "test")


def evaluated_stages(split: splits.Split) -> tuple[str, ...]:
    """The stages a run is evaluated on: valid and test, or valid alone for a final model."""
    return ("valid",) if split.config.final else EVALUATED


def query_side(split_name: str) -> str:
    """The side a prediction is asked for: the held-out genes of cold_target, compounds otherwise."""
    return "target" if split_name == "cold_target" else "source"


def query_nodes(split_name: str, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """MRR's query nodes (see ``query_side``)."""
    return targets if query_side(split_name) == "target" else sources


@dataclass
class Pairs:
    """The scored pairs of one stage: its supervision positives, then its stored negatives."""

    sources: np.ndarray
    targets: np.ndarray
    labels: np.ndarray


def eval_pairs(graph: Graph, split: splits.Split, stage: str, negatives: str = "uniform") -> Pairs:
    """A stage's positives and its stored negatives of kind ``negatives`` (uniform or degree)."""
    s, t = split.supervision(graph, stage)
    negatives = split.negatives[negatives_key(stage, negatives)]
    sources = np.concatenate([s, negatives["source"].to_numpy(np.int64)])
    targets = np.concatenate([t, negatives["target"].to_numpy(np.int64)])
    labels = np.r_[np.ones(len(s), np.int8), np.zeros(len(negatives), np.int8)]
    return Pairs(sources, targets, labels)


def monitor_value(name: str, scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Higher is better (BCE is negated)."""
    functions = {
        "hits": lambda: metrics.hits_at_k(scores, labels, k),
        "auprc": lambda: metrics.auprc(scores, labels),
        "auroc": lambda: metrics.auroc(scores, labels),
        "bce": lambda: -metrics.bce(scores, labels),
    }
    return functions[name]()


@dataclass
class Evaluation:
    """What an evaluation found: metrics per stage (name -> value), the scored pairs
    (``predictions.parquet``), per-node AP (``per_node_ap.parquet``), the full ranking's rows
    (``ranking.parquet``, None without it) and its seconds per stage (kept out of the metrics)."""

    metrics: dict[str, dict] = field(default_factory=dict)
    predictions: list[pd.DataFrame] = field(default_factory=list)
    per_node: list[pd.DataFrame] = field(default_factory=list)
    rankings: list[pd.DataFrame] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    calibration: dict | None = None  # expected precision per rank, fitted on valid (motive.evaluation.calibration)

    @property
    def ranking(self) -> pd.DataFrame | None:
        return pd.concat(self.rankings, ignore_index=True) if self.rankings else None

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """predictions and per-node AP, one table each."""
        return pd.concat(self.predictions, ignore_index=True), pd.concat(self.per_node, ignore_index=True)


class ModelEvaluator:
    """Scores a model on the valid and test stages of one (graph, split): ``monitor`` for the
    training loop's best epoch, ``evaluate`` for a run's metrics and tables."""

    def __init__(
        self,
        graph: Graph,
        split: splits.Split,
        split_name: str,
        hits_k: int,
        *,
        ranking: bool = False,
        negatives: str = "uniform",
        bootstrap: int = 0,
        calibrate: bool = False,
        query_similarity: np.ndarray | None = None,
    ):
        """``query_similarity``: each compound's structure similarity to its nearest training
        compound (``nearest_training_similarity``); the full ranking then reports MRR per bin."""
        self.query_similarity = query_similarity
        self.graph, self.split, self.split_name = graph, split, split_name
        self.hits_k, self.ranking, self.negatives, self.bootstrap = hits_k, ranking, negatives, bootstrap
        self.calibrate = calibrate
        self._pairs: dict[str, Pairs] = {}

    def pairs(self, stage: str) -> Pairs:
        if stage not in self._pairs:
            self._pairs[stage] = eval_pairs(self.graph, self.split, stage, self.negatives)
        return self._pairs[stage]

    def monitor(self, model, stage_graph: StageGraph, name: str, queries: int | None = None) -> float:
        """The validation value of ``name`` (hits, auprc, auroc or bce on the stored pairs; mrr:
        the filtered full ranking's MRR, over at most ``queries`` query nodes (``monitored``);
        higher is better)."""
        if name == "mrr":
            ranking = ranking_evaluation(
                self.graph, self.split, stage_graph, model, self.split_name, frequent_hitters=False, queries=queries
            )
            return full_ranking.ranking_metrics(ranking)["mrr"]
        pairs = self.pairs(stage_graph.stage)
        scores = model.score(stage_graph, pairs.sources, pairs.targets)
        return monitor_value(name, scores, pairs.labels, self.hits_k)

    def evaluate(self, model, stages: dict[str, StageGraph]) -> Evaluation:
        """Metrics and tables of valid and test; the F1 threshold is chosen on valid."""
        found, threshold = Evaluation(), None
        cache = stages["valid"].cache  # a function of the graph and split: once per stage graph
        if "seen_in_training" not in cache:
            cache["seen_in_training"] = seen_in_training(self.graph, self.split)
            for flags in cache["seen_in_training"].values():
                flags.flags.writeable = False
        seen = cache["seen_in_training"]
        for stage in evaluated_stages(self.split):
            pairs = self.pairs(stage)
            scores = model.score(stages[stage], pairs.sources, pairs.targets)
            ranked = metrics.SortedScores(scores, pairs.labels)  # sorted once for every metric of the stage
            if threshold is None:
                threshold = ranked.best_threshold()
            nodes = query_nodes(self.split_name, pairs.sources, pairs.targets)
            found.metrics[stage] = ranked.evaluate(threshold, nodes, self.hits_k)
            found.predictions.append(self._predictions(stage, pairs, scores))
            found.metrics[stage] |= self._per_node(stage, pairs, ranked, seen, found.per_node)
            resamples = self.bootstrap if stage == "test" else 0  # intervals of the test numbers
            if resamples:
                found.metrics[stage]["auroc_ci"] = intervals.auroc_interval(scores, pairs.labels, nodes, resamples)
            if self.ranking:
                started = time.perf_counter()
                found.rankings.append(self._ranking(stage, stages[stage], model))
                found.metrics[stage] |= full_ranking_metrics(found.rankings[-1], resamples)
                found.seconds[stage] = round(time.perf_counter() - started, 2)
        if self.calibrate:
            ranked = dict(zip(evaluated_stages(self.split), found.rankings, strict=False)) if self.ranking else {}
            valid = ranked.get("valid")
            if valid is None:  # the validation ranking alone: what expected precision is fitted on
                valid = self._ranking("valid", stages["valid"], model)
            found.calibration = calibration.fit(valid, ranked.get("test"))
        return found

    def _ranking(self, stage: str, stage_graph: StageGraph, model) -> pd.DataFrame:
        """The stage's full ranking, each positive with its partner's training degree and bin."""
        frame = ranking_evaluation(self.graph, self.split, stage_graph, model, self.split_name)
        other = "target" if query_side(self.split_name) == "source" else "source"
        degree = training_degrees(self.graph, self.split, other)
        keys = self.graph.targets.keys if other == "target" else self.graph.sources.keys
        frame["partner_degree"] = degree[keys.get_indexer(frame["partner"])]
        frame["degree_bin"] = degree_bins(degree, frame["partner_degree"].to_numpy())
        if self.query_similarity is not None and query_side(self.split_name) == "source":
            nearest = self.query_similarity[self.graph.sources.keys.get_indexer(frame["query"])]
            frame["query_similarity"] = nearest
            frame["similarity_bin"] = similarity_bins(nearest)
        return frame

    def _predictions(self, stage: str, pairs: Pairs, scores: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "source": self.graph.sources.keys.array.take(pairs.sources),  # strings stay arrow's: no Python objects
                "target": self.graph.targets.keys.array.take(pairs.targets),
                "score": scores,
                "label": pairs.labels,
                "stage": stage,
            }
        )

    def _per_node(self, stage: str, pairs: Pairs, ranked: metrics.SortedScores, seen: dict, tables: list) -> dict:
        """Mean AP per node of each side (all, seen in training, unseen); appends the tables."""
        values = {}
        keys = {"source": self.graph.sources.keys, "target": self.graph.targets.keys}
        for side, nodes in (("source", pairs.sources), ("target", pairs.targets)):
            found = ranked.average_precision_per_node(nodes)
            node, ap = found["node"].to_numpy(np.int64), found["ap"].to_numpy()
            flags = seen[side][node]
            table = {"stage": stage, "node_type": side, "node": keys[side].array.take(node), "ap": ap}
            table |= {"n_pos": found["n_pos"].to_numpy(), "n_neg": found["n_neg"].to_numpy(), "seen": flags}
            tables.append(pd.DataFrame(table))  # built once: no inserts into a frame
            for flag in (False, True):  # unseen, then seen: metrics.json's order
                if (flags == flag).any():
                    values[f"{side}_map_{'seen' if flag else 'unseen'}"] = float(np.mean(ap[flags == flag]))
            values[f"{side}_map"] = float(np.mean(ap)) if len(ap) else float("nan")
        return values


def full_ranking_metrics(ranking: pd.DataFrame, bootstrap: int = 0) -> dict:
    """The ``full_*`` metrics of one stage's ranking: MRR, Hits@k, mAP, success@k, their adjusted
    versions and macro Hits@k, R-precision and the Fisher odds ratio, per candidate-degree bin
    (``full_mrr_deg_unseen``, ``full_mrr_deg_q1`` ...), and with ``bootstrap`` resamples the
    intervals ``full_NAME_ci`` of the headline ones."""
    values = full_ranking.ranking_metrics(ranking) | full_ranking.adjusted_ranking_metrics(ranking)
    values |= full_ranking.enrichment(ranking)
    for column, tag in (("degree_bin", "deg"), ("similarity_bin", "sim")):
        if column not in ranking:
            continue
        for label, part in ranking.groupby(column, sort=True):
            ranked = full_ranking.ranking_metrics(part)
            values |= {f"mrr_{tag}_{label}": ranked["mrr"], f"hits@10_{tag}_{label}": ranked["hits@10"]}
            values[f"positives_{tag}_{label}"] = ranked["positives"]
    if "frequent_hitters" in ranking.attrs:
        values["frequent_hitters"] = ranking.attrs["frequent_hitters"]
    if bootstrap:
        bounds = intervals.ranking_intervals(ranking, 10, bootstrap)
        values |= {f"{name}_ci": interval for name, interval in bounds.items()}
    return {f"full_{name}": value for name, value in values.items()}


SIMILARITY_EDGES = (0.3, 0.5, 0.7)  # Tanimoto bins of a query's nearest training compound
FREQUENT_TOP = 15  # a frequent hitter sits in the top 15 of more than half of the queries


def similarity_bins(nearest: np.ndarray) -> np.ndarray:
    """``0.0`` (below 0.3), ``0.3``, ``0.5``, ``0.7`` (at least 0.7): each bin by its lower edge;
    ``none`` for a compound without a structure."""
    labels = np.array(["0.0", "0.3", "0.5", "0.7"], dtype=object)[np.searchsorted(SIMILARITY_EDGES, nearest, "right")]
    return np.where(np.isnan(nearest), "none", labels)


def nearest_training_similarity(graph: Graph, split: splits.Split, bits: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Every compound's Tanimoto similarity to its most similar other compound with a training ST
    edge (message or train), NaN for a compound without a structure."""
    s, _ = graph.endpoints("st")
    trained = np.zeros(len(graph.sources), bool)
    trained[s[split.message_mask("st", "train") | (split.subsets["st"] == "train")]] = True
    reference = np.flatnonzero(trained & present)
    nearest = np.full(len(graph.sources), np.nan)
    from motive.data.views import similarity

    for start in range(0, len(graph.sources), 1024):
        rows = np.arange(start, min(start + 1024, len(graph.sources)))
        block = similarity("structure", bits, rows, reference)
        block[rows[:, None] == reference[None, :]] = -1.0  # not itself
        nearest[rows] = block.max(1, initial=-1.0).clip(min=0.0)
    nearest[~present] = np.nan
    return nearest


def training_degrees(graph: Graph, split: splits.Split, side: str) -> np.ndarray:
    """Every ``side`` node's degree among the ST edges a model trains on (message and train)."""
    s, t = graph.endpoints("st")
    trained = split.message_mask("st", "train") | (split.subsets["st"] == "train")
    ends, size = (s, len(graph.sources)) if side == "source" else (t, len(graph.targets))
    return np.bincount(ends[trained], minlength=size)


def degree_bins(degrees: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``unseen`` (no training edge), then ``q1``..``q4``: quartiles of the training degree among
    the side's nodes that have one (the same edges for every model of a split)."""
    trained = degrees[degrees > 0]
    if len(trained) == 0:
        return np.full(len(values), "unseen", dtype=object)
    edges = np.quantile(trained, [0.25, 0.5, 0.75])
    labels = np.array(["q1", "q2", "q3", "q4"], dtype=object)[np.searchsorted(edges, values, side="left")]
    return np.where(values == 0, "unseen", labels)


def seen_in_training(graph: Graph, split: splits.Split) -> dict[str, np.ndarray]:
    """Nodes that appear in any train-stage edge (message passing or supervision)."""
    seen = {"source": np.zeros(len(graph.sources), bool), "target": np.zeros(len(graph.targets), bool)}
    for (src, _, dst), (a, b) in split.message_passing(graph, "train").items():
        seen[src][a] = True
        seen[dst][b] = True
    s, t = split.supervision(graph, "train")
    seen["source"][s] = True
    seen["target"][t] = True
    return seen


def _sorted_by_query(query_ends: np.ndarray, partner_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(query_ends, kind="stable")
    return query_ends[order], partner_ends[order]


def ranking_evaluation(
    graph: Graph,
    split: splits.Split,
    stage_graph: StageGraph,
    model,
    split_name: str,
    frequent_hitters: bool = True,
    queries: int | None = None,
) -> pd.DataFrame:
    """Filtered full ranking of one stage (``metrics`` states the rules): every query node of the
    stage's positives is scored against every node of the other side the stage may see, and each
    positive is ranked among the candidates that are not a known positive of any stage. One row per
    positive: query, partner, score, optimistic / pessimistic / realistic rank, candidates; with
    ``frequent_hitters``, ``attrs["frequent_hitters"]`` (a monitor, which reads the MRR only, skips it).
    With ``queries``, only that many query nodes are ranked (``monitored``)."""
    stage = stage_graph.stage
    side = query_side(split_name)
    other = "target" if side == "source" else "source"
    s, t = split.supervision(graph, stage)
    query_ends, partner_ends = _sorted_by_query(*((s, t) if side == "source" else (t, s)))
    every = np.unique(query_ends)
    queries = monitored(every, queries)
    if len(queries) < len(every):
        kept = np.isin(query_ends, queries)
        query_ends, partner_ends = query_ends[kept], partner_ends[kept]
    candidates = np.flatnonzero(split.node_stage[other] <= STAGES.index(stage))
    position = np.full(len(graph.targets) if other == "target" else len(graph.sources), -1)
    position[candidates] = np.arange(len(candidates))
    all_s, all_t = graph.endpoints("st")
    known_query, known_partner = _sorted_by_query(*((all_s, all_t) if side == "source" else (all_t, all_s)))
    rows, top_counts = [], np.zeros(len(candidates), np.int64)
    for start, block in model.score_blocks(stage_graph, side, queries, candidates):
        block = np.asarray(block)  # a learned model's float32: compared as it is, reported in float64
        chosen = queries[start : start + len(block)]
        # the block's positives (row, candidate) and its known pairs, filtered out of the candidates
        lo, hi = np.searchsorted(query_ends, [chosen[0], chosen[-1] + 1])
        row = np.searchsorted(chosen, query_ends[lo:hi])
        positive = position[partner_ends[lo:hi]]
        k_lo, k_hi = np.searchsorted(known_query, [chosen[0], chosen[-1] + 1])
        known = position[known_partner[k_lo:k_hi]]
        known_row = np.minimum(np.searchsorted(chosen, known_query[k_lo:k_hi]), len(chosen) - 1)
        filtered = (known >= 0) & (chosen[known_row] == known_query[k_lo:k_hi])  # a query of this block
        filtered = (known_row[filtered], known[filtered])
        score = block[row, positive]
        optimistic, pessimistic = full_ranking.filtered_ranks_of(block, filtered, row, score)
        width = block.shape[1]
        removed = np.bincount(np.unique(filtered[0] * width + filtered[1]) // width, minlength=len(block))
        count = (width - removed)[row]  # candidates less the distinct filtered ones
        rows.append((query_ends[lo:hi], partner_ends[lo:hi], score.astype(np.float64), optimistic, pessimistic, count))
        if frequent_hitters:
            top_counts += _top_counts(block, filtered, FREQUENT_TOP)
    query, partner, score, optimistic, pessimistic, count = (
        np.concatenate(column) for column in zip(*rows, strict=True)
    )
    keys = {"source": graph.sources.keys.array, "target": graph.targets.keys.array}
    frame = pd.DataFrame(
        {
            "stage": stage,
            "query_side": side,
            "query": keys[side].take(query),
            "partner": keys[other].take(partner),
            "score": score,
            "rank_optimistic": optimistic,
            "rank_pessimistic": pessimistic,
            "rank": (optimistic + pessimistic) / 2,
            "candidates": count,
        }
    )
    # candidates surely in the top FREQUENT_TOP of more than half of the queries (MOTIVE follow-up's check)
    if frequent_hitters:
        frame.attrs["frequent_hitters"] = int((top_counts > len(queries) / 2).sum())
    return frame


def monitored(queries: np.ndarray, most: int | None) -> np.ndarray:
    """At most ``most`` of the sorted ``queries``: a random subset drawn with a fixed seed, so
    every epoch and every model of a split ranks the same ones (all of them when ``most`` is None
    or not smaller)."""
    if most is None or len(queries) <= most:
        return queries
    return np.sort(np.random.default_rng(0).choice(queries, most, replace=False))


def _top_counts(block: np.ndarray, filtered: tuple[np.ndarray, np.ndarray], top: int) -> np.ndarray:
    """How many rows of ``block`` have each column surely among their ``top`` best unfiltered
    scores: at most ``top`` candidates score at least as high (its pessimistic rank), so a tie
    across the cut (a heuristic's zeros) counts for none of its members, whatever its order."""
    # a copy, float32 kept (the same order), a NaN score as -inf (never surely in the top)
    scores = np.fmax(block, -np.inf, dtype=np.result_type(block.dtype, np.float32))
    scores[filtered] = -np.inf
    top = min(top, scores.shape[1])
    best_scores, best = (t.numpy() for t in torch.topk(torch.from_numpy(scores), top, dim=1, sorted=False))
    cut = best_scores.min(1, keepdims=True)  # any top set: a score above its lowest is surely in,
    tied_outside = (scores == cut).sum(1, keepdims=True) > (best_scores == cut).sum(1, keepdims=True)
    keep = (best_scores > -np.inf) & ((best_scores > cut) | ~tied_outside)  # one equal if nothing outside ties
    return np.bincount(best[keep], minlength=block.shape[1])
