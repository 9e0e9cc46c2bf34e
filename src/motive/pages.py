"""A self-contained HTML page for a set of predictions (``motive predict ... --report DIR``): per
query, its best candidates with the expected precision of their place and its interval, the
evidence behind each (the most similar known partners), known pairs flagged, and a warning when the
query lies outside the applicability domain. Reads a predictions table; computes nothing new.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1300px}"
    "table{border-collapse:collapse;font-size:13px;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f0f0f0}"
    ".warn{background:#fff3cd;border:1px solid #e0c36b;padding:6px 10px;margin:0.5em 0}"
    ".note{font-size:12px;color:#555}.known{color:#777}"
)


def _precision(row) -> str:
    if not np.isfinite(row["expected_precision"]):
        return "known pair" if row["known"] != "none" else "n/a"
    low, high = row["expected_precision_low"], row["expected_precision_high"]
    return f"{row['expected_precision']:.1%} [{low:.1%}, {high:.1%}]"


def prediction_page(table: pd.DataFrame, title: str, about: list[str], top: int = 25) -> str:
    """The page: ``about`` lines first (run, model, calibration), then one section per query."""
    threshold = table.attrs.get("domain_threshold", float("nan"))
    parts = [
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        *[f"<p class=note>{html.escape(line)}</p>" for line in about],
    ]
    for query, rows in table.groupby("query", sort=False):
        rows = rows.sort_values("rank").head(top)
        parts.append(f"<h2>{html.escape(str(query))}</h2>")
        similarity = rows["nearest_training_similarity"].iloc[0]
        if "active" in rows and not bool(rows["active"].iloc[0]):
            parts.append(
                "<div class=warn>Inactive: this compound's replicate wells are not distinguishable from the negative "
                "controls (copairs mAP): its profile carries little signal, and these ranks may be noise.</div>"
            )
        in_domain = rows["in_domain"].iloc[0]
        if pd.isna(in_domain):
            parts.append(
                "<div class=warn>Applicability domain not measured: the query lacks the view the run measures it in "
                "(e.g. a SMILES-only compound for a run that reads profiles).</div>"
            )
        elif not bool(in_domain):
            parts.append(
                f"<div class=warn>Outside the applicability domain (nearest training similarity {similarity:.2f}; 95% "
                f"of training nodes are more like their nearest neighbour than {threshold:.2f}): treat these ranks "
                "with care.</div>"
            )
        header = ["rank", "candidate", "score", "expected precision [95% interval]", "known", "evidence"]
        body = "".join(
            f"<tr{' class=known' if row['known'] != 'none' else ''}><td>{row['rank']:g}</td>"
            f"<td>{html.escape(str(row['candidate']))}</td><td>{row['score']:.4g}</td><td>{_precision(row)}</td>"
            f"<td>{html.escape(str(row['known']))}</td><td>{html.escape(str(row.get('evidence', '')))}</td></tr>"
            for _, row in rows.iterrows()
        )
        head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
