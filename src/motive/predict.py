"""Prediction for new entities: rank every gene for a new compound's profile (and every compound
for a new gene), up to the full compound x gene matrix.

    motive predict --run RUN --compounds new.parquet [--top-k 50] [--exclude-known] --out ranked.parquet
    motive predict --run RUN --all [--compounds all.parquet] [--top-k 50] --out FOLDER

Loads a run, adds the new nodes to its test-stage graph (isolated, or joined by user-given edges
or, for compounds with a ``smiles`` column, by the Morgan-fingerprint rule the graph was built
with) and scores them in blocks. Scores are ranking scores, not probabilities. Every pair already
in the graph is flagged with its split subset (train / message / valid / test / unused) or as
``annotated`` (in the dataset's annotations but filtered out of the graph). Never touches splits
or training code beyond loading the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from motive import calibration
from motive.errors import MotiveError
from motive.graph import SOURCE_INDEX, TARGET_INDEX, Graph
from motive.tables import read_table

log = logging.getLogger(__name__)

SIDES = {"compounds": "source", "genes": "target"}
KEY_COLUMNS = {"source": SOURCE_INDEX, "target": TARGET_INDEX}
EVIDENCE_RANKS = 100  # candidates of each query that get an evidence string
EVIDENCE_BLOCK = 8192  # (query, candidate) rows explained at once: bounds the similarity matrices


@dataclass
class Predictor:
    """A run made ready to predict (``load_predictor``): its model and the test-stage graph whose
    links are its evidence, with the config, graph, split, feature names and calibration."""

    config: object  # config.TrainConfig
    graph: Graph
    split: object  # splits.Split
    stage: object  # models.StageGraph of the test stage
    model: object
    feature_names: dict[str, list[str]]
    calibration: pd.DataFrame | None = None  # expected precision per place bin (calibration.json)


def load_predictor(
    run_dir: str | Path, device: str = "auto", data: str | Path | None = None, plugins: list | tuple = ()
) -> Predictor:
    """The run's model and test-stage graph (``data``: a moved copy of its dataset); refuses a
    missing or incomplete run, a changed dataset, and models that cannot score nodes they never
    saw. Sets torch's thread count to the run's, on which its numbers depend."""
    import pyarrow.parquet as pq
    import torch

    from motive import layout, runs

    run_dir = Path(run_dir)
    for name in ("checkpoint.pt", "config.json", "metrics.json"):
        if not (run_dir / name).is_file():
            raise MotiveError(f"{run_dir}: not a complete run folder ({name} missing); train one with `motive train`")
    loaded = runs.load_run(run_dir, device=device, data=data, plugins=plugins)
    config, prepared, model = loaded.config, loaded.prepared, loaded.model
    if model.transductive:
        raise MotiveError(
            f"model {config.model!r} cannot score new nodes: it has no representation for a node it never saw; use a "
            "*_cp, mlp, bilinear, cosine or knn run"
        )
    torch.set_num_threads(config.threads)  # the run's numbers depend on it (TrainConfig.threads)
    folder = layout.graph_dir(config.data, config.graph, config.gene_type)
    feature_names = {}
    for side, file in (("source", "source.parquet"), ("target", "target.parquet")):
        names = pq.read_schema(folder / file).names
        feature_names[side] = [n for n in names if not n.startswith("Metadata_") and not n.startswith("__index")]
    fitted = calibration.read(run_dir / "calibration.json") if (run_dir / "calibration.json").is_file() else None
    return Predictor(config, prepared.graph, prepared.split, prepared.stages["test"], model, feature_names, fitted)


def read_profiles(
    profiles: str | Path | pd.DataFrame,
    side: str,
    feature_names: list[str],
    structure_only: bool = False,
    where: str | None = None,
) -> tuple[pd.Index, np.ndarray, pd.Series | None]:
    """Keys, float32 features in the run's column order, and the ``smiles`` column if any. With
    ``structure_only`` (a run that reads compound structures) a table of keys and ``smiles``
    without any feature column is accepted: its features are then None (no profile). ``where``
    names the table in errors (default: its path, or "source profiles")."""
    where = where or (profiles if not isinstance(profiles, pd.DataFrame) else f"{side} profiles")
    frame = profiles if isinstance(profiles, pd.DataFrame) else read_table(profiles)
    key = KEY_COLUMNS[side]
    if frame.index.name != key:
        if key not in frame.columns:
            raise MotiveError(
                f"{where}: no key column {key!r} (as index or column); name the "
                f"{'compound InChIKey' if side == 'source' else 'gene symbol'} column {key}"
            )
        frame = frame.set_index(key)
    if len(frame) == 0:
        raise MotiveError(f"{where}: table is empty; expected at least one profile")
    blank = frame.index.isna() | (frame.index.astype(str).str.strip() == "")
    if blank.any():
        raise MotiveError(
            f"{where}: {blank.sum()} row(s) with an empty {key} (first: row {int(np.flatnonzero(blank)[0]) + 1}); "
            "every query needs an identifier"
        )
    duplicated = frame.index[frame.index.duplicated()]
    if len(duplicated):
        raise MotiveError(
            f"{where}: duplicate key {duplicated[0]!r} ({len(duplicated)} duplicates); keep one profile per key"
        )
    smiles = None
    if "smiles" in frame.columns:  # a missing or empty SMILES: no structure for that query
        text = frame["smiles"].astype("string").str.strip()
        smiles = pd.Series(text.where(text.notna() & (text != ""), None).astype(object), index=frame.index)
    columns = [c for c in frame.columns if not str(c).startswith("Metadata_") and c != "smiles"]
    if structure_only and not columns and smiles is not None:  # structures only: no profile
        absent = smiles.isna().to_numpy()
        if absent.any():
            raise MotiveError(
                f"{where}: {absent.sum()} query(s) with no smiles and no profile columns: "
                f"{', '.join(map(repr, frame.index[absent][:3]))}; give a SMILES (or profiles) for every query"
            )
        return frame.index, None, smiles
    missing = [n for n in feature_names if n not in columns]
    extra = [c for c in columns if c not in set(feature_names)]
    if missing or extra:
        raise MotiveError(
            f"{where}: feature columns differ from the run's {len(feature_names)} training features "
            f"(missing: {', '.join(map(str, missing[:5])) or 'none'}{' ...' if len(missing) > 5 else ''}; extra: "
            f"{', '.join(map(str, extra[:5])) or 'none'}{' ...' if len(extra) > 5 else ''})"
        )
    values = frame[feature_names]
    text = [
        c
        for c in feature_names
        if not (pd.api.types.is_numeric_dtype(values[c]) and not pd.api.types.is_bool_dtype(values[c]))
    ]
    if text:
        raise MotiveError(f"{where}: feature column {text[0]!r} has dtype {values[text[0]].dtype}, expected numbers")
    matrix = values.to_numpy(np.float32)
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        keys = frame.index[bad]
        raise MotiveError(
            f"{where}: {bad.sum()} profile(s) with NaN or inf: "
            f"{', '.join(map(repr, keys[:3]))}{' ...' if len(keys) > 3 else ''}; impute or drop them"
        )
    return frame.index, matrix, smiles


def _similarity_links(run: Predictor, smiles: pd.Series) -> pd.DataFrame:
    """New compound -> existing compound edges by the graph's own structure rule (Morgan radius 2,
    2,048 bits, Dice >= 0.5), from the dataset's compound structures (inputs/compound/meta.csv.gz)."""
    from rdkit import DataStructs, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    from motive.sources import similarity

    meta_path = Path(run.config.data) / "inputs" / "compound" / "meta.csv.gz"
    if not meta_path.is_file():
        raise MotiveError(
            f"{meta_path}: the dataset has no compound structures, so 'smiles' cannot link new compounds; drop the "
            "column or pass `edges`"
        )
    meta = read_table(meta_path, columns=["Metadata_InChIKey", "Metadata_InChI"]).dropna()
    meta = meta.assign(key=meta["Metadata_InChIKey"].str[:14]).drop_duplicates("key")
    meta = meta[meta["key"].isin(run.graph.sources.keys)]
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=similarity.RADIUS, fpSize=similarity.N_BITS)
    RDLogger.DisableLog("rdApp.*")
    try:
        known = [
            (key, similarity._molecule(structure))
            for key, structure in zip(meta["key"], meta["Metadata_InChI"], strict=True)
        ]
        known = [(key, generator.GetFingerprint(molecule)) for key, molecule in known if molecule is not None]
        fingerprints = [fingerprint for _, fingerprint in known]
        rows = []
        for query, structure in smiles.dropna().items():
            molecule = similarity._molecule(structure)
            if molecule is None:
                raise MotiveError(f"smiles of {query!r} does not parse: {structure[:60]!r}; fix it or drop the column")
            scores = np.asarray(DataStructs.BulkDiceSimilarity(generator.GetFingerprint(molecule), fingerprints))
            rows += [(query, known[i][0]) for i in np.flatnonzero(scores >= similarity.DICE_THRESHOLD)]
    finally:
        RDLogger.EnableLog("rdApp.*")
    return pd.DataFrame(rows, columns=["query", "node"])


