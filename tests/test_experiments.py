"""Experiments: grids of runs, resuming after a kill, reuse by config hash, failures, plugins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from motive.cli import main
from motive.errors import MotiveError
from motive.experiments import load_config, presets, run_experiment
from motive.report import report as motive_report

SETTINGS = {"epochs": 4, "hits_k": 5, "patience": 50}

PLUGIN = '''
"""A tiny custom model: one linear layer per node type, dot-product decoder."""
from torch import nn

from motive.models import LinkModel, register_model


@register_model("tiny_linear")
class TinyLinear(LinkModel):
    def __init__(self, stage, hidden: int = 8):
        super().__init__()
        self.layers = nn.ModuleDict({t: nn.Linear(x.shape[1], hidden) for t, x in stage.x.items()})

    def encode(self, stage):
        return {t: layer(stage.x[t]) for t, layer in self.layers.items()}
'''

BROKEN_PLUGIN = """
from motive.models import LinkModel, register_model


@register_model("broken")
class Broken(LinkModel):
    def __init__(self, stage):
        super().__init__()
        raise RuntimeError("this model is broken on purpose")
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("experiment-data")
    assert main(["-q", "data", "synth", "--out", str(root / "data"), "--scale", "0.05", "--seed", "3"]) == 0
    return root / "data"


