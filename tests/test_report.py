"""Reports: numbers equal what the run folders say, paired comparisons, figures and the HTML page."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from motive.cli import main
from motive.errors import MotiveError
from motive.experiments import run_experiment
from motive.report import cell, paired_comparison, report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    assert main(["-q", "data", "synth", "--out", str(root / "data"), "--scale", "0.05", "--seed", "3"]) == 0
    run_experiment(
        data=root / "data",
        out=root / "results",
        models=["gin_cp", "mlp", "sage_embs"],
        splits=["random", "cold_source"],
        graphs=["bipartite", "st_expanded"],
        seeds=3,
        settings={"epochs": 4, "hits_k": 5},
        progress=False,
    )
    return root / "results"


def test_report_numbers_equal_the_run_folders(experiment, tmp_path):
    written = report(experiment, tmp_path / "report")
    assert {"tables.md", "summary.csv", "results.csv", "index.html"} <= set(written)
    assert written == sorted(
        p.name for p in (tmp_path / "report").iterdir() if p.name != "motive.json"
    )  # what is there, no temp token
    summary = pd.read_csv(tmp_path / "report" / "summary.csv")
    tables = (tmp_path / "report" / "tables.md").read_text()
    table = pd.read_parquet(experiment / "results.parquet")
    recomputed = {}
    for run in table.loc[table["status"] == "done", "run"]:
        metrics = json.loads((experiment / run / "metrics.json").read_text())
        config = metrics["config"]
        key = (config["graph"], config["split"], config["model"])
        recomputed.setdefault(key, []).append(metrics["test"])
    assert len(recomputed) == 2 * (2 * 2 + 1)  # sage_embs only on random
    for (graph, split, model), runs in recomputed.items():
        for metric in ("f1", "hits@5", "precision@5", "auroc", "auprc"):
            values = np.array([r[metric] for r in runs])
            row = summary[
                (summary["graph"] == graph)
                & (summary["split"] == split)
                & (summary["model"] == model)
                & (summary["metric"] == metric)
            ]
            assert len(row) == 1 and row["n"].item() == 3
            assert row["mean"].item() == pytest.approx(values.mean(), abs=1e-12)
            assert row["std"].item() == pytest.approx(values.std(ddof=1), abs=1e-12)
            assert cell(values.mean(), values.std(ddof=1), 3) in tables
    # the best mean per column is bold, and only it
    for graph in ("bipartite", "st_expanded"):
        best = (
            summary[(summary["graph"] == graph) & (summary["split"] == "random") & (summary["metric"] == "auprc")]
            .sort_values("mean")
            .iloc[-1]
        )
        assert f"**{cell(best['mean'], best['std'], 3)}**" in tables
    assert "n/a [1]" in tables and "sage_embs on cold_source: it learns one vector per node" in tables
    assert pd.read_csv(tmp_path / "report" / "results.csv").shape[0] == len(table)


def test_report_figures_and_self_contained_page(experiment, tmp_path):
    written = report(experiment, tmp_path / "report")
    pngs = [name for name in written if name.endswith(".png")]
    assert {
        "ablation_random.png",
        "curves_st_expanded.png",
        "test_st_expanded_hits.png",
        "per_node_ap_st_expanded_cold_source.png",
    } <= set(pngs)
    page = (tmp_path / "report" / "index.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == len(pngs)
    for name, data in zip(pngs, embedded, strict=False):
        assert base64.b64decode(data)[:8] == PNG
        assert (tmp_path / "report" / name).read_bytes()[:8] == PNG
    assert "http" not in page.replace("http-equiv", "")  # nothing loaded from elsewhere
    assert page.count('<table class="numbers">') >= 4 and "<b>" in page


def test_report_refuses_what_is_not_an_experiment_and_keeps_its_output(experiment, tmp_path, capsys):
    assert main(["-q", "report", str(tmp_path), "--out", str(tmp_path / "report")]) == 2
    assert "not an experiment's results folder" in capsys.readouterr().err
    assert main(["-q", "report", str(experiment), "--out", str(tmp_path / "report")]) == 0
    assert main(["-q", "report", str(experiment), "--out", str(tmp_path / "report")]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["-q", "report", str(experiment), "--out", str(tmp_path / "report"), "--overwrite"]) == 0


def test_paired_comparison_by_seed():
    values = {
        "a": [0.50, 0.60, 0.70, 0.55],
        "b": [0.40, 0.45, 0.65, 0.50],
        "c": [0.45, 0.70, 0.60, 0.50],
    }  # means .5875, .5, .5625
    rows = [
        {"graph": "g", "split": "random", "model": m, "seed": seed, "status": "done", "test_auprc": v}
        for m, vs in values.items()
        for seed, v in enumerate(vs)
    ]
    comparison = paired_comparison(pd.DataFrame(rows), "g", "random", "auprc").set_index("model")
    assert set(comparison["best"]) == {"a"} and list(comparison.index) == ["b", "c"]
    assert comparison.loc["b", "wins"] == 4 and comparison.loc["c", "wins"] == 3 and comparison.loc["b", "seeds"] == 4
    assert comparison.loc["b", "mean_difference"] == pytest.approx(0.0875)
    assert comparison.loc["c", "mean_difference"] == pytest.approx(0.025)
    assert comparison.loc["b", "p_sign"] == pytest.approx(0.125)  # 4 of 4 wins: 2 * 0.5**4
    assert comparison.loc["c", "p_sign"] == pytest.approx(0.625)  # 3 of 4: 2 * 5/16
    assert comparison.loc["c", "p_wilcoxon"] == pytest.approx(
        wilcoxon([0.05, -0.10, 0.10, 0.05], zero_method="zsplit").pvalue
    )


def test_report_needs_results(tmp_path):
    with pytest.raises(MotiveError, match="not an experiment's results folder"):
        report(tmp_path, tmp_path / "out")


@pytest.fixture(scope="module")
def degree_experiment(tmp_path_factory) -> Path:
    """Degree-matched negatives and the full ranking, with popularity beside two models."""
    root = tmp_path_factory.mktemp("credible")
    assert main(["-q", "data", "synth", "--out", str(root / "data"), "--scale", "0.1", "--seed", "1"]) == 0
    run_experiment(
        data=root / "data",
        out=root / "results",
        models=["knn", "popularity", "mlp"],
        splits=["random", "cold_source"],
        seeds=2,
        settings={"epochs": 3, "hits_k": 5, "ranking_eval": True, "eval_negatives": "degree", "bootstrap": 200},
        progress=False,
    )
    return root / "results"


def test_report_leads_with_credible_metrics_and_says_who_beats_popularity(degree_experiment, tmp_path):
    written = report(degree_experiment, tmp_path / "report")
    text = (tmp_path / "report" / "tables.md").read_text()
    sections = re.findall(r"^## (.+)$", text, flags=re.M)
    assert sections[0] == "Credible metrics, st_expanded" and sections[1].startswith("Test metrics")
    credible = text.split("## Credible metrics, st_expanded")[1].split("\n## ")[0]
    assert "cold_source degree-corrected AUROC" in credible and "random full_adjusted_mrr" in credible
    table = pd.read_parquet(degree_experiment / "results.parquet")
    knn = table[(table["model"] == "knn") & (table["split"] == "random")].iloc[0]
    low, high = knn["test_full_adjusted_mrr_ci_low"], knn["test_full_adjusted_mrr_ci_high"]
    assert low <= knn["test_full_adjusted_mrr"] <= high
    assert f"[{low:.4f}, {high:.4f}]" in credible  # knn is seed-free: the mean interval is its own
    for split in ("random", "cold_source"):  # one sentence per split naming popularity's AUROC
        auroc = table[(table["model"] == "popularity") & (table["split"] == split)]["test_auroc"].mean()
        assert f"{split}, under degree-corrected negatives: " in credible
        assert f"popularity (AUROC {auroc:.3f}) by more than seed noise and test-sample noise" in credible
    assert "degree_st_expanded.png" in written
    comparison = text.split("test full_adjusted_mrr")[1]
    assert "beyond_noise" in comparison.split("\n## ")[0]


def test_a_views_experiment_answers_its_questions_with_paired_tests(tmp_path):
    data = tmp_path / "data"
    argv = ["-q", "data", "synth", "--out", str(data), "--scale", "0.05", "--seed", "2", "--signal-view", "both"]
    assert main(argv) == 0
    structure = {"views": {"source": ["structure"]}}
    run_experiment(
        data=data,
        out=tmp_path / "results",
        models={
            "knn": {},
            "knn_structure": structure,
            "mlp": {},
            "mlp_structure": {"model": "mlp", **structure},
            "mlp_both": {"model": "mlp", "views": {"source": ["profile", "structure"]}, "link_view": "structure"},
        },
        splits=["cold_source"],
        seeds=2,
        settings={"epochs": 3, "hits_k": 5, "ranking_eval": True, "bootstrap": 0},
        progress=False,
    )
    report(tmp_path / "results", tmp_path / "report")
    text = (tmp_path / "report" / "tables.md").read_text()
    views = text.split("## Views, st_expanded")[1].split("\n## ")[0]
    assert "mlp_both: profile+structure, links by structure" in views
    assert "cold_source, structure vs profile (test full MRR): knn_structure vs knn" in views
    assert "mlp_structure vs mlp" in views and "seeds, sign test p=" in views
    assert "cold_source, profile added to structure (test full MRR): mlp_both vs mlp_structure" in views
    table = pd.read_parquet(tmp_path / "results" / "results.parquet")
    best = table.groupby("model")["valid_full_mrr"].mean().idxmax()  # chosen on validation, never on test
    assert f"cold_source, best model on validation full MRR: {best}" in views


def test_orf_and_crispr_gene_profiles_side_by_side_in_one_report(tmp_path):
    from motive.data import layout, synth

    orf = synth.generate(synth.SynthConfig(scale=0.04, seed=2, signal=1.0, source_dim=16, target_dim=12))
    crispr = synth.generate(synth.SynthConfig(scale=0.04, seed=3, signal=1.0, source_dim=16, target_dim=10))
    layout.write_dataset(orf, tmp_path / "data", "orf")
    layout.write_dataset(crispr, tmp_path / "data", "crispr")
    table = run_experiment(
        data=tmp_path / "data",
        out=tmp_path / "results",
        models={"mlp": {}, "mlp_crispr": {"model": "mlp", "gene_type": "crispr"}},
        splits=["cold_source"],
        seeds=2,
        settings={"epochs": 3, "hits_k": 5, "ranking_eval": True, "bootstrap": 0},
        progress=False,
    )
    assert table.groupby("model")["gene_type"].first().to_dict() == {"mlp": "orf", "mlp_crispr": "crispr"}
    written = report(tmp_path / "results", tmp_path / "report")
    text = (tmp_path / "report" / "tables.md").read_text()
    section = text.split("## Gene profiles, st_expanded")[1].split("\n## ")[0]
    assert "mlp: orf; mlp_crispr: crispr" in section
    assert "cold_source, CRISPR vs ORF gene profiles (full_mrr): mlp_crispr vs mlp" in section
    assert "reliability_st_expanded.png" in written


def test_a_network_experiment_says_per_split_whether_the_validation_choice_beats_every_baseline(tmp_path):
    """The network section: one sentence per split naming the model chosen on validation and its
    pooled paired test against the strongest baseline, recomputed here from the run folders."""
    from motive.evaluation.claims import THRESHOLD, compare

    data = tmp_path / "data"
    assert main(["-q", "data", "synth", "--out", str(data), "--scale", "0.05", "--seed", "2"]) == 0
    run_experiment(
        data=data,
        out=tmp_path / "results",
        models={"popularity": {}, "network_paths": {}, "evidence_ranker": {"monitor": "mrr"}},
        splits=["cold_target", "cold_both"],
        seeds=3,
        split_seed="vary",
        settings={"epochs": 3, "hits_k": 5, "ranking_eval": True, "bootstrap": 0, "side_edges": True},
        progress=False,
    )
    report(tmp_path / "results", tmp_path / "report")
    text = (tmp_path / "report" / "tables.md").read_text()
    section = text.split("## Network benchmark, st_expanded")[1].split("\n## ")[0]
    table = pd.read_parquet(tmp_path / "results" / "results.parquet")
    for split in ("cold_target", "cold_both"):
        runs = table[(table["split"] == split) & (table["status"] == "done")]
        best = runs.groupby("model")["valid_full_mrr"].mean().idxmax()
        assert f"{split}: best on validation full MRR is {best}" in section
        baselines = [m for m in ("popularity", "network_paths") if m != best]
        strongest = runs[runs["model"].isin(baselines)].groupby("model")["test_full_mrr"].mean().idxmax()
        found = compare(tmp_path / "results", runs, best, strongest)
        assert f"{best} {found['model_mrr']:.4f} vs {strongest} {found['base_mrr']:.4f}" in section
        assert f"/{found['splits']} splits won" in section and found["splits"] == 3
        pooled = runs.groupby("model")["test_full_mrr"].mean()  # equal test sizes per split: the same means
        assert abs(found["model_mrr"] - pooled[best]) < 0.02
    assert f"a win needs >= {THRESHOLD:.0%} relative" in section
    assert "Network benchmark, st_expanded cold_target: test full ranking" in text and "frequent hitters" in text
