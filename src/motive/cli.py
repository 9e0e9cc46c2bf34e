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
import json
import logging
import sys
from pathlib import Path

from motive import checks
from motive.errors import MotiveError

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

    check_target(args.out, "dataset", args.overwrite)
    config = synth.SynthConfig(scale=args.scale, seed=args.seed, signal=args.signal)
    try:
        graphs = synth.generate(config)
    except ValueError as error:
        raise MotiveError(f"--scale/--signal: {error}") from None
    with output_dir(args.out, "dataset", args.overwrite) as tmp:
        layout.write_dataset(graphs, tmp, "orf")
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
    from motive import audit, layout, splits
    from motive.outputs import check_target

    graph = layout.read_graph(layout.graph_dir(args.data, args.graph, args.gene_type))
    config = splits.SplitConfig(args.split, args.seed, negative_mode=args.negative_mode)
    out = Path(args.out) if args.out else splits.default_dir(args.data, args.graph, config, args.gene_type)
    if args.export_official:
        official_graph = layout.graph_dir(args.export_official, args.graph, args.gene_type)
        official_exists = (official_graph / "source.parquet").exists()
        if official_exists and layout.read_graph(official_graph).content_hash() != graph.content_hash():
            raise MotiveError(f"{official_graph}: holds a different graph; export to an empty folder")
        if not official_exists:
            check_target(official_graph, "graph")
        target = official_graph / splits.OFFICIAL_NAMES[args.split]
        check_target(target, "split_tables", args.overwrite)  # both checks before anything is written
    reused = (out / "split.json").is_file() and not args.overwrite
    if reused:  # the same split again is reused, not refused
        stored = splits.load_split(out, graph)
        if not splits.same_split(stored, splits.make_split(graph, config)):
            raise MotiveError(
                f"{out}: holds a different split (edited, or made with other settings); pass --overwrite to replace it"
            )
        split, report = stored, audit.audit(graph, stored)
    else:
        split, report = audit.make_audited_split(graph, config, out, args.overwrite)
    if args.export_official:
        if not official_exists:
            layout.write_graph(graph, official_graph)
        layout.write_split_tables(split.tables(graph), target, args.overwrite)
        print(f"official split tables: {target}")
    print(report.to_markdown())
    print(f"split at {out} exists and is identical; reused" if reused else f"split written to {out}")


def _split_audit(args: argparse.Namespace) -> None:
    from motive import audit, layout, splits

    folder = Path(args.dir).resolve()
    graph_folder = next((p for p in (folder, *folder.parents) if (p / "source.parquet").exists()), None)
    if graph_folder is None:
        raise MotiveError(
            f"{folder}: no graph folder (with source.parquet) here or above; pass a data/{{graph_type}}/{{orf|crispr}} "
            "folder"
        )
    graph = layout.read_graph(graph_folder)
    candidates = (
        [folder]
        if folder != graph_folder
        else sorted(
            p.parent
            for p in graph_folder.rglob("s_t_labels.parquet")
            if p.parent != graph_folder and p.parent.name != "provenance"
        )
    )
    if not candidates:
        raise MotiveError(f"{folder}: no split subfolders found; make one with `motive split`")
    failed = []
    for split_folder in candidates:
        if (split_folder / "split.json").exists():
            split = splits.load_split(split_folder, graph)
        else:
            split = splits.split_from_tables(graph, layout.read_split_tables(split_folder), split_folder.name)
        report = audit.audit(graph, split)
        print(f"## {split_folder.relative_to(graph_folder)} ({split.config.split})\n\n{report.to_markdown()}\n")
        if not report.passed:
            failed.append(f"{split_folder.relative_to(graph_folder)}: {report.first_failure()}")
    if failed:
        raise MotiveError(f"{len(failed)} of {len(candidates)} splits leak; first: {failed[0]}")


