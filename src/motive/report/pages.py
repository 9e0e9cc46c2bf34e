"""motive's HTML pages, rendered from jinja2 templates (``motive/report/templates/``) with one stylesheet,
every value escaped by the template engine:

- the predictions page (``motive predict ... --report DIR``): per query, its best candidates with
  the expected precision of their place and its interval, the evidence behind each (the most
  similar known partners), known pairs flagged, and a warning when the query lies outside the
  applicability domain. Reads a predictions table; computes nothing new.
- the experiment report's ``index.html`` (``motive.report``): its sections and figures.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

PREDICTION_HEADER = ["rank", "candidate", "score", "expected precision [95% interval]", "known", "evidence"]
INACTIVE = (
    "Inactive: this compound's replicate wells are not distinguishable from the negative controls (copairs "
    "mAP): its profile carries little signal, and these ranks may be noise."
)
NOT_MEASURED = (
    "Applicability domain not measured: the query lacks the view the run measures it in (e.g. a SMILES-only "
    "compound for a run that reads profiles)."
)


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("motive.report", "templates"), autoescape=True, keep_trailing_newline=True
    )


def render(template: str, **context) -> str:
    """A page from ``motive/report/templates/<template>``, the stylesheet inlined (pages stand alone)."""
    environment = _environment()
    style = environment.loader.get_source(environment, "style.css")[0]
    return environment.get_template(template).render(style=style, **context)


def _precision(row) -> str:
    if not np.isfinite(row["expected_precision"]):
        return "known pair" if row["known"] != "none" else "n/a"
    low, high = row["expected_precision_low"], row["expected_precision_high"]
    return f"{row['expected_precision']:.1%} [{low:.1%}, {high:.1%}]"


def _warnings(rows: pd.DataFrame, threshold: float) -> list[str]:
    """What a reader must know before trusting a query's ranks."""
    found = []
    if "active" in rows and not bool(rows["active"].iloc[0]):
        found.append(INACTIVE)
    in_domain, similarity = rows["in_domain"].iloc[0], rows["nearest_training_similarity"].iloc[0]
    if pd.isna(in_domain):
        found.append(NOT_MEASURED)
    elif not bool(in_domain):
        found.append(
            f"Outside the applicability domain (nearest training similarity {similarity:.2f}; 95% of training "
            f"nodes are more like their nearest neighbour than {threshold:.2f}): treat these ranks with care."
        )
    return found


def prediction_page(table: pd.DataFrame, title: str, about: list[str], threshold: float, top: int = 25) -> str:
    """The page: ``about`` lines first (run, model, calibration), then one section per query
    (``threshold``: the applicability domain's similarity threshold)."""
    queries = []
    for query, rows in table.groupby("query", sort=False):
        rows = rows.sort_values("rank").head(top)
        shown = [
            {
                "rank": f"{row['rank']:g}",
                "candidate": str(row["candidate"]),
                "score": f"{row['score']:.4g}",
                "precision": _precision(row),
                "known": str(row["known"]),
                "evidence": str(row.get("evidence", "")),
            }
            for _, row in rows.iterrows()
        ]
        name = f"{rows['name'].iloc[0]} ({query})" if "name" in rows else str(query)  # given by structure
        queries.append({"name": name, "warnings": _warnings(rows, threshold), "rows": shown})
    return render("predictions.html.j2", title=title, about=about, header=PREDICTION_HEADER, queries=queries)


def predictions_report(table: pd.DataFrame, run: str | Path, name: str, threshold: float) -> str:
    """The predictions page of ``motive predict --report``: what the run, the expected precision and
    the evidence are, then ``prediction_page``'s sections (``name``: the predictions' file name)."""
    calibrated = table["expected_precision"].notna().any()
    about = [
        f"Run: {run}; {table['query'].nunique()} queries; scores rank candidates (not probabilities).",
        "Expected precision: the share of true targets at this place of a query's list among unknown candidates, "
        "fitted on the run's validation stage (95% interval: Clopper-Pearson, widened by a bootstrap over queries)."
        if calibrated
        else "The run has no calibration.json (older run, or calibrate off): no expected precision.",
        "Evidence: each candidate's known partners most like the query (profile cosine; structure Tanimoto).",
    ]
    return prediction_page(table, f"motive predictions: {name}", about, threshold)


def report_page(title: str, intro: list[str], sections: list[dict], figures: dict[str, bytes]) -> str:
    """The report's self-contained page: every section (title, lead, paragraphs, a table of
    (text, bold) cells, notes) and every figure embedded as base64 PNG."""
    encoded = [(name, base64.b64encode(png).decode()) for name, png in figures.items()]
    return render("report.html.j2", title=title, intro=intro, sections=sections, figures=encoded)
