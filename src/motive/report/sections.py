"""The report's text: a ``Page`` of Markdown lines (tables.md) and HTML sections, and the sections
that fill it."""

from __future__ import annotations

import json
import math

import pandas as pd

from motive.report.statistics import (
    BASELINE,
    COMPARED,
    CREDIBLE,
    FULL_RANKING,
    HEADLINE,
    RANKING,
    SEED_FREE_NOTE,
    beyond_noise,
    cell,
    paired_comparison,
)


def test_table(
    table: pd.DataFrame, summary: pd.DataFrame, graph: str, metrics: list[str]
) -> tuple[list[str], list[list[tuple[str, bool]]], list[str]]:
    """The paper's layout: rows = models, columns = split x metric, "mean ± std (n)", the best
    mean per column in bold. Returns (header, rows of (text, bold) cells, footnotes)."""
    rows_of = table[table["graph"] == graph]
    split_names = list(dict.fromkeys(rows_of["split"]))
    models = list(dict.fromkeys(rows_of["model"]))
    columns = [(split, metric) for split in split_names for metric in metrics if f"test_{metric}" in table.columns]
    stats = summary[summary["graph"] == graph].set_index(["split", "model", "metric"])
    best = {}
    for split, metric in columns:
        means = [stats.loc[(split, model, metric), "mean"] for model in models if (split, model, metric) in stats.index]
        best[(split, metric)] = max(means) if means else None
    footnotes, body = [], []
    seed_free = rows_of.get("seed_free", pd.Series(False, index=rows_of.index)).fillna(False).astype(bool)
    for model in models:
        cells = [(model, False)]
        if seed_free[rows_of["model"] == model].any():
            note = SEED_FREE_NOTE
            footnotes += [] if note in footnotes else [note]
            cells = [(f"{model} [{footnotes.index(note) + 1}]", False)]
        for split, metric in columns:
            if (split, model, metric) in stats.index:
                entry = stats.loc[(split, model, metric)]
                cells.append(
                    (
                        cell(entry["mean"], entry["std"], int(entry["n"])),
                        bool(math.isclose(entry["mean"], best[(split, metric)], rel_tol=0, abs_tol=1e-12)),
                    )
                )
                continue
            runs = rows_of[(rows_of["split"] == split) & (rows_of["model"] == model)]
            status = runs["status"].iloc[0] if len(runs) else ""
            if status == "n/a":
                note = f"{model} on {split}: {runs['error'].iloc[0]}"
                if note not in footnotes:
                    footnotes.append(note)
                cells.append((f"n/a [{footnotes.index(note) + 1}]", False))
            else:
                cells.append((status or "-", False))
        body.append(cells)
    header = ["model", *[f"{split} {metric}" for split, metric in columns]]
    return header, body, footnotes


