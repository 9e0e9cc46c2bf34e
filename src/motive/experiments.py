"""Experiments: a grid of runs over one dataset folder -> run folders -> one results table.

    motive experiment paper --data runs/l1000 --hits-k 25 --out runs/paper      # a preset
    motive experiment my-grid.yaml --out runs/mine [--seeds 3] [--models gin_cp,mlp]
    motive report runs/paper --out runs/paper-report

A config (a YAML file, or a preset shipped in ``motive/presets/``) is exactly the keyword
arguments of ``run_experiment``. Each run is ``train.run`` into its own folder
``RESULTS/runs/GRAPH-SPLIT-MODEL-seedN-splitM-HASH``, HASH being a short hash of the run's resolved
config and the graph's content; a folder whose marker holds the same hash is a finished run and is
reused, so an interrupted experiment resumes where it stopped and a changed setting re-runs only
the runs it changes. This module plans and executes runs; it never trains or scores by itself.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from motive import checks, layout
from motive.config import MODEL_SETTINGS, TrainConfig
from motive.errors import MotiveError
from motive.names import COLD_SIDES, GRAPH_TYPES, OFFICIAL_NAMES
from motive.outputs import held, own_file, read_marker, reopen_dir, write_marked_parquet
from motive.parallel import cluster_client, reuse_freed_memory
from motive.trackers import make_tracker

log = logging.getLogger(__name__)
PRESETS_DIR = Path(__file__).parent / "presets"
STATUSES = ("done", "reused", "failed", "n/a", "pending")
RESULTS_EVERY = 1.0  # seconds: results.parquet is rewritten after a run at most this often, and at the end


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid: everything an executor (this process, a pool, a Dask worker) needs."""

    label: str  # the model's name in the grid (a registry name, or an alias with its own settings)
    config: dict  # TrainConfig keyword arguments
    folder: str  # the run folder
    config_hash: str
    refusal: str | None  # why the model cannot run on this split (then it is not run: "n/a")
    seed_free: bool = False  # the model's numbers depend on no seed: one run per split serves every seed
    same_as: str | None = None  # the run folder whose result this seed shows (a seed-free model's first seed)


def presets() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.yaml"))


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


def _model_settings(models) -> dict[str, dict]:
    """``models`` as {label: settings}: a list of names, or a mapping label -> TrainConfig
    overrides (``model: NAME`` makes the label an alias, e.g. gin_cp_256 for hidden 256)."""
    if isinstance(models, str):
        models = [name.strip() for name in models.split(",") if name.strip()]
    if isinstance(models, list | tuple):
        models = {name: {} for name in models}
    if not isinstance(models, dict) or not models:
        raise MotiveError(f"models: expected a list of model names or a mapping name -> settings, got {models!r}")
    result = {}
    for label, settings in models.items():
        checks.named(f"models: label {label!r}", checks.safe_name, label)  # it becomes a run folder's name
        if settings is not None and not isinstance(settings, dict):
            raise MotiveError(f"models.{label}: expected a mapping of settings (or nothing), got {settings!r}")
        settings = dict(settings or {})
        for key in settings:
            if key not in MODEL_SETTINGS:
                raise MotiveError(
                    f"models.{label}: unknown setting {key!r}; expected one of {', '.join(MODEL_SETTINGS)}"
                )
        settings.setdefault("model", label)
        result[str(label)] = settings
    return result


