"""motive: drug-target interaction prediction as link prediction on a compound-gene graph.

One package per stage, in pipeline order: ``data`` (raw sources, the graph and its official
layout) -> ``splits`` (splits, negatives, the audit) -> ``models`` -> ``training`` ->
``evaluation`` -> ``experiments`` (grids, tuning, Dask, trackers) -> ``report`` -> ``predict``;
``cli`` parses commands into these. ``backend`` holds the optional accelerations.

The public API is four functions, the CLI being a thin layer over exactly these::

    import motive
    from motive.experiments import load_config

    motive.train(data="runs/l1000", split="cold_source", model="gin_cp", hits_k=25, out="runs/gin")
    motive.run_experiment(**load_config("paper"), data="runs/l1000", out="runs/paper")
    motive.report("runs/paper", out="runs/paper-report")
    motive.predict("runs/gin", compounds="new.parquet", top_k=20)

``motive.report`` and ``motive.predict`` stay these functions after their packages are imported
(``import motive.predict.full`` reaches the package through ``sys.modules``). Torch is imported
on first use, so ``import motive`` and the data commands stay light.
"""

import inspect
import sys
import types
from dataclasses import MISSING, fields
from pathlib import Path

from motive._version import __version__ as __version__
from motive.data.graph import Graph, NodeTable
from motive.errors import MotiveError
from motive.evaluation.scoring import Evaluator
from motive.experiments import run_experiment
from motive.names import GRAPH_TYPES
from motive.predict import predict
from motive.report import report
from motive.training.config import TrainConfig


def train(*, out: str | Path, overwrite: bool = False, **settings) -> dict:
    """Train and evaluate one model on one split; write the run folder ``out`` (an earlier run
    there is replaced only with ``overwrite``); return its metrics summary. The settings are
    ``motive.training.config.TrainConfig``'s fields (``help(motive.training.config.TrainConfig)``)."""
    from motive.training.loop import run

    return run(TrainConfig(**settings), out, overwrite=overwrite)


def _train_signature() -> inspect.Signature:
    """``train``'s signature as ``help()`` shows it: out, overwrite and every TrainConfig field."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("out", keyword, annotation=str | Path)]
    parameters.append(inspect.Parameter("overwrite", keyword, default=False, annotation=bool))
    for spec in fields(TrainConfig):
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        default = inspect.Parameter.empty if default is MISSING else default
        parameters.append(inspect.Parameter(spec.name, keyword, default=default, annotation=spec.type))
    return inspect.Signature(parameters, return_annotation=dict)


train.__signature__ = _train_signature()
_API = ("report", "predict")


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return  # importing the package motive.predict must not replace the function motive.predict
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "GRAPH_TYPES",
    "Evaluator",
    "Graph",
    "MotiveError",
    "NodeTable",
    "predict",
    "report",
    "run_experiment",
    "train",
]
