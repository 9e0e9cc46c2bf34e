"""What ``motive.train`` accepts beside names and folders: a ``Graph`` as ``data``, a ``Split`` as
``split``, a ``LinkModel`` class or instance as ``model``. A graph or split given as an object is written once
into motive's cache (keyed by its content hash), since a run records the folders it read."""

from __future__ import annotations

from pathlib import Path

from motive.data.graph import Graph
from motive.errors import MotiveError


def resolved(settings: dict) -> dict:
    """``settings`` with objects replaced by what a ``TrainConfig`` holds (names and folders)."""
    settings = dict(settings)
    model = settings.get("model")
    if isinstance(model, type):
        settings["model"] = registered(model)
    elif model is not None and not isinstance(model, str):
        settings["model"] = registered_instance(model)
    graph = settings.get("data")
    if isinstance(graph, Graph):
        settings["data"], settings["graph"] = str(cached_dataset(graph)), graph.graph_type
    from motive.splits import Split

    split = settings.get("split")
    if isinstance(split, Split):
        if not isinstance(graph, Graph):
            raise MotiveError("a Split object needs its Graph as `data` (a split is made for one graph)")
        settings["split"], settings["split_dir"] = split.config.split, str(cached_split(graph, split))
    return settings


def registered(model: type) -> str:
    """The registered name of a model class, registering it under its lower-cased name if new."""
    from motive.models import REGISTRY, register_model

    name = next((name for name, entry in REGISTRY.items() if entry.factory is model), None)
    if name is None:
        name = model.__name__.lower()
        register_model(name, model)
    return name


def registered_instance(model) -> str:
    """A model instance registered as ``CLASSNAME_instance``: training starts from its current
    weights (no seeded initialisation), and a run of it is read back only in this process (in
    another, the name is unknown and the run is refused with it, as a plugin's would be)."""
    import torch

    from motive.models import register_model

    if not isinstance(model, torch.nn.Module):
        raise MotiveError(f"model: expected a name, a LinkModel class or instance, got {type(model).__name__}")
    name = f"{type(model).__name__.lower()}_instance"
    register_model(name, _instance_factory(model))
    return name


def _instance_factory(model):
    def build(stage, **model_kwargs):
        if model_kwargs:
            raise MotiveError(f"model_kwargs {sorted(model_kwargs)} are for a class; an instance is built already")
        return model

    build.__qualname__ = "instance"  # one name re-registered by the next instance, never a clash
    build.transductive = getattr(model, "transductive", False)  # what the registry reads of a class
    build.required_views = getattr(model, "required_views", {})
    return build


def cached_dataset(graph: Graph) -> Path:
    """A dataset folder holding ``graph`` alone, in motive's cache (written once per content)."""
    from motive.data import layout
    from motive.data.datasets.registry import default_cache_dir

    folder = default_cache_dir() / "graphs" / graph.content_hash()[:16]
    if not (layout.graph_dir(folder, graph.graph_type) / "source.parquet").is_file():
        layout.write_dataset({graph.graph_type: graph}, folder)
    return folder


def cached_split(graph: Graph, split) -> Path:
    """``split`` saved (official tables and motive's extras) in motive's cache, audited first."""
    import hashlib

    from motive.data.datasets.registry import default_cache_dir
    from motive.splits.audit import audit
    from motive.splits.files import save_split

    digest = hashlib.sha256(repr(split.counts()).encode() + graph.content_hash().encode())
    for labels in split.subsets.values():
        digest.update(labels.astype(str).tobytes())
    folder = default_cache_dir() / "split-objects" / digest.hexdigest()[:16]
    if not (folder / "split.json").is_file():
        report = audit(graph, split)
        if not report.passed:
            raise MotiveError(f"the split given fails its audit: {report.first_failure()}")
        save_split(split, graph, folder, report.to_markdown())
    return folder
