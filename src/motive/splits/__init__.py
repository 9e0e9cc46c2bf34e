"""Splits: which edges pass messages and which are supervision at each stage, frozen on disk.

Owns the four splitters (random, cold_source, cold_target, cold_both), the per-stage visibility
rules of the official MOTIVE protocol. On disk a split is read and written by ``motive.splits.files``;
negatives live in ``negatives``; the guarantees are checked in ``audit``. A split never changes the graph.

Visibility (official rules): at stage ``train`` messages flow over ``message`` ST edges and
``train`` same-type edges, supervision is ``train``; at ``valid`` messages use message+train ST
edges and ``train`` same-type edges, supervision is ``valid``; at ``test`` messages use
message+train+valid ST edges and train+valid same-type edges, supervision is ``test``.
With ``side_edges`` a stage also sees every same-type edge whose two ends it may see: a held-out
gene's interactions and a held-out compound's similar compounds are side information known
before any of its links (a new gene's PPI partners, a new compound's structure), never a
compound-gene link. Every node carries the first stage that may see it (0 train, 1 valid, 2
test): held-out nodes of a cold split are invisible before their stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from motive.data.graph import EDGE_COLUMNS, Graph
from motive.errors import MotiveError
from motive.names import COLD_SIDES, SPLITS, STAGES, SUBSET_STAGE, negatives_key
from motive.splits.negatives import draw_degree_negatives, draw_eval_negatives

FINAL_RATIOS = (0.9, 0.1, 0.0)  # a final model: train / valid share of the held-out side, no test


@dataclass(frozen=True)
class SplitConfig:
    split: str
    seed: int = 0
    ratios: tuple[float, float, float] = (0.7, 0.1, 0.2)  # train / valid / test share of ST edges (paper)
    message_fraction: float = 0.6  # share of training ST edges used only for message passing (reference)
    eval_ratio: int = 10  # stored negatives per positive for valid and test (paper: 1:10)
    negative_mode: str = "batch"  # "batch" (paper Algorithm 1) or "global" (uniform over allowed pairs)
    # A final model's split: no test stage; the held-out share is FINAL_RATIOS' valid share, and
    # the test stage, empty, sees every known link (what prediction reads as evidence).
    final: bool = False

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise MotiveError(f"unknown split {self.split!r}; expected one of {', '.join(SPLITS)}")
        if self.final and self.ratios == (0.7, 0.1, 0.2):
            object.__setattr__(self, "ratios", FINAL_RATIOS)
        ratios = self.ratios
        if (
            len(ratios) != 3
            or min(ratios[:2]) <= 0
            or (ratios[2] != 0 if self.final else ratios[2] <= 0)
            or abs(sum(ratios) - 1) > 1e-9
        ):
            raise MotiveError(
                f"split ratios {ratios} must be three positive numbers summing to 1 (a final split's test share is 0)"
            )
        if not 0 <= self.message_fraction < 1:
            raise MotiveError(f"message fraction {self.message_fraction} must be in [0, 1)")


@dataclass
class Split:
    """A frozen split of one graph: subset labels per edge, node stages and stored eval negatives."""

    config: SplitConfig
    graph_hash: str
    subsets: dict[str, np.ndarray]  # edge kind -> subset label per edge (graph order)
    node_stage: dict[str, np.ndarray]  # "source"/"target" -> first stage that may see each node
    # "valid"/"test" (uniform, Algorithm 1) and "valid_degree"/"test_degree" -> source, target
    negatives: dict[str, pd.DataFrame] = field(default_factory=dict)
    negative_modes: dict[str, str] = field(default_factory=dict)  # mode that drew each stored set

    def to_frames(self, graph: Graph, negatives: str = "uniform") -> dict[str, pd.DataFrame]:
        """The split as TDC-style tables ``{"train", "valid", "test"}`` of (source, target, label,
        subset), node keys as in the graph: train holds every training positive (``message``
        pairs pass messages only, ``train`` pairs supervise; training negatives are drawn per
        batch, so there are none), valid and test their positives and the stored negatives of
        kind ``negatives`` (uniform or degree)."""
        s, t = graph.endpoints("st")
        keys = {"source": graph.sources.keys.to_numpy(), "target": graph.targets.keys.to_numpy()}
        subsets = self.subsets["st"]
        frames = {}
        for stage, kept in (("train", ("message", "train")), ("valid", ("valid",)), ("test", ("test",))):
            mask = np.isin(subsets, kept)
            parts = [pd.DataFrame({"source": s[mask], "target": t[mask], "label": 1, "subset": subsets[mask]})]
            if stage != "train":
                stored = self.negatives[negatives_key(stage, negatives)]
                parts.append(stored[["source", "target"]].assign(label=0, subset=f"{stage}_negative"))
            frame = pd.concat(parts, ignore_index=True)
            frame["source"] = keys["source"][frame["source"].to_numpy(np.int64)]
            frame["target"] = keys["target"][frame["target"].to_numpy(np.int64)]
            frames[stage] = frame.astype({"label": np.int8})
        return frames

    def supervision(self, graph: Graph, stage: str) -> tuple[np.ndarray, np.ndarray]:
        s, t = graph.endpoints("st")
        mask = self.subsets["st"] == stage
        return s[mask], t[mask]

    def message_mask(self, kind: str, stage: str, side_edges: bool = False) -> np.ndarray:
        """Edges of ``kind`` that pass messages at ``stage`` (official visibility rules; with
        ``side_edges`` every same-type edge between two nodes the stage may see)."""
        k = STAGES.index(stage)
        labels = self.subsets[kind]
        if self.config.final and k == 2:  # a final model's test stage: every known link, nothing held out
            return np.ones(len(labels), bool)
        if kind != "st" and side_edges:  # a same-type label is the later stage of its two ends
            return label_stages(labels) <= k
        if kind == "st":
            allowed = {0: ("message",), 1: ("message", "train"), 2: ("message", "train", "valid")}[k]
        else:
            allowed = ("train",) if k < 2 else ("train", "valid")
        return np.isin(labels, allowed)

    def message_edges(
        self, graph: Graph, kind: str, stage: str, side_edges: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        a, b = graph.endpoints(kind)
        mask = self.message_mask(kind, stage, side_edges)
        return a[mask], b[mask]

    def message_passing(
        self, graph: Graph, stage: str, side_edges: bool = False
    ) -> dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]:
        """Directed message edges of a stage, per relation: every undirected edge both ways."""
        s, t = self.message_edges(graph, "st", stage)
        relations = {("source", "binds", "target"): (s, t), ("target", "rev_binds", "source"): (t, s)}
        for kind, node, relation in (("ss", "source", "similar"), ("tt", "target", "interacts")):
            if kind in self.subsets:
                a, b = self.message_edges(graph, kind, stage, side_edges)
                relations[(node, relation, node)] = (np.concatenate([a, b]), np.concatenate([b, a]))
        return relations

    def tables(self, graph: Graph) -> dict[str, pd.DataFrame]:
        """Edge tables in the official split format (id columns + ``subset``)."""
        return {
            kind: graph.edges[kind][list(EDGE_COLUMNS[kind])].assign(subset=self.subsets[kind]) for kind in self.subsets
        }

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            kind: {str(label): int(n) for label, n in pd.Series(labels).value_counts().sort_index().items()}
            for kind, labels in self.subsets.items()
        }


def stratified_stages(
    degree: np.ndarray, ratios: tuple[float, float, float], rng: np.random.Generator, block: int = 20
) -> np.ndarray:
    """Assign nodes to stages 0/1/2 in the given ratios, stratified by degree.

    Nodes are ordered by degree (random tie-break) and cut into consecutive blocks; each block
    gets the ratio's share of each stage (largest-remainder rounding carried across blocks), so
    high- and low-degree nodes are held out alike.
    """
    n = len(degree)
    ratios_array = np.asarray(ratios)
    order = np.lexsort((rng.random(n), degree))
    stages = np.empty(n, np.int8)
    assigned = np.zeros(3, np.int64)
    for start in range(0, n, block):
        members = order[start : start + block]
        exact = ratios_array * (start + len(members))
        quota = np.floor(exact + 1e-9).astype(np.int64)
        quota[np.argsort(-(exact - quota), kind="stable")[: start + len(members) - quota.sum()]] += 1
        counts = np.maximum(quota - assigned, 0)
        counts[np.argmax(counts)] += len(members) - counts.sum()
        stages[members] = rng.permutation(np.repeat(np.arange(3, dtype=np.int8), counts))
        assigned += counts
    return stages


def label_stages(labels: np.ndarray) -> np.ndarray:
    """Stage at which each edge label becomes visible (``SUBSET_STAGE``), vectorised."""
    return pd.Series(labels).map(SUBSET_STAGE).to_numpy(np.int8)


def st_stage_range(graph: Graph, labels: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per side, the earliest and latest stage among each node's labelled ST edges
    (9 / -1 for nodes without one); a held-out node has low == high."""
    edge_stage = label_stages(labels)
    used = edge_stage < SUBSET_STAGE["unused"]
    ranges = {}
    for side, ends in zip(("source", "target"), graph.endpoints("st"), strict=True):
        size = len(graph.sources) if side == "source" else len(graph.targets)
        low, high = np.full(size, 9, np.int8), np.full(size, -1, np.int8)
        np.minimum.at(low, ends[used], edge_stage[used])
        np.maximum.at(high, ends[used], edge_stage[used])
        ranges[side] = (low, high)
    return ranges