def _train(args: argparse.Namespace) -> None:
    from motive.train import TrainConfig, run

    split_dir = args.split_dir
    if args.official:
        from motive import layout, splits

        split_dir = layout.graph_dir(args.data, args.graph, args.gene_type) / splits.OFFICIAL_NAMES[args.split]
        if not (split_dir / "s_t_labels.parquet").is_file():
            raise MotiveError(
                f"{split_dir}: no official {args.split} split here (s_t_labels.parquet); drop --official to make one, "
                "or pass --split-dir"
            )

    config = TrainConfig(
        data=args.data,
        graph=args.graph,
        split=args.split,
        model=args.model,
        model_kwargs=args.model_kwargs,
        seed=args.seed,
        split_seed=args.split_seed,
        gene_type=args.gene_type,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        hits_k=args.hits_k,
        monitor=args.monitor,
        mode=args.mode,
        device=args.device,
        loss=args.loss,
        split_dir=split_dir,
        ranking_eval=args.ranking_eval,
        plugins=args.plugin,
        threads=args.threads,
    )
    summary = run(config, args.out, args.overwrite)
    print(metrics_table({"valid": summary["valid"], "test": summary["test"]}))
    print(
        f"best epoch {summary['best_epoch']} of {summary['epochs_run']}, {summary['seconds_per_epoch']} s/epoch, "
        f"{summary['seconds']} s; run written to {args.out}"
    )


def _predict(args: argparse.Namespace) -> None:
    from motive import outputs
    from motive.predict import predict, predict_all

    if args.all:
        summary = predict_all(
            args.run_dir,
            args.out,
            args.compounds,
            args.genes,
            args.top_k or 50,
            args.exclude_known,
            args.block,
            args.device,
            args.overwrite,
            progress=not args.quiet,
            data=args.data,
        )
        print(
            f"{summary['compounds']:,} compounds x {summary['genes']:,} genes, top {summary['top_k']} each way, "
            f"{summary['seconds']} s; written to {args.out}"
        )
        return
    outputs.check_file_target(args.out, "predictions", args.overwrite)
    table = predict(
        args.run_dir,
        args.compounds,
        args.genes,
        args.top_k,
        args.exclude_known,
        args.edges,
        args.allow_existing,
        args.device,
        data=args.data,
    )
    import pyarrow as pa
    import pyarrow.parquet as pq

    with outputs.output_file(args.out, "predictions", args.overwrite) as tmp:
        pq.write_table(
            pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(
                outputs.parquet_metadata("predictions")
            ),
            tmp,
        )
    top = table[table["rank"] <= 3]
    print(top.to_string(index=False, max_rows=30))
    print(
        f"{table['query'].nunique()} queries x {table.groupby('query').size().max()} candidates written to {args.out} "
        "(scores rank candidates; they are not probabilities)"
    )


def _experiment(args: argparse.Namespace) -> int:
    from motive.experiments import load_config, run_experiment

    config = load_config(args.config)
    overrides = {
        "data": args.data,
        "out": args.out,
        "seeds": args.seeds,
        "models": args.models,
        "splits": args.splits,
        "graphs": args.graphs,
        "split_seed": args.split_seed,
        "workers": args.workers,
        "cluster": args.cluster,
        "params": args.params,
        "study_storage": args.study_storage,
    }
    config |= {key: value for key, value in overrides.items() if value is not None}
    if args.models and isinstance(config.get("models"), dict):  # keep the config's settings of the models still named
        config["models"] = {name: config["models"].get(name, {}) for name in args.models.split(",")}
    settings = dict(config.get("settings") or {})
    settings |= {
        key: value
        for key, value in (
            ("epochs", args.epochs),
            ("hits_k", args.hits_k),
            ("patience", args.patience),
            ("device", args.device),
        )
        if value is not None
    }
    config["settings"] = settings
    config["plugins"] = [*config.get("plugins", []), *args.plugin]
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

    settings = {
        key: value
        for key, value in (
            ("epochs", args.epochs),
            ("patience", args.patience),
            ("hits_k", args.hits_k),
            ("monitor", args.monitor),
            ("device", args.device),
        )
        if value is not None
    }
    if args.plugin:
        settings["plugins"] = args.plugin
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


