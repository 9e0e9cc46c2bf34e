"""The settings of one run, each declared once: a ``TrainConfig`` field carries its default, its
help text, its choices and its check, and the command-line options of ``motive train``,
``motive experiment`` and ``motive tune`` are generated from the fields (``add_options``). A new
setting is one field here and nothing else. No torch here: the CLI imports this to build its parser.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from motive import checks
from motive.errors import MotiveError
from motive.names import (
    DEVICES,
    EVAL_NEGATIVES,
    GENE_TYPES,
    GRAPH_TYPES,
    LINK_VIEWS,
    LOSSES,
    MODES,
    MONITORS,
    SPLITS,
    TRACKERS,
)


def setting(
    default: Any = MISSING,
    help: str = "",
    *,
    choices: Iterable[str] | None = None,
    check: Callable[[Any], Any] | None = None,
    option: dict | None = None,
) -> Any:
    """A ``TrainConfig`` field with what the API and the CLI need to know of it: ``help`` (the
    option's help), ``choices`` (refused otherwise), ``check`` (a ``motive.checks`` function, run by
    the API and by the CLI alike) and ``option`` (extra ``argparse.add_argument`` keywords of its
    command-line option, e.g. a flag name or ``action``)."""
    metadata = {"help": help, "choices": tuple(choices) if choices else None, "check": check, "option": option or {}}
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def _absolute(value: Any) -> str:
    return str(Path(value).resolve())  # absolute, so a run folder works from any folder


def _views(value: Any) -> dict:
    from motive.data.views import check_views

    return check_views(checks.json_object(value, '{"source": ["profile", "structure"]}'))


def _location(value: Any) -> str:
    """A folder made absolute (every worker of a grid writes to the same place); a URL as it is."""
    text = str(value)
    return text if ":" in text.split("/")[0] else _absolute(text)


def _absolute_paths(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        raise MotiveError(f"must be a list of Python files, got {value!r}")
    return [_absolute(path) for path in value]


@dataclass
class TrainConfig:
    """Everything that decides a run's numbers besides its dataset and environment."""

    data: str = setting(help="dataset folder (official layout)", check=_absolute, option={"type": checks.existing_dir})
    graph: str = setting("st_expanded", "graph structure", choices=GRAPH_TYPES)
    # With split_dir: taken from the folder (random / source / target / zero_shot) or its labels.
    split: str = setting("random", "split kind (the held-out side)", choices=SPLITS)
    model: str = setting("gin_cp", "a registered model name (built-ins, plugins, entry points)")
    model_kwargs: dict = setting(
        {}, "JSON keyword arguments of the model, e.g. '{\"hidden\": 128}'", check=checks.model_kwargs
    )
    seed: int = setting(0, "model seed: initialisation, batch order, training negatives", check=checks.seed)
    split_seed: int = setting(0, "split seed; the split is fixed across model seeds (paper)", check=checks.seed)
    final: bool = setting(
        False,
        "a final model for prediction: no test stage; the held-out side is split 90/10 into train and valid "
        "(valid picks the epoch and fits the calibration), and prediction sees every known link",
        check=checks.boolean,
    )
    gene_type: str = setting("orf", "gene profiles of the official layout", choices=GENE_TYPES)
    epochs: int = setting(1000, "most epochs (paper: 1000)", check=checks.positive_int)
    patience: int = setting(50, "epochs without validation improvement before stopping", check=checks.positive_int)
    # The paper used 512 with sampled neighbourhoods; with exact full-graph message passing a step
    # costs the same for any batch size, and 2048 trains as well at a third of the time per epoch
    # (benchmarks/README.md).
    batch_size: int = setting(2048, "supervision edges per step (paper: 512)", check=checks.positive_int)
    lr: float = setting(1e-3, "AdamW learning rate", check=checks.positive_float)
    weight_decay: float = setting(1e-4, "AdamW weight decay", check=checks.nonnegative_float)
    train_negative_ratio: int = setting(1, "training negatives per positive (paper: 1)", check=checks.positive_int)
    monitor: str = setting(
        "hits",
        "validation metric picking the best epoch (hits = hits@K; mrr = the full ranking's, slower)",
        choices=MONITORS,
    )
    # The mrr monitor ranks the whole validation stage every epoch: at MOTIVE size random's 1,199
    # compounds x 11,509 genes were most of a ranker's run (benchmarks/network_scale.py). A fixed
    # random subset picks the epoch, about as many queries as l1000's whole validation stages
    # (40-101, which it leaves whole); the run's validation numbers still rank every query.
    monitor_queries: int = setting(
        128,
        "query nodes the mrr monitor ranks each epoch (a fixed random subset when the stage has more)",
        check=checks.positive_int,
    )
    hits_k: int = setting(500, "K of Hits@K (paper: 500, about 1% of MOTIVE's test pairs)", check=checks.positive_int)
    mode: str = setting("full", "full-graph message passing, or neighbor: sampled 2-hop subgraphs", choices=MODES)
    fanouts: tuple[int, ...] = setting(
        (15, 10),
        "neighbours per hop in neighbor mode (-1 = all)",
        check=checks.fanouts,
        option={"nargs": "+", "type": checks.fanout},
    )
    # Feature views per node type (motive.data.views): the profile, the compound structure, or both.
    views: dict | None = setting(
        None,
        'JSON views per node type, e.g. \'{"source": ["profile", "structure"]}\' (structure: Morgan bits); '
        "default: the views the model declares (knn_structure: the structure), else the profile",
        check=_views,
    )
    structure_radius: int = setting(
        2, "Morgan radius of the structure view", check=checks.at_most(checks.positive_int, 10, "ECFP uses 1-3")
    )
    structure_bits: int = setting(
        2048,
        "Morgan bits of the structure view",
        check=checks.at_most(checks.positive_int, 65_536, "a dense compounds x bits matrix"),
    )
    # Similarity links: every compound a stage may see joins its link_k most similar visible
    # compounds in this view (features only, the same at every stage and in predict).
    link_view: str = setting(
        "none", "compound-compound similarity links from this view (none: no links)", choices=LINK_VIEWS
    )
    link_k: int = setting(5, "similar compounds each compound is linked to (with link_view)", check=checks.positive_int)
    # Side edges: a held-out node's same-type edges are known before its links (a new gene's PPI
    # partners, a new compound's structural neighbours); the official protocol hides them.
    side_edges: bool = setting(
        False,
        "let each stage see every compound-compound and gene-gene edge between nodes it may see, a held-out "
        "node's included (official protocol: off, a held-out node's same-type edges are hidden at its stage)",
        check=checks.boolean,
    )
    device: str = setting(
        "auto", "auto: cuda when a GPU is visible (runs are bitwise reproducible on cpu only)", choices=DEVICES
    )
    # bce: the paper's binary cross-entropy on 1:1 negatives; bpr: each positive against one
    # negative of the same query node (scores are then ranking scores, not calibrated logits).
    loss: str = setting("bce", "bce (paper) or bpr (pairwise ranking)", choices=LOSSES)
    split_dir: str | None = setting(
        None,
        "train on official split tables in this folder (s_t_labels.parquet with 'subset'); audited first",
        check=str,
        option={"type": checks.existing_dir},
    )
    eval_negatives: str = setting(
        "uniform",
        "stored valid/test negatives the sampled metrics use: uniform (paper, Algorithm 1) or degree (each "
        "negative's candidate of about its positive's degree: a degree-only score gets AUROC ~0.5)",
        choices=EVAL_NEGATIVES,
    )
    ranking_eval: bool = setting(
        False,
        "also rank every visible candidate per query node, filtered (full_* metrics, ranking.parquet)",
        check=checks.boolean,
    )
    calibrate: bool = setting(
        True,
        "fit the expected precision of each rank on the validation stage (calibration.json; read by predict)",
        check=checks.boolean,
    )
    bootstrap: int = setting(
        1000,
        "bootstrap resamples of the test query nodes for the intervals NAME_ci in metrics.json (0: none)",
        check=checks.at_most(checks.nonnegative_int, 100_000, "queries x resamples counts are held in memory"),
    )
    # Trackers record; they never change a number (and are not part of an experiment's run hash).
    tracker: str = setting(
        "none", "also log config, epochs and metrics to csv, tensorboard or mlflow", choices=TRACKERS
    )
    tracker_uri: str | None = setting(
        None,
        "where the tracker writes: a folder for csv/tensorboard (default ./motive-tracking, ./runs-tensorboard); "
        "for mlflow a database or server URI (default: MLFLOW_TRACKING_URI, else sqlite ./mlflow.db in the working "
        "folder)",
        check=_location,
    )
    plugins: list = setting(
        [],
        "a Python file registering models (repeatable)",
        check=_absolute_paths,
        option={"flags": ["--plugin"], "action": "append", "type": checks.existing_path},
    )
    # A reduction split over two threads rounds differently from one over one, so the default 1
    # gives the same bytes alone, in a grid and on a Dask worker; a grid runs several runs at once
    # instead. More is faster for one long run, with numbers of its own.
    threads: int = setting(
        1, "torch threads; the run's numbers depend on it", check=checks.at_most(checks.positive_int, 1024, "threads")
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.final and self.split_dir is not None:
            raise MotiveError("`final` makes its own split of every known link; drop `split_dir`")

    def to_dict(self) -> dict:
        return asdict(self)


def check_settings(instance) -> None:
    """Check every field of a dataclass made of ``setting`` fields against its choices and check
    (the value a check returns, e.g. a parsed JSON object, replaces the given one)."""
    for spec in fields(instance):
        value = getattr(instance, spec.name)
        if value is MISSING or (value is None and spec.default is None):
            continue
        choices, check = spec.metadata["choices"], spec.metadata["check"]
        if choices is not None and value not in choices:
            raise MotiveError(f"{spec.name}: unknown {spec.name} {value!r}; expected one of {', '.join(choices)}")
        if check is not None:
            setattr(instance, spec.name, checks.named(spec.name, check, value))


def same_setting(config_class: type, name: str) -> Any:
    """A new field with the default, help, choices and check of ``config_class``'s field ``name``
    (one setting shared by two commands stays declared once)."""
    spec = next(spec for spec in fields(config_class) if spec.name == name)
    default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
    meta = spec.metadata
    return setting(default, meta["help"], choices=meta["choices"], check=meta["check"], option=dict(meta["option"]))


def signature_of(config_class: type, leading: list[inspect.Parameter], returns: str) -> inspect.Signature:
    """A function's signature as ``help()`` shows it: ``leading`` parameters, then every field of
    ``config_class`` as a keyword with its default."""
    parameters = list(leading)
    for spec in fields(config_class):
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        default = inspect.Parameter.empty if default is MISSING else default
        parameters.append(
            inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=spec.type)
        )
    return inspect.Signature(parameters, return_annotation=returns)


