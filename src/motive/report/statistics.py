"""The numbers a report shows: means and standard deviations over seeds, seed noise, and paired
comparisons of models over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
