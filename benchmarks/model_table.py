"""All models x {random, cold_source, cold_target} on one dataset, one seed (issue: models).

    .venv/bin/python benchmarks/model_table.py runs/l1000 --hits-k 25 --out runs/l1000-table

Writes ``table.csv`` and ``table.md`` (test metrics; valid threshold) under --out and prints the
Markdown. Models a split cannot serve (transductive ones on cold splits) are listed as refused.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from motive.data.stats import to_markdown
from motive.errors import MotiveError
from motive.models import MODELS
from motive.training.config import TrainConfig
from motive.training.loop import run

COLUMNS = ["f1", "hits@{k}", "precision@{k}", "auroc", "auprc", "mrr"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--graph", default="st_expanded")
    parser.add_argument("--hits-k", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    for split in ("random", "cold_source", "cold_target"):
        for model in MODELS:
            config = TrainConfig(
                data=args.data,
                graph=args.graph,
                split=split,
                model=model,
                seed=args.seed,
                epochs=args.epochs,
                hits_k=args.hits_k,
            )
            row = {"split": split, "model": model}
            try:
                summary = run(config, Path(args.out) / f"{split}-{model}")
            except MotiveError as error:
                if "cannot run on" not in str(error):
                    raise
                rows.append(row | {"note": "refused (transductive)"})
                continue
            test = summary["test"]
            row |= {column.format(k=args.hits_k): round(test[column.format(k=args.hits_k)], 4) for column in COLUMNS}
            row |= {
                "best_epoch": summary["best_epoch"],
                "s/epoch": summary["seconds_per_epoch"],
                "seconds": summary["seconds"],
                "note": "",
            }
            rows.append(row)
            print(split, model, row, flush=True)
    table = pd.DataFrame(rows)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    table.to_csv(Path(args.out) / "table.csv", index=False)
    markdown = to_markdown(table.astype(object).fillna(""))
    (Path(args.out) / "table.md").write_text(markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
