"""Reading tables safely: clear one-line errors on bad input (formats, required columns,
finite features). What the columns mean belongs to the stage that reads them; writing
belongs to ``motive.outputs``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow

from motive.errors import MotiveError


def read_table(path: str | os.PathLike, columns: Iterable[str] = (), **kwargs) -> pd.DataFrame:
    """Read a parquet, CSV or TSV file (optionally gzipped) and check required columns."""
    path = Path(path)
    if not path.is_file():
        raise MotiveError(f"{path}: file not found; check the path or run `motive data fetch`")
    name = path.name.removesuffix(".gz")
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path, **kwargs)
        elif name.endswith((".tsv", ".txt")):
            frame = pd.read_csv(path, sep="\t", low_memory=False, **kwargs)
        elif name.endswith(".csv"):
            frame = pd.read_csv(path, low_memory=False, **kwargs)
        else:
            raise MotiveError(f"{path}: unknown table format; expected .parquet, .csv or .tsv")
    except (pyarrow.ArrowException, OSError, ValueError, UnicodeDecodeError, EOFError) as error:
        if isinstance(error, MotiveError):
            raise
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise MotiveError(f"{path}: unreadable ({first_line}); re-download or regenerate it") from error
    require_columns(frame, columns, path)
    return frame


def require_columns(frame: pd.DataFrame, columns: Iterable[str], where: object) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise MotiveError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))}; found "
            f"{', '.join(map(str, list(frame.columns)[:8]))}{'...' if frame.shape[1] > 8 else ''}"
        )


def require_nonempty(frame: pd.DataFrame, where: object) -> None:
    if len(frame) == 0:
        raise MotiveError(f"{where}: table is empty; expected at least one row")


def as_float32_matrix(frame: pd.DataFrame, where: object) -> np.ndarray:
    """Feature columns as a finite float32 matrix, or one line naming the bad column."""
    for column in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])):
            raise MotiveError(
                f"{where}: feature column {column!r} has dtype {frame[column].dtype}, expected numbers; remove it or "
                "prefix it with 'Metadata_'"
            )
    matrix = frame.to_numpy(dtype=np.float32, copy=True)
    finite = np.isfinite(matrix)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise MotiveError(
            f"{where}: non-finite feature value {matrix[row, col]} in column {frame.columns[col]!r} (row "
            f"{frame.index[row]!r}); impute or drop it before building"
        )
    return matrix
