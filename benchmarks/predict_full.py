"""Full-matrix prediction at JUMP scale (issue: predict). Run on demand, never in CI.

    .venv/bin/python benchmarks/predict_full.py --work /tmp/predict-full [--compounds 115790] [--genes 12602] [--top-k
    50] [--model evidence_ranker]

Trains --model (default gin_cp; cold_source, 20 epochs, side edges for the network models) on the
scale-1 synthetic dataset, writes synthetic
profiles for --compounds new compounds and --genes genes (the dataset's 11,509 plus new ones),
then runs `motive predict --all` in its own process under /usr/bin/time -v: every compound x
every gene, top-k per compound and per gene. Targets (2 cores): <= 5 minutes, <= 4 GiB peak RSS.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--compounds", type=int, default=115_790)
    parser.add_argument("--genes", type=int, default=12_602)
    parser.add_argument("--top-k", type=int, default=50)
    parser.add_argument("--model", default="gin_cp")
    args = parser.parse_args()
    run_dir = f"run-{args.model}" if args.model != "gin_cp" else "run"
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    motive = [sys.executable, "-m", "motive.cli", "-q"]
    if not (work / "data" / "motive.json").exists():
        subprocess.run(
            [*motive, "data", "synth", "--scale", "1", "--out", str(work / "data")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if not (work / run_dir / "motive.json").exists():
        subprocess.run(
            [
                *motive,
                "train",
                "--data",
                str(work / "data"),
                "--split",
                "cold_source",
                "--model",
                args.model,
                "--epochs",
                "20",
                "--device",
                "cpu",
                *(["--side-edges"] if args.model != "gin_cp" else []),
                "--out",
                str(work / run_dir),
            ],
            check=True,
        )
    rng = np.random.default_rng(0)
    compounds_path, genes_path = work / f"compounds-{args.compounds}.parquet", work / f"genes-{args.genes}.parquet"
    if not compounds_path.exists():
        columns = pd.read_parquet(work / "data/data/st_expanded/orf/source.parquet").columns
        frame = pd.DataFrame(rng.standard_normal((args.compounds, len(columns)), dtype=np.float32), columns=columns)
        frame.index = pd.Index([f"SYNTHETIC{i:07d}" for i in range(args.compounds)], name="Metadata_InChIKey")
        frame.to_parquet(compounds_path)
    if not genes_path.exists():
        genes = pd.read_parquet(work / "data/data/st_expanded/orf/target.parquet")
        extra = pd.DataFrame(
            rng.standard_normal((args.genes - len(genes), genes.shape[1]), dtype=np.float32), columns=genes.columns
        )
        extra.index = pd.Index([f"NEWGENE{i:05d}" for i in range(len(extra))], name=genes.index.name)
        pd.concat([genes, extra]).to_parquet(genes_path)
    command = [
        "/usr/bin/time",
        "-v",
        *motive,
        "predict",
        "--run",
        str(work / run_dir),
        "--all",
        "--compounds",
        str(compounds_path),
        "--genes",
        str(genes_path),
    ]
    command += ["--allow-existing"]  # the dataset's own genes are among the candidates
    command += ["--top-k", str(args.top_k), "--device", "cpu", "--out", str(work / "full"), "--overwrite"]
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout.strip())
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", result.stderr).group(1)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 2**20
    print(
        f"| model | compounds | genes | top-k | wall | peak RSS GiB |\n|---|---|---|---|---|---|\n| {args.model} | "
        f"{args.compounds:,} | {args.genes:,} | {args.top_k} | {wall} | {rss:.2f} |"
    )


if __name__ == "__main__":
    main()
