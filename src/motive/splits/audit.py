"""The split audit: proves the leakage guarantees of a split, or names the first violation.

Checks (each a row of the report):
- counts: every edge has exactly one subset label and the labels add up to the edge counts;
- node stages: on a cold side, all ST edges of a node carry one stage (a node is held out whole);
- visibility: at every stage, every message-passing and supervision edge (ST and same-type)
  only touches nodes that stage may see: no valid/test node of a cold side in any train-stage
  edge, no test node in any valid-stage edge;
- no future edges: message passing at a stage never uses a supervision edge of that stage or a
  later one (no valid/test information in training, no test information in validation);
- supervision disjoint: train, valid and test supervision pairs (and message pairs) never overlap;
- negatives: stored valid/test negatives and freshly drawn training negatives contain no known
  positive of the graph, no duplicate, and no node the stage must not see (on a cold side the
  negatives' held-out nodes are exactly the stage's held-out nodes);
- same-type symmetry: message passing uses every same-type edge in both directions.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motive.data.graph import Graph
from motive.errors import MotiveError
from motive.outputs import check_target
from motive.splits import (
    COLD_SIDES,
    STAGES,
    SUBSET_STAGE,
    Split,
    SplitConfig,
    label_stages,
    make_split,
    st_stage_range,
)
from motive.splits.files import load_split, save_split, split_from_tables
from motive.splits.negatives import NegativeSampler, is_member, positive_keys
from motive.training.memo import file_digest


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


class Report(list):
    @property
    def passed(self) -> bool:
        return all(check.passed for check in self)

    def to_markdown(self) -> str:
        lines = ["| check | result | detail |", "|---|---|---|"]
        lines += [f"| {c.name} | {'pass' if c.passed else 'FAIL'} | {c.detail} |" for c in self]
        return "\n".join(lines)

    def first_failure(self) -> str:
        return next((f"{c.name}: {c.detail}" for c in self if not c.passed), "")


def _ends(graph: Graph, kind: str, mask: np.ndarray) -> dict[str, np.ndarray]:
    a, b = graph.endpoints(kind)
    if kind == "st":
        return {"source": a[mask], "target": b[mask]}
    side = "source" if kind == "ss" else "target"
    return {side: np.concatenate([a[mask], b[mask]])}


@dataclass
class Audited:
    """What every check reads: the graph, the split, its cold sides and ST labels, and how many
    training batches of negatives to draw and check."""

    graph: Graph
    split: Split
    train_batches: int = 5
    batch_size: int = 512

    @property
    def cold(self) -> tuple[str, ...]:
        return COLD_SIDES[self.split.config.split]

    @property
    def st(self) -> np.ndarray:
        return self.split.subsets["st"]


def audit(graph: Graph, split: Split, train_batches: int = 5, batch_size: int = 512) -> Report:
    """Run every check of ``CHECKS`` in order (after a failed count the rest cannot be read)."""
    audited, report = Audited(graph, split, train_batches, batch_size), Report()
    for check in CHECKS:
        report.append(check(audited))
        if check is check_counts and not report[-1].passed:
            break
    return report


def check_counts(a: Audited) -> Check:
    """Every edge has exactly one known subset label; same-type edges are never message/unused."""
    graph, split = a.graph, a.split
    problems = [
        f"{kind}: {len(split.subsets[kind])} labels for {len(graph.edges[kind])} edges"
        for kind in split.subsets
        if len(split.subsets[kind]) != len(graph.edges[kind])
    ]
    problems += [f"{kind} edges have no split label" for kind in graph.edges if kind not in split.subsets]
    problems += [
        f"{kind} edges carry unknown subset {sorted(map(str, unknown))[0]!r}"
        for kind, labels in split.subsets.items()
        if (unknown := set(labels) - set(SUBSET_STAGE) - ({"unused"} if kind == "st" else set()))
    ]
    problems += [
        f"{kind} edges cannot be 'message' or 'unused'"
        for kind, labels in split.subsets.items()
        if kind != "st" and set(labels) & {"message", "unused"}
    ]
    counts = split.counts()
    return Check("counts", not problems, "; ".join(problems) or ", ".join(f"{k}: {v}" for k, v in counts.items()))


def check_node_stages(a: Audited) -> Check:
    """Node stages derived from the ST labels match the stored ones on every cold side, and a
    cold node's ST edges all carry one stage (a node is held out whole)."""
    graph, split, st = a.graph, a.split, a.st
    ranges = st_stage_range(graph, st)
    problems = []
    for side in ("source", "target"):
        if side not in a.cold:
            if split.node_stage[side].any():
                problems.append(f"{side} is not a cold side but has held-out nodes")
            continue
        low, high = ranges[side]
        mixed = np.flatnonzero((high >= 0) & (low != high))
        if len(mixed):
            node = mixed[0]
            ends = dict(zip(("source", "target"), graph.endpoints("st"), strict=True))
            edge = np.flatnonzero((ends[side] == node) & (label_stages(st) == low[node]))[0]
            problems.append(
                f"{side} {_key(graph, side, node)} has ST edges in stages {STAGES[low[node]]} and {STAGES[high[node]]} "
                f"(edge {_key(graph, 'source', ends['source'][edge])} - {_key(graph, 'target', ends['target'][edge])} "
                f"is {st[edge]!r})"
            )
        wrong = np.flatnonzero((high >= 0) & (high != split.node_stage[side]))
        if len(wrong):
            problems.append(
                f"{side} {_key(graph, side, wrong[0])} is stored at stage {split.node_stage[side][wrong[0]]} but its "
                f"edges say {high[wrong[0]]}"
            )
    return Check("node stages", not problems, "; ".join(problems) or f"cold sides: {', '.join(a.cold) or 'none'}")


