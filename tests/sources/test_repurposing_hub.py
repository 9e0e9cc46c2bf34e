"""Drug Repurposing Hub target lists (real raw file)."""

from motive.data import sources


def test_repurposing_hub_explodes_target_lists(raw_dir):
    hub = sources.COMPOUND_GENE["drugrep"](raw_dir)
    rolipram = hub[hub["inchikey"] == "HJORMJIFDVBMOB-UHFFFAOYSA-N"]
    assert set(rolipram["target"]) == {"PDE4A", "PDE4B", "PDE4C", "PDE4D", "PDE5A"}
