"""What ``motive.predict`` returns: the ranked table, and beside it what a reader needs to read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class Predictions:
    """Ranked candidates of new compounds (or genes).

    ``table``: one row per (query, candidate): score (a ranking score, not a probability), rank
    (1 = best), percentile, expected precision with its interval, known (the pair's split subset,
    ``annotated`` or ``none``), evidence, and the query's nearest training node and similarity.
    ``query_side``: ``source`` (the queries are compounds) or ``target`` (genes).
    ``domain_threshold``: the nearest-training similarity below which a query is outside the
    applicability domain (``in_domain`` false).
    ``run``: the run folder the predictions come from."""

    table: pd.DataFrame
    query_side: str
    domain_threshold: float
    run: str

    def to_html(self, name: str = "predictions") -> str:
        """A self-contained page (titled "motive predictions: ``name``"): per query its best
        candidates, expected precision, evidence and the warnings a reader must see (outside the
        domain, inactive)."""
        from motive.report.pages import predictions_report

        return predictions_report(self.table, self.run, name, self.domain_threshold)

    def to_parquet(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the table as motive's marked parquet (replacing an earlier one only with ``overwrite``)."""
        from motive import marks, outputs

        with outputs.output_file(path, "predictions", overwrite) as tmp:
            marks.write_marked_parquet(self.table, tmp, "predictions")
        return Path(path)
