"""Feature views (``motive/data/views.py``): a structure-only signal that only a multimodal model sees,
similarity links that no label can move, the structure kNN against its definition, and predict
with a compound's SMILES, its profile or both (a compound with no profile is still scored)."""

import gzip
import importlib
import re

import numpy as np
import pandas as pd
import pytest

from motive import splits
from motive.data import layout, synth, views
from motive.evaluation import metrics
from motive.evaluation.evaluator import eval_pairs
from motive.models import StageGraph, build_model
from motive.names import STAGES
from motive.training.config import TrainConfig
from motive.training.loop import fit, run
from motive.training.prepare import Prepared

KEY = "Metadata_InChIKey"


def planted_structure(split_name="cold_source"):
    """Compound profiles are noise; the structure bits carry the latent that drives the edges."""
    config = synth.SynthConfig(
        scale=0.1, seed=1, signal=1.0, signal_view="structure", affinity=12, latent_dim=4, n_clusters=8
    )
    graphs, structure = synth.generate_with_views(config)
    graph = graphs["bipartite"]
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    return graph, split, {"source": {"structure": views.aligned(structure, graph.sources.keys)}, "target": {}}


def test_a_structure_only_signal_is_found_by_the_multimodal_model_only():
    graph, split, found = planted_structure()
    auroc = {}
    for chosen in (("profile",), ("profile", "structure")):
        extra = {"source": {name: v for name, v in found["source"].items() if name in chosen}, "target": {}}
        stages = {stage: StageGraph.build(graph, split, stage, extra) for stage in STAGES}
        config = TrainConfig(
            data="unused",
            split="cold_source",
            model="mlp",
            epochs=150,
            patience=30,
            batch_size=256,
            lr=5e-3,
            monitor="auroc",
            hits_k=5,
            eval_negatives="degree",
        )
        model = fit(config, Prepared(graph, graph.content_hash(), split, stages)).model
        pairs = eval_pairs(graph, split, "test", "degree")
        auroc[chosen] = metrics.auroc(model.score(stages["test"], pairs.sources, pairs.targets), pairs.labels)
    assert auroc[("profile", "structure")] >= auroc[("profile",)] + 0.15, auroc


def test_similarity_links_read_features_only_and_respect_the_stages():
    graph, split, found = planted_structure()
    matrix, mask = found["source"]["structure"]
    shuffled = graph.derive("bipartite")
    rng = np.random.default_rng(0)
    shuffled.edges["st"]["target"] = rng.permutation(shuffled.edges["st"]["target"].to_numpy())  # every label moved
    for k, stage in enumerate(STAGES):
        links = ("structure", 3, matrix, mask)
        a, b = StageGraph.build(graph, split, stage, found, links).edges[("source", "similar_structure", "source")]
        again = StageGraph.build(shuffled, split, stage, found, links).edges[("source", "similar_structure", "source")]
        assert np.array_equal(a, again[0]) and np.array_equal(b, again[1])
        assert (split.node_stage["source"][a] <= k).all()  # a held-out compound is linked only from its stage on
        node = a[0]  # its 3 most similar visible compounds are among its links
        visible = np.flatnonzero((split.node_stage["source"] <= k) & mask)
        similarity = views.similarity("structure", matrix, np.array([node]), visible)[0]
        similarity[visible == node] = -np.inf
        nearest = set(visible[np.argsort(-similarity, kind="stable")[:3]].tolist())
        assert nearest <= set(b[a == node].tolist())


def test_knn_structure_is_the_nearest_known_compound_by_tanimoto():
    graph, split, found = planted_structure("random")
    stage = StageGraph.build(graph, split, "test", found)
    model = build_model("knn_structure", stage)
    bits = found["source"]["structure"][0].astype(float)
    known_s, known_t = stage.edges[("source", "binds", "target")]
    rng = np.random.default_rng(1)
    sources, targets = rng.integers(0, len(graph.sources), 200), rng.choice(known_t, 200)
    expected = []
    for s, t in zip(sources, targets, strict=True):
        evidence = [j for j in known_s[known_t == t] if j != s]
        shared = bits[evidence] @ bits[s]
        union = bits[evidence].sum(1) + bits[s].sum() - shared
        expected.append(max(shared / np.maximum(union, 1e-12)) if evidence else -1.0)
    np.testing.assert_allclose(model.score(stage, sources, targets), expected, rtol=1e-12)


SMILES = [f"{'C' * n}O" for n in range(1, 12)] + [f"c1ccccc1{'C' * n}N" for n in range(1, 12)]


