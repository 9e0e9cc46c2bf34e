"""Reports: an experiment's results as the paper's tables, figures and one HTML page.

    motive report runs/paper --out runs/paper-report

Reads ``RESULTS/results.parquet`` and the run folders it names (history.csv, per_node_ap.parquet)
and writes ``tables.md``, ``summary.csv`` (mean, std, n per graph x split x model x metric),
``results.csv`` (one row per run), PNG figures and a self-contained ``index.html``. Standard
deviations are over seeds with ddof=1. It never trains or scores.
"""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from motive import checks
from motive.claims import network_section
from motive.errors import MotiveError
from motive.names import GRAPH_TYPES, SPLITS
from motive.outputs import TEMP_TOKEN, check_target, markdown_header, output_dir, read_marker
from motive.pages import report_page

HEADLINE = ("f1", "hits@{k}", "precision@{k}")  # the paper's Tables 3-4
RANKING = ("auroc", "auprc", "mrr")
FULL_RANKING = ("full_mrr", "full_map", "full_hits@10", "full_success@10", "full_macro_hits@10")
FULL_RANKING += ("full_adjusted_mrr", "full_amri", "full_adjusted_hits@10", "full_r_precision", "full_odds_ratio")
COMPARED = ("hits@{k}", "auprc", "full_adjusted_mrr", "auroc")  # metrics of the paired best-vs-others comparison
# What a sceptical reader looks at first: chance-adjusted full-ranking metrics (0 = random,
# 1 = perfect, whatever the candidate count) and AUROC, with test-sample intervals.
CREDIBLE = ("full_adjusted_mrr", "full_amri", "full_adjusted_hits@10", "auroc")
BASELINE = "popularity"  # the degree-only score every model must beat


def noise(table: pd.DataFrame, graph: str, split: str, model: str, metric: str) -> tuple[float, float]:
    """A model's two noises on a test metric: the std over seeds (ddof=1; 0 for one seed) and the
    half-width of its test-sample interval (mean over seeds of the bootstrap intervals; 0 without)."""
    runs = table[
        (table["graph"] == graph)
        & (table["split"] == split)
        & (table["model"] == model)
        & table["status"].isin(["done", "reused"])
    ]
    values = runs[f"test_{metric}"].dropna() if f"test_{metric}" in runs else pd.Series(dtype=float)
    seeds = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    low, high = f"test_{metric}_ci_low", f"test_{metric}_ci_high"
    sample = float((runs[high] - runs[low]).mean() / 2) if low in runs and runs[low].notna().any() else 0.0
    return seeds, sample


