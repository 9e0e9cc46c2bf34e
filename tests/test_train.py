import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from motive.cli import main
from motive.data import layout
from motive.evaluation import metrics
from motive.training.config import TrainConfig
from motive.training.loop import evaluate_run, run


@pytest.fixture(scope="module")
def dataset(planted_dataset):
    return planted_dataset


def test_run_writes_a_complete_traceable_run_directory(dataset, tmp_path):
    config = TrainConfig(
        data=str(dataset),
        split="cold_source",
        model="gin_cp",
        epochs=40,
        patience=8,
        batch_size=256,
        lr=5e-3,
        hits_k=20,
    )
    summary = run(config, tmp_path / "run")
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert files == {
        "motive.json",
        "config.json",
        "metrics.json",
        "timing.json",
        "history.csv",
        "predictions.parquet",
        "per_node_ap.parquet",
        "calibration.json",  # expected precision per place, fitted on valid
        "checkpoint.pt",
    }
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["environment"]["threads"] == 1 and saved["environment"]["torch"] == torch.__version__
    assert (
        "seconds" not in saved
        and json.loads((tmp_path / "run" / "timing.json").read_text())["seconds"] == summary["seconds"]
    )
    assert saved["test"]["hits@20"] == summary["test"]["hits@20"]
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert saved["epochs_run"] == len(history) <= 40
    best = history["valid_hits@20"].idxmax()
    assert history.loc[best, "epoch"] == saved["best_epoch"]  # the best validation epoch is the one kept
    if len(history) < 40:  # early stopping: patience epochs without improvement
        assert len(history) - saved["best_epoch"] == 8

    predictions = pd.read_parquet(tmp_path / "run" / "predictions.parquet")
    assert list(predictions.columns) == ["source", "target", "score", "label", "stage"]
    valid = predictions[predictions["stage"] == "valid"]
    test = predictions[predictions["stage"] == "test"]
    assert (test["label"] == 0).sum() == 10 * (test["label"] == 1).sum()
    # Threshold chosen on validation, applied unchanged to test.
    threshold = metrics.best_threshold(valid["score"].to_numpy(), valid["label"].to_numpy())
    assert saved["valid"]["threshold"] == saved["test"]["threshold"] == pytest.approx(threshold)
    assert saved["test"]["f1"] == pytest.approx(
        metrics.f1_at(test["score"].to_numpy(), test["label"].to_numpy(), threshold)
    )
    # Cold source: every test compound is unseen in training.
    per_node = pd.read_parquet(tmp_path / "run" / "per_node_ap.parquet")
    assert not per_node[(per_node["stage"] == "test") & (per_node["node_type"] == "source")]["seen"].any()
    assert "source_map_unseen" in saved["test"]

    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert checkpoint["seed"] == 0 and checkpoint["graph_hash"] == saved["graph_hash"] and "state_dict" in checkpoint
    split_folder = dataset / "data/st_expanded/orf/splits/cold_source/seed_0"  # made, audited and saved by run()
    assert "| visibility | pass |" in (split_folder / "audit.md").read_text()
    again = evaluate_run(tmp_path / "run")
    assert again["test"]["auroc"] == pytest.approx(saved["test"]["auroc"], abs=1e-12)
    # the run evaluated valid on the scores its monitor computed at the best epoch, before later
    # epochs: rescored from the checkpoint they give every valid and test number bit for bit
    assert saved["best_epoch"] < len(history)
    for stage in ("valid", "test"):
        assert json.dumps(again[stage]) == json.dumps({name: saved[stage][name] for name in again[stage]})


def test_same_seed_same_run_other_seed_other_run(dataset, tmp_path):
    def test_metrics(seed, name):
        config = TrainConfig(
            data=str(dataset), model="sage_cp", epochs=5, patience=5, batch_size=256, seed=seed, hits_k=20
        )
        return run(config, tmp_path / name)["test"]

    assert test_metrics(0, "a") == test_metrics(0, "b")
    assert test_metrics(0, "a2")["auroc"] != test_metrics(1, "c")["auroc"]