def _names(value, what: str, allowed: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise MotiveError(f"{what}: expected a list of names (or one comma-separated string), got {value!r}")
    value = list(value)
    for name in value:
        if name not in allowed:
            raise MotiveError(f"{what}: unknown {what[:-1]} {name!r}; expected {', '.join(allowed)}")
    if not value:
        raise MotiveError(f"{what}: empty; name at least one")
    return value


def _seeds(seeds) -> list[int]:
    if isinstance(seeds, bool) or not isinstance(seeds, int | list | tuple):
        raise MotiveError(f"seeds: expected a number of seeds or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int) and seeds > 10_000:
        raise MotiveError(f"seeds: at most 10,000 seeds (one run each), got {seeds!r}")
    values = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if (
        not values
        or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= checks.SEED_MAX for s in values)
        or len(set(values)) != len(values)
    ):
        raise MotiveError(f"seeds: expected a positive count or distinct integers >= 0, got {seeds!r}")
    return values


TYPES = {  # the config values that have one type (a YAML file can hold anything)
    "data": ((str, Path), "a folder path"),
    "out": ((str, Path), "a folder path"),
    "settings": ((dict,), "a mapping of settings"),
    "plugins": ((list, tuple), "a list of Python files"),
    "description": ((str,), "text"),
    "models": ((list, tuple, dict, str), "a list of model names or a mapping name -> settings"),
    "splits": ((list, tuple, str), "a list of split names"),
    "graphs": ((list, tuple, str), "a list of graph types"),
}


def check_types(config: dict, where: str = "") -> None:
    """One line for a value of the wrong type (``plugins: null``, ``settings: [1, 2]``, ``data: 5``)."""
    prefix = f"{where}: " if where else ""
    for key, (types, kind) in TYPES.items():
        if key in config and (config[key] is not None or key == "plugins") and not isinstance(config[key], types):
            raise MotiveError(f"{prefix}{key}: expected {kind}, got {config[key]!r}")
    for plugin in config.get("plugins") or ():
        if not isinstance(plugin, str | Path):
            raise MotiveError(f"{prefix}plugins: expected a list of Python files, got {plugin!r}")


def run_hash(config: dict, graph_hash: str) -> str:
    """What a run's result depends on: its settings, its plugins' code and the graph's content
    (not where the data folder lives, nor the device)."""
    key = {name: value for name, value in config.items() if name not in ("data", "device", "tracker", "tracker_uri")}
    if key.get("plugins"):  # a plugin's code, not only its path: an edited plugin is a new run
        key["plugin_code"] = [hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in key["plugins"]]
    if key.get("split_dir"):
        key["split_dir"] = str(Path(key["split_dir"]).relative_to(Path(config["data"]).resolve()))
    text = json.dumps({"config": key, "graph": graph_hash}, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Grid:
    """An experiment's arguments, checked and resolved (``run_experiment`` makes it)."""

    data: Path
    out: Path
    models: dict[str, dict]  # label -> settings, each with its registry name under "model"
    splits: list[str]
    graphs: list[str]
    seeds: list[int]
    split_seed: int | str
    official_splits: str
    settings: dict
    plugins: list[str]
    tuned: object = None  # study name -> best settings (params: best), or None


def plan(grid: Grid) -> list[RunSpec]:
    """Every run of the grid, in order graph -> split -> model -> seed, validated before any runs."""
    from motive.models import REGISTRY, check_model, load_plugins

    load_plugins(grid.plugins)
    for model_settings in grid.models.values():
        if model_settings["model"] not in REGISTRY:
            check_model(model_settings["model"], "random")  # raises: unknown model (after looking at entry points)
    specs, hashes = [], {}
    for graph in grid.graphs:
        for split in grid.splits:
            for label, model_settings in grid.models.items():
                # a model's own gene type (an ORF and a CRISPR alias side by side), else the grid's
                gene_type = model_settings.get("gene_type", grid.settings.get("gene_type", "orf"))
                folder = layout.graph_dir(grid.data, graph, gene_type)
                if (graph, gene_type) not in hashes:
                    hashes[graph, gene_type] = _graph_hash(folder, graph)
                where = {"graph": graph, "split": split, "split_dir": _official(grid, folder, split)}
                entry = REGISTRY[model_settings["model"]]
                found = _model_specs(grid, label, model_settings, where, hashes[graph, gene_type], entry.refuses(split))
                if not entry.seeded and grid.split_seed != "vary":  # one run serves every seed
                    found = [
                        replace(spec, seed_free=True, same_as=found[0].folder if i else None)
                        for i, spec in enumerate(found)
                    ]
                specs += found
    return specs


def _graph_hash(folder: Path, graph: str) -> str:
    if not (folder / "source.parquet").is_file():
        raise MotiveError(f"{folder}: graph folder not found; the dataset has no {graph} graph there, drop it")
    from motive.prepare import shared_graph

    return shared_graph(folder)[1]  # read once: this process's runs use it too


def _official(grid: Grid, folder: Path, split: str) -> str | None:
    """The dataset's published split folder for ``split`` when the grid uses it, else None."""
    split_dir = folder / OFFICIAL_NAMES[split]
    use_official = (split_dir / "s_t_labels.parquet").is_file() and grid.official_splits != "never"
    if grid.official_splits == "always" and not use_official:
        raise MotiveError(f"{split_dir}: no official {split} split (official_splits: always); use auto or never")
    return str(split_dir) if use_official else None


def _model_specs(
    grid: Grid, label: str, model_settings: dict, where: dict, graph_hash: str, refusal: str | None
) -> list[RunSpec]:
    """The runs of one model (one per seed) on one graph and split."""
    from motive.models import with_views

    chosen = model_settings
    if grid.tuned is not None and refusal is None:
        best = grid.tuned(f"{where['graph']}-{where['split']}-{label}")
        chosen = model_settings | best | {"model_kwargs": model_settings.get("model_kwargs", {}) | best["model_kwargs"]}
    specs = []
    for seed in grid.seeds:
        run_fields = {"data": str(grid.data), "seed": seed, "plugins": grid.plugins}
        run_fields["split_seed"] = seed if grid.split_seed == "vary" else grid.split_seed
        resolved = asdict(with_views(TrainConfig(**(grid.settings | chosen | where | run_fields))))  # checked now
        digest = run_hash(resolved, graph_hash)
        name = f"{where['graph']}-{where['split']}-{label}-seed{seed}-split{resolved['split_seed']}-{digest}"
        specs.append(RunSpec(label, resolved, str(grid.out / "runs" / name), digest, refusal))
    return specs


def _tuned_settings(storage: str):
    """study name -> the best trial's settings, from a storage URL or a `motive tune` folder."""
    from motive.storage import sqlite_url
    from motive.tune import best_settings

    if "://" not in storage:
        path = Path(storage) / "study.db"
        if not path.is_file():
            raise MotiveError(
                f"study_storage: {path}: file not found; pass a storage URL or the folder `motive tune --out` wrote"
            )
        storage = sqlite_url(path)
    return lambda name: best_settings(storage, name)


def finished(spec: RunSpec) -> dict | None:
    """The metrics of a finished run of exactly this spec, or None."""
    folder = Path(spec.folder)
    marker = read_marker(folder)
    if marker is None or marker.get("kind") != "run" or marker.get("config_hash") != spec.config_hash:
        return None
    try:
        summary = json.loads((folder / "metrics.json").read_text())
        timing = json.loads((folder / "timing.json").read_text()) if (folder / "timing.json").is_file() else {}
    except (OSError, ValueError):
        return None
    return summary | {name: timing.get(name, float("nan")) for name in ("seconds", "seconds_per_epoch")}


def execute(spec: RunSpec) -> dict:
    """Run one spec unless it is finished; never raises for a failing run (the error goes into
    the row). Safe to call on any worker that sees the same filesystem."""
    from motive.train import run

    summary = finished(spec)  # again: a lost worker may have finished it before it was lost
    if summary is not None:
        return {"status": "reused", "summary": summary}
    started = time.perf_counter()
    try:
        group = Path(spec.folder).parent.parent.name  # the results folder: one tracker group per experiment
        summary = run(TrainConfig(**spec.config), spec.folder, marker={"config_hash": spec.config_hash}, group=group)
    except Exception as error:  # recorded; the experiment goes on
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        return {
            "status": "failed",
            "error": message,
            "traceback": traceback.format_exc(),
            "seconds": round(time.perf_counter() - started, 2),
        }
    return {"status": "done", "summary": summary}


def execute_on_worker(spec: RunSpec) -> dict:
    """On a Dask worker: the worker's malloc set up (``reuse_freed_memory``), then ``execute`` (the
    run sets its own torch threads, ``TrainConfig.threads``)."""
    reuse_freed_memory()
    return execute(spec)


def execute_all(specs: list[RunSpec], workers: int = 1, cluster: str | None = None):
    """Yield (index, outcome) as runs finish: reused and refused runs at once, then the rest in
    this process (workers=1), on a local Dask cluster of ``workers`` processes, or on the Dask
    cluster at ``cluster``. Dask reschedules the run of a lost worker; a run that still cannot
    finish is recorded as failed. A seed-free model runs once per split: its later seeds get the
    outcome of its first (``RunSpec.same_as``), right after it."""
    followers: dict[str, list[int]] = {}  # a run folder -> the seeds that show its result
    for index, spec in enumerate(specs):
        if spec.same_as is not None and not spec.refusal:
            followers.setdefault(spec.same_as, []).append(index)
    for index, outcome in _execute_each(specs, workers, cluster):
        yield index, outcome
        for follower in followers.get(specs[index].folder, []):
            yield follower, outcome


def _execute_each(specs: list[RunSpec], workers: int, cluster: str | None):
    """``execute_all`` without the seeds that show another run's result."""
    todo = []
    for index, spec in enumerate(specs):
        summary = None if spec.refusal or spec.same_as else finished(spec)
        if spec.refusal:
            yield index, {"status": "n/a", "error": spec.refusal}
        elif spec.same_as is not None:
            continue
        elif summary is not None:
            yield index, {"status": "reused", "summary": summary}
        else:
            todo.append(index)
    if not todo:
        return
    if cluster is None and workers == 1:
        for index in todo:
            yield index, execute(specs[index])
        return
    from distributed import LocalCluster, as_completed

    local = None
    if cluster is None:
        local = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = local.get_client()
    else:
        client = cluster_client(cluster)
    try:
        futures = {
            client.submit(
                execute_on_worker,
                specs[index],
                pure=False,
                key=f"motive-run-{Path(specs[index].folder).name}-{time.time_ns()}",
            ): index
            for index in todo
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # e.g. KilledWorker: the run took down every worker it was given
                outcome = {
                    "status": "failed",
                    "error": f"{type(error).__name__}: {error}".splitlines()[0],
                    "traceback": traceback.format_exc(),
                }
            yield index, outcome
    finally:
        client.close()
        if local is not None:
            local.close()


def row(spec: RunSpec, outcome: dict, out: Path) -> dict:
    """One line of results.parquet: the run's settings, status, and its valid/test metrics."""
    config = spec.config
    result = {
        "graph": config["graph"],
        "split": config["split"],
        "model": spec.label,
        "model_name": config["model"],
        "seed": config["seed"],
        "split_seed": config["split_seed"],
        "split_source": "official" if config["split_dir"] else "motive",
        "config_hash": spec.config_hash,
        "run": str(Path(spec.same_as or spec.folder).relative_to(out)),
        "seed_free": spec.seed_free,
        "status": outcome["status"],
        "error": outcome.get("error", ""),
        "model_kwargs": json.dumps(config["model_kwargs"], sort_keys=True),
        "lr": config["lr"],
        "weight_decay": config["weight_decay"],
        "epochs": config["epochs"],
        "hits_k": config["hits_k"],
        "loss": config["loss"],
        "eval_negatives": config["eval_negatives"],
        "gene_type": config["gene_type"],
        "views": json.dumps(config["views"], sort_keys=True),
        "link_view": config["link_view"],
    }
    summary = outcome.get("summary")
    if summary is not None:
        result |= {
            "best_epoch": summary["best_epoch"],
            "epochs_run": summary["epochs_run"],
            "seconds": summary["seconds"],
            "seconds_per_epoch": summary["seconds_per_epoch"],
        }
        for stage in ("valid", "test"):
            for name, value in summary[stage].items():
                if isinstance(value, list):  # an interval: two numeric columns
                    result[f"{stage}_{name}_low"], result[f"{stage}_{name}_high"] = value
                else:
                    result[f"{stage}_{name}"] = value
    elif "seconds" in outcome:
        result["seconds"] = outcome["seconds"]
    return result


def write_results(rows: list[dict], out: Path) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    with own_file(out / "results.parquet") as tmp:
        write_marked_parquet(table, tmp, "results")
    return table


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
    dataset = {graph: _graph_hash(layout.graph_dir(grid.data, graph, gene_type), graph) for graph in grid.graphs}
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
        models=_model_settings(arguments["models"]),
        splits=_names(arguments["splits"], "splits", list(COLD_SIDES)),
        graphs=_names(arguments["graphs"], "graphs", list(GRAPH_TYPES)),
        seeds=_seeds(arguments["seeds"]),
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
    return _tuned_settings(study_storage)


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
    train_log = logging.getLogger("motive.train")
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