def settings_help(config_class: type) -> str:
    """Each setting's help text, appended to a docstring (indented as its own lines)."""
    lines = ["", "    Settings:", ""]
    for spec in fields(config_class):
        lines.append(f"    - ``{spec.name}``: {spec.metadata.get('help') or ''}")
    return "\n".join(lines)


SETTINGS = [spec.name for spec in fields(TrainConfig)]
# Set per run by an experiment grid (or by tune's own arguments), not a per-model setting.
GRID_FIELDS = ("data", "graph", "split", "seed", "split_seed", "split_dir", "plugins")
# What a grid's models: and settings: may set (a final model has no test to tabulate: it trains alone).
MODEL_SETTINGS = sorted(set(SETTINGS) - set(GRID_FIELDS) - {"final"})
TUNED = ("lr", "weight_decay", "model_kwargs")  # what a tune trial sets
TUNE_FIXED = tuple(name for name in MODEL_SETTINGS if name not in (*TUNED, "model"))  # a study's fixed settings


def from_settings(settings: dict, where: str = "") -> TrainConfig:
    """A ``TrainConfig`` from a mapping (a config file, a checkpoint): an unknown key, a missing
    dataset or a value of the wrong type is one line naming it."""
    prefix = f"{where}: " if where else ""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise MotiveError(f"{prefix}unknown setting {unknown[0]!r}; expected one of {', '.join(SETTINGS)}")
    if "data" not in settings:
        raise MotiveError(f"{prefix}no dataset folder (data)")
    try:
        return TrainConfig(**settings)
    except MotiveError as error:
        raise MotiveError(f"{prefix}{error}") from None


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_options(
    parser: argparse.ArgumentParser,
    names: Iterable[str],
    *,
    overrides: bool = False,
    required: Iterable[str] = (),
    parse: Callable[[Callable], Callable] = lambda check: check,
    config_class: type = TrainConfig,
) -> None:
    """Add one option per ``TrainConfig`` field in ``names``, with its help, choices and check
    (``parse`` turns a check into an argparse ``type``). ``overrides``: every option defaults to
    None (not given: the config's value stands), as in ``motive experiment`` and ``motive tune``.
    ``config_class``: ``TrainConfig`` or a dataclass extending it with fields made by ``setting``."""
    specs = {spec.name: spec for spec in fields(config_class)}
    for name in names:
        spec = specs[name]
        meta = spec.metadata
        option = dict(meta["option"])
        flags = option.pop("flags", [option_name(name)])
        keywords: dict[str, Any] = {"dest": name, "help": meta["help"].replace("%", "%%")}  # argparse formats help
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if spec.type == "bool" or isinstance(default, bool):
            keywords["action"] = argparse.BooleanOptionalAction  # --name and --no-name
        else:
            if meta["choices"] is not None:
                keywords["choices"] = meta["choices"]
            check = option.pop("type", meta["check"])  # an option's own type parses one word of a list
            if check is not None and check is not str:
                keywords["type"] = parse(check)
        keywords |= option
        if name in required:
            keywords["required"] = True
        elif overrides:
            keywords["default"] = None
        elif default is not MISSING:
            keywords["default"] = default
            if not isinstance(default, bool) and default not in (None, [], {}):
                keywords["help"] += f" (default: {_shown(default)})"
        parser.add_argument(*flags, **keywords)


def _shown(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def settings_from(args: argparse.Namespace, names: Iterable[str]) -> dict:
    """The settings of ``names`` the command line gave (None: not given)."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