def test_the_process_thread_count_does_not_change_a_run(dataset, tmp_path):
    # The run sets its own torch threads (TrainConfig.threads), so what the process was set to
    # before (a test, a notebook, a Dask worker) does not reach its numbers.
    config = TrainConfig(data=str(dataset), split="cold_source", model="gin_cp", epochs=12, patience=12, hits_k=20)
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            run(config, tmp_path / f"process-threads-{threads}")
            assert torch.get_num_threads() == threads  # restored after the run
    finally:
        torch.set_num_threads(previous)
    assert (tmp_path / "process-threads-1" / "metrics.json").read_bytes() == (
        tmp_path / "process-threads-2" / "metrics.json"
    ).read_bytes()


def test_neighbor_mode_trains_without_compiled_extensions(dataset, tmp_path):
    config = TrainConfig(
        data=str(dataset),
        model="sage_cp",
        epochs=20,
        patience=20,
        batch_size=256,
        lr=5e-3,
        mode="neighbor",
        fanouts=(5, 5),
        hits_k=20,
    )
    summary = run(config, tmp_path / "run")
    assert summary["test"]["auroc"] > 0.6
    embs = TrainConfig(
        data=str(dataset), model="sage_embs", epochs=3, patience=3, batch_size=256, mode="neighbor", hits_k=20
    )
    assert np.isfinite(run(embs, tmp_path / "embs")["test"]["auroc"])


