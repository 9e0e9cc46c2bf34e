"""The MOTIVE graph construction rules (paper Sections 3.1-3.3, reference pipeline).

Raw profiles + unified annotation tables -> one Graph per graph type. Owns: median aggregation
per perturbation, InChIKey14 keys, dropping missing ids / duplicates / self-loops / reversed
duplicates, keeping featured nodes only, the degree cap, node filters and consecutive ids.
It must not know where tables come from (``sources``) or how they are stored (``layout``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from motive.data.graph import EDGE_COLUMNS, Graph, NodeTable
from motive.errors import MotiveError
from motive.names import GRAPH_TYPES
from motive.tables import as_float32_matrix, read_table, require_columns, require_nonempty

log = logging.getLogger(__name__)

MAX_DEGREE = 150  # the reference's cap on node degree, per edge table
INCHIKEY14 = 14  # InChIKey connectivity block: stereo-/protonation variants collapse to one compound
JCP = "Metadata_JCP2022"


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every column not starting with 'Metadata' is a feature (the reference's convention)."""
    return [column for column in frame.columns if not str(column).startswith("Metadata")]


def aggregate_profiles(wells: pd.DataFrame, meta: pd.DataFrame, kind: str, where: object = "profiles") -> pd.DataFrame:
    """Median profile per perturbation, indexed by key (InChIKey14 or gene symbol), sorted.

    compound: meta rows with a missing InChIKey are dropped, the first row per full InChIKey
      maps its JCP2022 id; wells are aggregated per JCP2022 id; when two JCP2022 ids share an
      InChIKey14 the smallest id wins (the reference's ``drop_duplicates`` after sorting).
    gene: the first meta row per symbol (first reagent) maps its JCP2022 id; wells of other
      reagents of that gene are dropped; the median is taken over the chosen reagent's wells.
    """
    key_column = {"compound": "Metadata_InChIKey", "gene": "Metadata_Symbol"}[kind]
    require_columns(wells, [JCP], where)
    require_columns(meta, [JCP, key_column], f"{where} meta")
    features = feature_columns(wells)
    if not features:
        raise MotiveError(f"{where}: no feature columns (every column starts with 'Metadata')")
    as_float32_matrix(wells[features], where)  # one clear line for a non-numeric or non-finite value
    if meta[JCP].duplicated().any():
        raise MotiveError(
            f"{where} meta: duplicate {JCP} {meta[JCP][meta[JCP].duplicated()].iloc[0]!r}; one row per perturbation"
        )
    meta = meta.dropna(subset=[key_column]).drop_duplicates(key_column)
    keys = meta[key_column].astype(str)
    if kind == "compound":
        keys = keys.str[:INCHIKEY14]
    jcp_to_key = pd.Series(keys.to_numpy(), index=meta[JCP].astype(str).to_numpy())
    mapped = wells[JCP].astype(str).map(jcp_to_key)
    wells = wells.loc[mapped.notna(), [JCP] + features].assign(**{key_column: mapped[mapped.notna()]})
    if kind == "compound":
        profiles = wells.groupby(JCP, sort=True)[features].median()
        profiles.index = profiles.index.map(jcp_to_key)
        profiles = profiles[~profiles.index.duplicated(keep="first")]
    else:
        profiles = wells.groupby(key_column, sort=True)[features].median()
    profiles.index.name = key_column
    require_nonempty(profiles, f"{where} (after mapping {JCP} to {key_column})")
    return profiles.sort_index().astype(np.float32)


