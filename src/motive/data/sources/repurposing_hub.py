"""Drug Repurposing Hub compound -> target genes (jump-cellpainting/compound-annotator)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motive.data.sources.ids import explode_targets
from motive.tables import read_table

FILE = "repurposing-hub/compound_rephub_annot_full.csv.gz"


def compound_gene(raw_dir: Path) -> pd.DataFrame:
    table = read_table(Path(raw_dir) / FILE, columns=["InChIKey", "pert_iname", "target"])
    table = explode_targets(table, "target")
    return pd.DataFrame(
        {
            "source": table["pert_iname"].to_numpy(),
            "target": table["target"].to_numpy(),
            "rel_type": "target",
            "source_id": "pert_iname",
            "database": "drugrep",
            "inchikey": table["InChIKey"].to_numpy(),
        }
    )
