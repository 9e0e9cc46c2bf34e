"""DrugBank compound-gene edges and relation types (real raw file)."""

from motive.data import sources


def test_drugbank_known_facts(raw_dir):
    drugbank = sources.COMPOUND_GENE["drugbank"](raw_dir)
    assert set(drugbank["rel_type"]) == {"target", "enzyme", "carrier", "transporter"}
    # Imatinib (DB00619) targets ABL1 and carries its InChIKey.
    imatinib = drugbank[(drugbank["source"] == "DB00619") & (drugbank["target"] == "ABL1")]
    assert imatinib["inchikey"].iloc[0] == "KTUFNOKKBVMGRW-UHFFFAOYSA-N"