def folder_state(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_presets_are_valid_configs():
    assert {"paper", "ablation", "zeroshot"} <= set(presets())
    paper = load_config("paper")
    assert {"gin_cp", "sage_cp", "gat_cp", "sage_embs", "mlp", "bilinear", "shortest_path", "knn", "popularity"} <= set(
        paper["models"]
    )
    assert paper["splits"] == ["random", "cold_source", "cold_target"] and paper["seeds"] == 5
    assert load_config("ablation")["graphs"] == ["bipartite", "s_expanded", "t_expanded", "st_expanded"]
    assert "cold_both" in load_config("zeroshot")["splits"]


def test_grid_records_refused_models_as_na_and_results_match_run_folders(dataset, tmp_path):
    out = tmp_path / "results"
    table = run_experiment(
        data=dataset,
        out=out,
        models=["mlp", "sage_embs"],
        splits=["random", "cold_source"],
        seeds=2,
        settings=SETTINGS,
        progress=False,
    )
    assert len(table) == 2 * 2 * 2
    refused = table[(table["model"] == "sage_embs") & (table["split"] == "cold_source")]
    assert (refused["status"] == "n/a").all() and refused["error"].str.contains("unseen nodes").all()
    done = table[table["status"] == "done"]
    assert len(done) == 6
    for _, run in done.iterrows():
        metrics = json.loads((out / run["run"] / "metrics.json").read_text())
        assert metrics["config"]["seed"] == run["seed"] and metrics["config"]["split"] == run["split"]
        assert metrics["test"]["auprc"] == run["test_auprc"] and metrics["best_epoch"] == run["best_epoch"]
        assert json.loads((out / run["run"] / "motive.json").read_text())["config_hash"] == run["config_hash"]
    assert pd.read_parquet(out / "results.parquet").equals(table)
    # the split is fixed across model seeds unless asked otherwise
    assert set(done["split_seed"]) == {0}
    varied = run_experiment(
        data=dataset,
        out=tmp_path / "varied",
        models=["mlp"],
        splits=["random"],
        seeds=[3, 4],
        split_seed="vary",
        settings=SETTINGS,
        progress=False,
    )
    assert varied["split_seed"].tolist() == [3, 4]


def test_killed_experiment_resumes_without_redoing_finished_runs(dataset, tmp_path):
    config = tmp_path / "grid.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": str(dataset),
                "models": ["gin_cp", "mlp"],
                "splits": ["random", "cold_source"],
                "seeds": 3,
                "settings": {"epochs": 25, "hits_k": 5},
            }
        )
    )
    out = tmp_path / "results"
    process = subprocess.Popen(
        [sys.executable, "-m", "motive.cli", "-q", "experiment", str(config), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = int((pd.read_parquet(out / "results.parquet")["status"] == "done").sum())
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= 3:
            break
        time.sleep(0.05)
    assert process.poll() is None, (
        f"the experiment ended before it could be killed: {process.stderr.read().decode()[-500:]}"
    )
    time.sleep(0.3)  # let it get into the middle of the next run
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before = pd.read_parquet(out / "results.parquet")
    recorded = set(before.loc[before["status"] == "done", "run"])
    # Every visible run folder is a complete run: the ones the table lists, and those moved into
    # place since its last rewrite (at most RESULTS_EVERY before the kill).
    visible = {f"runs/{p.name}" for p in (out / "runs").iterdir() if not p.name.startswith(".")}
    assert recorded <= visible and 3 <= len(visible) < 12
    for run in visible:
        assert json.loads((out / run / "metrics.json").read_text())["test"]["auroc"] > 0
    states = {run: folder_state(out / run) for run in visible}

    assert main(["-q", "experiment", str(config), "--out", str(out)]) == 0
    after = pd.read_parquet(out / "results.parquet")
    assert len(after) == 12 and set(after["status"]) == {"done", "reused"}
    assert set(after.loc[after["status"] == "reused", "run"]) == visible
    for run, state in states.items():
        assert folder_state(out / run) == state, f"{run} was redone"
    # A third time: everything is reused, nothing is trained.
    again = run_experiment(**(load_config(str(config)) | {"out": out, "progress": False}))
    assert set(again["status"]) == {"reused"}


def test_changed_model_setting_reruns_only_that_model(dataset, tmp_path):
    out = tmp_path / "results"
    first = run_experiment(
        data=dataset, out=out, models=["gin_cp", "mlp"], splits=["random"], seeds=2, settings=SETTINGS, progress=False
    )
    gin_state = {run: folder_state(out / run) for run in first.loc[first["model"] == "gin_cp", "run"]}
    second = run_experiment(
        data=dataset,
        out=out,
        models={"gin_cp": {}, "mlp": {"model_kwargs": {"hidden": 16}}},
        splits=["random"],
        seeds=2,
        settings=SETTINGS,
        progress=False,
    )
    assert second.loc[second["model"] == "gin_cp", "status"].tolist() == ["reused", "reused"]
    assert second.loc[second["model"] == "mlp", "status"].tolist() == ["done", "done"]
    assert set(second.loc[second["model"] == "mlp", "config_hash"]).isdisjoint(
        first.loc[first["model"] == "mlp", "config_hash"]
    )
    for run, state in gin_state.items():
        assert folder_state(out / run) == state
    # an alias runs the same registry model with its own settings, side by side
    third = run_experiment(
        data=dataset,
        out=out,
        models={"mlp": {}, "mlp_wide": {"model": "mlp", "model_kwargs": {"hidden": 128}}},
        splits=["random"],
        seeds=1,
        settings=SETTINGS,
        progress=False,
    )
    assert third["model"].tolist() == ["mlp", "mlp_wide"] and third["model_name"].tolist() == ["mlp", "mlp"]
    assert third["status"].tolist() == ["reused", "done"]


def test_failing_run_is_recorded_and_the_rest_completes(dataset, tmp_path, capsys):
    plugin = tmp_path / "broken.py"
    plugin.write_text(BROKEN_PLUGIN)
    config = tmp_path / "grid.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": str(dataset),
                "models": ["broken", "mlp"],
                "splits": ["random"],
                "seeds": 2,
                "settings": SETTINGS,
                "plugins": [str(plugin)],
            }
        )
    )
    out = tmp_path / "results"
    assert main(["-q", "experiment", str(config), "--out", str(out)]) == 1
    table = pd.read_parquet(out / "results.parquet")
    assert table.loc[table["model"] == "broken", "status"].tolist() == ["failed", "failed"]
    assert table.loc[table["model"] == "broken", "error"].str.contains("broken on purpose").all()
    assert table.loc[table["model"] == "mlp", "status"].tolist() == ["done", "done"]
    assert "2 of 4 runs failed" in capsys.readouterr().err
    tracebacks = list((out / "failed").glob("*.txt"))
    assert len(tracebacks) == 2 and "RuntimeError" in tracebacks[0].read_text()
    assert not list((out / "runs").glob("*broken*"))  # no run folder for a failed run
    assert main(["-q", "report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert "## Failed runs" in (tmp_path / "report" / "tables.md").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"modles": ["mlp"]}, "unknown key 'modles'"),
        ({"models": {"mlp": {"hiden": 3}}}, "models.mlp: unknown setting 'hiden'"),
        ({"settings": {"epoch": 3}}, "settings: unknown setting 'epoch'"),
        ({"models": ["gcn"]}, "unknown model 'gcn'"),
        ({"splits": ["cold"]}, "splits: unknown split 'cold'"),
        ({"seeds": 0}, "seeds: expected a positive count"),
        ({"settings": {"epochs": 0}}, "epochs: must be a positive integer"),
        ("- just\n- a list\n", "expected a mapping"),
        ({"models": {"popularity": 5}}, "models.popularity: expected a mapping of settings (or nothing), got 5"),
        ({"splits": 5}, "splits: expected a list of split names, got 5"),
        ({"graphs": {"st_expanded": 1}}, "graphs: expected a list of graph types"),
        ({"settings": [1, 2]}, "settings: expected a mapping of settings, got [1, 2]"),
        ({"plugins": None}, "plugins: expected a list of Python files, got None"),
        ({"plugins": [5]}, "plugins: expected a list of Python files, got 5"),
        ({"data": 5}, "data: expected a folder path, got 5"),
        (
            {"models": {"x/../../../escaped": {"model": "mlp"}}},
            "models: label 'x/../../../escaped': must be a name of letters, digits",
        ),
        ({"models": {".hidden": {"model": "mlp"}}}, "models: label '.hidden': must be a name"),
        ({"models": {"a" * 101: {"model": "mlp"}}}, "at most 100 characters"),
    ],
)
def test_bad_configs_fail_with_one_line_before_any_run(dataset, tmp_path, capsys, content, message):
    config = tmp_path / "bad.yaml"
    config.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    out = tmp_path / "results"
    assert main(["-q", "experiment", str(config), "--data", str(dataset), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error, error
    assert not out.exists()


def test_experiment_refuses_a_folder_it_did_not_make(dataset, tmp_path, capsys):
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("mine")
    assert (
        main(
            ["-q", "experiment", "paper", "--data", str(dataset), "--out", str(user), "--models", "mlp", "--seeds", "1"]
        )
        == 2
    )
    assert "not made by motive" in capsys.readouterr().err
    assert sorted(p.name for p in user.iterdir()) == ["notes.txt"]


def test_plugin_model_runs_in_train_experiment_and_report(dataset, tmp_path):
    plugin = tmp_path / "my_model.py"
    plugin.write_text(textwrap.dedent(PLUGIN))
    run_dir = tmp_path / "run"
    assert (
        main(
            [
                "-q",
                "train",
                "--data",
                str(dataset),
                "--model",
                "tiny_linear",
                "--epochs",
                "3",
                "--hits-k",
                "5",
                "--plugin",
                str(plugin),
                "--out",
                str(run_dir),
            ]
        )
        == 0
    )
    assert json.loads((run_dir / "config.json").read_text())["plugins"] == [str(plugin.resolve())]
    out = tmp_path / "results"
    argv = [
        "-q",
        "experiment",
        "paper",
        "--data",
        str(dataset),
        "--models",
        "tiny_linear,popularity",
        "--splits",
        "random,cold_source",
        "--seeds",
        "2",
        "--epochs",
        "3",
        "--hits-k",
        "5",
    ]
    assert main([*argv, "--plugin", str(plugin), "--out", str(out)]) == 0
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["status"]) == {"done"} and set(table["model"]) == {"tiny_linear", "popularity"}
    assert main(["-q", "report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert "| tiny_linear |" in (tmp_path / "report" / "tables.md").read_text()
    # an edited plugin is a new model: its runs are redone, not reused
    plugin.write_text(textwrap.dedent(PLUGIN) + "\n# edited\n")
    assert main([*argv, "--plugin", str(plugin), "--out", str(out)]) == 0
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["status"]) == {"done"}  # a plugin file may change any run of the grid that loads it
    # evaluate loads the plugin the user names, in a fresh process
    result = subprocess.run(
        [sys.executable, "-m", "motive.cli", "-q", "evaluate", str(run_dir), "--plugin", str(plugin)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr
    assert "| test |" in result.stdout


def test_public_api_is_the_cli_functions(dataset, tmp_path):
    import types

    import motive.predict  # noqa: F401  (the submodules are imported: the functions stay)
    import motive.report  # noqa: F401

    assert all(
        isinstance(getattr(motive, name), types.FunctionType)
        for name in ("train", "predict", "report", "run_experiment")
    )
    result = motive.train(data=dataset, model="mlp", epochs=2, hits_k=5, out=tmp_path / "run")
    assert (tmp_path / "run" / "metrics.json").is_file() and result.config.model == "mlp"
    table = motive.run_experiment(
        data=dataset,
        out=tmp_path / "results",
        models=["cosine"],
        splits=["random"],
        seeds=1,
        settings=SETTINGS,
        progress=False,
    )
    assert table["status"].tolist() == ["done"]
    assert "tables.md" in motive.report(tmp_path / "results", tmp_path / "report")
    with pytest.raises(MotiveError, match="settings: unknown setting 'epoch'"):
        motive.run_experiment(data=dataset, out=tmp_path / "other", settings={"epoch": 3})


def test_readme_plugin_example_trains(dataset, tmp_path):
    guide = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "models.md").read_text()
    example = next(block for block in guide.split("```python\n")[1:] if "@register_model(" in block).split("```")[0]
    assert 20 <= len(example.strip().splitlines()) <= 30
    plugin = tmp_path / "my_model.py"
    plugin.write_text(example)
    name = example.split('@register_model("')[1].split('"')[0]
    run_dir = tmp_path / "run"
    argv = [
        "-q",
        "train",
        "--data",
        str(dataset),
        "--split",
        "cold_source",
        "--model",
        name,
        "--model-kwargs",
        '{"hidden": 16}',
        "--epochs",
        "3",
        "--hits-k",
        "5",
    ]
    assert main([*argv, "--plugin", str(plugin), "--out", str(run_dir)]) == 0
    assert json.loads((run_dir / "metrics.json").read_text())["test"]["auroc"] > 0
    # the guide's test file for a plugin runs the shared model checks on it, and they pass
    checks = next(block for block in guide.split("```python\n")[1:] if "parametrize_with_checks" in block)
    (tmp_path / "test_my_model.py").write_text(checks.split("```")[0])
    environment = os.environ | {"PYTHONPATH": str(tmp_path), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_my_model.py")]
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "5 passed" in result.stdout, result.stdout[-2000:]


METRIC_COLUMNS = [
    "graph",
    "split",
    "model",
    "seed",
    "run",
    "config_hash",
    "best_epoch",
    "valid_hits@5",
    "valid_auprc",
    "test_hits@5",
    "test_auprc",
    "test_f1",
    "test_auroc",
]


def test_grid_on_dask_equals_the_local_run_and_survives_a_killed_worker(dataset, tmp_path):
    import threading

    from distributed import Client, LocalCluster

    grid = {
        "data": dataset,
        "models": ["gin_cp", "mlp"],
        "splits": ["random", "cold_source"],
        "seeds": 2,
        "settings": {"epochs": 30, "patience": 30, "hits_k": 5},
        "progress": False,
    }
    local = run_experiment(**grid, out=tmp_path / "local")
    assert set(local["status"]) == {"done"}
    pooled = run_experiment(**grid, out=tmp_path / "pool", workers=2)  # a local Dask cluster of 2 processes
    pd.testing.assert_frame_equal(pooled[METRIC_COLUMNS], local[METRIC_COLUMNS])

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        out = tmp_path / "cluster"
        killed = threading.Event()

        def kill_one_worker_mid_run():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                started = [p for p in (out / "runs").glob(".*motive-tmp-*")] if (out / "runs").is_dir() else []
                if started:  # a run is being written
                    os.kill(pids[0], signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.01)

        killer = threading.Thread(target=kill_one_worker_mid_run)
        killer.start()
        remote = run_experiment(**grid, out=out, cluster=cluster.scheduler_address)
        killer.join()
    assert killed.is_set(), "no worker was killed: the test did not test anything"
    # a worker killed after writing a run but before reporting it: the rescheduled run finds it finished
    assert set(remote["status"]) <= {"done", "reused"} and "done" in set(remote["status"])
    pd.testing.assert_frame_equal(remote[METRIC_COLUMNS], local[METRIC_COLUMNS])
    # Byte-identical metrics.json alone, in a local grid, on local Dask workers and on a cluster
    # (before, the workers' 1 torch thread against the process's 2 changed the numbers).
    for name in local["run"]:
        metrics_bytes = (tmp_path / "local" / name / "metrics.json").read_bytes()
        assert (
            (tmp_path / "pool" / name / "metrics.json").read_bytes()
            == metrics_bytes
            == (out / name / "metrics.json").read_bytes()
        )
    alone = tmp_path / "alone"
    command = [
        sys.executable,
        "-m",
        "motive.cli",
        "-q",
        "train",
        "--data",
        str(dataset),
        "--split",
        "cold_source",
        "--model",
        "gin_cp",
    ]
    command += ["--epochs", "30", "--patience", "30", "--hits-k", "5", "--out", str(alone)]
    subprocess.run(command, check=True, env=os.environ | {"OMP_NUM_THREADS": "2"}, timeout=300)
    in_grid = local[(local["split"] == "cold_source") & (local["model"] == "gin_cp") & (local["seed"] == 0)][
        "run"
    ].item()
    assert (alone / "metrics.json").read_bytes() == (tmp_path / "local" / in_grid / "metrics.json").read_bytes()


def test_a_second_experiment_on_the_same_results_folder_is_refused(dataset, tmp_path, capsys):
    from motive.experiments import exclusive

    out = tmp_path / "results"
    argv = [
        "-q",
        "experiment",
        "paper",
        "--data",
        str(dataset),
        "--models",
        "popularity",
        "--splits",
        "random",
        "--seeds",
        "1",
        "--hits-k",
        "5",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    before = (out / "results.parquet").read_bytes()
    with exclusive(out):  # what the first process holds while it runs
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "another `motive experiment` is running on this results folder" in error
    assert (out / "results.parquet").read_bytes() == before
    assert main(argv) == 0  # released with its holder


def test_seed_free_models_run_once_per_split_with_the_numbers_of_a_run_per_seed(dataset, tmp_path):
    from motive.training.config import TrainConfig
    from motive.training.loop import run

    grid = {"models": ["knn", "popularity", "mlp"], "splits": ["cold_source"], "seeds": [0, 1, 2], "settings": SETTINGS}
    table = run_experiment(data=dataset, out=tmp_path / "results", progress=False, **grid)
    assert set(table["status"]) == {"done"}
    assert table.groupby("model")["seed_free"].all().to_dict() == {"knn": True, "popularity": True, "mlp": False}
    assert len(list((tmp_path / "results" / "runs").iterdir())) == 1 + 1 + 3  # one run per seed-free model
    knn = table[table["model"] == "knn"]
    assert knn["run"].nunique() == 1 and knn["seed"].tolist() == [0, 1, 2]
    # the run of seed 2 made on its own gives the numbers shown for seed 2
    alone = run(TrainConfig(data=str(dataset), split="cold_source", model="knn", seed=2, **SETTINGS), tmp_path / "knn2")
    shown = knn[knn["seed"] == 2].iloc[0]
    for name, value in alone["test"].items():
        if not isinstance(value, list):
            assert shown[f"test_{name}"] == value, name
    report = tmp_path / "report"
    assert main(["-q", "report", str(tmp_path / "results"), "--out", str(report)]) == 0
    tables = (report / "tables.md").read_text()
    assert "knn [1]" in tables and "popularity [1]" in tables and "seed-free" in tables and "| mlp |" in tables


def test_a_worker_next_takes_a_run_that_shares_its_stage_graphs():
    """With the split seed varied, a grid lists a model's seeds together; a worker that ran a
    split seed's first model goes on with that split seed's next model, the other worker with
    another split seed, and without such a run a worker takes the first no one else is on."""
    from motive.experiments.execution import Queue
    from motive.experiments.grid import RunSpec

    def spec(model: str, seed: int, views: str = "profile") -> RunSpec:
        config = {"model": model, "seed": seed, "split": "random", "split_seed": seed, "views": views}
        return RunSpec(model, config, f"{model}-{seed}", "h", None)

    specs = [spec("gin_cp", s) for s in (0, 1, 2)] + [spec("sage_cp", s) for s in (0, 1, 2)]
    specs.append(spec("evidence_ranker", 0, "structure"))
    queue = Queue(specs, list(range(len(specs))))
    taken = [(worker, specs[queue.take(worker)].folder) for worker in ("a", "b", "a", "b", "a", "b", "a")]
    assert taken == [
        ("a", "gin_cp-0"),
        ("b", "gin_cp-1"),
        ("a", "sage_cp-0"),
        ("b", "sage_cp-1"),
        ("a", "gin_cp-2"),  # seed 0 has no profile run left; seed 2 is no other worker's
        ("b", "evidence_ranker-0"),  # b's seed-1 runs are done; seed 2 is a's
        ("a", "sage_cp-2"),
    ]
    assert not queue


def test_runs_of_one_split_seed_run_together_in_one_process(dataset, tmp_path, monkeypatch):
    """A model's seeds are listed together, yet each split seed's runs go one after the other,
    so its stage graphs are made once (the process keeps only its last ones)."""
    from motive.experiments import execution
    from motive.training import prepare
    from motive.training.memo import Memo

    order, builds = [], []
    execute = execution.execute
    monkeypatch.setattr(execution, "execute", lambda spec: order.append(spec.folder) or execute(spec))
    kept = Memo(1)  # as the process keeps them, without stage graphs of earlier tests
    monkeypatch.setattr(prepare, "STAGE_GRAPHS", kept)
    get = kept.get
    monkeypatch.setattr(kept, "get", lambda key, make: get(key, lambda: builds.append(key) or make()))
    grid = {"models": ["mlp", "bilinear"], "splits": ["random"], "seeds": [0, 1], "split_seed": "vary"}
    table = run_experiment(data=dataset, out=tmp_path / "out", progress=False, settings=SETTINGS, **grid)
    assert set(table["status"]) == {"done"}
    by_run = table.set_index("run")
    ran = [
        tuple(by_run.loc[str(Path(folder).relative_to(tmp_path / "out")), ["model", "split_seed"]]) for folder in order
    ]
    assert ran == [("mlp", 0), ("bilinear", 0), ("mlp", 1), ("bilinear", 1)]
    assert len(builds) == 2  # the stage graphs of each split seed made once


def test_results_are_rewritten_at_most_once_a_second_and_always_at_the_end(dataset, tmp_path, monkeypatch):
    from motive.experiments import execution, runner

    writes = []
    original = runner.write_results
    monkeypatch.setattr(runner, "write_results", lambda rows, out: writes.append(out) or original(rows, out))
    grid = {"models": ["mlp"], "splits": ["random"], "seeds": [0, 1, 2], "settings": SETTINGS | {"epochs": 1}}
    monkeypatch.setattr(runner, "RESULTS_EVERY", 0.0)  # after every run, as slow runs are
    run_experiment(data=dataset, out=tmp_path / "every", progress=False, **grid)
    assert len(writes) == 1 + 3  # the pending table, then one per run
    writes.clear()
    monkeypatch.setattr(runner, "RESULTS_EVERY", 1e9)  # runs faster than the interval
    table = run_experiment(data=dataset, out=tmp_path / "fast", progress=False, **grid)
    assert len(writes) == 2 and set(table["status"]) == {"done"}  # the pending table, then the end
    assert pd.read_parquet(tmp_path / "fast" / "results.parquet")["status"].tolist() == ["done"] * 3
    # stopped after its first run (Ctrl-C): the table says what finished
    execute = execution.execute
    calls = []

    def stopped_at_the_second(spec):
        calls.append(spec)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return execute(spec)

    monkeypatch.setattr(execution, "execute", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(data=dataset, out=tmp_path / "stopped", progress=False, **grid)
    status = pd.read_parquet(tmp_path / "stopped" / "results.parquet")["status"].tolist()
    assert status == ["done", "pending", "pending"]


@pytest.mark.parametrize("flags", [["-q"], []])
def test_dask_logs_stay_below_warnings_unless_verbose(dataset, tmp_path, flags):
    argv = [*flags, "experiment", "paper", "--data", str(dataset), "--models", "mlp", "--splits", "random"]
    argv += ["--seeds", "2", "--epochs", "2", "--hits-k", "5", "--workers", "2"]
    command = [sys.executable, "-m", "motive.cli"]
    done = subprocess.run([*command, *argv, "--out", str(tmp_path / "a")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for dask_line in ("Nanny", "Scheduler", "Register worker", "jupyter-server-proxy"):
        assert dask_line not in done.stderr, done.stderr
    if not flags:
        assert "experiment: 100%" in done.stderr  # the progress bar stays
    verbose = subprocess.run(
        [*command, "-v", *argv, "--out", str(tmp_path / "b")], capture_output=True, text=True, timeout=300
    )
    assert verbose.returncode == 0 and "Nanny" in verbose.stderr, verbose.stderr


def test_version():
    import motive

    done = subprocess.run([sys.executable, "-m", "motive.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"motive {motive.__version__}"


def test_a_second_train_on_the_same_out_is_refused_before_any_work(dataset, tmp_path, capsys):
    from motive.locks import claimed

    argv = ["-q", "train", "--data", str(dataset), "--model", "mlp", "--epochs", "1", "--hits-k", "5"]
    with claimed(tmp_path / "run", "run"):  # what a first `motive train` on that --out holds while it trains
        started = time.perf_counter()
        assert main([*argv, "--out", str(tmp_path / "run")]) == 2
        assert time.perf_counter() - started < 5
    assert "another motive process is making this run right now" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0  # released with its process


def test_a_results_folder_refuses_links_and_other_datasets_and_says_what_is_gone(dataset, tmp_path, caplog):
    grid = {"models": ["popularity"], "splits": ["random"], "seeds": 1, "settings": SETTINGS, "progress": False}
    run_experiment(data=dataset, out=tmp_path / "linked", **grid)
    (tmp_path / "linked" / "runs").rename(tmp_path / "elsewhere")  # a shared disk, linked in by hand
    (tmp_path / "linked" / "runs").symlink_to(tmp_path / "elsewhere")
    before = sorted(p.name for p in (tmp_path / "elsewhere").iterdir())
    with pytest.raises(MotiveError, match="runs: is a symlink"):
        run_experiment(data=dataset, out=tmp_path / "linked", **grid | {"seeds": 2})
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == before
    run_experiment(data=dataset, out=tmp_path / "results", **grid)
    other = tmp_path / "other-data"
    from motive.data import layout, synth

    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.05, seed=4)), other)  # (main would reset logging)
    with pytest.raises(MotiveError, match="holds an experiment on another dataset"):
        run_experiment(data=other, out=tmp_path / "results", **grid)
    table = pd.read_parquet(tmp_path / "results" / "results.parquet")
    import shutil

    shutil.rmtree(tmp_path / "results" / table["run"].iloc[0])
    with caplog.at_level("WARNING", logger="motive.report"):
        motive_report(tmp_path / "results", tmp_path / "report")
    assert "1 finished run(s)" in caplog.text and "have no run folder any more" in caplog.text


def test_a_configs_relative_paths_are_relative_to_the_config(dataset, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(dataset, tmp_path / "project" / "data")
    (tmp_path / "project" / "grid.yaml").write_text(
        "data: data\nout: results\nmodels: [popularity]\nsplits: [random]\n"
    )
    monkeypatch.chdir(tmp_path)  # another folder than the config's
    config = load_config(tmp_path / "project" / "grid.yaml")
    assert config["data"] == str(tmp_path / "project" / "data") and config["out"] == str(
        tmp_path / "project" / "results"
    )


def test_a_hand_edited_results_table_is_outside_data(dataset, tmp_path, capsys):
    run_experiment(
        data=dataset,
        out=tmp_path / "results",
        models=["popularity"],
        splits=["random"],
        seeds=1,
        settings=SETTINGS,
        progress=False,
    )
    path = tmp_path / "results" / "results.parquet"
    pd.read_parquet(path).assign(graph="../../x/evil").to_parquet(path)
    assert main(["-q", "report", str(tmp_path / "results"), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown graph '../../x/evil'" in err, err
    assert not (tmp_path / "report").exists() and not (tmp_path / "x").exists()


def test_experiment_help_lists_every_preset(capsys):
    assert main(["experiment", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert all(name in shown for name in presets()) and "multimodal" in shown