def _report(args: argparse.Namespace) -> None:
    from motive.report import report

    written = report(args.results, args.out, args.overwrite)
    print(f"report written to {args.out}: {', '.join(written)}")


def metrics_table(results: dict[str, dict]) -> str:
    names = [name for name in next(iter(results.values())) if name not in ("positives", "negatives")]
    lines = ["| stage | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for stage, values in results.items():
        lines.append(f"| {stage} | " + " | ".join(f"{values[name]:.4f}" for name in names) + " |")
    return "\n".join(lines)


def _evaluate(args: argparse.Namespace) -> None:
    from motive.train import evaluate_run

    print(metrics_table(evaluate_run(args.run_dir, args.device, args.data)))


class _Parser(argparse.ArgumentParser):
    """argparse with the house error format: one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"motive: error: {message} (see `{self.prog} --help`)\n")


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
POSITIVE_FLOAT, NONNEGATIVE_FLOAT = _arg(checks.positive_float), _arg(checks.nonnegative_float)
FRACTION, JSON_OBJECT = _arg(checks.fraction), _arg(checks.json_object)
EXISTING_DIR, EXISTING_PATH = _arg(checks.existing_dir), _arg(checks.existing_path)
GRAPH_TYPES = ["bipartite", "s_expanded", "t_expanded", "st_expanded"]
SPLITS = ["random", "cold_source", "cold_target", "cold_both"]


def _split_seed(value: str) -> int | str:
    if value == "vary":
        return value
    try:
        return checks.nonnegative_int(value)
    except MotiveError as error:
        raise argparse.ArgumentTypeError(f"{error} (or 'vary')") from None


def _overwrite(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier motive output of the same kind at the output path (never anything else)",
    )


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="motive", description=__doc__.split("\n")[0])
    top.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    commands = top.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="fetch, build, generate and describe datasets").add_subparsers(
        dest="action", required=True
    )

    fetch = data.add_parser("fetch", help="copy or download a dataset's raw files, verify sha256, cache them")
    fetch.add_argument("name")
    fetch.add_argument(
        "--mirror", type=EXISTING_DIR, help="local folder laid out like the manifest (e.g. ../shared/data/raw)"
    )
    fetch.add_argument("--cache", help="cache folder (default: $MOTIVE_CACHE or ~/.cache/motive)")
    fetch.set_defaults(run=_data_fetch)

    build = data.add_parser("build", help="fetch raw files and build a dataset into the official layout")
    build.add_argument("name")
    build.add_argument("--out", required=True)
    build.add_argument("--mirror", type=EXISTING_DIR)
    build.add_argument("--cache")
    _overwrite(build)
    build.set_defaults(run=_data_build)

    build_inputs = data.add_parser("build-inputs", help="build data/ from an official MOTIVE inputs/ tree")
    build_inputs.add_argument("inputs", type=EXISTING_DIR)
    build_inputs.add_argument("--out", required=True)
    build_inputs.add_argument("--gene-type", default="orf", choices=["orf", "crispr"])
    build_inputs.add_argument("--max-degree", type=POSITIVE_INT, default=150)
    _overwrite(build_inputs)
    build_inputs.set_defaults(run=_data_build_inputs)

    synth = data.add_parser("synth", help="generate a synthetic dataset in the official layout")
    synth.add_argument("--out", required=True)
    synth.add_argument("--scale", type=POSITIVE_FLOAT, default=1.0, help="1 = MOTIVE's Table 2 counts")
    synth.add_argument("--seed", type=NONNEGATIVE_INT, default=0)
    synth.add_argument("--signal", type=FRACTION, default=0.5, help="share of feature variance from the latent (0..1)")
    _overwrite(synth)
    synth.set_defaults(run=_data_synth)

    stats = data.add_parser("stats", help="Table 2 statistics of every graph type in a dataset folder")
    stats.add_argument("dataset", type=EXISTING_DIR)
    stats.add_argument("--gene-type", default="orf", choices=["orf", "crispr"])
    stats.add_argument("--out", help="also write the Markdown table here")
    _overwrite(stats)
    stats.set_defaults(run=_data_stats)

    split = commands.add_parser("split", help="split a graph (audited), or `motive split audit DIR`")
    split.add_argument("data", type=EXISTING_DIR, help="dataset folder (holding data/{graph_type}/{gene_type}/)")
    split.add_argument("--graph", required=True, choices=GRAPH_TYPES)
    split.add_argument("--split", required=True, choices=SPLITS)
    split.add_argument("--seed", type=NONNEGATIVE_INT, default=0)
    split.add_argument("--gene-type", default="orf", choices=["orf", "crispr"])
    split.add_argument("--negative-mode", default="batch", choices=["batch", "global"])
    split.add_argument("--out", help="split folder (default: DATA/data/G/orf/splits/SPLIT/seed_N)")
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

    train = commands.add_parser("train", help="train and evaluate one model on one split (writes a run folder)")
    train.add_argument("--data", required=True, type=EXISTING_DIR, help="dataset folder")
    train.add_argument("--graph", default="st_expanded", choices=GRAPH_TYPES)
    train.add_argument("--split", default="random", choices=SPLITS)
    train.add_argument(
        "--model",
        default="gin_cp",
        help="sage_cp, gin_cp, gat_cp, sage_embs, gin_embs, gat_embs, mlp, bilinear, cosine, shortest_path, knn, "
        "popularity, or a plugin's",
    )
    train.add_argument(
        "--model-kwargs",
        type=JSON_OBJECT,
        default={},
        help="JSON keyword arguments of the model, e.g. '{\"hidden\": 128}'",
    )
    train.add_argument("--seed", type=NONNEGATIVE_INT, default=0)
    train.add_argument("--split-seed", type=NONNEGATIVE_INT, default=0)
    train.add_argument("--gene-type", default="orf", choices=["orf", "crispr"])
    train.add_argument("--epochs", type=POSITIVE_INT, default=1000)
    train.add_argument("--patience", type=POSITIVE_INT, default=50)
    train.add_argument("--batch-size", type=POSITIVE_INT, default=2048, help="supervision edges per step (paper: 512)")
    train.add_argument("--lr", type=POSITIVE_FLOAT, default=1e-3)
    train.add_argument("--weight-decay", type=NONNEGATIVE_FLOAT, default=1e-4)
    train.add_argument("--hits-k", type=POSITIVE_INT, default=500)
    train.add_argument(
        "--monitor",
        default="hits",
        choices=["hits", "auprc", "auroc", "bce"],
        help="validation metric for the best epoch (hits = hits@K)",
    )
    train.add_argument("--mode", default="full", choices=["full", "neighbor"])
    train.add_argument(
        "--ranking-eval",
        action="store_true",
        help="also rank every candidate per query node, filtered (full_mrr, full_hits@k, full_map, full_success@k; "
        "ranking.parquet)",
    )
    train.add_argument(
        "--loss",
        default="bce",
        choices=["bce", "bpr"],
        help="bce (paper) or bpr (pairwise ranking; scores are ranking scores, not probabilities)",
    )
    train.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="auto: cuda when a GPU is visible (runs are bitwise reproducible on cpu only)",
    )
    train.add_argument(
        "--threads",
        type=POSITIVE_INT,
        default=1,
        help="torch threads; the numbers depend on it (default 1: the same bytes alone, in a grid, on a worker)",
    )
    official = train.add_mutually_exclusive_group()
    official.add_argument(
        "--split-dir",
        type=EXISTING_DIR,
        help="train on official split tables in this folder (s_t_labels.parquet with 'subset'); audited first, refused "
        "if it leaks",
    )
    official.add_argument(
        "--official",
        action="store_true",
        help="use the dataset's published split folder for --split (data/G/orf/{random,source,target})",
    )
    train.add_argument(
        "--plugin",
        action="append",
        default=[],
        type=EXISTING_PATH,
        help="a Python file registering models (repeatable)",
    )
    train.add_argument("--out", required=True)
    _overwrite(train)
    train.set_defaults(run=_train)

    predict = commands.add_parser(
        "predict", help="rank every gene for new compound profiles (or every compound for new gene profiles)"
    )
    predict.add_argument(
        "--run",
        dest="run_dir",
        metavar="RUN",
        required=True,
        type=EXISTING_DIR,
        help="a run folder made by `motive train`",
    )
    predict.add_argument(
        "--compounds",
        type=EXISTING_PATH,
        help="profiles of compounds (Metadata_InChIKey + the run's feature columns; optional smiles)",
    )
    predict.add_argument(
        "--genes", type=EXISTING_PATH, help="profiles of genes (Metadata_Symbol + the run's feature columns)"
    )
    predict.add_argument(
        "--top-k", type=POSITIVE_INT, help="keep the K best candidates per query (default: all; --all: 50)"
    )
    predict.add_argument(
        "--exclude-known",
        action="store_true",
        help="drop pairs the dataset already knows (any split subset or annotation)",
    )
    predict.add_argument(
        "--edges", type=EXISTING_PATH, help="known edges of the new nodes: columns query, node[, node_side]"
    )
    predict.add_argument(
        "--allow-existing", action="store_true", help="queries may be nodes of the graph (scored as those nodes)"
    )
    predict.add_argument(
        "--all",
        action="store_true",
        help="full matrix: every compound x every gene, top-k each way, streamed and resumable; --out is a folder",
    )
    predict.add_argument(
        "--block",
        type=POSITIVE_INT,
        default=1024,
        help="compounds per block in --all mode (memory ~ block x genes x 8 bytes)",
    )
    predict.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    predict.add_argument(
        "--data", type=EXISTING_DIR, help="the run's dataset moved elsewhere (must have the same graph hash)"
    )
    predict.add_argument("--out", required=True, help="RANKED.parquet (or a folder with --all)")
    _overwrite(predict)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser("evaluate", help="re-score a run folder from its checkpoint")
    evaluate.add_argument("run_dir", metavar="RUN", type=EXISTING_DIR)
    evaluate.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    evaluate.add_argument(
        "--data", type=EXISTING_DIR, help="the run's dataset moved elsewhere (must have the same graph hash)"
    )
    evaluate.set_defaults(run=_evaluate)

    experiment = commands.add_parser(
        "experiment", help="run (or resume) a grid of graph x split x model x seed; results.parquet"
    )
    experiment.add_argument(
        "config", help="a preset (paper, ablation, zeroshot) or a YAML file of run_experiment arguments"
    )
    experiment.add_argument("--data", type=EXISTING_DIR, help="dataset folder (overrides the config's data)")
    experiment.add_argument("--out", help="results folder; rerunning into it resumes (finished runs are reused)")
    experiment.add_argument("--seeds", type=POSITIVE_INT, help="number of model seeds (0..N-1)")
    experiment.add_argument(
        "--split-seed", type=_split_seed, help="split seed for every run, or 'vary' (split seed = model seed)"
    )
    experiment.add_argument("--models", help="comma-separated model names (default: the config's)")
    experiment.add_argument("--splits", help="comma-separated splits: random, cold_source, cold_target, cold_both")
    experiment.add_argument(
        "--graphs", help="comma-separated graph types: bipartite, s_expanded, t_expanded, st_expanded"
    )
    experiment.add_argument("--epochs", type=POSITIVE_INT)
    experiment.add_argument("--patience", type=POSITIVE_INT)
    experiment.add_argument("--hits-k", type=POSITIVE_INT)
    experiment.add_argument("--device", choices=["auto", "cpu", "cuda"])
    experiment.add_argument(
        "--plugin",
        action="append",
        default=[],
        type=EXISTING_PATH,
        help="a Python file registering models (repeatable)",
    )
    experiment.add_argument(
        "--workers", type=POSITIVE_INT, help="runs at once on this machine (a local Dask cluster of processes)"
    )
    experiment.add_argument(
        "--cluster", help="a running Dask cluster: tcp://HOST:PORT or SCHEDULER_FILE.json (shared filesystem needed)"
    )
    experiment.add_argument(
        "--params",
        choices=["default", "best"],
        help="best: each graph x split x model takes the best trial of its `motive tune` study",
    )
    experiment.add_argument(
        "--study-storage", help="with --params best: the studies' storage URL, or a `motive tune --out` folder"
    )
    experiment.set_defaults(run=_experiment)

    tune = commands.add_parser(
        "tune",
        help="hyper-parameter search (Optuna) on the validation metric; best_params.yaml for `motive experiment`",
    )
    tune.add_argument("--data", required=True, type=EXISTING_DIR)
    tune.add_argument("--graph", default="st_expanded", choices=GRAPH_TYPES)
    tune.add_argument("--split", default="random", choices=SPLITS)
    tune.add_argument("--model", default="gin_cp")
    tune.add_argument("--trials", type=POSITIVE_INT, default=20, help="trials this call adds to the study")
    tune.add_argument(
        "--storage",
        help="SQLAlchemy URL shared by several machines, e.g. postgresql://user@host/db (default: sqlite OUT/study.db)",
    )
    tune.add_argument("--study", help="study name (default: GRAPH-SPLIT-MODEL)")
    tune.add_argument("--sampler", default="random", choices=["random", "tpe"], help="random search (paper) or TPE")
    tune.add_argument(
        "--seed",
        type=NONNEGATIVE_INT,
        default=0,
        help="sampler seed; give each machine its own (every trial trains with model seed 0)",
    )
    tune.add_argument(
        "--no-prune",
        action="store_true",
        help="train every trial to the end (default: median pruning on the validation curve)",
    )
    tune.add_argument("--epochs", type=POSITIVE_INT)
    tune.add_argument("--patience", type=POSITIVE_INT)
    tune.add_argument("--hits-k", type=POSITIVE_INT)
    tune.add_argument(
        "--monitor", choices=["hits", "auprc", "auroc", "bce"], help="validation metric to maximise (default hits)"
    )
    tune.add_argument("--device", choices=["auto", "cpu", "cuda"])
    tune.add_argument("--workers", type=POSITIVE_INT, default=1, help="trials at once on this machine")
    tune.add_argument("--cluster", help="a running Dask cluster: tcp://HOST:PORT or SCHEDULER_FILE.json")
    tune.add_argument(
        "--plugin",
        action="append",
        default=[],
        type=EXISTING_PATH,
        help="a Python file registering models (repeatable)",
    )
    tune.add_argument(
        "--out",
        required=True,
        help="tune folder (study.db, best_params.yaml, trials.parquet, history.png); rerunning adds trials",
    )
    tune.set_defaults(run=_tune)

    report = commands.add_parser(
        "report", help="tables (mean ± std), figures and index.html from an experiment's results"
    )
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    position = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if position is not None and argv[position : position + 2] == ["split", "audit"]:
        argv[position : position + 2] = ["split-audit"]
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a bad argument (2, already printed)
        return int(exit_.code or 0)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    try:
        code = args.run(args)
    except MotiveError as error:
        print(f"motive: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motive: interrupted; outputs not finished were not written", file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
