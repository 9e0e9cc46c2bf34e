"""The ``motive`` command: a thin layer over the library functions.

Usage:
  motive data fetch l1000 --mirror ../shared/data/raw      # verified copy into the cache
  motive data build l1000 --mirror ../shared/data/raw --out runs/l1000
  motive data build-inputs path/to/inputs --out runs/official [--gene-type orf]
  motive data synth --out runs/synthetic --scale 1 --seed 0
  motive data stats runs/l1000 [--out stats.md]
  motive split runs/l1000 --graph st_expanded --split cold_source --seed 0 [--export-official DIR]
  motive split audit runs/l1000/data/st_expanded/orf      # every split under a graph folder
  motive train --data runs/l1000 --graph st_expanded --split cold_source --model gin_cp --seed 0 --out runs/gin
  motive train --data DIR --split-dir DIR/data/st_expanded/orf/source --model gin_cp --ranking-eval --out RUN
  motive evaluate runs/gin
  motive experiment paper --data runs/l1000 --hits-k 25 --out runs/paper   # a preset, or a YAML file
  motive report runs/paper --out runs/paper-report
  motive tune --data runs/l1000 --split cold_source --model gin_cp --trials 20 --out runs/tune-gin [--storage URL]

Errors in the input are one line on stderr and exit status 2. Outputs are written atomically
and never replace anything motive did not make; replacing an earlier motive output of the same
kind needs --overwrite (see motive/outputs.py).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import re
import sys
from pathlib import Path

from motive import checks
from motive.config import MODEL_SETTINGS, SETTINGS, TUNE_FIXED, add_options, settings_from
from motive.errors import MotiveError
from motive.names import DEVICES, GENE_TYPES, GRAPH_TYPES, NEGATIVE_MODES, SIGNAL_VIEWS, SPLITS

log = logging.getLogger("motive")


def _data_fetch(args: argparse.Namespace) -> None:
    from motive.datasets.registry import fetch, get_dataset

    if get_dataset(args.name).files.empty:
        raise MotiveError(f"dataset {args.name!r} is generated, not fetched; run `motive data synth --out DIR`")
    raw_dir = fetch(args.name, args.mirror, args.cache)
    print(raw_dir)


def _data_build(args: argparse.Namespace) -> None:
    from motive.datasets import l1000
    from motive.datasets.registry import fetch, get_dataset

    get_dataset(args.name)
    if args.name != "l1000":
        raise MotiveError(f"dataset {args.name!r} is not built from raw files; run `motive data synth --out DIR`")
    import pandas as pd

    from motive.outputs import check_target
    from motive.stats import to_markdown

    check_target(args.out, "dataset", args.overwrite)  # before fetching
    description = l1000.build(fetch(args.name, args.mirror, args.cache), args.out, args.overwrite)
    print(to_markdown(pd.DataFrame(description["statistics"])))


def _data_build_inputs(args: argparse.Namespace) -> None:
    from motive import layout
    from motive.build import build_from_inputs
    from motive.outputs import check_target, output_dir

    check_target(args.out, "dataset", args.overwrite)
    graphs = build_from_inputs(args.inputs, args.gene_type, args.max_degree)
    with output_dir(args.out, "dataset", args.overwrite) as tmp:
        layout.write_dataset(graphs, tmp, args.gene_type)
    _print_table(graphs)


def _data_synth(args: argparse.Namespace) -> None:
    from motive import layout, synth
    from motive.outputs import check_target, output_dir
    from motive.views import STRUCTURE_FILE

    check_target(args.out, "dataset", args.overwrite)
    config = synth.SynthConfig(scale=args.scale, seed=args.seed, signal=args.signal, signal_view=args.signal_view)
    try:
        graphs, structure = synth.generate_with_views(config)
    except ValueError as error:
        raise MotiveError(f"--scale/--signal: {error}") from None
    with output_dir(args.out, "dataset", args.overwrite) as tmp:
        layout.write_dataset(graphs, tmp, "orf")
        (tmp / STRUCTURE_FILE).parent.mkdir()
        structure.to_parquet(tmp / STRUCTURE_FILE)
        description = synth.describe(config) | {"graph_hashes": {gt: g.content_hash() for gt, g in graphs.items()}}
        (tmp / "dataset.json").write_text(json.dumps(description, indent=2) + "\n")
    _print_table(graphs)


def _print_table(graphs: dict, out: str | Path | None = None, overwrite: bool = False) -> None:
    from motive.outputs import markdown_header, output_file
    from motive.stats import table2, to_markdown

    text = to_markdown(table2(graphs))
    print(text)
    if out is not None:
        with output_file(out, "stats", overwrite) as tmp:
            tmp.write_text(markdown_header("stats") + text + "\n")


def _data_stats(args: argparse.Namespace) -> None:
    from motive import layout
    from motive.outputs import check_file_target

    if args.out is not None:
        check_file_target(args.out, "stats", args.overwrite)
    _print_table(layout.read_dataset(args.dataset, args.gene_type), args.out, args.overwrite)


def _split(args: argparse.Namespace) -> None:
    from motive.split_folders import split_folder
    from motive.splits import SplitConfig

    done = split_folder(
        args.data,
        args.graph,
        SplitConfig(args.split, args.seed, negative_mode=args.negative_mode),
        gene_type=args.gene_type,
        out=args.out,
        frames=args.frames,
        eval_negatives=args.eval_negatives,
        export_official=args.export_official,
        overwrite=args.overwrite,
    )
    if done.frames:
        print(f"train / valid / test tables: {done.frames}")
    if done.official:
        print(f"official split tables: {done.official}")
    print(done.report.to_markdown())
    print(
        f"split at {done.folder} exists and is identical; reused" if done.reused else f"split written to {done.folder}"
    )


def _split_audit(args: argparse.Namespace) -> None:
    from motive.split_folders import audit_folders

    found = audit_folders(args.dir)
    for name, kind, report in found:
        print(f"## {name} ({kind})\n\n{report.to_markdown()}\n")
    failed = [f"{name}: {report.first_failure()}" for name, _, report in found if not report.passed]
    if failed:
        raise MotiveError(f"{len(failed)} of {len(found)} splits leak; first: {failed[0]}")


def _train(args: argparse.Namespace) -> None:
    from motive.config import SETTINGS, TrainConfig
    from motive.runs import metrics_table
    from motive.train import run

    settings = settings_from(args, SETTINGS)
    if args.official:
        from motive.split_folders import official_split_dir

        if args.split_dir is not None:
            raise MotiveError("pass --split-dir or --official, not both")
        settings["split_dir"] = official_split_dir(args.data, args.graph, args.gene_type, args.split)
    summary = run(TrainConfig(**settings), args.out, overwrite=args.overwrite)
    print(metrics_table({"valid": summary["valid"], "test": summary["test"]}))
    print(
        f"best epoch {summary['best_epoch']} of {summary['epochs_run']}, {summary['seconds_per_epoch']} s/epoch, "
        f"{summary['seconds']} s; views: "
        + "; ".join(f"{side} {' + '.join(names)}" for side, names in summary["config"]["views"].items())
        + f"; run written to {args.out}"
    )


def _predict(args: argparse.Namespace) -> None:
    from motive import outputs
    from motive.predict import predict, predict_all

    queries = {"compounds": args.compounds, "genes": args.genes, "exclude_known": args.exclude_known}
    queries["plugins"] = args.plugins or ()
    if args.all:
        for flag, given in (("--report", args.report), ("--edges", args.edges)):
            if given:
                raise MotiveError(
                    f"{flag} is not for --all (a full matrix has no page and takes no edges); drop it, or predict the "
                    "compounds you want explained without --all"
                )
        summary = predict_all(
            args.run_dir,
            args.out,
            **queries,
            top_k=args.top_k or 50,
            block=args.block,
            device=args.device,
            overwrite=args.overwrite,
            progress=not args.quiet,
            data=args.data,
            allow_existing=args.allow_existing,
        )
        print(
            f"{summary['compounds']:,} compounds x {summary['genes']:,} genes, top {summary['genes_per_compound']} "
            f"genes per compound and {summary['compounds_per_gene']} compounds per gene, "
            f"{summary['seconds']} s; written to {args.out}"
        )
        return
    outputs.check_file_target(args.out, "predictions", args.overwrite)
    if args.report:
        outputs.check_target(args.report, "prediction_report", args.overwrite)
    table = predict(
        args.run_dir,
        **queries,
        top_k=args.top_k,
        edges=args.edges,
        allow_existing=args.allow_existing,
        device=args.device,
        data=args.data,
    )
    with outputs.output_file(args.out, "predictions", args.overwrite) as tmp:
        outputs.write_marked_parquet(table, tmp, "predictions")
    if args.report:
        _prediction_report(args, table)
    top = table[table["rank"] <= 3]
    print(top.to_string(index=False, max_rows=30))
    print(
        f"{table['query'].nunique()} queries x {table.groupby('query').size().max()} candidates written to {args.out} "
        "(scores rank candidates; they are not probabilities)"
    )


def _prediction_report(args: argparse.Namespace, table) -> None:
    from motive import outputs
    from motive.pages import predictions_report

    with outputs.output_dir(args.report, "prediction_report", args.overwrite) as tmp:
        (tmp / "index.html").write_text(predictions_report(table, args.run_dir, Path(args.out).name))
    print(f"report: {Path(args.report) / 'index.html'}")


EXPERIMENT_ARGUMENTS = ("data", "out", "seeds", "models", "splits", "graphs", "split_seed")
EXPERIMENT_ARGUMENTS += ("workers", "cluster", "params", "study_storage")


def _experiment(args: argparse.Namespace) -> int:
    from motive.config import MODEL_SETTINGS
    from motive.experiments import load_config, run_experiment

    config = load_config(args.config)
    config |= {key: getattr(args, key) for key in EXPERIMENT_ARGUMENTS if getattr(args, key) is not None}
    if args.models and isinstance(config.get("models"), dict):  # keep the config's settings of the models still named
        config["models"] = {name: config["models"].get(name, {}) for name in args.models.split(",")}
    config["settings"] = dict(config.get("settings") or {}) | settings_from(args, MODEL_SETTINGS)
    config["plugins"] = [*config.get("plugins", []), *(args.plugins or [])]
    table = run_experiment(**config, progress=not args.quiet)
    counts = table["status"].value_counts()
    print(
        ", ".join(f"{counts[status]} {status}" for status in ("done", "reused", "n/a", "failed") if status in counts)
        + f"; results in {Path(config['out']) / 'results.parquet'}"
    )
    if "failed" in counts:
        for _, failed in table[table["status"] == "failed"].iterrows():
            print(f"failed: {failed['run']}: {failed['error']}", file=sys.stderr)
        print(
            f"motive: error: {counts['failed']} of {len(table)} runs failed (tracebacks in "
            f"{Path(config['out']) / 'failed'}); fix and rerun the same command to redo only those",
            file=sys.stderr,
        )
        return 1
    return 0


def _tune(args: argparse.Namespace) -> None:
    from motive.tune import tune

    settings = settings_from(args, TUNE_FIXED)
    if args.plugins:
        settings["plugins"] = args.plugins
    result = tune(
        args.data,
        args.out,
        model=args.model,
        graph=args.graph,
        split=args.split,
        trials=args.trials,
        storage=args.storage,
        study=args.study,
        sampler=args.sampler,
        seed=args.seed,
        prune=not args.no_prune,
        settings=settings,
        workers=args.workers,
        cluster=args.cluster,
        progress=not args.quiet,
    )
    print(
        f"study {result['study']}: {result['trials']} trials ({result['added']} added, {result['completed']} complete, "
        f"{result['pruned']} pruned) in {result['seconds']} s; "
        f"best trial {result['best_trial']}: validation {result['best_value']:.4f} with "
        f"{json.dumps(result['best_params'])}; "
        f"config for `motive experiment`: {Path(args.out) / 'best_params.yaml'}"
    )


def _score(args: argparse.Namespace) -> None:
    from motive import outputs
    from motive.runs import metrics_table
    from motive.scoring import Evaluator

    outputs.check_file_target(args.out, "scores", args.overwrite)
    evaluator = Evaluator(
        args.split_folder, hits_k=args.hits_k, eval_negatives=args.eval_negatives, bootstrap=args.bootstrap
    )
    results = evaluator.eval(args.predictions, args.ranking)
    with outputs.output_file(args.out, "scores", args.overwrite) as tmp:
        tmp.write_text(json.dumps({"motive_kind": "scores", **results}, indent=2) + "\n")
    print(metrics_table(results))
    print(f"written to {args.out}")


def _profiles(args: argparse.Namespace) -> None:
    from motive import outputs
    from motive.profiles import profiles

    outputs.check_file_target(args.out, "compound_profiles", args.overwrite)
    table = profiles(args.plates, reference=args.reference, negcon=args.negcon, per_dose=args.per_dose)
    with outputs.output_file(args.out, "compound_profiles", args.overwrite) as tmp:
        outputs.write_marked_parquet(table.reset_index(), tmp, "compound_profiles")
    inactive = int((~table["Metadata_active"]).sum())
    print(f"{len(table)} compounds ({inactive} indistinguishable from the controls) written to {args.out}")


def _report(args: argparse.Namespace) -> None:
    from motive.report import report

    written = report(args.results, args.out, args.overwrite)
    print(f"report written to {args.out}: {', '.join(written)}")


def _evaluate(args: argparse.Namespace) -> None:
    from motive.runs import metrics_table
    from motive.train import evaluate_run

    print(metrics_table(evaluate_run(args.run_dir, device=args.device, data=args.data, plugins=args.plugins or ())))


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
    """Options generated from ``TrainConfig`` fields (``motive.config.add_options``)."""
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
    fetch.set_defaults(run=_data_fetch)

    build = actions.add_parser("build", help="fetch raw files and build a dataset into the official layout")
    build.add_argument("name")
    build.add_argument("--out", required=True)
    build.add_argument("--mirror", type=EXISTING_DIR)
    build.add_argument("--cache")
    _overwrite(build)
    build.set_defaults(run=_data_build)

    build_inputs = actions.add_parser("build-inputs", help="build data/ from an official MOTIVE inputs/ tree")
    build_inputs.add_argument("inputs", type=EXISTING_DIR)
    build_inputs.add_argument("--out", required=True)
    build_inputs.add_argument("--gene-type", default="orf", choices=GENE_TYPES)
    build_inputs.add_argument("--max-degree", type=POSITIVE_INT, default=150)
    _overwrite(build_inputs)
    build_inputs.set_defaults(run=_data_build_inputs)

    synth = actions.add_parser("synth", help="generate a synthetic dataset in the official layout")
    synth.add_argument("--out", required=True)
    synth.add_argument("--scale", type=SCALE, default=1.0, help="1 = MOTIVE's Table 2 counts (at most 20)")
    synth.add_argument("--seed", type=SEED, default=0)
    synth.add_argument("--signal", type=FRACTION, default=0.5, help="share of feature variance from the latent (0..1)")
    synth.add_argument(
        "--signal-view", default="profile", choices=SIGNAL_VIEWS, help="the compound view that carries the latent"
    )
    _overwrite(synth)
    synth.set_defaults(run=_data_synth)

    stats = actions.add_parser("stats", help="Table 2 statistics of every graph type in a dataset folder")
    stats.add_argument("dataset", type=EXISTING_DIR)
    stats.add_argument("--gene-type", default="orf", choices=GENE_TYPES)
    stats.add_argument("--out", help="also write the Markdown table here")
    _overwrite(stats)
    stats.set_defaults(run=_data_stats)


def _split_parsers(commands) -> None:
    split = commands.add_parser("split", help="split a graph (audited), or `motive split audit DIR`")
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
    split.set_defaults(run=_split)

    split_audit = commands.add_parser("split-audit", help="audit split folders (also: `motive split audit DIR`)")
    split_audit.add_argument(
        "dir", type=EXISTING_DIR, help="a graph folder (audits every split in it) or one split folder"
    )
    split_audit.set_defaults(run=_split_audit)


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
    train.set_defaults(run=_train)


def _predict_parsers(commands) -> None:
    predict = commands.add_parser(
        "predict", help="rank every gene for new compound profiles (or every compound for new gene profiles)"
    )
    predict.add_argument("--run", dest="run_dir", metavar="RUN", required=True, type=EXISTING_DIR)
    predict.add_argument("--compounds", type=EXISTING_PATH, help="compound profiles (Metadata_InChIKey + features)")
    predict.add_argument("--genes", type=EXISTING_PATH, help="gene profiles (Metadata_Symbol + the run's features)")
    predict.add_argument("--top-k", type=POSITIVE_INT, help="keep the K best candidates per query (default: all)")
    predict.add_argument("--exclude-known", action="store_true", help="drop pairs the dataset already knows")
    predict.add_argument("--edges", type=EXISTING_PATH, help="known edges of the new nodes: query, node[, node_side]")
    predict.add_argument("--allow-existing", action="store_true", help="queries may be nodes of the graph")
    predict.add_argument(
        "--all", action="store_true", help="every compound x every gene, top-k each way, resumable; --out is a folder"
    )
    predict.add_argument("--block", type=POSITIVE_INT, default=1024, help="compounds per block in --all mode")
    predict.add_argument("--device", default="auto", choices=DEVICES)
    predict.add_argument("--data", type=EXISTING_DIR, help="the run's dataset moved elsewhere (same graph hash)")
    _settings(predict, ("plugins",))
    predict.add_argument("--out", required=True, help="RANKED.parquet (or a folder with --all)")
    predict.add_argument(
        "--report", metavar="DIR", help="also write DIR/index.html: top candidates, evidence, warnings"
    )
    _overwrite(predict)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser("evaluate", help="re-score a run folder from its checkpoint")
    evaluate.add_argument("run_dir", metavar="RUN", type=EXISTING_DIR)
    evaluate.add_argument("--device", default="auto", choices=DEVICES)
    evaluate.add_argument("--data", type=EXISTING_DIR, help="the run's dataset moved elsewhere (same graph hash)")
    _settings(evaluate, ("plugins",))
    evaluate.set_defaults(run=_evaluate)


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
    experiment.set_defaults(run=_experiment)


def _tune_parser(commands) -> None:
    tune = commands.add_parser("tune", help="hyper-parameter search (Optuna) on the validation metric")
    _settings(tune, ("data", "graph", "split", "model", "plugins"), required=("data",))
    tune.add_argument("--trials", type=POSITIVE_INT, default=20, help="trials this call adds to the study")
    tune.add_argument("--storage", help="SQLAlchemy URL shared by several machines (default: sqlite OUT/study.db)")
    tune.add_argument("--study", help="study name (default: GRAPH-SPLIT-MODEL)")
    tune.add_argument("--sampler", default="random", choices=["random", "tpe"], help="random search (paper) or TPE")
    tune.add_argument("--seed", type=SEED, default=0, help="sampler seed; give each machine its own")
    tune.add_argument("--no-prune", action="store_true", help="train every trial to the end (default: median pruning)")
    tune.add_argument("--workers", type=POSITIVE_INT, default=1, help="trials at once on this machine")
    tune.add_argument("--cluster", help="a running Dask cluster: tcp://HOST:PORT or SCHEDULER_FILE.json")
    tune.add_argument("--out", required=True, help="tune folder; rerunning adds trials")
    _settings(tune, TUNE_FIXED, overrides=True)
    tune.set_defaults(run=_tune)


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="motive", description=__doc__.split("\n")[0])
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
    plates.set_defaults(run=_profiles)
    score = commands.add_parser("score", help="motive's metrics for predictions made elsewhere, on a stored split")
    score.add_argument("split_folder", type=EXISTING_DIR, help="a split folder (motive split, or official tables)")
    score.add_argument("predictions", type=EXISTING_PATH, help="source, target, score[, stage] of the scored pairs")
    score.add_argument("--ranking", type=EXISTING_PATH, help="query, candidate, score: the full ranking (optional)")
    _settings(score, ("hits_k", "eval_negatives", "bootstrap"))
    score.add_argument("--out", required=True, help="METRICS.json")
    _overwrite(score)
    score.set_defaults(run=_score)
    report = commands.add_parser("report", help="tables (mean ± std), figures and index.html from an experiment")
    report.add_argument("results", type=EXISTING_DIR, help="an experiment's results folder")
    report.add_argument("--out", required=True, help="report folder")
    _overwrite(report)
    report.set_defaults(run=_report)
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


STORAGE_ERRORS = {
    errno.ENOSPC: "no space left on the device (free some, or write elsewhere)",
    errno.EDQUOT: "disk quota exceeded (free some space, or write elsewhere)",
    errno.EROFS: "read-only file system (write elsewhere)",
    errno.EACCES: "permission denied (write elsewhere, or ask for access)",
    errno.EPERM: "operation not permitted (write elsewhere)",
    errno.EFBIG: "file too large for this file system",
}


def storage_problem(error: OSError, out: str | None = None) -> str | None:
    """One line for an OSError that is the storage's doing (full, read-only, forbidden), else None
    (a bug: the traceback stays). pyarrow's errors carry the text but no errno; ``out``: the
    output the command was writing, named when the error names no file."""
    code = error.errno
    if code is None:
        text = str(error)
        code = next((c for c, words in STORAGE_TEXT.items() if words in text), None)
    if code not in STORAGE_ERRORS:
        return None
    where = error.filename or next(iter(re.findall(r"'(/[^']+)'", str(error))), None) or out
    return f"{where}: {STORAGE_ERRORS[code]}" if where else STORAGE_ERRORS[code]


STORAGE_TEXT = {
    errno.ENOSPC: "No space left",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EROFS: "Read-only file system",
    errno.EACCES: "Permission denied",
}


LIBRARY_LOGGERS = ("distributed", "dask", "tornado", "bokeh", "urllib3", "alembic", "mlflow")


def quiet_libraries(verbose: bool) -> None:
    """Other libraries' INFO logs (Dask's scheduler, nanny and worker lines) only with -v; their
    warnings always. Dask's worker processes read the level from the environment they inherit."""
    import os

    level = logging.INFO if verbose else logging.WARNING
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    os.environ["DASK_LOGGING__DISTRIBUTED"] = logging.getLevelName(level).lower()


