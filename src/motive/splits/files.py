"""A split on disk: motive's split folder (``save_split``, ``load_split``, ``same_split``) and the
official layout's split tables read back as a split (``split_from_tables``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from motive.data import layout
from motive.data.graph import EDGE_COLUMNS, Graph
from motive.errors import MotiveError
from motive.names import COLD_SIDES, OFFICIAL_NAMES, STAGES
from motive.splits import (
    Split,
    SplitConfig,
    attach_degree_negatives,
    attach_eval_negatives,
    label_stages,
    st_stage_range,
)


def default_dir(dataset_dir: str | Path, graph_type: str, config: SplitConfig, gene_type: str = "orf") -> Path:
    kind = f"{config.split}_final" if config.final else config.split
    return layout.graph_dir(dataset_dir, graph_type, gene_type) / "splits" / kind / f"seed_{config.seed}"


def save_split(
    split: Split, graph: Graph, folder: str | Path, audit_markdown: str | None = None, overwrite: bool = False
) -> Path:
    """Official split tables + our extras (node stages, stored negatives, split.json and the
    audit report), atomically."""
    from motive.outputs import output_dir

    folder = Path(folder)
    with output_dir(folder, "split", overwrite) as tmp:
        layout.write_split_tables(split.tables(graph), tmp)
        pd.DataFrame({"node_stage": split.node_stage["source"]}, index=pd.Index(graph.sources.keys)).to_parquet(
            tmp / "source_stage.parquet"
        )
        pd.DataFrame({"node_stage": split.node_stage["target"]}, index=pd.Index(graph.targets.keys)).to_parquet(
            tmp / "target_stage.parquet"
        )
        for stage, negatives in split.negatives.items():
            negatives.to_parquet(tmp / f"negatives_{stage}.parquet", index=False)
        meta = {
            "config": asdict(split.config),
            "graph_hash": split.graph_hash,
            "counts": split.counts(),
            "eval_negative_modes": split.negative_modes,
        }
        (tmp / "split.json").write_text(json.dumps(meta, indent=2) + "\n")
        if audit_markdown is not None:
            (tmp / "audit.md").write_text(audit_markdown + "\n")
    return folder


def load_split(folder: str | Path, graph: Graph) -> Split:
    """Read a split saved by ``save_split``; refuses a split made for another graph."""
    folder = Path(folder)
    meta_path = folder / "split.json"
    if not meta_path.exists():
        raise MotiveError(f"{meta_path}: file not found; not a split made by `motive split`")
    redo = "make it again with `motive split make ... --overwrite`"
    try:
        meta = json.loads(meta_path.read_text())
        graph_hash, settings = meta["graph_hash"], dict(meta["config"])
        config = SplitConfig(**{**settings, "ratios": tuple(settings["ratios"])})
    except (ValueError, KeyError, TypeError) as error:
        raise MotiveError(
            f"{meta_path}: unreadable or incomplete split.json ({type(error).__name__}: {str(error)[:80]}); {redo}"
        ) from None
    if graph_hash != graph.content_hash():
        raise MotiveError(
            f"{folder}: split was made for graph {str(graph_hash)[:12]}, not this one ({graph.content_hash()[:12]}); "
            "re-split"
        )
    tables = layout.read_split_tables(folder)
    subsets = {kind: table["subset"].to_numpy(dtype=object) for kind, table in tables.items()}
    sizes = {"source": len(graph.sources), "target": len(graph.targets)}
    node_stage, negatives = {}, {}
    for side in ("source", "target"):
        path = folder / f"{side}_stage.parquet"
        stages = _read_table(path, ["node_stage"], redo)["node_stage"]
        if len(stages) != sizes[side] or not stages.isin(range(len(STAGES))).all():
            raise MotiveError(f"{path}: expected {sizes[side]} node stages in 0..{len(STAGES) - 1}; {redo}")
        node_stage[side] = stages.to_numpy(np.int8)
    for stage in ("valid", "test", "valid_degree", "test_degree"):
        path = folder / f"negatives_{stage}.parquet"
        if stage.endswith("_degree") and not path.exists():
            continue  # a split made before degree-corrected negatives: drawn below, as a new split would
        table = _read_table(path, ["source", "target"], redo)
        for side in ("source", "target"):
            ids = table[side]
            if not pd.api.types.is_integer_dtype(ids) or len(ids) and (ids.min() < 0 or ids.max() >= sizes[side]):
                raise MotiveError(
                    f"{path}: column {side!r} holds ids outside 0..{sizes[side] - 1} (or not integers); {redo}"
                )
        negatives[stage] = table
    split = Split(config, graph_hash, subsets, node_stage, negatives, meta.get("eval_negative_modes", {}))
    if "test_degree" not in negatives:
        attach_degree_negatives(graph, split)
    recorded = meta.get("counts")
    if recorded is not None and split.counts() != recorded:
        kind = next(k for k in sorted(set(recorded) | set(split.counts())) if recorded.get(k) != split.counts().get(k))
        raise MotiveError(
            f"{folder}: stored split refused, its {kind} labels differ from the counts recorded when it was made "
            f"({split.counts().get(kind)} vs {recorded.get(kind)}); {redo}"
        )
    return split


def same_split(a: Split, b: Split) -> bool:
    """Whether two splits label every edge, stage every node and store every negative alike."""
    return (
        a.config == b.config
        and a.graph_hash == b.graph_hash
        and a.subsets.keys() == b.subsets.keys()
        and all(np.array_equal(a.subsets[kind], b.subsets[kind]) for kind in a.subsets)
        and all(np.array_equal(a.node_stage[side], b.node_stage[side]) for side in ("source", "target"))
        and a.negatives.keys() == b.negatives.keys()
        and all(
            np.array_equal(
                a.negatives[stage][["source", "target"]].to_numpy(), b.negatives[stage][["source", "target"]].to_numpy()
            )
            for stage in a.negatives
        )
    )


def _read_table(path: Path, columns: list[str], redo: str) -> pd.DataFrame:
    """A stored table with ``columns``, or one line saying what is wrong with it."""
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # missing, truncated, not parquet
        raise MotiveError(f"{path}: unreadable ({type(error).__name__}); {redo}") from None
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise MotiveError(f"{path}: column {missing[0]!r} missing; {redo}")
    return table


def split_from_tables(graph: Graph, tables: dict[str, pd.DataFrame], folder_name: str = "", seed: int = 0) -> Split:
    """A Split from official split tables (no stored stages or negatives).

    The split kind comes from the folder name (random / source / target / zero_shot) or, failing
    that, from the data: a side is cold when every node's ST edges share one stage. Node stages
    are derived from the labels (ST edges first, then the earliest same-type label); eval
    negatives are drawn with this package's sampler, so the audit also covers them.
    """
    by_name = {official: name for name, official in OFFICIAL_NAMES.items()}
    for kind, table in tables.items():
        if len(table) != len(graph.edges.get(kind, ())) or not np.array_equal(
            table[list(EDGE_COLUMNS[kind])].to_numpy(np.int64),
            graph.edges[kind][list(EDGE_COLUMNS[kind])].to_numpy(np.int64),
        ):
            raise MotiveError(
                f"{kind} split table does not list the graph's {kind} edges in order; is it the split of this graph "
                "folder?"
            )
    subsets = {kind: table["subset"].to_numpy(dtype=object) for kind, table in tables.items()}
    ranges = st_stage_range(graph, subsets["st"])
    node_stage, pure = {}, {}
    for side, kind in (("source", "ss"), ("target", "tt")):
        low, high = ranges[side]
        pure[side] = bool(((high < 0) | (low == high)).all())
        stage = np.where(high >= 0, high, 9).astype(np.int8)
        if kind in subsets:  # nodes without ST edges: the earliest stage among their same-type edges
            a, b = graph.endpoints(kind)
            label_stage = label_stages(subsets[kind])
            for ends_same in (a, b):
                lonely = high[ends_same] < 0
                np.minimum.at(stage, ends_same[lonely], label_stage[lonely])
        node_stage[side] = np.where(stage == 9, 0, stage).astype(np.int8)
    name = by_name.get(folder_name)
    if name is None:
        held_out = {side for side in ("source", "target") if pure[side] and (node_stage[side] > 0).any()}
        name = {frozenset(): "random", frozenset({"source"}): "cold_source", frozenset({"target"}): "cold_target"}.get(
            frozenset(held_out), "cold_both"
        )
    for side in ("source", "target"):
        if side not in COLD_SIDES[name]:
            node_stage[side] = np.zeros_like(node_stage[side])
    split = Split(SplitConfig(name, seed), graph.content_hash(), subsets, node_stage)
    attach_eval_negatives(graph, split)
    return split
