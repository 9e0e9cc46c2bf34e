"""The commands' handlers: each reads its parsed arguments, calls one library function and prints
what it did (``motive.cli.parsers`` declares the arguments)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from motive.errors import MotiveError
from motive.training.config import MODEL_SETTINGS, SETTINGS, TUNE_FIXED, settings_from

log = logging.getLogger("motive")


def data_fetch(args: argparse.Namespace) -> None:
    from motive.data.datasets.registry import fetch, get_dataset

    if get_dataset(args.name).files.empty:
        raise MotiveError(f"dataset {args.name!r} is generated, not fetched; run `motive data synth --out DIR`")
    raw_dir = fetch(args.name, args.mirror, args.cache)
    print(raw_dir)


def data_build(args: argparse.Namespace) -> None:
    from motive.data.datasets import l1000
    from motive.data.datasets.registry import fetch, get_dataset

    get_dataset(args.name)
    if args.name != "l1000":
        raise MotiveError(f"dataset {args.name!r} is not built from raw files; run `motive data synth --out DIR`")
    import pandas as pd

    from motive.data.stats import to_markdown
    from motive.outputs import check_target

    check_target(args.out, "dataset", args.overwrite)  # before fetching
    description = l1000.build(fetch(args.name, args.mirror, args.cache), args.out, args.overwrite)
    print(to_markdown(pd.DataFrame(description["statistics"])))


def data_build_inputs(args: argparse.Namespace) -> None:
    from motive.data import layout
    from motive.data.build import build_from_inputs
    from motive.outputs import check_target, output_dir

    check_target(args.out, "dataset", args.overwrite)
    graphs = build_from_inputs(args.inputs, args.gene_type, args.max_degree)
    with output_dir(args.out, "dataset", args.overwrite) as tmp:
        layout.write_dataset(graphs, tmp, args.gene_type)
    _print_table(graphs)


def data_synth(args: argparse.Namespace) -> None:
    from motive.data import layout, synth
    from motive.data.views import STRUCTURE_FILE
    from motive.outputs import check_target, output_dir

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
    from motive.data.stats import table2, to_markdown
    from motive.marks import markdown_header
    from motive.outputs import output_file

    text = to_markdown(table2(graphs))
    print(text)
    if out is not None:
        with output_file(out, "stats", overwrite) as tmp:
            tmp.write_text(markdown_header("stats") + text + "\n")


def data_stats(args: argparse.Namespace) -> None:
    from motive.data import layout
    from motive.outputs import check_file_target

    if args.out is not None:
        check_file_target(args.out, "stats", args.overwrite)
    _print_table(layout.read_dataset(args.dataset, args.gene_type), args.out, args.overwrite)


def split(args: argparse.Namespace) -> None:
    from motive.splits import SplitConfig
    from motive.splits.folders import split_folder

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


def split_audit(args: argparse.Namespace) -> None:
    from motive.splits.folders import audit_folders

    found = audit_folders(args.dir)
    for name, kind, report in found:
        print(f"## {name} ({kind})\n\n{report.to_markdown()}\n")
    failed = [f"{name}: {report.first_failure()}" for name, _, report in found if not report.passed]
    if failed:
        raise MotiveError(f"{len(failed)} of {len(found)} splits leak; first: {failed[0]}")


def train(args: argparse.Namespace) -> None:
    from motive.training.config import TrainConfig
    from motive.training.loop import run
    from motive.training.runs import metrics_table

    settings = settings_from(args, SETTINGS)
    if args.official:
        from motive.splits.folders import official_split_dir

        if args.split_dir is not None:
            raise MotiveError("pass --split-dir or --official, not both")
        settings["split_dir"] = official_split_dir(args.data, args.graph, args.gene_type, args.split)
    summary = run(TrainConfig(**settings), args.out, overwrite=args.overwrite)
    print(metrics_table({stage: summary[stage] for stage in ("valid", "test") if stage in summary}))
    if summary.get("final"):
        held_out = {"random": "links", "cold_source": "compounds", "cold_target": "genes"}.get(args.split, "pairs")
        print(
            "a final model: no test stage; its expected precision was fitted on its valid stage "
            f"(held-out {held_out}, as a new query would be), and prediction sees every known link"
        )
    print(
        f"best epoch {summary['best_epoch']} of {summary['epochs_run']}, {summary['seconds_per_epoch']} s/epoch, "
        f"{summary['seconds']} s; views: "
        + "; ".join(f"{side} {' + '.join(names)}" for side, names in summary["config"]["views"].items())
        + f"; run written to {args.out}"
    )


def predict(args: argparse.Namespace) -> None:
    from motive import outputs
    from motive.predict import predict, predict_all
    from motive.predict.settings import PREDICT_SETTINGS

    compounds = args.compounds
    if args.smiles:
        from motive.predict.structures import from_smiles

        if args.compounds or args.genes or args.all:
            raise MotiveError("--smiles is for new compounds alone: drop --compounds, --genes or --all")
        compounds = from_smiles(args.smiles)
    queries = {"compounds": compounds, "genes": args.genes, "exclude_known": args.exclude_known}
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
    predictions = predict(args.run_dir, **(settings_from(args, PREDICT_SETTINGS) | {"compounds": compounds}))
    predictions.to_parquet(args.out, args.overwrite)
    if args.report:
        with outputs.output_dir(args.report, "prediction_report", args.overwrite) as tmp:
            (tmp / "index.html").write_text(predictions.to_html(Path(args.out).name))
        print(f"report: {Path(args.report) / 'index.html'}")
    table = predictions.table
    top = table[table["rank"] <= 3]
    print(top.to_string(index=False, max_rows=30))
    print(
        f"{table['query'].nunique()} queries x {table.groupby('query').size().max()} candidates written to {args.out} "
        "(scores rank candidates; they are not probabilities)"
    )


EXPERIMENT_ARGUMENTS = ("data", "out", "seeds", "models", "splits", "graphs", "split_seed")
EXPERIMENT_ARGUMENTS += ("workers", "cluster", "params", "study_storage")


def experiment(args: argparse.Namespace) -> int:
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


def tune(args: argparse.Namespace) -> None:
    from motive.experiments.config import TUNE_SETTINGS
    from motive.experiments.tune import tune

    settings = settings_from(args, TUNE_FIXED)
    if args.plugins:
        settings["plugins"] = args.plugins
    options = settings_from(args, TUNE_SETTINGS)
    result = tune(args.data, args.out, settings=settings, progress=not args.quiet, **options)
    print(
        f"study {result['study']}: {result['trials']} trials ({result['added']} added, {result['completed']} complete, "
        f"{result['pruned']} pruned) in {result['seconds']} s; "
        f"best trial {result['best_trial']}: validation {result['best_value']:.4f} with "
        f"{json.dumps(result['best_params'])}; "
        f"config for `motive experiment`: {Path(args.out) / 'best_params.yaml'}"
    )


def score(args: argparse.Namespace) -> None:
    from motive import outputs
    from motive.evaluation.scoring import Evaluator
    from motive.training.runs import metrics_table

    outputs.check_file_target(args.out, "scores", args.overwrite)
    evaluator = Evaluator(
        args.split_folder, hits_k=args.hits_k, eval_negatives=args.eval_negatives, bootstrap=args.bootstrap
    )
    results = evaluator.eval(args.predictions, args.ranking)
    with outputs.output_file(args.out, "scores", args.overwrite) as tmp:
        tmp.write_text(json.dumps({"motive_kind": "scores", **results}, indent=2) + "\n")
    print(metrics_table(results))
    print(f"written to {args.out}")


def profiles(args: argparse.Namespace) -> None:
    from motive import marks, outputs
    from motive.data.profiles import profiles

    outputs.check_file_target(args.out, "compound_profiles", args.overwrite)
    table = profiles(args.plates, reference=args.reference, negcon=args.negcon, per_dose=args.per_dose)
    with outputs.output_file(args.out, "compound_profiles", args.overwrite) as tmp:
        marks.write_marked_parquet(table.reset_index(), tmp, "compound_profiles")
    inactive = int((~table["Metadata_active"]).sum())
    print(f"{len(table)} compounds ({inactive} indistinguishable from the controls) written to {args.out}")


def report(args: argparse.Namespace) -> None:
    from motive.report import report

    written = report(args.results, args.out, args.overwrite)
    print(f"report written to {args.out}: {', '.join(written)}")


def evaluate(args: argparse.Namespace) -> None:
    from motive.training.loop import evaluate_run
    from motive.training.runs import metrics_table

    print(metrics_table(evaluate_run(args.run_dir, device=args.device, data=args.data, plugins=args.plugins or ())))
