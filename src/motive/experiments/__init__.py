"""Experiments: a grid of runs over one dataset folder -> run folders -> one results table.

    motive experiment paper --data runs/l1000 --hits-k 25 --out runs/paper      # a preset
    motive experiment my-grid.yaml --out runs/mine [--seeds 3] [--models gin_cp,mlp]
    motive report runs/paper --out runs/paper-report

A config (a YAML file, or a preset shipped in ``motive/presets/``; ``config``) is exactly the
keyword arguments of ``run_experiment`` (``runner``). Each run is ``train.run`` into its own folder
``RESULTS/runs/GRAPH-SPLIT-MODEL-seedN-splitM-HASH``, HASH being a short hash of the run's resolved
config and the graph's content (``grid``); a folder whose marker holds the same hash is a finished
run and is reused, so an interrupted experiment resumes where it stopped and a changed setting
re-runs only the runs it changes. Runs execute here or on Dask (``execution``); their rows make
results.parquet (``results``). This package plans and executes runs; it never trains or scores by
itself.
"""

from motive.experiments.config import check_types, presets
from motive.experiments.execution import execute, execute_all, execute_on_worker
from motive.experiments.grid import Grid, RunSpec, plan, run_hash
from motive.experiments.results import RESULTS_EVERY, STATUSES, row, write_results
from motive.experiments.runner import check_keys, exclusive, load_config, run_experiment

__all__ = [
    "Grid",
    "RESULTS_EVERY",
    "RunSpec",
    "STATUSES",
    "check_keys",
    "check_types",
    "exclusive",
    "execute",
    "execute_all",
    "execute_on_worker",
    "load_config",
    "plan",
    "presets",
    "row",
    "run_experiment",
    "run_hash",
    "write_results",
]