@pytest.fixture(scope="module")
def structured_run(tmp_path_factory):
    """A dataset whose compounds have real structures (their Morgan bits as the stored view) and a
    run that reads profile and structure and links compounds by structure."""
    from rdkit import Chem

    root = tmp_path_factory.mktemp("structured")
    graphs = synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0))
    layout.write_dataset(graphs, root / "data")
    keys = graphs["st_expanded"].sources.keys
    smiles = [SMILES[i % len(SMILES)] + "C" * (i // len(SMILES)) for i in range(len(keys))]
    inchi = [Chem.MolToInchi(Chem.MolFromSmiles(s)) for s in smiles]
    meta = pd.DataFrame({"Metadata_InChIKey": [f"{key}-AAAAAAAAAA-N" for key in keys], "Metadata_InChI": inchi})
    (root / "data" / "inputs" / "compound").mkdir(parents=True)
    with gzip.open(root / "data" / "inputs" / "compound" / "meta.csv.gz", "wt") as handle:
        meta.to_csv(handle, index=False)
    config = TrainConfig(
        data=str(root / "data"),
        split="cold_source",
        model="mlp",
        views={"source": ["profile", "structure"]},
        link_view="structure",
        link_k=3,
        epochs=3,
        hits_k=5,
    )
    run(config, root / "run")
    return root, keys, smiles


def test_structures_come_from_the_datasets_inchi_once(structured_run, monkeypatch):
    root, keys, smiles = structured_run
    table = views.structure_table(root / "data")  # cached by the run that made it
    bits, parsed = views.fingerprints(smiles[:5])
    assert parsed.all() and np.array_equal(table.loc[keys[:5]].to_numpy(), bits)
    monkeypatch.setattr(views, "fingerprints", lambda *a, **k: pytest.fail("recomputed instead of cached"))
    assert views.structure_table(root / "data").equals(table)


def test_predict_with_smiles_with_profiles_and_with_both(structured_run):
    module = importlib.import_module("motive.predict")  # the module; motive.predict is the API function

    root, keys, smiles = structured_run
    loaded = module.load_predictor(root / "run", "cpu")
    index = pd.Index(["NEWA", "NEWB"], name="Metadata_InChIKey")
    profiles = pd.DataFrame(loaded.graph.sources.x[:2], columns=loaded.feature_names["source"], index=index)
    structures = pd.DataFrame({"smiles": ["CCCCCCO", "c1ccccc1CCN"]}, index=profiles.index)
    tables = {
        "profiles": module.rank(loaded, compounds=profiles, top_k=5),
        "smiles": module.rank(loaded, compounds=structures, top_k=5),  # no profile at all
        "both": module.rank(loaded, compounds=profiles.join(structures), top_k=5),
    }
    for name, table in tables.items():
        assert len(table) == 10 and np.isfinite(table["score"]).all(), name
    assert tables["smiles"]["nearest_training_similarity"].isna().all()  # no profile to compare: no verdict
    assert tables["smiles"]["nearest_training_key"].isna().all() and tables["smiles"]["in_domain"].isna().all()
    assert not np.allclose(tables["profiles"]["score"], tables["both"]["score"])  # the structure counts
    stage, ids = module.extend_stage(
        loaded, loaded.stage, "source", profiles.index, profiles.to_numpy(np.float32), smiles=structures["smiles"]
    )
    a, b = stage.edges[("source", "similar_structure", "source")]
    assert set(ids) <= set(a.tolist())  # the new compounds are linked by the rule of the evaluation
    new_bits = stage.views["source"]["structure"][ids].numpy()
    assert np.array_equal(new_bits, views.fingerprints(["CCCCCCO", "c1ccccc1CCN"])[0])


def test_an_orf_run_reads_the_genes_crispr_profiles_where_the_dataset_has_them(tmp_path):
    module = importlib.import_module("motive.predict")
    orf = synth.generate(synth.SynthConfig(scale=0.03, seed=2, signal=1.0, source_dim=16, target_dim=12))
    crispr = synth.generate(synth.SynthConfig(scale=0.02, seed=5, signal=1.0, source_dim=16, target_dim=9))
    layout.write_dataset(orf, tmp_path / "data", "orf")
    layout.write_dataset(crispr, tmp_path / "data", "crispr")
    config = TrainConfig(
        data=str(tmp_path / "data"), model="mlp", views={"target": ["profile", "crispr"]}, epochs=3, hits_k=5
    )
    run(config, tmp_path / "run")
    loaded = module.load_predictor(tmp_path / "run", "cpu")
    keys = loaded.graph.targets.keys
    mask = loaded.stage.masks["target"]["crispr"].numpy()
    assert np.array_equal(mask, keys.isin(crispr["st_expanded"].targets.keys)) and 0 < mask.sum() < len(keys)
    row = int(np.flatnonzero(mask)[0])
    source = crispr["st_expanded"].targets
    expected = source.x[source.keys.get_loc(keys[row])]
    assert np.array_equal(loaded.stage.views["target"]["crispr"][row].numpy(), expected)
    index = pd.Index(["NEWG1", "NEWG2"], name="Metadata_Symbol")
    genes = pd.DataFrame(loaded.graph.targets.x[:2], columns=loaded.feature_names["target"], index=index)
    table = module.rank(loaded, genes=genes, top_k=3)  # new genes: their own profile, no CRISPR one
    assert len(table) == 6 and np.isfinite(table["score"]).all()


def test_a_model_brings_the_views_it_declares(structured_run, tmp_path, capsys):
    import json

    from motive.cli import main

    root, _, _ = structured_run
    argv = ["train", "--data", str(root / "data"), "--split", "cold_source", "--model", "knn_structure"]
    assert main([*argv, "--hits-k", "5", "--out", str(tmp_path / "alone")]) == 0
    assert "views: source structure; target profile" in capsys.readouterr().out
    recorded = json.loads((tmp_path / "alone" / "config.json").read_text())["views"]
    assert recorded == {"source": ["structure"], "target": ["profile"]}
    both = '{"source": ["profile", "structure"]}'
    assert main(["-q", *argv, "--hits-k", "5", "--views", both, "--out", str(tmp_path / "both")]) == 0
    lacking = '{"source": ["profile"]}'
    assert main(["-q", *argv, "--hits-k", "5", "--views", lacking, "--out", str(tmp_path / "lacking")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "reads the source structure view, which --views leaves out" in err, err
    assert not (tmp_path / "lacking").exists()
    assert TrainConfig(data="x", model="mlp").views is None  # resolved by the run: the profile for mlp


def test_a_structure_run_measures_its_domain_in_tanimoto_and_refuses_queries_it_cannot_read(structured_run, tmp_path):
    from motive.errors import MotiveError

    module = importlib.import_module("motive.predict")
    root, keys, smiles = structured_run
    run(TrainConfig(data=str(root / "data"), split="cold_source", model="knn_structure", hits_k=5), tmp_path / "run")
    loaded = module.load_predictor(tmp_path / "run", "cpu")
    queries = pd.DataFrame({"smiles": ["CCCCCCO", "c1ccccc1CCN"]}, index=pd.Index(["NEWA", "NEWB"], name=KEY))
    table = module.rank(loaded, compounds=queries, top_k=3)
    bits = views.fingerprints(list(queries["smiles"]))[0].astype(float)
    train = np.flatnonzero(loaded.split.node_stage["source"] == 0)
    train_bits = loaded.stage.views["source"]["structure"].numpy()[train].astype(float)
    for i, key in enumerate(queries.index):  # the nearest training compound by Tanimoto, brute force
        shared = train_bits @ bits[i]
        tanimoto = shared / (train_bits.sum(1) + bits[i].sum() - shared)
        rows = table[table["query"] == key]
        assert np.allclose(rows["nearest_training_similarity"], tanimoto.max(), atol=1e-6)
        assert (rows["nearest_training_key"] == loaded.graph.sources.keys[train[np.argmax(tanimoto)]]).all()
        assert rows["in_domain"].notna().all()
    for bad, expected in (
        (queries.assign(smiles=["CCO", None]), "1 query(s) with no smiles and no profile columns: 'NEWB'"),
        (queries.assign(smiles=["CCO", "  "]), "no smiles and no profile columns"),
        (queries.assign(smiles=["CCO", "C1CC("]), "smiles of 'NEWB' does not parse"),
        (queries.set_axis(pd.Index(["NEWA", ""], name=KEY)), "1 row(s) with an empty Metadata_InChIKey"),
    ):
        with pytest.raises(MotiveError, match=re.escape(expected)):
            module.rank(loaded, compounds=bad)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'Metadata_InChIKey,Metadata_InChI\n"unterminated\n', "unreadable"),
        (b"x,y\n1,2\n", "missing column(s) 'Metadata_InChIKey', 'Metadata_InChI'"),
    ],
)
def test_a_malformed_compound_meta_is_one_line(tmp_path, capsys, content, expected):
    from motive.cli import main

    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.03, seed=2)), tmp_path / "data")
    (tmp_path / "data" / "inputs" / "compound").mkdir(parents=True)
    with gzip.open(tmp_path / "data" / "inputs" / "compound" / "meta.csv.gz", "wb") as handle:
        handle.write(content)
    argv = ["-q", "train", "--data", str(tmp_path / "data"), "--split", "cold_source", "--model", "knn_structure"]
    assert main([*argv, "--hits-k", "5", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motive: error: ") and "\n" not in err and "meta.csv.gz" in err and expected in err, err
    assert not (tmp_path / "run").exists()


def test_a_smiles_only_query_on_a_profile_run_gets_no_domain_verdict_on_its_page(structured_run, tmp_path):
    from motive.cli import main

    root, _, _ = structured_run
    queries = pd.DataFrame({"smiles": ["CCCCCCO"]}, index=pd.Index(["NEWA"], name=KEY))
    queries.to_parquet(tmp_path / "new.parquet")
    argv = ["-q", "predict", "--run", str(root / "run"), "--compounds", str(tmp_path / "new.parquet"), "--top-k", "3"]
    assert main([*argv, "--out", str(tmp_path / "ranked.parquet"), "--report", str(tmp_path / "page")]) == 0
    text = (tmp_path / "page" / "index.html").read_text()
    assert "Applicability domain not measured" in text and "Outside the applicability domain" not in text
    assert pd.read_parquet(tmp_path / "ranked.parquet")["in_domain"].isna().all()
