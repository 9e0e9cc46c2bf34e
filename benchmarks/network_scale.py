"""The network models at MOTIVE size (issue 36). Run on demand, never in CI.

    .venv/bin/python benchmarks/network_scale.py --work /tmp/network-scale [--splits cold_target,cold_source]
        [--models network_paths,gene_neighbours_ra,evidence_ranker]

Makes the scale-1 synthetic dataset (3,632 compounds x 11,509 genes, the MOTIVE st_expanded/orf
graph's size) once, then trains each model once per split (split seed 0, side edges, filtered
full ranking on, the rankers with --monitor mrr and --lr 0.01 as the network preset) in its own process and
prints wall seconds, seconds per epoch and the test full MRR, so the preset's cost at this size
can be read off: heuristics run once per split seed, learned models once per seed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--splits", default="cold_target,cold_source")
    parser.add_argument("--models", default="network_paths,gene_neighbours_ra,evidence_ranker")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    motive = [sys.executable, "-m", "motive.cli", "-q"]
    if not (work / "data" / "motive.json").exists():
        subprocess.run([*motive, "data", "synth", "--scale", "1", "--out", str(work / "data")], check=True)
    print("| model | split | wall s | s/epoch | epochs | test full MRR |\n|---|---|---|---|---|---|")
    for split in args.splits.split(","):
        for model in args.models.split(","):
            if (split, model) in {("cold_target", "compound_neighbours"), ("cold_source", "gene_neighbours_ra")}:
                continue
            out = work / f"{split}-{model}"
            command = [*motive, "train", "--data", str(work / "data"), "--split", split, "--model", model]
            command += ["--side-edges", "--ranking-eval", "--bootstrap", "0", "--device", "cpu", "--hits-k", "25"]
            if model in ("evidence_ranker", "gin_evidence"):  # as the network preset
                command += ["--monitor", "mrr", "--lr", "0.01", "--views", '{"source": ["profile", "structure"]}']
            command += ["--out", str(out), "--overwrite"]
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - started
            timing = json.loads((out / "timing.json").read_text())
            metrics = json.loads((out / "metrics.json").read_text())
            epochs = sum(1 for _ in open(out / "history.csv")) - 1 if (out / "history.csv").is_file() else 0
            print(
                f"| {model} | {split} | {wall:.0f} | {timing.get('seconds_per_epoch', 0):.2f} | {epochs} | "
                f"{metrics['test']['full_mrr']:.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