def beyond_noise(table: pd.DataFrame, graph: str, split: str, better: str, other: str, metric: str, gap: float) -> bool:
    """Whether a mean paired gap exceeds both models' seed noise and test-sample noise."""
    return gap > max(*noise(table, graph, split, better, metric), *noise(table, graph, split, other, metric))


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


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=1) and n of every test metric per graph x split x model, over finished runs."""
    finished = table[table["status"].isin(["done", "reused"])]
    metric_columns = [
        c for c in finished.columns if c.startswith("test_") and pd.api.types.is_numeric_dtype(finished[c])
    ]
    rows = []
    for (graph, split, model), group in finished.groupby(["graph", "split", "model"], sort=False):
        for column in metric_columns:
            values = group[column].dropna().to_numpy(np.float64)
            if len(values):
                rows.append(
                    {
                        "graph": graph,
                        "split": split,
                        "model": model,
                        "metric": column[len("test_") :],
                        "mean": values.mean(),
                        "std": values.std(ddof=1) if len(values) > 1 else float("nan"),
                        "n": len(values),
                    }
                )
    return pd.DataFrame(rows, columns=["graph", "split", "model", "metric", "mean", "std", "n"])


SEED_FREE_NOTE = "seed-free (no parameters, no random draws): run once per split, shown for every seed (± 0)"


def cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.4f} ± {std:.4f} ({n})" if n > 1 else f"{mean:.4f} ({n})"


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


def paired_comparison(table: pd.DataFrame, graph: str, split: str, metric: str) -> pd.DataFrame:
    """The best model (highest mean) against every other on the same seeds: mean difference,
    Wilcoxon signed-rank and sign-test p-values (two-sided; with n seeds neither can go below
    2 / 2**n, 0.0625 for 5, so read them as "is the gap larger than seed noise", not as a discovery)."""
    from scipy.stats import binomtest, wilcoxon

    column = f"test_{metric}"
    runs = table[(table["graph"] == graph) & (table["split"] == split) & table["status"].isin(["done", "reused"])]
    if column not in runs or runs[column].notna().sum() == 0:
        return pd.DataFrame()
    by_seed = runs.pivot_table(index="seed", columns="model", values=column, aggfunc="first")
    best = by_seed.mean().idxmax()
    rows = []
    for model in by_seed.columns:
        if model == best:
            continue
        pairs = by_seed[[best, model]].dropna()
        difference = (pairs[best] - pairs[model]).to_numpy()
        nonzero = difference[difference != 0]
        if len(nonzero) == 0:
            p_wilcoxon = p_sign = 1.0
        else:
            p_wilcoxon = float(wilcoxon(difference, zero_method="zsplit").pvalue) if len(difference) > 1 else 1.0
            p_sign = float(binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5).pvalue)
        gap = float(difference.mean()) if len(difference) else float("nan")
        rows.append(
            {
                "best": best,
                "model": model,
                "seeds": len(difference),
                "mean_difference": gap,
                "wins": int((difference > 0).sum()),
                "p_wilcoxon": p_wilcoxon,
                "p_sign": p_sign,
                "beyond_noise": "yes" if beyond_noise(table, graph, split, best, model, metric, gap) else "no",
            }
        )
    return pd.DataFrame(rows)


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


def _figure_png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def seed_figure(table: pd.DataFrame, graph: str, metric: str) -> bytes:
    """Test ``metric`` per model, one panel per split: bar = mean, whisker = std, dots = seeds."""
    import matplotlib.pyplot as plt

    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    split_names = list(dict.fromkeys(runs["split"]))
    figure, axes = plt.subplots(
        1, len(split_names), figsize=(4.2 * len(split_names), 3.8), squeeze=False, layout="constrained"
    )
    for ax, split in zip(axes[0], split_names, strict=True):
        group = runs[runs["split"] == split]
        models = list(dict.fromkeys(group["model"]))
        values = [group.loc[group["model"] == m, f"test_{metric}"].dropna().to_numpy() for m in models]
        positions = np.arange(len(models))
        ax.bar(
            positions,
            [v.mean() if len(v) else 0 for v in values],
            yerr=[v.std(ddof=1) if len(v) > 1 else 0 for v in values],
            color="#9ecae1",
            capsize=3,
        )
        for position, v in zip(positions, values, strict=True):
            ax.plot(np.full(len(v), position) + np.linspace(-0.15, 0.15, len(v)), v, "o", color="#08519c", markersize=3)
        ax.set_xticks(positions, models, rotation=60, ha="right")
        ax.set_title(split)
    axes[0][0].set_ylabel(f"test {metric}")
    figure.suptitle(f"{graph}: test {metric} (bar = mean, whisker = std, dots = seeds)")
    return _figure_png(figure)


def ablation_figure(table: pd.DataFrame, summary: pd.DataFrame, split: str, metrics: list[str]) -> bytes:
    """Fig. 2: per metric, grouped bars model x graph structure with std error bars."""
    import matplotlib.pyplot as plt

    graphs = [g for g in ("bipartite", "s_expanded", "t_expanded", "st_expanded") if g in set(table["graph"])]
    part = summary[summary["split"] == split]
    models = list(dict.fromkeys(table.loc[table["split"] == split, "model"]))
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8), squeeze=False, layout="constrained")
    width = 0.8 / len(graphs)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for index, graph in enumerate(graphs):
            stats = part[(part["graph"] == graph) & (part["metric"] == metric)].set_index("model")
            means = [stats["mean"].get(m, np.nan) for m in models]
            stds = [stats["std"].get(m, np.nan) for m in models]
            ax.bar(
                np.arange(len(models)) + (index - (len(graphs) - 1) / 2) * width,
                means,
                width,
                yerr=np.nan_to_num(stds),
                capsize=2,
                label=graph,
            )
        ax.set_xticks(np.arange(len(models)), models)
        ax.set_title(f"test {metric}")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(f"graph-structure ablation, {split} split (mean ± std over seeds)")
    return _figure_png(figure)


def per_node_figure(results_dir: Path, table: pd.DataFrame, graph: str, split: str, model: str) -> bytes | None:
    """Fig. 3: test per-node AP of compounds and genes, seen vs unseen in training (all seeds pooled)."""
    import matplotlib.pyplot as plt

    runs = table[
        (table["graph"] == graph)
        & (table["split"] == split)
        & (table["model"] == model)
        & table["status"].isin(["done", "reused"])
    ]
    frames = [
        pd.read_parquet(results_dir / run / "per_node_ap.parquet")
        for run in runs["run"]
        if (results_dir / run / "per_node_ap.parquet").is_file()
    ]
    if not frames:
        return None
    per_node = pd.concat(frames)
    per_node = per_node[per_node["stage"] == "test"]
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    bins = np.linspace(0, 1, 21)
    for ax, side, title in zip(axes, ("source", "target"), ("compounds (sources)", "genes (targets)"), strict=True):
        nodes = per_node[per_node["node_type"] == side]
        for seen, color, label in ((True, "#fdae6b", "seen in training"), (False, "#3182bd", "unseen")):
            ap = nodes.loc[nodes["seen"] == seen, "ap"]
            if len(ap):
                ax.hist(ap, bins=bins, alpha=0.7, color=color, label=f"{label} (n={len(ap)}, mean {ap.mean():.3f})")
        ax.set_title(title)
        ax.set_xlabel("average precision")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("nodes")
    figure.suptitle(f"per-node test AP, {model} on {split} ({graph}, {len(frames)} seeds pooled)")
    return _figure_png(figure)


def curves_figure(results_dir: Path, table: pd.DataFrame, graph: str) -> bytes | None:
    """Validation curves: the monitored metric per epoch, mean over seeds, per model and split."""
    import matplotlib.pyplot as plt

    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    split_names = list(dict.fromkeys(runs["split"]))
    figure, axes = plt.subplots(
        1, len(split_names), figsize=(4.5 * len(split_names), 3.6), squeeze=False, layout="constrained"
    )
    drawn = False
    colors = {
        model: plt.get_cmap("tab20")(index % 20) for index, model in enumerate(dict.fromkeys(runs["model"]))
    }  # one colour per model in every panel
    for index, (ax, split) in enumerate(zip(axes[0], split_names, strict=True)):
        for model, group in runs[runs["split"] == split].groupby("model", sort=False):
            histories = [
                pd.read_csv(results_dir / run / "history.csv")
                for run in group["run"]
                if (results_dir / run / "history.csv").is_file()
                and (results_dir / run / "history.csv").stat().st_size > 1
            ]
            histories = [h for h in histories if len(h)]
            if not histories:
                continue
            column = next(c for c in histories[0].columns if c.startswith("valid_"))
            curve = pd.concat([h.set_index("epoch")[column] for h in histories], axis=1).mean(axis=1)
            ax.plot(curve.index, curve.to_numpy(), label=model, color=colors[model])
            if index == 0:
                ax.set_ylabel(column)
            drawn = True
        ax.set_title(split)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    if not drawn:
        plt.close(figure)
        return None
    figure.suptitle(f"{graph}: validation curves (mean over seeds; runs stop early at different epochs)")
    return _figure_png(figure)


class Page:
    """The report's text as it grows: Markdown lines (tables.md) and HTML sections (index.html)."""

    def __init__(self, title: str, intro: list[str]):
        self.markdown = [f"# {title}", "", *intro]
        self.sections: list[dict] = []  # what motive.pages.report_page shows

    def table(self, title: str, header: list[str], body: list[list[str]], notes: list[str] = (), lead: str = ""):
        """A titled table, with an optional note before it and footnotes after it."""
        self.markdown += ["", f"## {title}", "", *([lead, ""] if lead else []), to_markdown(header, body)]
        self.markdown += [""] + list(notes) if notes else []
        self.sections.append({"title": title, "lead": lead, "header": header, "rows": body, "notes": list(notes)})

    def paragraphs(self, title: str, lines: list[str]) -> None:
        """A titled section of plain paragraphs (shown on the page only)."""
        self.sections.append({"title": title, "paragraphs": lines})


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
        _credible(page, table, summary, graph)
        _multimodal(page, table, graph, k)
        network_section(page, table, results_dir, graph, k)
        _gene_types(page, table, graph)
        _metric_tables(page, table, summary, graph, k)
        for split in dict.fromkeys(table.loc[table["graph"] == graph, "split"]):
            _comparisons(page, table, graph, split, k)
        _seen_table(page, table, graph)
        figures |= _graph_figures(results_dir, table, summary, graph, k)
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


