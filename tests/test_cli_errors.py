"""Every bad argument of every command: exit status 2, one line on stderr, no traceback, and the
file system unchanged (a snapshot of the whole test tree before and after)."""

import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from motive.cli import main
from motive.data.datasets import registry
from tests.test_outputs import snapshot


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A motive dataset (with a random split), a motive run, a user's folder and a user's file."""
    root = tmp_path_factory.mktemp("world")
    assert main(["-q", "data", "synth", "--out", str(root / "data"), "--scale", "0.05", "--seed", "3"]) == 0
    assert (
        main(
            [
                "-q",
                "train",
                "--data",
                str(root / "data"),
                "--model",
                "cosine",
                "--hits-k",
                "5",
                "--out",
                str(root / "run"),
            ]
        )
        == 0
    )
    (root / "user").mkdir()
    (root / "user" / "thesis.txt").write_text("years of work")
    (root / "file.txt").write_text("a user's file")
    broken_artifacts(root)
    broken_results(root)
    # what --overwrite must never take: a run saved inside a dataset, a user's symlink in a run
    shutil.copytree(root / "data", root / "data_with_run")
    shutil.copytree(root / "run", root / "data_with_run" / "my_runs" / "r")
    shutil.copytree(root / "run", root / "run_with_link")
    (root / "run_with_link" / "shared").symlink_to(root / "user")
    shutil.copytree(root / "run", root / "run_with_lookalike")
    (root / "run_with_lookalike" / "notes.motive-tmp-v2.txt").write_text("named like a temp, but mine")
    first_file = registry.get_dataset("l1000").files["path"].iloc[0]
    (root / "cache" / "l1000" / "raw" / first_file).mkdir(parents=True)  # a folder where a cached file belongs
    return root


def broken_results(root: Path) -> None:
    """An experiment's results folder, killed before any run finished, truncated, or without its
    status column."""
    argv = [
        "-q",
        "experiment",
        "paper",
        "--data",
        str(root / "data"),
        "--models",
        "popularity",
        "--splits",
        "random",
        "--seeds",
        "1",
        "--hits-k",
        "5",
    ]
    assert main([*argv, "--out", str(root / "exp")]) == 0
    for name in ("exp_killed", "exp_truncated", "exp_no_status"):
        shutil.copytree(root / "exp", root / name)
    results = pd.read_parquet(root / "exp" / "results.parquet")
    results.assign(status="pending").to_parquet(root / "exp_killed" / "results.parquet")
    path = root / "exp_truncated" / "results.parquet"
    path.write_bytes(path.read_bytes()[:100])
    results.drop(columns="status").to_parquet(root / "exp_no_status" / "results.parquet")


class RunsAShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def broken_artifacts(root: Path) -> None:
    """Run folders and stored splits damaged the ways a shared folder gets damaged (the code of
    the crafted checkpoint would create a file, which the tree snapshot would show)."""
    checkpoint = torch.load(root / "run" / "checkpoint.pt", weights_only=True)
    damaged_runs = {
        "evil_run": lambda path: torch.save(checkpoint | {"payload": RunsAShellCommand(root / "code-ran")}, path),
        "truncated_run": lambda path: path.write_bytes(path.read_bytes()[:300]),
        "weightless_run": lambda path: torch.save({k: v for k, v in checkpoint.items() if k != "state_dict"}, path),
        "moved_run": lambda path: torch.save(
            checkpoint | {"config": checkpoint["config"] | {"data": str(root / "gone")}}, path
        ),
    }
    for name, damage in damaged_runs.items():
        shutil.copytree(root / "run", root / name)
        damage(root / name / "checkpoint.pt")
    stored = Path("data/st_expanded/orf/splits/random/seed_0")

    def relabel_test_as_message(folder: Path) -> None:
        labels = pd.read_parquet(folder / "s_t_labels.parquet")
        labels.loc[labels["subset"] == "test", "subset"] = "message"
        labels.to_parquet(folder / "s_t_labels.parquet")

    def out_of_range_negative(folder: Path) -> None:
        negatives = pd.read_parquet(folder / "negatives_test.parquet")
        negatives.loc[0, "target"] = 10**6
        negatives.to_parquet(folder / "negatives_test.parquet", index=False)

    damaged_splits = {
        "data_tampered": relabel_test_as_message,
        "data_bad_negative": out_of_range_negative,
        "data_truncated_json": lambda folder: (folder / "split.json").write_text(
            (folder / "split.json").read_text()[:40]
        ),
        "data_empty_json": lambda folder: (folder / "split.json").write_text(""),
        "data_no_stages": lambda folder: (folder / "source_stage.parquet").write_bytes(b"PAR1"),
    }
    for name, damage in damaged_splits.items():
        shutil.copytree(root / "data", root / name)
        damage(root / name / stored)
    # A cold_source split with one held-out compound's test edge swapped with a training compound's
    # message edge: the counts still add up, the audit finds the leak.
    shutil.copytree(root / "data", root / "data_leaky")
    assert (
        main(["-q", "split", "make", str(root / "data_leaky"), "--graph", "st_expanded", "--split", "cold_source"]) == 0
    )
    labels_path = root / "data_leaky" / "data/st_expanded/orf/splits/cold_source/seed_0/s_t_labels.parquet"
    labels = pd.read_parquet(labels_path)
    test_edge, message_edge = (
        labels.index[labels["subset"] == "test"][0],
        labels.index[labels["subset"] == "message"][0],
    )
    labels.loc[[test_edge, message_edge], "subset"] = ["message", "test"]
    labels.to_parquet(labels_path)


TRAIN = ["train", "--data", "W/data", "--hits-k", "5", "--out", "W/new_run"]
CASES = {
    # data synth
    "synth into a user's folder": (
        ["data", "synth", "--out", "W/user"],
        "W/user: folder exists and was not made by motive",
    ),
    "synth onto a user's file": (["data", "synth", "--out", "W/file.txt"], "exists and is not a folder"),
    "synth below a file": (["data", "synth", "--out", "W/file.txt/sub"], "W/file.txt is a file"),
    "synth onto own dataset": (
        ["data", "synth", "--out", "W/data"],
        "a motive dataset already exists here; pass --overwrite",
    ),
    "synth onto a run": (["data", "synth", "--out", "W/run", "--overwrite"], "holds a motive run, not a dataset"),
    "synth scale 0": (
        ["data", "synth", "--out", "W/x", "--scale", "0"],
        "argument --scale: must be a positive number, got '0'",
    ),
    "synth scale text": (
        ["data", "synth", "--out", "W/x", "--scale", "big"],
        "argument --scale: must be a number, got 'big'",
    ),
    "synth scale nan": (
        ["data", "synth", "--out", "W/x", "--scale", "nan"],
        "argument --scale: must be a finite number",
    ),
    "synth signal 2": (
        ["data", "synth", "--out", "W/x", "--signal", "2"],
        "argument --signal: must be within [0, 1], got '2'",
    ),
    "synth seed -1": (
        ["data", "synth", "--out", "W/x", "--seed", "-1"],
        "argument --seed: must be an integer >= 0, got '-1'",
    ),
    "synth no out": (["data", "synth"], "the following arguments are required: --out"),
    "synth overwrite over a run saved inside": (
        ["data", "synth", "--out", "W/data_with_run", "--overwrite"],
        "holds files motive did not write (my_runs/r (a motive run))",
    ),
    # data build / build-inputs / fetch / stats
    "build into a user's folder": (
        ["data", "build", "l1000", "--out", "W/user", "--mirror", "W"],
        "not made by motive",
    ),
    "build unknown dataset": (["data", "build", "nope", "--out", "W/x"], "unknown dataset 'nope'"),
    "build missing mirror": (
        ["data", "build", "l1000", "--out", "W/x", "--mirror", "/does/not/exist"],
        "argument --mirror: /does/not/exist: folder not found",
    ),
    "build-inputs missing": (
        ["data", "build-inputs", "/does/not/exist", "--out", "W/x"],
        "argument inputs: /does/not/exist: folder not found",
    ),
    "build-inputs degree 0": (
        ["data", "build-inputs", "W/user", "--out", "W/x", "--max-degree", "0"],
        "argument --max-degree: must be a positive integer",
    ),
    "build-inputs onto dataset": (["data", "build-inputs", "W/user", "--out", "W/data"], "pass --overwrite"),
    "build-inputs no profiles": (
        ["data", "build-inputs", "W/user", "--out", "W/x"],
        "features.parquet: file not found",
    ),
    "fetch unknown": (["data", "fetch", "nope"], "unknown dataset 'nope'"),
    "fetch generated": (["data", "fetch", "synthetic"], "generated, not fetched"),
    "fetch into a cache that is a file": (
        ["data", "fetch", "l1000", "--cache", "W/file.txt", "--mirror", "W/user"],
        "W/file.txt: is a file, where the cache needs a folder",
    ),
    "fetch where a folder holds a cached file's name": (
        ["data", "fetch", "l1000", "--cache", "W/cache", "--mirror", "W/user"],
        "is a folder, where the cache keeps the file",
    ),
    "stats missing": (["data", "stats", "/does/not/exist"], "argument dataset: /does/not/exist: folder not found"),
    "stats not a dataset": (["data", "stats", "W/user"], "no data/{graph_type}/orf/ folders"),
    "stats onto a user's file": (
        ["data", "stats", "W/data", "--out", "W/file.txt", "--overwrite"],
        "is not a motive stats",
    ),
    "stats onto a folder": (["data", "stats", "W/data", "--out", "W/user"], "exists and is not a plain file"),
    # split
    "split missing data": (
        ["split", "make", "/does/not/exist", "--graph", "st_expanded", "--split", "random"],
        "argument data: /does/not/exist: folder not found",
    ),
    "split bad graph": (
        ["split", "make", "W/data", "--graph", "full", "--split", "random"],
        "argument --graph: invalid choice: 'full'",
    ),
    "split bad split": (
        ["split", "make", "W/data", "--graph", "st_expanded", "--split", "cold"],
        "argument --split: invalid choice: 'cold'",
    ),
    "split seed -1": (
        ["split", "make", "W/data", "--graph", "st_expanded", "--split", "random", "--seed", "-1"],
        "argument --seed: must be an integer >= 0",
    ),
    "split into a user's folder": (
        ["split", "make", "W/data", "--graph", "st_expanded", "--split", "random", "--out", "W/user"],
        "not made by motive",
    ),
    "split differs from the stored one": (
        ["split", "make", "W/data_leaky", "--graph", "st_expanded", "--split", "cold_source"],
        "holds a different split (edited, or made with other settings); pass --overwrite",
    ),
    "split onto an edited split": (
        ["split", "make", "W/data_tampered", "--graph", "st_expanded", "--split", "random"],
        "its st labels differ from the counts recorded when it was made",
    ),
    "split onto a truncated split.json": (
        ["split", "make", "W/data_truncated_json", "--graph", "st_expanded", "--split", "random"],
        "unreadable or incomplete split.json",
    ),
    "split export below a file": (
        [
            "split",
            "make",
            "W/data",
            "--graph",
            "st_expanded",
            "--split",
            "cold_source",
            "--export-official",
            "W/file.txt",
        ],
        "W/file.txt is a file",
    ),
    "split graph missing": (
        ["split", "make", "W/user", "--graph", "st_expanded", "--split", "random"],
        "graph folder not found",
    ),
    "audit missing": (["split", "audit", "/does/not/exist"], "argument dir: /does/not/exist: folder not found"),
    "audit not a graph": (["split", "audit", "W/user"], "no graph folder (with source.parquet) here or above"),
    # train
    "train into a user's folder": ([*TRAIN[:-1], "W/user"], "not made by motive"),
    "train overwrite a user's folder": ([*TRAIN[:-1], "W/user", "--overwrite"], "not made by motive"),
    "train onto a user's file": ([*TRAIN[:-1], "W/file.txt"], "exists and is not a folder"),
    "train onto own run": ([*TRAIN[:-1], "W/run"], "a motive run already exists here; pass --overwrite"),
    "train onto a dataset": ([*TRAIN[:-1], "W/data", "--overwrite"], "holds a motive dataset, not a run"),
    "train overwrite over a symlink inside": (
        [*TRAIN[:-1], "W/run_with_link", "--overwrite"],
        "holds files motive did not write (shared (a symlink))",
    ),
    "train overwrite over a file named like a temp": (
        [*TRAIN[:-1], "W/run_with_lookalike", "--overwrite"],
        "holds files motive did not write (notes.motive-tmp-v2.txt)",
    ),
    "experiment label with a separator": (
        ["experiment", "paper", "--data", "W/data", "--models", "mlp/../../escaped", "--out", "W/exp2"],
        "models: label 'mlp/../../escaped': must be a name",
    ),
    "train out name too long": ([*TRAIN[:-1], "W/" + "r" * 230], "output name too long (230 bytes; at most 225"),
    "train bad json": (
        [*TRAIN, "--model-kwargs", "{bad"],
        "argument --model-kwargs: is not valid JSON (Expecting property name enclosed in double quotes at line 1 "
        "column 2)",
    ),
    "train json list": ([*TRAIN, "--model-kwargs", "[1]"], "argument --model-kwargs: must be a JSON object"),
    "train batch 0": ([*TRAIN, "--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    "train lr -1": ([*TRAIN, "--lr", "-1"], "argument --lr: must be a positive number, got '-1'"),
    "train hits 0": ([*TRAIN, "--hits-k", "0"], "argument --hits-k: must be a positive integer, got '0'"),
    "train epochs 0": ([*TRAIN, "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    "train epochs 1.5": ([*TRAIN, "--epochs", "1.5"], "argument --epochs: must be an integer, got '1.5'"),
    "train patience 0": ([*TRAIN, "--patience", "0"], "argument --patience: must be a positive integer"),
    "train weight decay -1": ([*TRAIN, "--weight-decay", "-1"], "argument --weight-decay: must be a number >= 0"),
    "train missing data": (
        ["train", "--data", "/does/not/exist", "--out", "W/x"],
        "argument --data: /does/not/exist: folder not found",
    ),
    "train unknown model": ([*TRAIN, "--model", "transformer"], "unknown model 'transformer'"),
    "train embs on a cold split": (
        [*TRAIN, "--model", "sage_embs", "--split", "cold_source"],
        "cannot run on a cold_source split",
    ),
    "train unknown model kwarg": (
        [*TRAIN, "--model", "gin_cp", "--model-kwargs", '{"width": 3}'],
        "unexpected keyword argument 'width'",
    ),
    "train hits too large": (
        [*TRAIN[:3], "--hits-k", "100000", "--out", "W/x"],
        "hits@100000 needs at least 100000 negatives",
    ),
    "train no out": (["train", "--data", "W/data"], "the following arguments are required: --out"),
    "train hidden 0": (
        [*TRAIN, "--model", "gin_cp", "--model-kwargs", '{"hidden": 0}'],
        "model argument 'hidden' must be a positive integer, got 0",
    ),
    "train hidden -5": (
        [*TRAIN, "--model", "mlp", "--model-kwargs", '{"hidden": -5}'],
        "model argument 'hidden' must be a positive integer, got -5",
    ),
    "train heads 0": (
        [*TRAIN, "--model", "gat_cp", "--model-kwargs", '{"heads": 0}'],
        "model argument 'heads' must be a positive integer, got 0",
    ),
    "train hidden text": (
        [*TRAIN, "--model", "cosine", "--model-kwargs", '{"hidden": "wide"}'],
        "model argument 'hidden' must be an integer, got 'wide'",
    ),
    "train threads 0": ([*TRAIN, "--threads", "0"], "argument --threads: must be a positive integer, got '0'"),
    "train on a relabelled stored split": (
        ["train", "--data", "W/data_tampered", "--hits-k", "5", "--out", "W/new_run"],
        "stored split refused, its st labels differ from the counts",
    ),
    "train on a leaking stored split": (
        ["train", "--data", "W/data_leaky", "--split", "cold_source", "--hits-k", "5", "--out", "W/new_run"],
        "stored split refused, it fails its audit",
    ),
    "train on a negative out of range": (
        ["train", "--data", "W/data_bad_negative", "--hits-k", "5", "--out", "W/new_run"],
        "negatives_test.parquet: column 'target' holds ids outside",
    ),
    "train on a truncated split.json": (
        ["train", "--data", "W/data_truncated_json", "--hits-k", "5", "--out", "W/new_run"],
        "unreadable or incomplete split.json",
    ),
    "train on an empty split.json": (
        ["train", "--data", "W/data_empty_json", "--hits-k", "5", "--out", "W/new_run"],
        "unreadable or incomplete split.json",
    ),
    "train on a broken stage table": (
        ["train", "--data", "W/data_no_stages", "--hits-k", "5", "--out", "W/new_run"],
        "source_stage.parquet: unreadable",
    ),
    # tune
    "tune study name with a separator": (
        ["tune", "--data", "W/data", "--model", "mlp", "--hits-k", "5", "--study", "../escape", "--out", "W/t"],
        "study: must be a name of letters",
    ),
    "tune study name with URL characters": (
        ["tune", "--data", "W/data", "--model", "mlp", "--hits-k", "5", "--study", "a?b=1", "--out", "W/t"],
        "study: must be a name of letters",
    ),
    # report
    "report a killed experiment": (
        ["report", "W/exp_killed", "--out", "W/rep"],
        "no finished run to report (1 pending)",
    ),
    "report a truncated results table": (["report", "W/exp_truncated", "--out", "W/rep"], "unreadable results table"),
    "report without a status column": (["report", "W/exp_no_status", "--out", "W/rep"], "column 'status' missing"),
    # evaluate and the top level
    "evaluate missing": (["evaluate", "/does/not/exist"], "argument RUN: /does/not/exist: folder not found"),
    "evaluate not a run": (["evaluate", "W/user"], "checkpoint.pt: file not found"),
    "evaluate a checkpoint that runs code": (
        ["evaluate", "W/evil_run"],
        "refused, it holds more than tensors and plain data",
    ),
    "predict a checkpoint that runs code": (
        ["predict", "--run", "W/evil_run", "--all", "--out", "W/full"],
        "refused, it holds more than tensors and plain data",
    ),
    "evaluate a truncated checkpoint": (["evaluate", "W/truncated_run"], "unreadable checkpoint"),
    "predict a truncated checkpoint": (
        ["predict", "--run", "W/truncated_run", "--all", "--out", "W/full"],
        "unreadable checkpoint",
    ),
    "evaluate a checkpoint without weights": (["evaluate", "W/weightless_run"], "has no weights (state_dict)"),
    "evaluate a run whose dataset moved": (
        ["evaluate", "W/moved_run"],
        "gone: the run's dataset folder is not there (moved?); give its new place as --data",
    ),
    "evaluate with another dataset": (["evaluate", "W/run", "--data", "W/user"], "graph folder not found"),
    "evaluate with a missing dataset": (
        ["evaluate", "W/run", "--data", "/does/not/exist"],
        "argument --data: /does/not/exist: folder not found",
    ),
    "huge bootstrap": (
        ["train", "--data", "W/data", "--model", "mlp", "--bootstrap", "100000000", "--out", "W/x"],
        "argument --bootstrap: must be at most 100,000",
    ),
    "huge hidden": (
        ["train", "--data", "W/data", "--model", "mlp", "--model-kwargs", '{"hidden": 1e9}', "--out", "W/x"],
        "argument --model-kwargs: hidden: must be at most 16,384",
    ),
    "huge seed": (
        ["train", "--data", "W/data", "--seed", "99999999999999999999", "--out", "W/x"],
        "argument --seed: must be at most 4,294,967,295",
    ),
    "huge synth scale": (["data", "synth", "--scale", "1e6", "--out", "W/x"], "argument --scale: must be at most 20"),
    "huge structure bits": (
        ["train", "--data", "W/data", "--structure-bits", "100000000", "--out", "W/x"],
        "argument --structure-bits: must be at most 65,536",
    ),
    "huge seed count": (
        ["experiment", "paper", "--data", "W/data", "--seeds", "1000000000", "--out", "W/x"],
        "argument --seeds: must be at most 10,000",
    ),
    "knn_structure without its view": (
        ["train", "--data", "W/data", "--model", "knn_structure", "--views", '{"source": ["profile"]}', "--out", "W/x"],
        "reads the source structure view, which --views leaves out",
    ),
    "predict --all with --report": (
        ["predict", "--run", "W/run", "--all", "--report", "W/page", "--out", "W/full"],
        "--report is not for --all",
    ),
    "no command": ([], "the following arguments are required: command"),
    "unknown command": (["fly"], "argument command: invalid choice: 'fly'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(world, capsys, case):
    argv, message = CASES[case]
    argv = [arg.replace("W", str(world), 1) if arg.startswith("W") else arg for arg in argv]
    message = message.replace("W/", f"{world}/")
    before = snapshot(world)
    code = main(["-q", *argv])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err.startswith("motive: error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err and "Traceback" not in captured.err
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("hidden", "command", "extra"),
    [
        ("pycytominer", "profiles", "profiles"),
        ("copairs", "profiles", "profiles"),
        ("mlflow", "mlflow", "trackers"),
        ("tensorboard", "tensorboard", "trackers"),
        ("psycopg", "postgres", "postgres"),
    ],
)
def test_a_missing_optional_dependency_is_one_line_naming_its_extra(
    tmp_path, capsys, monkeypatch, hidden, command, extra
):
    from motive.data import layout, synth

    for name in [m for m in sys.modules if m == hidden or m.startswith(hidden + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, hidden, None)  # `import hidden` now raises ImportError
    if command == "profiles":
        plate = tmp_path / "plate.csv"
        plate.write_text("Metadata_InChIKey14,Metadata_pert_type,X_1\nA,trt,1.0\nB,negcon,0.5\n")
        argv = ["profiles", str(plate), "--out", str(tmp_path / "out.parquet")]
    else:
        data = tmp_path / "data"
        layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.03, seed=1)), data)
        if command == "postgres":
            argv = ["tune", "--data", str(data), "--model", "mlp", "--trials", "1", "--epochs", "1"]
            argv += ["--storage", "postgresql://nobody@127.0.0.1:9/none", "--out", str(tmp_path / "out")]
        else:
            argv = ["train", "--data", str(data), "--model", "cosine", "--tracker", command]
            argv += ["--tracker-uri", f"sqlite:///{tmp_path}/m.db" if command == "mlflow" else str(tmp_path / "tb")]
            argv += ["--out", str(tmp_path / "out")]
    assert main(["-q", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f'pip install "motive[{extra}]"' in err, err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.parquet").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs (root only; skipped elsewhere), unmounted after the test."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()[:80]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_or_a_read_only_cache_is_one_line_and_leaves_nothing(world, small_disk, capsys, monkeypatch):
    plate = world / "plate.csv"
    wells = pd.DataFrame({"Metadata_JCP2022": ["A", "A", "B", "B", "C", "C", "C", "C"]})
    wells["Metadata_pert_type"] = ["trt"] * 4 + ["negcon"] * 4
    for i in range(40):
        wells[f"F_{i}"] = [float((i * 7 + j * 3) % 11) for j in range(8)]
    wells.to_csv(plate, index=False)
    with open(small_disk / "fill", "wb", buffering=0) as handle:  # the whole disk
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    commands = {
        "synth": ["data", "synth", "--scale", "0.05", "--out", str(small_disk / "syn")],
        "train": ["train", "--data", str(world / "data"), "--model", "mlp", "--epochs", "1", "--hits-k", "5"],
        "report": ["report", str(world / "exp"), "--out", str(small_disk / "report")],
        "profiles": ["profiles", str(plate), "--out", str(small_disk / "p.parquet")],
    }
    commands["train"] += ["--model-kwargs", '{"hidden": 256}', "--out", str(small_disk / "run")]
    for name, argv in commands.items():
        assert main(["-q", *argv]) == 2, name
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "no space left on the device" in err, (name, err)
        assert sorted(p.name for p in small_disk.iterdir()) == ["fill"], name
    (small_disk / "fill").unlink()
    subprocess_ro = __import__("subprocess").run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    assert subprocess_ro.returncode == 0
    monkeypatch.setenv("MOTIVE_CACHE", str(small_disk / "cache"))
    mirror = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"
    assert main(["-q", "data", "fetch", "l1000", "--mirror", str(mirror if mirror.is_dir() else world)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "read-only file system" in err, err
