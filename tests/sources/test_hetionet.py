"""Hetionet compound-gene edges (real raw file)."""

from motive.data import sources


def test_hetionet_known_facts(raw_dir):
    hetionet = sources.COMPOUND_GENE["hetionet"](raw_dir)
    # DB00001 (lepirudin) binds thrombin: Entrez 2147 = F2. Lepirudin is a peptide without InChIKey.
    assert ((hetionet["source"] == "DB00001") & (hetionet["target"] == "F2")).any()
