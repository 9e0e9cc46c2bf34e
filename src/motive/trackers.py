"""Experiment trackers, one interface (PyKEEN's ``ResultTracker``): ``start_run(group, name,
params)``, ``log_metrics(values, step)``, ``end_run()``. A run logs its resolved config, every
epoch's training loss and validation value, and its final metrics; a grid's runs and a study's
trials are runs of one group (MLflow experiment, TensorBoard folder).

- ``csv``: ``tracking/params.json`` and ``tracking/metrics.csv`` (step, name, value) under the
  tracker folder (``tracker_uri``, default ``./motive-tracking``), one folder per group and run;
- ``tensorboard`` (``pip install tensorboard``): event files under ``tracker_uri`` (default
  ``./runs-tensorboard``), one folder per group and run, scalars and the config as text;
- ``mlflow`` (``pip install mlflow-skinny``): ``tracker_uri``, else ``MLFLOW_TRACKING_URI`` as
  MLflow's own tools read it, else ``./mlruns``; group = MLflow experiment, run name = run.

Trackers only write where they are pointed; a run's own folder stays the record of truth.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from motive.errors import MotiveError


def flat_params(config: dict) -> dict[str, str]:
    """A config as tracker parameters: scalars as they are, the rest as JSON text."""
    return {
        name: value if isinstance(value, int | float | str | bool) else json.dumps(value, sort_keys=True)
        for name, value in config.items()
        if value is not None
    }


def numeric(values: dict, prefix: str = "") -> dict[str, float]:
    """The numbers of a metrics dict (intervals as NAME_low / NAME_high), names prefixed."""
    found = {}
    for name, value in values.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            found[f"{prefix}{name}"] = float(value)
        elif isinstance(value, list) and len(value) == 2:
            found[f"{prefix}{name}_low"], found[f"{prefix}{name}_high"] = map(float, value)
    return found


class Tracker:
    """No tracking (``tracker: none``); the interface every tracker implements."""

    def prepare(self, group: str) -> None:
        """Make the group's store once, before runs in several processes log to it."""

    def start_run(self, group: str, name: str, params: dict) -> None:
        pass

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        pass

    def end_run(self, finished: bool = True) -> None:
        pass


class CsvTracker(Tracker):
    def __init__(self, uri: str | None):
        self.root = Path(uri or "motive-tracking")

    def start_run(self, group: str, name: str, params: dict) -> None:
        from motive.outputs import own_file, reopen_dir

        (self.root / group).mkdir(parents=True, exist_ok=True)
        # a folder of motive's own (a marker lists its files): a user's folder there is refused, never replaced
        self.folder = reopen_dir(self.root / group / name, "tracking", ["params.json", "metrics.csv"])
        with own_file(self.folder / "params.json") as tmp:
            tmp.write_text(json.dumps(flat_params(params), indent=2, sort_keys=True) + "\n")
        self.rows: list[tuple] = []

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        self.rows += [(step if step is not None else "", name, value) for name, value in values.items()]

    def end_run(self, finished: bool = True) -> None:
        from motive.outputs import own_file

        with own_file(self.folder / "metrics.csv") as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", "name", "value"])
            writer.writerows(self.rows)


class TensorBoardTracker(Tracker):
    def __init__(self, uri: str | None):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise MotiveError(
                "tracker tensorboard: the tensorboard package is missing; pip install tensorboard"
            ) from None
        self.writer_class, self.root = SummaryWriter, Path(uri or "runs-tensorboard")

    def start_run(self, group: str, name: str, params: dict) -> None:
        self.writer = self.writer_class(log_dir=str(self.root / group / name))
        self.writer.add_text("config", json.dumps(flat_params(params), indent=2, sort_keys=True))

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step if step is not None else 0)

    def end_run(self, finished: bool = True) -> None:
        self.writer.close()


class MlflowTracker(Tracker):
    def __init__(self, uri: str | None):
        try:
            import mlflow
        except ImportError:
            raise MotiveError("tracker mlflow: the mlflow package is missing; pip install mlflow-skinny") from None
        self.mlflow = mlflow
        self.uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or "file:./mlruns"

    def prepare(self, group: str) -> str:
        """The MLflow experiment ``group``, created (with its database tables) if absent: a grid
        calls this once before its workers log, so they never race to create the store."""
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(self.uri)
        try:
            experiment = self.client.get_experiment_by_name(group)
            return experiment.experiment_id if experiment else self.client.create_experiment(group)
        except self.mlflow.exceptions.MlflowException as error:
            raise MotiveError(f"tracker mlflow: {self.uri}: {str(error).splitlines()[0][:200]}") from None

    def start_run(self, group: str, name: str, params: dict) -> None:
        experiment_id = self.prepare(group)
        self.run_id = self.client.create_run(experiment_id, run_name=name).info.run_id
        for key, value in flat_params(params).items():
            self.client.log_param(self.run_id, key, value)

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        for name, value in values.items():
            self.client.log_metric(self.run_id, name.replace("@", "_at_"), value, step=step or 0)

    def end_run(self, finished: bool = True) -> None:
        self.client.set_terminated(self.run_id, status="FINISHED" if finished else "FAILED")


TRACKERS = {"none": Tracker, "csv": CsvTracker, "tensorboard": TensorBoardTracker, "mlflow": MlflowTracker}


def make_tracker(name: str, uri: str | None) -> Tracker:
    """The tracker ``name`` (none, csv, tensorboard, mlflow) writing to ``uri``."""
    if name == "none":
        return Tracker()
    return TRACKERS[name](uri)
