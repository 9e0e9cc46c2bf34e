"""Speed and memory per model at MOTIVE scale (issue: speed). Run on demand, never in CI.

    .venv/bin/python benchmarks/models_speed.py --work /tmp/speed [--models gin_cp,gat_cp] [--epochs 1000] [--hidden 64]

Makes (once) the scale-1 synthetic dataset (exactly MOTIVE's Table 2 counts) under --work, then
trains each model in its own process (random split, st_expanded, seed 0) and reports seconds
per training epoch, per validation pass, the whole run (early stopping unless --epochs caps it),
the process wall time including imports, and the peak RSS. Prints a Markdown table and writes
it to WORK/models_speed.md.
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

MODELS = "sage_cp,gin_cp,gat_cp,mlp,bilinear"


def one(args: argparse.Namespace) -> None:
    """Child process: one run, then its numbers as JSON on stdout."""
    started = time.perf_counter()
    import pandas as pd

    from motive.training.config import TrainConfig
    from motive.training.loop import run

    kwargs = {} if args.one == "bilinear" else {"hidden": args.hidden}  # bilinear has no hidden layer
    device = {"device": args.device} if args.device != "cpu" else {}  # older versions had no device option
    extra = (
        {"threads": args.threads} if "threads" in inspect.signature(TrainConfig).parameters else {}
    )  # older versions used the process's
    config = TrainConfig(
        data=args.data, split=args.split, model=args.one, model_kwargs=kwargs, epochs=args.epochs, **device, **extra
    )
    out = Path(args.work) / "runs" / f"{args.one}-h{args.hidden}-e{args.epochs}-{args.device}"
    replace = (
        {"overwrite": True} if "overwrite" in inspect.signature(run).parameters else {}
    )  # older versions replaced silently
    summary = run(config, out, **replace)
    history = pd.read_csv(out / "history.csv")
    print(
        json.dumps(
            {
                "model": args.one,
                "hidden": args.hidden,
                "device": args.device,
                "train s/epoch": round(float(history["train_seconds"].median()), 3),
                "valid s/pass": round(float((history["seconds"] - history["train_seconds"]).median()), 3),
                "epochs": int(len(history)),
                "best epoch": summary["best_epoch"],
                "run s": summary["seconds"],
                "wall s": round(time.perf_counter() - started, 1),
                "peak RSS GiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
                "test auroc": round(summary["test"]["auroc"], 3),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, help="folder for the dataset and the runs")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--split", default="random")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads per run (the README's table: 2, the cores of the machine)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(args)
    data = Path(args.work) / "synthetic"
    if not (data / "motive.json").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "motive.cli",
                "-q",
                "data",
                "synth",
                "--scale",
                "1",
                "--seed",
                "0",
                "--out",
                str(data),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    rows = []
    for model in args.models.split(","):
        command = [
            sys.executable,
            __file__,
            "--work",
            args.work,
            "--one",
            model,
            "--data",
            str(data),
            "--epochs",
            str(args.epochs),
            "--hidden",
            str(args.hidden),
            "--split",
            args.split,
            "--device",
            args.device,
            "--threads",
            str(args.threads),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"{model}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    if not rows:
        sys.exit(1)
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)] + [
        "| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows
    ]
    text = "\n".join(lines)
    print(text)
    (Path(args.work) / "models_speed.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
