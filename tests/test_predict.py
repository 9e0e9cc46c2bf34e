"""Prediction for new compounds and genes: planted signal recovered, equal to brute-force scoring,
known flags of every stage, full-matrix top-k equal to a dense computation, resumable, and one
clear error per bad input."""

import importlib
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from motive.cli import main
from motive.data import layout, synth
from motive.errors import MotiveError
from motive.training.config import TrainConfig
from motive.training.loop import run
from tests.test_outputs import snapshot

predict = importlib.import_module("motive.predict")  # the package; the package's motive.predict is the API function
full = importlib.import_module("motive.predict.full")  # where predict_all writes its blocks


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A planted-signal dataset and a gin_cp run on its cold-source split."""
    root = tmp_path_factory.mktemp("predict")
    layout.write_dataset(
        synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0, source_dim=32, target_dim=24)), root / "data"
    )
    run(
        TrainConfig(
            data=str(root / "data"),
            split="cold_source",
            model="gin_cp",
            epochs=40,
            patience=10,
            batch_size=256,
            lr=5e-3,
            hits_k=20,
        ),
        root / "run",
    )
    return root


class Crash(Exception):
    pass


def crash_on_write(monkeypatch, at: int) -> list[str]:
    """Make the ``at``-th block write of ``predict_all`` crash; returns the names written so far."""
    original, calls = full._write_atomically, []

    def crashing(table, path):
        calls.append(path.name)
        if len(calls) == at:
            raise Crash
        original(table, path)

    monkeypatch.setattr(full, "_write_atomically", crashing)
    return calls


def source_frame(loaded, nodes, new_keys=None):
    frame = pd.DataFrame(loaded.graph.sources.x[nodes], columns=loaded.feature_names["source"])
    frame.index = pd.Index(
        new_keys if new_keys is not None else loaded.graph.sources.keys[nodes], name="Metadata_InChIKey"
    )
    return frame


def test_held_out_compounds_as_new_find_their_genes(trained):
    loaded = predict.load_predictor(trained / "run", "cpu")
    held_out = np.flatnonzero(loaded.split.node_stage["source"] == 2)
    s, t = loaded.graph.endpoints("st")
    held_out = held_out[np.isin(held_out, s)][:12]
    table = predict.rank(
        loaded, compounds=source_frame(loaded, held_out, [f"NEW{i:011d}" for i in range(len(held_out))])
    )
    truth = {(f"NEW{i:011d}", loaded.graph.targets.keys[g]) for i, node in enumerate(held_out) for g in t[s == node]}
    hits = table[[pair in truth for pair in zip(table["query"], table["candidate"], strict=True)]]
    assert len(hits) == len(truth) and (table["known"] == "none").all()
    assert hits["percentile"].median() > 80, hits["percentile"].describe()  # chance: 50; measured 86.6
    assert table["nearest_training_similarity"].between(-1, 1).all()


def test_a_new_copy_of_an_isolated_compound_scores_like_it(trained):
    """Test-stage compounds of a cold-source split are isolated at test time, so a new node with the
    same profile must get exactly their scores (brute force: the model on the run's own pairs)."""
    loaded = predict.load_predictor(trained / "run", "cpu")
    node = int(np.flatnonzero(loaded.split.node_stage["source"] == 2)[0])
    genes = np.arange(len(loaded.graph.targets))
    expected = loaded.model.score(loaded.stage, np.full(len(genes), node), genes)
    table = predict.rank(loaded, compounds=source_frame(loaded, [node], ["NEWCOMPOUND000"]))
    got = table.set_index("candidate").loc[loaded.graph.targets.keys, "score"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    existing = predict.rank(loaded, compounds=source_frame(loaded, [node]), allow_existing=True)
    np.testing.assert_allclose(
        existing.set_index("candidate").loc[loaded.graph.targets.keys, "score"].to_numpy(),
        expected,
        rtol=1e-5,
        atol=1e-6,
    )


def test_known_flags_are_the_split_subsets_of_every_stage(trained):
    loaded = predict.load_predictor(trained / "run", "cpu")
    s, t = loaded.graph.endpoints("st")
    subsets = loaded.split.subsets["st"]
    nodes = list(
        dict.fromkeys(int(s[np.flatnonzero(subsets == label)[0]]) for label in ("message", "train", "valid", "test"))
    )
    table = predict.rank(loaded, compounds=source_frame(loaded, nodes), allow_existing=True)
    expected = {
        (loaded.graph.sources.keys[a], loaded.graph.targets.keys[b]): label
        for a, b, label in zip(s, t, subsets, strict=True)
        if a in nodes
    }
    flagged = table[table["known"] != "none"]
    assert (
        dict(zip(zip(flagged["query"], flagged["candidate"], strict=True), flagged["known"], strict=True)) == expected
    )
    assert {"message", "train", "valid", "test"} <= set(flagged["known"])
    excluded = predict.rank(
        loaded, compounds=source_frame(loaded, nodes), allow_existing=True, exclude_known=True, top_k=5
    )
    assert (excluded["known"] == "none").all() and excluded.groupby("query").size().eq(5).all()


def test_new_genes_rank_every_compound(trained):
    loaded = predict.load_predictor(trained / "run", "cpu")
    genes = pd.DataFrame(
        loaded.graph.targets.x[:3],
        columns=loaded.feature_names["target"],
        index=pd.Index(["NEWGENE1", "NEWGENE2", "NEWGENE3"], name="Metadata_Symbol"),
    )
    table = predict.rank(loaded, genes=genes, top_k=7)
    assert table.groupby("query").size().eq(7).all() and table["candidate"].isin(loaded.graph.sources.keys).all()
    assert (
        table.groupby("query")["rank"].apply(list)
        == pd.Series([list(range(1, 8))] * 3, index=["NEWGENE1", "NEWGENE2", "NEWGENE3"])
    ).all()


def test_full_matrix_top_k_equals_dense_and_resumes(trained, tmp_path, monkeypatch):
    loaded = predict.load_predictor(trained / "run", "cpu")
    n_s, n_t = len(loaded.graph.sources), len(loaded.graph.targets)
    dense = loaded.model.score(loaded.stage, np.repeat(np.arange(n_s), n_t), np.tile(np.arange(n_t), n_s)).reshape(
        n_s, n_t
    )
    k = 4
    # Crash after three blocks, then resume: finished blocks are not recomputed.
    original, calls = full._write_atomically, crash_on_write(monkeypatch, 4)
    with pytest.raises(Crash):
        predict.predict_all(trained / "run", tmp_path / "all", top_k=k, block=16, device="cpu", progress=False)
    work = next(tmp_path.glob(".all.motive-work-*"))
    finished = {p.name: p.stat().st_mtime_ns for p in work.glob("compounds-*.parquet")}
    assert len(finished) == 3 and not (tmp_path / "all").exists()
    calls.clear()
    monkeypatch.setattr(full, "_write_atomically", lambda table, path: calls.append(path.name) or original(table, path))
    summary = predict.predict_all(trained / "run", tmp_path / "all", top_k=k, block=16, device="cpu", progress=False)
    assert calls[0] == "compounds-000003.parquet" and summary["blocks"] == -(-n_s // 16)
    assert not work.exists()
    per_compound = pd.read_parquet(tmp_path / "all" / "per_compound.parquet")
    per_gene = pd.read_parquet(tmp_path / "all" / "per_gene.parquet")
    for i, key in enumerate(loaded.graph.sources.keys):
        expected = loaded.graph.targets.keys[np.argsort(-dense[i], kind="stable")[:k]].tolist()
        assert per_compound.loc[per_compound["compound"] == key].sort_values("rank")["gene"].tolist() == expected
    for j, key in enumerate(loaded.graph.targets.keys):
        expected = set(loaded.graph.sources.keys[np.argsort(-dense[:, j], kind="stable")[:k]])
        assert set(per_gene.loc[per_gene["gene"] == key, "compound"]) == expected
    s, t = loaded.graph.endpoints("st")
    flagged = per_compound[per_compound["known"] != "none"]
    subsets = dict(
        zip(
            zip(loaded.graph.sources.keys[s], loaded.graph.targets.keys[t], strict=True),
            loaded.split.subsets["st"],
            strict=True,
        )
    )
    assert all(
        subsets[pair] == label
        for pair, label in zip(zip(flagged["compound"], flagged["gene"], strict=True), flagged["known"], strict=True)
    )
    assert json.loads((tmp_path / "all" / "summary.json").read_text())["top_k"] == k


def test_crispr_gene_type(tmp_path):
    graphs = synth.generate(synth.SynthConfig(scale=0.03, seed=2, signal=1.0, source_dim=16, target_dim=12))
    layout.write_dataset(graphs, tmp_path / "data", "crispr")
    run(TrainConfig(data=str(tmp_path / "data"), gene_type="crispr", model="mlp", epochs=3, hits_k=5), tmp_path / "run")
    loaded = predict.load_predictor(tmp_path / "run", "cpu")
    table = predict.rank(loaded, compounds=source_frame(loaded, [0, 1], ["NEWA", "NEWB"]), top_k=3)
    assert len(table) == 6 and loaded.config.gene_type == "crispr"


@pytest.fixture
def bad_inputs(trained, tmp_path):
    loaded = predict.load_predictor(trained / "run", "cpu")
    good = source_frame(loaded, [0, 1, 2], ["NEWA", "NEWB", "NEWC"])
    files = {"good": good}
    files["missing"] = good.drop(columns=["X_3"])
    files["extra"] = good.assign(batch_effect=1.0)
    files["nan"] = good.assign(X_2=[0.0, np.nan, 1.0])
    files["duplicate"] = pd.concat([good, good.iloc[:1]])
    files["existing"] = source_frame(loaded, [0, 1])
    files["empty"] = good.iloc[:0]
    files["nokey"] = good.reset_index(drop=True)
    for name, frame in files.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
    (tmp_path / "incomplete").mkdir()
    (tmp_path / "incomplete" / "checkpoint.pt").write_text("")
    return tmp_path


PREDICT_CASES = {
    "missing feature": (["--compounds", "T/missing.parquet"], "missing: X_3; extra: none"),
    "extra feature": (["--compounds", "T/extra.parquet"], "missing: none; extra: batch_effect"),
    "nan profile": (["--compounds", "T/nan.parquet"], "1 profile(s) with NaN or inf: 'NEWB'"),
    "duplicate key": (["--compounds", "T/duplicate.parquet"], "duplicate key 'NEWA'"),
    "existing key": (["--compounds", "T/existing.parquet"], "pass --allow-existing"),
    "empty table": (["--compounds", "T/empty.parquet"], "table is empty"),
    "no key column": (["--compounds", "T/nokey.parquet"], "no key column 'Metadata_InChIKey'"),
    "both sides": (
        ["--compounds", "T/good.parquet", "--genes", "T/good.parquet"],
        "exactly one of --compounds or --genes",
    ),
    "missing file": (["--compounds", "T/nope.parquet"], "T/nope.parquet: not found"),
    "incomplete run": (
        ["--compounds", "T/good.parquet", "--run", "T/incomplete"],
        "not a complete run folder (config.json missing)",
    ),
    "top-k 0": (["--compounds", "T/good.parquet", "--top-k", "0"], "argument --top-k: must be a positive integer"),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
def test_bad_predict_input_is_one_line_and_writes_nothing(trained, bad_inputs, capsys, case):
    argv, message = PREDICT_CASES[case]
    argv = [arg.replace("T/", f"{bad_inputs}/") for arg in argv]
    if "--run" not in argv:
        argv = ["--run", str(trained / "run"), *argv]
    before = snapshot(bad_inputs)
    code = main(["-q", "predict", *argv, "--out", str(bad_inputs / "ranked.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message.replace("T/", f"{bad_inputs}/") in err, err
    assert snapshot(bad_inputs) == before


def test_changed_dataset_and_transductive_models_are_refused(trained, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(trained / "data", data)
    run(TrainConfig(data=str(data), model="sage_embs", epochs=2, hits_k=5), tmp_path / "embs")
    with pytest.raises(MotiveError, match="model 'sage_embs' cannot score new nodes"):
        predict.load_predictor(tmp_path / "embs", "cpu")
    frame = pd.read_parquet(data / "data/st_expanded/orf/source.parquet")
    frame.iloc[0, 0] += 1.0
    frame.to_parquet(data / "data/st_expanded/orf/source.parquet")
    with pytest.raises(MotiveError, match="graph changed since the run"):
        predict.load_predictor(tmp_path / "embs", "cpu")


@pytest.mark.parametrize("model", ["sage_cp", "gat_cp", "mlp", "bilinear", "cosine", "knn"])
def test_every_inductive_model_predicts(trained, tmp_path, model):
    run(
        TrainConfig(data=str(trained / "data"), split="cold_source", model=model, epochs=2, batch_size=256, hits_k=20),
        tmp_path / "run",
    )
    loaded = predict.load_predictor(tmp_path / "run", "cpu")
    table = predict.rank(loaded, compounds=source_frame(loaded, [0, 5], ["NEWA", "NEWB"]), top_k=10)
    assert len(table) == 20 and np.isfinite(table["score"]).all()
    assert (table.groupby("query")["score"].apply(lambda s: s.is_monotonic_decreasing)).all()


@pytest.mark.parametrize("model", ["gene_neighbours", "network_paths", "evidence_ranker"])
def test_network_models_place_new_nodes_by_the_edges_that_join_them(trained, tmp_path, model):
    """A new gene given one interaction (a gene-gene edge) is ranked by the paths it opens (for
    the gene-side count, the compounds known to hit its partner come first, the rest tie at 0); a
    new compound given one similar compound likewise; a held-out gene given as new scores as it
    did in evaluation."""
    config = TrainConfig(
        data=str(trained / "data"), split="cold_target", model=model, epochs=3, batch_size=256, hits_k=20
    )
    run(replace(config, side_edges=True), tmp_path / "run")
    loaded = predict.load_predictor(tmp_path / "run", "cpu")
    s, t = loaded.stage.edges[("source", "binds", "target")]
    partner = int(np.bincount(t).argmax())  # the gene with the most visible known compounds
    hitters = set(loaded.graph.sources.keys[np.unique(s[t == partner])])
    genes = pd.DataFrame(
        loaded.graph.targets.x[[partner]],
        columns=loaded.feature_names["target"],
        index=pd.Index(["NEWGENE1"], name="Metadata_Symbol"),
    )
    link = pd.DataFrame({"query": ["NEWGENE1"], "node": [loaded.graph.targets.keys[partner]], "node_side": ["target"]})
    alone = predict.rank(loaded, genes=genes, top_k=len(hitters))
    joined = predict.rank(loaded, genes=genes, edges=link, top_k=3 * len(hitters))
    assert np.isfinite(joined["score"]).all() and len(joined) == 3 * len(hitters)
    if model != "evidence_ranker":  # a two-hop path for the partner's compounds (+ damped three-hop ones)
        a, b = loaded.stage.edges[("source", "similar", "source")]
        keys = loaded.graph.sources.keys
        near = pd.Series(np.isin(keys[b], list(hitters))).groupby(keys[a]).sum()
        damped = 0.1 * near.reindex(joined["candidate"]).fillna(0).to_numpy() if model == "network_paths" else 0
        expected = joined["candidate"].isin(hitters).to_numpy() + damped
        np.testing.assert_allclose(joined["score"], expected)
        assert hitters <= set(joined["candidate"]) and (alone["score"] == 0).all()  # no interaction, no path
    assert not np.array_equal(joined["score"].to_numpy()[: len(alone)], alone["score"].to_numpy())
    # a new compound joined to the busiest known compound by a similarity edge
    c0 = int(np.bincount(s).argmax())
    compounds = source_frame(loaded, [c0], ["NEWCOMPOUND001"])
    similar = pd.DataFrame(
        {"query": ["NEWCOMPOUND001"], "node": [loaded.graph.sources.keys[c0]], "node_side": "source"}
    )
    every_gene = len(loaded.graph.targets)
    linked = predict.rank(loaded, compounds=compounds, edges=similar, top_k=every_gene, exclude_known=False)
    isolated = predict.rank(loaded, compounds=compounds, top_k=every_gene, exclude_known=False)
    moved = not linked.set_index("candidate")["score"].equals(isolated.set_index("candidate")["score"])
    assert np.isfinite(linked["score"]).all() and moved == (model != "gene_neighbours")  # needs c's own genes
    if model == "network_paths":  # compound-compound-gene paths: exactly c0's genes, plus damped three-hop ones
        gene_keys = loaded.graph.targets.keys
        hits = set(gene_keys[np.unique(t[s == c0])])
        a, b = loaded.stage.edges[("target", "interacts", "target")]
        near = pd.Series(np.isin(gene_keys[b], list(hits))).groupby(gene_keys[a]).sum()
        expected = linked["candidate"].isin(hits).to_numpy() + 0.1 * near.reindex(linked["candidate"]).fillna(0)
        np.testing.assert_allclose(linked["score"], expected.to_numpy())
    # the same rule as evaluation: a held-out test gene given as new, with its interactions, scores as it did
    held_out = int(np.flatnonzero(loaded.split.node_stage["target"] == 2)[0])
    a, b = loaded.stage.edges[("target", "interacts", "target")]
    partners = loaded.graph.targets.keys[b[a == held_out]]
    copy = genes.set_axis(pd.Index(["NEWCOPY"], name="Metadata_Symbol")).copy()
    copy.iloc[0] = loaded.graph.targets.x[held_out]
    edges = pd.DataFrame({"query": "NEWCOPY", "node": partners, "node_side": "target"})
    everything = len(loaded.graph.sources)
    as_new = predict.rank(loaded, genes=copy, edges=edges, top_k=everything, exclude_known=False)
    ids = loaded.graph.sources.keys.get_indexer(as_new["candidate"])
    evaluated = loaded.model.score(loaded.stage, ids, np.full(len(ids), held_out))
    # (the copy's edges raise its partners' degrees by one: resource-allocation weights move slightly)
    np.testing.assert_allclose(as_new["score"], evaluated, rtol=1e-3, atol=1e-3)
    with pytest.raises(MotiveError, match="pass --side-edges"):
        run(replace(config, model="gene_neighbours"), tmp_path / "official")


def test_edges_and_smiles_join_new_compounds_to_the_graph(trained, tmp_path):
    import gzip
    import shutil

    from rdkit import Chem

    data = tmp_path / "data"
    shutil.copytree(trained / "data", data)
    loaded = predict.load_predictor(trained / "run", "cpu")
    aspirin, caffeine = "CC(=O)OC1=CC=CC=C1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"
    keys = loaded.graph.sources.keys
    meta = pd.DataFrame(
        {
            "Metadata_InChIKey": [keys[0] + "-AAAAAAAAAA-N", keys[1] + "-BBBBBBBBBB-N"],
            "Metadata_InChI": [
                Chem.MolToInchi(Chem.MolFromSmiles(aspirin)),
                Chem.MolToInchi(Chem.MolFromSmiles(caffeine)),
            ],
        }
    )
    (data / "inputs" / "compound").mkdir(parents=True)
    with gzip.open(data / "inputs" / "compound" / "meta.csv.gz", "wt") as handle:
        meta.to_csv(handle, index=False)
    loaded.config.data = str(data)  # same graph (same hash), now with compound structures
    profiles = source_frame(loaded, [5, 6], ["NEWASPIRIN0001", "NEWOTHER000002"])
    isolated = predict.rank(loaded, compounds=profiles)
    stage, ids = predict.extend_stage(
        loaded,
        loaded.stage,
        "source",
        profiles.index,
        profiles.to_numpy(np.float32),
        smiles=pd.Series([aspirin, "CCO"], index=profiles.index),
    )
    a, b = stage.edges[("source", "similar", "source")]
    assert {(ids[0], 0), (0, ids[0])} <= set(zip(a, b, strict=True)) and ids[1] not in a  # ethanol resembles neither
    linked = predict.rank(loaded, compounds=profiles.assign(smiles=[aspirin, "CCO"]))
    assert not np.allclose(
        linked.loc[linked["query"] == "NEWASPIRIN0001", "score"],
        isolated.loc[isolated["query"] == "NEWASPIRIN0001", "score"],
    )
    gene = loaded.graph.targets.keys[3]
    with_edge = predict.rank(
        loaded, compounds=profiles, edges=pd.DataFrame({"query": ["NEWOTHER000002"], "node": [gene]})
    )
    assert not np.allclose(
        with_edge.loc[with_edge["query"] == "NEWOTHER000002", "score"],
        isolated.loc[isolated["query"] == "NEWOTHER000002", "score"],
    )
    twice = predict.rank(
        loaded, compounds=profiles, edges=pd.DataFrame({"query": ["NEWOTHER000002"] * 2, "node": [gene] * 2})
    )
    pd.testing.assert_series_equal(twice["score"], with_edge["score"])  # a duplicate edge is one edge
    with pytest.raises(MotiveError, match="'NOPE' is not one of the profiles given"):
        predict.rank(loaded, compounds=profiles, edges=pd.DataFrame({"query": ["NOPE"], "node": [gene]}))
    with pytest.raises(MotiveError, match="'UNKNOWNGENE' is not a target of the run's graph"):
        predict.rank(
            loaded, compounds=profiles, edges=pd.DataFrame({"query": ["NEWOTHER000002"], "node": ["UNKNOWNGENE"]})
        )


def test_full_matrix_resume_never_mixes_blocks_of_other_profiles(trained, tmp_path, monkeypatch):
    loaded = predict.load_predictor(trained / "run", "cpu")
    nodes = np.arange(40)
    keys = [f"NEW{i:03d}" for i in nodes]
    before = source_frame(loaded, nodes, keys)
    after = source_frame(loaded, nodes[::-1], keys)  # same keys, other profiles
    original = full._write_atomically
    crash_on_write(monkeypatch, 2)
    with pytest.raises(Crash):
        predict.predict_all(
            trained / "run", tmp_path / "all", compounds=before, top_k=3, block=8, device="cpu", progress=False
        )
    monkeypatch.setattr(full, "_write_atomically", original)
    predict.predict_all(
        trained / "run", tmp_path / "all", compounds=after, top_k=3, block=8, device="cpu", progress=False
    )
    predict.predict_all(
        trained / "run", tmp_path / "fresh", compounds=after, top_k=3, block=8, device="cpu", progress=False
    )
    for name in ("per_compound.parquet", "per_gene.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "all" / name), pd.read_parquet(tmp_path / "fresh" / name)
        )


def test_full_matrix_with_graph_keys_follows_the_plain_rule(trained, tmp_path):
    loaded = predict.load_predictor(trained / "run", "cpu")
    existing = source_frame(loaded, np.arange(3))
    with pytest.raises(MotiveError, match="is already a compound of the run's graph"):
        predict.predict_all(trained / "run", tmp_path / "all", compounds=existing, device="cpu", progress=False)
    assert not (tmp_path / "all").exists()
    predict.predict_all(
        trained / "run",
        tmp_path / "all",
        compounds=existing,
        top_k=2,
        device="cpu",
        progress=False,
        allow_existing=True,
    )


def test_full_matrix_excluding_known_pairs_keeps_only_unknown_distinct_finite_rows(trained, tmp_path):
    loaded = predict.load_predictor(trained / "run", "cpu")
    top_k = len(loaded.graph.sources)  # every compound: genes with known partners have fewer candidates left
    predict.predict_all(
        trained / "run", tmp_path / "all", top_k=top_k, exclude_known=True, block=64, device="cpu", progress=False
    )
    s, t = loaded.graph.endpoints("st")
    known = set(zip(loaded.graph.sources.keys[s], loaded.graph.targets.keys[t], strict=True))
    for name, query in (("per_gene.parquet", "gene"), ("per_compound.parquet", "compound")):
        table = pd.read_parquet(tmp_path / "all" / name)
        assert np.isfinite(table["score"]).all() and not table.duplicated(["gene", "compound"]).any()
        assert not any(pair in known for pair in zip(table["compound"], table["gene"], strict=True))
        assert (table["known"] == "none").all()
        ranks = table.groupby(query)["rank"].agg(["min", "max", "count"])
        assert (ranks["min"] == 1).all() and (
            ranks["max"] == ranks["count"]
        ).all()  # 1..n, fewer rows where fewer candidates
    per_gene = pd.read_parquet(tmp_path / "all" / "per_gene.parquet")
    hub = loaded.graph.targets.keys[np.bincount(t).argmax()]
    assert (per_gene["gene"] == hub).sum() == len(loaded.graph.sources) - np.bincount(t).max()


def test_full_matrix_explains_every_row_as_predict_does(trained, tmp_path):
    loaded = predict.load_predictor(trained / "run", "cpu")
    new = source_frame(loaded, np.arange(2), ["NEWA", "NEWB"])  # two queries: still the top 20 genes each
    summary = predict.predict_all(trained / "run", tmp_path / "all", compounds=new, top_k=20, progress=False)
    assert summary["genes_per_compound"] == 20 and summary["compounds_per_gene"] == 2
    per_compound = pd.read_parquet(tmp_path / "all" / "per_compound.parquet")
    assert per_compound.groupby("compound").size().tolist() == [20, 20]
    single = predict.rank(loaded, compounds=new, top_k=20).set_index(["query", "candidate"])["evidence"]
    full = per_compound.set_index(["compound", "gene"])["evidence"]
    assert (full == single.reindex(full.index)).all() and (full != "").any()
    per_gene = pd.read_parquet(tmp_path / "all" / "per_gene.parquet")
    stage, ids = predict.extend_stage(loaded, loaded.stage, "source", new.index, new.to_numpy(np.float32))
    gene_ids = loaded.graph.targets.keys.get_indexer(per_gene["gene"])
    compound_ids = ids[new.index.get_indexer(per_gene["compound"])]
    assert per_gene["evidence"].tolist() == predict.evidence_of_ids(stage, "target", gene_ids, compound_ids, loaded)


def test_full_matrix_options_that_do_not_apply_are_one_line(trained, tmp_path, capsys):
    loaded = predict.load_predictor(trained / "run", "cpu")
    source_frame(loaded, np.arange(2)).to_parquet(tmp_path / "existing.parquet")
    pd.DataFrame({"query": ["A"], "node": [loaded.graph.targets.keys[0]]}).to_parquet(tmp_path / "edges.parquet")
    base = ["-q", "predict", "--run", str(trained / "run"), "--all", "--top-k", "3"]
    for extra, expected in (
        (["--report", str(tmp_path / "page")], "--report is not for --all"),
        (["--edges", str(tmp_path / "edges.parquet")], "--edges is not for --all"),
    ):
        assert main([*base, *extra, "--out", str(tmp_path / "full")]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and expected in err, err
        assert not (tmp_path / "full").exists() and not (tmp_path / "page").exists()
    existing = [*base, "--compounds", str(tmp_path / "existing.parquet"), "--allow-existing"]
    assert main([*existing, "--out", str(tmp_path / "full")]) == 0
    assert pd.read_parquet(tmp_path / "full" / "per_compound.parquet")["compound"].nunique() == 2


def test_an_existing_key_is_scored_and_placed_by_the_graphs_own_profile(trained, caplog):
    loaded = predict.load_predictor(trained / "run", "cpu")
    train = np.flatnonzero(loaded.split.node_stage["source"] == 0)[:2]
    own = source_frame(loaded, train)
    other = own.set_axis(own.index[::-1])  # the same keys with each other's profiles
    with caplog.at_level("WARNING", logger="motive.predict"):
        given = predict.rank(loaded, compounds=other, allow_existing=True, top_k=3)
    assert "scored with the graph's own profile" in caplog.text
    expected = predict.rank(loaded, compounds=own, allow_existing=True, top_k=3)
    pd.testing.assert_frame_equal(
        given.sort_values(["query", "rank"], ignore_index=True),
        expected.sort_values(["query", "rank"], ignore_index=True),
    )
    assert np.allclose(given["nearest_training_similarity"], 1.0)  # a training node is its own nearest
    assert (given["nearest_training_key"] == given["query"]).all()


def test_top_columns_equal_a_stable_sort_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(100):
        rows, columns = rng.integers(1, 20, 2)
        scores = rng.integers(0, 4, (rows, columns)).astype(float)  # many ties
        scores[rng.random((rows, columns)) < 0.1] = -np.inf  # excluded known pairs
        k = int(rng.integers(1, columns + 1))
        assert (full.top_columns(scores, k) == np.argsort(-scores, axis=1, kind="stable")[:, :k]).all()


def test_merged_top_compounds_keep_the_first_compound_of_a_tie():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 3, (40, 7)).astype(float)
    k, kept = 5, (np.full((5, 7), -np.inf), np.zeros((5, 7), np.int64))
    for first in range(0, 40, 16):
        kept = full._merge_top_compounds(*kept, scores[first : first + 16], first, k)
    expected = np.argsort(-scores, axis=0, kind="stable")[:k]
    assert (kept[1] == expected).all() and (kept[0] == np.take_along_axis(scores, expected, 0)).all()