def _credible(page: Page, table: pd.DataFrame, summary: pd.DataFrame, graph: str) -> None:
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


def _multimodal(page: Page, table: pd.DataFrame, graph: str, k: int) -> None:
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


def _gene_types(page: Page, table: pd.DataFrame, graph: str) -> None:
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


def reliability_figure(results_dir: Path, table: pd.DataFrame, graph: str) -> bytes | None:
    """Expected precision (fitted on validation) against the precision observed on test, per place
    bin, model and split, seeds pooled: on the diagonal, the expected precision meant what it said."""
    import matplotlib.pyplot as plt

    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    found = []
    for _, row in runs.iterrows():
        path = results_dir / row["run"] / "calibration.json"
        if path.is_file():
            fitted = json.loads(path.read_text())
            if "test" in fitted:
                bins = (
                    pd.DataFrame(fitted["bins"])
                    .add_prefix("valid_")
                    .join(pd.DataFrame(fitted["test"]).add_prefix("test_"))
                )
                found.append(bins.assign(split=row["split"], model=row["model"]))
    if not found:
        return None
    bins = pd.concat(found, ignore_index=True)
    splits = list(dict.fromkeys(bins["split"]))
    figure, axes = plt.subplots(1, len(splits), figsize=(4.4 * len(splits), 4.2), squeeze=False, layout="constrained")
    for ax, split in zip(axes[0], splits, strict=True):
        for model, part in bins[bins["split"] == split].groupby("model", sort=False):
            pooled = part.groupby("valid_low").agg(
                expected=("valid_precision", "mean"),
                low=("valid_precision_low", "mean"),
                high=("valid_precision_high", "mean"),
                hits=("test_hits", "sum"),
                trials=("test_trials", "sum"),
            )
            observed = pooled["hits"] / pooled["trials"].where(pooled["trials"] > 0)
            errors = [pooled["expected"] - pooled["low"], pooled["high"] - pooled["expected"]]
            ax.errorbar(pooled["expected"], observed, xerr=errors, fmt="o-", ms=4, label=model, alpha=0.8)
        ax.plot([1e-4, 1], [1e-4, 1], color="#999", lw=1)
        ax.set_xscale("log"), ax.set_yscale("log"), ax.set_title(split)
        ax.set_xlabel("expected precision (validation)")
        ax.set_ylabel("observed precision (test)")
    axes[0][-1].legend(fontsize=7)
    figure.suptitle(f"{graph}: reliability of the expected precision per place bin (seeds pooled)")
    return _figure_png(figure)


