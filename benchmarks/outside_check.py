"""An outside check on real compounds the l1000 graph has never seen. Run on demand, never in CI.

    .venv/bin/python benchmarks/outside_check.py --data runs/l1000 --raw ../shared/data/raw --work DIR

The raw sources annotate many compounds that have no L1000 profile, so they are not nodes of the
l1000 graph. Those with a DrugBank structure (InChI, turned into SMILES) and at least one
annotated gene among the graph's genes are given to `motive predict` as SMILES only (a table of
name + smiles), with a `--final` run and the same model's ordinary cold_source run (split seed
0..N-1), for the evidence ranker (the network preset's settings; and the same on the structure view
alone, as a SMILES-only query has no profile) and knn_structure. Each annotated gene
in the graph is ranked among every gene of the graph, the compound's other annotated genes
filtered out, ties at the mean rank: filtered full MRR and Hits@10 over those (compound, gene)
pairs, beside the MRR and Hits@10 of a random ranking of the same pairs. Writes DIR/outside_check.md
(and .csv) and prints the table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RANKER = ["--monitor", "mrr", "--lr", "0.01"]
MODELS = {  # name -> (model, its settings): the network preset's ranker, the same on structure alone, the lookup
    "evidence_ranker": ("evidence_ranker", [*RANKER, "--views", '{"source": ["profile", "structure"]}']),
    "evidence_ranker_structure": ("evidence_ranker", [*RANKER, "--views", '{"source": ["structure"]}']),
    "knn_structure": ("knn_structure", []),
}


def outside_compounds(data: Path, raw: Path) -> pd.DataFrame:
    """name, smiles and the annotated graph genes of every annotated compound outside the graph."""
    from rdkit import Chem, RDLogger

    from motive.data import layout
    from motive.data.sources.ids import drugbank_table
    from motive.predict.structures import standardise

    graph = layout.read_graph(layout.graph_dir(data, "st_expanded"))
    genes = set(graph.targets.keys)
    inside = set(graph.sources.keys)
    annotations = pd.read_parquet(
        data / "inputs" / "annotations" / "compound_gene.parquet", columns=["inchikey", "target"]
    )
    annotations = annotations.dropna()
    annotations["key"] = annotations["inchikey"].astype(str).str[:14]
    annotations = annotations[~annotations["key"].isin(inside) & annotations["target"].isin(genes)]
    drugs = drugbank_table(raw).dropna(subset=["inchikey", "inchi"])
    drugs = drugs.assign(key=drugs["inchikey"].str[:14]).drop_duplicates("key").set_index("key")
    RDLogger.DisableLog("rdApp.*")
    rows = []
    for key, targets in annotations.groupby("key")["target"]:
        if key not in drugs.index:
            continue
        molecule = Chem.MolFromInchi(drugs.at[key, "inchi"])
        if molecule is None or Chem.MolToInchiKey(molecule)[:14] != key:
            continue  # a structure that does not give back its own key is not the annotated compound
        parent, smiles = standardise(Chem.MolToSmiles(molecule), key, "outside check")  # a salt: its parent
        if parent in inside:
            continue  # the parent compound is a node of the graph
        rows.append({"name": drugs.at[key, "name"], "key": parent, "smiles": smiles, "genes": set(targets)})
    found = pd.DataFrame(rows)
    genes_of = found.groupby("key")["genes"].agg(lambda sets: sorted(set().union(*sets)))  # salts of one parent
    found = found.drop_duplicates("key").drop(columns="genes").join(genes_of, on="key")
    return found.reset_index(drop=True)


def train(data: Path, work: Path, model: str, final: bool, seed: int) -> Path:
    out = work / f"{model}{'-final' if final else ''}-split{seed}"
    if not (out / "metrics.json").is_file():
        command = [sys.executable, "-m", "motive.cli", "-q", "train", "--data", str(data), "--split", "cold_source"]
        command += ["--split-seed", str(seed)]
        name, settings = MODELS[model]
        command += ["--model", name, "--side-edges", "--hits-k", "25", *settings, "--out", str(out)]
        subprocess.run(command + (["--final"] if final else []), check=True)
    return out


def ranks(compounds: pd.DataFrame, run: Path) -> pd.DataFrame:
    """Each annotated gene's filtered rank for its compound (other annotated genes removed, ties at
    the mean rank), with the candidate count."""
    import motive

    table = motive.predict(run, compounds=compounds[["name", "smiles"]]).table
    rows = []
    for key, scored in table.groupby("query", sort=False):
        positives = set(compounds.loc[compounds["key"] == key, "genes"].iloc[0])
        is_positive = scored["candidate"].isin(positives).to_numpy()
        negatives = scored["score"].to_numpy()[~is_positive]
        for gene, score in zip(scored["candidate"][is_positive], scored["score"][is_positive], strict=True):
            higher, tied = (negatives > score).sum(), (negatives == score).sum()
            rows.append({"key": key, "gene": gene, "rank": 1 + higher + tied / 2, "candidates": len(negatives) + 1})
    return pd.DataFrame(rows)


def summary(found: pd.DataFrame) -> dict:
    n = found["candidates"].to_numpy()
    harmonic = np.array([np.sum(1 / np.arange(1, k + 1)) for k in n])
    return {
        "pairs": len(found),
        "compounds": found["key"].nunique(),
        "full_mrr": float((1 / found["rank"]).mean()),
        "hits@10": float((found["rank"] <= 10).mean()),
        "chance_mrr": float((harmonic / n).mean()),
        "chance_hits@10": float(np.minimum(10 / n, 1).mean()),
    }


def mean_and_std(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per (model, run): the metrics' mean and std over split seeds, and in how many seeds the final
    run's full MRR and Hits@10 were at least the cold_source run's."""
    rows = []
    for (model, run), group in per_seed.groupby(["model", "run"], sort=False):
        row = {"model": model, "run": run, "pairs": int(group["pairs"].iloc[0]), "seeds": len(group)}
        for metric in ("full_mrr", "hits@10", "chance_mrr", "chance_hits@10"):
            row[metric] = f"{group[metric].mean():.4f} ± {group[metric].std(ddof=1) if len(group) > 1 else 0:.4f}"
        if run == "final":
            other = per_seed[(per_seed["model"] == model) & (per_seed["run"] == "cold_source")]
            paired = group.set_index("split_seed").join(other.set_index("split_seed"), rsuffix="_cold")
            row["final_at_least_cold"] = (
                f"MRR {int((paired['full_mrr'] >= paired['full_mrr_cold']).sum())}/{len(paired)}, "
                f"Hits@10 {int((paired['hits@10'] >= paired['hits@10_cold']).sum())}/{len(paired)}"
            )
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the l1000 dataset folder")
    parser.add_argument("--raw", type=Path, default=ROOT.parent / "shared" / "data" / "raw")
    parser.add_argument("--work", type=Path, required=True, help="folder for the runs and the table")
    parser.add_argument("--seeds", type=int, default=5, help="split seeds 0..N-1 (each run pair on its own split)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    compounds = outside_compounds(args.data.resolve(), args.raw.resolve())
    print(f"{len(compounds)} outside compounds, {compounds['genes'].map(len).sum()} annotated (compound, gene) pairs")
    rows = []
    for seed in range(args.seeds):
        for model in MODELS:
            for final in (False, True):
                run = train(args.data.resolve(), args.work, model, final, seed)
                found = summary(ranks(compounds, run))
                rows.append({"model": model, "run": "final" if final else "cold_source", "split_seed": seed} | found)
    per_seed = pd.DataFrame(rows)
    per_seed.to_csv(args.work / "outside_check_per_seed.csv", index=False)
    table = mean_and_std(per_seed)
    table.to_csv(args.work / "outside_check.csv", index=False)
    columns = list(table.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(value) for value in row) + " |")
    text = "\n".join(lines)
    (args.work / "outside_check.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
