"""LINCS L1000 compound and ORF profiles (real raw files)."""

import numpy as np
import pandas as pd
import pytest

from motive.data.sources import lincs

INCHIKEY = r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$"


def test_lincs_compound_profiles(raw_dir):
    features, meta = lincs.compound_profiles(raw_dir)
    assert features.shape == (1170, 979)
    assert features["Metadata_JCP2022"].str.match(r"^DB\d{5}$").all()
    assert meta["Metadata_InChIKey"].str.match(INCHIKEY).all()
    assert np.isfinite(features.drop(columns="Metadata_JCP2022").to_numpy()).all()


def test_lincs_orf_profiles_are_dense_and_sparse_in_values(raw_dir):
    features, meta = lincs.orf_profiles(raw_dir)
    values = features.drop(columns="Metadata_JCP2022").to_numpy()
    assert values.shape == (2108, 978)
    assert 5 < (values != 0).sum(1).mean() < 40  # ~14 significant genes per ORF, the rest 0
    row = meta.index[meta["Metadata_Symbol"] == "NAT1"][0]
    long = pd.read_csv(raw_dir / lincs.ORF_FILE, sep="\t")
    z = long[
        (long["perturbagen"] == 9)
        & (long["entrez_gene_id"] == long[long["perturbagen"] == 9]["entrez_gene_id"].iloc[0])
    ]
    assert features.loc[row, str(z["entrez_gene_id"].iloc[0])] == pytest.approx(z["z_score"].iloc[0])
