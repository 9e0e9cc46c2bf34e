"""Run folders are untrusted input: a checkpoint never runs code, broken ones are one line, and a
run folder works from any working folder or with its dataset moved."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace

import pandas as pd
import pytest
import torch

from motive.cli import main
from motive.data import layout, synth
from motive.training.config import TrainConfig
from motive.training.loop import run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    layout.write_dataset(
        synth.generate(synth.SynthConfig(scale=0.03, seed=2, source_dim=12, target_dim=10)), root / "data"
    )
    run(TrainConfig(data=root / "data", split="cold_source", model="mlp", epochs=2, hits_k=5), root / "run")
    return root


class RunsAShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def copy_run(trained, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(trained / "run", folder)
    return folder


def _argv(command: str, folder, tmp_path, trained) -> list[str]:
    if command == "evaluate":
        return ["-q", "evaluate", str(folder)]
    graph = layout.read_graph(layout.graph_dir(trained / "data", "st_expanded"))
    profiles = pd.DataFrame(
        graph.sources.x[:2],
        columns=[f"X_{i + 1}" for i in range(graph.sources.x.shape[1])],
        index=pd.Index(["NEWA", "NEWB"], name="Metadata_InChIKey"),
    )
    profiles.to_parquet(tmp_path / "new.parquet")
    return ["-q", "predict", "--run", str(folder), "--compounds", str(tmp_path / "new.parquet")] + [
        "--out",
        str(tmp_path / "ranked.parquet"),
    ]


def one_line_error(capsys, argv, expected: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motive: error: ") and "\n" not in err and expected in err, err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(trained, tmp_path, capsys, command):
    folder = copy_run(trained, tmp_path)
    marker = tmp_path / "code-ran"
    checkpoint = torch.load(folder / "checkpoint.pt", weights_only=True)
    torch.save(checkpoint | {"payload": RunsAShellCommand(marker)}, folder / "checkpoint.pt")
    one_line_error(
        capsys, _argv(command, folder, tmp_path, trained), "refused, it holds more than tensors and plain data"
    )
    assert not marker.exists() and not (tmp_path / "ranked.parquet").exists()


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("truncate", "unreadable checkpoint"),
        ("empty", "unreadable checkpoint"),
        ("no_state_dict", "has no weights (state_dict)"),
        ("no_config", "not a motive checkpoint"),
        ("unknown_setting", "unknown setting 'colour'"),
        ("bad_setting", "epochs"),
        ("wrong_shapes", "the weights do not fit the model"),
    ],
)
def test_a_broken_checkpoint_is_one_line(trained, tmp_path, capsys, damage, expected):
    folder = copy_run(trained, tmp_path)
    path = folder / "checkpoint.pt"
    checkpoint = torch.load(path, weights_only=True)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "no_state_dict":
        torch.save({k: v for k, v in checkpoint.items() if k != "state_dict"}, path)
    elif damage == "no_config":
        torch.save({"state_dict": checkpoint["state_dict"]}, path)
    elif damage == "unknown_setting":
        torch.save(checkpoint | {"config": checkpoint["config"] | {"colour": "red"}}, path)
    elif damage == "bad_setting":
        torch.save(checkpoint | {"config": checkpoint["config"] | {"epochs": 0}}, path)
    else:  # the model as built now has other shapes (a plugin whose defaults changed)
        torch.save(checkpoint | {"config": checkpoint["config"] | {"model_kwargs": {"hidden": 8}}}, path)
    one_line_error(capsys, ["-q", "evaluate", str(folder)], expected)


def test_a_run_folder_works_from_any_folder_and_with_its_dataset_moved(trained, tmp_path, capsys):
    config = json.loads((trained / "run" / "config.json").read_text())
    assert os.path.isabs(config["data"])
    expected = main(["-q", "evaluate", str(trained / "run")])
    assert expected == 0
    table = capsys.readouterr().out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = f"import sys; from motive.cli import main; sys.exit(main(['-q', 'evaluate', {str(trained / 'run')!r}]))"
    done = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout == table
    moved = tmp_path / "moved-data"
    shutil.copytree(trained / "data", moved)
    folder = copy_run(trained, tmp_path)
    checkpoint = torch.load(folder / "checkpoint.pt", weights_only=True)
    torch.save(
        checkpoint | {"config": checkpoint["config"] | {"data": str(tmp_path / "gone")}}, folder / "checkpoint.pt"
    )
    assert main(["-q", "evaluate", str(folder)]) == 2
    capsys.readouterr()
    assert main(["-q", "evaluate", str(folder), "--data", str(moved)]) == 0
    assert capsys.readouterr().out == table
    # a copy with other content is refused, not silently used
    other = tmp_path / "other-data"
    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.03, seed=5, source_dim=12, target_dim=10)), other)
    one_line_error(capsys, ["-q", "evaluate", str(folder), "--data", str(other)], "graph changed since the run")


def test_quiet_is_accepted_after_the_subcommand(trained, capsys):
    assert main(["evaluate", str(trained / "run"), "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["data", "stats", str(trained / "data"), "--quiet"]) == 0


PLUGIN = textwrap.dedent(
    """
    from torch import nn
    from motive.models import LinkModel, register_model

    @register_model("changing_{n}")
    class Changing(LinkModel):
        def __init__(self, stage, hidden: int = {hidden}):
            super().__init__()
            self.layers = nn.ModuleDict({{t: nn.Linear(x.shape[1], hidden) for t, x in stage.x.items()}})

        def encode(self, stage):
            return {{t: layer(stage.x[t]) for t, layer in self.layers.items()}}
    """
)


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_plugin_named_in_a_run_folder_is_never_imported(trained, tmp_path, capsys, command):
    folder = copy_run(trained, tmp_path)  # a built-in model's run, shared by someone
    marker = tmp_path / "plugin-ran"
    (folder / "notes.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n")
    checkpoint = torch.load(folder / "checkpoint.pt", weights_only=True)
    checkpoint["config"]["plugins"] = [str(folder / "notes.py")]  # still plain data: passes weights_only
    torch.save(checkpoint, folder / "checkpoint.pt")
    assert main(_argv(command, folder, tmp_path, trained)) == 0
    assert not marker.exists()


def test_a_plugin_models_run_needs_the_plugin_named_by_the_user(trained, tmp_path, capsys):
    plugin = tmp_path / "named.py"
    plugin.write_text(PLUGIN.format(n=7, hidden=8))
    config = TrainConfig(data=trained / "data", split="cold_source", model="changing_7", epochs=1, hits_k=5)
    run(replace(config, plugins=[str(plugin)]), tmp_path / "run")
    command = [sys.executable, "-m", "motive.cli", "-q", "evaluate", str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)  # a process that never loaded it
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"pass --plugin {plugin.resolve()} if you trust it" in done.stderr
    done = subprocess.run([*command, "--plugin", str(plugin)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_a_plugin_whose_defaults_changed_since_training_is_one_line(trained, tmp_path, capsys):
    plugin = tmp_path / "changing.py"
    plugin.write_text(PLUGIN.format(n=1, hidden=8))
    run(
        TrainConfig(
            data=trained / "data", split="cold_source", model="changing_1", epochs=1, hits_k=5, plugins=[plugin]
        ),
        tmp_path / "run",
    )
    plugin.write_text(PLUGIN.format(n=1, hidden=16))
    done = subprocess.run(
        [sys.executable, "-m", "motive.cli", "-q", "evaluate", str(tmp_path / "run"), "--plugin", str(plugin)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        done.returncode == 2 and done.stderr.count("\n") == 1 and "the weights do not fit the model" in done.stderr
    ), done.stderr
