"""DGIdb drug-gene interactions (dgidb/dgidb files/interactions.tsv, 2013 dump).

Drugs are DrugBank ids for DrugBank rows and names otherwise; a name is mapped through a
unique DrugBank drug name (case-insensitive). Rows whose drug maps to no InChIKey are kept
with a missing inchikey, so the build drops them and the loss is visible in counts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motive.data.sources.ids import drugbank_by_name, drugbank_inchikeys
from motive.tables import read_table

FILE = "dgidb/interactions.tsv"


def compound_gene(raw_dir: Path) -> pd.DataFrame:
    raw_dir = Path(raw_dir)
    table = read_table(
        raw_dir / FILE, columns=["entrez_gene_symbol", "interaction_types", "drug_name", "drug_primary_name"]
    )
    drug = table["drug_name"].astype(str)
    is_drugbank = drug.str.match(r"^DB\d{5}$")
    by_name = table["drug_primary_name"].astype(str).str.lower().map(drugbank_by_name(raw_dir))
    drugbank_id = drug.where(is_drugbank, by_name)
    return pd.DataFrame(
        {
            "source": drug.to_numpy(),
            "target": table["entrez_gene_symbol"].to_numpy(),
            "rel_type": table["interaction_types"].fillna("n/a").to_numpy(),
            "source_id": is_drugbank.map({True: "drugbank", False: "name"}).to_numpy(),
            "database": "dgidb",
            "inchikey": drugbank_id.map(drugbank_inchikeys(raw_dir)).to_numpy(),
        }
    )
