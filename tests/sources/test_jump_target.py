"""JUMP-Target target lists (real raw file)."""

from motive.data import sources


def test_jump_target_explodes_target_lists(raw_dir):
    jump = sources.COMPOUND_GENE["jump_target"](raw_dir)
    amlodipine = jump[jump["inchikey"] == "YMDXSGBNCBQYGC-UHFFFAOYSA-N"]
    assert {"CACNA1C", "SMPD1"} <= set(amlodipine["target"])
    assert not jump["target"].str.contains("|", regex=False).any()
