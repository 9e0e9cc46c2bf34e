"""JUMP-Target (CPJUMP1) compounds and their annotated targets (jump-cellpainting/JUMP-Target)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from motive.data.sources.ids import explode_targets
from motive.tables import read_table

FILES = ("jump-target/JUMP-Target-1_compound_metadata.tsv", "jump-target/JUMP-Target-2_compound_metadata.tsv")


def compound_gene(raw_dir: Path) -> pd.DataFrame:
    tables = [read_table(Path(raw_dir) / name, columns=["broad_sample", "InChIKey", "target_list"]) for name in FILES]
    table = explode_targets(pd.concat(tables, ignore_index=True), "target_list")
    return pd.DataFrame(
        {
            "source": table["broad_sample"].to_numpy(),
            "target": table["target_list"].to_numpy(),
            "rel_type": "target",
            "source_id": "broad",
            "database": "jump_target",
            "inchikey": table["InChIKey"].to_numpy(),
        }
    )
