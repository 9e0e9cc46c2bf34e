"""PyG models under motive's protocol: a stage as ``torch_geometric.data.HeteroData``, and a
``torch.nn.Module`` written for PyG (``to_hetero(GraphSAGE(...))``, ``HeteroConv``) registered as a
motive model, so it trains, is evaluated and predicts under the same splits, negatives and metrics.

    @motive.pyg.register_pyg_model("pyg_sage")
    class HeteroSAGE(torch.nn.Module):
        def __init__(self, metadata, in_channels, hidden=64): ...   # metadata = HeteroData.metadata()
        def forward(self, x_dict, edge_index_dict): ...              # -> embeddings per node type

The module sees only what the stage shows: its node features and its visible message edges (per
relation, PyG's ``edge_index``); supervision pairs never enter ``edge_index_dict``. A pair is
scored by the dot product of its two embeddings unless the module defines ``decode(z_dict, sources,
targets)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from motive.models import LinkModel, StageGraph, register_model


def edge_index_dict(stage: StageGraph) -> dict[tuple[str, str, str], torch.Tensor]:
    """The stage's visible message edges per relation, as PyG ``edge_index`` (2 x E, int64)."""
    return {
        relation: torch.as_tensor(np.stack([a, b]), dtype=torch.long, device=stage.device)
        for relation, (a, b) in sorted(stage.edges.items())
    }


def to_hetero_data(stage: StageGraph, supervision: tuple | None = None):
    """A stage as ``HeteroData``: node features per type (``x``), visible message edges per
    relation (``edge_index``) and, with ``supervision = (sources, targets, labels)`` (node ids and
    0/1 labels, e.g. a stage's positives and stored negatives), ``edge_label_index`` and
    ``edge_label`` on the (source, binds, target) relation, PyG's ``RandomLinkSplit`` convention."""
    from torch_geometric.data import HeteroData

    data = HeteroData()
    for node_type, x in stage.x.items():
        data[node_type].x = x
    for relation, index in edge_index_dict(stage).items():
        data[relation].edge_index = index
    if supervision is not None:
        sources, targets, labels = supervision
        relation = ("source", "binds", "target")
        data[relation].edge_label_index = torch.as_tensor(np.stack([sources, targets]), dtype=torch.long)
        data[relation].edge_label = torch.as_tensor(labels, dtype=torch.float)
    return data


def metadata(stage: StageGraph) -> tuple[list[str], list[tuple[str, str, str]]]:
    """``HeteroData.metadata()`` of a stage: node types and relations."""
    return sorted(stage.x), sorted(stage.edges)


class PyGModel(LinkModel):
    """A PyG module as a motive model: ``module(x_dict, edge_index_dict)`` gives the embeddings."""

    def __init__(self, stage: StageGraph, module_class: type, **model_kwargs):
        super().__init__()
        in_channels = {node_type: x.shape[1] for node_type, x in stage.x.items()}
        self.module = module_class(metadata(stage), in_channels, **model_kwargs)
        with torch.no_grad():  # lazy layers (in_channels -1, as to_hetero examples use) take their shapes here
            self.module(dict(stage.x), edge_index_dict(stage))

    def encode(self, stage: StageGraph) -> dict[str, torch.Tensor]:
        return self.module(dict(stage.x), edge_index_dict(stage))

    def decode(self, z: dict[str, torch.Tensor], sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if hasattr(self.module, "decode"):
            return self.module.decode(z, sources, targets)
        return super().decode(z, sources, targets)

    def decode_matrix(self, z: dict[str, torch.Tensor], sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if hasattr(self.module, "decode"):  # the module's own decoder, over every pair of the block
            rows = sources.repeat_interleave(len(targets))
            return self.module.decode(z, rows, targets.repeat(len(sources))).view(len(sources), len(targets))
        return super().decode_matrix(z, sources, targets)


def register_pyg_model(name: str, *, space: dict | None = None) -> Callable[[type], type]:
    """Register a PyG ``torch.nn.Module`` class under ``name`` (a decorator). Its
    ``__init__(self, metadata, in_channels, **model_kwargs)`` gets the stage's node types and
    relations and each node type's feature size; ``forward(x_dict, edge_index_dict)`` returns
    embeddings per node type. ``space``: what ``motive tune`` searches in its keyword arguments."""

    def add(module_class: type) -> type:
        if not (isinstance(module_class, type) and issubclass(module_class, nn.Module)):
            raise TypeError(f"register_pyg_model({name!r}) decorates a torch.nn.Module class")

        def factory(stage: StageGraph, **model_kwargs) -> PyGModel:
            return PyGModel(stage, module_class, **model_kwargs)

        factory.builds = module_class  # its keyword arguments are the module's (checked before building)
        register_model(name, factory, space=space or getattr(module_class, "search_space", {}))
        return module_class

    return add