def degree_figure(table: pd.DataFrame, graph: str) -> bytes | None:
    """Full-ranking MRR by the training degree of the true partner (unseen, then quartiles), per
    model and split: a model that only finds hubs has all its MRR in q4."""
    import matplotlib.pyplot as plt

    runs = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    bins = [b for b in ("unseen", "q1", "q2", "q3", "q4") if f"test_full_mrr_deg_{b}" in runs]
    if not bins:
        return None
    splits = list(dict.fromkeys(runs["split"]))
    figure, axes = plt.subplots(1, len(splits), figsize=(4.6 * len(splits), 3.8), squeeze=False, layout="constrained")
    for ax, split in zip(axes[0], splits, strict=True):
        group = runs[runs["split"] == split]
        models = list(dict.fromkeys(group["model"]))
        width = 0.8 / max(len(models), 1)
        for index, model in enumerate(models):
            values = [group.loc[group["model"] == model, f"test_full_mrr_deg_{b}"].mean() for b in bins]
            ax.bar(np.arange(len(bins)) + index * width, values, width, label=model)
        ax.set_xticks(np.arange(len(bins)) + 0.4 - width / 2, bins)
        ax.set_title(split)
        ax.set_xlabel("training degree of the true partner")
        ax.set_ylabel("test full MRR")
    axes[0][-1].legend(fontsize=7)
    figure.suptitle(f"{graph}: full-ranking MRR by partner degree (mean over seeds)")
    return _figure_png(figure)


def _metric_tables(page: Page, table: pd.DataFrame, summary: pd.DataFrame, graph: str, k: int) -> None:
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


def _comparisons(page: Page, table: pd.DataFrame, graph: str, split: str, k: int) -> None:
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


def _seen_table(page: Page, table: pd.DataFrame, graph: str) -> None:
    seen = [c for c in SEEN_COLUMNS if c in table.columns]
    if not seen:
        return
    finished = table[(table["graph"] == graph) & table["status"].isin(["done", "reused"])]
    means = finished.groupby(["split", "model"], sort=False)[seen].mean().reset_index()
    header, body = frame_cells(means.rename(columns={c: c[len("test_") :] for c in seen}))
    page.table(f"Per-node AP of seen vs unseen nodes, {graph} (mean over seeds)", header, body)


def _graph_figures(results_dir: Path, table: pd.DataFrame, summary: pd.DataFrame, graph: str, k: int) -> dict:
    """Seed scatter plots, validation curves and the best model's per-node AP of one graph."""
    figures = {
        f"test_{graph}_hits.png": seed_figure(table, graph, f"hits@{k}"),
        f"test_{graph}_auprc.png": seed_figure(table, graph, "auprc"),
    }
    curves = curves_figure(results_dir, table, graph)
    if curves is not None:
        figures[f"curves_{graph}.png"] = curves
    for name, picture in (
        (f"degree_{graph}.png", degree_figure(table, graph)),
        (f"reliability_{graph}.png", reliability_figure(results_dir, table, graph)),
    ):
        if picture is not None:
            figures[name] = picture
    for split in dict.fromkeys(table.loc[table["graph"] == graph, "split"]):
        part = summary[(summary["graph"] == graph) & (summary["split"] == split) & (summary["metric"] == f"hits@{k}")]
        if len(part):
            best = part.sort_values("mean", ascending=False)["model"].iloc[0]
            picture = per_node_figure(results_dir, table, graph, split, best)
            if picture is not None:
                figures[f"per_node_ap_{graph}_{split}.png"] = picture
    return figures
