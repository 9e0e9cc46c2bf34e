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
from pathlib import Path
from typing import TYPE_CHECKING

from motive._version import __version__ as __version__
from motive.data.graph import Graph, NodeTable
from motive.errors import MotiveError
from motive.evaluation.scoring import Evaluator
from motive.experiments import run_experiment
from motive.names import GRAPH_TYPES
from motive.predict import predict
from motive.report import report
from motive.training.config import TrainConfig, settings_help, signature_of

if TYPE_CHECKING:
    from motive.training.result import TrainResult


def train(*, out: str | Path, overwrite: bool = False, **settings) -> "TrainResult":
    """Train and evaluate one model on one split; write the run folder ``out`` (an earlier run
    there is replaced only with ``overwrite``) and return it as a ``TrainResult`` (config, model,
    metrics, history, path). ``model`` is a registered name, a ``LinkModel`` class (registered
    under its lower-cased class name if new) or an instance (trained from its current weights);
    ``data`` a dataset folder or a ``Graph``; ``split``
    a split kind or a ``Split`` of that graph (audited first). Every setting is a field of
    ``motive.training.config.TrainConfig``, listed below with its help."""
    from motive.training.inputs import resolved
    from motive.training.loop import train as train_run

    return train_run(TrainConfig(**resolved(settings)), out, overwrite=overwrite)


train.__signature__ = signature_of(
    TrainConfig,
    [
        inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, annotation=str | Path),
        inspect.Parameter("overwrite", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=bool),
    ],
    "TrainResult",
)
train.__doc__ += "\n" + settings_help(TrainConfig)
_API = ("report", "predict")


# Exported on first use (PEP 562), so ``import motive`` stays light: name -> defining module.
_LAZY = {
    "make_split": "motive.splits",
    "SplitConfig": "motive.splits",
    "audit": "motive.splits.audit",
    "load_run": "motive.training.runs",
    "score": "motive.evaluation.scoring",
    "profiles": "motive.data.profiles",
    "tune": "motive.experiments.tune",
    "Predictions": "motive.predict.results",
    "TrainResult": "motive.training.result",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'motive' has no attribute {name!r}")


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return  # importing the package motive.predict must not replace the function motive.predict
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "GRAPH_TYPES",
    "Predictions",
    "SplitConfig",
    "TrainResult",
    "audit",
    "load_run",
    "make_split",
    "profiles",
    "score",
    "tune",
    "Evaluator",
    "Graph",
    "MotiveError",
    "NodeTable",
    "predict",
    "report",
    "run_experiment",
    "train",
]
