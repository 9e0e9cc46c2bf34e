"""Every bad argument of every command: exit status 2, one line on stderr, no traceback, and the
file system unchanged (a snapshot of the whole test tree before and after)."""

import pytest

from motive.cli import main
from tests.test_outputs import snapshot


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A motive dataset (with a random split), a motive run, a user's folder and a user's file."""
    root = tmp_path_factory.mktemp("world")
    assert main(["-q", "data", "synth", "--out", str(root / "data"), "--scale", "0.05", "--seed", "3"]) == 0
    assert main(["-q", "train", "--data", str(root / "data"), "--model", "cosine", "--hits-k", "5", "--out", str(root / "run")]) == 0
    (root / "user").mkdir()
    (root / "user" / "thesis.txt").write_text("years of work")
    (root / "file.txt").write_text("a user's file")
    return root


TRAIN = ["train", "--data", "W/data", "--hits-k", "5", "--out", "W/new_run"]
CASES = {
    # data synth
    "synth into a user's folder": (["data", "synth", "--out", "W/user"], "W/user: folder exists and was not made by motive"),
    "synth onto a user's file": (["data", "synth", "--out", "W/file.txt"], "exists and is not a folder"),
    "synth below a file": (["data", "synth", "--out", "W/file.txt/sub"], "W/file.txt is a file"),
    "synth onto own dataset": (["data", "synth", "--out", "W/data"], "a motive dataset already exists here; pass --overwrite"),
    "synth onto a run": (["data", "synth", "--out", "W/run", "--overwrite"], "holds a motive run, not a dataset"),
    "synth scale 0": (["data", "synth", "--out", "W/x", "--scale", "0"], "argument --scale: must be a positive number, got '0'"),
    "synth scale text": (["data", "synth", "--out", "W/x", "--scale", "big"], "argument --scale: must be a number, got 'big'"),
    "synth scale nan": (["data", "synth", "--out", "W/x", "--scale", "nan"], "argument --scale: must be a finite number"),
    "synth signal 2": (["data", "synth", "--out", "W/x", "--signal", "2"], "argument --signal: must be within [0, 1], got '2'"),
    "synth seed -1": (["data", "synth", "--out", "W/x", "--seed", "-1"], "argument --seed: must be an integer >= 0, got '-1'"),
    "synth no out": (["data", "synth"], "the following arguments are required: --out"),
    # data build / build-inputs / fetch / stats
    "build into a user's folder": (["data", "build", "l1000", "--out", "W/user", "--mirror", "W"], "not made by motive"),
    "build unknown dataset": (["data", "build", "nope", "--out", "W/x"], "unknown dataset 'nope'"),
    "build missing mirror": (["data", "build", "l1000", "--out", "W/x", "--mirror", "/does/not/exist"], "argument --mirror: /does/not/exist: folder not found"),
    "build-inputs missing": (["data", "build-inputs", "/does/not/exist", "--out", "W/x"], "argument inputs: /does/not/exist: folder not found"),
    "build-inputs degree 0": (["data", "build-inputs", "W/user", "--out", "W/x", "--max-degree", "0"], "argument --max-degree: must be a positive integer"),
    "build-inputs onto dataset": (["data", "build-inputs", "W/user", "--out", "W/data"], "pass --overwrite"),
    "build-inputs no profiles": (["data", "build-inputs", "W/user", "--out", "W/x"], "features.parquet: file not found"),
    "fetch unknown": (["data", "fetch", "nope"], "unknown dataset 'nope'"),
    "fetch generated": (["data", "fetch", "synthetic"], "generated, not fetched"),
    "stats missing": (["data", "stats", "/does/not/exist"], "argument dataset: /does/not/exist: folder not found"),
    "stats not a dataset": (["data", "stats", "W/user"], "no data/{graph_type}/orf/ folders"),
    "stats onto a user's file": (["data", "stats", "W/data", "--out", "W/file.txt", "--overwrite"], "is not a motive stats"),
    "stats onto a folder": (["data", "stats", "W/data", "--out", "W/user"], "exists and is not a plain file"),
    # split
    "split missing data": (["split", "/does/not/exist", "--graph", "st_expanded", "--split", "random"], "argument data: /does/not/exist: folder not found"),
    "split bad graph": (["split", "W/data", "--graph", "full", "--split", "random"], "argument --graph: invalid choice: 'full'"),
    "split bad split": (["split", "W/data", "--graph", "st_expanded", "--split", "cold"], "argument --split: invalid choice: 'cold'"),
    "split seed -1": (["split", "W/data", "--graph", "st_expanded", "--split", "random", "--seed", "-1"], "argument --seed: must be an integer >= 0"),
    "split into a user's folder": (["split", "W/data", "--graph", "st_expanded", "--split", "random", "--out", "W/user"], "not made by motive"),
    "split exists": (["split", "W/data", "--graph", "st_expanded", "--split", "random"], "a motive split already exists here; pass --overwrite"),
    "split export below a file": (["split", "W/data", "--graph", "st_expanded", "--split", "cold_source", "--export-official", "W/file.txt"], "W/file.txt is a file"),
    "split graph missing": (["split", "W/user", "--graph", "st_expanded", "--split", "random"], "graph folder not found"),
    "audit missing": (["split", "audit", "/does/not/exist"], "argument dir: /does/not/exist: folder not found"),
    "audit not a graph": (["split", "audit", "W/user"], "no graph folder (with source.parquet) here or above"),
    # train
    "train into a user's folder": ([*TRAIN[:-1], "W/user"], "not made by motive"),
    "train overwrite a user's folder": ([*TRAIN[:-1], "W/user", "--overwrite"], "not made by motive"),
    "train onto a user's file": ([*TRAIN[:-1], "W/file.txt"], "exists and is not a folder"),
    "train onto own run": ([*TRAIN[:-1], "W/run"], "a motive run already exists here; pass --overwrite"),
    "train onto a dataset": ([*TRAIN[:-1], "W/data", "--overwrite"], "holds a motive dataset, not a run"),
    "train bad json": ([*TRAIN, "--model-kwargs", "{bad"], "argument --model-kwargs: is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    "train json list": ([*TRAIN, "--model-kwargs", "[1]"], "argument --model-kwargs: must be a JSON object"),
    "train batch 0": ([*TRAIN, "--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    "train lr -1": ([*TRAIN, "--lr", "-1"], "argument --lr: must be a positive number, got '-1'"),
    "train hits 0": ([*TRAIN, "--hits-k", "0"], "argument --hits-k: must be a positive integer, got '0'"),
    "train epochs 0": ([*TRAIN, "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    "train epochs 1.5": ([*TRAIN, "--epochs", "1.5"], "argument --epochs: must be an integer, got '1.5'"),
    "train patience 0": ([*TRAIN, "--patience", "0"], "argument --patience: must be a positive integer"),
    "train weight decay -1": ([*TRAIN, "--weight-decay", "-1"], "argument --weight-decay: must be a number >= 0"),
    "train missing data": (["train", "--data", "/does/not/exist", "--out", "W/x"], "argument --data: /does/not/exist: folder not found"),
    "train unknown model": ([*TRAIN, "--model", "transformer"], "unknown model 'transformer'"),
    "train embs on a cold split": ([*TRAIN, "--model", "sage_embs", "--split", "cold_source"], "cannot run on a cold_source split"),
    "train unknown model kwarg": ([*TRAIN, "--model", "gin_cp", "--model-kwargs", '{"width": 3}'], "unexpected keyword argument 'width'"),
    "train hits too large": ([*TRAIN[:3], "--hits-k", "100000", "--out", "W/x"], "hits@100000 needs at least 100000 negatives"),
    "train no out": (["train", "--data", "W/data"], "the following arguments are required: --out"),
    # evaluate and the top level
    "evaluate missing": (["evaluate", "/does/not/exist"], "argument RUN: /does/not/exist: folder not found"),
    "evaluate not a run": (["evaluate", "W/user"], "checkpoint.pt: file not found"),
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
