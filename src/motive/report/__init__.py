"""Reports: an experiment's results as the paper's tables, figures and one HTML page.

    motive report runs/paper --out runs/paper-report

Reads ``RESULTS/results.parquet`` and the run folders it names (history.csv, per_node_ap.parquet)
(``results``) and writes ``tables.md``, ``summary.csv`` (mean, std, n per graph x split x model x
metric), ``results.csv`` (one row per run), PNG figures (``figures``) and a self-contained
``index.html`` (``writer``, its sections in ``sections``, its win-or-not sentences in
``motive.evaluation.claims``). Standard deviations are over seeds with ddof=1 (``statistics``). It never
trains or scores.
"""

from motive.report.results import read_results
from motive.report.sections import Page, test_table
from motive.report.statistics import beyond_noise, cell, noise, paired_comparison, summarise
from motive.report.writer import report

__all__ = [
    "Page",
    "beyond_noise",
    "cell",
    "noise",
    "paired_comparison",
    "read_results",
    "report",
    "summarise",
    "test_table",
]