def extend_stage(
    run: Predictor,
    stage,
    side: str,
    keys: pd.Index,
    x: np.ndarray,
    edges: pd.DataFrame | None = None,
    smiles: pd.Series | None = None,
    allow_existing: bool = False,
    has_profile: np.ndarray | None = None,
):
    """``stage`` (the run's test-stage graph) with the new nodes of ``side`` appended; returns
    (stage, node ids of ``keys``). Existing keys are refused unless ``allow_existing`` (then they
    are the graph's own nodes, with the graph's features and edges). New compounds get the run's
    views (the structure from ``smiles``; ``has_profile`` false masks a profile out) and, when the
    run has similarity links, the links the same rule gives over the graph's compounds and them."""
    import torch

    from motive.models import StageGraph

    nodes = run.graph.sources if side == "source" else run.graph.targets
    existing = keys.isin(nodes.keys)
    if existing.any() and not allow_existing:
        raise MotiveError(
            f"{keys[existing][0]!r} is already a {'compound' if side == 'source' else 'gene'} of the run's graph "
            f"({existing.sum()} such keys); pass `allow_existing` to score them as the graph's nodes"
        )
    ids = np.empty(len(keys), np.int64)
    ids[existing] = nodes.keys.get_indexer(keys[existing])
    new = np.flatnonzero(~existing)
    ids[new] = len(nodes) + np.arange(len(new))
    x_all = dict(stage.x)
    x_all[side] = torch.cat([stage.x[side], torch.as_tensor(x[new]).to(stage.device)])
    message = {relation: (a, b) for relation, (a, b) in stage.edges.items()}
    links = []
    if edges is not None:
        links.append(edges)
    if smiles is not None and side == "source":
        if run.config.graph in ("s_expanded", "st_expanded"):
            links.append(_similarity_links(run, smiles[~existing]).assign(node_side="source"))
        else:
            log.warning(
                "the run's %s graph has no compound-compound edges; the smiles column is not used", run.config.graph
            )
    for link in links:
        _join(run, message, side, keys, ids, link)
    views, masks = _extended_views(run, stage, side, new, smiles, has_profile)
    if side == "source" and run.config.link_view != "none":
        message[("source", f"similar_{run.config.link_view}", "source")] = _links(run, x_all, masks, new, smiles)
    extended = StageGraph.from_edges(
        "test", stage.split_name, x_all, message, views=views, masks=masks, side_edges=stage.side_edges
    )
    return extended.to(stage.device), ids