def check_visibility(a: Audited) -> Check:
    """At every stage, every message and supervision edge touches only nodes the stage may see,
    and a held-out stage supervises only its own held-out nodes."""
    graph, split, st = a.graph, a.split, a.st
    problems = []
    for k, stage in enumerate(STAGES):
        uses = [(f"{kind} message", kind, split.message_mask(kind, stage)) for kind in split.subsets]
        uses += [(f"{kind} side-edge message", kind, split.message_mask(kind, stage, True)) for kind in split.subsets]
        uses.append(("st supervision", "st", st == stage))
        for what, kind, mask in uses:
            for side, nodes in _ends(graph, kind, mask).items():
                hidden = nodes[split.node_stage[side][nodes] > k]
                if len(hidden):
                    problems.append(
                        f"{stage}-stage {what} touches {side} {_key(graph, side, hidden[0])} held out until "
                        f"{STAGES[split.node_stage[side][hidden[0]]]}"
                    )
        for side in a.cold if k > 0 else ():
            nodes = _ends(graph, "st", st == stage)[side]
            early = nodes[split.node_stage[side][nodes] != k]
            if len(early):
                problems.append(
                    f"{stage} supervision uses {side} {_key(graph, side, early[0])} seen in an earlier stage"
                )
    return Check("visibility", not problems, "; ".join(problems[:3]) or "every stage sees only its nodes")


def check_no_future_edges(a: Audited) -> Check:
    """Message passing at a stage never uses a supervision edge of that stage or a later one (a
    final model's test stage supervises nothing: it sees every link, as prediction does)."""
    problems = []
    for k, stage in enumerate(STAGES[:2] if a.split.config.final else STAGES):
        for kind in a.split.subsets:
            labels = set(a.split.subsets[kind][a.split.message_mask(kind, stage)])
            if kind == "st":  # an ST edge may pass messages only once its supervision stage is over
                future = {label for label in labels if label != "message" and SUBSET_STAGE[label] >= k}
            else:  # same-type edges: train ones always, valid ones only at test (official rule)
                future = {label for label in labels if SUBSET_STAGE[label] > max(k - 1, 0)}
            if future:
                problems.append(f"{stage}-stage {kind} message passing uses {sorted(future)} edges")
            if kind != "st":  # with side edges: a same-type edge of this stage's nodes at most
                side = set(a.split.subsets[kind][a.split.message_mask(kind, stage, True)])
                later = {label for label in side if SUBSET_STAGE[label] > k}
                if later:
                    problems.append(f"{stage}-stage {kind} side edges use {sorted(later)} edges")
    detail = "; ".join(problems) or "message passing never sees its own or later supervision"
    return Check("no future edges", not problems, detail)


