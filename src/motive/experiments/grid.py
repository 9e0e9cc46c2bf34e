"""The plan of an experiment: one ``RunSpec`` per (graph, split, model, seed), its folder named by
the hash of its resolved config and of the graph."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from motive.data import layout
from motive.errors import MotiveError
from motive.names import OFFICIAL_NAMES
from motive.training.config import TrainConfig


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
                    hashes[graph, gene_type] = graph_hash(folder, graph)
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


def graph_hash(folder: Path, graph: str) -> str:
    if not (folder / "source.parquet").is_file():
        raise MotiveError(f"{folder}: graph folder not found; the dataset has no {graph} graph there, drop it")
    from motive.training.prepare import shared_graph

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


def tuned_settings(storage: str):
    """study name -> the best trial's settings, from a storage URL or a `motive tune` folder."""
    from motive.experiments.storage import sqlite_url
    from motive.experiments.tune import best_settings

    if "://" not in storage:
        path = Path(storage) / "study.db"
        if not path.is_file():
            raise MotiveError(
                f"study_storage: {path}: file not found; pass a storage URL or the folder `motive tune --out` wrote"
            )
        storage = sqlite_url(path)
    return lambda name: best_settings(storage, name)