def _join(run: Predictor, message: dict, side: str, keys: pd.Index, ids: np.ndarray, link: pd.DataFrame) -> None:
    """Add the edges of ``link`` (query, node[, node_side]) between new nodes and the graph's to
    ``message``, both directions."""
    positions = keys.get_indexer(link["query"])
    if (positions < 0).any():
        raise MotiveError(
            f"edges: query {link['query'].iloc[int(np.flatnonzero(positions < 0)[0])]!r} is not one of the "
            "profiles given; edges must start at a new node"
        )
    query_ids = ids[positions]
    other = (
        link["node_side"].to_numpy()
        if "node_side" in link
        else np.full(len(link), "target" if side == "source" else "source")
    )
    for node_side in np.unique(other):
        chosen = other == node_side
        table = run.graph.sources if node_side == "source" else run.graph.targets
        node_ids = table.keys.get_indexer(link["node"][chosen])
        if (node_ids < 0).any():
            raise MotiveError(
                f"edges: {link['node'][chosen].iloc[int(np.flatnonzero(node_ids < 0)[0])]!r} is not a {node_side} "
                f"of the run's graph; use keys of its {node_side}.parquet"
            )
        # the graph's own edge types, not the similarity links motive computes (similar_VIEW)
        relation = next((r for r in message if r[:3:2] == (side, node_side) and not r[1].startswith("similar_")), None)
        if relation is None:
            raise MotiveError(
                f"edges: the run's {run.config.graph} graph has no {side}-{node_side} edges; link new nodes only "
                "by edge types it has"
            )
        reverse = next(r for r in message if r[:3:2] == (node_side, side) and not r[1].startswith("similar_"))
        a, b = message[relation]
        message[relation] = (np.r_[a, query_ids[chosen]], np.r_[b, node_ids])
        if reverse != relation:
            c, d = message[reverse]
            message[reverse] = (np.r_[c, node_ids], np.r_[d, query_ids[chosen]])
        else:  # same-type relation: both directions in one edge list
            a, b = message[relation]
            message[relation] = (np.r_[a, node_ids], np.r_[b, query_ids[chosen]])


