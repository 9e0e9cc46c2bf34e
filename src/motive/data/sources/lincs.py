"""LINCS L1000 consensus signatures as perturbation profiles (dhimmel/lincs).

Compounds: dense consensus z-scores of DrugBank compounds over the 978 measured landmark
genes; the perturbation id (``Metadata_JCP2022`` slot) is the DrugBank id, keyed by its InChIKey.
Genes: over-expression (ORF) consensus signatures, which the source ships as significant genes
only (~14 per ORF); the rest of the 978 landmark genes are set to z = 0 (not significant).
Both come out as an official ``inputs/`` pair: a features table and a ``meta`` table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.data.sources.ids import drugbank_table, entrez_symbols
from motive.tables import read_table

COMPOUND_FILE = "lincs-l1000/consensi-drugbank.tsv.gz"
ORF_FILE = "lincs-l1000/consensi-overexpression-binary.tsv"
GENES_FILE = "lincs-l1000/genes.tsv"


def landmark_genes(raw_dir: Path) -> list[str]:
    """Entrez ids (as strings, sorted) of the 978 directly measured L1000 genes."""
    genes = read_table(Path(raw_dir) / GENES_FILE, columns=["entrez_gene_id", "status"])
    return sorted(genes.loc[genes["status"] == "measured", "entrez_gene_id"].astype(str))


def compound_profiles(raw_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, meta): one row per DrugBank compound, 978 landmark z-score columns."""
    raw_dir = Path(raw_dir)
    signatures = read_table(raw_dir / COMPOUND_FILE, columns=["perturbagen"])
    features = signatures.rename(columns={"perturbagen": "Metadata_JCP2022"})
    drugs = drugbank_table(raw_dir).set_index("drugbank_id")
    ids = features["Metadata_JCP2022"]
    meta = pd.DataFrame(
        {
            "Metadata_JCP2022": ids.to_numpy(),
            "Metadata_InChIKey": ids.map(drugs["inchikey"]).to_numpy(),
            "Metadata_InChI": ids.map(drugs["inchi"]).to_numpy(),
        }
    )
    return features, meta


def orf_profiles(raw_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, meta): one row per over-expressed gene, 978 landmark z-score columns."""
    raw_dir = Path(raw_dir)
    long = read_table(raw_dir / ORF_FILE, columns=["perturbagen", "entrez_gene_id", "z_score"])
    dense = long.pivot_table(index="perturbagen", columns="entrez_gene_id", values="z_score", aggfunc="mean")
    dense.columns = dense.columns.astype(str)
    dense = dense.reindex(columns=landmark_genes(raw_dir)).fillna(0.0).astype(np.float32)
    perturbation_ids = "ORF:" + dense.index.astype(str)
    features = dense.reset_index(drop=True)
    features.insert(0, "Metadata_JCP2022", perturbation_ids)
    symbols = entrez_symbols(raw_dir)
    meta = pd.DataFrame(
        {
            "Metadata_JCP2022": perturbation_ids,
            "Metadata_Symbol": dense.index.map(symbols).to_numpy(),
            "Metadata_NCBI_Gene_ID": dense.index.to_numpy(),
        }
    )
    return features, meta
