"""New nodes joined to a run's test-stage graph: their views, and the edges the run's own rules give
them (structure similarity links, user-given edges)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from motive.errors import MotiveError
from motive.predict.load import Predictor
from motive.tables import read_table

log = logging.getLogger(__name__)


def _similarity_links(run: Predictor, smiles: pd.Series) -> pd.DataFrame:
    """New compound -> existing compound edges by the graph's own structure rule (Morgan radius 2,
    2,048 bits, Dice >= 0.5), from the dataset's compound structures (inputs/compound/meta.csv.gz)."""
    from rdkit import DataStructs, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    from motive.data.sources import similarity

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
    from motive.training.runs import accelerated

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
    if run.model.trainable:
        accelerated(run.model, [extended])
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
    from motive.data.views import similarity_links

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
    from motive.data.views import fingerprints

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
    from motive.data.views import node_views
    from motive.training.prepare import link_features, view_settings

    views = node_views(run.config.data, run.graph, run.config.views, **view_settings(run.config))
    _, _, matrix, mask = link_features(run.config, run.graph, views)
    bits, parsed = _structures(smiles, matrix.shape[1], new, run.config.structure_radius)
    return np.r_[matrix, bits.astype(matrix.dtype)], np.r_[mask, parsed]
