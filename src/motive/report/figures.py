"""The report's figures, each a PNG (bytes) made with matplotlib."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd


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


def graph_figures(results_dir: Path, table: pd.DataFrame, summary: pd.DataFrame, graph: str, k: int) -> dict:
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
