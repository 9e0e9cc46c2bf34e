"""Seconds per training epoch per model at MOTIVE scale, this checkout against another revision,
measured back to back (absolute times on a shared machine drift; ratios hold). Run on demand.

    .venv/bin/python benchmarks/epoch_speed.py --work DIR [--before REV] [--models gin_cp,gat_cp] [--epochs 4]

Makes (once) the scale-1 synthetic dataset under DIR; for each model trains ``--epochs`` epochs
(after one warm-up epoch; random split, hidden 64, batch 2,048, one torch thread, deterministic
mode as in training) in a fresh
process, alternating the two code versions, and reports the median seconds per epoch and the
ratio of each model to gin_cp. Prints a Markdown table and writes it to DIR/epoch_speed.md.

    .venv/bin/python benchmarks/epoch_speed.py --work DIR --paired gat_cp [--epochs 12]

The ratio alone, robust to a shared machine's drift: gin_cp and the model in one process, their
epochs alternating, each model's epoch divided by the mean of the gin_cp epochs before and after
it; prints the median ratio and its range (absolute times on such a machine move by 10-30% within
minutes, which separate processes see as noise in the ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = "gin_cp,sage_cp,gat_cp,mlp,bilinear,cosine"


def _warm(data: str, name: str):
    """``epoch()`` for ``name`` after one warm-up epoch: seconds of one more training epoch
    (random split, hidden 64, one torch thread, deterministic mode as training sets it)."""
    import numpy as np
    import torch

    from motive.experiments.parallel import deterministic
    from motive.models import build_model
    from motive.training.config import TrainConfig
    from motive.training.loop import Epochs
    from motive.training.prepare import prepare

    kwargs = {} if name == "bilinear" else {"hidden": 64}
    config = TrainConfig(data=data, model=name, model_kwargs=kwargs)
    prepared = prepare(config)
    torch.set_num_threads(1)
    deterministic(True)  # as training on a CPU does (it changes which kernels run)
    torch.manual_seed(0)
    epochs = Epochs(config, prepared, build_model(name, prepared.stages["train"], **kwargs))
    rng = np.random.default_rng(0)
    epochs.run(rng)  # warm-up

    def epoch() -> float:
        started = time.perf_counter()
        epochs.run(rng)
        return time.perf_counter() - started

    return epoch


def child(args: argparse.Namespace) -> None:
    """One model's epochs, as JSON on stdout (the code on PYTHONPATH decides which version)."""
    epoch = _warm(args.data, args.one)
    print(json.dumps(statistics.median(epoch() for _ in range(args.epochs))))


def paired(data: Path, model: str, epochs: int) -> None:
    """Alternating epochs of gin_cp and ``model`` in this process (the code on PYTHONPATH)."""
    gin_epoch, model_epoch = _warm(str(data), "gin_cp"), _warm(str(data), model)
    gin = [gin_epoch()]
    ratios, seconds = [], []
    for _ in range(epochs):
        seconds.append(model_epoch())
        gin.append(gin_epoch())
        ratios.append(seconds[-1] / ((gin[-2] + gin[-1]) / 2))
    print(
        f"{model} / gin_cp per epoch, {epochs} alternating epochs: median {statistics.median(ratios):.2f}x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}x); median s/epoch gin_cp {statistics.median(gin):.3f}, "
        f"{model} {statistics.median(seconds):.3f}"
    )


def measure(code: Path | None, data: Path, model: str, epochs: int) -> float:
    env = os.environ | {"PYTHONPATH": str(code / "src") if code else "", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--one", model, "--data", str(data), "--epochs", str(epochs), "--work", "-"]
    return json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, help="folder for the dataset (and the worktree of --before)")
    parser.add_argument("--before", help="git revision to compare with")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--paired", metavar="MODEL", help="only MODEL / gin_cp, epochs alternating in one process")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return child(args)
    work = Path(args.work).resolve()
    data = work / "synthetic"
    if not data.is_dir():
        command = [sys.executable, "-m", "motive.cli", "-q", "data", "synth", "--out", str(data), "--scale", "1"]
        subprocess.run(command + ["--seed", "0"], check=True, capture_output=True)
    if args.paired:
        return paired(data, args.paired, args.epochs)
    versions = {"this checkout": None}
    if args.before:
        code = work / f"code-{args.before}"
        if not code.is_dir():
            git = ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(code), args.before]
            subprocess.run(git, check=True)
        versions = {args.before: code, "this checkout": None}
    found = {name: {} for name in versions}
    for model in args.models.split(","):
        for name, code in versions.items():
            found[name][model] = measure(code, data, model, args.epochs)
            print(f"{name} {model}: {found[name][model]:.3f} s/epoch", flush=True)
    lines = ["| model | " + " | ".join(f"{name} s/epoch (x gin_cp)" for name in versions) + " |"]
    lines.append("|---" * (1 + len(versions)) + "|")
    for model in args.models.split(","):
        cells = []
        for name in versions:
            ratio = found[name][model] / found[name]["gin_cp"] if "gin_cp" in found[name] else float("nan")
            cells.append(f"{found[name][model]:.3f} ({ratio:.1f}x)")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    (work / "epoch_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
