"""Claims a reader can check: does the model chosen on validation beat every baseline on test?

The rule is fixed before any test number is seen: a model beats a baseline on a split when its
test full MRR is at least ``THRESHOLD`` (5%) higher relative to the baseline's, the pooled paired
bootstrap interval of the difference excludes 0, and it wins at least ``WINS`` of 5 paired splits.

Pooled paired bootstrap: an experiment run with ``split_seed: vary`` holds one test set per split
seed (with a fixed split, one run per model seed on the same test set). Within a split both
models rank the same test positives; their per-positive reciprocal ranks are paired, query nodes
are resampled with replacement within each split (a query's positives stay together), and the
statistic is the mean paired difference over all positives of all splits. ``network_section``
writes the report's sentences and tables from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.evaluation.full_ranking import harmonic_numbers

BASELINES = (
    "popularity",
    "knn",
    "knn_structure",
    "gene_neighbours",
    "gene_neighbours_ra",
    "compound_neighbours",
    "compound_neighbours_ra",
    "network_paths",
)
THRESHOLD = 0.05  # the smallest relative full-MRR gain called a win, fixed before looking at test
WINS = 0.8  # share of paired splits a winner must win (4 of 5)
RESAMPLES = 2000
FINISHED = ("done", "reused")


def reciprocal_ranks(results_dir: Path, run: str, stage: str = "test") -> pd.DataFrame | None:
    """A run's per-positive reciprocal ranks of ``stage`` (query, partner, rr), None without a
    ranking."""
    path = Path(results_dir) / str(run) / "ranking.parquet"
    if not path.is_file():
        return None
    frame = pd.read_parquet(path, columns=["stage", "query", "partner", "rank", "candidates"])
    frame = frame[frame["stage"] == stage]
    n = frame["candidates"].to_numpy(np.int64) + 1  # itself included
    expected = harmonic_numbers(int(n.max()))[n] / n if len(n) else np.zeros(0)  # a random ranking's
    return pd.DataFrame(
        {"query": frame["query"], "partner": frame["partner"], "rr": 1.0 / frame["rank"], "chance": expected}
    )


def pooled_adjusted_mrr(frames: list[pd.DataFrame], resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """One model's adjusted MRR pooled over splits (PyKEEN's definition: (MRR - E) / (1 - E), E the
    random ranking's expectation for each positive's candidates) and its 95% interval over
    resamples of query nodes within each split."""
    rng = np.random.default_rng(seed)
    sums = np.zeros((resamples, 3))  # reciprocal ranks, chance, positives
    total = np.zeros(3)
    for frame in frames:
        codes, _ = pd.factorize(frame["query"])
        per_query = np.stack(
            [np.bincount(codes, weights=frame[c].to_numpy()) for c in ("rr", "chance")] + [np.bincount(codes)], axis=1
        )
        drawn = rng.integers(0, len(per_query), (resamples, len(per_query)))
        sums += per_query[drawn].sum(1)
        total += per_query.sum(0)

    def adjusted(values):
        rr, chance = values[..., 0] / values[..., 2], values[..., 1] / values[..., 2]
        return (rr - chance) / (1 - chance)

    low, high = np.quantile(adjusted(sums), [0.025, 0.975])
    return {"adjusted_mrr": float(adjusted(total)), "low": float(low), "high": float(high)}


def pooled_bootstrap(pairs: list[tuple[pd.DataFrame, pd.DataFrame]], resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """``pairs``: per split, the (model, baseline) reciprocal-rank tables of the same positives.
    The pooled mean difference (model - baseline), its 95% percentile interval over resamples of
    query nodes within each split, the two-sided bootstrap p-value, both MRRs and the relative gap."""
    rng = np.random.default_rng(seed)
    totals = np.zeros(resamples)
    counts = np.zeros(resamples)
    difference, model_sum, base_sum, n = 0.0, 0.0, 0.0, 0
    for model, base in pairs:
        joined = model.merge(base, on=["query", "partner"], suffixes=("_model", "_base"), validate="one_to_one")
        gap = (joined["rr_model"] - joined["rr_base"]).to_numpy()
        codes, _ = pd.factorize(joined["query"])
        per_query = np.bincount(codes, weights=gap)
        size = np.bincount(codes).astype(float)
        drawn = rng.integers(0, len(per_query), (resamples, len(per_query)))
        totals += per_query[drawn].sum(1)
        counts += size[drawn].sum(1)
        difference += gap.sum()
        model_sum, base_sum, n = model_sum + joined["rr_model"].sum(), base_sum + joined["rr_base"].sum(), n + len(gap)
    means = totals / np.maximum(counts, 1)
    low, high = np.quantile(means, [0.025, 0.975])
    p = min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean()))
    base_mrr = base_sum / max(n, 1)
    return {
        "difference": difference / max(n, 1),
        "low": float(low),
        "high": float(high),
        "p": float(p),
        "model_mrr": model_sum / max(n, 1),
        "base_mrr": base_mrr,
        "relative": (difference / max(n, 1)) / base_mrr if base_mrr > 0 else float("inf"),
        "positives": n,
    }


def compare(results_dir: Path, runs: pd.DataFrame, model: str, baseline: str, read=None) -> dict | None:
    """``model`` against ``baseline`` on one split's test full MRR: the pooled paired bootstrap and
    the splits won, paired by split seed and model seed (with one split for every model seed, each
    seed's runs of that split are a pair); None when a ranking is missing. ``read``: run ->
    reciprocal ranks (default ``reciprocal_ranks``; a caller comparing one model with many passes
    one that reads each run once)."""
    read = read or (lambda run: reciprocal_ranks(results_dir, run))
    by_seed = runs[runs["model"].isin([model, baseline])].pivot_table(
        index=["split_seed", "seed"], columns="model", values="run", aggfunc="first"
    )
    by_seed = by_seed.dropna() if {model, baseline} <= set(by_seed.columns) else by_seed.iloc[0:0]
    pairs, wins = [], 0
    for model_run, base_run in zip(by_seed[model], by_seed[baseline], strict=True) if len(by_seed) else ():
        ours, theirs = read(model_run), read(base_run)
        if ours is None or theirs is None:
            return None
        pairs.append((ours, theirs))
        wins += ours["rr"].mean() > theirs["rr"].mean()
    if not pairs:
        return None
    found = pooled_bootstrap(pairs)
    found |= {"wins": int(wins), "splits": len(pairs)}
    found["beats"] = bool(found["relative"] >= THRESHOLD and found["low"] > 0 and wins >= WINS * len(pairs))
    return found


def _said(model: str, baseline: str, found: dict) -> str:
    return (
        f"{model} {found['model_mrr']:.4f} vs {baseline} {found['base_mrr']:.4f} ({found['relative']:+.1%} relative; "
        f"pooled paired difference {found['difference']:+.4f} [{found['low']:+.4f}, {found['high']:+.4f}], "
        f"p={found['p']:.3g}; {found['wins']}/{found['splits']} splits won)"
    )


def _reader(results_dir: Path):
    """``reciprocal_ranks`` that reads each run folder once."""
    kept: dict = {}

    def read(run: str) -> pd.DataFrame | None:
        if run not in kept:
            kept[run] = reciprocal_ranks(results_dir, run)
        return kept[run]

    return read


def split_sentence(results_dir: Path, runs: pd.DataFrame, split: str) -> str | None:
    """One sentence: the best model on validation full MRR and, on test, how it stands against
    the strongest baseline (by test mean, the hardest opponent) under the fixed rule."""
    valid = runs.groupby("model", sort=False)["valid_full_mrr"].mean().dropna()
    if valid.empty:
        return None
    best = valid.idxmax()
    names = dict(zip(runs["model"], runs["model_name"], strict=True))
    baselines = [label for label in dict.fromkeys(runs["model"]) if names[label] in BASELINES and label != best]
    lead = f"{split}: best on validation full MRR is {best} ({valid[best]:.4f})"
    if names[best] in BASELINES:
        lead += ", itself a baseline"
    if not baselines:
        return lead + "; no other baseline ran."
    test = runs.groupby("model", sort=False)["test_full_mrr"].mean()
    strongest = test[baselines].idxmax()
    read = _reader(results_dir)
    compared = {baseline: compare(results_dir, runs, best, baseline, read) for baseline in baselines}
    found = compared[strongest]
    if found is None:
        return lead + "; the runs' rankings are missing, so no paired test is made."
    beaten = [baseline for baseline, c in compared.items() if c is not None and c["beats"]]
    verdict = (
        "it beats every baseline"
        if len(beaten) == len(baselines)
        else f"it does not beat {strongest}"
        if not found["beats"]
        else f"it beats {strongest} but not {', '.join(b for b in baselines if b not in beaten)}"
    )
    rule = f"a win needs >= {THRESHOLD:.0%} relative, an interval above 0 and {WINS:.0%} of splits"
    frames = [read(run) for run in runs.loc[runs["model"] == best, "run"]]
    chance = pooled_adjusted_mrr([f for f in frames if f is not None])
    adjusted = (
        f"its adjusted full MRR pooled over splits is {chance['adjusted_mrr']:.4f} "
        f"[{chance['low']:.4f}, {chance['high']:.4f}] ({'above' if chance['low'] > 0 else 'not above'} chance)"
    )
    return f"{lead}; on test {verdict}: {_said(best, strongest, found)}; {rule}; {adjusted}."


def network_section(page, table: pd.DataFrame, results_dir: Path, graph: str, k: int) -> None:
    """The network benchmark's sentences (one per split), the GNN diagnosis, frequent hitters and
    full MRR by the query's similarity to training, for experiments that ran the path heuristics."""
    runs = table[(table["graph"] == graph) & table["status"].isin(FINISHED)]
    if "test_full_mrr" not in runs or not runs["model_name"].isin(BASELINES[3:]).any():
        return
    lines = []
    for split in dict.fromkeys(runs["split"]):
        said = split_sentence(results_dir, runs[runs["split"] == split], split)
        if said:
            lines.append(said)
    lines += _diagnosis(results_dir, runs)
    page.markdown += ["", f"## Network benchmark, {graph}", "", *lines]
    page.paragraphs(f"Network benchmark, {graph}", lines)
    _headline_table(page, runs, graph, k)
    _similarity_table(page, runs, graph)


def _diagnosis(results_dir: Path, runs: pd.DataFrame) -> list[str]:
    """GIN alone, GIN given the pair evidence and the evidence alone, paired per split."""
    names = dict(zip(runs["model"], runs["model_name"], strict=True))
    labels = {names[label]: label for label in dict.fromkeys(runs["model"])}
    if not {"gin_cp", "gin_evidence", "evidence_ranker"} <= set(labels):
        return []
    lines, read = [], _reader(results_dir)  # gin_evidence's runs serve both comparisons
    for split in dict.fromkeys(runs["split"]):
        part = runs[runs["split"] == split]
        said = []
        for better, other in (("gin_evidence", "gin_cp"), ("evidence_ranker", "gin_evidence")):
            found = compare(results_dir, part, labels[better], labels[other], read)
            if found is not None:
                said.append(_said(labels[better], labels[other], found))
        if said:
            lines.append(f"{split}, does GIN use the pair evidence (test full MRR): " + "; ".join(said) + ".")
    return lines


def _headline_table(page, runs: pd.DataFrame, graph: str, k: int) -> None:
    """Per split, test full MRR, Hits@10 and adjusted MRR (mean ± std [mean interval]) per model, and
    its frequent hitters."""
    columns = [("full_mrr", "full MRR"), ("full_hits@10", "Hits@10"), ("full_adjusted_mrr", "adjusted MRR")]
    columns = [(c, name) for c, name in columns if f"test_{c}" in runs]
    hitters = "test_full_frequent_hitters" in runs
    lead = (
        "Test, filtered full ranking, mean ± std over split seeds [mean 95% bootstrap interval over test queries]. "
        "Frequent hitters: candidates surely in the top 15 of more than half of the test queries (mean over splits)."
    )
    for split in dict.fromkeys(runs["split"]):
        header = ["model", *[name for _, name in columns], *(["frequent hitters"] if hitters else [])]
        body = []
        for model, part in runs[runs["split"] == split].groupby("model", sort=False):
            cells = [(model, False)]
            for column, _ in columns:
                values = part[f"test_{column}"].dropna()
                text = f"{values.mean():.4f} ± {values.std(ddof=1):.4f}" if len(values) > 1 else ""
                text = f"{values.iloc[0]:.4f}" if len(values) == 1 else text
                low, high = f"test_{column}_ci_low", f"test_{column}_ci_high"
                if text and low in part and part[low].notna().any():
                    text += f" [{part[low].mean():.4f}, {part[high].mean():.4f}]"
                cells.append((text, False))
            if hitters:
                cells.append((f"{part['test_full_frequent_hitters'].mean():.1f}", False))
            body.append(cells)
        page.table(f"Network benchmark, {graph} {split}: test full ranking", header, body, lead=lead)
        lead = ""


def _similarity_table(page, runs: pd.DataFrame, graph: str) -> None:
    """Test full MRR by the query compound's Tanimoto similarity to its nearest training compound."""
    bins = [("0.0", "< 0.3"), ("0.3", "0.3-0.5"), ("0.5", "0.5-0.7"), ("0.7", ">= 0.7")]
    present = [(b, name) for b, name in bins if f"test_full_mrr_sim_{b}" in runs]
    if not present:
        return
    header, body = ["split", "model", *[f"MRR {name} (positives)" for _, name in present]], []
    for (split, model), part in runs.groupby(["split", "model"], sort=False):
        if part[f"test_full_mrr_sim_{present[0][0]}"].isna().all() and split == "cold_target":
            continue
        cells = [(split, False), (model, False)]
        for b, _ in present:
            mrr, positives = part[f"test_full_mrr_sim_{b}"].mean(), part[f"test_full_positives_sim_{b}"].mean()
            cells.append(("" if np.isnan(mrr) else f"{mrr:.4f} ({positives:.0f})", False))
        body.append(cells)
    lead = (
        "Test full MRR by the query compound's structure similarity (Tanimoto, Morgan bits) to its nearest compound "
        "with a training link, mean over split seeds (mean positives per bin): a win only on close analogues shows."
    )
    page.table(f"Full MRR by similarity to training, {graph}", header, body, lead=lead)
