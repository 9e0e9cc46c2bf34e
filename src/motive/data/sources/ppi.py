"""Human protein-protein interactions as gene-gene edges: Menche et al. 2015 interactome
(Entrez pairs, mapped to symbols), and the CCSB HI-II-14 and Lit-BM-13 maps (symbols given)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motive.data.sources.ids import entrez_symbols
from motive.tables import read_table

MENCHE_FILE = "ppi/menche2015-interactome.tsv"
HI_II_14_FILE = "ppi/HI-II-14.tsv"
LIT_BM_13_FILE = "ppi/Lit-BM-13.tsv"


def menche_gene_gene(raw_dir: Path) -> pd.DataFrame:
    table = read_table(Path(raw_dir) / MENCHE_FILE, comment="#", header=None, names=["gene_a", "gene_b", "data_source"])
    symbols = entrez_symbols(Path(raw_dir))
    return pd.DataFrame(
        {
            "target_a": table["gene_a"].map(symbols),
            "target_b": table["gene_b"].map(symbols),
            "rel_type": table["data_source"].fillna("interacts"),
            "database": "menche2015",
        }
    )


def _symbol_pairs(path: Path, column_a: str, column_b: str, database: str) -> pd.DataFrame:
    table = read_table(path, columns=[column_a, column_b])
    return pd.DataFrame(
        {"target_a": table[column_a], "target_b": table[column_b], "rel_type": "interacts", "database": database}
    )


def hi_ii_14_gene_gene(raw_dir: Path) -> pd.DataFrame:
    return _symbol_pairs(Path(raw_dir) / HI_II_14_FILE, "Symbol A", "Symbol B", "hi_ii_14")


def lit_bm_13_gene_gene(raw_dir: Path) -> pd.DataFrame:
    return _symbol_pairs(Path(raw_dir) / LIT_BM_13_FILE, "symbol_a", "symbol_b", "lit_bm_13")
