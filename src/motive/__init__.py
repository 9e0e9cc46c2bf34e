"""motive: drug-target interaction prediction as link prediction on a compound-gene graph.

The pipeline, one module per stage: ``sources`` (raw public tables) -> ``build`` (the graph
rules of MOTIVE) -> ``graph`` / ``layout`` (the data model and the official file layout) ->
splits, negatives, models, training, evaluation -> experiments, report, predict.

The public API is four functions, the CLI being a thin layer over exactly these::

    import motive
    from motive.experiments import load_config

    motive.train(data="runs/l1000", split="cold_source", model="gin_cp", hits_k=25, out="runs/gin")
    motive.run_experiment(**load_config("paper"), data="runs/l1000", out="runs/paper")
    motive.report("runs/paper", out="runs/paper-report")
    motive.predict("runs/gin", compounds="new.parquet", top_k=20)

``motive.train``, ``motive.report`` and ``motive.predict`` stay these functions after their
modules are imported (``from motive.train import TrainConfig`` reaches a module). They import
torch on first call, so ``import motive`` and the data commands stay light.
"""

import sys
import types
from pathlib import Path

from motive._version import __version__ as __version__
from motive.errors import MotiveError
from motive.graph import GRAPH_TYPES, Graph, NodeTable


def train(out: str | Path, overwrite: bool = False, **settings) -> dict:
    """Train and evaluate one model on one split (``settings`` are ``motive.train.TrainConfig``'s
    fields); write the run folder ``out``; return its metrics summary."""
    from motive.train import TrainConfig, run

    return run(TrainConfig(**settings), out, overwrite)


def run_experiment(**arguments):
    """Run (or resume) a grid of runs; see ``motive.experiments.run_experiment``."""
    from motive.experiments import run_experiment as run_grid

    return run_grid(**arguments)


def report(results: str | Path, out: str | Path, overwrite: bool = False) -> list[str]:
    """Tables, figures and index.html of an experiment's results; see ``motive.report.report``."""
    from motive.report import report as write_report

    return write_report(results, out, overwrite)


def predict(run: str | Path, **arguments):
    """Rank candidates for new compound or gene profiles; see ``motive.predict.predict``."""
    from motive.predict import predict as rank

    return rank(run, **arguments)


_API = ("train", "report", "predict")


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return  # importing the submodule motive.train must not replace the function motive.train
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = ["GRAPH_TYPES", "Graph", "MotiveError", "NodeTable", "predict", "report", "run_experiment", "train"]
