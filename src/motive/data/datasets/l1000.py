"""Build the real ``l1000`` dataset from raw public files into the official layout.

raw files -> source adapters -> an official ``inputs/`` tree (profiles, meta, annotations)
-> ``motive.data.build`` rules -> ``data/{graph_type}/orf/``. Going through ``inputs/`` means the
real data exercises exactly the code path a user's official MOTIVE inputs take.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from motive.data import layout, sources
from motive.data.build import build_from_inputs
from motive.data.datasets.registry import get_dataset
from motive.data.sources import lincs, similarity
from motive.data.sources.ids import drugbank_table
from motive.data.stats import table2
from motive.outputs import output_dir

log = logging.getLogger(__name__)


def annotations(raw_dir: Path, compound_meta: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three unified annotation tables from every adapter."""
    tables = []
    for name, adapter in sources.COMPOUND_GENE.items():
        table = adapter(raw_dir)
        log.info("%s: %d compound-gene rows (%d with an InChIKey)", name, len(table), table["inchikey"].notna().sum())
        tables.append(table[sources.COMPOUND_GENE_COLUMNS])
    compound_gene = pd.concat(tables, ignore_index=True)

    drugs = drugbank_table(raw_dir)
    profiled = drugs[drugs["drugbank_id"].isin(compound_meta["Metadata_JCP2022"])]
    log.info("RDKit Morgan similarity over %d profiled compounds", len(profiled))
    compound_compound = similarity.compound_compound(
        pd.DataFrame({"id": profiled["drugbank_id"], "inchikey": profiled["inchikey"], "structure": profiled["inchi"]})
    )[sources.COMPOUND_COMPOUND_COLUMNS]

    gene_gene = pd.concat(
        [adapter(raw_dir)[sources.GENE_GENE_COLUMNS] for adapter in sources.GENE_GENE.values()], ignore_index=True
    )
    return {"compound_gene": compound_gene, "compound_compound": compound_compound, "gene_gene": gene_gene}


def write_inputs(raw_dir: Path, inputs_dir: Path) -> None:
    compound_features, compound_meta = lincs.compound_profiles(raw_dir)
    orf_features, orf_meta = lincs.orf_profiles(raw_dir)
    for kind, features, meta in (("compound", compound_features, compound_meta), ("orf", orf_features, orf_meta)):
        (inputs_dir / kind).mkdir(parents=True, exist_ok=True)
        features.to_parquet(inputs_dir / kind / "features.parquet", index=False)
        meta.to_csv(inputs_dir / kind / "meta.csv.gz", index=False)
    (inputs_dir / "annotations").mkdir(parents=True, exist_ok=True)
    for name, table in annotations(raw_dir, compound_meta).items():
        table.to_parquet(inputs_dir / "annotations" / f"{name}.parquet", index=False)


def build(raw_dir: str | Path, out_dir: str | Path, overwrite: bool = False) -> dict:
    """Write ``out_dir/{inputs,data}`` and ``out_dir/dataset.json``; all or nothing."""
    dataset = get_dataset("l1000")
    started = time.perf_counter()
    with output_dir(out_dir, "dataset", overwrite) as tmp:
        write_inputs(Path(raw_dir), tmp / "inputs")
        graphs = build_from_inputs(tmp / "inputs", gene_type=dataset.gene_type)
        layout.write_dataset(graphs, tmp, dataset.gene_type)
        description = {
            "name": dataset.name,
            "version": dataset.version,
            "description": dataset.description,
            "gene_type": dataset.gene_type,
            "default_split": dataset.default_split,
            "headline_metric": dataset.headline_metric,
            "graph_hashes": {graph_type: graph.content_hash() for graph_type, graph in graphs.items()},
            "statistics": table2(graphs).to_dict(orient="records"),
            "files": dataset.files[["path", "url", "sha256"]].to_dict(orient="records"),
            "terms": dataset.terms(),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        (tmp / "dataset.json").write_text(json.dumps(description, indent=2) + "\n")
    return description
