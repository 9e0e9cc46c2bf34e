"""Model registry: a run names its model and passes keyword arguments.

| name | input | notes |
|---|---|---|
| sage_cp, gin_cp, gat_cp | graph + profiles | paper's GNNs (Algorithm 2) |
| sage_embs, gin_embs, gat_embs | graph only | learned node vectors; random split only |
| mlp, bilinear, cosine | profiles only | feature baselines |
| shortest_path | graph only | hop distance; random split only |
| knn | profiles + known edges | similarity to known partners; not for cold_both |
| popularity | known edges only | the candidate's number of known partners |
| gene_neighbours(_ra), compound_neighbours(_ra), network_paths | known + same-type edges | typed path counts |
| evidence_ranker | all of the above | the heuristics and lookups as pair features, combined by a learned net |

Your own model joins the registry by name and then runs everywhere a built-in does (train,
experiment, report, predict): decorate it with ``@register_model("name")``, list it under the
``motive.models`` entry-point group of your package, or pass ``--plugin path/to/file.py``
(a file that registers it). The constructor is called as ``Model(stage, **model_kwargs)`` with
the training stage's ``StageGraph``; see ``LinkModel`` for the rest of the interface.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path

from motive.errors import MotiveError
from motive.models.base import Heuristic, LinkModel, StageGraph, refuse_cold, view_dims
from motive.models.features import MLP, Bilinear, Cosine
from motive.models.gnn import GNN
from motive.models.heuristics import KNN, Popularity, ShortestPath
from motive.models.neighbours import Neighbours
from motive.models.network import KINDS as NETWORK_KINDS
from motive.models.network import NetworkPaths
from motive.models.network import refusal as network_refusal
from motive.models.ranker import EvidenceRanker
from motive.splits import COLD_SIDES

ENTRY_POINT_GROUP = "motive.models"


@dataclass(frozen=True)
class ModelEntry:
    factory: Callable[..., LinkModel | Heuristic]  # factory(train StageGraph, **model_kwargs)
    refuses: Callable[[str], str | None]  # split name -> why the model cannot run on it, or None
    origin: str  # "built-in", or where a plugin came from
    # Hyper-parameters `motive tune` searches besides lr and weight decay: model kwarg -> a list
    # (categorical) or {"low", "high", "log"} (float; int when both bounds are ints)
    space: dict = field(default_factory=dict)
    # False: its scores depend on no seed (no parameters, no random draws), so a grid computes it
    # once per split and shows that run for every seed (a class's ``seeded``, else ``trainable``)
    seeded: bool = True
    # The feature views it reads, per node type (motive.data.views), e.g. {"source": ["structure"]}:
    # a run that names no views gets these; one whose views lack them is refused
    views: dict = field(default_factory=dict)


REGISTRY: dict[str, ModelEntry] = {}


def _cold_refusal(why: str) -> Callable[[str], str | None]:
    return lambda split_name: why if COLD_SIDES[split_name] else None


def register_model(
    name: str,
    factory: Callable | None = None,
    *,
    refuses: Callable[[str], str | None] | None = None,
    space: dict | None = None,
    origin: str = "plugin",
    views: dict | None = None,
):
    """Register ``factory`` (a model class, or a function) under ``name``; usable as a decorator.

    ``refuses(split_name)`` returns why the model cannot run on a split, or None; by default a
    class with ``transductive = True`` refuses the cold splits (it has no vector for unseen nodes).
    ``space``: what ``motive tune`` searches in its keyword arguments (default: a class's
    ``search_space`` attribute, else nothing beyond lr and weight decay). ``views``: the feature
    views it needs per node type (default: a class's ``required_views``, else the profile).
    """

    def add(factory: Callable) -> Callable:
        check = refuses
        if check is None:
            check = (
                _cold_refusal("it has no representation for nodes it never saw")
                if getattr(factory, "transductive", False)
                else (lambda split_name: None)
            )
        known = REGISTRY.get(name)
        if known is not None and (
            known.origin == "built-in"
            or getattr(known.factory, "__qualname__", None) != getattr(factory, "__qualname__", None)
        ):
            raise MotiveError(f"model name {name!r} is taken ({known.origin}); register yours under another name")
        searched = space if space is not None else getattr(factory, "search_space", {})
        built = getattr(factory, "builds", factory)
        seeded = bool(getattr(built, "seeded", getattr(built, "trainable", True))) if isinstance(built, type) else True
        needed = views if views is not None else getattr(built, "required_views", {})
        REGISTRY[name] = ModelEntry(factory, check, origin, searched, seeded, dict(needed))
        return factory

    return add if factory is None else add(factory)


def _builds(cls: type, factory: Callable) -> Callable:
    """Mark ``factory`` as building ``cls``: its keyword arguments are ``cls``'s (checked first)."""
    factory.builds = cls
    return factory


def _gnn(conv: str, features: str) -> Callable:
    def factory(stage: StageGraph, **kwargs) -> GNN:
        in_dims = {t: x.shape[1] for t, x in stage.x.items()}
        extra = {"view_dims": view_dims(stage)} if features == "cp" and view_dims(stage) else {}
        return GNN(conv, features, sorted(stage.edges), in_dims, stage.num_nodes, **extra, **kwargs)

    return _builds(GNN, factory)


def _features(cls: type) -> Callable:
    def factory(stage: StageGraph, **kwargs):
        extra = {"view_dims": view_dims(stage)} if cls is MLP and view_dims(stage) else {}
        return cls({t: x.shape[1] for t, x in stage.x.items()}, **extra, **kwargs)

    return _builds(cls, factory)


HIDDEN = {"hidden": [64, 128, 256]}  # the paper's search space
for _conv in ("sage", "gin", "gat"):
    register_model(f"{_conv}_cp", _gnn(_conv, "cp"), space=HIDDEN, origin="built-in")
    register_model(
        f"{_conv}_embs",
        _gnn(_conv, "embs"),
        refuses=_cold_refusal("it learns one vector per node and has none for unseen nodes"),
        space=HIDDEN,
        origin="built-in",
    )
for _name, _cls, _space in (("mlp", MLP, HIDDEN), ("bilinear", Bilinear, {}), ("cosine", Cosine, HIDDEN)):
    register_model(_name, _features(_cls), space=_space, origin="built-in")
_heuristic = {"origin": "built-in"}  # parameter-free: nothing to tune
register_model(
    "shortest_path",
    _builds(ShortestPath, lambda stage, **kwargs: ShortestPath(**kwargs)),
    refuses=_cold_refusal("held-out nodes have no path to anything"),
    **_heuristic,
)
register_model(
    "knn",
    _builds(KNN, lambda stage, **kwargs: KNN(stage.split_name, **kwargs)),
    refuses=lambda split_name: "neither end has known partners" if split_name == "cold_both" else None,
    **_heuristic,
)
register_model(
    "neighbours",
    _builds(Neighbours, lambda stage, **kwargs: Neighbours(stage, stage.split_name, **kwargs)),
    refuses=lambda split_name: "neither end has known partners" if split_name == "cold_both" else None,
    origin="built-in",
)
register_model(
    "knn_structure",
    _builds(KNN, lambda stage, **kwargs: KNN(stage.split_name, view="structure", **kwargs)),
    refuses=lambda split_name: "genes have no structure view" if split_name in ("cold_target", "cold_both") else None,
    views={"source": ["structure"]},
    **_heuristic,
)
register_model(
    "popularity", _builds(Popularity, lambda stage, **kwargs: Popularity(stage.split_name, **kwargs)), **_heuristic
)


def _network(kind: str) -> Callable:
    return _builds(NetworkPaths, lambda stage, **kwargs: NetworkPaths(stage, kind, **kwargs))


for _kind in NETWORK_KINDS:
    register_model(_kind, _network(_kind), refuses=network_refusal(_kind), **_heuristic)
# the rankers read the structure view when the run gives it (views: {"source": [profile, structure]})
_ranker = {"origin": "built-in"}
register_model("evidence_ranker", EvidenceRanker, space={"hidden": [16, 32, 64]}, **_ranker)
# the diagnosis: the paper's GIN given the pair evidence (motive/models/ranker.py)
register_model(
    "gin_evidence",
    _builds(EvidenceRanker, lambda stage, **kwargs: EvidenceRanker(stage, **({"gnn": "gin"} | kwargs))),
    space={"hidden": [16, 32, 64], "gnn_hidden": [64, 128, 256]},
    **_ranker,
)
MODELS = sorted(REGISTRY)  # the built-in models (the shared model tests run over these)
_entry_points_loaded = False


def load_entry_points() -> None:
    """Register the models other installed packages declare under ``motive.models`` (once)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as error:  # a broken third-party package must say which one
            raise MotiveError(
                f"entry point {point.name!r} ({point.value}) of group {ENTRY_POINT_GROUP}: cannot import it: {error}"
            ) from None
        if point.name not in REGISTRY and callable(loaded):
            register_model(point.name, loaded, origin=f"entry point {point.value}")


def load_plugin(path: str | Path) -> list[str]:
    """Run a Python file that registers models (``@register_model``); return the names it added.
    Loading the same file again is a no-op."""
    path = Path(path).resolve()
    if not path.is_file():
        raise MotiveError(f"{path}: plugin file not found")
    module_name = "motive_plugin_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    if module_name in sys.modules:
        return [name for name, entry in REGISTRY.items() if entry.origin == str(path)]
    before = set(REGISTRY)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except MotiveError:
        del sys.modules[module_name]
        raise
    except Exception as error:
        del sys.modules[module_name]
        raise MotiveError(f"{path}: the plugin failed to load: {type(error).__name__}: {error}") from None
    added = sorted(set(REGISTRY) - before)
    for name in added:
        REGISTRY[name] = replace(REGISTRY[name], origin=str(path))
    if not added:
        raise MotiveError(
            f"{path}: the plugin registered no model; decorate your class with @motive.models.register_model('name')"
        )
    return added


def load_plugins(paths) -> None:
    for path in paths:
        load_plugin(path)


def model_names() -> list[str]:
    """Every registered model: built-ins, plugins loaded so far, installed entry points."""
    load_entry_points()
    return sorted(REGISTRY)


def check_model(name: str, split_name: str) -> None:
    """Refuse an unknown model, or one that cannot score the held-out nodes of ``split_name``
    (cheap: call it before any work)."""
    if name not in REGISTRY:
        load_entry_points()
    if name not in REGISTRY:
        raise MotiveError(
            f"unknown model {name!r}; expected one of {', '.join(model_names())} (or register your own: `plugins`)"
        )
    why = REGISTRY[name].refuses(split_name)
    if why:
        refuse_cold(name, split_name, why)


def with_views(config):
    """``config`` (a TrainConfig) with its views resolved: the model's declared views when it names
    none, else its own, refused in one line when they lack one the model needs."""
    from dataclasses import replace

    from motive.data.views import check_views

    check_model(config.model, "random")
    needed = REGISTRY[config.model].views
    if config.views is None:
        return replace(config, views=check_views(needed))
    for side, names in needed.items():
        missing = [name for name in names if name not in config.views.get(side, [])]
        if missing:
            raise MotiveError(
                f"model {config.model!r} reads the {side} {missing[0]} view, which `views` leaves out; add it "
                f"(e.g. '{{\"{side}\": {json.dumps(names)}}}') or leave `views` out for the model's own"
            )
    return config


def build_model(name: str, stage: StageGraph, **kwargs) -> LinkModel | Heuristic:
    """Instantiate a registered model for the graph a stage shows. Keyword arguments the model does
    not take are one line; an error raised inside the model's constructor is the model's own and
    is raised as it is (a bug in a plugin's ``__init__`` is not a bad argument)."""
    check_model(name, stage.split_name)
    factory = REGISTRY[name].factory
    try:
        signature = inspect.signature(getattr(factory, "builds", factory))
    except (TypeError, ValueError):  # no signature to read: the call itself will say
        signature = None
    if signature is not None:
        try:
            signature.bind_partial(**kwargs)
        except TypeError as error:
            raise MotiveError(f"model {name!r}: {error}; its arguments: {_arguments(signature)}") from None
    return factory(stage, **kwargs)


def _arguments(signature: inspect.Signature) -> str:
    names = [p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY or p.default is not p.empty]
    return ", ".join(names) or "none"


__all__ = [
    "MODELS",
    "Heuristic",
    "LinkModel",
    "StageGraph",
    "build_model",
    "check_model",
    "load_plugin",
    "with_views",
    "load_plugins",
    "model_names",
    "register_model",
]
