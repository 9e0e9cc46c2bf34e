"""Hetionet v1 Compound-binds-Gene edges (dhimmel/integrate compile/CbG-binding.tsv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motive.data.sources.ids import drugbank_inchikeys, entrez_symbols
from motive.tables import read_table

FILE = "hetionet/CbG-binding.tsv"


def compound_gene(raw_dir: Path) -> pd.DataFrame:
    table = read_table(Path(raw_dir) / FILE, columns=["drugbank_id", "entrez_gene_id", "sources"])
    return pd.DataFrame(
        {
            "source": table["drugbank_id"],
            "target": table["entrez_gene_id"].map(entrez_symbols(Path(raw_dir))),
            "rel_type": "binds",
            "source_id": "drugbank",
            "database": "hetionet",
            "inchikey": table["drugbank_id"].map(drugbank_inchikeys(Path(raw_dir))),
        }
    )
