"""Compound-compound edges from Morgan fingerprints (Dice >= 0.5): a hand example and real structures."""

import pandas as pd

from motive.data.sources import ids, similarity


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
