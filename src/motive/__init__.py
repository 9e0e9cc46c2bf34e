"""motive: drug-target interaction prediction as link prediction on a compound-gene graph.

The pipeline, one module per stage: ``sources`` (raw public tables) -> ``build`` (the graph
rules of MOTIVE) -> ``graph`` / ``layout`` (the data model and the official file layout) ->
splits, negatives, models, training, evaluation -> experiments, report, predict.

The public API is four functions, the CLI being a thin layer over exactly these::

    import motive
    motive.train(data="runs/l1000", split="cold_source", model="gin_cp", hits_k=25, out="runs/gin")
    motive.run_experiment(**motive.experiments.load_config("paper"), data="runs/l1000", out="runs/paper")
    motive.report("runs/paper", out="runs/paper-report")
    motive.predict("runs/gin", compounds="new.parquet", top_k=20)

(``motive.train``, ``motive.report`` and ``motive.predict`` are these functions; their modules
are reached with ``from motive.train import ...``.)
"""

__version__ = "0.1.0"

from pathlib import Path  # noqa: E402

from motive import experiments  # noqa: E402
from motive.errors import MotiveError  # noqa: E402
from motive.experiments import run_experiment  # noqa: E402
from motive.graph import GRAPH_TYPES, Graph, NodeTable  # noqa: E402
from motive.predict import predict  # noqa: E402
from motive.report import report  # noqa: E402
from motive.train import TrainConfig  # noqa: E402
from motive.train import run as _run  # noqa: E402


def train(out: str | Path, overwrite: bool = False, **settings) -> dict:
    """Train and evaluate one model on one split (``settings`` are ``TrainConfig``'s fields);
    write the run folder ``out``; return its metrics summary."""
    return _run(TrainConfig(**settings), out, overwrite)


__all__ = ["GRAPH_TYPES", "Graph", "MotiveError", "NodeTable", "TrainConfig", "experiments", "predict", "report", "run_experiment", "train"]
