"""Experiment trackers, one interface (PyKEEN's ``ResultTracker``): ``start_run(group, name,
params)``, ``log_metrics(values, step)``, ``end_run()``. A run logs its resolved config, every
epoch's training loss and validation value, and its final metrics; a grid's runs and a study's
trials are runs of one group (MLflow experiment, TensorBoard folder).

- ``csv``: ``tracking/params.json`` and ``tracking/metrics.csv`` (step, name, value) under the
  tracker folder (``tracker_uri``, a folder or ``file:`` URI; default ``./motive-tracking``), one
  folder per group and run;
- ``tensorboard`` (``pip install "motive[trackers]"``): event files under ``tracker_uri`` (default
  ``./runs-tensorboard``), one folder per group and run, scalars and the config as text;
- ``mlflow`` (``pip install "motive[trackers]"``): ``tracker_uri``, else ``MLFLOW_TRACKING_URI`` as
  MLflow's own tools read it, else the database ``./mlflow.db`` in the working folder (MLflow 3's
  own recommendation: it refuses its old file store); group = MLflow experiment, run name = run.

Trackers only write where they are pointed, and say where when it is a default; a run's own
folder stays the record of truth. A tracker that cannot write is one ``MotiveError`` line.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from motive.errors import MotiveError, require
from motive.experiments.storage import masked

log = logging.getLogger(__name__)
MLFLOW_DEFAULT = "mlflow.db"  # in the working folder, as `mlflow ui --backend-store-uri sqlite:///mlflow.db`


def folder_of(uri: str | None, default: str, tracker: str) -> Path:
    """The folder a file-writing tracker writes to: a path, or a ``file:`` URI's path."""
    if uri is None:
        log.info("tracker %s: writing to %s (pass a `tracker_uri` to choose)", tracker, Path(default).resolve())
        return Path(default)
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        raise MotiveError(f"`tracker_uri`: tracker {tracker} writes to a folder, not to {uri}; pass a folder")
    return Path(uri)


def _unwritable(tracker: str, folder: Path, error: OSError) -> MotiveError:
    return MotiveError(
        f"tracker {tracker}: cannot write to {folder} ({error.strerror or type(error).__name__}); "
        "pass a writable folder as `tracker_uri`"
    )


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
        self.root = folder_of(uri, "motive-tracking", "csv")

    def start_run(self, group: str, name: str, params: dict) -> None:
        from motive.outputs import own_file, reopen_dir

        try:
            (self.root / group).mkdir(parents=True, exist_ok=True)
            # a folder of motive's own (a marker lists its files): a user's folder there is refused, never replaced
            self.folder = reopen_dir(self.root / group / name, "tracking", ["params.json", "metrics.csv"])
            with own_file(self.folder / "params.json") as tmp:
                tmp.write_text(json.dumps(flat_params(params), indent=2, sort_keys=True) + "\n")
        except OSError as error:
            raise _unwritable("csv", self.root, error) from None
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
        require("tensorboard", "trackers", "tracker tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        self.writer_class, self.root = SummaryWriter, folder_of(uri, "runs-tensorboard", "tensorboard")

    def start_run(self, group: str, name: str, params: dict) -> None:
        try:
            (self.root / group / name).mkdir(parents=True, exist_ok=True)
            self.writer = self.writer_class(log_dir=str(self.root / group / name))
            self.writer.add_text("config", json.dumps(flat_params(params), indent=2, sort_keys=True))
        except OSError as error:
            raise _unwritable("tensorboard", self.root, error) from None

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step if step is not None else 0)

    def end_run(self, finished: bool = True) -> None:
        self.writer.close()


class MlflowTracker(Tracker):
    def __init__(self, uri: str | None):
        self.mlflow = require("mlflow", "trackers", "tracker mlflow")
        self.uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
        if self.uri is None:
            from motive.experiments.storage import sqlite_url

            self.uri = sqlite_url(MLFLOW_DEFAULT)
            log.info("tracker mlflow: logging to %s (pass a `tracker_uri` to choose)", Path(MLFLOW_DEFAULT).resolve())
        # an unreachable server is one quick error, not minutes of retries (the user's own settings win)
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

    def prepare(self, group: str) -> str:
        """The MLflow experiment ``group``, created (with its database tables) if absent: a grid
        calls this once before its workers log, so they never race to create the store."""
        from mlflow.tracking import MlflowClient

        try:
            self.client = MlflowClient(self.uri)
            experiment = self.client.get_experiment_by_name(group)
            return experiment.experiment_id if experiment else self.client.create_experiment(group)
        except Exception as error:  # MLflow's, SQLAlchemy's, requests', the filesystem's
            raise MotiveError(f"tracker mlflow: {masked(self.uri)}: {_why(error)}") from None

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


def _why(error: Exception) -> str:
    """One line on why MLflow refused a store, with the fix where it is known."""
    text = str(error)
    if "MLFLOW_ALLOW_FILE_STORE" in text or "filesystem tracking backend" in text:
        return (
            "MLflow 3 refuses a file store; pass a database such as sqlite:///mlflow.db or an http:// server as "
            "`tracker_uri` (or set MLFLOW_ALLOW_FILE_STORE=true)"
        )
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
    return f"{type(error).__name__}: {first[:200]}"


TRACKERS = {"none": Tracker, "csv": CsvTracker, "tensorboard": TensorBoardTracker, "mlflow": MlflowTracker}


def make_tracker(name: str, uri: str | None) -> Tracker:
    """The tracker ``name`` (none, csv, tensorboard, mlflow) writing to ``uri``."""
    if name == "none":
        return Tracker()
    return TRACKERS[name](uri)
