"""Run folders: writing one (atomically, through ``motive.outputs``) and reading one back. This is
the one place that reads a checkpoint, and it reads it as untrusted input: tensors and plain data
only (``weights_only``), every field checked, nothing in it ever run.

A run folder holds config.json, metrics.json (the same bytes for the same config and environment),
timing.json, history.csv, predictions.parquet, per_node_ap.parquet, ranking.parquet (with the full
ranking) and checkpoint.pt (config, seed, data hash, best epoch, weights).
"""

from __future__ import annotations

import io
import json
import pickle
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from motive import backend
from motive.errors import MotiveError
from motive.evaluation.evaluator import Evaluation
from motive.experiments.parallel import torch_threads
from motive.models import build_model, load_plugins
from motive.names import STAGES
from motive.outputs import output_dir
from motive.training.config import TrainConfig, from_settings
from motive.training.prepare import Prepared, prepare, resolve_device

TIMING = ("seconds", "seconds_per_epoch")  # run-level fields of timing.json, not metrics.json


def environment(config: TrainConfig) -> dict:
    """What besides the config decides a run's numbers (recorded in metrics.json): on one machine
    the same config and environment give byte-identical metrics; another CPU or library version
    may round differently."""
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "threads": config.threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "deterministic": resolve_device(config.device).type == "cpu",
    }


@dataclass
class Trained:
    """What training produced: the model at its best epoch, the per-epoch history, the best epoch."""

    model: object  # a LinkModel or a Heuristic
    history: list[dict]
    best_epoch: int


def summary_of(config: TrainConfig, prepared: Prepared, trained: Trained, evaluation: Evaluation) -> dict:
    """metrics.json's content: settings, provenance, environment and the metrics of valid and test."""
    split = prepared.split
    return {
        "config": asdict(config),
        "best_epoch": trained.best_epoch,
        "epochs_run": len(trained.history),
        "graph_hash": prepared.graph_hash,
        "device": str(prepared.device),
        "environment": environment(config),
        "split": {
            "name": config.split,
            "seed": config.split_seed,
            "graph_hash": split.graph_hash,
            "dir": config.split_dir,
        },
        "valid": evaluation.metrics["valid"],
    } | ({"final": True} if config.final else {"test": evaluation.metrics["test"]})


