"""Trackers (``motive/experiments/trackers.py``), read back with the tools' own readers: MLflow's client and
TensorBoard's EventAccumulator give the values of history.csv and metrics.json."""

import json

import pandas as pd
import pytest

from motive.data import layout, synth
from motive.experiments import run_experiment
from motive.training.config import TrainConfig
from motive.training.loop import run


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("tracked")
    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0)), root)
    return root


def tracked_run(dataset, folder, **settings):
    config = TrainConfig(data=str(dataset), split="cold_source", model="mlp", epochs=4, hits_k=5, **settings)
    summary = run(config, folder)
    return summary, pd.read_csv(folder / "history.csv")


def test_mlflow_gets_config_epochs_and_final_metrics(dataset, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file://{tmp_path / 'mlruns'}")  # honoured, as MLflow's tools do
    summary, history = tracked_run(dataset, tmp_path / "gin", tracker="mlflow")
    client = MlflowClient(f"file://{tmp_path / 'mlruns'}")
    (logged,) = client.search_runs([client.get_experiment_by_name("motive").experiment_id])
    assert logged.info.run_name == "gin" and logged.info.status == "FINISHED"
    assert logged.data.params["model"] == "mlp" and logged.data.params["hits_k"] == "5"
    losses = [
        m.value for m in sorted(client.get_metric_history(logged.info.run_id, "train_loss"), key=lambda m: m.step)
    ]
    assert losses == history["train_loss"].tolist()
    valid = client.get_metric_history(logged.info.run_id, "valid_hits_at_5")
    assert [m.value for m in sorted(valid, key=lambda m: m.step)] == history["valid_hits@5"].tolist()
    assert logged.data.metrics["test_auroc"] == summary["test"]["auroc"]
    assert logged.data.metrics["test_auroc_ci_low"] == summary["test"]["auroc_ci"][0]


def test_tensorboard_scalars_equal_the_history(dataset, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    summary, history = tracked_run(dataset, tmp_path / "run", tracker="tensorboard", tracker_uri=str(tmp_path / "tb"))
    events = EventAccumulator(str(tmp_path / "tb" / "motive" / "run"))
    events.Reload()
    scalars = events.Scalars("train_loss")
    assert [e.step for e in scalars] == history["epoch"].tolist()
    assert [e.value for e in scalars] == pytest.approx(history["train_loss"].tolist(), rel=1e-6)  # float32 events
    assert events.Scalars("test_auroc")[0].value == pytest.approx(summary["test"]["auroc"])
    assert "config/text_summary" in events.Tags()["tensors"]  # the resolved config, as text


def test_a_grid_logs_every_run_to_one_mlflow_experiment_without_changing_its_runs(dataset, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    common = dict(data=dataset, models=["mlp", "popularity"], splits=["cold_source"], seeds=2, progress=False)
    plain = run_experiment(**common, out=tmp_path / "plain", settings={"epochs": 2, "hits_k": 5})
    tracked = run_experiment(
        **common,
        out=tmp_path / "grid",
        settings={"epochs": 2, "hits_k": 5, "tracker": "mlflow", "tracker_uri": uri},
        workers=2,  # two processes log to one new database: its tables are made once, before them
    )
    assert tracked["config_hash"].tolist() == plain["config_hash"].tolist()  # trackers record, never change a run
    client = MlflowClient(uri)
    logged = client.search_runs([client.get_experiment_by_name("grid").experiment_id])
    # one run each: two mlp seeds, and popularity (seed-free) once for both of its seeds
    assert sorted(r.info.run_name for r in logged) == sorted({name.split("/")[-1] for name in tracked["run"]})
    assert len(logged) == 3
    by_name = {r.info.run_name: r for r in logged}
    for _, row in tracked.iterrows():
        metrics = json.loads((tmp_path / "grid" / row["run"] / "metrics.json").read_text())["test"]
        assert by_name[row["run"].split("/")[-1]].data.metrics["test_auroc"] == metrics["auroc"]


def test_csv_tracker_and_tune_trials(dataset, tmp_path):
    from motive.experiments.tune import tune

    settings = {"epochs": 3, "hits_k": 5, "tracker": "csv", "tracker_uri": str(tmp_path / "csv")}
    tune(dataset, tmp_path / "tune", model="mlp", split="cold_source", trials=2, prune=False, settings=settings)
    for trial in (0, 1):
        folder = tmp_path / "csv" / "st_expanded-cold_source-mlp" / f"trial-{trial}"
        assert json.loads((folder / "params.json").read_text())["model"] == "mlp"
        logged = pd.read_csv(folder / "metrics.csv")
        assert set(logged["name"]) == {"train_loss", "valid_hits@5", "best_valid_hits@5"}
        assert (logged["name"] == "train_loss").sum() == 3


def test_the_csv_tracker_never_replaces_a_users_folder(dataset, tmp_path):
    from motive.errors import MotiveError

    mine = tmp_path / "csv" / "motive" / "run"
    mine.mkdir(parents=True)
    (mine / "params.json").write_text("my own notes")
    with pytest.raises(MotiveError, match="was not made by motive"):
        tracked_run(dataset, tmp_path / "run", tracker="csv", tracker_uri=str(tmp_path / "csv"))
    assert (mine / "params.json").read_text() == "my own notes"


def test_mlflow_without_a_uri_logs_to_a_database_in_the_working_folder(dataset, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from motive.experiments.storage import sqlite_url

    work = tmp_path / "a?b#c%d e"  # URL syntax in the path: still a file name
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    tracked_run(dataset, tmp_path / "run", tracker="mlflow")
    assert sorted(p.name for p in work.iterdir()) == ["mlflow.db"]
    client = MlflowClient(sqlite_url(work / "mlflow.db"))
    (logged,) = client.search_runs([client.get_experiment_by_name("motive").experiment_id])
    assert logged.info.status == "FINISHED"


@pytest.mark.parametrize(
    ("tracker", "uri", "expected"),
    [
        ("mlflow", "file:{tmp}/mlruns", "MLflow 3 refuses a file store; pass a database such as sqlite:///mlflow.db"),
        ("mlflow", "{tmp}/plain-folder", "MLflow 3 refuses a file store"),
        ("mlflow", "http://127.0.0.1:9", "tracker mlflow: http://127.0.0.1:9: MlflowException"),
        ("csv", "{tmp}/a-file", "cannot write to"),
        ("csv", "{tmp}/a-file/below", "cannot write to"),
        ("tensorboard", "{tmp}/a-file/below", "cannot write to"),
        ("csv", "http://127.0.0.1:9/x", "writes to a folder"),
    ],
)
def test_an_unusable_tracker_uri_is_one_line_before_training(
    dataset, tmp_path, monkeypatch, capsys, tracker, uri, expected
):
    import time

    from motive.cli import main

    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    (tmp_path / "a-file").write_text("mine")
    argv = ["-q", "train", "--data", str(dataset), "--model", "cosine", "--hits-k", "5", "--out", str(tmp_path / "r")]
    started = time.perf_counter()
    code = main([*argv, "--tracker", tracker, "--tracker-uri", uri.format(tmp=tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("motive: error: ") and "\n" not in err and expected in err, err
    assert time.perf_counter() - started < 60  # no minutes of retries
    assert not (tmp_path / "r").exists() and (tmp_path / "a-file").read_text() == "mine"