def test_cli_train_and_evaluate(dataset, tmp_path, capsys):
    argv = [
        "-q",
        "train",
        "--data",
        str(dataset),
        "--split",
        "cold_target",
        "--model",
        "mlp",
        "--epochs",
        "3",
        "--hits-k",
        "20",
        "--out",
        str(tmp_path / "run"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("| stage | f1 | hits@20 |") and "| test |" in out
    assert main(["-q", "evaluate", str(tmp_path / "run")]) == 0
    assert (
        main(
            [
                "-q",
                "train",
                "--data",
                str(dataset),
                "--split",
                "cold_source",
                "--model",
                "sage_embs",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "cannot run on a cold_source split" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
@pytest.mark.parametrize("model", ["gin_cp", "gat_cp", "mlp"])
def test_cuda_runs_match_cpu_runs(dataset, tmp_path, model):
    def test_metrics(device):
        config = TrainConfig(
            data=str(dataset), model=model, epochs=5, patience=5, batch_size=256, hits_k=20, device=device
        )
        return run(config, tmp_path / device)

    cpu, cuda = test_metrics("cpu"), test_metrics("cuda")
    assert cuda["device"].startswith("cuda") and cpu["device"] == "cpu"
    assert cuda["test"]["auroc"] == pytest.approx(cpu["test"]["auroc"], abs=0.02)
    assert evaluate_run(tmp_path / "cuda", device="cpu")["test"]["auroc"] == pytest.approx(
        cuda["test"]["auroc"], abs=1e-4
    )


@pytest.mark.parametrize("model", ["gin_cp", "mlp"])
def test_bpr_learns_the_planted_signal(dataset, tmp_path, model):
    config = TrainConfig(
        data=str(dataset),
        split="cold_source",
        model=model,
        loss="bpr",
        epochs=40,
        patience=10,
        batch_size=256,
        lr=5e-3,
        hits_k=20,
    )
    summary = run(config, tmp_path / "run")
    assert summary["test"]["auroc"] > 0.6, summary[
        "test"
    ]  # chance is 0.5; BCE reaches 0.63 (mlp) and 0.67 (gin_cp) here
    assert json.loads((tmp_path / "run" / "config.json").read_text())["loss"] == "bpr"


@pytest.fixture
def exported(dataset, tmp_path, monkeypatch):
    """The dataset's cold-source split exported as official tables into the dataset folder."""
    monkeypatch.setenv("MOTIVE_CACHE", str(tmp_path / "cache"))
    assert (
        main(
            [
                "-q",
                "split",
                "make",
                str(dataset),
                "--graph",
                "st_expanded",
                "--split",
                "cold_source",
                "--seed",
                "5",
                "--export-official",
                str(dataset),
                "--overwrite",
            ]
        )
        == 0
    )
    return layout.graph_dir(dataset, "st_expanded") / "source"


def keyed_pairs(frame, graph):
    return set(zip(graph.sources.keys[frame["source"]], graph.targets.keys[frame["target"]], strict=True))


def test_training_on_official_split_tables_uses_exactly_their_pairs(dataset, exported, tmp_path):
    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    tables = layout.read_split_tables(exported)["st"]
    first = run(
        TrainConfig(data=str(dataset), model="mlp", split_dir=str(exported), epochs=3, hits_k=20, seed=0),
        tmp_path / "a",
    )
    assert first["split"]["name"] == "cold_source" and first["split"]["dir"] == str(exported)
    predictions = pd.read_parquet(tmp_path / "a" / "predictions.parquet")
    for stage in ("valid", "test"):
        ours = predictions[(predictions["stage"] == stage) & (predictions["label"] == 1)]
        assert set(zip(ours["source"], ours["target"], strict=True)) == keyed_pairs(
            tables[tables["subset"] == stage], graph
        )
    # Another model and seed, through the CLI's --official: the same stored negatives.
    assert (
        main(
            [
                "-q",
                "train",
                "--data",
                str(dataset),
                "--split",
                "cold_source",
                "--official",
                "--model",
                "cosine",
                "--hits-k",
                "20",
                "--seed",
                "3",
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    other = pd.read_parquet(tmp_path / "b" / "predictions.parquet")
    negatives = [
        frame.loc[frame["label"] == 0, ["stage", "source", "target"]].sort_values(
            ["stage", "source", "target"], ignore_index=True
        )
        for frame in (predictions, other)
    ]
    pd.testing.assert_frame_equal(*negatives)


@pytest.mark.parametrize("relabel", ["train", "message"])
def test_a_tampered_official_split_is_refused_with_the_edge_named(dataset, exported, tmp_path, capsys, relabel):
    graph = layout.read_graph(layout.graph_dir(dataset, "st_expanded"))
    tampered = tmp_path / "source"  # an official folder name: the split says it is cold-source
    tampered.mkdir()
    tables = layout.read_split_tables(exported)
    row = tables["st"].index[tables["st"]["subset"] == "test"][0]
    tables["st"].loc[row, "subset"] = relabel
    for kind, table in tables.items():
        table.to_parquet(tampered / layout.EDGE_FILES[kind], index=False)
    source, target = (
        graph.sources.keys[tables["st"].loc[row, "source"]],
        graph.targets.keys[tables["st"].loc[row, "target"]],
    )
    code = main(
        [
            "-q",
            "train",
            "--data",
            str(dataset),
            "--split-dir",
            str(tampered),
            "--model",
            "mlp",
            "--hits-k",
            "20",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "split refused, it leaks" in err
    assert f"edge {source!r} - {target!r} is {relabel!r}" in err
    assert not (tmp_path / "run").exists()


def test_cli_ranking_eval_writes_ranks_and_metrics(dataset, tmp_path):
    assert (
        main(
            [
                "-q",
                "train",
                "--data",
                str(dataset),
                "--split",
                "cold_source",
                "--model",
                "gin_cp",
                "--epochs",
                "5",
                "--hits-k",
                "20",
                "--ranking-eval",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    ranking = pd.read_parquet(tmp_path / "run" / "ranking.parquet")
    test = ranking[ranking["stage"] == "test"]
    assert saved["test"]["full_mrr"] == pytest.approx(float(np.mean(1 / test["rank"])))
    assert saved["test"]["full_positives"] == len(test) == saved["test"]["positives"]
    timing = json.loads((tmp_path / "run" / "timing.json").read_text())
    assert "full_seconds" not in saved["test"] and set(timing["full_seconds"]) == {"valid", "test"}
    assert set(test["query_side"]) == {"source"}


def test_a_default_run_does_not_import_scipy_stats():
    """Training and evaluating models as a default run does (calibration and bootstrap on, no full
    ranking) does not import scipy.stats (0.7 s)."""
    code = (
        "import sys\n"
        "from motive.evaluation.evaluator import ModelEvaluator\n"
        "from motive.testing import planted, trained\n"
        "prepared = planted()\n"
        "evaluator = ModelEvaluator(prepared.graph, prepared.split, 'random', 5, bootstrap=20, calibrate=True)\n"
        "for name in ('mlp', 'gin_cp'):\n"
        "    evaluator.evaluate(trained(name), prepared.stages)\n"
        "print(sorted(name for name in sys.modules if name.startswith('scipy.stats')))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert found.stdout.strip().splitlines()[-1] == "[]", found.stdout[-2000:]
