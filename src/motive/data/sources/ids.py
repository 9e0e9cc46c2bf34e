"""Identifier maps shared by adapters: DrugBank id -> InChIKey, Entrez gene id -> symbol."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from motive.tables import read_table

DRUGBANK_FILE = "drugbank/drugbank.tsv"
GENE_NODES_FILE = "hetionet/nodes.tsv"  # Hetionet v1 Gene nodes: Gene::<entrez>, name = NCBI symbol


@functools.lru_cache(maxsize=4)
def drugbank_table(raw_dir: Path) -> pd.DataFrame:
    """drugbank.tsv with its InChIKeys stripped of the 'InChIKey=' prefix the file carries."""
    table = read_table(Path(raw_dir) / DRUGBANK_FILE, columns=["drugbank_id", "name", "inchikey", "inchi"])
    table["inchikey"] = table["inchikey"].str.removeprefix("InChIKey=")
    return table


def drugbank_inchikeys(raw_dir: Path) -> pd.Series:
    """DrugBank id -> full InChIKey, for the drugs that have one."""
    table = drugbank_table(Path(raw_dir)).dropna(subset=["inchikey"])
    return pd.Series(table["inchikey"].to_numpy(), index=table["drugbank_id"].to_numpy())


def drugbank_by_name(raw_dir: Path) -> pd.Series:
    """Lower-cased drug name -> DrugBank id (names that are unique only)."""
    table = drugbank_table(Path(raw_dir))
    names = table["name"].str.lower()
    unique = ~names.duplicated(keep=False)
    return pd.Series(table["drugbank_id"][unique].to_numpy(), index=names[unique].to_numpy())


@functools.lru_cache(maxsize=4)
def entrez_symbols(raw_dir: Path) -> pd.Series:
    """Entrez gene id (int) -> NCBI gene symbol."""
    nodes = read_table(Path(raw_dir) / GENE_NODES_FILE, columns=["id", "name", "kind"])
    genes = nodes[nodes["kind"] == "Gene"]
    entrez = genes["id"].str.removeprefix("Gene::").astype(int)
    return pd.Series(genes["name"].to_numpy(), index=entrez.to_numpy())


def explode_targets(frame: pd.DataFrame, column: str, separator: str = "|") -> pd.DataFrame:
    """One row per gene symbol of a separator-joined target list; empty entries dropped."""
    frame = frame.dropna(subset=[column]).copy()
    frame[column] = frame[column].astype(str).str.split(separator)
    frame = frame.explode(column)
    frame[column] = frame[column].str.strip()
    return frame[frame[column] != ""]
