"""Scoring predictions made outside motive (a PyG or PyKEEN model, a collaborator's table) under
motive's splits, negatives, filters and tie rules: an evaluator contract in OGB's manner.

    evaluator = motive.Evaluator("runs/l1000/data/st_expanded/orf/splits/cold_source/seed_0", hits_k=25)
    print(evaluator.expected_input_format)
    metrics = evaluator.eval(predictions, ranking)          # {"valid": {...}, "test": {...}}

    motive score SPLIT_FOLDER PREDICTIONS.parquet [--ranking RANKING.parquet] --out METRICS.json

The tables are looked up in place of a model's scores and go through ``evaluation.ModelEvaluator``,
the code that scores motive's own runs, so a run's own ``predictions.parquet`` gives its
``metrics.json`` numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.data.graph import Graph
from motive.errors import MotiveError
from motive.tables import read_table
from motive.training.config import TrainConfig  # the defaults a run's evaluation uses

FORMAT = """\
predictions: a table with columns source, target, score (and stage: valid or test, when a pair's
  score differs between the stages), one row per pair motive
  scores in the sampled protocol: every supervision pair of the split's valid and test stages and
  every stored negative of the chosen kind (uniform or degree); source = compound key (InChIKey14),
  target = gene key, as in the graph's source.parquet / target.parquet; score: higher = more likely.
  A run's predictions.parquet has this form. The F1 threshold is chosen on the valid pairs.
ranking (optional, for the full ranking): columns query, candidate, score (and stage): for every query node of
  the valid and test stages (the compounds of their pairs; the genes for cold_target), every candidate
  of the other side that stage may see (known positives may be included; they are filtered).
Missing pairs, duplicate pairs, NaN or infinite scores and unknown keys are refused, one line each.
"""


class ScoreTable:
    """A scorer that looks scores up in tables instead of computing them: the pairs of the
    sampled protocol, and (query, candidate) pairs of the full ranking."""

    trainable = False
    transductive = False

    def __init__(self, graph: Graph, split, predictions: pd.DataFrame, ranking: pd.DataFrame | None, query_side: str):
        from motive.splits.negatives import positive_keys

        self.n_targets, self.query_side = len(graph.targets), query_side
        self.graph, self.split, self.known = graph, split, positive_keys(graph)
        self.pairs = _by_stage(graph, predictions, ("source", "target"), "predictions", query_side)
        self.ranking = (
            None if ranking is None else _by_stage(graph, ranking, ("query", "candidate"), "ranking", query_side)
        )

    def score(self, stage, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        index = _of_stage(self.pairs, stage.stage, "predictions")
        return _lookup(index, sources * self.n_targets + targets, f"predictions: the {stage.stage} stage's")

    def score_blocks(self, stage, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 512):
        if self.ranking is None:
            raise MotiveError("ranking: no full-ranking table given; pass one (query, candidate, score)")
        for start in range(0, len(queries), block):
            rows = queries[start : start + block]
            sources, targets = (rows[:, None], candidates[None, :])
            if query_side == "target":
                sources, targets = candidates[None, :], rows[:, None]
            keys = (sources * self.n_targets + targets).ravel()
            yield start, self._ranked(keys, stage.stage).reshape(len(rows), -1)

    def _ranked(self, keys: np.ndarray, stage: str) -> np.ndarray:
        """Scores of a block of the full ranking; known positives of other stages may be missing
        (they are filtered out of the ranking), the stage's own positives may not."""
        from motive.splits.negatives import is_member

        s, t = self.split.supervision(self.graph, stage)
        own = np.sort(s * self.n_targets + t)
        optional = is_member(keys, self.known) & ~is_member(keys, own)
        index = _of_stage(self.ranking, stage, "ranking")
        scores = np.full(len(keys), np.nan)
        scores[~optional] = _lookup(index, keys[~optional], f"ranking: the {stage} stage's")
        present = optional & is_member(keys, index[0])
        scores[present] = _lookup(index, keys[present], "ranking")
        return np.where(np.isnan(scores), -np.inf, scores)


def _by_stage(graph: Graph, table: pd.DataFrame, columns, name: str, query_side: str) -> dict:
    """A table's index per stage (a ``stage`` column keeps each stage's scores apart: a pair can be
    scored at both stages, with other message edges), or one index for every stage (key None)."""
    if "stage" not in table.columns:
        return {None: _indexed(graph, table, columns, name, query_side)}
    return {stage: _indexed(graph, part, columns, name, query_side) for stage, part in table.groupby("stage")}


def _of_stage(indexes: dict, stage: str, name: str):
    index = indexes.get(None, indexes.get(stage))
    if index is None:
        raise MotiveError(f"{name}: no rows of stage {stage!r}; score the valid and the test stage")
    return index


