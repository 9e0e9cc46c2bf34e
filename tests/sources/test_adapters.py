"""Every adapter on the real raw files (skipped when ../shared/data/raw is absent)."""

import numpy as np
import pandas as pd
import pytest

from motive import sources
from motive.sources import cellpainting, ids, lincs, similarity

INCHIKEY = r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$"


@pytest.mark.parametrize("name", sorted(sources.COMPOUND_GENE))
def test_compound_gene_adapters_give_the_unified_schema(raw_dir, name):
    table = sources.COMPOUND_GENE[name](raw_dir)
    assert list(table.columns) == sources.COMPOUND_GENE_COLUMNS
    assert len(table) > 1000
    assert (table["database"] == name).all()
    keyed = table.dropna(subset=["inchikey", "target"])
    assert len(keyed) > 0.5 * len(table)
    assert keyed["inchikey"].str.match(INCHIKEY).all()
    assert keyed["target"].str.match(r"^[A-Za-z0-9][A-Za-z0-9\-\.@_/]*$").all()


def test_hetionet_and_drugbank_known_facts(raw_dir):
    hetionet = sources.COMPOUND_GENE["hetionet"](raw_dir)
    # DB00001 (lepirudin) binds thrombin: Entrez 2147 = F2. Lepirudin is a peptide without InChIKey.
    assert ((hetionet["source"] == "DB00001") & (hetionet["target"] == "F2")).any()
    drugbank = sources.COMPOUND_GENE["drugbank"](raw_dir)
    assert set(drugbank["rel_type"]) == {"target", "enzyme", "carrier", "transporter"}
    # Imatinib (DB00619) targets ABL1 and carries its InChIKey.
    imatinib = drugbank[(drugbank["source"] == "DB00619") & (drugbank["target"] == "ABL1")]
    assert imatinib["inchikey"].iloc[0] == "KTUFNOKKBVMGRW-UHFFFAOYSA-N"


def test_repurposing_hub_and_jump_target_explode_target_lists(raw_dir):
    hub = sources.COMPOUND_GENE["drugrep"](raw_dir)
    rolipram = hub[hub["inchikey"] == "HJORMJIFDVBMOB-UHFFFAOYSA-N"]
    assert set(rolipram["target"]) == {"PDE4A", "PDE4B", "PDE4C", "PDE4D", "PDE5A"}
    jump = sources.COMPOUND_GENE["jump_target"](raw_dir)
    amlodipine = jump[jump["inchikey"] == "YMDXSGBNCBQYGC-UHFFFAOYSA-N"]
    assert {"CACNA1C", "SMPD1"} <= set(amlodipine["target"])
    assert not jump["target"].str.contains("|", regex=False).any()


def test_dgidb_maps_drugbank_ids_and_names(raw_dir):
    table = sources.COMPOUND_GENE["dgidb"](raw_dir)
    assert set(table["source_id"]) == {"drugbank", "name"}
    by_name = table[table["source_id"] == "name"]
    assert by_name["inchikey"].notna().mean() > 0.3  # names resolved through DrugBank


@pytest.mark.parametrize("name", sorted(sources.GENE_GENE))
def test_gene_gene_adapters(raw_dir, name):
    table = sources.GENE_GENE[name](raw_dir)
    assert list(table.columns) == sources.GENE_GENE_COLUMNS
    assert len(table) > 4000
    assert table[["target_a", "target_b"]].notna().all(axis=1).mean() > 0.95


def test_entrez_symbols(raw_dir):
    symbols = ids.entrez_symbols(raw_dir)
    assert symbols[7157] == "TP53" and symbols[2147] == "F2"


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


def test_similarity_edges_from_real_structures(raw_dir):
    drugs = ids.drugbank_table(raw_dir).dropna(subset=["inchi"]).head(400)
    compounds = pd.DataFrame({"id": drugs["drugbank_id"], "inchikey": drugs["inchikey"], "structure": drugs["inchi"]})
    edges = similarity.compound_compound(compounds)
    assert len(edges) > 10
    assert (edges["dice"] >= 0.5).all()
    assert (edges["inchikey_a"] != edges["inchikey_b"]).all()


def test_similarity_hand_example():
    compounds = pd.DataFrame(
        {
            "id": ["ethanol", "propanol", "benzene", "broken"],
            "inchikey": ["A" * 14, "B" * 14, "C" * 14, "D" * 14],
            "structure": ["CCO", "CCCO", "c1ccccc1", "not a molecule"],
        }
    )
    edges = similarity.compound_compound(compounds, threshold=0.3)
    assert edges[["source_a", "source_b"]].values.tolist() == [["ethanol", "propanol"]]


def test_cell_painting_plate_median_per_compound(raw_dir):
    profiles = cellpainting.compound_profiles(raw_dir)
    assert profiles.shape == (57, 454)
    assert (profiles.index.str.len() == 14).all() and profiles.index.is_unique
    wells = pd.read_csv(raw_dir / cellpainting.FILE)
    key = profiles.index[0]
    column = profiles.columns[0]
    expected = wells.loc[wells["Metadata_InChIKey14"] == key, column].median()
    assert profiles.loc[key, column] == pytest.approx(expected, rel=1e-5)