def _degree(graph: Graph, side: str) -> np.ndarray:
    s, t = graph.endpoints("st")
    size = len(graph.sources) if side == "source" else len(graph.targets)
    return np.bincount(s if side == "source" else t, minlength=size)


def _conservative(stages: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same-type edge label: the later stage of its two ends (test > valid > train)."""
    return np.array(STAGES, dtype=object)[np.maximum(stages[a], stages[b])]


def _message_share(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Turn ``fraction`` of the ``train`` ST edges into ``message`` edges (exact count, random)."""
    train = np.flatnonzero(labels == "train")
    chosen = rng.choice(train, int(round(fraction * len(train))), replace=False)
    labels = labels.copy()
    labels[chosen] = "message"
    return labels


def zero_shot_node_ratios(ratios: tuple[float, float, float]) -> tuple[float, float, float]:
    """Node shares per side such that edges with both ends in one stage come out in ``ratios``.

    An edge is kept only if both ends share a stage, so stage shares of kept edges are
    proportional to p_stage^2: p = sqrt(ratio), normalised.
    """
    roots = np.sqrt(np.asarray(ratios))
    return tuple(roots / roots.sum())


def make_split(graph: Graph, config: SplitConfig) -> Split:
    """Split ``graph``; deterministic given the config (and therefore its seed)."""
    rng = np.random.default_rng(config.seed)
    s, t = graph.endpoints("st")
    n_st = len(s)
    node_stage = {"source": np.zeros(len(graph.sources), np.int8), "target": np.zeros(len(graph.targets), np.int8)}
    subsets: dict[str, np.ndarray] = {}
    if config.split == "random":
        counts = np.floor(np.asarray(config.ratios) * n_st).astype(int)
        counts[0] = n_st - counts[1:].sum()
        labels = rng.permutation(np.repeat(np.array(STAGES, dtype=object), counts))
    else:
        node_ratios = zero_shot_node_ratios(config.ratios) if config.split == "cold_both" else config.ratios
        for side in COLD_SIDES[config.split]:
            node_stage[side] = stratified_stages(_degree(graph, side), node_ratios, rng)
        stage_s, stage_t = node_stage["source"][s], node_stage["target"][t]
        if config.split == "cold_source":
            edge_stage = stage_s
        elif config.split == "cold_target":
            edge_stage = stage_t
        else:
            edge_stage = np.where(stage_s == stage_t, stage_s, 3)
        labels = np.array(STAGES + ("unused",), dtype=object)[edge_stage]
    subsets["st"] = _message_share(labels, config.message_fraction, rng)
    for kind, side in (("ss", "source"), ("tt", "target")):
        if kind in graph.edges:
            a, b = graph.endpoints(kind)
            subsets[kind] = _conservative(node_stage[side], a, b)
    split = Split(config, graph.content_hash(), subsets, node_stage)
    attach_eval_negatives(graph, split)
    return split


def attach_eval_negatives(graph: Graph, split: Split) -> None:
    for stage in ("valid", "test"):
        split.negatives[stage], split.negative_modes[stage] = draw_eval_negatives(graph, split, stage)
    attach_degree_negatives(graph, split)


def attach_degree_negatives(graph: Graph, split: Split) -> None:
    """The degree-corrected negatives beside the uniform ones (drawn with an RNG of their own, so
    the uniform sets are the same with or without them)."""
    for stage in ("valid", "test"):
        split.negatives[negatives_key(stage, "degree")] = draw_degree_negatives(graph, split, stage)


# ---------------------------------------------------------------- I/O