def _join_provenance(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per pair; the databases / relation types that stated it, '|'-joined and sorted."""
    provenance = [column for column in ("database", "rel_type") if column in frame.columns]
    pairs = frame[by].drop_duplicates(ignore_index=True)
    for column in provenance:
        values = frame[by + [column]].dropna().astype({column: str}).drop_duplicates().sort_values(column)
        joined = values.groupby(by, sort=False)[column].agg("|".join).rename(column)
        pairs = pairs.merge(joined, left_on=by, right_index=True, how="left")
        pairs[column] = pairs[column].fillna("")
    return pairs


def cap_degree(edges: pd.DataFrame, a: str, b: str, max_degree: int = MAX_DEGREE) -> pd.DataFrame:
    """The reference's degree cap: while some node has degree > max_degree, drop every node
    whose degree is not strictly below the 99th percentile of degrees (and its edges).

    Degrees count both columns together, so a same-type edge adds one to each end.
    """
    edges = edges.reset_index(drop=True)
    while len(edges):
        nodes, degrees = np.unique(np.concatenate([edges[a].to_numpy(), edges[b].to_numpy()]), return_counts=True)
        if degrees.max() <= max_degree:
            break
        keep = nodes[degrees < np.quantile(degrees, 0.99)]
        edges = edges[edges[a].isin(keep) & edges[b].isin(keep)].reset_index(drop=True)
    return edges


def clean_compound_gene(
    annotations: pd.DataFrame, max_degree: int = MAX_DEGREE, where: object = "compound_gene"
) -> pd.DataFrame:
    """Compound-gene pairs keyed (InChIKey14, symbol), deduplicated, degree-capped.

    As in the reference, the cap is applied to all annotated pairs, before keeping featured nodes.
    """
    require_columns(annotations, ["inchikey", "target"], where)
    frame = annotations.dropna(subset=["inchikey", "target"]).copy()
    frame["source"] = frame["inchikey"].astype(str).str[:INCHIKEY14]
    frame["target"] = frame["target"].astype(str)
    frame = _join_provenance(frame, ["source", "target"])
    return cap_degree(frame, "source", "target", max_degree)


def clean_same_type(
    annotations: pd.DataFrame,
    a: str,
    b: str,
    featured: pd.Index,
    max_degree: int = MAX_DEGREE,
    where: object = "annotations",
) -> pd.DataFrame:
    """Same-type pairs: no missing ids, no self-loops, both ends featured, one row per
    unordered pair (stored as a <= b), degree-capped."""
    require_columns(annotations, [a, b], where)
    frame = annotations.dropna(subset=[a, b]).copy()
    frame[a], frame[b] = frame[a].astype(str), frame[b].astype(str)
    frame = frame[(frame[a] != frame[b]) & frame[a].isin(featured) & frame[b].isin(featured)]
    low, high = np.minimum(frame[a], frame[b]), np.maximum(frame[a], frame[b])
    frame[a], frame[b] = low, high
    frame = _join_provenance(frame, [a, b])
    return cap_degree(frame, a, b, max_degree)


def _to_ids(edges: pd.DataFrame, columns: tuple[str, str], id_maps: tuple[pd.Series, pd.Series]) -> pd.DataFrame:
    """Replace key columns by node ids; pairs with an unfeatured end are dropped."""
    out = edges.copy()
    for column, id_map in zip(columns, id_maps, strict=True):
        out[column] = edges[column].map(id_map)
    out = out.dropna(subset=list(columns)).astype({column: np.int64 for column in columns})
    return out.sort_values(list(columns), ignore_index=True)


def assemble(
    source_profiles: pd.DataFrame,
    target_profiles: pd.DataFrame,
    compound_gene: pd.DataFrame,
    compound_compound: pd.DataFrame,
    gene_gene: pd.DataFrame,
) -> dict[str, Graph]:
    """All four graph types from featured profiles and cleaned, key-based edge tables."""
    sources = NodeTable(source_profiles.index, as_float32_matrix(source_profiles, "source profiles"))
    targets = NodeTable(target_profiles.index, as_float32_matrix(target_profiles, "target profiles"))
    source_ids = pd.Series(np.arange(len(sources)), index=sources.keys)
    target_ids = pd.Series(np.arange(len(targets)), index=targets.keys)
    edges = {
        "st": _to_ids(compound_gene, EDGE_COLUMNS["st"], (source_ids, target_ids)),
        "ss": _to_ids(compound_compound, EDGE_COLUMNS["ss"], (source_ids, source_ids)),
        "tt": _to_ids(gene_gene, EDGE_COLUMNS["tt"], (target_ids, target_ids)),
    }
    if len(edges["st"]) == 0:
        raise MotiveError(
            "no compound-gene annotation joins two featured nodes; check that ids are InChIKeys and gene symbols"
        )
    full = Graph(sources, targets, edges).validate()
    return {graph_type: full.derive(graph_type) for graph_type in GRAPH_TYPES}


def build_graphs(
    source_profiles: pd.DataFrame,
    target_profiles: pd.DataFrame,
    compound_gene: pd.DataFrame,
    compound_compound: pd.DataFrame,
    gene_gene: pd.DataFrame,
    max_degree: int = MAX_DEGREE,
) -> dict[str, Graph]:
    """Apply every rule to unified tables (official annotation schema) and assemble the graphs."""
    source_profiles.index = source_profiles.index.astype(str).str[:INCHIKEY14]
    if source_profiles.index.has_duplicates:
        raise MotiveError(
            f"source profiles: duplicate InChIKey14 {source_profiles.index[source_profiles.index.duplicated()][0]!r}"
        )
    log.info("cleaning %d compound-gene annotations", len(compound_gene))
    st = clean_compound_gene(compound_gene, max_degree)
    require_columns(compound_compound, ["inchikey_a", "inchikey_b"], "compound_compound")
    compounds = compound_compound.rename(columns={"source_a": "id_a", "source_b": "id_b"}).copy()
    compounds["source_a"] = compounds["inchikey_a"].astype("string").str[:INCHIKEY14]
    compounds["source_b"] = compounds["inchikey_b"].astype("string").str[:INCHIKEY14]
    log.info("cleaning %d compound-compound and %d gene-gene annotations", len(compound_compound), len(gene_gene))
    ss = clean_same_type(compounds, "source_a", "source_b", source_profiles.index, max_degree, "compound_compound")
    tt = clean_same_type(gene_gene, "target_a", "target_b", target_profiles.index, max_degree, "gene_gene")
    return assemble(source_profiles, target_profiles, st, ss, tt)


def build_from_inputs(inputs_dir: str | Path, gene_type: str = "orf", max_degree: int = MAX_DEGREE) -> dict[str, Graph]:
    """Build every graph type from an official ``inputs/`` tree."""
    inputs_dir = Path(inputs_dir)
    log.info("aggregating compound profiles")
    compounds = aggregate_profiles(
        read_table(inputs_dir / "compound" / "features.parquet"),
        read_table(inputs_dir / "compound" / "meta.csv.gz"),
        "compound",
        inputs_dir / "compound",
    )
    log.info("aggregating %s profiles", gene_type)
    genes = aggregate_profiles(
        read_table(inputs_dir / gene_type / "features.parquet"),
        read_table(inputs_dir / gene_type / "meta.csv.gz"),
        "gene",
        inputs_dir / gene_type,
    )
    annotations = inputs_dir / "annotations"
    compound_gene = read_table(annotations / "compound_gene.parquet", columns=["inchikey", "target"])
    require_nonempty(compound_gene, annotations / "compound_gene.parquet")
    return build_graphs(
        compounds,
        genes,
        compound_gene,
        read_table(annotations / "compound_compound.parquet", columns=["inchikey_a", "inchikey_b"]),
        read_table(annotations / "gene_gene.parquet", columns=["target_a", "target_b"]),
        max_degree,
    )