def _links(run: Predictor, x_all: dict, masks: dict, new: np.ndarray, smiles) -> tuple[np.ndarray, np.ndarray]:
    """The run's similarity links over the graph's compounds and the new ones: the rule held-out
    compounds get at the test stage, applied to the extended set (every compound visible)."""
    from motive.views import similarity_links

    view = run.config.link_view
    if view == "profile":
        matrix = x_all["source"].cpu().numpy()
        given = masks.get("source", {}).get("profile")
        mask = np.ones(len(matrix), bool) if given is None else given.cpu().numpy()
    else:
        matrix, mask = _link_view(run, new, smiles)
    return similarity_links(view, matrix, mask, np.ones(len(matrix), bool), run.config.link_k)


def _structures(smiles: pd.Series | None, count: int, new: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Morgan bits of the new compounds' SMILES (zeros and masked out where absent or unparsed)."""
    from motive.views import fingerprints

    if smiles is None:
        return np.zeros((len(new), count), np.uint8), np.zeros(len(new), bool)
    return fingerprints(smiles.to_numpy()[new].tolist(), radius, count)


def _extended_views(run: Predictor, stage, side: str, new: np.ndarray, smiles, has_profile) -> tuple[dict, dict]:
    """The stage's views and masks with rows for the new nodes appended."""
    import torch

    views = {t: dict(named) for t, named in stage.views.items()}
    masks = {t: dict(named) for t, named in stage.masks.items()}
    given = np.ones(len(new), bool) if has_profile is None else np.asarray(has_profile)[new]
    if not given.all() or "profile" in masks.get(side, {}):
        old = masks.get(side, {}).get("profile", torch.ones(stage.num_nodes[side], dtype=torch.bool))
        masks.setdefault(side, {})["profile"] = torch.cat([old.cpu(), torch.as_tensor(given)])
    for name, matrix in stage.views.get(side, {}).items():
        if name == "structure":
            bits, parsed = _structures(smiles, matrix.shape[1], new, run.config.structure_radius)
        else:  # the other gene type's profile: a new gene comes with its own only
            bits, parsed = np.zeros((len(new), matrix.shape[1])), np.zeros(len(new), bool)
        views[side][name] = torch.cat([matrix.cpu(), torch.as_tensor(bits, dtype=matrix.dtype)])
        masks[side][name] = torch.cat([masks[side][name].cpu(), torch.as_tensor(parsed)])
    return views, masks


def _link_view(run: Predictor, new: np.ndarray, smiles) -> tuple[np.ndarray, np.ndarray]:
    """The link view of the graph's compounds and the new ones (structure from SMILES)."""
    from motive.prepare import link_features, view_settings
    from motive.views import node_views

    views = node_views(run.config.data, run.graph, run.config.views, **view_settings(run.config))
    _, _, matrix, mask = link_features(run.config, run.graph, views)
    bits, parsed = _structures(smiles, matrix.shape[1], new, run.config.structure_radius)
    return np.r_[matrix, bits.astype(matrix.dtype)], np.r_[mask, parsed]


def read_edges(path: str | Path | pd.DataFrame) -> pd.DataFrame:
    """User-given edges of new nodes: columns ``query`` (a new key) and ``node`` (an existing key),
    optional ``node_side`` (source/target; default: the other side)."""
    frame = path if isinstance(path, pd.DataFrame) else read_table(path, columns=["query", "node"])
    if "node_side" in frame and not frame["node_side"].isin(["source", "target"]).all():
        raise MotiveError(f"{path}: column 'node_side' must be 'source' or 'target'")
    columns = [c for c in ("query", "node", "node_side") if c in frame]
    return frame.drop_duplicates(columns, ignore_index=True)  # an edge given twice is one edge, as in the build


class KnownPairs:
    """Every compound-gene pair the dataset knows, with the subset it has in the run's split
    (train / message / valid / test / unused) or ``annotated`` (in the dataset's annotations,
    filtered out of the graph, e.g. by the degree cap or a missing profile)."""

    LABELS = np.array(["none", "train", "message", "valid", "test", "unused", "annotated"], dtype=object)

    def __init__(self, run: Predictor):
        graph = run.graph
        self.n_targets = len(graph.targets) + 1_000_000_000  # room for new gene ids
        s, t = graph.endpoints("st")
        codes = pd.Categorical(run.split.subsets["st"], categories=self.LABELS).codes
        keys, labels = [s * self.n_targets + t], [codes]
        path = Path(run.config.data) / "inputs" / "annotations" / "compound_gene.parquet"
        if path.is_file():
            annotations = read_table(path, columns=["inchikey", "target"])
            a = graph.sources.keys.get_indexer(annotations["inchikey"].astype(str).str[:14])
            b = graph.targets.keys.get_indexer(annotations["target"].astype(str))
            both = (a >= 0) & (b >= 0)
            keys.append(a[both] * self.n_targets + b[both])
            labels.append(np.full(both.sum(), 6))
        keys, labels = np.concatenate(keys), np.concatenate(labels)
        order = np.lexsort((labels, keys))  # graph subsets win over "annotated" for the same pair
        keys, labels = keys[order], labels[order]
        first = np.r_[True, keys[1:] != keys[:-1]]
        self.keys, self.labels = keys[first], labels[first]

    def flags(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        query = np.asarray(sources, np.int64) * self.n_targets + np.asarray(targets, np.int64)
        index = np.minimum(np.searchsorted(self.keys, query), max(len(self.keys) - 1, 0))
        found = self.keys[index] == query if len(self.keys) else np.zeros(len(query), bool)
        return self.LABELS[np.where(found, self.labels[index], 0)]


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


def _similarities(queries: np.ndarray, reference: np.ndarray, metric: str) -> np.ndarray:
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
        similarity = _similarities(seen[start : start + 4096], seen, metric)
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
        similarity = _similarities(x[start : start + 4096], reference, metric)
        where[start : start + 4096] = similarity.argmax(axis=1)
        best[start : start + 4096] = similarity.max(axis=1)
    best[~present] = np.nan
    keys = nodes.keys.to_numpy()[ids][where] if len(ids) else np.full(len(x), None, object)
    return best, np.where(present & np.isfinite(best), keys, None)


def _ranked(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order (best first; ties by candidate order) and 1-based ranks of one query's scores."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return order, ranks


def predict(
    run: str | Path | Predictor,
    *,
    compounds: str | Path | pd.DataFrame | None = None,
    genes: str | Path | pd.DataFrame | None = None,
    top_k: int | None = None,
    exclude_known: bool = False,
    edges: str | Path | pd.DataFrame | None = None,
    allow_existing: bool = False,
    device: str = "auto",
    data: str | Path | None = None,
    plugins: list | tuple = (),  # plugin files to load (never the ones a run folder names)
) -> pd.DataFrame:
    """Rank every gene of the run's graph for each compound profile (or every compound for each
    gene profile). One row per (query, candidate): score (a ranking score, not a probability),
    rank (1 = best), percentile (share of candidates scored lower), known (the pair's split
    subset, ``annotated`` or ``none``), and the query's nearest training node and similarity."""
    if (compounds is None) == (genes is None):
        raise MotiveError("pass exactly one of `compounds` or `genes`")
    loaded = run if isinstance(run, Predictor) else load_predictor(run, device, data, plugins)
    side = "source" if compounds is not None else "target"
    structure_only = side == "source" and "structure" in loaded.config.views["source"]
    table = compounds if compounds is not None else genes
    given = table if isinstance(table, pd.DataFrame) else read_table(table)  # read once: profiles and activity
    where = None if isinstance(table, pd.DataFrame) else str(table)
    keys, x, smiles = read_profiles(given, side, loaded.feature_names[side], structure_only, where)
    has_profile = None if x is not None else np.zeros(len(keys), bool)
    if x is None:  # structures only: zero profiles, masked out; every structure must parse
        _check_structures(keys, smiles, loaded.config.structure_radius, where)
        x = np.zeros((len(keys), len(loaded.feature_names[side])), np.float32)
    edge_table = read_edges(edges) if edges is not None else None
    stage, ids = extend_stage(loaded, loaded.stage, side, keys, x, edge_table, smiles, allow_existing, has_profile)
    existing = ids < len(loaded.graph.sources if side == "source" else loaded.graph.targets)
    if existing.any() and not np.allclose(stage.x[side].cpu().numpy()[ids[existing]], x[existing], atol=1e-5):
        log.warning(
            "%d query(s) are nodes of the graph: scored with the graph's own profile and edges, not the given profile",
            existing.sum(),
        )
    table, query = _ranked_table(loaded, stage, side, ids, keys, exclude_known, top_k)
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
    table.attrs |= {"query_side": side, "domain_threshold": threshold}
    return table


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


def _check_structures(keys: pd.Index, smiles: pd.Series, radius: int, where: str | None) -> None:
    """Every query's SMILES parses (a structure-only query has nothing else)."""
    from motive.views import fingerprints

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
        return np.where(valid, _similarities(unit(q), unit(nodes), "cosine"), np.nan)

    views = {"profile": cosine}
    if "structure" in stage.views.get(side, {}):
        bits, present = stage.views[side]["structure"], stage.masks[side]["structure"]

        def tanimoto(q, nodes):
            a = bits[torch.as_tensor(q)].cpu().numpy().astype(np.float64)
            b = bits[torch.as_tensor(nodes)].cpu().numpy().astype(np.float64)
            valid = has(q, present)[:, None] & has(nodes, present)[None, :]
            return np.where(valid, _similarities(a, b, "tanimoto"), np.nan)

        views["structure"] = tanimoto
    return views


def predict_all(
    run: str | Path,
    out: str | Path,
    *,
    compounds: str | Path | pd.DataFrame | None = None,
    genes: str | Path | pd.DataFrame | None = None,
    top_k: int = 50,
    exclude_known: bool = False,
    block: int = 1024,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    data: str | Path | None = None,
    allow_existing: bool = False,
    plugins: list | tuple = (),  # plugin files to load (never the ones a run folder names)
) -> dict:
    """Every compound x every gene (the graph's, or the given profile tables'), streamed in blocks
    of compounds: keeps the ``top_k`` genes per compound and the ``top_k`` compounds per gene, in
    memory bounded by the block and k whatever the matrix size. Finished blocks are kept in a work
    folder beside ``out`` (``.NAME.motive-work-KEY``), so a crashed run resumes where it stopped.
    Writes ``out/per_compound.parquet``, ``out/per_gene.parquet`` and ``out/summary.json``."""
    from tqdm import tqdm

    from motive import outputs

    started = time.perf_counter()
    outputs.check_target(out, "full_predictions", overwrite)
    loaded = load_predictor(run, device, data, plugins)
    queries = _full_queries(loaded, compounds, genes, allow_existing)
    ids = queries.ids
    n_compounds, n_genes = len(ids["source"]), len(ids["target"])
    genes_kept, compounds_kept = min(top_k, n_genes), min(top_k, n_compounds)  # per compound, per gene
    settings = [genes_kept, compounds_kept, exclude_known, block, allow_existing, loaded.graph.content_hash()]
    work = outputs.work_dir(out, _resume_key(run, queries, settings))
    known = KnownPairs(loaded)
    known_ids = np.divmod(known.keys, known.n_targets)  # every known pair's compound and gene ids
    gene_position = np.full(max(ids["target"].max() + 1, 1), -1)
    gene_position[ids["target"]] = np.arange(n_genes)
    state_path = work / "genes-state.npz"
    done, gene_scores, gene_rows = _resumed(state_path, (compounds_kept, n_genes))
    n_blocks = (n_compounds + block - 1) // block
    bar = tqdm(total=n_blocks, initial=done, unit="block", desc="scoring", disable=not progress)
    blocks = loaded.model.score_blocks(
        queries.stage, "source", ids["source"][done * block :], ids["target"], block=block
    )
    for index, (_, scores) in enumerate(blocks, start=done):
        scores = np.asarray(scores, np.float64)
        first = index * block
        rows = ids["source"][first : first + len(scores)]
        if exclude_known:  # known pairs of this block's compounds drop out of both rankings
            _drop_known(scores, rows, known_ids, gene_position)
        positions = slice(first, first + len(scores))
        frame = _top_genes(scores, rows, positions, queries, genes_kept, known, loaded.calibration)
        frame["evidence"] = evidence_of_ids(
            queries.stage, "source", frame.pop("compound_id"), frame.pop("gene_id"), loaded
        )
        _write_atomically(frame, work / f"compounds-{index:06d}.parquet")
        gene_scores, gene_rows = _merge_top_compounds(gene_scores, gene_rows, scores, first, compounds_kept)
        with outputs.cache_file(state_path) as tmp:
            np.savez(tmp, done=index + 1, scores=gene_scores, rows=gene_rows)
        bar.update(1)
    bar.close()
    summary = {
        "run": str(run),
        "compounds": n_compounds,
        "genes": n_genes,
        "top_k": top_k,
        "genes_per_compound": genes_kept,
        "compounds_per_gene": compounds_kept,
        "exclude_known": exclude_known,
        "blocks": n_blocks,
        "seconds": round(time.perf_counter() - started, 1),
        "score": "ranking score of the run's model (not a probability)",
    }
    gene_table = _top_compounds(gene_scores, gene_rows, queries, compounds_kept, known)
    gene_ids, compound_ids = gene_table.pop("gene_id"), gene_table.pop("compound_id")
    gene_table["evidence"] = evidence_of_ids(queries.stage, "target", gene_ids, compound_ids, loaded)
    _write_full(out, overwrite, work, n_blocks, gene_table, summary)
    outputs.remove_work_dir(work, [state_path.name, *(f"compounds-{index:06d}.parquet" for index in range(n_blocks))])
    return summary


def _resumed(state_path: Path, shape: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """Blocks done and every gene's running top compounds (scores, rows), from the work folder's
    state or fresh."""
    if state_path.exists():
        state = np.load(state_path)
        return int(state["done"]), state["scores"], state["rows"]
    return 0, np.full(shape, -np.inf), np.zeros(shape, np.int64)


@dataclass
class FullQueries:
    """The compounds and genes of a full matrix: keys and node ids per side, the stage they are
    scored in (new nodes added), and the profiles given (none for the graph's own nodes)."""

    stage: object
    keys: dict[str, object]
    ids: dict[str, np.ndarray]
    profiles: dict[str, np.ndarray]


def _full_queries(loaded: Predictor, compounds, genes, allow_existing: bool) -> FullQueries:
    stage, keys, ids, profiles = loaded.stage, {}, {}, {}
    for side, table in (("source", compounds), ("target", genes)):
        nodes = loaded.graph.sources if side == "source" else loaded.graph.targets
        if table is None:
            keys[side], ids[side] = nodes.keys, np.arange(len(nodes))
        else:
            keys[side], x, _ = read_profiles(table, side, loaded.feature_names[side])
            stage, ids[side] = extend_stage(loaded, stage, side, keys[side], x, allow_existing=allow_existing)
            profiles[side] = x
    return FullQueries(stage, keys, ids, profiles)


def _resume_key(run: str | Path, queries: FullQueries, settings: list) -> str:
    """Everything that changes the output (the model, the queries' keys and profiles, the
    settings), so finished blocks of another input are never mixed in."""
    digest = hashlib.sha256(Path(run, "checkpoint.pt").read_bytes())
    for side in ("source", "target"):
        digest.update(np.asarray(queries.keys[side], dtype=str).astype("U").tobytes())
        if side in queries.profiles:
            digest.update(np.ascontiguousarray(queries.profiles[side], np.float64).tobytes())
    digest.update(json.dumps(settings).encode())
    return digest.hexdigest()[:16]


def _drop_known(scores: np.ndarray, rows: np.ndarray, known_ids: tuple, gene_position: np.ndarray) -> None:
    """Set the scores of the known pairs (``known_ids``: compound and gene ids) of a block (compound
    ``rows`` x every gene; ``gene_position``: a gene id's column) to -inf."""
    known_s, known_t = known_ids
    in_block = np.flatnonzero(np.isin(known_s, rows))
    row_order = np.argsort(rows)
    pair_row = row_order[np.searchsorted(rows, known_s[in_block], sorter=row_order)]
    genes_known = known_t[in_block]
    pair_col = np.where(
        genes_known < len(gene_position), gene_position[np.minimum(genes_known, len(gene_position) - 1)], -1
    )
    scores[pair_row[pair_col >= 0], pair_col[pair_col >= 0]] = -np.inf


def _top_genes(
    scores: np.ndarray,
    rows: np.ndarray,
    positions: slice,
    queries: FullQueries,
    top_k: int,
    known: KnownPairs,
    bins: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The top-k genes of each compound of a block, best first (excluded known pairs: fewer rows)."""
    best = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k]
    best_scores = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    best, best_scores = np.take_along_axis(best, order, axis=1), np.take_along_axis(best_scores, order, axis=1)
    frame = pd.DataFrame(
        {
            "compound": np.repeat(np.asarray(queries.keys["source"])[positions], top_k),
            "gene": np.asarray(queries.keys["target"])[best.ravel()],
            "score": best_scores.ravel(),
            "rank": np.tile(np.arange(1, top_k + 1), len(scores)),
            "known": known.flags(np.repeat(rows, top_k), queries.ids["target"][best.ravel()]),
            "compound_id": np.repeat(rows, top_k),
            "gene_id": queries.ids["target"][best.ravel()],
        }
    )
    if bins is not None:  # a place among the unknown genes: the rank less the known ones above it
        unknown = (frame["known"].to_numpy() == "none").reshape(-1, top_k)
        place = (np.cumsum(unknown, axis=1)).ravel().astype(float)
        values = calibration.expected(bins, place)
        for name, value in zip(
            ("expected_precision", "expected_precision_low", "expected_precision_high"), values, strict=True
        ):
            frame[name] = np.where(unknown.ravel(), value, np.nan)
    return frame[np.isfinite(frame["score"].to_numpy())]


def _merge_top_compounds(
    gene_scores: np.ndarray, gene_rows: np.ndarray, scores: np.ndarray, first: int, top_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The running top-k compounds of every gene, with a block's scores merged in."""
    take = min(top_k, len(scores))
    column_best = np.argpartition(-scores, take - 1, axis=0)[:take]
    merged_scores = np.concatenate([gene_scores, np.take_along_axis(scores, column_best, axis=0)])
    merged_rows = np.concatenate([gene_rows, column_best + first])
    keep = np.argpartition(-merged_scores, top_k - 1, axis=0)[:top_k]
    return np.take_along_axis(merged_scores, keep, axis=0), np.take_along_axis(merged_rows, keep, axis=0)


def _top_compounds(
    gene_scores: np.ndarray, gene_rows: np.ndarray, queries: FullQueries, top_k: int, known: KnownPairs
) -> pd.DataFrame:
    """The per-gene table, best compound first. A gene with fewer than top_k candidates left
    (excluded known pairs) has fewer rows: no -inf score, no placeholder row repeated."""
    order = np.argsort(-gene_scores, axis=0, kind="stable")
    gene_scores, gene_rows = (
        np.take_along_axis(gene_scores, order, axis=0),
        np.take_along_axis(gene_rows, order, axis=0),
    )
    ids, keys = queries.ids, queries.keys
    table = pd.DataFrame(
        {
            "gene": np.repeat(np.asarray(keys["target"]), top_k),
            "compound": np.asarray(keys["source"])[gene_rows.T.ravel()],
            "score": gene_scores.T.ravel(),
            "rank": np.tile(np.arange(1, top_k + 1), len(ids["target"])),
            "known": known.flags(ids["source"][gene_rows.T.ravel()], np.repeat(ids["target"], top_k)),
            "gene_id": np.repeat(ids["target"], top_k),
            "compound_id": ids["source"][gene_rows.T.ravel()],
        }
    )
    return table[np.isfinite(table["score"].to_numpy())].reset_index(drop=True)


def _write_full(out, overwrite: bool, work: Path, n_blocks: int, gene_table: pd.DataFrame, summary: dict) -> None:
    """The output folder: the finished blocks as one per_compound.parquet, per_gene.parquet, summary.json."""
    import pyarrow.parquet as pq

    from motive import outputs

    metadata = outputs.parquet_metadata("full_predictions")
    with outputs.output_dir(out, "full_predictions", overwrite) as tmp:
        writer = None
        for index in range(n_blocks):
            table = pq.read_table(work / f"compounds-{index:06d}.parquet")
            if writer is None:
                writer = pq.ParquetWriter(tmp / "per_compound.parquet", table.schema.with_metadata(metadata))
            writer.write_table(table.replace_schema_metadata(metadata))
        writer.close()
        outputs.write_marked_parquet(gene_table, tmp / "per_gene.parquet", "full_predictions")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from motive import outputs

    with outputs.cache_file(path) as tmp:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
