"""``predict``: the new nodes' ranked candidates, with expected precision, the known flags and the
domain check."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from motive.errors import MotiveError
from motive.evaluation import calibration
from motive.predict.domain import applicability, domain_threshold, domain_view
from motive.predict.evidence import EVIDENCE_RANKS, evidence
from motive.predict.known import KnownPairs
from motive.predict.load import KEY_COLUMNS, Predictor, load_predictor, read_edges, read_profiles
from motive.predict.nodes import extend_stage
from motive.predict.results import Predictions
from motive.predict.settings import PredictSettings
from motive.predict.structures import by_structure, keyed_by_structure
from motive.tables import read_table
from motive.training.config import settings_help, signature_of

log = logging.getLogger(__name__)


def _ranked(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order (best first; ties by candidate order) and 1-based ranks of one query's scores."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return order, ranks


def rank(run: str | Path | Predictor, **queries) -> pd.DataFrame:
    """``predict``'s table alone (the same arguments)."""
    return predict(run, **queries).table


def predict(run: str | Path | Predictor, **settings) -> Predictions:
    """Rank every gene of the run's graph for each compound (or every compound for each gene).

    ``compounds`` keyed by ``Metadata_InChIKey`` with the run's profiles, or named by ``name`` (or
    ``id``) with ``smiles`` (then keyed by InChIKey14, a known compound scored as the graph's
    node); ``genes`` keyed by ``Metadata_Symbol``. Returns ``Predictions``: the table (one row per
    query and candidate) and what a reader needs beside it."""
    given_settings = PredictSettings(**settings)
    compounds, genes, edges = given_settings.compounds, given_settings.genes, given_settings.edges
    top_k, exclude_known, allow_existing = (
        given_settings.top_k,
        given_settings.exclude_known,
        given_settings.allow_existing,
    )
    device, data, plugins = given_settings.device, given_settings.data, given_settings.plugins
    if (compounds is None) == (genes is None):
        raise MotiveError("pass exactly one of `compounds` or `genes`")
    loaded = run if isinstance(run, Predictor) else load_predictor(run, device, data, plugins)
    side = "source" if compounds is not None else "target"
    structure_only = side == "source" and "structure" in loaded.config.views["source"]
    table = compounds if compounds is not None else genes
    given = table if isinstance(table, pd.DataFrame) else read_table(table)  # read once: profiles and activity
    where = None if isinstance(table, pd.DataFrame) else str(table)
    names = None
    if side == "source" and by_structure(given):  # compounds named by structure: keyed by InChIKey14
        _check_reads_structures(loaded, given, where)
        given, names = keyed_by_structure(given, where or "compounds")
        allow_existing = True  # a known compound is recognised by its structure and scored as the graph's node
    keys, x, smiles = read_profiles(given, side, loaded.feature_names[side], structure_only, where)
    has_profile = None if x is not None else np.zeros(len(keys), bool)
    if x is None:  # structures only: zero profiles, masked out; every structure must parse
        _check_structures(keys, smiles, loaded.config.structure_radius, where)
        x = np.zeros((len(keys), len(loaded.feature_names[side])), np.float32)
    edge_table = read_edges(edges) if edges is not None else None
    stage, ids = extend_stage(loaded, loaded.stage, side, keys, x, edge_table, smiles, allow_existing, has_profile)
    existing = ids < len(loaded.graph.sources if side == "source" else loaded.graph.targets)
    if existing.any() and has_profile is None:
        if not np.allclose(stage.x[side].cpu().numpy()[ids[existing]], x[existing], atol=1e-5):
            log.warning(
                "%d query(s) are nodes of the graph: scored with the graph's own profile and edges, not the given "
                "profile",
                existing.sum(),
            )
    elif existing.any():
        log.info(
            "%d query(s) are compounds of the graph: scored as those nodes, their known links flagged", existing.sum()
        )
    table, query = _ranked_table(loaded, stage, side, ids, keys, exclude_known, top_k)
    if names is not None:
        table.insert(1, "name", names.to_numpy()[query])
    nearest_similarity, nearest_key = applicability(loaded, side, *_domain_vectors(loaded, stage, side, ids))
    threshold = domain_threshold(loaded, side)
    table["nearest_training_similarity"] = nearest_similarity[query]
    table["nearest_training_key"] = nearest_key[query]
    placed = np.isfinite(nearest_similarity[query])
    table["in_domain"] = pd.array(
        np.where(placed, nearest_similarity[query] >= threshold, None).tolist(), dtype="boolean"
    )
    explained = (table["rank"] <= EVIDENCE_RANKS).to_numpy()  # the best candidates of each query: a person reads those
    table["evidence"] = ""
    table.loc[explained, "evidence"] = evidence(
        stage, side, ids[query[explained]], table["candidate"][explained], loaded
    )
    active = _activity(given)
    if active is not None:  # from motive profiles: a compound whose replicates look like the controls
        table["active"] = table["query"].map(active).fillna(True).astype(bool)
        quiet = sorted(set(table.loc[~table["active"], "query"]))
        if quiet:
            log.warning("%d query(s) indistinguishable from negative controls (copairs): %s", len(quiet), quiet[:5])
    return Predictions(table, side, float(threshold), loaded.run_dir)