def check_supervision_disjoint(a: Audited) -> Check:
    """Message, train, valid and test pairs never overlap."""
    s, t = a.graph.endpoints("st")
    keys = s * len(a.graph.targets) + t
    groups = {label: set(keys[a.st == label].tolist()) for label in ("message", "train", "valid", "test")}
    overlaps = [f"{x}&{y}" for i, x in enumerate(groups) for y in list(groups)[i + 1 :] if groups[x] & groups[y]]
    detail = ", ".join(overlaps) or "message/train/valid/test pairs are disjoint"
    return Check("supervision disjoint", not overlaps, detail)


def _drawn_negatives(a: Audited, problems: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The stored valid/test negatives and ``train_batches`` freshly drawn training batches."""
    graph, split = a.graph, a.split
    rng = np.random.default_rng(split.config.seed)
    sampler = NegativeSampler(graph, split, "train")
    train_s, train_t = split.supervision(graph, "train")
    drawn = {}
    for stage in ("valid", "test"):
        if stage not in split.negatives:
            problems.append(f"no stored {stage} negatives")
    for name, frame in split.negatives.items():  # uniform ones and degree-matched ones
        drawn[name] = (frame["source"].to_numpy(np.int64), frame["target"].to_numpy(np.int64))
    for batch in range(a.train_batches):
        size = min(a.batch_size, len(train_s))
        chosen = rng.choice(len(train_s), size, replace=False) if len(train_s) else np.zeros(0, int)
        drawn[f"train batch {batch}"] = sampler.sample(train_s[chosen], train_t[chosen], 1, rng)
    return drawn


def check_negatives(a: Audited) -> Check:
    """Negatives hold no known positive, no duplicate and no node their stage must not see (on a
    cold side exactly the stage's held-out nodes)."""
    graph, split = a.graph, a.split
    positives = positive_keys(graph)
    problems = []
    drawn = _drawn_negatives(a, problems)
    for name, (neg_s, neg_t) in drawn.items():
        k = STAGES.index(name.split()[0].split("_")[0])
        neg_keys = neg_s * len(graph.targets) + neg_t
        if is_member(neg_keys, positives).any():
            problems.append(f"{name} negatives contain a known positive")
        if len(np.unique(neg_keys)) != len(neg_keys):
            problems.append(f"{name} negatives contain a duplicate pair")
        for side, nodes in (("source", neg_s), ("target", neg_t)):
            stages = split.node_stage[side][nodes]
            bad = nodes[stages > k] if side not in a.cold else nodes[stages != k]
            if len(bad):
                problems.append(f"{name} negatives use {side} {_key(graph, side, bad[0])} the stage must not see")
    ratios = {
        stage: round(len(drawn[stage][0]) / max(int((a.st == stage).sum()), 1), 2)
        for stage in ("valid", "test")
        if stage in drawn
    }
    return Check("negatives", not problems, "; ".join(problems[:3]) or f"clean; negatives per positive: {ratios}")


def check_undirected(a: Audited) -> Check:
    """Message passing uses every edge in both directions."""
    problems = []
    for stage in STAGES:
        directed = a.split.message_passing(a.graph, stage)
        for (head, relation, tail), (x, y) in directed.items():
            reverse = next((edges for (h, _, t), edges in directed.items() if (h, t) == (tail, head)), None)
            if reverse is None:
                problems.append(f"{stage}: relation {head}->{tail} has no reverse")
                continue
            forward_keys = np.sort(x * 10**9 + y)
            backward_keys = np.sort(reverse[1] * 10**9 + reverse[0])
            if not np.array_equal(forward_keys, backward_keys):
                problems.append(f"{stage}: {relation} message edges are not symmetric")
    detail = "; ".join(problems[:3]) or "every message edge passes both ways"
    return Check("undirected message passing", not problems, detail)


CHECKS = (
    check_counts,
    check_node_stages,
    check_visibility,
    check_no_future_edges,
    check_supervision_disjoint,
    check_negatives,
    check_undirected,
)


def _key(graph: Graph, side: str, node: int) -> str:
    keys = graph.sources.keys if side == "source" else graph.targets.keys
    return f"{keys[int(node)]!r}"


def make_audited_split(
    graph: Graph, config: SplitConfig, folder: str | Path, overwrite: bool = False
) -> tuple[Split, Report]:
    """Make a split, audit it, and save it with its report; a split that fails is never written."""
    check_target(folder, "split", overwrite)
    split = make_split(graph, config)
    report = audit(graph, split)
    if not report.passed:
        raise MotiveError(f"split failed its audit, nothing written: {report.first_failure()}")
    save_split(split, graph, folder, report.to_markdown(), overwrite)
    return split, report


def load_audited_split(folder: str | Path, graph: Graph, cache_dir: str | Path) -> Split:
    """A stored split, read as outside data: loaded, then audited, and refused with its first
    violation if it leaks (a split whose labels were edited after it was written, say). A passed
    audit is remembered under ``cache_dir`` by the hash of the graph and of every file of the
    split, so the next use of the same bytes is cheap; any change audits again."""
    folder = Path(folder)
    split = load_split(folder, graph)
    digest = hashlib.sha256(graph.content_hash().encode())
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in ("audit.md", "motive.json"):
            digest.update(path.name.encode() + b"\0" + file_digest(path))  # read again only when changed
    record = Path(cache_dir) / "audits" / f"{digest.hexdigest()[:32]}.md"
    if record.is_file():
        return split
    report = audit(graph, split)
    if not report.passed:
        raise MotiveError(
            f"{folder}: stored split refused, it fails its audit ({report.first_failure()}); make it again with "
            "`motive split make ... --overwrite`"
        )
    record.parent.mkdir(parents=True, exist_ok=True)
    temporary = record.with_name(f".{record.name}.{os.getpid()}")
    temporary.write_text(report.to_markdown() + "\n")
    os.replace(temporary, record)
    return split


def audited_split_from_tables(graph: Graph, folder: str | Path, seed: int, cache_dir: str | Path) -> Split:
    """A split given as official split tables (any folder with ``s_t_labels.parquet`` and a
    ``subset`` column), audited before use; refused with its first violation if it leaks.

    Its valid/test negatives are drawn once with ``seed`` and kept under ``cache_dir`` keyed by
    the graph, the tables and the seed, so every model and model seed is scored on the same pairs.
    """
    from motive.data import layout

    folder = Path(folder)
    split = split_from_tables(graph, layout.read_split_tables(folder), folder.name, seed)
    digest = hashlib.sha256(f"{graph.content_hash()}|{seed}|{split.config.split}".encode())
    for kind in sorted(split.subsets):
        digest.update(kind.encode() + "\n".join(map(str, split.subsets[kind])).encode())
    cached = Path(cache_dir) / f"{split.config.split}-{digest.hexdigest()[:16]}"
    if (cached / "split.json").exists():
        return load_audited_split(cached, graph, cache_dir)
    report = audit(graph, split)
    if not report.passed:
        raise MotiveError(f"{folder}: split refused, it leaks: {report.first_failure()}")
    try:
        save_split(split, graph, cached, report.to_markdown())
    except MotiveError:
        if not (cached / "split.json").exists():  # another process may have cached it meanwhile
            raise
    return split
