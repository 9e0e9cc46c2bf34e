"""How motive marks a single-file output as its own, and recognises it again: a parquet's schema
metadata, a Markdown or HTML file's first line, a JSON object's ``motive_kind`` (``motive.outputs``
replaces a file only when it is recognised as a motive output of the same kind)."""

from __future__ import annotations

import json
import os
from pathlib import Path

MARKDOWN_TAG = "<!-- motive:{kind} -->"  # first line of a Markdown output (invisible when rendered)


def version() -> str:
    from motive._version import __version__

    return __version__


def recognised(path: Path, kind: str) -> bool:
    """Whether a single file is a motive output of ``kind`` (a parquet's schema metadata, a
    Markdown file's first line, a JSON object's ``motive_kind``)."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return (pq.read_schema(path).metadata or {}).get(b"motive.kind") == kind.encode()
        if path.suffix == ".json":
            content = json.loads(path.read_text(encoding="utf-8"))
            return isinstance(content, dict) and content.get("motive_kind") == kind
        if path.suffix in (".md", ".html"):
            with open(path, encoding="utf-8") as handle:
                return handle.readline().strip() == MARKDOWN_TAG.format(kind=kind)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return False
    return False


def parquet_metadata(kind: str) -> dict[bytes, bytes]:
    return {b"motive.kind": kind.encode(), b"motive.version": version().encode()}


def write_marked_parquet(frame, path: str | os.PathLike, kind: str) -> None:
    """``frame`` (a DataFrame) as parquet at ``path``, marked as a motive ``kind`` in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.replace_schema_metadata(parquet_metadata(kind)), path)


def markdown_header(kind: str) -> str:
    return MARKDOWN_TAG.format(kind=kind) + "\n"
