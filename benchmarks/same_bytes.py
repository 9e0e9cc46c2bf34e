"""Do runs give the same bytes as at another revision? Run on demand, never in CI.

    .venv/bin/python benchmarks/same_bytes.py --before REV --work DIR [--models knn,mlp] [--epochs 5]

Trains every model on every split of a small synthetic dataset (scale 0.1, with the full ranking
and the calibration on) once with the code of git revision REV (a temporary worktree on this venv)
and once with this checkout, each in its own process, and compares metrics.json, ranking.parquet,
calibration.json, predictions.parquet and per_node_ap.parquet byte for byte (metrics.json with the
settings REV did not have yet left out of its settings echo). Where they differ it prints the
largest relative difference of a test metric. Prints a Markdown table and writes it to
DIR/same_bytes.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = "knn,popularity,shortest_path,mlp,bilinear,cosine,gin_cp,sage_cp,gat_cp"
SPLITS = ("random", "cold_source", "cold_target")
FILES = ("metrics.json", "ranking.parquet", "calibration.json", "predictions.parquet", "per_node_ap.parquet")


def train(code: Path | None, data: Path, split: str, model: str, epochs: int, out: Path) -> bool:
    """One run in its own process with the code of ``code`` (None: the checkout this script is in,
    whatever the environment has installed); False when refused."""
    env = os.environ | {"PYTHONPATH": str((code or ROOT) / "src")}
    command = [sys.executable, "-m", "motive.cli", "-q", "train", "--data", str(data), "--split", split]
    command += ["--model", model, "--epochs", str(epochs), "--hits-k", "20", "--ranking-eval", "--out", str(out)]
    command += ["--overwrite"]  # the script's own run folders, from an earlier call
    return subprocess.run(command, env=env, capture_output=True, text=True).returncode == 0


def same_file(before: Path, after: Path) -> bool:
    """The same bytes; for metrics.json, once the settings the older code lacks (a setting added
    since, echoed in ``config``) are left out."""
    if before.read_bytes() == after.read_bytes():
        return True
    if before.name != "metrics.json":
        return False
    old, new = (json.loads(path.read_text()) for path in (before, after))
    new["config"] = {name: value for name, value in new.get("config", {}).items() if name in old.get("config", {})}
    return old == new


def largest_difference(before: Path, after: Path) -> float:
    old, new = (json.loads((run / "metrics.json").read_text())["test"] for run in (before, after))
    gaps = [
        abs(new[name] - value) / max(abs(value), 1e-12)
        for name, value in old.items()
        if isinstance(value, int | float) and isinstance(new.get(name), int | float)
    ]
    return max(gaps, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--work", required=True, help="folder for the worktree, the dataset and the runs")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    code = work / f"code-{args.before}"
    if not code.is_dir():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(code), args.before], check=True
        )
    data = work / "data"
    if not data.is_dir():
        command = [sys.executable, "-m", "motive.cli", "-q", "data", "synth", "--out", str(data), "--scale", "0.1"]
        subprocess.run(command + ["--seed", "1"], check=True, capture_output=True)
    lines = ["| model | split | " + " | ".join(FILES) + " | largest relative test-metric difference |"]
    lines.append("|---" * (3 + len(FILES)) + "|")
    for model in args.models.split(","):
        for split in SPLITS:
            runs = [work / side / f"{model}-{split}" for side in ("before", "after")]
            done = [train(c, data, split, model, args.epochs, run) for c, run in zip((code, None), runs, strict=True)]
            if not all(done):
                lines.append(f"| {model} | {split} | " + " | ".join("refused" for _ in FILES) + " | - |")
                continue
            same = [same_file(runs[0] / name, runs[1] / name) for name in FILES]
            gap = "0" if all(same) else f"{largest_difference(*runs):.1e}"
            lines.append(
                f"| {model} | {split} | " + " | ".join("same" if s else "differ" for s in same) + f" | {gap} |"
            )
            print(lines[-1], flush=True)
    (work / "same_bytes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
