"""``report``: the report folder of an experiment, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from motive.evaluation.claims import network_section
from motive.marks import markdown_header
from motive.outputs import TEMP_TOKEN, check_target, output_dir
from motive.report.figures import ablation_figure, graph_figures
from motive.report.pages import report_page
from motive.report.results import read_results
from motive.report.sections import (
    Page,
    comparisons_section,
    credible_section,
    frame_cells,
    gene_types_section,
    metric_tables,
    multimodal_section,
    seen_section,
)
from motive.report.statistics import HEADLINE, summarise


def report(results_dir: str | Path, out: str | Path, overwrite: bool = False) -> list[str]:
    """Write the report of an experiment's results folder to ``out``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    results_dir = Path(results_dir)
    check_target(out, "report", overwrite)
    table = read_results(results_dir)
    k = int(table["hits_k"].iloc[0])
    summary = summarise(table)
    page = _page(results_dir, table)
    figures: dict[str, bytes] = {}
    for graph in dict.fromkeys(table["graph"]):
        credible_section(page, table, summary, graph)
        multimodal_section(page, table, graph, k)
        network_section(page, table, results_dir, graph, k)
        gene_types_section(page, table, graph)
        metric_tables(page, table, summary, graph, k)
        for split in dict.fromkeys(table.loc[table["graph"] == graph, "split"]):
            comparisons_section(page, table, graph, split, k)
        seen_section(page, table, graph)
        figures |= graph_figures(results_dir, table, summary, graph, k)
    if table["graph"].nunique() > 1:
        headline = [m.format(k=k) for m in HEADLINE]
        for split in dict.fromkeys(table["split"]):
            figures[f"ablation_{split}.png"] = ablation_figure(table, summary, split, headline)
    failed = table[table["status"] == "failed"]
    if len(failed):
        page.table("Failed runs", *frame_cells(failed[["run", "error"]]))
    page.markdown += ["", "## Figures", "", *[f"![{name}]({name})" for name in figures]]
    with output_dir(out, "report", overwrite, results=str(results_dir.resolve())) as tmp:
        (tmp / "tables.md").write_text(markdown_header("report") + "\n".join(page.markdown) + "\n")
        summary.to_csv(tmp / "summary.csv", index=False)
        table.to_csv(tmp / "results.csv", index=False)
        for name, png in figures.items():
            (tmp / name).write_bytes(png)
        html_page = report_page(page.markdown[0][2:], page.markdown[2:4], page.sections, figures)
        (tmp / "index.html").write_text(html_page)
        written = sorted(p.name for p in tmp.iterdir() if p.name != TEMP_TOKEN)
    return written


def _page(results_dir: Path, table: pd.DataFrame) -> Page:
    """The page with its title and the two lines saying what the cells are."""
    counts = table["status"].value_counts().to_dict()
    path = results_dir / "experiment.json"
    experiment = json.loads(path.read_text()) if path.is_file() else {}
    runs = ", ".join(f"{n} {status}" for status, n in counts.items())
    intro = [
        f"Results: `{results_dir}` ({len(table)} runs: {runs}); data: `{experiment.get('data', '?')}`.",
        "Cells are test-set mean ± std over seeds (ddof=1) with the number of seeds in brackets; the best mean per "
        "column is bold. A split's scores come from the run's stored 1:10 negatives; Hits@K as in the paper.",
    ]
    return Page(f"Experiment report: {experiment.get('description') or results_dir.name}", intro)
