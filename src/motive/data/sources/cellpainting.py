"""One real Cell Painting plate (LINCS A549, cytomining/cytominer-eval example data):
well-level normalized CellProfiler features -> one median profile per compound (InChIKey14).
Control wells (no InChIKey14, e.g. DMSO) are dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.data.build import feature_columns
from motive.tables import as_float32_matrix, read_table

FILE = "cellpainting/SQ00015054_normalized_feature_select.csv.gz"


def compound_profiles(raw_dir: Path) -> pd.DataFrame:
    path = Path(raw_dir) / FILE
    wells = read_table(path, columns=["Metadata_InChIKey14", "Metadata_broad_sample"])
    wells = wells.dropna(subset=["Metadata_InChIKey14"])
    features = feature_columns(wells)
    as_float32_matrix(wells[features], path)
    profiles = wells.groupby("Metadata_InChIKey14", sort=True)[features].median().astype(np.float32)
    profiles.index.name = "Metadata_InChIKey"
    return profiles
