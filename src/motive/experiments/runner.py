"""``run_experiment``: plan, execute and tabulate a grid, one experiment at a time per folder."""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

from motive import checks
from motive.data import layout
from motive.errors import MotiveError
from motive.experiments.config import (
    PRESETS_DIR,
    TYPES,
    check_types,
    checked_names,
    checked_seeds,
    model_settings,
    presets,
)
from motive.experiments.execution import execute_all
from motive.experiments.grid import Grid, RunSpec, graph_hash, plan, tuned_settings
from motive.experiments.results import RESULTS_EVERY, row, write_results
from motive.experiments.trackers import make_tracker
from motive.locks import held
from motive.names import COLD_SIDES, GRAPH_TYPES
from motive.outputs import own_file, reopen_dir
from motive.training.config import MODEL_SETTINGS

log = logging.getLogger(__name__)


def run_experiment(
    *,
    data: str | Path | None = None,
    out: str | Path | None = None,
    models: list[str] | dict[str, dict] = ("gin_cp", "mlp"),
    splits: list[str] = ("random", "cold_source", "cold_target"),
    graphs: list[str] = ("st_expanded",),
    # a count (model seeds 0..n-1) or the seeds themselves
    seeds: int | list[int] = 5,
    # one split per split type for every seed (paper); "vary": split seed = model seed
    split_seed: int | str = 0,
    # auto: the dataset's published split folders when present; always; never
    official_splits: str = "auto",
    # TrainConfig settings of every run (epochs, hits_k, lr, ...); per-model ones go in models
    settings: dict | None = None,
    plugins: list[str] = (),  # Python files registering custom models
    # "best": per graph x split x model, the best trial of its `motive tune` study
    params: str = "default",
    # with params: best, the studies' storage URL or a `motive tune` output folder
    study_storage: str | None = None,
    workers: int = 1,  # runs at once on this machine (a local Dask cluster of processes)
    # a running Dask cluster: tcp://HOST:PORT or a scheduler file; needs a shared filesystem
    cluster: str | None = None,
    description: str = "",  # free text kept in experiment.json
    progress: bool = True,
) -> pd.DataFrame:
    """Run (or resume) the grid graph x split x model x seed; return and write RESULTS/results.parquet."""
    arguments = dict(locals())
    grid = _grid(arguments)
    specs = plan(grid)
    out = reopen_dir(grid.out, "experiment", ["experiment.json", "results.parquet"])
    if (out / "runs").is_symlink():
        raise MotiveError(f"{out / 'runs'}: is a symlink; motive never follows links in its outputs: use another `out`")
    gene_type = grid.settings.get("gene_type", "orf")
    dataset = {graph: graph_hash(layout.graph_dir(grid.data, graph, gene_type), graph) for graph in grid.graphs}
    _same_dataset(out, dataset)
    recorded = {
        name: value for name, value in arguments.items() if name not in ("out", "workers", "cluster", "progress")
    }
    recorded |= {"data": str(grid.data), "models": grid.models, "splits": grid.splits, "graphs": grid.graphs}
    recorded |= {"seeds": seeds if isinstance(seeds, int) else list(seeds), "settings": grid.settings}
    recorded["plugins"] = grid.plugins
    recorded["graph_hashes"] = dataset
    with exclusive(out):
        for tracker, uri in {(s.config["tracker"], s.config["tracker_uri"]) for s in specs if not s.refusal}:
            make_tracker(tracker, uri).prepare(out.name)  # once, before several workers log to it
        return _run_grid(out, recorded, specs, workers, cluster, progress)


def _same_dataset(out: Path, hashes: dict[str, str]) -> None:
    """Refuse a results folder that holds an experiment on other data: its runs and table would
    mix two datasets."""
    try:
        before = json.loads((out / "experiment.json").read_text()).get("graph_hashes", {})
    except (OSError, ValueError, AttributeError):
        return  # a new folder, or one written before hashes were recorded
    changed = [graph for graph, digest in hashes.items() if before.get(graph, digest) != digest]
    if changed:
        raise MotiveError(
            f"{out}: holds an experiment on another dataset (the {changed[0]} graph differs); use another `out`, "
            "or the same data"
        )