def write_run(
    out: str | Path,
    *,
    config: TrainConfig,
    summary: dict,
    timing: dict,
    trained: Trained,
    evaluation: Evaluation,
    overwrite: bool = False,
    marker: dict | None = None,
) -> None:
    """Write the run folder ``out`` atomically (``marker``: extra fields of its motive.json)."""
    predictions, per_node = evaluation.tables()
    ranking = evaluation.ranking
    with output_dir(out, "run", overwrite, **(marker or {})) as tmp:
        (tmp / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
        pd.DataFrame(trained.history).to_csv(tmp / "history.csv", index=False)
        predictions.to_parquet(tmp / "predictions.parquet", index=False)
        per_node.to_parquet(tmp / "per_node_ap.parquet", index=False)
        if ranking is not None:
            ranking.to_parquet(tmp / "ranking.parquet", index=False)
        if evaluation.calibration is not None:
            (tmp / "calibration.json").write_text(json.dumps(evaluation.calibration, indent=2) + "\n")
        checkpoint = {
            "config": asdict(config),
            "seed": config.seed,
            "graph_hash": summary["graph_hash"],
            "best_epoch": trained.best_epoch,
        }
        if trained.model.trainable:
            checkpoint["state_dict"] = {
                name: value.detach().cpu() for name, value in trained.model.state_dict().items()
            }
        buffer = io.BytesIO()  # serialised in memory, written as plain bytes: a full disk is an OSError
        torch.save(checkpoint, buffer)
        (tmp / "checkpoint.pt").write_bytes(buffer.getvalue())


def _load_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise MotiveError(f"{path}: file not found; not a run directory made by `motive train`")
    try:
        checkpoint = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = next((line for line in lines if "GLOBAL" in line or "Unsupported" in line), lines[-1] if lines else "")
        raise MotiveError(
            f"{path}: refused, it holds more than tensors and plain data ({reason[:160]}); "
            "motive never runs code from a checkpoint"
        ) from None
    except Exception as error:  # truncated, empty, not a torch file
        raise MotiveError(
            f"{path}: unreadable checkpoint ({type(error).__name__}); the file is truncated or was not written by "
            "`motive train`"
        ) from None
    if (
        not isinstance(checkpoint, dict)
        or not isinstance(checkpoint.get("config"), dict)
        or not isinstance(checkpoint.get("graph_hash"), str)
    ):
        raise MotiveError(
            f"{path}: not a motive checkpoint (config or graph_hash missing); retrain with `motive train`"
        )
    return checkpoint


def read_run(run_dir: str | Path, device: str = "auto", data: str | Path | None = None) -> tuple[TrainConfig, dict]:
    """The config and checkpoint of a run folder, read as untrusted input: tensors and plain data
    only (``weights_only``: a checkpoint that would run code is refused, and nothing in it runs),
    with its fields checked. ``data`` points at a moved copy of the run's dataset (its graph hash
    must match)."""
    path = Path(run_dir) / "checkpoint.pt"
    checkpoint = _load_checkpoint(path)
    settings = checkpoint["config"] | {"device": device}
    if data is not None:
        settings["data"] = str(data)
    try:
        config = from_settings(settings, "the checkpoint's config")
    except MotiveError as error:
        raise MotiveError(f"{path}: {error}; it was written by another motive version, or edited") from None
    if data is None and not Path(config.data).is_dir():
        raise MotiveError(
            f"{config.data}: the run's dataset folder is not there (moved?); give its new place as `data`"
        )
    return config, checkpoint


def load_weights(model, checkpoint: dict, path: str | Path) -> None:
    """Load a checkpoint's weights into ``model`` (one line when they do not fit it, e.g. a plugin
    whose defaults changed since training)."""
    if not model.trainable:
        return
    state = checkpoint.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise MotiveError(
            f"{path}: the checkpoint has no weights (state_dict) for model {checkpoint['config'].get('model')!r}; "
            "retrain"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[1 if len(str(error).splitlines()) > 1 else 0].strip()
        raise MotiveError(
            f"{path}: the weights do not fit the model as it is built now ({first}); did the model or its plugin "
            "change since training?"
        ) from None


def require_model(config: TrainConfig, folder: Path) -> None:
    """Refuse a run whose model is not registered now (built-ins, entry points, the plugins the
    caller loaded), naming the plugin it was trained with."""
    from motive.models import REGISTRY, load_entry_points

    if config.model not in REGISTRY:
        load_entry_points()
    if config.model not in REGISTRY and config.plugins:
        raise MotiveError(
            f"{folder}: model {config.model!r} was trained with the plugin {', '.join(map(str, config.plugins))}; "
            f"motive never imports code a run folder names: pass `plugins` {config.plugins[0]} if you trust it"
        )


@dataclass
class LoadedRun:
    """A run folder read back: its config and checkpoint, what it works on, and its model with the
    checkpoint's weights, on the device asked for."""

    folder: Path
    config: TrainConfig
    checkpoint: dict
    prepared: Prepared
    model: object


def accelerated(model: torch.nn.Module, stages) -> torch.nn.Module:
    """``model`` with its dense layers on ``motive.backend``'s accelerated path for the node counts
    of ``stages`` (the row counts that stay fixed for a run)."""
    return backend.accelerate(model, {n for stage in stages for n in stage.num_nodes.values()})


def load_run(
    run_dir: str | Path,
    *,
    device: str = "auto",
    data: str | Path | None = None,
    stage_names: tuple[str, ...] = STAGES,
    plugins: list | tuple = (),
) -> LoadedRun:
    """Read a run folder and rebuild its model (``data``: a moved copy of its dataset); refuses a
    changed dataset. Score with it inside the run's torch threads.

    A run folder is outside data: the plugin files its config names are never imported from it.
    Only the ``plugins`` the caller names are loaded; a run of a plugin model without them is
    refused with the plugin's name, for the caller to pass if they trust it."""
    folder = Path(run_dir)
    config, checkpoint = read_run(folder, device, data)
    load_plugins(plugins)
    require_model(config, folder)
    with torch_threads(config.threads):
        prepared = prepare(config, expected_hash=checkpoint["graph_hash"], stage_names=stage_names)
        model = build_model(config.model, prepared.stages["train"], **config.model_kwargs)
    load_weights(model, checkpoint, folder / "checkpoint.pt")
    if model.trainable:
        accelerated(model.to(prepared.device), prepared.stages.values())
    return LoadedRun(folder, config, checkpoint, prepared, model)


SHOWN = ("f1", "auroc", "auprc", "mrr", "full_mrr", "full_hits@10", "full_map", "full_adjusted_mrr")
SHOWN += ("full_adjusted_hits@10", "full_amri", "full_r_precision")  # the rest is in metrics.json


def metrics_table(results: dict[str, dict]) -> str:
    """The headline metrics, one row per stage, then the test intervals (everything else, such as
    the per-node AP, the odds ratio and the degree strata, is in metrics.json)."""
    first = next(iter(results.values()))
    names = [name for name in first if name in SHOWN or name.startswith("hits@")]
    lines = ["| stage | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for stage, values in results.items():
        lines.append(f"| {stage} | " + " | ".join(f"{values[name]:.4f}" for name in names) + " |")
    bounds = [f"{name[:-3]} [{low:.4f}, {high:.4f}]" for name, (low, high) in _intervals(results.get("test", {}))]
    if bounds:
        lines.append("test 95% intervals (bootstrap over query nodes): " + ", ".join(bounds))
    return "\n".join(lines)


def _intervals(values: dict) -> list:
    return [(name, value) for name, value in values.items() if name.endswith("_ci") and isinstance(value, list)]