def _indexed(graph: Graph, table: pd.DataFrame, columns, name: str, query_side: str = "source"):
    """(sorted pair keys, scores) of a table; unknown keys, NaN scores and duplicates refused."""
    missing = [column for column in (*columns, "score") if column not in table.columns]
    if missing:
        raise MotiveError(f"{name}: column {missing[0]!r} missing; see Evaluator.expected_input_format")
    sides = ("source", "target") if columns == ("source", "target") or query_side == "source" else ("target", "source")
    ids = {}
    for column, side in zip(columns, sides, strict=True):
        nodes = graph.sources.keys if side == "source" else graph.targets.keys
        ids[side] = nodes.get_indexer(table[column].astype(str))
        if (ids[side] < 0).any():
            unknown = table[column].astype(str).to_numpy()[ids[side] < 0][0]
            raise MotiveError(f"{name}: {column} {unknown!r} is not a {side} node of the split's graph")
    scores = pd.to_numeric(table["score"], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(scores).all():
        raise MotiveError(f"{name}: {int((~np.isfinite(scores)).sum())} NaN, infinite or non-numeric score(s)")
    keys = ids["source"].astype(np.int64) * len(graph.targets) + ids["target"]
    order = np.argsort(keys, kind="stable")
    keys, scores = keys[order], scores[order]
    repeated = np.flatnonzero(keys[1:] == keys[:-1])
    if len(repeated):
        key = keys[repeated[0]]
        pair = (graph.sources.keys[key // len(graph.targets)], graph.targets.keys[key % len(graph.targets)])
        raise MotiveError(f"{name}: duplicate pair {pair[0]} - {pair[1]}; give each pair one score")
    return keys, scores, graph


def _lookup(index, keys: np.ndarray, what: str) -> np.ndarray:
    sorted_keys, scores, graph = index
    position = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
    found = sorted_keys[position] == keys if len(sorted_keys) else np.zeros(len(keys), bool)
    if not found.all():
        key = keys[~found][0]
        n_targets = len(graph.targets)
        pair = f"{graph.sources.keys[key // n_targets]} - {graph.targets.keys[key % n_targets]}"
        raise MotiveError(f"{what} {int((~found).sum())} pair(s) have no score, e.g. {pair}")
    return scores[position]


class Evaluator:
    """Motive's evaluation of outside predictions on a stored split (see the module docstring)."""

    expected_input_format = FORMAT

    def __init__(
        self,
        split_folder: str | Path,
        *,
        hits_k: int = TrainConfig.hits_k,
        eval_negatives: str = TrainConfig.eval_negatives,
        bootstrap: int = TrainConfig.bootstrap,
    ):
        from motive.data import layout
        from motive.data.datasets.registry import default_cache_dir
        from motive.splits.audit import audited_split_from_tables, load_audited_split

        folder = Path(split_folder).resolve()
        graph_folder = next((p for p in folder.parents if (p / "source.parquet").is_file()), None)
        if graph_folder is None or not (folder / "s_t_labels.parquet").is_file():
            raise MotiveError(f"{folder}: not a split folder (s_t_labels.parquet) inside a dataset's graph folder")
        self.graph = layout.read_graph(graph_folder)
        cache = default_cache_dir() / "splits"
        if (folder / "split.json").is_file():
            self.split = load_audited_split(folder, self.graph, cache)
        else:
            self.split = audited_split_from_tables(self.graph, folder, 0, cache)
        self.hits_k, self.eval_negatives, self.bootstrap = hits_k, eval_negatives, bootstrap

    def get_edge_split(self) -> dict[str, dict[str, pd.DataFrame]]:
        """The pairs to score, in OGB's ``get_edge_split()`` shape with node keys:
        ``{"train": {"edge"}, "valid": {"edge", "edge_neg"}, "test": {"edge", "edge_neg"}}``, each a
        (source, target) table; train holds every training positive (messages and supervision),
        the negatives are the split's stored ones of this evaluator's kind (``eval_negatives``)."""
        frames = self.split.to_frames(self.graph, self.eval_negatives)
        found = {}
        for stage, frame in frames.items():
            pairs = {"edge": frame.loc[frame["label"] == 1, ["source", "target"]].reset_index(drop=True)}
            if stage != "train":
                pairs["edge_neg"] = frame.loc[frame["label"] == 0, ["source", "target"]].reset_index(drop=True)
            found[stage] = pairs
        return found

    def eval(self, predictions: pd.DataFrame | str | Path, ranking: pd.DataFrame | str | Path | None = None) -> dict:
        """Metrics of valid and test, named as in a run's metrics.json (``full_*`` with ``ranking``)."""
        from motive.evaluation.evaluator import ModelEvaluator, query_side
        from motive.models import StageGraph

        split_name = self.split.config.split
        predictions = _table(predictions, "predictions")
        ranking = None if ranking is None else _table(ranking, "ranking")
        model = ScoreTable(self.graph, self.split, predictions, ranking, query_side(split_name))
        stages = {stage: StageGraph.build(self.graph, self.split, stage) for stage in ("valid", "test")}
        evaluator = ModelEvaluator(
            self.graph,
            self.split,
            split_name,
            self.hits_k,
            ranking=ranking is not None,
            negatives=self.eval_negatives,
            bootstrap=self.bootstrap,
        )
        return evaluator.evaluate(model, stages).metrics


def score(
    split_folder: str | Path,
    predictions: pd.DataFrame | str | Path,
    ranking: pd.DataFrame | str | Path | None = None,
    *,
    hits_k: int = TrainConfig.hits_k,
    eval_negatives: str = TrainConfig.eval_negatives,
    bootstrap: int = TrainConfig.bootstrap,
) -> dict:
    """Metrics of predictions made elsewhere under the split in ``split_folder`` (``motive score``):
    ``Evaluator(split_folder, ...).eval(predictions, ranking)``."""
    evaluator = Evaluator(split_folder, hits_k=hits_k, eval_negatives=eval_negatives, bootstrap=bootstrap)
    return evaluator.eval(predictions, ranking)


def _table(value: pd.DataFrame | str | Path, name: str) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        return value
    path = Path(value)
    if not path.is_file():
        raise MotiveError(f"{name}: {path}: file not found")
    return read_table(path)
