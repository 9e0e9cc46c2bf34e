"""What a run works on, made once before training: the dataset's graph (and its content hash), its
audited split and the stage graphs, their tensors already on the run's device. Shared by training,
tuning, evaluation and prediction; nothing here trains or scores.

A process keeps the last graphs, splits and stage graphs it made (``motive.training.memo``), keyed by the
sha256 of the files they come from, so the runs of a grid that share a (graph, split) read and
build it once per worker; models only read them (a stage's ``cache`` holds derived data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from motive import splits
from motive.data import layout
from motive.data.graph import Graph
from motive.data.views import node_views, view_files
from motive.errors import MotiveError
from motive.models import StageGraph
from motive.names import STAGES, negatives_key
from motive.splits.audit import audited_split_from_tables, load_audited_split, make_audited_split
from motive.splits.files import default_dir
from motive.training.config import TrainConfig
from motive.training.memo import Memo, files_digest, folder_files

GRAPHS, SPLITS, STAGE_GRAPHS = Memo(2), Memo(4), Memo(1)  # a grid runs graph by graph, split by split


@dataclass
class Prepared:
    """The graph, its hash, the split and the stage graphs (those asked for) of one run."""

    graph: Graph
    graph_hash: str
    split: splits.Split
    stages: dict[str, StageGraph]

    @property
    def device(self) -> torch.device:
        return next(iter(self.stages.values())).device


def resolve_device(name: str) -> torch.device:
    """``auto`` is cuda when a GPU is visible, else cpu; asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MotiveError("device: cuda was asked for but no CUDA GPU is visible here; use `device` cpu or auto")
    return torch.device(name)


def shared_graph(folder: str | Path) -> tuple[Graph, str]:
    """The graph of a graph folder and its content hash, read once per process while the bytes of
    its files stay the same."""
    folder = Path(folder)
    if not folder.is_dir():
        layout.read_graph(folder)  # raises the layout's one line: folder not found

    def read() -> tuple[Graph, str]:
        graph = layout.read_graph(folder)
        return graph, graph.content_hash()

    return GRAPHS.get(files_digest(layout.graph_files(folder), folder), read)


def load_split(graph: Graph, config: TrainConfig, graph_hash: str | None = None) -> splits.Split:
    """The saved split of (graph, split, split_seed), created and audited if absent; or the
    audited split of ``split_dir``'s official tables. A split read before in this process, from
    the same bytes, is not read again."""
    return _split_and_key(graph, config, graph_hash or graph.content_hash())[0]


def _split_and_key(graph: Graph, config: TrainConfig, graph_hash: str) -> tuple[splits.Split, tuple]:
    from motive.data.datasets.registry import default_cache_dir

    cache = default_cache_dir() / "splits"
    if config.split_dir is not None:
        folder = Path(config.split_dir)
        key = (graph_hash, files_digest(folder_files(folder), folder), config.split_seed)
        if (folder / "split.json").is_file():  # a split motive saved: its own stored negatives, audited again
            return SPLITS.get(key, lambda: load_audited_split(folder, graph, cache)), key
        return SPLITS.get(key, lambda: audited_split_from_tables(graph, folder, config.split_seed, cache)), key
    split_config = splits.SplitConfig(config.split, config.split_seed, final=config.final)
    folder = default_dir(config.data, config.graph, split_config, config.gene_type)
    made = None
    if not (folder / "split.json").exists():
        try:
            made = make_audited_split(graph, split_config, folder)[0]
        except MotiveError:
            if not (folder / "split.json").exists():  # else another process (a tune or Dask worker) made it meanwhile
                raise
    key = (graph_hash, files_digest(folder_files(folder), folder))
    # stored: audited again before use
    return SPLITS.get(key, lambda: made if made is not None else load_audited_split(folder, graph, cache)), key


def validation_view(split: splits.Split) -> splits.Split:
    """The split as a hyper-parameter search may see it: test supervision edges withheld (they
    pass no messages before the test stage either) and no test negatives, so nothing that
    selects settings can read a test pair."""
    st = np.where(split.subsets["st"] == "test", "withheld", split.subsets["st"])
    valid = {key: frame for key, frame in split.negatives.items() if key.split("_")[0] == "valid"}
    return replace(split, subsets=split.subsets | {"st": st}, negatives=valid)


def view_settings(config: TrainConfig) -> dict:
    """What ``views.node_views`` needs of a run besides its views."""
    return {
        "graph_type": config.graph,
        "gene_type": config.gene_type,
        "radius": config.structure_radius,
        "bits": config.structure_bits,
    }


def link_features(config: TrainConfig, graph: Graph, views: dict) -> tuple | None:
    """(view, k, matrix, mask) of the run's similarity links, or None without them."""
    if config.link_view == "none":
        return None
    if config.link_view == "profile":
        return "profile", config.link_k, graph.sources.x, np.ones(len(graph.sources), bool)
    chosen = {"source": [config.link_view], "target": ["profile"]}
    found = views["source"].get(config.link_view)
    found = found or node_views(config.data, graph, chosen, **view_settings(config))["source"][config.link_view]
    return (config.link_view, config.link_k, *found)


def prepare(
    config: TrainConfig, *, expected_hash: str | None = None, stage_names: tuple[str, ...] = STAGES
) -> Prepared:
    """The graph (and its hash), its split and the stage graphs a run works on (all three, or
    ``stage_names``), the stages' tensors already on the run's device (moved once). Without the
    test stage the split is reduced to its ``validation_view`` before anything uses it."""
    if config.views is None:  # the model's own views (a config made outside train, tune or a grid)
        from motive.models import with_views

        config = with_views(config)
    device = resolve_device(config.device)
    graph, graph_hash = shared_graph(layout.graph_dir(config.data, config.graph, config.gene_type))
    if expected_hash is not None and graph_hash != expected_hash:
        raise MotiveError(f"{config.data}: graph changed since the run (hash {expected_hash[:12]}); retrain")
    split, split_key = _split_and_key(graph, config, graph_hash)
    if "test" not in stage_names:
        split = validation_view(split)
    evaluated = ("valid",) if split.config.final else ("valid", "test")  # a final model has no test
    for stage in [name for name in evaluated if name in split.negatives]:
        stored = split.negatives[negatives_key(stage, config.eval_negatives)]
        if len(stored) < config.hits_k:
            raise MotiveError(
                f"hits@{config.hits_k} needs at least {config.hits_k} negatives, the {stage} set has "
                f"{len(stored)}; pass a smaller `hits_k` (the paper's 500 is ~1% of MOTIVE's test "
                "pairs)"
            )

    def build() -> dict[str, StageGraph]:
        views = node_views(config.data, graph, config.views, **view_settings(config))
        links = link_features(config, graph, views)
        return {
            stage: StageGraph.build(graph, split, stage, views, links, config.side_edges).to(device)
            for stage in stage_names
        }

    # views and links read other files: kept while those files keep their bytes
    read = {"source": [*config.views["source"], config.link_view], "target": config.views["target"]}
    files = view_files(config.data, read, config.graph)
    if not all(path.is_file() for path in files):
        return Prepared(graph, graph_hash, split, build())  # the view's own error
    key = (
        split_key,
        files_digest(files, Path(config.data)) if files else "",
        *view_settings(config).values(),
        stage_names,
        str(device),
        json.dumps(config.views, sort_keys=True),
        config.link_view,
        config.link_k,
        config.side_edges,
    )
    return Prepared(graph, graph_hash, split, STAGE_GRAPHS.get(key, build))
