"""Experiment configs: the presets, a YAML file read and every key and value checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from motive import checks
from motive.errors import MotiveError
from motive.training.config import MODEL_SETTINGS, TrainConfig, check_settings, same_setting, setting

PRESETS_DIR = Path(__file__).parent.parent / "presets"


def presets() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.yaml"))


def model_settings(models) -> dict[str, dict]:
    """``models`` as {label: settings}: a list of names, or a mapping label -> TrainConfig
    overrides (``model: NAME`` makes the label an alias, e.g. gin_cp_256 for hidden 256)."""
    if isinstance(models, str):
        models = [name.strip() for name in models.split(",") if name.strip()]
    if isinstance(models, list | tuple):
        models = {name: {} for name in models}
    if not isinstance(models, dict) or not models:
        raise MotiveError(f"models: expected a list of model names or a mapping name -> settings, got {models!r}")
    result = {}
    for label, settings in models.items():
        checks.named(f"models: label {label!r}", checks.safe_name, label)  # it becomes a run folder's name
        if settings is not None and not isinstance(settings, dict):
            raise MotiveError(f"models.{label}: expected a mapping of settings (or nothing), got {settings!r}")
        settings = dict(settings or {})
        for key in settings:
            if key not in MODEL_SETTINGS:
                raise MotiveError(
                    f"models.{label}: unknown setting {key!r}; expected one of {', '.join(MODEL_SETTINGS)}"
                )
        settings.setdefault("model", label)
        result[str(label)] = settings
    return result


def checked_names(value, what: str, allowed: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise MotiveError(f"{what}: expected a list of names (or one comma-separated string), got {value!r}")
    value = list(value)
    for name in value:
        if name not in allowed:
            raise MotiveError(f"{what}: unknown {what[:-1]} {name!r}; expected {', '.join(allowed)}")
    if not value:
        raise MotiveError(f"{what}: empty; name at least one")
    return value


def checked_seeds(seeds) -> list[int]:
    if isinstance(seeds, bool) or not isinstance(seeds, int | list | tuple):
        raise MotiveError(f"seeds: expected a number of seeds or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int) and seeds > 10_000:
        raise MotiveError(f"seeds: at most 10,000 seeds (one run each), got {seeds!r}")
    values = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if (
        not values
        or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= checks.SEED_MAX for s in values)
        or len(set(values)) != len(values)
    ):
        raise MotiveError(f"seeds: expected a positive count or distinct integers >= 0, got {seeds!r}")
    return values


TYPES = {  # the config values that have one type (a YAML file can hold anything)
    "data": ((str, Path), "a folder path"),
    "out": ((str, Path), "a folder path"),
    "settings": ((dict,), "a mapping of settings"),
    "plugins": ((list, tuple), "a list of Python files"),
    "description": ((str,), "text"),
    "models": ((list, tuple, dict, str), "a list of model names or a mapping name -> settings"),
    "splits": ((list, tuple, str), "a list of split names"),
    "graphs": ((list, tuple, str), "a list of graph types"),
}


def check_types(config: dict, where: str = "") -> None:
    """One line for a value of the wrong type (``plugins: null``, ``settings: [1, 2]``, ``data: 5``)."""
    prefix = f"{where}: " if where else ""
    for key, (types, kind) in TYPES.items():
        if key in config and (config[key] is not None or key == "plugins") and not isinstance(config[key], types):
            raise MotiveError(f"{prefix}{key}: expected {kind}, got {config[key]!r}")
    for plugin in config.get("plugins") or ():
        if not isinstance(plugin, str | Path):
            raise MotiveError(f"{prefix}plugins: expected a list of Python files, got {plugin!r}")


@dataclass
class TuneSettings:
    """The settings of ``motive.tune`` and ``motive tune`` (beside the dataset, the output folder
    and the fixed training settings), each declared once: the function's signature and the
    command's options are generated from these fields."""

    model: str = same_setting(TrainConfig, "model")
    graph: str = same_setting(TrainConfig, "graph")
    split: str = same_setting(TrainConfig, "split")
    trials: int = setting(
        20, "trials this call adds to the study (a resumed study keeps its own)", check=checks.positive_int
    )
    storage: str | None = setting(None, "SQLAlchemy URL shared by several machines (default: sqlite OUT/study.db)")
    study: str | None = setting(None, "study name (default: GRAPH-SPLIT-MODEL)", check=checks.safe_name)
    sampler: str = setting("random", "random search (paper) or TPE", choices=("random", "tpe"))
    seed: int = setting(
        0, "sampler seed; give each machine its own (every trial trains with model seed 0)", check=checks.seed
    )
    prune: bool = setting(
        True, "median pruning on the validation curve (--no-prune: every trial to the end)", check=checks.boolean
    )
    workers: int = setting(1, "trials at once on this machine (or on the cluster)", check=checks.positive_int)
    cluster: str | None = setting(None, "a running Dask cluster: tcp://HOST:PORT or SCHEDULER_FILE.json")

    def __post_init__(self) -> None:
        check_settings(self)


TUNE_SETTINGS = list(TuneSettings.__dataclass_fields__)
