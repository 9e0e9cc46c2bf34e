"""Source adapters: each module turns one public raw source into unified tables.

Unified schemas (the official MOTIVE annotation parquet schema):
- compound_gene: source, target, rel_type, source_id, database, inchikey
- compound_compound: source_a, source_b, rel_type, source_id, database, inchikey_a, inchikey_b
- gene_gene: target_a, target_b, rel_type, database
Adapters read files under a raw directory laid out like ``../shared/data/raw``; they never
apply graph rules (dedup, degree cap, featured filter): that is ``motive.data.build``'s job.
"""

from motive.data.sources import dgidb, drugbank, hetionet, jump_target, ppi, repurposing_hub

COMPOUND_GENE_COLUMNS = ["source", "target", "rel_type", "source_id", "database", "inchikey"]
COMPOUND_COMPOUND_COLUMNS = ["source_a", "source_b", "rel_type", "source_id", "database", "inchikey_a", "inchikey_b"]
GENE_GENE_COLUMNS = ["target_a", "target_b", "rel_type", "database"]

# name -> function(raw_dir) returning a compound_gene table
COMPOUND_GENE = {
    "hetionet": hetionet.compound_gene,
    "drugbank": drugbank.compound_gene,
    "drugrep": repurposing_hub.compound_gene,
    "dgidb": dgidb.compound_gene,
    "jump_target": jump_target.compound_gene,
}
# name -> function(raw_dir) returning a gene_gene table
GENE_GENE = {
    "menche2015": ppi.menche_gene_gene,
    "hi_ii_14": ppi.hi_ii_14_gene_gene,
    "lit_bm_13": ppi.lit_bm_13_gene_gene,
}
