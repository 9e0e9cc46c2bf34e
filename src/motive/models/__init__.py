"""Model registry: a run names its model and passes keyword arguments.

| name | input | notes |
|---|---|---|
| sage_cp, gin_cp, gat_cp | graph + profiles | paper's GNNs (Algorithm 2) |
| sage_embs, gin_embs, gat_embs | graph only | learned node vectors; random split only |
| mlp, bilinear, cosine | profiles only | feature baselines |
| shortest_path | graph only | hop distance; random split only |
| knn | profiles + known edges | similarity to known partners; not for cold_both |
"""

from __future__ import annotations

from motive.errors import MotiveError
from motive.models.base import Heuristic, LinkModel, StageGraph, refuse_cold
from motive.models.features import MLP, Bilinear, Cosine
from motive.models.gnn import GNN
from motive.models.heuristics import KNN, ShortestPath

GNN_MODELS = {f"{conv}_{features}": (conv, features) for conv in ("sage", "gin", "gat") for features in ("cp", "embs")}
FEATURE_MODELS = {"mlp": MLP, "bilinear": Bilinear, "cosine": Cosine}
MODELS = sorted([*GNN_MODELS, *FEATURE_MODELS, "shortest_path", "knn"])


def check_model(name: str, split_name: str) -> None:
    """Refuse an unknown model, or one that cannot score the held-out nodes of ``split_name``
    (cheap: call it before any work)."""
    if name not in MODELS:
        raise MotiveError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    if name in GNN_MODELS and GNN_MODELS[name][1] == "embs":
        refuse_cold(name, split_name, "it learns one vector per node and has none for unseen nodes")
    if name == "shortest_path":
        refuse_cold(name, split_name, "held-out nodes have no path to anything")


def build_model(name: str, stage: StageGraph, **kwargs) -> LinkModel | Heuristic:
    """Instantiate a registered model for the graph a stage shows (unknown kwargs fail loudly)."""
    check_model(name, stage.split_name)
    in_dims = {t: x.shape[1] for t, x in stage.x.items()}
    try:
        if name in GNN_MODELS:
            conv, features = GNN_MODELS[name]
            return GNN(conv, features, sorted(stage.edges), in_dims, stage.num_nodes, **kwargs)
        if name in FEATURE_MODELS:
            return FEATURE_MODELS[name](in_dims, **kwargs)
        if name == "shortest_path":
            return ShortestPath(**kwargs)
        return KNN(stage.split_name, **kwargs)
    except TypeError as error:
        raise MotiveError(f"model {name!r}: {error}") from None


__all__ = ["MODELS", "Heuristic", "LinkModel", "StageGraph", "build_model", "check_model"]