def _domain_vectors(loaded: Predictor, stage, side: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The queries' vectors in the domain view as the extended stage holds them (a graph node's own,
    a new node's given one) and whether each has it."""
    view = domain_view(loaded, side)
    if view == "profile":
        matrix, mask = stage.x[side], stage.masks.get(side, {}).get("profile")
    else:
        matrix, mask = stage.views[side][view], stage.masks[side][view]
    present = np.ones(len(ids), bool) if mask is None else mask.cpu().numpy()[ids]
    return matrix.cpu().numpy()[ids], present


predict.__signature__ = signature_of(
    PredictSettings,
    [inspect.Parameter("run", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | Path | Predictor")],
    "Predictions",
)
predict.__doc__ += "\n" + settings_help(PredictSettings)


def _check_reads_structures(loaded: Predictor, given: pd.DataFrame, where: str | None) -> None:
    """Compounds given by structure alone need a run that reads structures."""
    profiles = [c for c in given.columns if c not in ("smiles", "name", "id") and not str(c).startswith("Metadata_")]
    if not profiles and "structure" not in loaded.config.views["source"]:
        raise MotiveError(
            f"{where or 'compounds'}: only structures (smiles) are given, and this {loaded.config.model} run reads "
            "compound profiles only; predict with a run that reads structures (a model such as knn_structure or "
            'evidence_ranker, or views {"source": ["profile", "structure"]}) or add the profiles'
        )


def _check_structures(keys: pd.Index, smiles: pd.Series, radius: int, where: str | None) -> None:
    """Every query's SMILES parses (a structure-only query has nothing else)."""
    from motive.data.views import fingerprints

    parsed = fingerprints(smiles.tolist(), radius, 64)[1]
    if not parsed.all():
        bad = np.flatnonzero(~parsed)
        raise MotiveError(
            f"{where or 'compounds'}: smiles of {keys[bad[0]]!r} does not parse: {smiles.iloc[bad[0]][:60]!r} "
            f"({len(bad)} such); fix them or drop those rows"
        )


def _ranked_table(
    loaded: Predictor, stage, side: str, ids: np.ndarray, keys: pd.Index, exclude_known: bool, top_k
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every query's ranked candidates as one table (query, candidate, score, rank, percentile,
    expected precision, known), and each row's query position: numpy per query, pandas once."""
    other = "target" if side == "source" else "source"
    candidate_keys = (loaded.graph.targets if other == "target" else loaded.graph.sources).keys.to_numpy()
    candidates = np.arange(len(candidate_keys))
    known, parts = KnownPairs(loaded), []
    for start, block in loaded.model.score_blocks(stage, side, ids, candidates):
        for offset, scores in enumerate(np.asarray(block, np.float64)):
            pairs = (np.full(len(candidates), ids[start + offset]), candidates)
            flags = known.flags(*(pairs if side == "source" else pairs[::-1]))
            rows = _ranked_rows(loaded, scores, flags, exclude_known, top_k)
            parts.append(rows | {"query_index": np.full(len(rows["position"]), start + offset)})
    columns = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    query = columns.pop("query_index")
    table = pd.DataFrame(
        {"query": keys.to_numpy()[query], "candidate": candidate_keys[columns.pop("position")]} | columns
    )
    order = ["query", "candidate", "score", "rank", "percentile", "expected_precision", "known"]
    return table[order + [c for c in table.columns if c not in order]], query


def _activity(frame: pd.DataFrame) -> pd.Series | None:
    """``Metadata_active`` of a query table (written by ``motive profiles``), by key, or None."""
    if "Metadata_active" not in frame.columns:
        return None
    keys = (
        frame.index
        if frame.index.name in KEY_COLUMNS.values()
        else frame[next(k for k in KEY_COLUMNS.values() if k in frame)]
    )
    return pd.Series(frame["Metadata_active"].astype(bool).to_numpy(), index=pd.Index(keys))


def _ranked_rows(loaded: Predictor, scores: np.ndarray, flags: np.ndarray, exclude_known: bool, top_k) -> dict:
    """One query's candidates best first (``position``: candidate index), with rank, percentile,
    the known flag and the expected precision of the candidate's place among the unknown ones."""
    keep = flags == "none" if exclude_known else np.ones(len(scores), bool)
    order, ranks = _ranked(scores[keep])
    chosen = order[:top_k] if top_k else order
    lower = len(order) - ranks[chosen]
    rows = {
        "position": np.flatnonzero(keep)[chosen],
        "score": scores[keep][chosen],
        "rank": ranks[chosen],
        "percentile": 100.0 * lower / max(len(order) - 1, 1),
        "known": flags[keep][chosen],
    }
    unknown = np.sort(scores[flags == "none"])
    above = len(unknown) - np.searchsorted(unknown, rows["score"], side="right")
    at_or_above = len(unknown) - np.searchsorted(unknown, rows["score"], side="left")
    # the realistic place among the unknown candidates, rounded up as calibration.places rounds it
    place = np.where(rows["known"] == "none", np.ceil((1 + above + at_or_above) / 2), np.nan)
    nan = np.full(len(place), np.nan)
    values = (
        calibration.expected(loaded.calibration, np.nan_to_num(place, nan=1))
        if loaded.calibration is not None
        else (nan,) * 3
    )
    for name, value in zip(
        ("expected_precision", "expected_precision_low", "expected_precision_high"), values, strict=True
    ):
        rows[name] = np.where(np.isnan(place), np.nan, value)
    return rows
