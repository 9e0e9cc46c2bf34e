"""The command line's arguments, declared once per command; each command's handler is in
``motive.cli.commands``."""

from __future__ import annotations

import argparse

from motive import checks
from motive.cli import commands as handlers
from motive.errors import MotiveError
from motive.experiments.config import TUNE_SETTINGS, TuneSettings
from motive.names import DEVICES, GENE_TYPES, GRAPH_TYPES, NEGATIVE_MODES, SIGNAL_VIEWS, SPLITS
from motive.predict.settings import PREDICT_SETTINGS, PredictSettings
from motive.training.config import MODEL_SETTINGS, SETTINGS, TUNE_FIXED, add_options

DESCRIPTION = "The motive command: a thin layer over the library functions."


class _Parser(argparse.ArgumentParser):
    """argparse with the house error format (one line, exit status 2) and option help that may be
    computed when help is shown (``Action.help_from``: model names come from the registry, which
    imports torch, so only ``--help`` pays for it)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"motive: error: {message} (see `{self.prog} --help`)\n")

    def format_help(self) -> str:
        for action in self._actions:
            if getattr(action, "help_from", None) is not None:
                action.help = action.help_from()
        return super().format_help()


def _arg(check):
    """An argparse ``type=`` from a check of motive.checks (same message as the API)."""

    def convert(value: str):
        try:
            return check(value)
        except MotiveError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = check.__name__  # argparse names the type in some messages
    return convert


POSITIVE_INT, NONNEGATIVE_INT = _arg(checks.positive_int), _arg(checks.nonnegative_int)
POSITIVE_FLOAT, FRACTION = _arg(checks.positive_float), _arg(checks.fraction)
SEED = _arg(checks.seed)
SCALE = _arg(checks.at_most(checks.positive_float, 20, "20x MOTIVE's Table 2 counts; more does not fit in memory"))
SEEDS = _arg(checks.at_most(checks.positive_int, 10_000, "one run per seed"))
EXISTING_DIR, EXISTING_PATH = _arg(checks.existing_dir), _arg(checks.existing_path)


def _split_seed(value: str) -> int | str:
    if value == "vary":
        return value
    try:
        return checks.seed(value)
    except MotiveError as error:
        raise argparse.ArgumentTypeError(f"{error} (or 'vary')") from None


def _overwrite(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier motive output of the same kind at the output path (never anything else)",
    )


def _preset_help() -> str:
    from motive.experiments import presets

    return f"a preset ({', '.join(presets())}) or a YAML file (its relative paths: relative to it)"


def _model_help() -> str:
    from motive.models import model_names

    return f"a registered model: {', '.join(model_names())}, or a plugin's (default: gin_cp)"


def _settings(command: argparse.ArgumentParser, names, **options) -> None:
    """Options generated from ``TrainConfig`` fields (``motive.training.config.add_options``)."""
    add_options(command, names, parse=_arg, **options)
    for action in command._actions:
        if action.dest == "model":
            action.help_from = _model_help


def _data_parsers(commands) -> None:
    data = commands.add_parser("data", help="fetch, build, generate and describe datasets")
    actions = data.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser("fetch", help="copy or download a dataset's raw files, verify sha256, cache them")
    fetch.add_argument("name")
    fetch.add_argument("--mirror", type=EXISTING_DIR, help="local folder laid out like the manifest")
    fetch.add_argument("--cache", help="cache folder (default: $MOTIVE_CACHE or ~/.cache/motive)")
    fetch.set_defaults(run=handlers.data_fetch)

    build = actions.add_parser("build", help="fetch raw files and build a dataset into the official layout")
    build.add_argument("name")
    build.add_argument("--out", required=True)
    build.add_argument("--mirror", type=EXISTING_DIR)
    build.add_argument("--cache")
    _overwrite(build)
    build.set_defaults(run=handlers.data_build)

    build_inputs = actions.add_parser("build-inputs", help="build data/ from an official MOTIVE inputs/ tree")
    build_inputs.add_argument("inputs", type=EXISTING_DIR)
    build_inputs.add_argument("--out", required=True)
    build_inputs.add_argument("--gene-type", default="orf", choices=GENE_TYPES)
    build_inputs.add_argument("--max-degree", type=POSITIVE_INT, default=150)
    _overwrite(build_inputs)
    build_inputs.set_defaults(run=handlers.data_build_inputs)

    synth = actions.add_parser("synth", help="generate a synthetic dataset in the official layout")
    synth.add_argument("--out", required=True)
    synth.add_argument("--scale", type=SCALE, default=1.0, help="1 = MOTIVE's Table 2 counts (at most 20)")
    synth.add_argument("--seed", type=SEED, default=0)
    synth.add_argument("--signal", type=FRACTION, default=0.5, help="share of feature variance from the latent (0..1)")
    synth.add_argument(
        "--signal-view", default="profile", choices=SIGNAL_VIEWS, help="the compound view that carries the latent"
    )
    _overwrite(synth)
    synth.set_defaults(run=handlers.data_synth)

    stats = actions.add_parser("stats", help="Table 2 statistics of every graph type in a dataset folder")
    stats.add_argument("dataset", type=EXISTING_DIR)
    stats.add_argument("--gene-type", default="orf", choices=GENE_TYPES)
    stats.add_argument("--out", help="also write the Markdown table here")
    _overwrite(stats)
    stats.set_defaults(run=handlers.data_stats)


def _split_parsers(commands) -> None:
    group = commands.add_parser("split", help="make a split (audited) or audit split folders")
    actions = group.add_subparsers(dest="action", required=True, metavar="{make,audit}")
    split = actions.add_parser("make", help="split a graph; refused if its audit fails")
    split.add_argument("data", type=EXISTING_DIR, help="dataset folder (holding data/{graph_type}/{gene_type}/)")
    split.add_argument("--graph", required=True, choices=GRAPH_TYPES)
    split.add_argument("--split", required=True, choices=SPLITS)
    split.add_argument("--seed", type=SEED, default=0)
    split.add_argument("--gene-type", default="orf", choices=GENE_TYPES)
    split.add_argument("--negative-mode", default="batch", choices=NEGATIVE_MODES)
    split.add_argument("--out", help="split folder (default: DATA/data/G/orf/splits/SPLIT/seed_N)")
    split.add_argument("--frames", metavar="DIR", help="also write train/valid/test tables (TDC style) to DIR")
    _settings(split, ("eval_negatives",))
    split.add_argument(
        "--export-official",
        metavar="DIR",
        help="also write official split tables under DIR/data/G/orf/{random,source,target,zero_shot}",
    )
    _overwrite(split)
    split.set_defaults(run=handlers.split)

    split_audit = actions.add_parser("audit", help="audit every split under a graph folder, or one split folder")
    split_audit.add_argument(
        "dir", type=EXISTING_DIR, help="a graph folder (audits every split in it) or one split folder"
    )
    split_audit.set_defaults(run=handlers.split_audit)


def _train_parser(commands) -> None:
    train = commands.add_parser("train", help="train and evaluate one model on one split (writes a run folder)")
    _settings(train, SETTINGS, required=("data",))
    train.add_argument(
        "--official",
        action="store_true",
        help="use the dataset's published split folder for --split (data/G/orf/{random,source,target})",
    )
    train.add_argument("--out", required=True)
    _overwrite(train)
    train.set_defaults(run=handlers.train)


def _predict_parsers(commands) -> None:
    predict = commands.add_parser(
        "predict", help="rank every gene for new compound profiles (or every compound for new gene profiles)"
    )
    predict.add_argument("--run", dest="run_dir", metavar="RUN", required=True, type=EXISTING_DIR)
    add_options(predict, PREDICT_SETTINGS, parse=_arg, config_class=PredictSettings)
    predict.add_argument(
        "--smiles", action="append", metavar="SMILES", help="a compound by SMILES (repeatable; not with --compounds)"
    )
    predict.add_argument(
        "--all", action="store_true", help="every compound x every gene, top-k each way, resumable; --out is a folder"
    )
    predict.add_argument("--block", type=POSITIVE_INT, default=1024, help="compounds per block in --all mode")
    predict.add_argument("--out", required=True, help="RANKED.parquet (or a folder with --all)")
    predict.add_argument(
        "--report", metavar="DIR", help="also write DIR/index.html: top candidates, evidence, warnings"
    )
    _overwrite(predict)
    predict.set_defaults(run=handlers.predict)

    evaluate = commands.add_parser("evaluate", help="re-score a run folder from its checkpoint")
    evaluate.add_argument("run_dir", metavar="RUN", type=EXISTING_DIR)
    evaluate.add_argument("--device", default="auto", choices=DEVICES)
    evaluate.add_argument("--data", type=EXISTING_DIR, help="the run's dataset moved elsewhere (same graph hash)")
    _settings(evaluate, ("plugins",))
    evaluate.set_defaults(run=handlers.evaluate)


def _experiment_parser(commands) -> None:
    experiment = commands.add_parser(
        "experiment", help="run (or resume) a grid of graph x split x model x seed; results.parquet"
    )
    experiment.add_argument("config", help="a preset or a YAML file (its relative paths: relative to it)")
    experiment._actions[-1].help_from = _preset_help
    _settings(experiment, ("data", "plugins"), overrides=True)
    experiment.add_argument("--out", help="results folder; rerunning into it resumes (finished runs are reused)")
    experiment.add_argument("--seeds", type=SEEDS, help="number of model seeds (0..N-1)")
    experiment.add_argument("--split-seed", type=_split_seed, help="split seed of every run, or 'vary' (= model seed)")
    experiment.add_argument("--models", help="comma-separated model names (default: the config's)")
    experiment.add_argument("--splits", help=f"comma-separated splits: {', '.join(SPLITS)}")
    experiment.add_argument("--graphs", help=f"comma-separated graph types: {', '.join(GRAPH_TYPES)}")
    experiment.add_argument("--workers", type=POSITIVE_INT, help="runs at once on this machine (local Dask cluster)")
    experiment.add_argument("--cluster", help="a running Dask cluster: tcp://HOST:PORT or SCHEDULER_FILE.json")
    experiment.add_argument("--params", choices=["default", "best"], help="best: the best trial of each tune study")
    experiment.add_argument("--study-storage", help="with --params best: a storage URL or a `motive tune` folder")
    _settings(experiment, [name for name in MODEL_SETTINGS if name != "model"], overrides=True)
    experiment.set_defaults(run=handlers.experiment)


def _tune_parser(commands) -> None:
    tune = commands.add_parser("tune", help="hyper-parameter search (Optuna) on the validation metric")
    _settings(tune, ("data", "graph", "split", "model", "plugins"), required=("data",))
    add_options(
        tune, [n for n in TUNE_SETTINGS if n not in ("model", "graph", "split")], parse=_arg, config_class=TuneSettings
    )
    tune.add_argument("--out", required=True, help="tune folder; rerunning adds trials")
    _settings(tune, TUNE_FIXED, overrides=True)
    tune.set_defaults(run=handlers.tune)


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="motive", description=DESCRIPTION)
    top.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    top.add_argument(
        "-v", "--verbose", action="store_true", help="also the INFO logs of Dask and the other libraries motive uses"
    )
    top.add_argument("--version", action="version", version=f"motive {_version()}")
    commands = top.add_subparsers(dest="command", required=True)
    _data_parsers(commands)
    _split_parsers(commands)
    _train_parser(commands)
    _predict_parsers(commands)
    _experiment_parser(commands)
    _tune_parser(commands)
    plates = commands.add_parser("profiles", help="Cell Painting plates to one profile per compound (pycytominer)")
    plates.add_argument("plates", nargs="+", type=EXISTING_PATH, help="well-level profiles (CSV/parquet, Metadata_*)")
    plates.add_argument("--reference", type=EXISTING_DIR, help="a run or dataset folder: its feature list")
    plates.add_argument("--negcon", help="the control wells (default: Metadata_pert_type == 'negcon', else DMSO)")
    plates.add_argument("--per-dose", action="store_true", help="one row per compound and dose")
    plates.add_argument("--out", required=True, help="FEATURES.parquet")
    _overwrite(plates)
    plates.set_defaults(run=handlers.profiles)
    score = commands.add_parser("score", help="motive's metrics for predictions made elsewhere, on a stored split")
    score.add_argument("split_folder", type=EXISTING_DIR, help="a split folder (motive split, or official tables)")
    score.add_argument("predictions", type=EXISTING_PATH, help="source, target, score[, stage] of the scored pairs")
    score.add_argument("--ranking", type=EXISTING_PATH, help="query, candidate, score: the full ranking (optional)")
    _settings(score, ("hits_k", "eval_negatives", "bootstrap"))
    score.add_argument("--out", required=True, help="METRICS.json")
    _overwrite(score)
    score.set_defaults(run=handlers.score)
    report = commands.add_parser("report", help="tables (mean ± std), figures and index.html from an experiment")
    report.add_argument("results", type=EXISTING_DIR, help="an experiment's results folder")
    report.add_argument("--out", required=True, help="report folder")
    _overwrite(report)
    report.set_defaults(run=handlers.report)
    _quiet_everywhere(top)
    return top


def _quiet_everywhere(command: argparse.ArgumentParser) -> None:
    """``-q`` is accepted after any (sub)command too: ``motive experiment ... -q``."""
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                if not any("-q" in a.option_strings for a in sub._actions):
                    sub.add_argument(
                        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors on stderr"
                    )
                _quiet_everywhere(sub)


def _version() -> str:
    from motive import __version__

    return __version__
