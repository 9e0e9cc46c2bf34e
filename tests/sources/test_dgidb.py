"""DGIdb interactions mapped to DrugBank ids and names (real raw file)."""

from motive.data import sources


def test_dgidb_maps_drugbank_ids_and_names(raw_dir):
    table = sources.COMPOUND_GENE["dgidb"](raw_dir)
    assert set(table["source_id"]) == {"drugbank", "name"}
    by_name = table[table["source_id"] == "name"]
    assert by_name["inchikey"].notna().mean() > 0.3  # names resolved through DrugBank