def _version() -> str:
    from motive import __version__

    return __version__


def _command_of(top: argparse.ArgumentParser, run) -> argparse.ArgumentParser:
    """The (sub)command whose handler is ``run``."""
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found = sub if sub.get_default("run") is run else _command_of(sub, run)
                if found is not None:
                    return found
    return None


def with_flags(message: str, command: argparse.ArgumentParser | None) -> str:
    """A library error as the command line says it: a parameter named `like_this` becomes the
    command's option (--like-this) when the command has one."""
    if command is None:
        return message
    flags = {action.dest: action.option_strings[-1] for action in command._actions if action.option_strings}
    return re.sub(r"`([a-z_]+)`", lambda match: flags.get(match.group(1), match.group(0)), message)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    position = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if position is not None and argv[position : position + 2] == ["split", "audit"]:
        argv[position : position + 2] = ["split-audit"]
    top = parser()
    try:
        args = top.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a bad argument (2, already printed)
        return int(exit_.code or 0)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    quiet_libraries(verbose=args.verbose)
    try:
        code = args.run(args)
    except MotiveError as error:
        print(f"motive: error: {with_flags(str(error), _command_of(top, args.run))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motive: interrupted; outputs not finished were not written", file=sys.stderr)
        return 130
    except OSError as error:  # the machine, not motive: a full disk, a read-only or forbidden folder
        reason = storage_problem(error, getattr(args, "out", None))
        if reason is None:
            raise
        print(f"motive: error: {reason}; outputs not finished were not written", file=sys.stderr)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
