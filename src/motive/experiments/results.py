"""results.parquet: one row per run, its settings, status and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from motive.experiments.grid import RunSpec
from motive.marks import write_marked_parquet
from motive.outputs import own_file

STATUSES = ("done", "reused", "failed", "n/a", "pending")


RESULTS_EVERY = 1.0  # seconds: results.parquet is rewritten after a run at most this often, and at the end


def row(spec: RunSpec, outcome: dict, out: Path) -> dict:
    """One line of results.parquet: the run's settings, status, and its valid/test metrics."""
    config = spec.config
    result = {
        "graph": config["graph"],
        "split": config["split"],
        "model": spec.label,
        "model_name": config["model"],
        "seed": config["seed"],
        "split_seed": config["split_seed"],
        "split_source": "official" if config["split_dir"] else "motive",
        "config_hash": spec.config_hash,
        "run": str(Path(spec.same_as or spec.folder).relative_to(out)),
        "seed_free": spec.seed_free,
        "status": outcome["status"],
        "error": outcome.get("error", ""),
        "model_kwargs": json.dumps(config["model_kwargs"], sort_keys=True),
        "lr": config["lr"],
        "weight_decay": config["weight_decay"],
        "epochs": config["epochs"],
        "hits_k": config["hits_k"],
        "loss": config["loss"],
        "eval_negatives": config["eval_negatives"],
        "gene_type": config["gene_type"],
        "views": json.dumps(config["views"], sort_keys=True),
        "link_view": config["link_view"],
    }
    summary = outcome.get("summary")
    if summary is not None:
        result |= {
            "best_epoch": summary["best_epoch"],
            "epochs_run": summary["epochs_run"],
            "seconds": summary["seconds"],
            "seconds_per_epoch": summary["seconds_per_epoch"],
        }
        for stage in ("valid", "test"):
            for name, value in summary[stage].items():
                if isinstance(value, list):  # an interval: two numeric columns
                    result[f"{stage}_{name}_low"], result[f"{stage}_{name}_high"] = value
                else:
                    result[f"{stage}_{name}"] = value
    elif "seconds" in outcome:
        result["seconds"] = outcome["seconds"]
    return result


def write_results(rows: list[dict], out: Path) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    with own_file(out / "results.parquet") as tmp:
        write_marked_parquet(table, tmp, "results")
    return table
