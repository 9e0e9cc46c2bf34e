"""Identifier tables: Entrez ids to gene symbols (real raw file)."""

from motive.data.sources import ids


def test_entrez_symbols(raw_dir):
    symbols = ids.entrez_symbols(raw_dir)
    assert symbols[7157] == "TP53" and symbols[2147] == "F2"
