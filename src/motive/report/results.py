"""An experiment's results table read back, checked."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from motive import checks
from motive.errors import MotiveError
from motive.names import GRAPH_TYPES, SPLITS
from motive.outputs import read_marker

log = logging.getLogger(__name__)


REQUIRED_COLUMNS = ("graph", "split", "model", "seed", "run", "status", "error")


def read_results(results_dir: str | Path) -> pd.DataFrame:
    results_dir = Path(results_dir)
    marker = read_marker(results_dir)
    if marker is None or marker.get("kind") != "experiment":
        raise MotiveError(
            f"{results_dir}: not an experiment's results folder (no motive.json of kind experiment); run `motive "
            "experiment` first"
        )
    path = results_dir / "results.parquet"
    if not path.is_file():
        raise MotiveError(f"{path}: file not found; the experiment wrote no results yet")
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # truncated, not parquet
        raise MotiveError(
            f"{path}: unreadable results table ({type(error).__name__}); rerun the same `motive experiment` command to "
            "rewrite it"
        ) from None
    if table.empty:
        raise MotiveError(f"{path}: no runs in the results table")
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise MotiveError(f"{path}: column {missing[0]!r} missing; not a results table written by `motive experiment`")
    for column, allowed in (("graph", GRAPH_TYPES), ("split", SPLITS)):
        unknown = sorted(set(table[column].astype(str)) - set(allowed))
        if unknown:
            raise MotiveError(
                f"{path}: unknown {column} {unknown[0]!r}; expected one of {', '.join(allowed)} (edited by hand?)"
            )
    for label in table["model"].unique():
        checks.named(f"{path}: model", checks.safe_name, label)
    if not table["status"].isin(["done", "reused"]).any():
        counts = ", ".join(f"{n} {status}" for status, n in table["status"].value_counts().items())
        raise MotiveError(
            f"{path}: no finished run to report ({counts}); rerun the same `motive experiment` command to finish them"
        )
    finished = table[table["status"].isin(["done", "reused"])]
    gone = [run for run in finished["run"] if not (results_dir / str(run) / "metrics.json").is_file()]
    if gone:
        log.warning(
            "%d finished run(s) of %s have no run folder any more (first: %s); their numbers come from the table only",
            len(gone),
            path,
            gone[0],
        )
    return table