def to_markdown(header: list[str], body: list[list[tuple[str, bool]]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for cells in body:
        lines.append("| " + " | ".join(f"**{text}**" if bold else text for text, bold in cells) + " |")
    return "\n".join(lines)


def frame_cells(frame: pd.DataFrame) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    def text(value) -> str:
        if isinstance(value, float):
            return "nan" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    return list(frame.columns), [[(text(value), False) for value in row] for row in frame.itertuples(index=False)]


class Page:
    """The report's text as it grows: Markdown lines (tables.md) and HTML sections (index.html)."""

    def __init__(self, title: str, intro: list[str]):
        self.markdown = [f"# {title}", "", *intro]
        self.sections: list[dict] = []  # what motive.report.pages.report_page shows

    def table(self, title: str, header: list[str], body: list[list[str]], notes: list[str] = (), lead: str = ""):
        """A titled table, with an optional note before it and footnotes after it."""
        self.markdown += ["", f"## {title}", "", *([lead, ""] if lead else []), to_markdown(header, body)]
        self.markdown += [""] + list(notes) if notes else []
        self.sections.append({"title": title, "lead": lead, "header": header, "rows": body, "notes": list(notes)})

    def paragraphs(self, title: str, lines: list[str]) -> None:
        """A titled section of plain paragraphs (shown on the page only)."""
        self.sections.append({"title": title, "paragraphs": lines})


def credible_section(page: Page, table: pd.DataFrame, summary: pd.DataFrame, graph: str) -> None:
    """The first table: chance-adjusted full-ranking metrics and AUROC per model and split, as
    mean ± seed std (n) [mean test-sample interval], and one sentence per split on which models
    beat popularity on AUROC by more than both noises."""
    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    metrics = [m for m in CREDIBLE if f"test_{m}" in runs and runs[f"test_{m}"].notna().any()]
    if not metrics:
        return
    negatives = set(runs["eval_negatives"]) if "eval_negatives" in runs else {"uniform"}
    auroc = "degree-corrected AUROC" if negatives == {"degree"} else "AUROC (uniform negatives)"
    stats = summary[summary["graph"] == graph].set_index(["split", "model", "metric"])
    splits = list(dict.fromkeys(runs["split"]))
    header = ["model"] + [f"{split} {auroc if m == 'auroc' else m}" for split in splits for m in metrics]
    body = []
    for model in dict.fromkeys(runs["model"]):
        cells = [(model, False)]
        for split, metric in ((split, metric) for split in splits for metric in metrics):
            cells.append((_credible_cell(stats, split, model, metric), False))
        body.append(cells)
    lead = (
        "Cells: mean ± std over seeds (n) [mean over seeds of the 95% bootstrap interval over test query nodes]. "
        "Adjusted metrics are 0 for a random ranking and 1 for a perfect one (PyKEEN's definitions); "
        f"AUROC is on the split's stored {'/'.join(sorted(negatives))} negatives."
    )
    sentences = [_beats_popularity(table, graph, split, negatives) for split in splits]
    page.table(f"Credible metrics, {graph}", header, body, [s for s in sentences if s], lead=lead)


def _credible_cell(stats: pd.DataFrame, split: str, model: str, metric: str) -> str:
    if (split, model, metric) not in stats.index:
        return ""
    entry = stats.loc[(split, model, metric)]
    text = cell(entry["mean"], entry["std"], int(entry["n"]))
    low, high = (split, model, f"{metric}_ci_low"), (split, model, f"{metric}_ci_high")
    if low in stats.index and high in stats.index:
        text += f" [{stats.loc[low, 'mean']:.4f}, {stats.loc[high, 'mean']:.4f}]"
    return text


def _beats_popularity(table: pd.DataFrame, graph: str, split: str, negatives: set[str]) -> str:
    """One sentence: the models whose AUROC beats popularity's by more than seed and test noise."""
    runs = table[(table["graph"] == graph) & (table["split"] == split) & table["status"].isin(["done", "reused"])]
    if BASELINE not in set(runs["model"]) or "test_auroc" not in runs:
        return f"{split}: no {BASELINE} run, so nothing is compared with the degree-only baseline."
    means = runs.groupby("model", sort=False)["test_auroc"].mean()
    base = means[BASELINE]
    winners = [
        model
        for model, value in means.items()
        if model != BASELINE and beyond_noise(table, graph, split, model, BASELINE, "auroc", value - base)
    ]
    others = [model for model in means.index if model not in winners and model != BASELINE]
    kind = "degree-corrected negatives" if negatives == {"degree"} else "uniform negatives (not degree-corrected)"
    said = f"{split}, under {kind}: " + (
        f"{', '.join(winners)} beat{'s' if len(winners) == 1 else ''} popularity (AUROC {base:.3f})"
        if winners
        else f"no model beats popularity (AUROC {base:.3f})"
    )
    said += " by more than seed noise and test-sample noise"
    return said + (f"; {', '.join(others)} do{'es' if len(others) == 1 else ''} not." if others else ".")


def _views_of(runs: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each model label's compound views (profile when the results predate views)."""
    if "views" not in runs:
        return {label: ("profile",) for label in runs["model"]}
    return {label: tuple(json.loads(v)["source"]) for label, v in zip(runs["model"], runs["views"], strict=True)}


def _paired(runs: pd.DataFrame, better: str, other: str, column: str) -> str:
    """``better`` against ``other`` on one test column, paired by seed: mean gap, wins, sign test."""
    from scipy.stats import binomtest

    by_seed = runs.pivot_table(index="seed", columns="model", values=column, aggfunc="first")[[better, other]].dropna()
    gap = (by_seed[better] - by_seed[other]).to_numpy()
    nonzero = gap[gap != 0]
    p = binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5).pvalue if len(nonzero) else 1.0
    return f"{better} vs {other} {gap.mean():+.4f} ({int((gap > 0).sum())}/{len(gap)} seeds, sign test p={p:.3g})"


def multimodal_section(page: Page, table: pd.DataFrame, graph: str, k: int) -> None:
    """The questions of a views experiment, one sentence each with its paired test: does structure
    beat profile, does the profile add to structure, which model is best per split (chosen on
    validation full MRR) and how it compares with both kNNs on test."""
    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    views = _views_of(runs)
    if not any("structure" in v for v in views.values()) or "test_full_mrr" not in runs:
        return
    # knn_structure is knn on the structure view: one method, two views
    name_of = {
        label: {"knn_structure": "knn"}.get(name, name)
        for label, name in zip(runs["model"], runs["model_name"], strict=True)
    }
    links = dict(zip(runs["model"], runs["link_view"], strict=True)) if "link_view" in runs else {}
    described = [
        f"{label}: {'+'.join(views[label])}"
        + (f", links by {links[label]}" if links.get(label, "none") != "none" else "")
        for label in dict.fromkeys(runs["model"])
    ]
    lines = [
        "Compound views of each model (held-out compounds get the same links in evaluation as new ones in "
        f"predict): {'; '.join(described)}."
    ]
    for split in dict.fromkeys(runs["split"]):
        part = runs[runs["split"] == split]
        labels = list(dict.fromkeys(part["model"]))
        pairs = {
            "structure vs profile": [
                (a, b)
                for a in labels
                for b in labels
                if name_of[a] == name_of[b] and views[a] == ("structure",) and views[b] == ("profile",)
            ],
            "profile added to structure": [
                (a, b)
                for a in labels
                for b in labels
                if name_of[a] == name_of[b] and views[a] == ("profile", "structure") and views[b] == ("structure",)
            ],
        }
        for question, found in pairs.items():
            if found:
                said = "; ".join(_paired(part, a, b, "test_full_mrr") for a, b in found)
                lines.append(f"{split}, {question} (test full MRR): {said}.")
        valid = part.groupby("model", sort=False)["valid_full_mrr"].mean() if "valid_full_mrr" in part else None
        if valid is not None and valid.notna().any():
            best = valid.idxmax()
            against = [m for m in ("knn", "knn_structure") if m in labels and m != best]
            said = "; ".join(
                f"{column[5:]}: {_paired(part, best, m, column)}"
                for column in ("test_full_mrr", f"test_hits@{k}")
                for m in against
            )
            lines.append(
                f"{split}, best model on validation full MRR: {best}" + (f"; on test {said}." if said else ".")
            )
    if lines:
        page.markdown += ["", f"## Views, {graph}", "", *lines]
        page.paragraphs(f"Views, {graph}", lines)


def gene_types_section(page: Page, table: pd.DataFrame, graph: str) -> None:
    """ORF against CRISPR gene profiles, when a grid holds both: each model on both, paired by seed."""
    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    if "gene_type" not in runs or runs["gene_type"].nunique() < 2:
        return
    column = "test_full_mrr" if "test_full_mrr" in runs and runs["test_full_mrr"].notna().any() else "test_auroc"
    gene_type = dict(zip(runs["model"], runs["gene_type"], strict=True))
    name = dict(zip(runs["model"], runs["model_name"], strict=True))
    lines = [f"Gene profiles of each model: {'; '.join(f'{m}: {g}' for m, g in gene_type.items())}."]
    for split in dict.fromkeys(runs["split"]):
        part = runs[runs["split"] == split]
        labels = list(dict.fromkeys(part["model"]))
        pairs = [
            (a, b)
            for a in labels
            for b in labels
            if name[a] == name[b] and (gene_type[a], gene_type[b]) == ("crispr", "orf")
        ]
        if pairs:
            said = "; ".join(_paired(part, a, b, column) for a, b in pairs)
            lines.append(f"{split}, CRISPR vs ORF gene profiles ({column[5:]}): {said}.")
    page.markdown += ["", f"## Gene profiles, {graph}", "", *lines]
    page.paragraphs(f"Gene profiles, {graph}", lines)


def metric_tables(page: Page, table: pd.DataFrame, summary: pd.DataFrame, graph: str, k: int) -> None:
    """The paper's test metrics and the ranking metrics of one graph, a row per split and model."""
    headline = [m.format(k=k) for m in HEADLINE]
    ranking = [m for m in (*RANKING, *FULL_RANKING) if f"test_{m}" in table.columns]
    for title, metrics in (
        (f"Test metrics, {graph} (paper Tables 3-4)", headline),
        (f"Ranking metrics, {graph}", ranking),
    ):
        header, body, footnotes = test_table(table, summary, graph, metrics)
        if len(header) > 1:
            page.table(title, header, body, [f"[{i}] {note}" for i, note in enumerate(footnotes, 1)])


def comparisons_section(page: Page, table: pd.DataFrame, graph: str, split: str, k: int) -> None:
    """The best model against each other one, paired by seed, per compared metric."""
    for metric in (m.format(k=k) for m in COMPARED):
        comparison = paired_comparison(table, graph, split, metric)
        if comparison.empty:
            continue
        seeds = int(comparison["seeds"].max())
        note = (
            "Paired by seed; mean_difference = best - model; wins = seeds where best is higher; two-sided "
            f"p-values (with {seeds} seeds the smallest possible is {2 / 2**seeds:.4g})."
        )
        page.table(f"Best vs others, {graph} {split}, test {metric}", *frame_cells(comparison), lead=note)


SEEN_COLUMNS = ("test_source_map_seen", "test_source_map_unseen", "test_target_map_seen", "test_target_map_unseen")


def seen_section(page: Page, table: pd.DataFrame, graph: str) -> None:
    seen = [c for c in SEEN_COLUMNS if c in table.columns]
    if not seen:
        return
    finished = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    means = finished.groupby(["split", "model"], sort=False)[seen].mean().reset_index()
    header, body = frame_cells(means.rename(columns={c: c[len("test_") :] for c in seen}))
    page.table(f"Per-node AP of seen vs unseen nodes, {graph} (mean over seeds)", header, body)
