"""Hyper-parameter search: studies resume, the best config reproduces its validation value, the
search never sees a test pair, and a shared PostgreSQL study takes two machines at once."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import motive.experiments.tune as tune_module
import motive.splits
from motive.cli import main
from motive.experiments import load_config, run_experiment

ARGS = ["--split", "cold_source", "--model", "mlp", "--epochs", "6", "--hits-k", "5"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tune-data")
    assert main(["-q", "data", "synth", "--out", str(root / "data"), "--scale", "0.05", "--seed", "3"]) == 0
    return root / "data"


def trials_of(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "trials.parquet").sort_values("number")


def test_study_resumes_and_its_best_config_reproduces_the_validation_value(dataset, tmp_path):
    out = tmp_path / "tune"
    assert main(["-q", "tune", "--data", str(dataset), *ARGS, "--trials", "2", "--out", str(out)]) == 0
    first = trials_of(out)
    assert first["number"].tolist() == [0, 1] and set(first["state"]) == {"COMPLETE"}
    assert main(["-q", "tune", "--data", str(dataset), *ARGS, "--trials", "2", "--out", str(out)]) == 0
    second = trials_of(out)
    assert second["number"].tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(
        second.iloc[:2][["number", "value", "params_lr"]], first[["number", "value", "params_lr"]]
    )
    assert second["params_lr"].nunique() == 4  # the resumed sampler draws new points
    for name in ("best_params.yaml", "history.png", "study.db"):
        assert (out / name).is_file()
    assert (out / "history.png").read_bytes()[:4] == b"\x89PNG"
    # the search space is the paper's
    assert second["params_lr"].between(1e-6, 1e-2).all() and second["params_weight_decay"].between(1e-5, 1).all()
    assert set(second["params_model_kwargs.hidden"]) <= {64, 128, 256}

    best = second.sort_values("value").iloc[-1]
    config = load_config(out / "best_params.yaml")
    assert config["models"]["mlp"]["lr"] == best["params_lr"]
    table = run_experiment(**(config | {"out": tmp_path / "tuned", "seeds": [0], "progress": False}))
    assert table["status"].tolist() == ["done"]
    assert table["valid_hits@5"].item() == pytest.approx(best["value"], abs=1e-12)

    # params: best picks the same settings from the study
    again = run_experiment(
        data=dataset,
        out=tmp_path / "tuned",
        models=["mlp"],
        splits=["cold_source"],
        seeds=[0],
        settings=config["settings"],
        params="best",
        study_storage=str(out),
        progress=False,
    )
    assert again["status"].tolist() == ["reused"] and again["lr"].item() == best["params_lr"]


def test_the_search_never_touches_test_pairs(dataset, tmp_path, monkeypatch):
    original_supervision = motive.splits.Split.supervision
    seen = []

    def guarded_supervision(self, graph, stage):
        assert stage != "test", "the search asked for test supervision pairs"
        return original_supervision(self, graph, stage)

    original_fit = tune_module.fit

    def checking_fit(config, prepared, on_epoch=None):
        assert set(prepared.stages) == {"train", "valid"}
        assert "test" not in prepared.split.negatives
        assert not (prepared.split.subsets["st"] == "test").any()
        seen.append(config.lr)
        return original_fit(config, prepared, on_epoch=on_epoch)

    monkeypatch.setattr(motive.splits.Split, "supervision", guarded_supervision)
    monkeypatch.setattr(tune_module, "fit", checking_fit)
    result = tune_module.tune(
        dataset,
        tmp_path / "tune",
        model="mlp",
        split="cold_source",
        trials=3,
        settings={"epochs": 4, "hits_k": 5},
        progress=False,
    )
    assert len(seen) == 3 and result["completed"] == 3


def test_pruning_stops_bad_trials_early(dataset, tmp_path):
    result = tune_module.tune(
        dataset,
        tmp_path / "tune",
        model="mlp",
        split="random",
        trials=12,
        settings={"epochs": 30, "patience": 30, "hits_k": 5},
        progress=False,
    )
    trials = trials_of(tmp_path / "tune")
    pruned = trials[trials["state"] == "PRUNED"]
    assert result["pruned"] == len(pruned)
    # a pruned trial stopped before the epoch budget; complete ones ran until early stopping or the end
    assert (trials.loc[trials["state"] == "COMPLETE", "user_attrs_epochs_run"] <= 30).all()


def test_study_of_other_settings_is_refused(dataset, tmp_path, capsys):
    out = tmp_path / "tune"
    assert main(["-q", "tune", "--data", str(dataset), *ARGS, "--trials", "1", "--out", str(out)]) == 0
    assert (
        main(["-q", "tune", "--data", str(dataset), *ARGS[:-2], "--hits-k", "6", "--trials", "1", "--out", str(out)])
        == 2
    )
    assert "made for other data or settings" in capsys.readouterr().err
    assert trials_of(out)["number"].tolist() == [0]


def test_unreachable_storage_is_one_line(dataset, tmp_path, capsys):
    port = free_port()
    code = main(
        [
            "-q",
            "tune",
            "--data",
            str(dataset),
            *ARGS,
            "--trials",
            "1",
            "--storage",
            f"postgresql://nobody@127.0.0.1:{port}/none",
            "--out",
            str(tmp_path / "t"),
        ]
    )
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "cannot open the study" in error


def test_a_refused_storage_url_is_printed_without_its_password(dataset, tmp_path, capsys):
    url = f"postgresql://motive:s3cret-pass@127.0.0.1:{free_port()}/none"
    argv = ["-q", "tune", "--data", str(dataset), *ARGS, "--trials", "1", "--storage", url]
    assert main([*argv, "--out", str(tmp_path / "t")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot open the study" in error and "s3cret-pass" not in error, error
    assert "postgresql://motive:***@127.0.0.1" in error


def test_a_folder_named_like_url_syntax_holds_its_own_study_beside_a_users_database(dataset, tmp_path, monkeypatch):
    import sqlite3

    monkeypatch.chdir(tmp_path)
    with sqlite3.connect("userdb.sqlite") as user:
        user.execute("create table mine (x)")
    for name in ("userdb.sqlite?x", "a?b#c%d e;ü"):
        assert main(["-q", "tune", "--data", str(dataset), *ARGS, "--trials", "1", "--out", name]) == 0
        with sqlite3.connect(tmp_path / name / "study.db") as study:
            assert "studies" in {row[0] for row in study.execute("select name from sqlite_master")}
    with sqlite3.connect("userdb.sqlite") as user:
        assert [row[0] for row in user.execute("select name from sqlite_master")] == ["mine"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a?b#c%d e;ü", "userdb.sqlite", "userdb.sqlite?x"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_binaries() -> Path | None:
    for candidate in [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]:
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve().parent
    return None


@pytest.fixture
def postgres():
    """A throw-away PostgreSQL cluster on 127.0.0.1 (trust auth), stopped and deleted after the test."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; `apt-get install postgresql` (the CI script does "
            "when it runs as root)"
        )
    root = Path(tempfile.mkdtemp(prefix="motive-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run the server as")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"]
    port = free_port()
    data = root / "db"
    env = os.environ | {"LC_ALL": "C"}
    subprocess.run(
        [
            *as_user,
            binaries / "initdb",
            "-D",
            data,
            "-U",
            "motive",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--no-locale",
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=env,
    )
    subprocess.run(
        [
            *as_user,
            binaries / "pg_ctl",
            "-D",
            data,
            "-l",
            root / "log",
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=90,
        env=env,
    )
    try:
        yield f"postgresql://motive@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            env=env,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_two_tune_processes_share_one_postgres_study(dataset, tmp_path, postgres):
    command = [
        sys.executable,
        "-m",
        "motive.cli",
        "-q",
        "tune",
        "--data",
        str(dataset),
        *ARGS,
        "--trials",
        "3",
        "--storage",
        postgres,
        "--study",
        "shared",
    ]
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [*command, "--seed", str(seed), "--out", str(tmp_path / f"machine{seed}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-2000:]
    study = optuna.load_study(study_name="shared", storage=postgres)
    numbers = sorted(trial.number for trial in study.trials)
    assert numbers == list(range(6)), numbers  # unique, none lost
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in study.trials)
    assert len({trial.params["lr"] for trial in study.trials}) == 6
    # both machines' outputs describe the same study
    tables = [trials_of(tmp_path / f"machine{seed}") for seed in (1, 2)]
    assert np.isclose(tables[0]["value"].max(), study.best_value) or np.isclose(
        tables[1]["value"].max(), study.best_value
    )
    assert time.monotonic() - started < 300


def test_trials_spread_over_a_dask_cluster_share_one_study(dataset, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = tune_module.tune(
            dataset,
            tmp_path / "tune",
            model="mlp",
            split="cold_source",
            trials=4,
            settings={"epochs": 3, "hits_k": 5},
            workers=2,
            cluster=cluster.scheduler_address,
            progress=False,
        )
    trials = trials_of(tmp_path / "tune")
    assert result["added"] == 4 and trials["number"].tolist() == [0, 1, 2, 3]
    assert (
        set(trials["state"]) == {"COMPLETE"} and trials["params_lr"].nunique() == 4
    )  # the two workers drew different points
