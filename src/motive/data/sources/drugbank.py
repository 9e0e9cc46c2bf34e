"""DrugBank drug -> human protein relations (dhimmel/drugbank data/proteins.tsv).

rel_type is the DrugBank category (target, enzyme, carrier, transporter); non-human proteins
are dropped because the graph's targets are human genes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motive.data.sources.ids import drugbank_inchikeys, entrez_symbols
from motive.tables import read_table

FILE = "drugbank/proteins.tsv"


def compound_gene(raw_dir: Path) -> pd.DataFrame:
    table = read_table(Path(raw_dir) / FILE, columns=["drugbank_id", "category", "entrez_gene_id", "organism"])
    table = table[table["organism"] == "Human"].dropna(subset=["entrez_gene_id"])
    return pd.DataFrame(
        {
            "source": table["drugbank_id"].to_numpy(),
            "target": table["entrez_gene_id"].astype(int).map(entrez_symbols(Path(raw_dir))).to_numpy(),
            "rel_type": table["category"].to_numpy(),
            "source_id": "drugbank",
            "database": "drugbank",
            "inchikey": table["drugbank_id"].map(drugbank_inchikeys(Path(raw_dir))).to_numpy(),
        }
    )
