"""Prediction from what a scientist has: compounds named by structure (a table of name + smiles,
or --smiles), keyed by InChIKey14 so a known compound is recognised, salts reduced to their
largest fragment, and a bad SMILES one error line before anything is written."""

import gzip
import importlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from motive.cli import main
from motive.data import layout, synth
from motive.predict.structures import from_smiles, keyed_by_structure, standardise
from motive.training.config import TrainConfig
from motive.training.loop import run

predict = importlib.import_module("motive.predict")  # the package; motive.predict is the API function


def inchikey14(smiles: str) -> str:
    return Chem.MolToInchiKey(Chem.MolFromSmiles(smiles))[:14]


@pytest.fixture(scope="module")
def structure_run(tmp_path_factory):
    """A synthetic dataset whose compounds are real molecules, keyed by their InChIKey14, and a
    knn_structure run on it (it reads structures only)."""
    root = tmp_path_factory.mktemp("by_structure")
    graphs = synth.generate(synth.SynthConfig(scale=0.03, seed=3, signal=1.0))
    original = sorted(set().union(*(graph.sources.keys for graph in graphs.values())))
    molecule = {key: f"{'C' * (i + 1)}O" for i, key in enumerate(original)}  # alcohols: each another molecule
    renamed = {key: inchikey14(smiles) for key, smiles in molecule.items()}
    assert len(set(renamed.values())) == len(renamed)
    smiles = [molecule[key] for key in graphs["st_expanded"].sources.keys]
    for graph in graphs.values():
        graph.sources.keys = graph.sources.keys.map(renamed)
    keys = graphs["st_expanded"].sources.keys
    layout.write_dataset(graphs, root / "data")
    meta = pd.DataFrame(
        {
            "Metadata_InChIKey": [f"{renamed[key]}-UHFFFAOYSA-N" for key in original],
            "Metadata_InChI": [Chem.MolToInchi(Chem.MolFromSmiles(molecule[key])) for key in original],
        }
    )
    (root / "data" / "inputs" / "compound").mkdir(parents=True)
    with gzip.open(root / "data" / "inputs" / "compound" / "meta.csv.gz", "wt") as handle:
        meta.to_csv(handle, index=False)
    config = TrainConfig(data=str(root / "data"), split="cold_source", model="knn_structure", hits_k=5)
    run(config, root / "run")
    return root, keys, smiles


def test_smiles_are_standardised_and_keyed_like_the_graphs_compounds(caplog):
    key, canonical = standardise("OCC", "ethanol", "t")
    assert key == inchikey14("CCO") and canonical == "CCO"
    with caplog.at_level("INFO", logger="motive.predict.structures"):
        salt_key, salt = standardise("CC(=O)Oc1ccccc1C(=O)[O-].[Na+]", "aspirin sodium", "t")
    assert salt == Chem.MolToSmiles(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)[O-]"))
    assert salt_key == inchikey14("CC(=O)Oc1ccccc1C(=O)[O-]")
    assert "aspirin sodium has several fragments" in caplog.text


@pytest.mark.parametrize(
    ("smiles", "message"),
    [
        ("C1CC", "the smiles of 'b' does not parse: 'C1CC'"),
        ("", "the smiles of 'b' does not parse: ''"),
        ("OCC", "'a' and 'b' are the same compound (InChIKey14 " + inchikey14("CCO") + ")"),
    ],
)
def test_a_bad_or_repeated_structure_is_one_line_naming_it(smiles, message):
    frame = pd.DataFrame({"name": ["a", "b"], "smiles": ["CCO", smiles]})
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        keyed_by_structure(frame, "table.csv")


def test_a_table_of_names_and_smiles_ranks_targets_and_recognises_known_compounds(structure_run, tmp_path):
    root, keys, smiles = structure_run
    loaded = predict.load_predictor(root / "run", "cpu")
    known = loaded.graph.sources.keys.get_loc(keys[0])
    table = pd.DataFrame({"name": ["known one", "a new one"], "smiles": [smiles[0], "c1ccccc1CCN"]})
    ranked = predict.rank(loaded, compounds=table, top_k=4)
    assert list(ranked.columns[:3]) == ["query", "name", "candidate"]
    assert ranked.groupby("name").size().to_dict() == {"known one": 4, "a new one": 4}
    first = ranked[ranked["name"] == "known one"]
    assert set(first["query"]) == {keys[0]}  # keyed by InChIKey14: the graph's own node
    assert np.isfinite(ranked["score"]).all()
    st = loaded.graph.edges["st"]
    known_pairs = set(st.loc[st["source"] == known, "target"])
    top = set(loaded.graph.targets.keys.get_indexer(first["candidate"]))
    flagged = first["known"] != "none"
    assert flagged.any() == bool(top & known_pairs)  # its known links are flagged
    assert set(ranked.loc[ranked["name"] == "a new one", "known"]) == {"none"}


def test_the_command_line_takes_smiles_and_writes_nothing_for_a_bad_one(structure_run, tmp_path):
    root, _, smiles = structure_run
    out = tmp_path / "ranked.parquet"
    assert main(["-q", "predict", "--run", str(root / "run"), "--smiles", smiles[3], "--smiles", "c1ccccc1CCCN",
                 "--top-k", "3", "--out", str(out)]) == 0  # fmt: skip
    ranked = pd.read_parquet(out)
    assert ranked["name"].tolist() == [smiles[3]] * 3 + ["c1ccccc1CCCN"] * 3
    bad = tmp_path / "bad.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "motive.cli", "-q", "predict", "--run", str(root / "run"), "--smiles", "CCO",
         "--smiles", "C1CC", "--out", str(bad)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and not bad.exists()
    assert done.stderr.strip().splitlines() == [
        "motive: error: compounds: the smiles of 'C1CC' does not parse: 'C1CC'; fix it or drop that compound"
    ]


def test_structures_alone_need_a_run_that_reads_them(structure_run, tmp_path):
    root, _, smiles = structure_run
    config = TrainConfig(data=str(root / "data"), split="cold_source", model="mlp", epochs=2, hits_k=5)
    run(config, tmp_path / "mlp")
    with pytest.raises(Exception, match="reads compound profiles only; predict with a run that reads structures"):
        predict.rank(tmp_path / "mlp", compounds=from_smiles([smiles[1]]))