def _grid(arguments: dict) -> Grid:
    """run_experiment's arguments checked (one line for the first bad one) and resolved."""
    check_types({key: arguments[key] for key in TYPES})
    data, out = arguments["data"], arguments["out"]
    if data is None:
        raise MotiveError("no dataset: give `data` (the dataset folder) on the command line or in the config")
    if out is None:
        raise MotiveError("no results folder: give `out` on the command line or in the config")
    if not Path(data).is_dir():
        raise MotiveError(f"{data}: dataset folder not found")
    if arguments["official_splits"] not in ("auto", "always", "never"):
        raise MotiveError(f"official_splits: expected auto, always or never, got {arguments['official_splits']!r}")
    split_seed = arguments["split_seed"]
    if split_seed != "vary" and (isinstance(split_seed, bool) or not isinstance(split_seed, int) or split_seed < 0):
        raise MotiveError(f"split_seed: expected an integer >= 0 or 'vary', got {split_seed!r}")
    checks.named("workers", checks.positive_int, arguments["workers"])
    settings = dict(arguments["settings"] or {})
    for key in settings:
        if key not in MODEL_SETTINGS:
            raise MotiveError(f"settings: unknown setting {key!r}; expected one of {', '.join(MODEL_SETTINGS)}")
    return Grid(
        data=Path(data).resolve(),
        out=Path(out).resolve(),  # workers on other machines must find the same folder
        models=model_settings(arguments["models"]),
        splits=checked_names(arguments["splits"], "splits", list(COLD_SIDES)),
        graphs=checked_names(arguments["graphs"], "graphs", list(GRAPH_TYPES)),
        seeds=checked_seeds(arguments["seeds"]),
        split_seed=split_seed,
        official_splits=arguments["official_splits"],
        settings=settings,
        plugins=[str(Path(p).resolve()) for p in arguments["plugins"]],
        tuned=_tuned(arguments["params"], arguments["study_storage"]),
    )


def _tuned(params: str, study_storage: str | None):
    if params not in ("default", "best"):
        raise MotiveError(f"params: expected default or best, got {params!r}")
    if params == "default":
        return None
    if not study_storage:
        raise MotiveError("params: best needs study_storage (a storage URL, or the folder `motive tune --out` wrote)")
    return tuned_settings(study_storage)


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold the results folder for one experiment process: a second one on the same folder is
    refused (it would train the same runs and call the other's unfinished runs failed). The lock
    is the kernel's (``flock`` on the folder itself), so it leaves no file and dies with its process."""
    busy = (
        f"{folder}: another `motive experiment` is running on this results folder; wait for it to finish, or use "
        "another `out`"
    )
    with held(folder, os.O_RDONLY, busy):
        yield


def _run_grid(
    out: Path, arguments: dict, specs: list[RunSpec], workers: int, cluster: str | None, progress: bool
) -> pd.DataFrame:
    with own_file(out / "experiment.json") as tmp:
        tmp.write_text(json.dumps(arguments, indent=2, default=str) + "\n")
    from tqdm.auto import tqdm

    rows = [row(spec, {"status": "pending"}, out) for spec in specs]
    write_results(rows, out)
    train_log = logging.getLogger("motive.training.loop")
    level = train_log.level
    if progress:
        train_log.setLevel(logging.WARNING)  # the bar says where we are; epoch lines would bury it
    failures, written, unwritten = 0, time.monotonic(), False
    try:
        with tqdm(total=len(specs), desc="experiment", unit="run", disable=not progress, dynamic_ncols=True) as bar:
            for index, outcome in execute_all(specs, workers, cluster):
                spec = specs[index]
                bar.set_postfix_str(
                    Path(spec.folder).name.rsplit("-", 1)[0] + (f", {failures} failed" if failures else ""),
                    refresh=False,
                )
                rows[index] = row(spec, outcome, out)
                if outcome["status"] == "failed":
                    failures += 1
                    log.warning("run failed: %s: %s", Path(spec.folder).name, outcome["error"])
                    failed_dir = out / "failed"
                    failed_dir.mkdir(exist_ok=True)
                    with own_file(failed_dir / f"{Path(spec.folder).name}.txt") as tmp:
                        tmp.write_text(outcome["traceback"])
                unwritten = True
                if time.monotonic() - written >= RESULTS_EVERY:  # fast runs: not a table per run
                    write_results(rows, out)
                    written, unwritten = time.monotonic(), False
                bar.update()
    finally:
        train_log.setLevel(level)
        if unwritten:  # the table is current when the grid ends, fails or is stopped
            write_results(rows, out)
    return pd.DataFrame(rows)


def load_config(name_or_path: str | Path) -> dict:
    """The keyword arguments of a preset (by name) or of a YAML file; unknown keys are an error."""
    path = Path(name_or_path)
    if not path.exists() and str(name_or_path) in presets():
        path = PRESETS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise MotiveError(f"{name_or_path}: no such config file or preset; presets: {', '.join(presets())}")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise MotiveError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise MotiveError(
            f"{path}: expected a mapping of run_experiment arguments at the top level, got {type(config).__name__}"
        )
    check_keys(config, str(path))
    check_types(config, str(path))
    for key in ("data", "out", "study_storage"):  # a relative path in a file is relative to that file
        value = config.get(key)
        if isinstance(value, str) and value and "://" not in value and not Path(value).is_absolute():
            config[key] = str((path.parent / value).resolve())
    config["plugins"] = [str((path.parent / p).resolve()) for p in config.get("plugins") or ()]
    return config


def check_keys(config: dict, where: str) -> None:
    allowed = [name for name in inspect.signature(run_experiment).parameters if name != "progress"]
    for key in config:
        if key not in allowed:
            raise MotiveError(f"{where}: unknown key {key!r}; expected one of {', '.join(allowed)}")
