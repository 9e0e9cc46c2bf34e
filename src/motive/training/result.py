"""What ``motive.train`` returns: a run's settings, its trained model, metrics and history, and
the folder they were written to."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from motive.training.config import TrainConfig


@dataclass
class TrainResult:
    """One trained and evaluated run (PyKEEN's ``PipelineResult`` in motive's terms).

    ``config``: the run's settings as resolved (views included); ``model``: the model at its best
    epoch; ``metrics``: ``metrics.json`` (valid and test metrics, best epoch, provenance; a final
    model has no test); ``history``: one row per epoch (training loss, validation value, seconds);
    ``path``: the run folder, which ``motive evaluate`` and ``motive predict`` read."""

    config: TrainConfig
    model: object
    metrics: dict
    history: pd.DataFrame
    path: Path

    @classmethod
    def load(cls, path: str | Path, *, device: str = "auto", data: str | Path | None = None, plugins=()) -> TrainResult:
        """A run folder read back, its model rebuilt from the checkpoint (``data``: a moved copy
        of the run's dataset; ``plugins``: the plugin files to load, never the ones it names)."""
        from motive.training.runs import load_run

        folder = Path(path)
        loaded = load_run(folder, device=device, data=data, plugins=plugins)
        metrics = json.loads((folder / "metrics.json").read_text())
        return cls(loaded.config, loaded.model, metrics, pd.read_csv(folder / "history.csv"), folder)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """A copy of the run folder at ``path`` (an earlier run there is replaced only with
        ``overwrite``; nothing else ever is)."""
        from motive.outputs import output_dir

        with output_dir(path, "run", overwrite) as tmp:
            for item in sorted(self.path.iterdir()):
                if item.is_file() and item.name != "motive.json":
                    shutil.copy2(item, tmp / item.name)
        return Path(path)
