"""The compound-gene and gene-gene adapter registries (``motive/data/sources/__init__.py``) on the real raw files: every
adapter gives the unified schema."""

import pytest

from motive.data import sources

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


@pytest.mark.parametrize("name", sorted(sources.GENE_GENE))
def test_gene_gene_adapters(raw_dir, name):
    table = sources.GENE_GENE[name](raw_dir)
    assert list(table.columns) == sources.GENE_GENE_COLUMNS
    assert len(table) > 4000
    assert table[["target_a", "target_b"]].notna().all(axis=1).mean() > 0.95
